//! `font-lines`: synthetic text lines rendered with handwriting-style fonts —
//! Brown sentences or IAM's `lines.txt` transcriptions drawn with a random
//! font, size, slant, stroke width, baseline jitter, ink and paper noise
//! ([`super::font_render`]), cut to the ink and resized to the line height.
//!
//! ```yaml
//! data:
//!   dataset: font-lines
//!   fonts_dir: ../shared/data/fonts      # .ttf/.otf files
//!   corpus: brown                        # or iam-lines (corpus_path: …/lines.txt)
//!   height: 48
//!   width: 768
//! ```
//!
//! Not handwriting: mixed with real lines (`mixture`) they widen the variety
//! of letter shapes. Every line draws its text, font and style from
//! `rng_for(seed, [split, index])`, so the data do not depend on the number
//! of threads; a text no font covers fully is replaced by another draw
//! (counted). The crops are cached like `page-lines`, keyed by every
//! setting and the digest of every font file and of the corpus.

use std::path::{Path, PathBuf};

use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::font_render::{render_line, Fonts, RenderStyle};
use super::line_recipe::BROWN;
use super::line_store::{LineSet, LineStore, StoreCache};
use super::page_source::{stretch_ink, ExtractionReport};
use super::real_lines::{build_module, ModuleSpec, TextSettings};
use super::DataModule;
use crate::augment::RealLineAugmentation;
use crate::error::{Error, Result};
use crate::layout::resize::resize_triangle;
use crate::paths::DataDir;
use crate::readers::{read_brown_zip, read_iam_lines};
use crate::seeding::rng_for;

/// Version of the rendering rules, part of the cache key.
const RENDER_VERSION: u32 = 2;

/// Where the texts come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Corpus {
    /// The Brown corpus sentences (`cargo xtask download brown`).
    #[default]
    Brown,
    /// The transcriptions of IAM's `ascii/lines.txt` (`corpus_path`).
    IamLines,
}

/// Settings of `font-lines`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FontLinesConfig {
    /// Folder of `.ttf`/`.otf` fonts (relative: to the data directory, then the working directory).
    pub fonts_dir: PathBuf,
    pub corpus: Corpus,
    /// The corpus file: Brown's `brown.zip` (default: the downloaded one) or IAM's `lines.txt`.
    pub corpus_path: Option<PathBuf>,
    /// Characters per line, drawn uniformly (cut at word boundaries).
    pub min_chars: usize,
    pub max_chars: usize,
    pub num_train: usize,
    pub num_val: usize,
    pub num_test: usize,
    /// Crop height and canvas width in pixels.
    pub height: u32,
    pub width: u32,
    pub style: RenderStyle,
    pub seed: u64,
    pub text: TextSettings,
    /// Augmentation of training lines, on top of the rendering style.
    pub augment: RealLineAugmentation,
}

impl Default for FontLinesConfig {
    fn default() -> Self {
        Self {
            fonts_dir: PathBuf::from("fonts"),
            corpus: Corpus::Brown,
            corpus_path: None,
            min_chars: 8,
            max_chars: 60,
            num_train: 10_000,
            num_val: 1_000,
            num_test: 1_000,
            height: 48,
            width: 768,
            style: RenderStyle::default(),
            seed: 42,
            text: TextSettings::default(),
            augment: RealLineAugmentation::course_iam_lines(),
        }
    }
}

/// `p` as given when absolute or present, else under the data directory.
fn resolve(p: &Path, dir: &DataDir) -> PathBuf {
    if p.is_absolute() || p.exists() {
        return p.to_path_buf();
    }
    let under = dir.root().join(p);
    if under.exists() {
        under
    } else {
        p.to_path_buf()
    }
}

