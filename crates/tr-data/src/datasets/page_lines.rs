//! `page-lines`: the text lines of folders of page images with ALTO or PAGE
//! XML (Transkribus, eScriptorium, kraken exports), as line crops of one
//! height on a fixed canvas.
//!
//! ```yaml
//! data:
//!   dataset: page-lines
//!   roots: [../shared/data/htr/hooker]      # one or more collection folders
//!   height: 48                              # crop height in pixels
//!   width: 1024                             # canvas width
//!   crop: { shape: polygon, padding: 8, tags: [], exclude_text: [] }
//!   text: { strict: false, with_start_end_tokens: false }
//!   split: { val_fraction: 0.1, test_fraction: 0.1, seed: 42 }
//! ```
//!
//! `crop.tags: [handwritten]` keeps Stanford's handwritten lines,
//! `crop.exclude_text: [wikitexte]` drops Copiste's page references.
//! Pages, splits and the content digest: [`super::page_source`]; texts,
//! vocabulary and labels: [`super::real_lines::TextSettings`]. The crops are cached under `<processed>/page_lines/<key>.safetensors`, keyed
//! by the crop settings, the filters and the digest of every XML and image
//! file; the text settings only change labels and are applied on load.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::line_store::StoreCache;
use super::page_source::{extract, ExtractOptions, LineUnits, PageCollection, PageSplit};
use super::real_lines::{build_module, ModuleSpec, TextSettings};
use super::DataModule;
use crate::augment::RealLineAugmentation;
use crate::error::{Error, Result};
use crate::layout::filter::LineFilter;
use crate::layout::{CropMode, CropOptions, Paper, ReadOptions};
use crate::paths::DataDir;

/// Outline a crop follows (`data.crop`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CropShape {
    /// The line polygon; outside it becomes paper.
    #[default]
    Polygon,
    /// The polygon's bounding box.
    Box,
}

impl From<CropShape> for CropMode {
    fn from(s: CropShape) -> Self {
        match s {
            CropShape::Polygon => CropMode::Polygon,
            CropShape::Box => CropMode::Box,
        }
    }
}

/// How lines are cut (shared by `page-lines` and `page-paragraphs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CropSettings {
    pub shape: CropShape,
    /// Margin around the outline in page-image pixels (Transkribus' tight
    /// polygons cut ascenders without it).
    pub padding: u32,
    /// Stretch each crop's contrast: paper 0, ink 255.
    pub stretch_contrast: bool,
    /// Keep only lines with one of these tags (`handwritten` matches
    /// `DefaultLine:Handwritten`); empty: every line.
    pub tags: Vec<String>,
    /// Leave out lines whose text contains one of these (ignoring case).
    pub exclude_text: Vec<String>,
    /// Image resolution for ALTO files in `mm10`/`inch1200`.
    pub dpi: Option<f32>,
    /// A page that cannot be read is an error instead of a counted skip.
    pub strict_pages: bool,
}

impl Default for CropSettings {
    fn default() -> Self {
        Self {
            shape: CropShape::Polygon,
            padding: 8,
            stretch_contrast: true,
            tags: Vec::new(),
            exclude_text: Vec::new(),
            dpi: None,
            strict_pages: false,
        }
    }
}

impl CropSettings {
    /// Extraction options for crops of `height`.
    pub fn extract_options(&self) -> ExtractOptions {
        ExtractOptions {
            read: self.read_options(),
            filter: LineFilter {
                tags: self.tags.clone(),
                exclude_text: self.exclude_text.clone(),
                require_text: true,
            },
            crop: CropOptions {
                mode: self.shape.into(),
                padding: self.padding,
                target_height: None,
                paper: Paper::LocalMedian,
                invert: true,
            },
            stretch: self.stretch_contrast,
            strict: self.strict_pages,
        }
    }

    /// What the readers need.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            keep_empty_text: false,
            dpi: self.dpi,
        }
    }
}

