//! # tr-infer: read handwriting with a trained `tr` model
//!
//! Load a model artifact (written by `htr stage`) from a directory or from
//! the Hugging Face hub, hand it images, get text back:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::collections::HashMap;
//! use candle_core::{DType, Device};
//! use candle_nn::{VarBuilder, VarMap};
//! use image::{DynamicImage, GrayImage, Luma};
//! use tr_infer::artifact::{write_artifact, ArtifactSpec};
//! use tr_infer::LineTextRecognizer;
//! use tr_models::{DataSpec, ModelConfig};
//!
//! // A tiny untrained line-cnn, staged into an artifact directory. (Real
//! // artifacts come from `htr stage --run runs/<id> --out DIR`.)
//! let mut model = ModelConfig::by_name("line-cnn")?;
//! model.set_str("conv_dim", "4")?;
//! model.set_str("fc_dim", "8")?;
//! let data = DataSpec::new([1, 28, 64], tr_data::Vocabulary::emnist(), Some(16));
//! let varmap = VarMap::new();
//! model.build(&data, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
//! let weights: HashMap<_, _> = tr_models::params::named_vars(&varmap)
//!     .into_iter()
//!     .map(|(name, var)| (name, var.as_tensor().clone()))
//!     .collect();
//! let dir = tempfile::tempdir()?;
//! write_artifact(dir.path(), &ArtifactSpec::new(model, &data), &weights)?;
//!
//! // Load it (every tensor is checked against the config) and read a line:
//! // a white 300×40 scan, inverted and resized to 28 pixels high on the way.
//! let recognizer = LineTextRecognizer::from_dir(dir.path())?;
//! let scan = DynamicImage::ImageLuma8(GrayImage::from_fn(300, 40, |x, _| {
//!     Luma([if x % 30 < 3 { 20 } else { 235 }])
//! }));
//! let prediction = recognizer.predict(&scan)?;
//! assert!(prediction.inverted);
//! assert_eq!(prediction.char_confidences.len(), prediction.text.chars().count());
//! println!("{} ({:.2})", prediction.text, prediction.confidence);
//! # Ok(())
//! # }
//! ```
//!
//! ## Threads
//!
//! Call [`pin_thread_count`] first thing in `main` (or set
//! `RAYON_NUM_THREADS`): without it candle's CPU matmul opens and parses
//! `/proc/cpuinfo` at every call, which costs the greedy decoding of a
//! Transformer model about 40 % of its time (CTC models much less).
//!
//! ## API
//!
//! | item | what |
//! |---|---|
//! | [`LineTextRecognizer`], [`ParagraphTextRecognizer`] | `from_dir`, `from_hub` (feature `hub`, default), `predict`, `predict_file`, `predict_batch`, `predict_batch_timed` (lines), `set_decoder` |
//! | [`PagePrediction`], [`LinePrediction`], [`Segmenter`] | a page read by `ParagraphTextRecognizer::predict_page` (line models: segmented, each line's polygon, baseline and confidence) and the segmentation settings |
//! | [`MaskSegmenter`] | a trained U-Net line segmenter (`htr segment-train`), used by `ParagraphTextRecognizer::with_mask_segmenter` |
//! | [`Prediction`], [`BatchTimings`] | the text, per-character confidences and, for CTC models, the time step and image column each character came from |
//! | [`Preprocessing`], [`Polarity`] | any size, colour type or bit depth, either ink polarity, EXIF orientation, very wide lines; a pixel limit ([`DEFAULT_MAX_PIXELS`]) checked on the image header before decoding |
//! | [`load_image`], [`load_image_file`] | decoding an image as the recognisers do |
//! | [`DecoderConfig`], [`LmConfig`] | greedy or beam search, with an optional character language model shipped inside the artifact |
//! | [`Artifact`], [`ArtifactConfig`], [`ArtifactBytes`] | a loaded, verified artifact and its `config.json`; `Artifact::from_bytes` loads one held in memory |
//! | [`artifact`] | the artifact format: file names, format tags, [`artifact::write_artifact`], the model card |
#![cfg_attr(
    feature = "bundled",
    doc = "| `LineTextRecognizer::bundled`, [`bundled_artifact`], [`BUNDLED_CARD`], [`BUNDLED_NAME`] | the English line model embedded in the crate (feature `bundled`, default) |"
)]
#![cfg_attr(
    not(feature = "bundled"),
    doc = "| `LineTextRecognizer::bundled`, `bundled_artifact` | the embedded English line model (feature `bundled`, off in this build) |"
)]
#![cfg_attr(
    feature = "hub",
    doc = "| [`fetch_artifact`], [`HubOptions`] | fetching artifacts from the Hugging Face hub or `HF_ENDPOINT` (feature `hub`) |"
)]
#![cfg_attr(
    not(feature = "hub"),
    doc = "| `fetch_artifact`, `HubOptions` | fetching artifacts from the Hugging Face hub or `HF_ENDPOINT` (feature `hub`, off in this build) |"
)]
//! | [`Error`], [`Result`] | the crate's error type |
//!
//! Not here: training, losses, metrics, data loading. The crate depends on
//! `tr-models` and the light core of `tr-data` only.

mod alignment;
pub mod artifact;
#[cfg(feature = "bundled")]
mod bundled;
mod decoder;
mod error;
#[cfg(feature = "hub")]
mod hub;
mod mask_segmenter;
mod prediction;
mod preprocess;
mod recognizer;

pub use artifact::{Artifact, ArtifactBytes, ArtifactConfig};
#[cfg(feature = "bundled")]
pub use bundled::{bundled_artifact, BUNDLED_CARD, BUNDLED_NAME};
pub use decoder::{DecoderConfig, LmConfig};
pub use error::{Error, Result};
#[cfg(feature = "hub")]
pub use hub::{fetch_artifact, HubOptions};
pub use mask_segmenter::MaskSegmenter;
pub use prediction::{BatchTimings, Prediction};
pub use preprocess::{load_image, load_image_file, Polarity, Preprocessing, DEFAULT_MAX_PIXELS};
pub use recognizer::{
    LinePrediction, LineTextRecognizer, PagePrediction, ParagraphTextRecognizer, Segmenter,
};
/// Call at the start of `main` (see the crate docs, "Threads").
pub use tr_kernels::pin_thread_count;
