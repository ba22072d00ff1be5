//! The autoregressive token decoder shared by `line-cnn-transformer` and
//! `resnet-transformer`: token embedding (scaled by `√E`) + 1-D positional
//! encoding → Transformer decoder over the image memory → `fc` to class
//! logits, with teacher forcing and greedy decoding.

mod encoder_decoder;

pub use encoder_decoder::{EncoderDecoder, ImageEncoder};

use candle_core::{DType, Result, Tensor, D};
use candle_nn::VarBuilder;
use tr_data::{END, PAD, START};

use crate::error::{check_positive, check_probability, Error};
use crate::layers::symmetric_uniform;
use crate::layers::{causal_mask, padding_mask};
use crate::layers::{
    DecoderConfig, Embedding, LayerInit, Linear, PositionalEncoding, TransformerDecoder,
};
use crate::model::{DataSpec, GreedyDecode};

/// Range of the course's uniform embedding/`fc` init.
const INIT_RANGE: f64 = 0.1;

/// Sizes of a [`TokenDecoder`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenDecoderConfig {
    pub dim: usize,
    pub num_heads: usize,
    pub ff_dim: usize,
    pub num_layers: usize,
    /// Decoder-layer dropout.
    pub dropout: f64,
    /// Dropout after adding positional encodings.
    pub pos_dropout: f64,
}

/// Embedding, positional encoding, Transformer decoder and output layer.
///
/// Greedy decoding follows the course's `predict`: the output starts with
/// `<S>`, every step appends the arg-max token (first maximum on ties, as
/// `torch.argmax`), and at the end every token after an `<E>` or `<P>` is set
/// to `<P>`. Two differences, neither changing the tokens:
///
/// * [`TokenDecoder::greedy`] caches keys and values (exact with a causal
///   mask, see [`crate::layers::TransformerDecoder`]) instead of re-running the
///   decoder over the whole prefix each step ([`TokenDecoder::greedy_recompute`]
///   is the course's loop, kept as the reference);
/// * decoding stops once every row has emitted an `<E>` or `<P>` at some
///   step. The course (paragraph model) stopped when all rows emitted one *at
///   the same step*; later steps only produce tokens the final padding pass
///   overwrites, so the result is identical and never takes longer.
///
/// Probabilities are the softmax probability of each chosen token; the
/// leading `<S>` and the forced `<P>` tokens get probability 1, so the
/// product over a row is the probability of the decoded sequence.
///
/// [`EncoderDecoder`] pairs the decoder with an image
/// encoder: both Transformer models are that one type.
#[derive(Clone, Debug)]
pub struct TokenDecoder {
    embedding: Embedding,
    pos: PositionalEncoding,
    decoder: TransformerDecoder,
    fc: Linear,
    dim: usize,
    start: u32,
    end: u32,
    pad: u32,
    max_len: usize,
}

impl TokenDecoder {
    /// Checks the sizes and the vocabulary (`<S>`, `<E>`, `<P>`, an
    /// `output_len` of at least 2) and creates `embedding`, `fc` and
    /// `transformer_decoder.layers.*` under `vb`.
    pub fn new(
        model: &str,
        c: &TokenDecoderConfig,
        spec: &DataSpec,
        vb: VarBuilder,
    ) -> crate::Result<Self> {
        check_positive(model, "tf_dim", c.dim)?;
        check_positive(model, "tf_nhead", c.num_heads)?;
        check_positive(model, "tf_fc_dim", c.ff_dim)?;
        check_positive(model, "tf_layers", c.num_layers)?;
        check_probability(model, "tf_dropout", c.dropout)?;
        check_probability(model, "pos_dropout", c.pos_dropout)?;
        if !c.dim.is_multiple_of(c.num_heads) {
            return Err(Error::invalid(
                model,
                "tf_dim",
                format!("{} is not divisible by tf_nhead = {}", c.dim, c.num_heads),
            ));
        }
        if !c.dim.is_multiple_of(2) {
            return Err(Error::invalid(
                model,
                "tf_dim",
                format!(
                    "{} is odd; sinusoidal positional encoding needs an even width",
                    c.dim
                ),
            ));
        }
        let max_len = spec.require_output_len(model, "greedy decoding needs a maximum length")?;
        if max_len < 2 {
            return Err(Error::invalid(
                model,
                "data output_len",
                format!("{max_len} leaves no room after <S>; need at least 2"),
            ));
        }
        let classes = spec.num_classes();
        Ok(Self {
            embedding: Embedding::new(
                classes,
                c.dim,
                symmetric_uniform(INIT_RANGE),
                vb.pp("embedding"),
            )?,
            pos: PositionalEncoding::new(c.dim, max_len, c.pos_dropout as f32, vb.device())?,
            decoder: TransformerDecoder::new(
                DecoderConfig {
                    dim: c.dim,
                    num_heads: c.num_heads,
                    ff_dim: c.ff_dim,
                    num_layers: c.num_layers,
                    dropout: c.dropout as f32,
                },
                vb.pp("transformer_decoder"),
            )?,
            fc: Linear::new(c.dim, classes, LayerInit::Uniform(INIT_RANGE), vb.pp("fc"))?,
            dim: c.dim,
            start: spec.token(model, START)?,
            end: spec.token(model, END)?,
            pad: spec.token(model, PAD)?,
            max_len,
        })
    }

