//! Page layouts: ALTO and PAGE XML readers, IAM's form XML, and cutting line
//! images out of page images.
//!
//! The formats people train recognizers from (Transkribus, eScriptorium,
//! kraken's `ketos train -f alto|page`) all describe a page image, text
//! regions, text lines with a polygon, an optional baseline and a
//! transcription. Every reader here produces the same [`Page`] model, so the
//! datasets (`page-lines`, `page-paragraphs`, `iam-*`) and inference (which
//! will also *write* pages) see one shape.
//!
//! | items | what | module |
//! |---|---|---|
//! | [`Page`], [`Region`], [`Line`], [`LayoutFormat`], [`ReadOptions`], [`SkippedLine`], [`SkipReason`], [`count_skips`] | the page model, skip reasons | `model` |
//! | [`read_page`], [`parse_page`], [`resolve_image`] | ALTO v2/v3/v4 (`alto`) and PAGE 2009–2019 (`pagexml`) on a safe element tree ([`parse_document`] → [`Element`]: no entity expansion, no DTDs, local names) | `alto`, `pagexml`, `xml` |
//! | [`BBox`], [`Point`] | points, boxes (point-list parsing, polygon area) | `geometry` |
//! | [`crop_line`], [`crop_polygon`], [`crop_polygons`], [`load_page_image`], [`page_image`], [`CropOptions`], [`CropMode`], [`Paper`], [`PageImage`] | line/region images: polygon (rasterised and dilated, `mask`) or box, padding, scale, polarity, height (grey triangle-filter resize, `resize`) | `crop` |
//! | `read_iam_form`, `IamForm`, `IMAGE_EXTENSIONS` | IAM's form XML as the course reads it (feature `full`) | `iam_forms` |
//! | `LineFilter` | choosing lines by tag and text, with counted skips (feature `full`) | `filter` |
//! | [`segment_lines`], [`SegmentOptions`], [`Segmentation`], [`SegmentedLine`] | classical line segmentation (deskew, projection profiles, connected components, reading order) | `segment` |
//! | [`text_orientation`], [`TextOrientation`] | do the lines run across or down (a page a quarter turn off)? | `segment::orientation` |
//! | [`line_masks`], [`lines_from_mask`] | a trained segmenter's targets (line-body and baseline masks of a page) and its output (a body mask → ordered line polygons) | `line_masks`, `segment` |
//! | [`match_lines`], [`polygon_iou`], [`DetectionScores`], [`LineMatch`] | line detection precision/recall/F1 at an IoU threshold | `segment_eval` |
//! | [`write_page_xml`], [`write_alto`], [`write_hocr`], [`page_json`], [`WriteOptions`] | page outputs: PAGE 2019, ALTO v4, hOCR, JSON (read back by [`read_page`]) | `write` |
//!
//! **Light core.** The model, the ALTO/PAGE readers and the cropper build
//! without the `full` feature: their only extra dependency is `quick-xml`
//! (itself only `memchr`), and `tr-infer` needs them to read and crop pages
//! it recognises (and, later, to write PAGE/ALTO). The IAM reader and the
//! line filter serve training only and sit behind `full`.
//!
//! **Errors.** A file that cannot be used at all is a
//! [`crate::Error::Layout`] naming the file and a [`LayoutError`]
//! (malformed XML, an entity or DTD subset, not UTF-8, a missing required
//! element, an unknown unit…). A single unusable line is not an error: the
//! reader leaves it out and records a [`SkippedLine`] with its
//! [`SkipReason`] in [`Page::skipped`], so callers can report counts.

pub(crate) mod alto;
pub(crate) mod crop;
pub(crate) mod error;
#[cfg(feature = "full")]
pub(crate) mod filter;
pub(crate) mod geometry;
#[cfg(feature = "full")]
pub(crate) mod iam_forms;
pub(crate) mod line_masks;
pub(crate) mod mask;
pub(crate) mod model;
pub(crate) mod pagexml;
pub(crate) mod resize;
pub(crate) mod segment;
pub(crate) mod segment_eval;
pub(crate) mod write;
pub(crate) mod xml;

use std::path::{Path, PathBuf};

pub use crop::{
    crop_line, crop_polygon, crop_polygons, load_page_image, page_image, CropMode, CropOptions,
    PageImage, Paper,
};
pub use error::LayoutError;
#[cfg(feature = "full")]
pub use filter::LineFilter;
pub use geometry::{BBox, Point};
#[cfg(feature = "full")]
pub use iam_forms::{read_iam_form, IamForm, IMAGE_EXTENSIONS, LINE_PADDING, MAX_LINE_HEIGHT};
pub use line_masks::line_masks;
pub use model::{
    count_skips, LayoutFormat, Line, Page, ReadOptions, Region, SkipReason, SkippedLine,
};
pub use segment::{
    lines_from_mask, segment_lines, text_orientation, SegmentOptions, Segmentation, SegmentedLine,
    TextOrientation,
};
pub use segment_eval::{match_lines, polygon_iou, DetectionScores, LineMatch};
pub use write::{now_iso8601, page_json, write_alto, write_hocr, write_page_xml, WriteOptions};
pub use xml::{parse_document, Descendants, Element};

use crate::error::{Error, Result};

/// Reads an ALTO or PAGE file (told apart by the root element: `alto` or
/// `PcGts`); with feature `full`, an IAM form (`form`) too, with the IAM
/// rules of `iam_forms` and its image looked up next to the XML.
pub fn read_page(path: &Path, opts: &ReadOptions) -> Result<Page> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_page(&bytes, path, opts)
}

/// [`read_page`] on bytes already read; `path` names the file in errors and
/// anchors the relative image path.
pub fn parse_page(bytes: &[u8], path: &Path, opts: &ReadOptions) -> Result<Page> {
    let layout = |kind| Error::layout(path.to_path_buf(), kind);
    let root = xml::parse_document(bytes).map_err(layout)?;
    match root.name.as_str() {
        "alto" => alto::from_root(&root, path, opts).map_err(layout),
        "PcGts" => pagexml::from_root(&root, path, opts).map_err(layout),
        #[cfg(feature = "full")]
        "form" => iam_forms::from_root(&root, path)
            .map(|f| f.page)
            .map_err(layout),
        other => Err(layout(LayoutError::UnknownFormat {
            found: other.to_string(),
            expected: if cfg!(feature = "full") {
                "<alto> (ALTO), <PcGts> (PAGE) or <form> (IAM)".into()
            } else {
                "<alto> (ALTO) or <PcGts> (PAGE)".into()
            },
        })),
    }
}

/// Where the image a layout file names lives: relative names are resolved
/// against the XML file's folder (kraken's rule); if nothing is there but the
/// name exists one folder up (Transkribus exports put the XML in `page/`
/// beside the images), that one. `file://` prefixes are dropped.
pub fn resolve_image(xml: &Path, name: &str) -> PathBuf {
    let name = name.strip_prefix("file://").unwrap_or(name);
    let named = Path::new(name);
    if named.is_absolute() {
        return named.to_path_buf();
    }
    let dir = xml.parent().unwrap_or(Path::new(""));
    let beside = dir.join(named);
    if !beside.exists() {
        if let Some(up) = dir.parent() {
            let above = up.join(named);
            if above.exists() {
                return above;
            }
        }
    }
    beside
}
