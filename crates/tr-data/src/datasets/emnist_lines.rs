//! `emnist-lines`: the course's `EMNISTLines` — synthetic lines of EMNIST
//! glyphs showing Brown corpus text, 1×28×(28·max_length), padded label
//! sequences of `max_length`.
//!
//! Defaults as the course (lab `emnist_lines.py`): `max_length` 32,
//! overlap in `[0, 0.33)`, 10,000 / 2,000 / 2,000 lines, no start/end
//! tokens, glyphs from x = 0. Generated once (see [`super::line_recipe`])
//! and cached under `<processed>/emnist_lines/<key>.safetensors`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::line_recipe::LineRecipe;
use super::line_synthesis::LineGeometry;
use super::synthetic_lines::LineDataset;
use super::{DataModule, TargetKind};
use crate::error::{Error, Result};
use crate::paths::DataDir;
use crate::vocab::Vocabulary;

/// Glyph side in pixels (EMNIST).
const CHAR: usize = 28;

/// Settings of `emnist-lines` (defaults = the course's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmnistLinesConfig {
    /// Label length and image width in glyphs; lines have at most `max_length - 3` characters.
    pub max_length: usize,
    /// Minimum overlap of neighbouring glyphs, fraction of a glyph width.
    pub min_overlap: f64,
    /// Maximum overlap of neighbouring glyphs.
    pub max_overlap: f64,
    pub num_train: usize,
    pub num_val: usize,
    pub num_test: usize,
    /// Wrap labels in `<S>` … `<E>` (course flag `--with_start_end_tokens`, off by default).
    pub with_start_end_tokens: bool,
    /// Seed of text sampling, glyph choice and overlap.
    pub seed: u64,
}

impl Default for EmnistLinesConfig {
    fn default() -> Self {
        Self {
            max_length: 32,
            min_overlap: 0.0,
            max_overlap: 0.33,
            num_train: 10_000,
            num_val: 2_000,
            num_test: 2_000,
            with_start_end_tokens: false,
            seed: 42,
        }
    }
}

impl EmnistLinesConfig {
    /// The generation recipe of this config.
    pub fn recipe(&self) -> Result<LineRecipe> {
        let recipe = LineRecipe {
            cache_name: "emnist_lines",
            config: serde_json::to_value(self)
                .map_err(|e| Error::invalid("emnist-lines", e.to_string()))?,
            geometry: LineGeometry {
                height: CHAR,
                width: CHAR * self.max_length,
                x_start: 0,
                min_overlap: self.min_overlap,
                max_overlap: self.max_overlap,
            },
            max_length: self.max_length,
            label_len: self.max_length,
            with_start_end: self.with_start_end_tokens,
            counts: [self.num_train, self.num_val, self.num_test],
            seed: self.seed,
        };
        recipe.validate("emnist-lines")?;
        Ok(recipe)
    }

    /// Builds the data module (generating and caching the lines if needed).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        let recipe = self.recipe()?;
        let (sets, notes) = recipe.build(dir)?;
        Ok(DataModule {
            name: "emnist-lines".to_string(),
            vocab: Vocabulary::emnist(),
            input_shape: [1, CHAR, CHAR * self.max_length],
            target_kind: TargetKind::Sequence,
            output_len: Some(self.max_length),
            train: Arc::new(LineDataset::new(sets.train, None)),
            val: Arc::new(LineDataset::new(sets.val, None)),
            test: Arc::new(LineDataset::new(sets.test, None)),
            notes,
            pool: None,
            crops: None,
        })
    }
}

impl super::registry::DatasetKind for EmnistLinesConfig {
    fn build(&self, dir: &DataDir) -> Result<DataModule> {
        EmnistLinesConfig::build(self, dir)
    }
}
