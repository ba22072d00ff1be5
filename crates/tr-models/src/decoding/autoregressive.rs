//! Turning the output of a seq2seq model's greedy autoregressive decoding
//! ([`crate::Model::decode_greedy`]) into labels, confidences and text.
//!
//! The decoding loop itself lives in the models (it needs their encoder and
//! decoder); this module only reads its `(B, Sy)` tokens and probabilities.

use candle_core::{bail, DType, Device, Result};
use tr_data::ContentRule;
use tr_data::Vocabulary;

use super::decoded::Decoded;
use crate::model::GreedyDecode;

/// Reads each row of a [`GreedyDecode`] by the content rule of
/// [`tr_data::ContentRule`] (`<S>` skipped, stop at the first `<E>` or `<P>`,
/// other special tokens skipped), keeping every character token with the
/// probability the model gave it and its decoding position as the step.
pub fn decode_seq2seq(decode: &GreedyDecode, vocab: &Vocabulary) -> Result<Vec<Decoded>> {
    let tokens = decode
        .tokens
        .to_dtype(DType::U32)?
        .to_device(&Device::Cpu)?;
    let probs = decode.probs.to_dtype(DType::F32)?.to_device(&Device::Cpu)?;
    if tokens.dims() != probs.dims() || tokens.rank() != 2 {
        bail!(
            "seq2seq decoding: tokens {:?} and probs {:?} must both be (B, Sy)",
            tokens.dims(),
            probs.dims()
        );
    }
    let rule = ContentRule::of(vocab);
    let tokens = tokens.to_vec2::<u32>()?;
    let probs = probs.to_vec2::<f32>()?;
    tokens
        .iter()
        .zip(&probs)
        .map(|(row, p)| {
            let mut out = Decoded::default();
            for step in rule.positions(row) {
                let tok = row[step];
                if tok as usize >= vocab.len() {
                    bail!(
                        "seq2seq decoding: token {tok} at position {step} is outside the {}-symbol vocabulary",
                        vocab.len()
                    );
                }
                out.push(tok, p[step], step);
            }
            Ok(out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Tensor;

    #[test]
    fn stops_at_end_and_skips_special_tokens() {
        let v = Vocabulary::emnist();
        let (s, e, p) = (1u32, 2u32, 3u32);
        let h = v.char_index('H').unwrap();
        let i = v.char_index('i').unwrap();
        let tokens = Tensor::new(&[[s, h, i, e, h, p], [s, e, p, p, p, p]], &Device::Cpu).unwrap();
        let probs = Tensor::new(
            &[
                [1.0f32, 0.9, 0.8, 0.7, 0.6, 0.5],
                [1.0, 0.99, 1.0, 1.0, 1.0, 1.0],
            ],
            &Device::Cpu,
        )
        .unwrap();
        let out = decode_seq2seq(&GreedyDecode { tokens, probs }, &v).unwrap();
        assert_eq!(out[0].labels, vec![h, i]);
        assert_eq!(out[0].steps, vec![1, 2]);
        assert_eq!(out[0].confidences, vec![0.9, 0.8]);
        assert_eq!(out[0].text(&v).unwrap(), "Hi");
        assert!(out[1].is_empty());
    }

    #[test]
    fn padding_ends_the_text_as_in_training() {
        // Before the content rule had one home, inference skipped a <P> and
        // read on ("ab") while the training step stopped there ("a").
        let v = Vocabulary::emnist();
        let (a, b) = (v.char_index('a').unwrap(), v.char_index('b').unwrap());
        let tokens = Tensor::new(&[[1u32, a, 3, b, 2]], &Device::Cpu).unwrap();
        let probs = Tensor::ones((1, 5), DType::F32, &Device::Cpu).unwrap();
        let out = decode_seq2seq(&GreedyDecode { tokens, probs }, &v).unwrap();
        assert_eq!(out[0].labels, vec![a]);
    }

    #[test]
    fn out_of_vocabulary_token_is_an_error() {
        let v = Vocabulary::emnist();
        let tokens = Tensor::new(&[[1u32, 200]], &Device::Cpu).unwrap();
        let probs = Tensor::new(&[[1.0f32, 1.0]], &Device::Cpu).unwrap();
        let err = decode_seq2seq(&GreedyDecode { tokens, probs }, &v)
            .unwrap_err()
            .to_string();
        assert!(err.contains("token 200 at position 1"), "{err}");
    }
}
