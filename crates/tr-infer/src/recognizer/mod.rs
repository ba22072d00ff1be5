//! The two recognisers users embed:
//!
//! * [`LineTextRecognizer`]: one line of handwriting per image, for the
//!   line models (`line-cnn-simple`, `line-cnn`, `line-cnn-lstm`,
//!   `line-cnn-transformer`, `crnn`). Lines of any length are resized to the
//!   model height; CTC models read very wide lines window by window.
//! * [`ParagraphTextRecognizer`]: a paragraph or page per image. With a
//!   line model it segments the page into lines and reads them (`page`);
//!   with a model whose vocabulary has the line break `\n`
//!   ([`tr_models::DataSpec::reads_paragraphs`]; the course's
//!   `resnet-transformer`) the image is fitted into the model's input and
//!   decoded whole, lines separated by `\n`.
//!
//! Both load an artifact ([`crate::artifact`]) from a directory or from the
//! Hugging Face hub, and share the same preprocessing and decoding engine.

mod engine;
mod page;

pub use page::{LinePrediction, PagePrediction, Segmenter};

use std::path::Path;

use image::DynamicImage;

use crate::artifact::{Artifact, ArtifactConfig};
use crate::decoder::DecoderConfig;
use crate::error::{Error, Result};
use crate::prediction::{BatchTimings, Prediction};
use crate::preprocess::{load_image_file, Preprocessing};
use engine::{Engine, Layout};

macro_rules! recognizer_api {
    ($ty:ident) => {
        impl $ty {
            /// Loads and verifies the artifact in `dir` (see [`Artifact::load`]).
            pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
                Self::from_artifact(Artifact::load(dir.as_ref())?)
            }

            /// Downloads (or reuses the cached copy of) the artifact of hub
            /// repository `repo_id` (`owner/name`) and loads it. The endpoint
            /// is `HF_ENDPOINT` (default `https://huggingface.co`), the cache
            /// `HF_HUB_CACHE` / `HF_HOME` (see [`crate::fetch_artifact`]).
            #[cfg(feature = "hub")]
            pub fn from_hub(repo_id: &str) -> Result<Self> {
                Self::from_hub_with(repo_id, &crate::HubOptions::default())
            }

            /// [`Self::from_hub`] with an explicit endpoint, cache or revision.
            #[cfg(feature = "hub")]
            pub fn from_hub_with(repo_id: &str, options: &crate::HubOptions) -> Result<Self> {
                Self::from_dir(crate::hub::fetch_artifact(repo_id, options)?)
            }

            /// Replaces the preprocessing settings.
            pub fn with_preprocessing(mut self, preprocessing: Preprocessing) -> Self {
                self.engine.preprocessing = preprocessing;
                self
            }

            /// Model inputs per forward pass in [`Self::predict_batch`] (default 16).
            pub fn with_batch_size(mut self, batch_size: usize) -> Result<Self> {
                self.engine.set_batch_size(batch_size)?;
                Ok(self)
            }

            /// Replaces the decoder (the artifact's is the default). A beam
            /// decoder's LM file is read from the artifact directory.
            pub fn set_decoder(&mut self, decoder: DecoderConfig) -> Result<()> {
                self.engine.set_decoder(decoder)
            }

            /// A beam decoder of `width` that keeps the artifact's language
            /// model, if it ships one.
            pub fn beam_decoder(&self, width: usize) -> DecoderConfig {
                self.engine.beam_decoder(width)
            }

            /// The decoder in use.
            pub fn decoder(&self) -> &DecoderConfig {
                &self.engine.decoder
            }

            /// The preprocessing settings in use.
            pub fn preprocessing(&self) -> &Preprocessing {
                &self.engine.preprocessing
            }

            /// The artifact's `config.json`.
            pub fn config(&self) -> &ArtifactConfig {
                &self.engine.artifact.config
            }
        }
    };
}

