//! `emnist-lines2`: the course's `EMNISTLines2` — harder synthetic lines,
//! 1×56×1024, glyph rows centred vertically, first glyph at x = 28,
//! labels `<S>` … `<E>` padded to 89, training images augmented on the fly.
//!
//! Defaults as the course (`emnist_lines2.py`): `max_length` 43, overlap in
//! `[0.2, 0.5)`, 10,000 / 2,000 / 2,000 lines, `augment` on. Augmentation
//! ([`LineAugmentation`]: brightness × U(0.5, 1), then
//! `RandomAffine(degrees=3, translate=(0, 0.05), scale=(0.4, 1.1),
//! shear=(-40, 50), bilinear, fill 0)`) applies to the train split only —
//! the course also augments validation; we keep validation clean so its
//! metrics are comparable across epochs. Cached under
//! `<processed>/emnist_lines2/<key>.safetensors`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::line_recipe::LineRecipe;
use super::line_synthesis::LineGeometry;
use super::synthetic_lines::LineDataset;
use super::{DataModule, TargetKind};
use crate::augment::LineAugmentation;
use crate::error::{Error, Result};
use crate::paths::DataDir;
use crate::vocab::Vocabulary;

/// Image height (course `IMAGE_HEIGHT`).
pub const IMAGE_HEIGHT: usize = 56;
/// Image width (course `IMAGE_WIDTH`).
pub const IMAGE_WIDTH: usize = 1024;
/// Left padding before the first glyph (course `IMAGE_X_PADDING`).
pub const IMAGE_X_PADDING: usize = 28;
/// Label length with `<S>`/`<E>` (course `MAX_OUTPUT_LENGTH`).
pub const MAX_OUTPUT_LENGTH: usize = 89;

/// Settings of `emnist-lines2` (defaults = the course's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmnistLines2Config {
    /// Lines have at most `max_length - 3` characters (course: 43).
    pub max_length: usize,
    /// Minimum overlap of neighbouring glyphs, fraction of a glyph width.
    pub min_overlap: f64,
    /// Maximum overlap of neighbouring glyphs.
    pub max_overlap: f64,
    pub num_train: usize,
    pub num_val: usize,
    pub num_test: usize,
    /// Augment training images on the fly (course `--augment_data true`).
    pub augment: bool,
    /// Seed of text sampling, glyph choice and overlap.
    pub seed: u64,
}

impl Default for EmnistLines2Config {
    fn default() -> Self {
        Self {
            max_length: 43,
            min_overlap: 0.2,
            max_overlap: 0.5,
            num_train: 10_000,
            num_val: 2_000,
            num_test: 2_000,
            augment: true,
            seed: 42,
        }
    }
}

impl EmnistLines2Config {
    /// The generation recipe of this config (`augment` does not change the stored lines).
    pub fn recipe(&self) -> Result<LineRecipe> {
        let mut stored = self.clone();
        stored.augment = false;
        let recipe = LineRecipe {
            cache_name: "emnist_lines2",
            config: serde_json::to_value(&stored)
                .map_err(|e| Error::invalid("emnist-lines2", e.to_string()))?,
            geometry: LineGeometry {
                height: IMAGE_HEIGHT,
                width: IMAGE_WIDTH,
                x_start: IMAGE_X_PADDING,
                min_overlap: self.min_overlap,
                max_overlap: self.max_overlap,
            },
            max_length: self.max_length,
            label_len: MAX_OUTPUT_LENGTH,
            with_start_end: true,
            counts: [self.num_train, self.num_val, self.num_test],
            seed: self.seed,
        };
        recipe.validate("emnist-lines2")?;
        Ok(recipe)
    }

    /// Builds the data module (generating and caching the lines if needed).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        let recipe = self.recipe()?;
        let (sets, mut notes) = recipe.build(dir)?;
        let augment = self.augment.then(LineAugmentation::default);
        if self.augment {
            notes.push(
                "train images augmented on the fly (brightness, random affine); val/test not"
                    .to_string(),
            );
        }
        Ok(DataModule {
            name: "emnist-lines2".to_string(),
            vocab: Vocabulary::emnist(),
            input_shape: [1, IMAGE_HEIGHT, IMAGE_WIDTH],
            target_kind: TargetKind::Sequence,
            output_len: Some(MAX_OUTPUT_LENGTH),
            train: Arc::new(LineDataset::new(sets.train, augment)),
            val: Arc::new(LineDataset::new(sets.val, None)),
            test: Arc::new(LineDataset::new(sets.test, None)),
            notes,
            pool: None,
            crops: None,
        })
    }
}

impl super::registry::DatasetKind for EmnistLines2Config {
    fn build(&self, dir: &DataDir) -> Result<DataModule> {
        EmnistLines2Config::build(self, dir)
    }
}
