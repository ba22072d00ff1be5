//! The object-safe [`Model`] trait every zoo model implements, and the
//! [`DataSpec`] that ties a model to the data it reads.

use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};
use tr_data::Vocabulary;

use crate::error::Error;

/// The training task a model's outputs are made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// `(B, C)` class logits; cross-entropy.
    Classify,
    /// `(B, C, S)` per-time-step logits; CTC (or per-position cross-entropy
    /// for `line-cnn-simple` with fixed-length targets).
    Ctc,
    /// Autoregressive decoder; teacher forcing in training, greedy decoding in inference.
    Seq2Seq,
}

/// What a model needs to know about its data; derived from the data module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    /// `(C, H, W)` of input images.
    pub input_shape: [usize; 3],
    /// The label vocabulary; `vocab.len()` is the number of output classes.
    pub vocab: Vocabulary,
    /// Padded target length (sequence models), `None` for classifiers.
    pub output_len: Option<usize>,
}

impl DataSpec {
    /// Bundles the three fields.
    pub fn new(input_shape: [usize; 3], vocab: Vocabulary, output_len: Option<usize>) -> Self {
        Self {
            input_shape,
            vocab,
            output_len,
        }
    }

    /// The course's `EMNISTLines`, the default data of the line models:
    /// 32-character lines of 28×896 px, labels padded to 32 (with `<S>`/`<E>`
    /// inside the 32 for the Transformer), the 83-symbol vocabulary.
    pub fn emnist_lines() -> Self {
        Self::new([1, 28, 896], Vocabulary::emnist(), Some(32))
    }

    /// Number of output classes.
    pub fn num_classes(&self) -> usize {
        self.vocab.len()
    }

    /// True when a model built for this spec reads paragraphs (a page per
    /// image, lines separated by `\n`) rather than single lines: its
    /// vocabulary has the line break, as [`Vocabulary::paragraphs`] does.
    /// Only such a model can say where one line ends and the next begins, so
    /// this — not the model's name — decides which recogniser takes it and
    /// what its model card says.
    pub fn reads_paragraphs(&self) -> bool {
        self.vocab.char_index('\n').is_some()
    }

    /// Index of a special token the model needs, or an error naming the model.
    pub(crate) fn token(&self, model: &str, token: &str) -> crate::Result<u32> {
        self.vocab.token_index(token).ok_or_else(|| {
            Error::invalid(
                model,
                "vocabulary",
                format!(
                    "the {}-symbol vocabulary has no {token} token",
                    self.vocab.len()
                ),
            )
        })
    }

    /// The padded target length, or an error naming the model and the reason.
    pub(crate) fn require_output_len(&self, model: &str, why: &str) -> crate::Result<usize> {
        self.output_len.ok_or_else(|| {
            Error::invalid(model, "data output_len", format!("is not set, but {why}"))
        })
    }

    /// Checks that the data have `classes` >= 1 and every input dimension >= 1.
    pub(crate) fn check_basic(&self, model: &str) -> crate::Result<()> {
        if self.vocab.is_empty() {
            return Err(Error::invalid(model, "data vocabulary", "is empty"));
        }
        if self.input_shape.contains(&0) {
            return Err(Error::invalid(
                model,
                "data input_shape",
                format!("{:?} has a zero dimension", self.input_shape),
            ));
        }
        Ok(())
    }
}

/// Checks that `x` is `(B, C, H, W)` with the `(C, H)` of `spec` and, when
/// `exact_width`, its `W` too. Used at the top of every `forward`.
pub(crate) fn check_input(
    model: &str,
    spec: &DataSpec,
    x: &Tensor,
    exact_width: bool,
) -> Result<()> {
    let [c, h, w] = spec.input_shape;
    let ok = match x.dims() {
        [_, xc, xh, xw] => *xc == c && *xh == h && (!exact_width || *xw == w),
        _ => false,
    };
    if !ok {
        let want = if exact_width {
            format!("(B, {c}, {h}, {w})")
        } else {
            format!("(B, {c}, {h}, W)")
        };
        candle_core::bail!("{model}: expected input {want}, got {:?}", x.shape())
    }
    Ok(())
}

/// Result of greedy autoregressive decoding.
#[derive(Clone, Debug)]
pub struct GreedyDecode {
    /// `(B, Sy)` `u32` tokens.
    pub tokens: Tensor,
    /// `(B, Sy)` `f32` probability the model gave each chosen token.
    pub probs: Tensor,
}

/// A trainable model of the zoo.
pub trait Model: Send + Sync {
    /// Registry name (`line-cnn`, ...).
    fn name(&self) -> &'static str;

    /// The task the outputs are for.
    fn task(&self) -> Task;

    /// Classify: `(B, C_in, H, W)` → `(B, C)`; Ctc: → `(B, C, S)`;
    /// Seq2Seq: greedy autoregressive decoding, the `tokens` of
    /// [`Model::decode_greedy`].
    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor>;

    /// Seq2Seq only: greedy autoregressive decoding of `(B, C_in, H, W)`
    /// inputs into `(B, Sy)` `u32` tokens starting with `<S>`, `<P>` after
    /// the first `<E>`, plus the `(B, Sy)` `f32` probability of each token.
    fn decode_greedy(&self, _x: &Tensor) -> Result<GreedyDecode> {
        candle_core::bail!("{} is not a sequence-to-sequence model", self.name())
    }

    /// Seq2Seq only: teacher-forced logits `(B, C, Sy)` for inputs `x` and
    /// decoder tokens `y` `(B, Sy)` (the target shifted right, starting with `<S>`).
    fn forward_teacher(&self, _x: &Tensor, _y: &Tensor, _train: bool) -> Result<Tensor> {
        candle_core::bail!("{} is not a sequence-to-sequence model", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraph_models_are_those_whose_vocabulary_breaks_lines() {
        let spec = |vocab| DataSpec::new([1, 28, 64], vocab, Some(8));
        assert!(spec(Vocabulary::paragraphs()).reads_paragraphs());
        assert!(!spec(Vocabulary::emnist()).reads_paragraphs());
        assert!(!spec(Vocabulary::digits()).reads_paragraphs());
    }
}
