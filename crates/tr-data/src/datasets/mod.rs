//! Datasets: the [`Dataset`] trait, the three-split [`DataModule`], and the
//! registry that builds one from a [`DatasetConfig`] by name.
//!
//! Each dataset lives in its own module (`mnist`, `emnist`, `emnist_lines`,
//! `emnist_lines2`, `fake_images`).

use std::sync::Arc;

use image::GrayImage;

use crate::error::Result;
use crate::vocab::Vocabulary;

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
}
