//! [`Recognize`]: what the server needs of a recogniser — a batch predict
//! and a description — implemented for both of tr-infer's recognisers.

use image::DynamicImage;
use serde::Serialize;
use tr_infer::{BatchTimings, LineTextRecognizer, ParagraphTextRecognizer, Prediction};

/// What one image is: a single line, or a paragraph whose text has `\n`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Line,
    Paragraph,
}

/// What `/healthz` says about the model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// Registry name of the model (`crnn`, `line-cnn`, …).
    pub name: String,
    pub layout: Layout,
    /// Decoder in use (`greedy`, `beam 8 + lm`, …).
    pub decoder: String,
}

/// A recogniser the model worker owns. Runs on the worker's own thread,
/// never on the async runtime.
pub trait Recognize: Send + 'static {
    /// Reads the text of `images` in one batch. An error fails the whole
    /// batch; the worker then retries the images one by one.
    fn predict_batch(
        &self,
        images: &[DynamicImage],
    ) -> tr_infer::Result<(Vec<Prediction>, BatchTimings)>;

    /// Name, layout and decoder.
    fn info(&self) -> ModelInfo;
}

impl Recognize for LineTextRecognizer {
    fn predict_batch(
        &self,
        images: &[DynamicImage],
    ) -> tr_infer::Result<(Vec<Prediction>, BatchTimings)> {
        self.predict_batch_timed(images)
    }

    fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.config().model.name().to_string(),
            layout: Layout::Line,
            decoder: self.decoder().label(),
        }
    }
}

impl Recognize for ParagraphTextRecognizer {
    /// Pages: segmentation and line reading are one step here, all of it
    /// counted as model time.
    fn predict_batch(
        &self,
        images: &[DynamicImage],
    ) -> tr_infer::Result<(Vec<Prediction>, BatchTimings)> {
        let start = std::time::Instant::now();
        let predictions = ParagraphTextRecognizer::predict_batch(self, images)?;
        Ok((
            predictions,
            BatchTimings {
                preprocess: std::time::Duration::ZERO,
                model: start.elapsed(),
            },
        ))
    }

    fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.config().model.name().to_string(),
            layout: Layout::Paragraph,
            decoder: self.decoder().label(),
        }
    }
}

impl<R: Recognize + ?Sized> Recognize for Box<R> {
    fn predict_batch(
        &self,
        images: &[DynamicImage],
    ) -> tr_infer::Result<(Vec<Prediction>, BatchTimings)> {
        (**self).predict_batch(images)
    }

    fn info(&self) -> ModelInfo {
        (**self).info()
    }
}