fn digest_files<'a>(paths: impl Iterator<Item = &'a Path>) -> Result<String> {
    let mut h = Sha256::new();
    for p in paths {
        let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        h.update(
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(hex::encode(h.finalize()))
}

/// IAM's tokenised words back to running text (`word , word` → `word, word`).
fn detokenize(words: &[String]) -> String {
    let mut s = String::new();
    for w in words {
        let glue = matches!(
            w.as_str(),
            "," | "."
                | ";"
                | ":"
                | "?"
                | "!"
                | ")"
                | "'s"
                | "'t"
                | "'d"
                | "'ll"
                | "'re"
                | "'ve"
                | "'m"
        );
        if !s.is_empty() && !glue && !s.ends_with('(') {
            s.push(' ');
        }
        s.push_str(w);
    }
    s
}

impl FontLinesConfig {
    fn corpus_file(&self, dir: &DataDir) -> Result<PathBuf> {
        match (&self.corpus_path, self.corpus) {
            (Some(p), _) => Ok(resolve(p, dir)),
            (None, Corpus::Brown) => dir.require(BROWN, "brown.zip"),
            (None, Corpus::IamLines) => Err(Error::invalid(
                "data.corpus_path",
                "corpus iam-lines needs corpus_path: IAM's ascii/lines.txt (e.g. ../shared/data/iam-ascii/lines.txt)",
            )),
        }
    }

    /// The corpus as lines of running text.
    fn sentences(&self, path: &Path) -> Result<Vec<String>> {
        let texts: Vec<String> = match self.corpus {
            Corpus::Brown => read_brown_zip(path)?.clean_sentences(),
            Corpus::IamLines => read_iam_lines(path)?
                .iter()
                .map(|l| detokenize(&l.words))
                .collect(),
        };
        let texts: Vec<String> = texts.into_iter().filter(|t| !t.trim().is_empty()).collect();
        if texts.is_empty() {
            return Err(Error::format(path, "the corpus holds no text"));
        }
        Ok(texts)
    }

    /// A snippet of `min_chars..=max_chars` characters cut at word boundaries.
    fn snippet(&self, sentences: &[String], rng: &mut impl Rng) -> String {
        let target = rng.random_range(self.min_chars..=self.max_chars);
        let mut out = String::new();
        let mut i = rng.random_range(0..sentences.len());
        let mut words: Vec<&str> = sentences[i].split_whitespace().collect();
        let mut w = rng.random_range(0..words.len().max(1));
        while out.chars().count() < target {
            if w >= words.len() {
                i = (i + 1) % sentences.len();
                words = sentences[i].split_whitespace().collect();
                w = 0;
                continue;
            }
            let next = words[w];
            let len = out.chars().count() + usize::from(!out.is_empty()) + next.chars().count();
            if len > self.max_chars && !out.is_empty() {
                break;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(next);
            w += 1;
        }
        out.chars().take(self.max_chars).collect()
    }

    fn generate(&self, fonts: &Fonts, sentences: &[String]) -> Result<LineStore<ExtractionReport>> {
        let counts = [self.num_train, self.num_val, self.num_test];
        let mut sets = Vec::with_capacity(3);
        let mut report = ExtractionReport::default();
        for (split, &n) in counts.iter().enumerate() {
            let lines: Vec<(Option<image::GrayImage>, String, usize)> = (0..n)
                .into_par_iter()
                .map(|i| {
                    let mut rng = rng_for(self.seed, &[split as u64, i as u64]);
                    for attempt in 0..20 {
                        let text = self.snippet(sentences, &mut rng);
                        let Some(font) = fonts.pick(&text, &mut rng) else {
                            continue;
                        };
                        if let Some(img) = render_line(fonts, font, &text, &self.style, &mut rng) {
                            let w = ((f64::from(img.width()) * f64::from(self.height)
                                / f64::from(img.height()))
                            .round() as u32)
                                .max(1);
                            let mut img = resize_triangle(&img, w, self.height);
                            stretch_ink(&mut img);
                            return (Some(img), text, attempt);
                        }
                    }
                    (None, String::new(), 20)
                })
                .collect();
            let mut set = LineSet::new();
            for (i, (img, text, retries)) in lines.into_iter().enumerate() {
                if retries > 0 {
                    *report
                        .skipped
                        .entry("text no font covers (drawn again)".into())
                        .or_insert(0) += retries;
                }
                match img {
                    Some(img) => set.push(&img, text, format!("font-lines:{split}/{i}"))?,
                    None => {
                        *report
                            .skipped
                            .entry("no renderable text in 20 draws".into())
                            .or_insert(0) += 1
                    }
                }
            }
            sets.push(set);
        }
        let test = sets.pop().unwrap_or_default();
        let val = sets.pop().unwrap_or_default();
        let train = sets.pop().unwrap_or_default();
        Ok(LineStore {
            train,
            val,
            test,
            report,
        })
    }

    /// Builds the data module (rendering and caching the lines if needed).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        if self.height == 0
            || self.width == 0
            || self.min_chars == 0
            || self.min_chars > self.max_chars
        {
            return Err(Error::invalid(
                "font-lines",
                format!(
                    "height {} and width {} must be positive and 1 <= min_chars ({}) <= max_chars ({})",
                    self.height, self.width, self.min_chars, self.max_chars
                ),
            ));
        }
        let fonts_dir = resolve(&self.fonts_dir, dir);
        let fonts = Fonts::load(&fonts_dir)?;
        let corpus = self.corpus_file(dir)?;
        let params = serde_json::json!({
            "kind": "font-lines",
            "format_version": super::line_store::FORMAT_VERSION,
            // Bumped when rendering changes what these settings draw (2: caps faces skipped).
            "render_version": RENDER_VERSION,
            "fonts": digest_files(fonts.paths())?,
            "corpus": [self.corpus, digest_files(std::iter::once(corpus.as_path()))?],
            "chars": [self.min_chars, self.max_chars],
            "counts": [self.num_train, self.num_val, self.num_test],
            "height": self.height,
            "style": self.style,
            "seed": self.seed,
        });
        let cache = StoreCache::new(dir, "font_lines", &params)?;
        let (store, note) = cache.load_or_build(|| {
            let sentences = self.sentences(&corpus)?;
            self.generate(&fonts, &sentences)
        })?;
        let notes = vec![
            format!(
                "{} fonts from {} ({} draw lower case as capitals: used only for texts without lower case); text from {}",
                fonts.len(),
                fonts_dir.display(),
                fonts.caps_only_count(),
                corpus.display()
            ),
            note.replace("line crops", "rendered lines"),
        ];
        build_module(
            store,
            ModuleSpec {
                name: "font-lines",
                text: &self.text,
                canvas: (self.width, self.height),
                paragraphs: false,
                augment: &self.augment,
                notes,
            },
        )
    }
}

impl super::registry::DatasetKind for FontLinesConfig {
    fn build(&self, dir: &DataDir) -> Result<DataModule> {
        FontLinesConfig::build(self, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_words_are_detokenized() {
        let w: Vec<String> = ["He", "said", ",", "(", "no", ")", "it", "'s", "over", "."]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(detokenize(&w), "He said, (no) it's over.");
    }
}