/// Settings of `page-lines`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PageLinesConfig {
    /// Collection folders (absolute, or relative to the data directory, or
    /// to the working directory).
    pub roots: Vec<PathBuf>,
    /// Crop height in pixels.
    pub height: u32,
    /// Canvas width: wider lines are squeezed to it.
    pub width: u32,
    /// How lines are cut and which are kept.
    pub crop: CropSettings,
    /// Page-level split when a collection has no split files.
    pub split: PageSplit,
    /// Normalisation, vocabulary and labels.
    pub text: TextSettings,
    /// Augmentation of training lines (default: the course's IAM lines).
    pub augment: RealLineAugmentation,
}

impl Default for PageLinesConfig {
    fn default() -> Self {
        Self {
            roots: Vec::new(),
            height: 48,
            width: 1024,
            crop: CropSettings::default(),
            split: PageSplit::default(),
            text: TextSettings::default(),
            augment: RealLineAugmentation::course_iam_lines(),
        }
    }
}

/// The collections of `roots`, each resolved against the data directory.
pub fn discover_roots(
    what: &str,
    roots: &[PathBuf],
    dir: &DataDir,
    split: &PageSplit,
) -> Result<Vec<PageCollection>> {
    if roots.is_empty() {
        return Err(Error::invalid(
            format!("{what}.roots"),
            "no collection folder given: set data.roots to folders of page images and ALTO/PAGE XML \
             (e.g. --data.roots '[../shared/data/htr/hooker]')",
        ));
    }
    roots
        .iter()
        .map(|r| PageCollection::discover(&resolve_root(r, dir), split))
        .collect()
}

/// `root` as given when absolute or present, else under the data directory
/// (`<data>/<root>`, then `<data>/downloaded/<root>`).
fn resolve_root(root: &std::path::Path, dir: &DataDir) -> PathBuf {
    if root.is_absolute() || root.exists() {
        return root.to_path_buf();
    }
    [
        dir.root().join(root),
        dir.root().join("downloaded").join(root),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| root.to_path_buf())
}

/// The cache parameters: every input of the crops.
pub fn cache_params(
    kind: &str,
    collections: &[PageCollection],
    crop: &CropSettings,
    geometry: serde_json::Value,
) -> Result<serde_json::Value> {
    let read = crop.read_options();
    let sources = collections
        .iter()
        .map(|c| {
            Ok(serde_json::json!({
                "name": c.name,
                "pages": c.pages.len(),
                "digest": c.digest(&read)?,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::json!({
        "kind": kind,
        "format_version": super::line_store::FORMAT_VERSION,
        "sources": sources,
        "crop": crop,
        "geometry": geometry,
    }))
}

impl PageLinesConfig {
    /// Builds the data module (cutting and caching the lines if needed).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        if self.height == 0 || self.width == 0 {
            return Err(Error::invalid(
                "page-lines",
                format!(
                    "height {} and width {} must be positive",
                    self.height, self.width
                ),
            ));
        }
        let collections = discover_roots("page-lines", &self.roots, dir, &self.split)?;
        let params = cache_params(
            "page-lines",
            &collections,
            &self.crop,
            serde_json::json!({ "height": self.height }),
        )?;
        let cache = StoreCache::new(dir, "page_lines", &params)?;
        let opts = self.crop.extract_options();
        let (store, note) =
            cache.load_or_build(|| extract(&collections, &LineUnits(self.height), &opts))?;
        let mut notes: Vec<String> = collections
            .iter()
            .map(|c| {
                format!(
                    "{}: {} pages from {} ({})",
                    c.name,
                    c.pages.len(),
                    c.root.display(),
                    c.split_origin
                )
            })
            .collect();
        notes.push(note);
        build_module(
            store,
            ModuleSpec {
                name: "page-lines",
                text: &self.text,
                canvas: (self.width, self.height),
                paragraphs: false,
                augment: &self.augment,
                notes,
            },
        )
    }
}

impl super::registry::DatasetKind for PageLinesConfig {
    fn build(&self, dir: &DataDir) -> Result<DataModule> {
        PageLinesConfig::build(self, dir)
    }
}
