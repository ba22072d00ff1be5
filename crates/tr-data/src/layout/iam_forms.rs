//! IAM's form XML (`xml/<form id>.xml` of the IAM Handwriting Database),
//! read as the course's rewrite reads it.
//!
//! A form holds the printed prompt (`machine-printed-part/machine-print-line@text`)
//! and what the writer wrote (`handwritten-part/line@text`, each line with
//! `word/cmp` component boxes in form pixels, 300 dpi). Rules:
//!
//! * **Prompt span.** Lines are kept from the first one whose text occurs in
//!   the prompt (the prompt's lines joined by spaces) to the last one that
//!   does, everything between included (the prompt is itself inconsistent
//!   about hyphens at line ends, so no line-by-line check). A line also
//!   "occurs" when it does without its last character (`tremen-` for a prompt
//!   that has `tremendously`). Forms such as p02-109 carry extra text (the
//!   form's header, ruled lines) before the prompt's: those lines fall out.
//!   Lines outside the span are [`SkipReason::NotInPrompt`].
//! * **All-caps forms** ([`ALL_CAPS_FORMS`]): the prompt is upper-cased
//!   before matching, since their writers wrote in capitals.
//! * **Line box** = union of the line's `cmp` boxes, the bottom of each
//!   clipped to `min(cmp bottom, top so far + MAX_LINE_HEIGHT)`, so a
//!   descender that reaches into the next line (r02-060, line 8) does not make
//!   a two-line crop. Then padded as the course: `x ± PAD`, top by
//!   `min(PAD, gap above / 2)`, bottom by `min(PAD, gap below / 2)` (gaps
//!   between kept neighbours, `2·PAD` at the ends), so neighbours' boxes do
//!   not grow into each other.
//! * **Text**: the `text` attribute with XML escapes decoded (`&quot;`,
//!   `&amp;`, `&apos;`, `&lt;`, `&gt;`, character references); a doubly
//!   escaped `&quot;` (the course's `.replace("&quot;", '"')`) becomes `"` too.
//!
//! The course computes boxes on forms downsampled by 2 with `MAX_LINE_HEIGHT
//! = 60` and `LINE_REGION_PADDING = 8`; here boxes stay in the XML's own
//! (full-resolution) pixels, so the constants are doubled ([`MAX_LINE_HEIGHT`],
//! [`LINE_PADDING`]) and a downsampled image is handled by the cropper's
//! page-to-image scaling (boxes may differ from the course's by a pixel of
//! rounding). Line tags: `handwritten` and `segmentation:<ok|err>`.

use std::path::{Path, PathBuf};

use super::error::LayoutError;
use super::geometry::BBox;
use super::model::{
    common_skip, LayoutFormat, Line, Page, ReadOptions, Region, SkipReason, SkippedLine,
};
use super::xml::Element;
use crate::error::{Error, Result};

/// Forms whose writers wrote in capitals (the rewrite's list; all in IAM's training split).
pub const ALL_CAPS_FORMS: [&str; 5] = ["g07-000a", "g07-003a", "f07-101a", "g07-007a", "g01-022"];

/// Most a line's bottom may lie below its top, in form pixels (the course's 60 at half scale).
pub const MAX_LINE_HEIGHT: i64 = 120;

/// Padding around a line box, in form pixels (the course's 8 at half scale).
pub const LINE_PADDING: i64 = 16;

/// Form image extensions looked for, in order (`cargo xtask download iam`
/// checks imports against the same list).
pub const IMAGE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "tif"];

/// One IAM form: its page (one region, the handwritten part) and the prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct IamForm {
    /// Form id, e.g. `a01-000u`.
    pub id: String,
    pub writer_id: Option<String>,
    /// The machine-printed prompt, one entry per printed line.
    pub prompt: Vec<String>,
    /// Lines kept, in form order, with course-padded boxes; skipped lines in `page.skipped`.
    pub page: Page,
}

/// Reads `xml/<id>.xml`; the image is looked for as `../forms/<id>.png|jpg|…`
/// (the IAM and course layouts), then beside the XML.
pub fn read_iam_form(path: &Path) -> Result<IamForm> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let layout = |kind| Error::layout(path.to_path_buf(), kind);
    let root = super::xml::parse_document(&bytes).map_err(layout)?;
    if root.name != "form" {
        return Err(layout(LayoutError::UnknownFormat {
            found: root.name.clone(),
            expected: "<form> (IAM form XML)".into(),
        }));
    }
    from_root(&root, path).map_err(layout)
}

