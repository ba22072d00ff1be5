//! Datasets: the [`Dataset`] trait, the three-split [`DataModule`], and the
//! registry that builds one from a [`DatasetConfig`] by name.
//!
//! Each dataset lives in its own module (`mnist`, `emnist`, `emnist_lines`,
//! `emnist_lines2`, `fake_images`); [`DatasetConfig`] (in `registry`) picks
//! one by name and builds its [`DataModule`]. Where the files are looked up:
//! [`crate::DataDir`].

#[cfg(feature = "candle-datasets")]
mod candle_interop;
pub(crate) mod emnist;
pub(crate) mod emnist_lines;
pub(crate) mod emnist_lines2;
pub(crate) mod emnist_source;
pub(crate) mod fake_images;
pub(crate) mod font_lines;
pub(crate) mod font_render;
pub(crate) mod iam;
pub(crate) mod image_set;
pub(crate) mod line_cache;
pub(crate) mod line_recipe;
pub(crate) mod line_store;
pub(crate) mod line_synthesis;
pub(crate) mod mixture;
pub(crate) mod mnist;
pub(crate) mod page_lines;
pub(crate) mod page_masks;
pub(crate) mod page_paragraphs;
pub(crate) mod page_source;
pub(crate) mod real_lines;
pub(crate) mod registry;
pub(crate) mod sentence_generator;
pub(crate) mod split;
pub(crate) mod synthetic_lines;
pub(crate) mod synthetic_paragraphs;
pub(crate) mod text_norm;
pub(crate) mod text_vocab;

use std::sync::Arc;

use image::GrayImage;

use crate::error::Result;
use crate::vocab::Vocabulary;

pub use emnist::EmnistConfig;
pub use emnist_lines::EmnistLinesConfig;
pub use emnist_lines2::EmnistLines2Config;
pub use fake_images::{FakeImagesConfig, FakeTarget};
pub use font_lines::FontLinesConfig;
pub use iam::{
    IamLinesConfig, IamOriginalAndSyntheticParagraphsConfig, IamParagraphsConfig,
    IamSyntheticParagraphsConfig,
};
pub use image_set::ImageSet;
pub use line_cache::{LineCache, LineSets};
pub use line_recipe::LineRecipe;
pub use line_synthesis::{render_line, synthesize_lines, GlyphPool, LineGeometry};
pub use mixture::{MixtureConfig, MixturePart};
pub use mnist::MnistConfig;
pub use page_lines::PageLinesConfig;
pub use page_masks::{load_page_masks, PageMaskOptions, PageMaskSample};
pub use page_paragraphs::PageParagraphsConfig;
pub use real_lines::CropReport;
pub use registry::{DatasetConfig, DatasetKind};
pub use sentence_generator::SentenceGenerator;
pub use split::Balance;
pub use synthetic_paragraphs::SyntheticParagraphsConfig;

/// What a sample's label is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One class index into the data module's vocabulary.
    Class(u32),
    /// A padded label sequence of the data module's `output_len`.
    Sequence(Vec<u32>),
}

/// The kind of [`Target`] every sample of a data module carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    Class,
    Sequence,
}

/// One example: a grey image (ink bright on black, as the course's data) and its target.
#[derive(Clone, Debug)]
pub struct Sample {
    pub image: GrayImage,
    pub target: Target,
}

/// A finite, indexable collection of samples.
///
/// `get` must be deterministic for a given `(index, aug_seed)`: random
/// augmentation draws only from a generator seeded with `aug_seed`, which the
/// loader derives from its own seed, the epoch and the index, so that batches
/// do not depend on how many worker threads produced them.
pub trait Dataset: Send + Sync {
    /// Number of samples.
    fn len(&self) -> usize;
    /// True when empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Sample `index` (`< len()`), augmented with randomness from `aug_seed` if the dataset augments.
    fn get(&self, index: usize, aug_seed: u64) -> Result<Sample>;
    /// The target of sample `index` alone. The default loads the whole sample;
    /// datasets that hold their labels apart from their images override it so
    /// that statistics over a split need not render or decode any image.
    fn target(&self, index: usize) -> Result<Target> {
        Ok(self.get(index, 0)?.target)
    }
}

/// Train/val/test splits plus everything a model needs to agree with them.
#[derive(Clone)]
pub struct DataModule {
    /// Registry name, e.g. `emnist-lines`.
    pub name: String,
    /// Label vocabulary (class names for classification datasets).
    pub vocab: Vocabulary,
    /// `(C, H, W)` of every image.
    pub input_shape: [usize; 3],
    /// Class or padded sequence targets.
    pub target_kind: TargetKind,
    /// Length of every padded target sequence (`None` for classification).
    pub output_len: Option<usize>,
    pub train: Arc<dyn Dataset>,
    pub val: Arc<dyn Dataset>,
    pub test: Arc<dyn Dataset>,
    /// Human-readable provenance notes (e.g. "train/val/test carved from the
    /// official EMNIST test split"), shown by `htr data stats`.
    pub notes: Vec<String>,
    /// The raw sample pool the splits were drawn from, for classification
    /// datasets read from files (`None` for synthetic data).
    pub pool: Option<PoolInfo>,
    /// What real crops (lines, paragraphs) the splits hold, for datasets cut
    /// from pages (`None` otherwise).
    pub crops: Option<Arc<CropReport>>,
}

impl std::fmt::Debug for DataModule {
    /// A summary: the splits appear as their lengths.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataModule")
            .field("name", &self.name)
            .field("vocab_len", &self.vocab.len())
            .field("input_shape", &self.input_shape)
            .field("target_kind", &self.target_kind)
            .field("output_len", &self.output_len)
            .field("train_len", &self.train.len())
            .field("val_len", &self.val.len())
            .field("test_len", &self.test.len())
            .field("notes", &self.notes)
            .field("pool", &self.pool)
            .field("crops", &self.crops.is_some())
            .finish()
    }
}

/// The raw pool a data module was drawn from, before balancing and splitting
/// (e.g. "116,323 samples in 62 classes").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PoolInfo {
    /// What the pool is, e.g. "EMNIST ByClass official test split only (...)".
    pub source: String,
    /// Samples read.
    pub samples: usize,
    /// Distinct classes among them.
    pub classes: usize,
}
