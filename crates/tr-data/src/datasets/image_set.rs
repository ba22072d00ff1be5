//! Equal-sized grey images stored contiguously with one class label each,
//! and the classification [`Dataset`] over a subset of them.

use std::sync::Arc;

use image::GrayImage;

use super::{Dataset, Sample, Target};
use crate::error::{Error, Result};

/// `len` images of `height × width` bytes, row-major, back to back, plus labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSet {
    height: usize,
    width: usize,
    pixels: Vec<u8>,
    labels: Vec<u32>,
}

impl ImageSet {
    /// Wraps `pixels` (`labels.len() × height × width` bytes) and `labels`.
    pub fn new(height: usize, width: usize, pixels: Vec<u8>, labels: Vec<u32>) -> Result<Self> {
        if pixels.len() != labels.len() * height * width {
            return Err(Error::invalid(
                "image set",
                format!(
                    "{} labels of {height}×{width} images need {} pixel bytes, found {}",
                    labels.len(),
                    labels.len() * height * width,
                    pixels.len()
                ),
            ));
        }
        Ok(Self {
            height,
            width,
            pixels,
            labels,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The `height × width` bytes of image `i` (panics when out of range).
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.height * self.width;
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Label of image `i`.
    pub fn label(&self, i: usize) -> u32 {
        self.labels[i]
    }

    /// All labels.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Image `i` as a [`GrayImage`].
    pub fn gray(&self, i: usize) -> GrayImage {
        GrayImage::from_raw(
            self.width as u32,
            self.height as u32,
            self.image(i).to_vec(),
        )
        .expect("slice length is height × width")
    }
}

/// A classification dataset: the images `indices` of a shared [`ImageSet`].
#[derive(Clone, Debug)]
pub struct ImageClassDataset {
    set: Arc<ImageSet>,
    indices: Vec<usize>,
}

impl ImageClassDataset {
    /// The samples `indices` (each `< set.len()`) of `set`, in that order.
    pub fn new(set: Arc<ImageSet>, indices: Vec<usize>) -> Result<Self> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= set.len()) {
            return Err(Error::invalid(
                "dataset indices",
                format!("index {bad} is outside the {} stored images", set.len()),
            ));
        }
        Ok(Self { set, indices })
    }
}

impl Dataset for ImageClassDataset {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn get(&self, index: usize, _aug_seed: u64) -> Result<Sample> {
        let &i = self.indices.get(index).ok_or_else(|| {
            Error::invalid(
                "sample index",
                format!(
                    "{index} is out of range for a dataset of {} samples",
                    self.indices.len()
                ),
            )
        })?;
        Ok(Sample {
            image: self.set.gray(i),
            target: Target::Class(self.set.label(i)),
        })
    }

    fn target(&self, index: usize) -> Result<Target> {
        let &i = self.indices.get(index).ok_or_else(|| {
            Error::invalid(
                "sample index",
                format!(
                    "{index} is out of range for a dataset of {} samples",
                    self.indices.len()
                ),
            )
        })?;
        Ok(Target::Class(self.set.label(i)))
    }
}