pub(crate) fn from_root(root: &Element, xml: &Path) -> Result<IamForm, LayoutError> {
    let id = root
        .attr("id")
        .map(str::to_string)
        .or_else(|| xml.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let size = |attribute: &str| -> Result<u32, LayoutError> {
        let raw = root
            .attr(attribute)
            .ok_or_else(|| LayoutError::MissingAttribute {
                line: root.line,
                element: "form".into(),
                attribute: attribute.into(),
            })?;
        raw.trim()
            .parse::<u32>()
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| LayoutError::BadAttribute {
                line: root.line,
                element: "form".into(),
                attribute: attribute.into(),
                expected: "a positive whole number of pixels".into(),
                found: raw.into(),
            })
    };
    let (width, height) = (size("width")?, size("height")?);
    let prompt: Vec<String> = root
        .child("machine-printed-part")
        .into_iter()
        .flat_map(|m| m.children_named("machine-print-line"))
        .map(|l| l.attr("text").unwrap_or_default().to_string())
        .collect();
    let hand = root
        .child("handwritten-part")
        .ok_or_else(|| LayoutError::MissingElement {
            element: "handwritten-part".into(),
            parent: Some("form".into()),
        })?;
    let lines: Vec<&Element> = hand.children_named("line").collect();

    let mut valid = prompt.join(" ");
    if ALL_CAPS_FORMS.contains(&id.as_str()) {
        valid = valid.to_uppercase();
    }
    let in_prompt = |l: &&Element| occurs_in(l.attr("text").unwrap_or_default(), &valid);
    let span = lines
        .iter()
        .position(in_prompt)
        .zip(lines.iter().rposition(in_prompt));

    let mut skipped = Vec::new();
    let mut boxes: Vec<(&Element, [i64; 4])> = Vec::new();
    for (i, el) in lines.iter().enumerate() {
        let line_id = el.attr("id").unwrap_or_default().to_string();
        let skip = |reason, detail: String| SkippedLine {
            id: line_id.clone(),
            reason,
            detail,
        };
        match span {
            Some((first, last)) if (first..=last).contains(&i) => {}
            _ => {
                let text = el.attr("text").unwrap_or_default();
                skipped.push(skip(SkipReason::NotInPrompt, format!("text {text:?}")));
                continue;
            }
        }
        match component_box(el) {
            Ok(Some(b)) => boxes.push((el, b)),
            Ok(None) => skipped.push(skip(SkipReason::NoGeometry, "no word/cmp boxes".into())),
            Err(detail) => skipped.push(skip(SkipReason::BadCoordinates, detail)),
        }
    }

    let padded = pad_like_the_course(&boxes.iter().map(|(_, b)| *b).collect::<Vec<_>>());
    let mut kept = Vec::new();
    for ((el, _), [x1, y1, x2, y2]) in boxes.iter().zip(padded) {
        let bbox = BBox {
            x0: x1 as f32,
            y0: y1 as f32,
            x1: x2 as f32,
            y1: y2 as f32,
        };
        let line = Line {
            id: el.attr("id").unwrap_or_default().to_string(),
            polygon: bbox.corners(),
            baseline: None,
            bbox,
            text: el.attr("text").unwrap_or_default().replace("&quot;", "\""),
            tags: vec![
                "handwritten".into(),
                format!(
                    "segmentation:{}",
                    el.attr("segmentation").unwrap_or("unknown")
                ),
            ],
            confidence: None,
            char_confidences: Vec::new(),
        };
        match common_skip(&line, width, height, &ReadOptions::default()) {
            Some(s) => skipped.push(s),
            None => kept.push(line),
        }
    }
    let region_box = kept.iter().map(|l| l.bbox).reduce(|a, b| a.union(&b));
    let page = Page {
        xml: xml.to_path_buf(),
        format: LayoutFormat::IamForm,
        image: Some(form_image(xml, &id)),
        width,
        height,
        regions: vec![Region {
            id: "handwritten-part".into(),
            kind: Some("handwritten-part".into()),
            tags: vec!["handwritten".into()],
            polygon: region_box.map(|b| b.corners()),
            lines: kept,
        }],
        skipped,
    };
    Ok(IamForm {
        id,
        writer_id: root.attr("writer-id").map(str::to_string),
        prompt,
        page,
    })
}

