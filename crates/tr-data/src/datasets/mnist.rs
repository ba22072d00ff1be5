//! `mnist`: handwritten digits, 1×28×28, class targets `0`–`9`.
//!
//! As the course: the official 60,000 training images are split (seeded)
//! into 55,000 train / `val_size` = 5,000 val, and the official 10,000
//! `t10k` images are the test set. When only `t10k` is present (as in a
//! test-only copy), train/val/test are carved from it (seeded:
//! `carve_test_frac`, `carve_val_frac`, the rest train) and the data
//! module's notes say so. Files (plain or gzip):
//! `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` under `mnist`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::image_set::{ImageClassDataset, ImageSet};
use super::split::random_split_n;
use super::{DataModule, Dataset, PoolInfo, TargetKind};
use crate::error::{Error, Result};
use crate::paths::DataDir;
use crate::readers::read_idx;
use crate::seeding::derive_seed;
use crate::vocab::Vocabulary;

const DATASET: &str = "mnist";

/// Settings of the `mnist` dataset (defaults = the course's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MnistConfig {
    /// Validation samples taken from the official training split (course: 5,000 of 60,000).
    pub val_size: usize,
    /// Seed of the splits.
    pub seed: u64,
    /// Only without the official train split: fraction of `t10k` carved out as test.
    pub carve_test_frac: f64,
    /// Only without the official train split: fraction of `t10k` carved out as validation.
    pub carve_val_frac: f64,
}

impl Default for MnistConfig {
    fn default() -> Self {
        Self {
            val_size: 5000,
            seed: 42,
            carve_test_frac: 0.2,
            carve_val_frac: 0.1,
        }
    }
}

impl MnistConfig {
    /// Builds the `mnist` data module.
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        let fracs = self.carve_test_frac + self.carve_val_frac;
        for (field, v) in [
            ("mnist.carve_test_frac", self.carve_test_frac),
            ("mnist.carve_val_frac", self.carve_val_frac),
        ] {
            if !(v > 0.0 && v < 1.0) || fracs >= 1.0 {
                return Err(Error::invalid(
                    field,
                    format!("{v}: carve fractions must be in (0, 1) and sum to less than 1"),
                ));
            }
        }
        let find = |base: &str| {
            dir.find(DATASET, &format!("{base}.gz"))
                .or_else(|| dir.find(DATASET, base))
        };
        let test_files = (
            find("t10k-images-idx3-ubyte"),
            find("t10k-labels-idx1-ubyte"),
        );
        let (Some(test_images), Some(test_labels)) = test_files else {
            return Err(dir.missing(
                DATASET,
                &["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
            ));
        };
        let train_files = match (
            find("train-images-idx3-ubyte"),
            find("train-labels-idx1-ubyte"),
        ) {
            (Some(i), Some(l)) => Some((i, l)),
            _ => None,
        };
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        let test_n = read_digits(&test_images, &test_labels, &mut pixels, &mut labels)?;
        let mut notes = Vec::new();
        let (train, val, test, pool_source) = match train_files {
            Some((ti, tl)) => {
                let train_n = read_digits(&ti, &tl, &mut pixels, &mut labels)?;
                if self.val_size == 0 || self.val_size >= train_n {
                    return Err(Error::invalid(
                        "mnist.val_size",
                        format!(
                            "{} must be between 1 and the {train_n} training images",
                            self.val_size
                        ),
                    ));
                }
                let pool: Vec<usize> = (test_n..test_n + train_n).collect();
                let (val, train) = random_split_n(&pool, self.val_size, self.seed);
                notes.push(format!("official MNIST train ({train_n}) split seeded into train/val, official t10k as test"));
                (
                    train,
                    val,
                    (0..test_n).collect(),
                    "MNIST official train + t10k",
                )
            }
            None => {
                let pool: Vec<usize> = (0..test_n).collect();
                let n_test = (self.carve_test_frac * test_n as f64).round() as usize;
                let n_val = (self.carve_val_frac * test_n as f64).round() as usize;
                let (test, rest) = random_split_n(&pool, n_test, derive_seed(self.seed, &[1]));
                let (val, train) = random_split_n(&rest, n_val, self.seed);
                notes.push(format!(
                    "no official MNIST train split: train/val/test carved from t10k (seed {}): {} / {} / {}",
                    self.seed,
                    train.len(),
                    val.len(),
                    test.len()
                ));
                (train, val, test, "MNIST t10k only")
            }
        };
        let classes = {
            let mut seen = [false; 10];
            labels.iter().for_each(|&l| seen[l as usize] = true);
            seen.iter().filter(|&&s| s).count()
        };
        let pool = PoolInfo {
            source: pool_source.to_string(),
            samples: labels.len(),
            classes,
        };
        let set = Arc::new(ImageSet::new(28, 28, pixels, labels)?);
        let split = |idx: Vec<usize>| -> Result<Arc<dyn Dataset>> {
            Ok(Arc::new(ImageClassDataset::new(set.clone(), idx)?))
        };
        Ok(DataModule {
            name: DATASET.to_string(),
            vocab: Vocabulary::digits(),
            input_shape: [1, 28, 28],
            target_kind: TargetKind::Class,
            output_len: None,
            train: split(train)?,
            val: split(val)?,
            test: split(test)?,
            notes,
            pool: Some(pool),
            crops: None,
        })
    }
}

/// Appends one idx image/label pair to `pixels`/`labels`; returns the sample count.
fn read_digits(
    images: &PathBuf,
    labels_path: &Path,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<u32>,
) -> Result<usize> {
    let img = read_idx(images)?;
    if img.dims.len() != 3 || img.dims[1] != 28 || img.dims[2] != 28 {
        return Err(Error::format(
            images,
            format!("expected images of shape [N, 28, 28], found {:?}", img.dims),
        ));
    }
    let lab = read_idx(labels_path)?;
    if lab.dims != [img.dims[0]] {
        return Err(Error::format(
            labels_path,
            format!(
                "expected {} labels to match {}, found shape {:?}",
                img.dims[0],
                images.display(),
                lab.dims
            ),
        ));
    }
    if let Some((i, l)) = lab.data.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(Error::format(
            labels_path,
            format!("sample {i} has label {l}: expected a digit 0-9"),
        ));
    }
    pixels.extend_from_slice(&img.data);
    labels.extend(lab.data.iter().map(|&l| u32::from(l)));
    Ok(img.dims[0])
}

impl super::registry::DatasetKind for MnistConfig {
    fn build(&self, dir: &DataDir) -> Result<DataModule> {
        MnistConfig::build(self, dir)
    }
}
