//! Real crops served as samples of one fixed size, and the data module
//! around them — shared by `page-lines`, `page-paragraphs` and the IAM
//! datasets.
//!
//! A model takes images of one size, real crops have their own. Each crop
//! is placed at the top left of a `width × height` canvas of paper (0):
//! a crop of the canvas height that is too wide is squeezed horizontally to
//! the canvas width (lines: the text keeps its height, which the model's
//! receptive field is tuned to); any other crop that does not fit is scaled
//! down keeping its aspect (paragraphs). How many crops needed that is
//! reported per split ([`SplitCrops::over_width`]).
//!
//! Training crops are augmented on the fly ([`RealLineAugmentation`],
//! seeded per sample); validation and test crops never are.
//!
//! [`TextSettings`] turn the extracted texts into labels: normalisation
//! ([`super::text_norm`]), the vocabulary (from the training texts unless
//! fixed) and the label length (the longest label of any split unless
//! fixed); [`build_module`] does it and reports everything in a
//! [`CropReport`] that `htr data stats` prints.

use std::sync::Arc;

use image::GrayImage;
use serde::{Deserialize, Serialize};

use super::line_store::{LineSet, LineStore};
use super::page_source::ExtractionReport;
use super::text_norm::TextNormalization;
use super::text_vocab::{encode_split, vocabulary_from_texts, LabelPolicy, UnknownChars};
use super::{DataModule, Dataset, Sample, Target, TargetKind};
use crate::augment::RealLineAugmentation;
use crate::error::{Error, Result};
use crate::layout::resize::resize_triangle;
use crate::vocab::Vocabulary;

/// How line texts become labels (the `data.` keys every real dataset shares).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextSettings {
    /// Unicode NFC, replacement table, white space.
    pub normalization: TextNormalization,
    /// A fixed list of symbols (special tokens included); default: the four
    /// special tokens and every character of the training texts.
    pub vocabulary: Option<Vec<String>>,
    /// Characters added to a vocabulary built from the texts.
    pub extra_chars: String,
    /// Padded label length; default: the longest label of any split.
    pub output_len: Option<usize>,
    /// Wrap labels in `<S>` … `<E>` (cross-entropy models).
    pub with_start_end_tokens: bool,
    /// Unknown characters and too-long texts are errors instead of counted skips.
    pub strict: bool,
}

/// `(min, 10th percentile, median, 90th percentile, max)` of some sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantiles {
    pub min: u32,
    pub p10: u32,
    pub median: u32,
    pub p90: u32,
    pub max: u32,
}

impl Quantiles {
    /// Of `values` (all zero when empty).
    pub fn of(mut values: Vec<u32>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_unstable();
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        Self {
            min: values[0],
            p10: at(0.1),
            median: at(0.5),
            p90: at(0.9),
            max: values[values.len() - 1],
        }
    }
}

impl std::fmt::Display for Quantiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "min {} · p10 {} · median {} · p90 {} · max {}",
            self.min, self.p10, self.median, self.p90, self.max
        )
    }
}

/// One split of real crops as the data module sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitCrops {
    pub split: String,
    /// Pages that gave crops.
    pub pages: usize,
    /// Crops kept (= samples).
    pub lines: usize,
    /// Characters of their normalised texts.
    pub chars: usize,
    /// Crop widths and heights in pixels, before fitting to the canvas.
    pub width: Quantiles,
    pub height: Quantiles,
    /// Crops larger than the canvas (squeezed or scaled down).
    pub over_width: usize,
    /// Characters the vocabulary lacks (left out of the labels).
    pub unknown: UnknownChars,
    /// Crops left out: labels longer than the label length.
    pub too_long: usize,
}

/// What a real dataset is made of, for `htr data stats`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CropReport {
    /// Canvas `(width, height)` every sample is placed on.
    pub canvas: (u32, u32),
    pub splits: Vec<SplitCrops>,
    pub extraction: ExtractionReport,
    /// Texts the normalisation changed.
    pub normalised: usize,
}