/// The course's test: `text in prompt or text[:-1] in prompt` (non-empty text).
fn occurs_in(text: &str, prompt: &str) -> bool {
    if text.is_empty() {
        return false;
    }
    if prompt.contains(text) {
        return true;
    }
    let mut chars = text.chars();
    chars.next_back();
    let shorter = chars.as_str();
    !shorter.is_empty() && prompt.contains(shorter)
}

/// Union of a line's `word/cmp` boxes with the bottom clip, `[x1, y1, x2, y2]`.
fn component_box(line: &Element) -> std::result::Result<Option<[i64; 4]>, String> {
    let mut acc: Option<[i64; 4]> = None;
    for cmp in line
        .children_named("word")
        .flat_map(|w| w.children_named("cmp"))
    {
        let num = |a: &str| -> std::result::Result<i64, String> {
            let raw = cmp
                .attr(a)
                .ok_or_else(|| format!("line {}: <cmp> has no {a}", cmp.line))?;
            raw.trim()
                .parse::<i64>()
                .map_err(|_| format!("line {}: <cmp {a}={raw:?}> is not a whole number", cmp.line))
        };
        let (x, y, w, h) = (num("x")?, num("y")?, num("width")?, num("height")?);
        let [x1, y1, x2, y2] = acc.unwrap_or([x, y, x + w, i64::MIN]);
        let top = y1.min(y);
        acc = Some([
            x1.min(x),
            top,
            x2.max(x + w),
            y2.max((y + h).min(top + MAX_LINE_HEIGHT)),
        ]);
    }
    Ok(acc)
}

/// The course's padding: `x ± PAD`, `y` by at most half the gap to the neighbour.
fn pad_like_the_course(boxes: &[[i64; 4]]) -> Vec<[i64; 4]> {
    let gaps: Vec<i64> = boxes
        .windows(2)
        .map(|w| (w[1][1] - w[0][3]).max(0))
        .collect();
    (0..boxes.len())
        .map(|i| {
            let [x1, y1, x2, y2] = boxes[i];
            let above = if i == 0 {
                2 * LINE_PADDING
            } else {
                gaps[i - 1]
            };
            let below = gaps.get(i).copied().unwrap_or(2 * LINE_PADDING);
            [
                x1 - LINE_PADDING,
                y1 - LINE_PADDING.min(above / 2),
                x2 + LINE_PADDING,
                y2 + LINE_PADDING.min(below / 2),
            ]
        })
        .collect()
}

/// `../forms/<id>.<ext>` or `<id>.<ext>` beside the XML, the first that
/// exists; else the course's `../forms/<id>.jpg` (a missing image is then
/// reported when the page is cropped).
fn form_image(xml: &Path, id: &str) -> PathBuf {
    let dir = xml.parent().unwrap_or(Path::new(""));
    let forms = dir.parent().map(|p| p.join("forms"));
    let beside = dir.to_path_buf();
    let candidates = forms.iter().chain(std::iter::once(&beside)).flat_map(|d| {
        IMAGE_EXTENSIONS
            .iter()
            .map(move |ext| d.join(format!("{id}.{ext}")))
    });
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    forms
        .unwrap_or_else(|| dir.to_path_buf())
        .join(format!("{id}.jpg"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_matching_follows_the_course() {
        let prompt = "the tremendously hard work was done. Then more";
        assert!(occurs_in("hard work was done.", prompt));
        assert!(occurs_in("the tremen-", prompt));
        assert!(!occurs_in("Sentence Database P02-109", prompt));
        assert!(!occurs_in("", prompt));
    }

    #[test]
    fn padding_uses_half_the_gaps() {
        // Two lines 10 px apart: each grows by 5 towards the other, 16 away.
        let boxes = [[100, 100, 400, 150], [100, 160, 400, 210]];
        let padded = pad_like_the_course(&boxes);
        assert_eq!(padded[0], [84, 84, 416, 155]);
        assert_eq!(padded[1], [84, 155, 416, 226]);
    }
}
