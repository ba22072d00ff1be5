//! `synthetic-paragraphs`: paragraphs made by stacking random lines of any
//! line dataset — the course's `IAMSyntheticParagraphs`, generalised (IAM
//! lines, `page-lines`, `font-lines`, EMNIST lines, a `mixture`…).
//!
//! Paragraph `i` of a split draws its line count `k ∈ [min_lines,
//! max_lines]` and `k` lines of the same split of the line dataset from
//! `rng_for(seed, [split, i])`; each line image is trimmed of its empty
//! right margin and placed below the previous one (`line_gap` pixels apart)
//! at the top left of a `width × max_lines·(H + gap)` canvas; the texts are
//! joined by `\n`. The line dataset's own augmentation applies to each line
//! with a seed derived from the paragraph's, so augmented paragraphs change
//! from epoch to epoch while staying deterministic. Nothing is cached: a
//! paragraph is a few memory copies of cached lines.

use std::sync::Arc;

use image::GrayImage;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::registry::DatasetConfig;
use super::{DataModule, Dataset, EmnistLinesConfig, Sample, Target, TargetKind};
use crate::error::{Error, Result};
use crate::paths::DataDir;
use crate::seeding::{derive_seed, rng_for, Stream};
use crate::vocab::Vocabulary;

/// Settings of `synthetic-paragraphs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticParagraphsConfig {
    /// The line dataset, as its own `data:` section would read.
    pub lines: Box<DatasetConfig>,
    pub min_lines: usize,
    pub max_lines: usize,
    /// Vertical gap between lines in pixels.
    pub line_gap: u32,
    /// Canvas width; default: the line dataset's width.
    pub width: Option<u32>,
    pub num_train: usize,
    pub num_val: usize,
    pub num_test: usize,
    /// Wrap labels in `<S>` … `<E>`.
    pub with_start_end_tokens: bool,
    pub seed: u64,
}

impl Default for SyntheticParagraphsConfig {
    fn default() -> Self {
        Self {
            lines: Box::new(DatasetConfig::EmnistLines(EmnistLinesConfig::default())),
            min_lines: 1,
            max_lines: 8,
            line_gap: 0,
            width: None,
            num_train: 2_000,
            num_val: 200,
            num_test: 200,
            with_start_end_tokens: false,
            seed: 42,
        }
    }
}

/// One split of stacked paragraphs over one split of lines.
struct Paragraphs {
    lines: Arc<dyn Dataset>,
    line_vocab: Vocabulary,
    vocab: Vocabulary,
    split: u64,
    len: usize,
    range: (usize, usize),
    seed: u64,
    line_height: u32,
    gap: u32,
    canvas: (u32, u32),
    label_len: usize,
    with_start_end: bool,
}

impl Paragraphs {
    /// The line indices of paragraph `index`.
    fn pick(&self, index: usize) -> Vec<usize> {
        let mut rng = rng_for(self.seed, &[self.split, index as u64]);
        let k = rng.random_range(self.range.0..=self.range.1);
        (0..k)
            .map(|_| rng.random_range(0..self.lines.len()))
            .collect()
    }