/// A split of real crops served on a fixed canvas.
#[derive(Clone, Debug)]
pub struct CropDataset {
    set: LineSet,
    labels: Vec<u32>,
    label_len: usize,
    canvas: (u32, u32),
    augment: Option<RealLineAugmentation>,
}

impl CropDataset {
    /// Serves `set` (whose `i`-th crop has labels `labels[i*label_len..]`) on a `canvas`.
    pub fn new(
        set: LineSet,
        labels: Vec<u32>,
        label_len: usize,
        canvas: (u32, u32),
    ) -> Result<Self> {
        if labels.len() != set.len() * label_len {
            return Err(Error::invalid(
                "crop labels",
                format!(
                    "{} labels for {} crops of label length {label_len}",
                    labels.len(),
                    set.len()
                ),
            ));
        }
        Ok(Self {
            set,
            labels,
            label_len,
            canvas,
            augment: None,
        })
    }

    /// Augments every crop (before it is fitted to the canvas) with a
    /// generator seeded by the sample's `aug_seed` and index.
    pub fn with_augmentation(mut self, augment: RealLineAugmentation) -> Self {
        self.augment = (!augment.is_none()).then_some(augment);
        self
    }

    fn out_of_range(&self, index: usize) -> Error {
        Error::invalid(
            "sample index",
            format!(
                "{index} is out of range for a dataset of {} crops",
                self.set.len()
            ),
        )
    }
}

/// `crop` at the top left of a `canvas` of zeros (see the module docs).
pub fn fit_to_canvas(crop: &GrayImage, (cw, ch): (u32, u32)) -> GrayImage {
    let (w, h) = crop.dimensions();
    let fitted;
    let src = if w <= cw && h <= ch {
        crop
    } else {
        let (nw, nh) = if h == ch {
            (cw, ch)
        } else {
            let s = (f64::from(cw) / f64::from(w)).min(f64::from(ch) / f64::from(h));
            (
                ((f64::from(w) * s).round() as u32).clamp(1, cw),
                ((f64::from(h) * s).round() as u32).clamp(1, ch),
            )
        };
        fitted = resize_triangle(crop, nw, nh);
        &fitted
    };
    let mut out = GrayImage::new(cw, ch);
    let (sw, sh) = src.dimensions();
    let (ow, sw, sh) = (cw as usize, sw as usize, sh as usize);
    let raw = src.as_raw();
    let dst: &mut [u8] = &mut out;
    for y in 0..sh {
        dst[y * ow..y * ow + sw].copy_from_slice(&raw[y * sw..(y + 1) * sw]);
    }
    out
}

impl Dataset for CropDataset {
    fn len(&self) -> usize {
        self.set.len()
    }

    fn get(&self, index: usize, aug_seed: u64) -> Result<Sample> {
        let mut crop = self
            .set
            .image(index)
            .ok_or_else(|| self.out_of_range(index))?;
        if let Some(aug) = &self.augment {
            crop = aug.apply_seeded(&crop, aug_seed, index);
        }
        Ok(Sample {
            image: fit_to_canvas(&crop, self.canvas),
            target: self.target(index)?,
        })
    }

    fn target(&self, index: usize) -> Result<Target> {
        let l = self.label_len;
        let labels = self
            .labels
            .get(index * l..(index + 1) * l)
            .ok_or_else(|| self.out_of_range(index))?;
        Ok(Target::Sequence(labels.to_vec()))
    }
}

/// What [`build_module`] needs besides the crops.
pub struct ModuleSpec<'a> {
    /// Registry name.
    pub name: &'a str,
    pub text: &'a TextSettings,
    /// `(width, height)` of every sample.
    pub canvas: (u32, u32),
    /// Paragraph texts: `\n` joins lines and belongs to the vocabulary.
    pub paragraphs: bool,
    /// Augmentation of the training crops.
    pub augment: &'a RealLineAugmentation,
    pub notes: Vec<String>,
}

