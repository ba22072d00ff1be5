//! Interop with `candle_datasets::vision::Dataset` (feature `candle-datasets`).

use candle_core::{Device, Tensor};

use super::{DataModule, Dataset, Target, TargetKind};
use crate::error::{Error, Result};

impl DataModule {
    /// The train and test splits as a `candle_datasets::vision::Dataset`
    /// (candle has no validation split; ours is left out): images
    /// `(N, H·W)` `f32` in `[0, 1]`, labels `(N,)` `u32`, as candle's MNIST
    /// loader lays them out. Only for classification modules with one channel.
    pub fn to_candle_vision_dataset(&self) -> Result<candle_datasets::vision::Dataset> {
        if self.target_kind != TargetKind::Class {
            return Err(Error::invalid(
                "candle vision dataset",
                format!(
                    "{} has sequence targets; only classification datasets convert",
                    self.name
                ),
            ));
        }
        let (train_images, train_labels) = flatten(self.train.as_ref(), "train")?;
        let (test_images, test_labels) = flatten(self.test.as_ref(), "test")?;
        Ok(candle_datasets::vision::Dataset {
            train_images,
            train_labels,
            test_images,
            test_labels,
            labels: self.vocab.len(),
        })
    }
}

/// All samples of `ds` (unaugmented, `aug_seed` 0) as `(N, H·W)` images and `(N,)` labels.
fn flatten(ds: &dyn Dataset, split: &str) -> Result<(Tensor, Tensor)> {
    let mut pixels = Vec::new();
    let mut labels = Vec::with_capacity(ds.len());
    let mut size = None;
    for i in 0..ds.len() {
        let s = ds.get(i, 0)?;
        let dims = s.image.dimensions();
        if *size.get_or_insert(dims) != dims {
            return Err(Error::invalid(
                format!("{split} sample {i}"),
                format!("image is {dims:?}, the first was {size:?}"),
            ));
        }
        pixels.extend(s.image.as_raw().iter().map(|&p| f32::from(p) / 255.0));
        match s.target {
            Target::Class(c) => labels.push(c),
            Target::Sequence(_) => {
                return Err(Error::invalid(
                    format!("{split} sample {i}"),
                    "has a sequence target",
                ));
            }
        }
    }
    let (w, h) = size.unwrap_or((0, 0));
    let n = labels.len();
    let images = Tensor::from_vec(pixels, (n, (w * h) as usize), &Device::Cpu)?;
    let labels = Tensor::from_vec(labels, n, &Device::Cpu)?;
    Ok((images, labels))
}
