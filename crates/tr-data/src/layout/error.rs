//! What can be wrong with a page-layout file or its image: the detail of
//! [`crate::Error::Layout`], which adds the file's path.
//!
//! Every variant names the line of the XML file (1-based) or the values at
//! fault and says what was expected. Problems with *one text line* of an
//! otherwise good page are not errors but counted skips
//! ([`super::SkipReason`]).

use std::path::PathBuf;

/// Why a layout file (ALTO, PAGE, IAM form XML) or its page image cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// Bytes that are not valid UTF-8 in a file that declares (or defaults to) UTF-8.
    #[error("line {line}: not valid UTF-8 (byte offset {offset}); re-save the file as UTF-8")]
    NotUtf8 { line: usize, offset: usize },
    /// An `encoding=` the reader does not decode.
    #[error("unsupported encoding {found:?} in the XML declaration: expected UTF-8 or ISO-8859-1")]
    UnsupportedEncoding { found: String },
    /// `<!DOCTYPE … [ … ]>`: an internal DTD subset can declare entities; refused outright.
    #[error("line {line}: the DOCTYPE declares an internal DTD subset (`[...]`); entity and DTD declarations are refused, remove the DOCTYPE")]
    DoctypeSubset { line: usize },
    /// `&name;` where `name` is not one of XML's five predefined entities.
    #[error("line {line}: entity reference `&{name};` is not one of XML's predefined entities (lt, gt, amp, apos, quot); custom entities are never expanded")]
    UnknownEntity { line: usize, name: String },
    /// Not well-formed XML.
    #[error("line {line}: malformed XML: {message}")]
    Malformed { line: usize, message: String },
    /// Elements nested deeper than the reader allows (a guard against hostile files).
    #[error("line {line}: elements nested deeper than {max} levels")]
    TooDeep { line: usize, max: usize },
    /// The root element names no format this reader knows.
    #[error("root element <{found}> is not a known page format: expected {expected}")]
    UnknownFormat { found: String, expected: String },
    /// A required element is absent.
    #[error("no <{element}> element{}", in_element(.parent))]
    MissingElement {
        element: String,
        parent: Option<String>,
    },
    /// A required attribute is absent.
    #[error("line {line}: <{element}> has no {attribute} attribute")]
    MissingAttribute {
        line: usize,
        element: String,
        attribute: String,
    },
    /// An attribute whose value cannot be used.
    #[error("line {line}: <{element} {attribute}={found:?}>: expected {expected}")]
    BadAttribute {
        line: usize,
        element: String,
        attribute: String,
        expected: String,
        found: String,
    },
    /// Something valid that this reader does not handle (e.g. several pages in one ALTO file).
    #[error("unsupported: {what}")]
    Unsupported { what: String },
    /// The page names no image (ALTO without `sourceImageInformation/fileName`).
    #[error("the page names no image file")]
    NoImage,
    /// The page image is not where the XML says.
    #[error("page image {} not found (named by the XML, resolved relative to the XML file's folder)", .image.display())]
    MissingImage { image: PathBuf },
    /// The page image exists but cannot be decoded.
    #[error("page image {}: {message}", .image.display())]
    ImageDecode { image: PathBuf, message: String },
    /// Image and XML page sizes whose x and y ratios differ: not the same page at another scale.
    #[error("page image {} is {image_w}x{image_h} px but the XML page is {page_w}x{page_h}: the width ratio {rx:.4} and height ratio {ry:.4} differ by more than 2%", .image.display())]
    ImageSizeMismatch {
        image: PathBuf,
        image_w: u32,
        image_h: u32,
        page_w: u32,
        page_h: u32,
        rx: f64,
        ry: f64,
    },
    /// ALTO coordinates in mm10 or inch1200 with neither a DPI nor a readable image to convert them.
    #[error("MeasurementUnit {unit}: converting to pixels needs the image resolution; give ReadOptions::dpi or make the page image readable ({reason})")]
    UnitNeedsResolution { unit: String, reason: String },
}

impl crate::Error {
    /// `Error::Layout` for `path` (boxed: the kinds are large).
    pub(crate) fn layout(path: impl Into<PathBuf>, kind: LayoutError) -> Self {
        crate::Error::Layout {
            path: path.into(),
            kind: Box::new(kind),
        }
    }

    /// The layout problem, when this is an [`crate::Error::Layout`].
    pub fn layout_kind(&self) -> Option<&LayoutError> {
        match self {
            crate::Error::Layout { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

fn in_element(parent: &Option<String>) -> String {
    parent
        .as_ref()
        .map(|p| format!(" in <{p}>"))
        .unwrap_or_default()
}
