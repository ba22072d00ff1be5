//! [`Prediction`]: what a recogniser says about one image; [`BatchTimings`]:
//! where the time of a batch went.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The text read from one image, with per-character evidence.
///
/// `char_confidences`, `steps` and `x` have one entry per character of
/// `text` (every symbol of the vocabularies is one character).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub text: String,
    /// Sequence confidence: the product of the per-character confidences
    /// (1 for an empty text).
    pub confidence: f32,
    /// Probability in `[0, 1]` the model gave each character.
    pub char_confidences: Vec<f32>,
    /// CTC models: the output time step each character was read at (over
    /// the stitched windows of a wide line); `None` for seq2seq models,
    /// whose steps are decoding positions, not places in the image.
    pub steps: Option<Vec<usize>>,
    /// CTC models: the horizontal centre, in pixels of the original image,
    /// of each character's time step.
    pub x: Option<Vec<f32>>,
    /// The image was inverted (dark ink on light paper detected or declared).
    pub inverted: bool,
}

/// Where the time of one `predict_batch_timed` call went.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BatchTimings {
    /// Grey conversion, polarity, contrast, resizing and windowing of every image.
    pub preprocess: Duration,
    /// Forward passes and decoding.
    pub model: Duration,
}
