//! `fake-images`: random images and labels for smoke tests (the course's
//! `FakeImageData`: 512 samples of 1×28×28, 10 classes, a quarter each for
//! val and test).
//!
//! Every sample is drawn from its own generator `rng_for(seed, [index])`, so
//! nothing is stored. Class targets by default; with `target: sequence` each
//! sample gets a random text of the first `num_classes` characters of
//! [`Vocabulary::emnist`], encoded `<S>` … `<E>` and padded to `sequence_length`.

use std::sync::Arc;

use image::GrayImage;
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

use super::{DataModule, Dataset, Sample, Target, TargetKind};
use crate::error::{Error, Result};
use crate::seeding::rng_for;
use crate::vocab::{emnist_chars, Vocabulary, IAM_EXTRA_CHARS, SPECIAL_TOKENS};

/// Which targets fake samples carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FakeTarget {
    #[default]
    Class,
    Sequence,
}

/// Settings of `fake-images` (defaults = the course's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FakeImagesConfig {
    /// Samples over all splits (val and test get a quarter each).
    pub num_samples: usize,
    pub image_height: usize,
    pub image_width: usize,
    /// Classes (class targets) or distinct characters (sequence targets).
    pub num_classes: usize,
    /// Class or sequence targets.
    pub target: FakeTarget,
    /// Padded label length of sequence targets (at least 3: `<S>`, one character, `<E>`).
    pub sequence_length: usize,
    pub seed: u64,
}

impl Default for FakeImagesConfig {
    fn default() -> Self {
        Self {
            num_samples: 512,
            image_height: 28,
            image_width: 28,
            num_classes: 10,
            target: FakeTarget::Class,
            sequence_length: 16,
            seed: 42,
        }
    }
}

/// The printable symbols fake classes are named after.
fn class_names(n: usize) -> Vocabulary {
    let printable: Vec<char> = emnist_chars().chain(IAM_EXTRA_CHARS.chars()).collect();
    let symbols = (0..n).map(|i| match printable.get(i) {
        Some(c) => c.to_string(),
        // Beyond the 79 printable symbols: private-use characters.
        None => char::from_u32(0xE000 + i as u32)
            .unwrap_or('\u{E000}')
            .to_string(),
    });
    Vocabulary::from_symbols(symbols).expect("fake class names are distinct single characters")
}

impl FakeImagesConfig {
    /// Builds the data module.
    pub fn build(&self) -> Result<DataModule> {
        let max_classes = match self.target {
            FakeTarget::Class => 6_000,
            FakeTarget::Sequence => Vocabulary::emnist().len() - SPECIAL_TOKENS.len(),
        };
        if self.num_classes == 0 || self.num_classes > max_classes {
            return Err(Error::invalid(
                "fake-images.num_classes",
                format!("{} is not between 1 and {max_classes}", self.num_classes),
            ));
        }
        if self.image_height == 0 || self.image_width == 0 {
            return Err(Error::invalid(
                "fake-images.image_height/image_width",
                "must be at least 1",
            ));
        }
        if self.target == FakeTarget::Sequence && self.sequence_length < 3 {
            return Err(Error::invalid(
                "fake-images.sequence_length",
                format!("{} is below 3", self.sequence_length),
            ));
        }
        let val = self.num_samples / 4;
        let train = self.num_samples - 2 * val;
        if train == 0 || val == 0 {
            return Err(Error::invalid(
                "fake-images.num_samples",
                format!(
                    "{} is too few for three non-empty splits (need at least 4)",
                    self.num_samples
                ),
            ));
        }
        let (vocab, kind, output_len) = match self.target {
            FakeTarget::Class => (class_names(self.num_classes), TargetKind::Class, None),
            FakeTarget::Sequence => (
                Vocabulary::emnist(),
                TargetKind::Sequence,
                Some(self.sequence_length),
            ),
        };
        let split = |start: usize, len: usize| -> Arc<dyn Dataset> {
            Arc::new(FakeDataset {
                cfg: self.clone(),
                vocab: vocab.clone(),
                start,
                len,
            })
        };
        Ok(DataModule {
            name: "fake-images".to_string(),
            vocab: vocab.clone(),
            input_shape: [1, self.image_height, self.image_width],
            target_kind: kind,
            output_len,
            train: split(0, train),
            val: split(train, val),
            test: split(train + val, val),
            notes: vec![format!("random images and labels (seed {})", self.seed)],
            pool: None,
            crops: None,
        })
    }
}

/// Samples `start .. start + len` of the fake stream.
struct FakeDataset {
    cfg: FakeImagesConfig,
    vocab: Vocabulary,
    start: usize,
    len: usize,
}

impl Dataset for FakeDataset {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize, _aug_seed: u64) -> Result<Sample> {
        if index >= self.len {
            return Err(Error::invalid(
                "sample index",
                format!(
                    "{index} is out of range for a dataset of {} samples",
                    self.len
                ),
            ));
        }
        let cfg = &self.cfg;
        let mut rng = rng_for(cfg.seed, &[(self.start + index) as u64]);
        let mut pixels = vec![0u8; cfg.image_height * cfg.image_width];
        rng.fill_bytes(&mut pixels);
        let image = GrayImage::from_raw(cfg.image_width as u32, cfg.image_height as u32, pixels)
            .expect("buffer matches the image size");
        let target = match cfg.target {
            FakeTarget::Class => Target::Class(rng.random_range(0..cfg.num_classes as u32)),
            FakeTarget::Sequence => {
                let len = rng.random_range(1..=cfg.sequence_length - 2);
                let first = SPECIAL_TOKENS.len() as u32;
                let text: String = (0..len)
                    .map(|_| {
                        let idx = first + rng.random_range(0..cfg.num_classes as u32);
                        self.vocab
                            .symbol(idx)
                            .and_then(|s| s.chars().next())
                            .unwrap_or(' ')
                    })
                    .collect();
                Target::Sequence(self.vocab.encode_padded(&text, cfg.sequence_length, true)?)
            }
        };
        Ok(Sample { image, target })
    }
}

impl super::registry::DatasetKind for FakeImagesConfig {
    fn build(&self, _dir: &crate::paths::DataDir) -> Result<DataModule> {
        FakeImagesConfig::build(self)
    }
}