    fn text(&self, picks: &[usize]) -> Result<String> {
        let texts = picks
            .iter()
            .map(|&i| match self.lines.target(i)? {
                Target::Sequence(l) => self.line_vocab.decode(&l),
                Target::Class(_) => Err(Error::invalid(
                    "synthetic-paragraphs",
                    "lines must have sequence targets",
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(texts.join("\n"))
    }

    fn target_of(&self, text: &str) -> Result<Target> {
        Ok(Target::Sequence(self.vocab.encode_padded(
            text,
            self.label_len,
            self.with_start_end,
        )?))
    }
}

/// Width of `img` without its all-zero right margin (at least 1).
fn content_width(img: &GrayImage) -> u32 {
    let (w, h) = img.dimensions();
    let raw = img.as_raw();
    (0..w)
        .rev()
        .find(|&x| (0..h).any(|y| raw[(y * w + x) as usize] != 0))
        .map_or(1, |x| x + 1)
}

impl Dataset for Paragraphs {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize, aug_seed: u64) -> Result<Sample> {
        if index >= self.len {
            return Err(Error::invalid(
                "sample index",
                format!("{index} is out of range for {} paragraphs", self.len),
            ));
        }
        let picks = self.pick(index);
        let (cw, ch) = self.canvas;
        let mut out = GrayImage::new(cw, ch);
        for (j, &line) in picks.iter().enumerate() {
            let seed = derive_seed(aug_seed, Stream::chain(&[j as u64]));
            let img = self.lines.get(line, seed)?.image;
            let w = content_width(&img).min(cw);
            let y0 = j as u32 * (self.line_height + self.gap);
            let rows = img.height().min(ch.saturating_sub(y0));
            for y in 0..rows {
                for x in 0..w {
                    out.put_pixel(x, y0 + y, *img.get_pixel(x, y));
                }
            }
        }
        Ok(Sample {
            image: out,
            target: self.target_of(&self.text(&picks)?)?,
        })
    }

    fn target(&self, index: usize) -> Result<Target> {
        self.target_of(&self.text(&self.pick(index))?)
    }
}

impl SyntheticParagraphsConfig {
    /// Builds the line dataset and the paragraphs over it.
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        if self.min_lines == 0 || self.min_lines > self.max_lines {
            return Err(Error::invalid(
                "synthetic-paragraphs",
                format!(
                    "need 1 <= min_lines ({}) <= max_lines ({})",
                    self.min_lines, self.max_lines
                ),
            ));
        }
        let lines = self.lines.build(dir)?;
        let (Some(line_len), TargetKind::Sequence) = (lines.output_len, lines.target_kind) else {
            return Err(Error::invalid(
                "synthetic-paragraphs.lines",
                format!(
                    "{} has class targets; paragraphs are stacked from a line dataset",
                    lines.name
                ),
            ));
        };
        let [_, h, w] = lines.input_shape;
        let (h, w) = (h as u32, w as u32);
        let mut symbols = lines.vocab.symbols().to_vec();
        if lines.vocab.char_index('\n').is_none() {
            symbols.push("\n".to_string());
        }
        let vocab = Vocabulary::from_symbols(symbols)?;
        let canvas = (
            self.width.unwrap_or(w),
            self.max_lines as u32 * (h + self.line_gap),
        );
        let label_len = self.max_lines * (line_len + 1) + 1;
        let split = |i: u64, ds: &Arc<dyn Dataset>, n: usize| -> Result<Arc<dyn Dataset>> {
            if ds.is_empty() && n > 0 {
                return Err(Error::invalid(
                    "synthetic-paragraphs",
                    format!("split {i} of {} has no lines to stack", lines.name),
                ));
            }
            Ok(Arc::new(Paragraphs {
                lines: ds.clone(),
                line_vocab: lines.vocab.clone(),
                vocab: vocab.clone(),
                split: i,
                len: n,
                range: (self.min_lines, self.max_lines),
                seed: self.seed,
                line_height: h,
                gap: self.line_gap,
                canvas,
                label_len,
                with_start_end: self.with_start_end_tokens,
            }))
        };
        let mut notes = vec![format!(
            "{}–{} lines of {} per paragraph, {}x{} canvas",
            self.min_lines, self.max_lines, lines.name, canvas.0, canvas.1
        )];
        notes.extend(lines.notes.iter().map(|n| format!("lines: {n}")));
        Ok(DataModule {
            name: "synthetic-paragraphs".to_string(),
            input_shape: [1, canvas.1 as usize, canvas.0 as usize],
            target_kind: TargetKind::Sequence,
            output_len: Some(label_len),
            train: split(0, &lines.train, self.num_train)?,
            val: split(1, &lines.val, self.num_val)?,
            test: split(2, &lines.test, self.num_test)?,
            vocab,
            notes,
            pool: None,
            crops: None,
        })
    }
}

impl super::registry::DatasetKind for SyntheticParagraphsConfig {
    fn build(&self, dir: &DataDir) -> Result<DataModule> {
        SyntheticParagraphsConfig::build(self, dir)
    }
}
