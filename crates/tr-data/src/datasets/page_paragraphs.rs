//! `page-paragraphs`: the text regions (PAGE `TextRegion`, ALTO `TextBlock`)
//! of page collections as paragraph crops, their lines' texts joined by `\n`.
//!
//! A paragraph is cut as the union of its **kept** lines (after the tag and
//! text filters), masked to their polygons, so a region mixing handwritten
//! and printed lines yields only the handwriting it transcribes. It is
//! resized to `line_height` pixels per line (the course's 28 by default)
//! and placed on a canvas of `width × (max_lines · line_height)`; a taller
//! or wider paragraph is scaled down to fit (counted in the report).
//! Regions with more than `max_lines` lines are split into consecutive
//! chunks of at most `max_lines` lines, so no text is lost.
//!
//! Everything else — roots, splits, crop settings, text settings, the cache
//! keyed by every parameter and the digest of every page — is shared with
//! [`super::page_lines`].

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::line_store::StoreCache;
use super::page_lines::{cache_params, discover_roots, CropSettings};
use super::page_source::{extract, outline, PageSplit, PageUnits, Unit};
use super::real_lines::{build_module, ModuleSpec, TextSettings};
use super::DataModule;
use crate::augment::RealLineAugmentation;
use crate::error::{Error, Result};
use crate::layout::Page;
use crate::paths::DataDir;

/// Settings of `page-paragraphs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PageParagraphsConfig {
    /// Collection folders (as `page-lines`).
    pub roots: Vec<PathBuf>,
    /// Pixels per text line of a paragraph crop.
    pub line_height: u32,
    /// Lines per paragraph at most (longer regions are split in chunks);
    /// the canvas is `max_lines · line_height` tall.
    pub max_lines: usize,
    /// Canvas width.
    pub width: u32,
    pub crop: CropSettings,
    pub split: PageSplit,
    pub text: TextSettings,
    /// Augmentation of training paragraphs (default: the course's IAM paragraphs).
    pub augment: RealLineAugmentation,
}

impl Default for PageParagraphsConfig {
    fn default() -> Self {
        Self {
            roots: Vec::new(),
            line_height: 28,
            max_lines: 24,
            width: 1024,
            crop: CropSettings::default(),
            split: PageSplit::default(),
            text: TextSettings::default(),
            augment: RealLineAugmentation::course_iam_paragraphs(),
        }
    }
}

/// Regions as paragraphs of at most `max_lines` lines, `line_height` px per line.
pub struct ParagraphUnits {
    pub line_height: u32,
    pub max_lines: usize,
}

impl PageUnits for ParagraphUnits {
    fn units(&self, page: &Page) -> Vec<Unit> {
        let mut out = Vec::new();
        for (r, region) in page.regions.iter().enumerate() {
            let chunks = region.lines.chunks(self.max_lines.max(1));
            let many = region.lines.len() > self.max_lines;
            for (c, lines) in chunks.enumerate() {
                if lines.is_empty() {
                    continue;
                }
                let base = if region.id.is_empty() {
                    format!("region{r}")
                } else {
                    region.id.clone()
                };
                out.push(Unit {
                    outlines: lines.iter().map(outline).collect(),
                    text: lines
                        .iter()
                        .map(|l| l.text.trim())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    id: if many { format!("{base}#{c}") } else { base },
                    height: self.line_height * lines.len() as u32,
                });
            }
        }
        out
    }
}

impl PageParagraphsConfig {
    /// Builds the data module (cutting and caching the paragraphs if needed).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        if self.line_height == 0 || self.width == 0 || self.max_lines == 0 {
            return Err(Error::invalid(
                "page-paragraphs",
                format!(
                    "line_height {}, max_lines {} and width {} must be positive",
                    self.line_height, self.max_lines, self.width
                ),
            ));
        }
        let collections = discover_roots("page-paragraphs", &self.roots, dir, &self.split)?;
        let params = cache_params(
            "page-paragraphs",
            &collections,
            &self.crop,
            serde_json::json!({ "line_height": self.line_height, "max_lines": self.max_lines }),
        )?;
        let cache = StoreCache::new(dir, "page_paragraphs", &params)?;
        let units = ParagraphUnits {
            line_height: self.line_height,
            max_lines: self.max_lines,
        };
        let opts = self.crop.extract_options();
        let (store, note) = cache.load_or_build(|| extract(&collections, &units, &opts))?;
        let mut notes: Vec<String> = collections
            .iter()
            .map(|c| format!("{}: {} pages ({})", c.name, c.pages.len(), c.split_origin))
            .collect();
        notes.push(note.replace("line crops", "paragraph crops"));
        build_module(
            store,
            ModuleSpec {
                name: "page-paragraphs",
                text: &self.text,
                canvas: (self.width, self.line_height * self.max_lines as u32),
                paragraphs: true,
                augment: &self.augment,
                notes,
            },
        )
    }
}

impl super::registry::DatasetKind for PageParagraphsConfig {
    fn build(&self, dir: &DataDir) -> Result<DataModule> {
        PageParagraphsConfig::build(self, dir)
    }
}