    /// Length of greedy outputs (the data's `output_len`).
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Teacher forcing: `memory` `(B, Sx, E)`, `y` `(B, Sy)` integer tokens
    /// → `(B, Sy, C)` logits, position `i` predicting token `i + 1`.
    pub fn logits(&self, memory: &Tensor, y: &Tensor, train: bool) -> Result<Tensor> {
        let (b, sy) = y.dims2()?;
        let (mb, _, _) = memory.dims3()?;
        if b != mb || sy == 0 {
            candle_core::bail!(
                "decoder tokens {:?} do not match a memory of batch {mb} (need (B, Sy), Sy >= 1)",
                y.shape()
            )
        }
        let y = y.to_dtype(DType::U32)?;
        let emb = (self.embedding.forward(&y)? * (self.dim as f64).sqrt())?;
        let emb = self.pos.forward(&emb, train)?;
        let mask =
            causal_mask(sy, sy, 0, y.device())?.broadcast_add(&padding_mask(&y, self.pad)?)?;
        let out = self.decoder.forward(&emb, memory, Some(&mask), train)?;
        self.fc.forward(&out)
    }

    /// Greedy decoding with a key/value cache (see [`TokenDecoder`]).
    pub fn greedy(&self, memory: &Tensor) -> Result<GreedyDecode> {
        let (b, _, _) = memory.dims3()?;
        let mut state = GreedyState::new(b, self.max_len, self.start, self.pad);
        let mut cache = self.decoder.start(memory, self.max_len)?;
        for t in 1..self.max_len {
            let prev = Tensor::from_vec(state.column(t - 1), (b, 1), memory.device())?;
            let emb = (self.embedding.forward(&prev)? * (self.dim as f64).sqrt())?;
            let emb = self.pos.forward_at(&emb, t - 1)?;
            let key_mask = padding_mask(&state.prefix(t, memory.device())?, self.pad)?;
            let out = self.decoder.step(&emb, &mut cache, &key_mask)?;
            let logits = self.fc.forward(&out)?.squeeze(1)?;
            if state.push(t, &logits, self.end, self.pad)? {
                break;
            }
        }
        state.finish(self.end, self.pad, memory.device())
    }

    /// The course's greedy loop: re-runs the decoder over the whole prefix
    /// every step. Same tokens as [`TokenDecoder::greedy`]; kept as its reference.
    pub fn greedy_recompute(&self, memory: &Tensor) -> Result<GreedyDecode> {
        let (b, _, _) = memory.dims3()?;
        let mut state = GreedyState::new(b, self.max_len, self.start, self.pad);
        for t in 1..self.max_len {
            let y = state.prefix(t, memory.device())?;
            let logits = self.logits(memory, &y, false)?;
            let last = logits.narrow(1, t - 1, 1)?.squeeze(1)?;
            if state.push(t, &last, self.end, self.pad)? {
                break;
            }
        }
        state.finish(self.end, self.pad, memory.device())
    }
}

/// Tokens and probabilities of a greedy run, row-major `(B, S)`.
struct GreedyState {
    tokens: Vec<u32>,
    probs: Vec<f32>,
    finished: Vec<bool>,
    b: usize,
    s: usize,
}

impl GreedyState {
    fn new(b: usize, s: usize, start: u32, pad: u32) -> Self {
        let mut tokens = vec![pad; b * s];
        for row in 0..b {
            tokens[row * s] = start;
        }
        Self {
            tokens,
            probs: vec![1.0; b * s],
            finished: vec![false; b],
            b,
            s,
        }
    }

    /// Tokens at step `t` of every row.
    fn column(&self, t: usize) -> Vec<u32> {
        (0..self.b)
            .map(|row| self.tokens[row * self.s + t])
            .collect()
    }

