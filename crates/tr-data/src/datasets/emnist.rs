//! `emnist`: EMNIST ByClass characters (62 classes: digits, upper, lower),
//! 1×28×28, class targets indexing [`Vocabulary::emnist`] (EMNIST label + 4,
//! as the course adds its 4 special tokens).
//!
//! As the course's `EMNIST` data module: each available official split is
//! balanced per class ([`Balance`], default the course's
//! `_sample_to_balance`), the official train split is split 80/20 into
//! train/val (seeded, `TRAIN_FRAC = 0.8`, seed 42), and the official test
//! split is the test set. When only the official test split is available
//! (idx files), it becomes the pool: balanced, then `carve_test_frac` of it
//! goes to test and the rest is split 80/20 into train/val; the data
//! module's notes say so.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::emnist_source::{EmnistSource, RawEmnist, RawSplit, GLYPH};
use super::image_set::{ImageClassDataset, ImageSet};
use super::split::{balance, random_split, Balance};
use super::{DataModule, PoolInfo, TargetKind};
use crate::error::{Error, Result};
use crate::paths::DataDir;
use crate::readers::MappingEntry;
use crate::seeding::derive_seed;
use crate::vocab::{Vocabulary, SPECIAL_TOKENS};

/// Settings of the `emnist` dataset (defaults = the course's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmnistConfig {
    /// Per-class balancing of each split (course: `SAMPLE_TO_BALANCE = True`).
    pub balance: Balance,
    /// Fraction of the train pool used for training, the rest for validation (course: 0.8).
    pub train_frac: f64,
    /// Seed of balancing and splitting (course: 42).
    pub seed: u64,
    /// Only without the official train split: fraction of the pool carved out as test.
    pub carve_test_frac: f64,
}

impl Default for EmnistConfig {
    fn default() -> Self {
        Self {
            balance: Balance::Course,
            train_frac: 0.8,
            seed: 42,
            carve_test_frac: 0.2,
        }
    }
}

/// EMNIST glyphs after balancing, with the split of every kept sample.
pub struct EmnistData {
    /// Kept samples: upright 28×28 glyphs, labels are [`Vocabulary::emnist`] indices.
    pub glyphs: Arc<ImageSet>,
    /// Positions in `glyphs` of each split.
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
    /// The raw pool (all samples read, before balancing).
    pub pool: PoolInfo,
    /// Provenance, for [`DataModule::notes`].
    pub notes: Vec<String>,
}

