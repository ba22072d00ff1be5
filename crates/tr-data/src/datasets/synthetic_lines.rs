//! Stored synthetic lines (images, padded labels, texts) and the
//! [`Dataset`] serving them, optionally augmented on the fly.

use std::sync::Arc;

use image::GrayImage;

use super::{Dataset, Sample, Target};
use crate::augment::LineAugmentation;
use crate::error::{Error, Result};
use crate::seeding::rng_for;

/// The lines of one split: `n` images of `height × width` bytes inside a
/// shared buffer (a freshly generated block or a whole cache file), labels
/// `n × label_len`, and the texts.
#[derive(Clone, Debug)]
pub struct LineSplit {
    buf: Arc<Vec<u8>>,
    offset: usize,
    height: usize,
    width: usize,
    labels: Vec<u32>,
    label_len: usize,
    texts: Vec<String>,
}

impl LineSplit {
    /// Wraps images at `buf[offset..]`, checking every size.
    pub fn new(
        buf: Arc<Vec<u8>>,
        offset: usize,
        (height, width): (usize, usize),
        labels: Vec<u32>,
        label_len: usize,
        texts: Vec<String>,
    ) -> Result<Self> {
        let n = texts.len();
        let need = offset + n * height * width;
        if buf.len() < need || labels.len() != n * label_len {
            return Err(Error::invalid(
                "synthetic lines",
                format!(
                    "{n} lines of {height}×{width} with {label_len} labels need {need} image bytes and {} labels, found {} and {}",
                    n * label_len,
                    buf.len(),
                    labels.len()
                ),
            ));
        }
        Ok(Self {
            buf,
            offset,
            height,
            width,
            labels,
            label_len,
            texts,
        })
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// True when there are no lines.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// `(height, width)` of every image.
    pub fn image_size(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    /// All images, `len × height × width` bytes.
    pub fn images(&self) -> &[u8] {
        &self.buf[self.offset..self.offset + self.len() * self.height * self.width]
    }

    /// The bytes of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.height * self.width;
        &self.images()[i * n..(i + 1) * n]
    }

    /// All labels, `len × label_len`.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Labels per line (padded target length).
    pub fn label_len(&self) -> usize {
        self.label_len
    }

    /// The text of every line.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }
}

/// A [`Dataset`] over one [`LineSplit`]; with an augmentation, `get`
/// augments with a generator seeded by `aug_seed` (deterministic per call).
#[derive(Clone, Debug)]
pub struct LineDataset {
    lines: LineSplit,
    augment: Option<LineAugmentation>,
}

impl LineDataset {
    /// Serves `lines`, augmented with `augment` when given.
    pub fn new(lines: LineSplit, augment: Option<LineAugmentation>) -> Self {
        Self { lines, augment }
    }
}

impl Dataset for LineDataset {
    fn len(&self) -> usize {
        self.lines.len()
    }

    fn get(&self, index: usize, aug_seed: u64) -> Result<Sample> {
        if index >= self.lines.len() {
            return Err(Error::invalid(
                "sample index",
                format!(
                    "{index} is out of range for a dataset of {} lines",
                    self.lines.len()
                ),
            ));
        }
        let (h, w) = self.lines.image_size();
        let image = GrayImage::from_raw(w as u32, h as u32, self.lines.image(index).to_vec())
            .expect("slice length is height × width");
        let image = match &self.augment {
            Some(aug) => aug.apply(&image, &mut rng_for(aug_seed, &[index as u64])),
            None => image,
        };
        Ok(Sample {
            image,
            target: self.target(index)?,
        })
    }

    fn target(&self, index: usize) -> Result<Target> {
        let l = self.lines.label_len;
        let labels = self
            .lines
            .labels
            .get(index * l..(index + 1) * l)
            .ok_or_else(|| {
                Error::invalid(
                    "sample index",
                    format!(
                        "{index} is out of range for a dataset of {} lines",
                        self.lines.len()
                    ),
                )
            })?;
        Ok(Target::Sequence(labels.to_vec()))
    }
}
