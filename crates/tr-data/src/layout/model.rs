//! The page model every reader produces: a page image, its size, text regions
//! in reading order, their text lines, and what the reader left out and why.
//!
//! Coordinates are page pixels of the XML's page size
//! ([`Page::width`] × [`Page::height`]), kept as the file gives them — not
//! clamped (clamping is the cropper's job, [`super::crop`]), but converted to
//! pixels where the file uses another unit (ALTO `mm10`/`inch1200`).
//! Text is exactly the file's, with XML escapes decoded: no Unicode
//! normalisation, no trimming.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::geometry::{BBox, Point};

/// The format a page was read from; the `String` is the schema namespace or
/// version when the file names one (e.g. `http://www.loc.gov/standards/alto/ns-v4#`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayoutFormat {
    Alto(Option<String>),
    Page(Option<String>),
    IamForm,
}

impl LayoutFormat {
    /// `alto`, `page` or `iam-form`.
    pub fn name(&self) -> &'static str {
        match self {
            LayoutFormat::Alto(_) => "alto",
            LayoutFormat::Page(_) => "page",
            LayoutFormat::IamForm => "iam-form",
        }
    }
}

/// One page of a layout file.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The XML file it was read from.
    pub xml: PathBuf,
    pub format: LayoutFormat,
    /// The page image, resolved relative to the XML file's folder (as kraken
    /// does); `None` when the file names none.
    pub image: Option<PathBuf>,
    /// Page size in pixels, as the XML gives it (the image may be another scale).
    pub width: u32,
    pub height: u32,
    /// Text regions in reading order.
    pub regions: Vec<Region>,
    /// Lines the reader left out, each with its reason.
    pub skipped: Vec<SkippedLine>,
}

impl Page {
    /// Every line, region by region, in reading order.
    pub fn lines(&self) -> impl Iterator<Item = &Line> + '_ {
        self.regions.iter().flat_map(|r| r.lines.iter())
    }

    /// Number of lines kept.
    pub fn line_count(&self) -> usize {
        self.regions.iter().map(|r| r.lines.len()).sum()
    }

    /// Skipped lines counted by reason.
    pub fn skip_counts(&self) -> BTreeMap<SkipReason, usize> {
        count_skips(&self.skipped)
    }
}

/// A text region (PAGE `TextRegion`, ALTO `TextBlock`, IAM's handwritten part).
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// The file's id (may be empty or repeated across files, e.g. eScriptorium's `eSc_dummyblock_`).
    pub id: String,
    /// Region type: PAGE `@type` or `custom` `structure {type:…}`, ALTO block tag label.
    pub kind: Option<String>,
    /// Tag labels (ALTO `TAGREFS` resolved through the `Tags` section).
    pub tags: Vec<String>,
    /// Outline, when the file draws one (eScriptorium's dummy blocks have none).
    pub polygon: Option<Vec<Point>>,
    /// Lines in reading order.
    pub lines: Vec<Line>,
}

/// A text line with its geometry and transcription.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub id: String,
    /// Outline; the box's corners when the file gives only a box.
    pub polygon: Vec<Point>,
    /// Baseline polyline, when the file has one.
    pub baseline: Option<Vec<Point>>,
    /// Bounding box (ALTO HPOS/VPOS/WIDTH/HEIGHT, else the polygon's box).
    pub bbox: BBox,
    /// Transcription exactly as in the file (escapes decoded, nothing else).
    pub text: String,
    /// Labels: ALTO `TAGREFS` → `OtherTag`/`LayoutTag` `LABEL` (e.g.
    /// `DefaultLine:Handwritten`), PAGE `custom` `structure {type:…}` and
    /// `@type`, IAM `handwritten` and `segmentation:ok|err`.
    pub tags: Vec<String>,
    /// Recognition confidence in `[0, 1]`, when the file gives one (PAGE
    /// `TextEquiv@conf`; ALTO: the product of the line's `String@WC`) or a
    /// recogniser produced the line.
    pub confidence: Option<f32>,
    /// Per-character confidences in `[0, 1]`, one per character of `text`,
    /// when known (ALTO `String@CC`, quantised to tenths; recognisers);
    /// empty otherwise.
    pub char_confidences: Vec<f32>,
}