    /// `(B, t)` tensor of the first `t` tokens of every row.
    fn prefix(&self, t: usize, device: &candle_core::Device) -> Result<Tensor> {
        let data: Vec<u32> = (0..self.b)
            .flat_map(|row| self.tokens[row * self.s..row * self.s + t].iter().copied())
            .collect();
        Tensor::from_vec(data, (self.b, t), device)
    }

    /// Records the arg-max of `logits` `(B, C)` at step `t`; true when every
    /// row has now emitted `<E>` or `<P>`.
    fn push(&mut self, t: usize, logits: &Tensor, end: u32, pad: u32) -> Result<bool> {
        let probs =
            candle_nn::ops::softmax(&logits.to_dtype(DType::F32)?, D::Minus1)?.to_vec2::<f32>()?;
        for (row, p) in probs.iter().enumerate() {
            let (best, best_p) =
                p.iter()
                    .enumerate()
                    .fold((0usize, f32::NEG_INFINITY), |acc, (i, &v)| {
                        if v > acc.1 {
                            (i, v)
                        } else {
                            acc
                        }
                    });
            let token = best as u32;
            self.tokens[row * self.s + t] = token;
            self.probs[row * self.s + t] = best_p;
            self.finished[row] |= token == end || token == pad;
        }
        Ok(self.finished.iter().all(|&f| f))
    }

    /// Pads every row after its first `<E>`/`<P>` (the course's final pass)
    /// and returns `(B, S)` tensors. Steps never reached are `<P>` already.
    fn finish(mut self, end: u32, pad: u32, device: &candle_core::Device) -> Result<GreedyDecode> {
        for row in 0..self.b {
            let base = row * self.s;
            let mut stopped = false;
            for t in 1..self.s {
                let prev = self.tokens[base + t - 1];
                stopped |= prev == end || prev == pad;
                if stopped {
                    self.tokens[base + t] = pad;
                    self.probs[base + t] = 1.0;
                }
            }
        }
        Ok(GreedyDecode {
            tokens: Tensor::from_vec(self.tokens, (self.b, self.s), device)?,
            probs: Tensor::from_vec(self.probs, (self.b, self.s), device)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    const S: u32 = 1;
    const E: u32 = 2;
    const P: u32 = 3;

    /// Logits that make `token` the arg-max of a row of 6 classes.
    fn logits(rows: &[u32]) -> Tensor {
        let data: Vec<f32> = rows
            .iter()
            .flat_map(|&t| (0..6u32).map(move |c| if c == t { 5.0 } else { 0.0 }))
            .collect();
        Tensor::from_vec(data, (rows.len(), 6), &Device::Cpu).expect("valid shape")
    }

    #[test]
    fn stops_once_every_row_has_ended_at_some_step() -> Result<()> {
        let mut st = GreedyState::new(2, 6, S, P);
        assert!(!st.push(1, &logits(&[E, 4]), E, P)?);
        // Row 0 keeps producing after its <E>; the course's rule would not stop here.
        assert!(st.push(2, &logits(&[5, E]), E, P)?);
        let out = st.finish(E, P, &Device::Cpu)?;
        assert_eq!(
            out.tokens.to_vec2::<u32>()?,
            vec![vec![S, E, P, P, P, P], vec![S, 4, E, P, P, P]]
        );
        let probs = out.probs.to_vec2::<f32>()?;
        let p_top = 5f32.exp() / (5f32.exp() + 5.0);
        assert!((probs[0][1] - p_top).abs() < 1e-6 && (probs[1][2] - p_top).abs() < 1e-6);
        assert_eq!(probs[0][0], 1.0, "<S> has probability 1");
        assert_eq!(&probs[0][2..], &[1.0; 4], "forced <P> have probability 1");
        Ok(())
    }

    #[test]
    fn a_predicted_pad_also_ends_a_row_and_ties_take_the_first_class() -> Result<()> {
        let mut st = GreedyState::new(1, 4, S, P);
        assert!(st.push(1, &logits(&[P]), E, P)?);
        let mut tied = GreedyState::new(1, 3, S, P);
        let flat = Tensor::zeros((1, 6), DType::F32, &Device::Cpu)?;
        tied.push(1, &flat, E, P)?;
        tied.push(2, &flat, E, P)?;
        assert_eq!(tied.tokens, vec![S, 0, 0]);
        assert_eq!(
            st.finish(E, P, &Device::Cpu)?.tokens.to_vec2::<u32>()?,
            vec![vec![S, P, P, P]]
        );
        Ok(())
    }
}