impl EmnistConfig {
    /// Checks the fractions.
    pub fn validate(&self) -> Result<()> {
        for (field, v) in [
            ("emnist.train_frac", self.train_frac),
            ("emnist.carve_test_frac", self.carve_test_frac),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return Err(Error::invalid(
                    field,
                    format!("{v} is not a fraction strictly between 0 and 1"),
                ));
            }
        }
        Ok(())
    }

    /// Locates and reads EMNIST, balances and splits it.
    pub fn load(&self, dir: &DataDir) -> Result<EmnistData> {
        self.validate()?;
        self.load_from(&EmnistSource::locate(dir)?)
    }

    /// Reads, balances and splits an already located source.
    pub fn load_from(&self, source: &EmnistSource) -> Result<EmnistData> {
        self.validate()?;
        tracing::info!(source = %source.describe(), "loading EMNIST");
        let raw = source.load()?;
        self.prepare(source, raw)
    }

    /// Builds the `emnist` data module.
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        let data = self.load(dir)?;
        let split = |idx: Vec<usize>| -> Result<Arc<dyn super::Dataset>> {
            Ok(Arc::new(ImageClassDataset::new(data.glyphs.clone(), idx)?))
        };
        Ok(DataModule {
            name: "emnist".to_string(),
            vocab: Vocabulary::emnist(),
            input_shape: [1, GLYPH, GLYPH],
            target_kind: TargetKind::Class,
            output_len: None,
            train: split(data.train)?,
            val: split(data.val)?,
            test: split(data.test)?,
            notes: data.notes,
            pool: Some(data.pool),
            crops: None,
        })
    }

    fn prepare(&self, source: &EmnistSource, raw: RawEmnist) -> Result<EmnistData> {
        let to_vocab = label_table(&raw.mapping, &raw.mapping_path)?;
        let classes: BTreeSet<u32> = raw
            .train
            .iter()
            .chain([&raw.test])
            .flat_map(|s| s.labels.iter().copied())
            .collect();
        let pool = PoolInfo {
            source: source.describe(),
            samples: raw.train.as_ref().map_or(0, RawSplit::len) + raw.test.len(),
            classes: classes.len(),
        };
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        let mut notes = vec![source.describe()];
        let mut take = |split: &RawSplit, what: &str| -> Result<std::ops::Range<usize>> {
            let kept = balance(&split.labels, self.balance, self.seed);
            let start = labels.len();
            for &i in &kept {
                let raw_label = split.labels[i];
                let v = to_vocab.get(&raw_label).copied().ok_or_else(|| {
                    Error::format(
                        &split.labels_path,
                        format!(
                            "{what} sample {i} has label {raw_label}, which the mapping {} does not list",
                            raw.mapping_path.display()
                        ),
                    )
                })?;
                labels.push(v);
            }
            split.gather_upright(&kept, &mut pixels);
            if self.balance != Balance::None {
                notes.push(format!(
                    "{what}: kept {} of {} samples after {:?} class balancing",
                    kept.len(),
                    split.len(),
                    self.balance
                ));
            }
            Ok(start..labels.len())
        };
        let (train, val, test) = match &raw.train {
            Some(train_split) => {
                let trainval: Vec<usize> = take(train_split, "official train")?.collect();
                let test: Vec<usize> = take(&raw.test, "official test")?.collect();
                let (train, val) = random_split(&trainval, self.train_frac, self.seed);
                (train, val, test)
            }
            None => {
                let pool_idx: Vec<usize> =
                    take(&raw.test, "official test (the whole pool)")?.collect();
                let (test, mut rest) = random_split(
                    &pool_idx,
                    self.carve_test_frac,
                    derive_seed(self.seed, &[1]),
                );
                rest.sort_unstable();
                let (train, val) = random_split(&rest, self.train_frac, self.seed);
                notes.push(format!(
                    "no official EMNIST train split: train/val/test carved from the official test split \
                     (seed {}): test {:.0}%, the rest split {:.0}/{:.0} into train/val",
                    self.seed,
                    self.carve_test_frac * 100.0,
                    self.train_frac * 100.0,
                    (1.0 - self.train_frac) * 100.0
                ));
                (train, val, test)
            }
        };
        drop(raw);
        let glyphs = Arc::new(ImageSet::new(GLYPH, GLYPH, pixels, labels)?);
        for (name, split) in [("train", &train), ("val", &val), ("test", &test)] {
            if split.is_empty() {
                return Err(Error::invalid(
                    "emnist",
                    format!(
                        "the {name} split is empty ({} samples kept in total)",
                        glyphs.len()
                    ),
                ));
            }
        }
        Ok(EmnistData {
            glyphs,
            train,
            val,
            test,
            pool,
            notes,
        })
    }
}

/// EMNIST label → vocabulary index, checking every mapping entry's character
/// against [`Vocabulary::emnist`] (label `i` must be symbol `i + 4`).
fn label_table(mapping: &[MappingEntry], path: &Path) -> Result<HashMap<u32, u32>> {
    let vocab = Vocabulary::emnist();
    let offset = SPECIAL_TOKENS.len() as u32;
    mapping
        .iter()
        .map(|e| {
            let want = e.index + offset;
            match vocab.char_index(e.ch) {
                Some(v) if v == want => Ok((e.index, v)),
                _ => Err(Error::format(
                    path,
                    format!(
                        "mapping entry {} is {:?}, but vocabulary index {want} (label + {offset} special tokens) is {:?}",
                        e.index,
                        e.ch,
                        vocab.symbol(want).unwrap_or("nothing")
                    ),
                )),
            }
        })
        .collect()
}

impl super::registry::DatasetKind for EmnistConfig {
    fn build(&self, dir: &DataDir) -> Result<DataModule> {
        EmnistConfig::build(self, dir)
    }
}
