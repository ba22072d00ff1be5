//! [`Decoded`]: a decoder's answer for one sample — labels plus, per label,
//! the model's confidence and where in the output sequence it came from.

use candle_core::Result;
use tr_data::Vocabulary;

/// One decoded sequence.
///
/// The three vectors have the same length: `labels[i]` was read with
/// probability `confidences[i]` at output step `steps[i]` (a CTC time step,
/// i.e. a horizontal position in the image for line models, or an
/// autoregressive decoding position for seq2seq models).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decoded {
    /// Label indices, without blanks or special tokens.
    pub labels: Vec<u32>,
    /// Probability in `[0, 1]` of each label.
    pub confidences: Vec<f32>,
    /// Output step each label was read at.
    pub steps: Vec<usize>,
}

impl Decoded {
    /// The text of [`Self::labels`] in `vocab` (special tokens are skipped).
    pub fn text(&self, vocab: &Vocabulary) -> Result<String> {
        vocab
            .decode(&self.labels)
            .map_err(|e| candle_core::Error::Msg(format!("decoding labels to text: {e}")))
    }

    /// Sequence confidence: the product of the per-label confidences
    /// (1 for an empty sequence).
    pub fn confidence(&self) -> f32 {
        self.confidences.iter().product()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when nothing was decoded.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub(crate) fn push(&mut self, label: u32, confidence: f32, step: usize) {
        self.labels.push(label);
        self.confidences.push(confidence);
        self.steps.push(step);
    }
}