/// Why a reader or a filter left a line out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// Empty or white-space-only transcription.
    EmptyText,
    /// No polygon and no box.
    NoGeometry,
    /// Coordinates that do not parse (a token that is not a number, an odd count).
    BadCoordinates,
    /// A polygon/box of zero area.
    ZeroArea,
    /// Entirely outside the page.
    OutsidePage,
    /// Not carrying a wanted tag (a filter's decision, e.g. not handwritten).
    TagFiltered,
    /// Text matched an exclusion rule (a filter's decision, e.g. Copiste's page references).
    TextExcluded,
    /// IAM: outside the span of lines that match the form's machine-printed prompt.
    NotInPrompt,
}

impl SkipReason {
    /// A short phrase for summaries.
    pub fn describe(&self) -> &'static str {
        match self {
            SkipReason::EmptyText => "empty text",
            SkipReason::NoGeometry => "no polygon or box",
            SkipReason::BadCoordinates => "unparsable coordinates",
            SkipReason::ZeroArea => "zero-area polygon",
            SkipReason::OutsidePage => "outside the page",
            SkipReason::TagFiltered => "tag not wanted",
            SkipReason::TextExcluded => "text excluded",
            SkipReason::NotInPrompt => "outside the lines matching the printed prompt",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// One line left out.
#[derive(Clone, Debug, PartialEq)]
pub struct SkippedLine {
    /// The line's id (empty when the file gives none).
    pub id: String,
    pub reason: SkipReason,
    /// What exactly was wrong (the bad attribute value, the unwanted tag…).
    pub detail: String,
}

/// Counts skipped lines by reason.
pub fn count_skips(skipped: &[SkippedLine]) -> BTreeMap<SkipReason, usize> {
    let mut counts = BTreeMap::new();
    for s in skipped {
        *counts.entry(s.reason).or_insert(0) += 1;
    }
    counts
}

/// Options of the ALTO and PAGE readers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadOptions {
    /// Keep lines with empty text (default: skip them as [`SkipReason::EmptyText`]).
    /// Segmentation-only files (lines to recognise) want them kept.
    pub keep_empty_text: bool,
    /// Resolution of the page image, for ALTO files measured in `mm10` or
    /// `inch1200`. Without it those units are converted with the ratio of the
    /// page image's size to ALTO's `Page` `WIDTH`/`HEIGHT`.
    pub dpi: Option<f32>,
}

/// The reason to skip a line every reader applies (empty text unless kept,
/// zero area, entirely outside the `w × h` page), or `None` to keep it.
pub(crate) fn common_skip(
    line: &Line,
    page_w: u32,
    page_h: u32,
    opts: &ReadOptions,
) -> Option<SkippedLine> {
    let skip = |reason, detail: String| {
        Some(SkippedLine {
            id: line.id.clone(),
            reason,
            detail,
        })
    };
    if !opts.keep_empty_text && line.text.trim().is_empty() {
        return skip(SkipReason::EmptyText, format!("text {:?}", line.text));
    }
    let outline = BBox::of_points(&line.polygon).unwrap_or(line.bbox);
    let area = if line.polygon.len() >= 3 {
        super::geometry::polygon_area(&line.polygon)
    } else {
        outline.area()
    };
    if area < 1.0 {
        return skip(
            SkipReason::ZeroArea,
            format!("{} points, area {area:.1} px²", line.polygon.len()),
        );
    }
    if outline.clamp(page_w as f32, page_h as f32).area() <= 0.0 {
        return skip(
            SkipReason::OutsidePage,
            format!(
                "box ({:.0},{:.0})-({:.0},{:.0}) on a {page_w}x{page_h} page",
                outline.x0, outline.y0, outline.x1, outline.y1
            ),
        );
    }
    None
}