/// Recognises one line of handwriting per image.
///
/// For the line models (`line-cnn-simple`, `line-cnn`, `line-cnn-lstm`,
/// `line-cnn-transformer`, `crnn`). Lines of any length are resized to the model
/// height; CTC models read very wide lines window by window. Loads an
/// artifact ([`crate::artifact`]) from a directory or from the Hugging Face
/// hub.
pub struct LineTextRecognizer {
    engine: Engine,
}

#[cfg(feature = "bundled")]
impl LineTextRecognizer {
    /// The English line model that ships with the crate (feature `bundled`,
    /// default): no directory, no download. What it was trained on and how
    /// well it reads is in [`crate::BUNDLED_CARD`].
    pub fn bundled() -> Result<Self> {
        Self::from_artifact(crate::bundled_artifact(&candle_core::Device::Cpu)?)
    }
}

/// Recognises a paragraph or a page of handwriting per image.
///
/// Two kinds of models (see [`page`](self) for the details):
///
/// * **line models** (vocabulary without `\n`): the page is segmented into
///   lines ([`tr_data::layout::segment_lines`]), each line is cut out and
///   read by the line model, in batches; the text is the lines in reading
///   order joined by `\n`, and [`Self::predict_page`] gives every line's
///   polygon, baseline and confidence. An upside-down page is detected by
///   reading a few lines both ways.
/// * **paragraph models** (vocabulary with `\n`,
///   [`tr_models::DataSpec::reads_paragraphs`]; the course's
///   `resnet-transformer`): the image is fitted into the model's input and
///   decoded whole, lines separated by `\n`.
///
/// Shares the preprocessing and decoding engine of [`LineTextRecognizer`].
pub struct ParagraphTextRecognizer {
    engine: Engine,
    /// `None` for paragraph models.
    segmenter: Option<page::Segmenter>,
    /// A trained segmenter replacing the classical one.
    trained: Option<crate::MaskSegmenter>,
}

recognizer_api!(LineTextRecognizer);
recognizer_api!(ParagraphTextRecognizer);

impl LineTextRecognizer {
    /// Wraps a loaded artifact, checking that its model reads lines.
    pub fn from_artifact(artifact: Artifact) -> Result<Self> {
        check_line_model(&artifact)?;
        Ok(Self {
            engine: Engine::new(artifact, Layout::Line)?,
        })
    }

    /// Reads the text of one image.
    pub fn predict(&self, image: &DynamicImage) -> Result<Prediction> {
        let mut out = self.engine.predict_batch(std::slice::from_ref(image))?;
        out.pop()
            .ok_or_else(|| Error::invalid("prediction", "no output for the image"))
    }

    /// Reads the text of several images, batching the model's forward
    /// passes. An image that cannot be processed fails the call with
    /// an error naming its index.
    pub fn predict_batch(&self, images: &[DynamicImage]) -> Result<Vec<Prediction>> {
        self.engine.predict_batch(images)
    }

    /// [`Self::predict_batch`], also telling how long preprocessing and the
    /// model (forward passes and decoding) took.
    pub fn predict_batch_timed(
        &self,
        images: &[DynamicImage],
    ) -> Result<(Vec<Prediction>, BatchTimings)> {
        self.engine.predict_batch_timed(images)
    }

    /// Reads an image file (`-` = standard input) under the pixel
    /// limit and predicts its text.
    pub fn predict_file(&self, path: impl AsRef<Path>) -> Result<Prediction> {
        let image = load_image_file(path.as_ref(), self.engine.preprocessing.max_pixels)?;
        self.predict(&image)
    }
}

/// Refuses paragraph models (vocabulary with `\\n`) for line reading.
fn check_line_model(artifact: &Artifact) -> Result<()> {
    if artifact.config.data_spec().reads_paragraphs() {
        let name = artifact.config.model.name();
        return Err(Error::invalid(
            "model",
            format!(
                "{name} reads paragraphs (its vocabulary has \\n); use ParagraphTextRecognizer"
            ),
        ));
    }
    Ok(())
}