/// Normalises the texts, builds or checks the vocabulary, encodes the labels
/// and assembles the data module with its [`CropReport`].
pub fn build_module(
    mut store: LineStore<ExtractionReport>,
    spec: ModuleSpec<'_>,
) -> Result<DataModule> {
    spec.augment.validate("data.augment")?;
    let norm = &spec.text.normalization;
    let mut normalised = 0;
    for set in [&mut store.train, &mut store.val, &mut store.test] {
        normalised += set.normalise_texts(|t| normalise_keeping_lines(norm, t));
    }
    if store.train.is_empty() {
        return Err(Error::invalid(
            spec.name,
            "the training split has no crops (check the roots, the split files and the filters)",
        ));
    }
    let vocab = match &spec.text.vocabulary {
        Some(symbols) => Vocabulary::from_symbols(symbols.clone())?,
        None => vocabulary_from_texts(
            store.train.texts().iter().map(String::as_str),
            &spec.text.extra_chars,
            spec.paragraphs,
        )?,
    };
    let extra = if spec.text.with_start_end_tokens {
        2
    } else {
        0
    };
    let label_len = spec.text.output_len.unwrap_or_else(|| {
        [&store.train, &store.val, &store.test]
            .iter()
            .flat_map(|s| s.texts().iter().map(|t| t.chars().count()))
            .max()
            .unwrap_or(0)
            + extra
    });
    let policy = LabelPolicy {
        label_len,
        with_start_end: spec.text.with_start_end_tokens,
        strict: spec.text.strict,
    };
    let mut report = CropReport {
        canvas: spec.canvas,
        splits: Vec::new(),
        extraction: store.report.clone(),
        normalised,
    };
    let mut datasets = Vec::with_capacity(3);
    for (i, (split, set)) in [
        ("train", store.train),
        ("val", store.val),
        ("test", store.test),
    ]
    .into_iter()
    .enumerate()
    {
        let enc = encode_split(split, set.texts(), set.sources(), &vocab, policy)?;
        let mut set = set;
        let mut keep = vec![false; set.len()];
        for &k in &enc.kept {
            keep[k] = true;
        }
        set.retain(|i| keep[i]);
        let (cw, ch) = spec.canvas;
        report.splits.push(SplitCrops {
            split: split.to_string(),
            pages: report.extraction.pages[i],
            lines: set.len(),
            chars: set.texts().iter().map(|t| t.chars().count()).sum(),
            width: Quantiles::of(set.sizes().iter().map(|s| s.0).collect()),
            height: Quantiles::of(set.sizes().iter().map(|s| s.1).collect()),
            over_width: set.sizes().iter().filter(|s| s.0 > cw || s.1 > ch).count(),
            unknown: enc.unknown,
            too_long: enc.too_long,
        });
        let ds = CropDataset::new(set, enc.labels, label_len, spec.canvas)?;
        datasets.push(Arc::new(if i == 0 {
            ds.with_augmentation(spec.augment.clone())
        } else {
            ds
        }));
    }
    let mut notes = spec.notes;
    notes.push(format!(
        "vocabulary: {} symbols ({}); label length {label_len}",
        vocab.len(),
        if spec.text.vocabulary.is_some() {
            "fixed by the config"
        } else {
            "from the training texts"
        }
    ));
    let test = datasets
        .pop()
        .ok_or_else(|| Error::invalid(spec.name, "no test split"))?;
    let val = datasets
        .pop()
        .ok_or_else(|| Error::invalid(spec.name, "no val split"))?;
    let train = datasets
        .pop()
        .ok_or_else(|| Error::invalid(spec.name, "no train split"))?;
    Ok(DataModule {
        name: spec.name.to_string(),
        vocab,
        input_shape: [1, spec.canvas.1 as usize, spec.canvas.0 as usize],
        target_kind: TargetKind::Sequence,
        output_len: Some(label_len),
        train,
        val,
        test,
        notes,
        pool: None,
        crops: Some(Arc::new(report)),
    })
}

/// Normalises each line of a (paragraph) text on its own, keeping the `\n`s.
fn normalise_keeping_lines(norm: &TextNormalization, text: &str) -> String {
    text.split('\n')
        .map(|l| norm.apply(l))
        .collect::<Vec<_>>()
        .join("\n")
}
