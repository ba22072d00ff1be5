//! Collation: a list of samples → one [`Batch`] of tensors.
//!
//! Every image of a batch must have the same size and every target the same
//! kind (and, for sequences, the same length); a sample that breaks this is
//! named by its dataset index.

use candle_core::{Device, Tensor};

use crate::datasets::{Dataset, Sample, Target};
use crate::error::{Error, Result};
use crate::image_tensor::images_to_tensor;

/// One batch of samples, ready for a model.
#[derive(Clone, Debug)]
pub struct Batch {
    /// `(B, 1, H, W)` `f32` images in `[0, 1]`, ink bright on black.
    pub images: Tensor,
    /// `(B,)` `u32` class indices, or `(B, L)` `u32` padded label sequences.
    pub targets: Tensor,
    /// Dataset index of every row, in row order.
    pub indices: Vec<usize>,
    /// Epoch this batch belongs to.
    pub epoch: u64,
    /// Position of this batch within its epoch (0-based; a resumed epoch
    /// keeps the positions of the full epoch).
    pub batch_index: usize,
}

impl Batch {
    /// Number of samples (rows).
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// True for a batch without samples (never produced by the loader).
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// Loads the samples `indices` of `dataset` (each with its own `aug_seed`)
/// and stacks them into a [`Batch`] on `device`.
pub(crate) fn load_batch(
    dataset: &dyn Dataset,
    indices: &[usize],
    aug_seed: impl Fn(usize) -> u64,
    device: &Device,
    epoch: u64,
    batch_index: usize,
) -> Result<Batch> {
    let samples = indices
        .iter()
        .map(|&i| {
            dataset.get(i, aug_seed(i)).map_err(|source| Error::Sample {
                index: i,
                source: Box::new(source),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (images, targets) = collate(&samples, indices, device)?;
    Ok(Batch {
        images,
        targets,
        indices: indices.to_vec(),
        epoch,
        batch_index,
    })
}

/// Stacks samples into `(images, targets)` tensors; `indices` name the
/// samples in errors.
pub(crate) fn collate(
    samples: &[Sample],
    indices: &[usize],
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let first = samples
        .first()
        .ok_or_else(|| Error::invalid("batch", "cannot collate zero samples"))?;
    let size = first.image.dimensions();
    for (s, &i) in samples.iter().zip(indices) {
        if s.image.dimensions() != size {
            return Err(Error::Sample {
                index: i,
                source: Box::new(Error::invalid(
                    "image size",
                    format!(
                        "{}x{} (HxW) but sample {} of the same batch is {}x{}",
                        s.image.height(),
                        s.image.width(),
                        indices[0],
                        size.1,
                        size.0
                    ),
                )),
            });
        }
    }
    let images: Vec<&image::GrayImage> = samples.iter().map(|s| &s.image).collect();
    let images = images_to_tensor(&images, device)?;
    let targets = match &first.target {
        Target::Class(_) => {
            let classes = samples
                .iter()
                .zip(indices)
                .map(|(s, &i)| match s.target {
                    Target::Class(c) => Ok(c),
                    Target::Sequence(_) => {
                        Err(kind_mismatch(i, "a sequence", "a class", indices[0]))
                    }
                })
                .collect::<Result<Vec<u32>>>()?;
            Tensor::from_vec(classes, samples.len(), device)?
        }
        Target::Sequence(seq0) => {
            let len = seq0.len();
            let mut flat = Vec::with_capacity(samples.len() * len);
            for (s, &i) in samples.iter().zip(indices) {
                match &s.target {
                    Target::Sequence(seq) if seq.len() == len => flat.extend_from_slice(seq),
                    Target::Sequence(seq) => {
                        return Err(Error::Sample {
                            index: i,
                            source: Box::new(Error::invalid(
                                "target length",
                                format!(
                                    "{} labels but sample {} of the same batch has {len}",
                                    seq.len(),
                                    indices[0]
                                ),
                            )),
                        })
                    }
                    Target::Class(_) => {
                        return Err(kind_mismatch(i, "a class", "a sequence", indices[0]))
                    }
                }
            }
            Tensor::from_vec(flat, (samples.len(), len), device)?
        }
    };
    Ok((images, targets))
}

fn kind_mismatch(index: usize, found: &str, expected: &str, first: usize) -> Error {
    Error::Sample {
        index,
        source: Box::new(Error::invalid(
            "target",
            format!("{found} target but sample {first} of the same batch has {expected} target"),
        )),
    }
}
