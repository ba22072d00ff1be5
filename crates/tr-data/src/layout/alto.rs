//! ALTO (v2, v3, v4; any namespace prefix or none) → [`Page`].
//!
//! What is read, by local name:
//!
//! * `Description/MeasurementUnit`: `pixel` (also the default when absent),
//!   `mm10` (1/10 mm) or `inch1200` (1/1200 inch). Other units are converted
//!   to pixels with [`ReadOptions::dpi`] when given (`px = v·dpi/254` for
//!   mm10, `v·dpi/1200` for inch1200), else with the ratio of the page
//!   image's size to `Page@WIDTH/HEIGHT` (the image header is read, not the
//!   pixels). Neither available → [`LayoutError::UnitNeedsResolution`].
//! * `Description/sourceImageInformation/fileName`: the image, resolved
//!   relative to the XML file's folder (a `file://` prefix is dropped).
//! * `Tags/*Tag@ID → @LABEL` (`OtherTag`, `LayoutTag`, `StructureTag`, …;
//!   `LABEL` missing → `TYPE`, then the id itself): `TAGREFS` of blocks and
//!   lines resolve through it; an unknown reference is kept as written.
//! * `Layout/Page@WIDTH/HEIGHT` (floats such as `1238.0` accepted); one
//!   `Page` per file (several → [`LayoutError::Unsupported`]).
//! * every `TextBlock` under the page, also inside `ComposedBlock`s, in
//!   document order, reordered by `ReadingOrder//ElementRef@REF` when the file
//!   has a reading order (a block's rank is its first reference, to itself or
//!   to one of its lines; unreferenced blocks follow in document order).
//! * `TextLine`: `ID`, `HPOS/VPOS/WIDTH/HEIGHT`, `Shape/Polygon@POINTS`
//!   (`x,y x,y` or `x y x y`), `BASELINE` (the 4.2 point list, or the older
//!   single number = the baseline's y from the line box's left to right edge),
//!   `TAGREFS`; text = its `String@CONTENT`s in order, with one space for
//!   each `SP` and one between two `String`s that have no `SP` between them
//!   (ALTO Strings are words), `HYP@CONTENT` appended as is; confidence from
//!   `String@WC` (their product), per-character confidences from `String@CC`.

use std::collections::HashMap;
use std::path::Path;

use super::error::LayoutError;
use super::geometry::{parse_number, parse_points, BBox, Point};
use super::model::{
    common_skip, LayoutFormat, Line, Page, ReadOptions, Region, SkipReason, SkippedLine,
};
use super::xml::Element;

/// Builds the page of a parsed ALTO document; `xml` is the file's path (for the image).
pub(crate) fn from_root(
    root: &Element,
    xml: &Path,
    opts: &ReadOptions,
) -> Result<Page, LayoutError> {
    let description = root.child("Description");
    let unit_el = description.and_then(|d| d.child("MeasurementUnit"));
    let unit = unit_el
        .map(|u| u.text.trim().to_string())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "pixel".into());
    let unit_line = unit_el.map_or(0, |u| u.line);
    let image = description
        .and_then(|d| d.child("sourceImageInformation"))
        .and_then(|s| s.child("fileName"))
        .map(|f| f.text.trim())
        .filter(|f| !f.is_empty())
        .map(|f| super::resolve_image(xml, f));
    let tags = tag_labels(root);

    let layout = root
        .child("Layout")
        .ok_or_else(|| LayoutError::MissingElement {
            element: "Layout".into(),
            parent: Some(root.name.clone()),
        })?;
    let pages: Vec<&Element> = layout.children_named("Page").collect();
    let page = match pages.as_slice() {
        [one] => *one,
        [] => {
            return Err(LayoutError::MissingElement {
                element: "Page".into(),
                parent: Some("Layout".into()),
            })
        }
        many => {
            return Err(LayoutError::Unsupported {
                what: format!(
                    "an ALTO file with {} Page elements (split it one page per file)",
                    many.len()
                ),
            })
        }
    };
    let page_w = required_number(page, "WIDTH")?;
    let page_h = required_number(page, "HEIGHT")?;
    let (sx, sy) = unit_scale(&unit, unit_line, page_w, page_h, image.as_deref(), opts)?;
    let width = (page_w * sx).round().max(0.0) as u32;
    let height = (page_h * sy).round().max(0.0) as u32;

    let mut regions = Vec::new();
    let mut skipped = Vec::new();
    for block in page.descendants().filter(|e| e.name == "TextBlock") {
        let block_tags = resolve_tags(block, &tags);
        let polygon = shape_polygon(block)
            .and_then(|p| p.ok())
            .or_else(|| xywh(block).and_then(|b| b.ok()).map(|b| b.corners()))
            .map(|p| scale_points(&p, sx, sy));
        let mut lines = Vec::new();
        for el in block.children_named("TextLine") {
            match read_line(el, &tags, sx, sy) {
                Ok(line) => match common_skip(&line, width, height, opts) {
                    Some(skip) => skipped.push(skip),
                    None => lines.push(line),
                },
                Err(skip) => skipped.push(skip),
            }
        }
        regions.push(Region {
            id: block.attr("ID").unwrap_or_default().to_string(),
            kind: block_tags.first().cloned(),
            tags: block_tags,
            polygon,
            lines,
        });
    }
    apply_reading_order(root, &mut regions);

    Ok(Page {
        xml: xml.to_path_buf(),
        format: LayoutFormat::Alto(
            root.namespace
                .clone()
                .or_else(|| root.attr("SCHEMAVERSION").map(str::to_string)),
        ),
        image,
        width,
        height,
        regions,
        skipped,
    })
}

fn read_line(
    el: &Element,
    tags: &HashMap<String, String>,
    sx: f32,
    sy: f32,
) -> Result<Line, SkippedLine> {
    let id = el.attr("ID").unwrap_or_default().to_string();
    let bad = |detail: String| SkippedLine {
        id: id.clone(),
        reason: SkipReason::BadCoordinates,
        detail,
    };
    let bbox = xywh(el).transpose().map_err(&bad)?;
    let polygon = shape_polygon(el).transpose().map_err(&bad)?;
    // A degenerate Shape (under 3 points) next to a real box: the box wins.
    let polygon = polygon.filter(|p| p.len() >= 3 || bbox.is_none());
    let (polygon, bbox) = match (polygon, bbox) {
        (Some(p), Some(b)) => (p, b),
        (Some(p), None) => match BBox::of_points(&p) {
            Some(b) => (p, b),
            None => (p, BBox::from_xywh(0.0, 0.0, 0.0, 0.0)),
        },
        (None, Some(b)) => (b.corners(), b),
        (None, None) => {
            return Err(SkippedLine {
                id,
                reason: SkipReason::NoGeometry,
                detail: "no Shape/Polygon and no HPOS/VPOS/WIDTH/HEIGHT".into(),
            })
        }
    };
    let baseline = match el.attr("BASELINE").map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(parse_baseline(s, &bbox).map_err(|e| bad(format!("BASELINE {s:?}: {e}")))?),
    };
    let (text, confidence, char_confidences) = line_text(el);
    Ok(Line {
        text,
        confidence,
        char_confidences,
        tags: resolve_tags(el, tags),
        polygon: scale_points(&polygon, sx, sy),
        baseline: baseline.map(|b| scale_points(&b, sx, sy)),
        bbox: bbox.scaled(sx, sy),
        id,
    })
}

/// `String@CONTENT`s joined as documented at the top of this module; the
/// line's confidence (product of `String@WC`, when every `String` has one)
/// and per-character confidences (from `String@CC`, `1 − digit/10`, with 1
/// for the spaces; empty unless every `String` has a `CC` of its length).
fn line_text(el: &Element) -> (String, Option<f32>, Vec<f32>) {
    let mut text = String::new();
    let mut after_string = false;
    let mut wc: Option<f32> = Some(1.0);
    let mut cc: Option<Vec<f32>> = Some(Vec::new());
    let mut strings = 0;
    let space = |text: &mut String, cc: &mut Option<Vec<f32>>| {
        text.push(' ');
        if let Some(cc) = cc {
            cc.push(1.0);
        }
    };
    for c in &el.children {
        match c.name.as_str() {
            "String" => {
                if after_string {
                    space(&mut text, &mut cc);
                }
                let content = c.attr("CONTENT").unwrap_or_default();
                text.push_str(content);
                strings += 1;
                wc = match (wc, c.attr("WC").and_then(parse_number)) {
                    (Some(p), Some(w)) if (0.0..=1.0).contains(&w) => Some(p * w),
                    _ => None,
                };
                cc = cc.and_then(|mut v| {
                    let digits = parse_cc(c.attr("CC")?, content.chars().count())?;
                    v.extend(digits);
                    Some(v)
                });
                after_string = true;
            }
            "SP" => {
                space(&mut text, &mut cc);
                after_string = false;
            }
            "HYP" => {
                let content = c.attr("CONTENT").unwrap_or_default();
                text.push_str(content);
                if let Some(v) = &mut cc {
                    v.extend(std::iter::repeat_n(1.0, content.chars().count()));
                }
                after_string = false;
            }
            _ => {}
        }
    }
    let confidence = wc.filter(|_| strings > 0);
    let chars = cc.filter(|_| strings > 0).unwrap_or_default();
    (text, confidence, chars)
}

/// ALTO `CC`: one digit per character, `0` sure … `9` unsure, separated by
/// spaces (or not); `None` unless there are exactly `n` digits.
fn parse_cc(cc: &str, n: usize) -> Option<Vec<f32>> {
    let digits: Vec<f32> = cc
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_digit(10).map(|d| 1.0 - d as f32 / 10.0))
        .collect::<Option<_>>()?;
    (digits.len() == n).then_some(digits)
}

/// ALTO ≥ 4.2 point list, or the older single y value across the line box.
fn parse_baseline(s: &str, bbox: &BBox) -> Result<Vec<Point>, String> {
    if !s.contains(|c: char| c == ',' || c.is_whitespace()) {
        let y = parse_number(s).ok_or_else(|| format!("{s:?} is not a number"))?;
        return Ok(vec![(bbox.x0, y), (bbox.x1, y)]);
    }
    parse_points(s)
}

/// `Shape/Polygon@POINTS` of an element, if it has one.
fn shape_polygon(el: &Element) -> Option<Result<Vec<Point>, String>> {
    let points = el.child("Shape")?.child("Polygon")?.attr("POINTS")?;
    Some(parse_points(points).map_err(|e| format!("Shape/Polygon POINTS: {e}")))
}

/// The `HPOS/VPOS/WIDTH/HEIGHT` box, if all four are present.
fn xywh(el: &Element) -> Option<Result<BBox, String>> {
    let names = ["HPOS", "VPOS", "WIDTH", "HEIGHT"];
    let raw: Vec<&str> = names.iter().filter_map(|n| el.attr(n)).collect();
    if raw.len() < 4 {
        return None;
    }
    let mut v = [0f32; 4];
    for (i, s) in raw.iter().enumerate() {
        match parse_number(s) {
            Some(x) => v[i] = x,
            None => return Some(Err(format!("{}={s:?} is not a number", names[i]))),
        }
    }
    Some(Ok(BBox::from_xywh(v[0], v[1], v[2], v[3])))
}

fn required_number(el: &Element, attribute: &str) -> Result<f32, LayoutError> {
    let raw = el
        .attr(attribute)
        .ok_or_else(|| LayoutError::MissingAttribute {
            line: el.line,
            element: el.name.clone(),
            attribute: attribute.into(),
        })?;
    parse_number(raw)
        .filter(|v| *v > 0.0)
        .ok_or_else(|| LayoutError::BadAttribute {
            line: el.line,
            element: el.name.clone(),
            attribute: attribute.into(),
            expected: "a positive number of the MeasurementUnit".into(),
            found: raw.into(),
        })
}

/// Factors from the file's unit to pixels, `(sx, sy)`.
fn unit_scale(
    unit: &str,
    unit_line: usize,
    page_w: f32,
    page_h: f32,
    image: Option<&Path>,
    opts: &ReadOptions,
) -> Result<(f32, f32), LayoutError> {
    let per_inch = match unit {
        "pixel" => return Ok((1.0, 1.0)),
        "mm10" => 254.0,
        "inch1200" => 1200.0,
        other => {
            return Err(LayoutError::BadAttribute {
                line: unit_line,
                element: "MeasurementUnit".into(),
                attribute: "text".into(),
                expected: "pixel, mm10 or inch1200".into(),
                found: other.into(),
            })
        }
    };
    if let Some(dpi) = opts.dpi.filter(|d| d.is_finite() && *d > 0.0) {
        return Ok((dpi / per_inch, dpi / per_inch));
    }
    let need = |reason: String| LayoutError::UnitNeedsResolution {
        unit: unit.into(),
        reason,
    };
    let image = image.ok_or_else(|| need("the file names no image".into()))?;
    let (w, h) =
        image::image_dimensions(image).map_err(|e| need(format!("{}: {e}", image.display())))?;
    Ok((w as f32 / page_w, h as f32 / page_h))
}

fn scale_points(points: &[Point], sx: f32, sy: f32) -> Vec<Point> {
    if sx == 1.0 && sy == 1.0 {
        return points.to_vec();
    }
    points.iter().map(|&(x, y)| (x * sx, y * sy)).collect()
}

/// Tag id → label, over every element of the `Tags` section.
fn tag_labels(root: &Element) -> HashMap<String, String> {
    let mut labels = HashMap::new();
    for tags in root.children_named("Tags") {
        for tag in &tags.children {
            if let Some(id) = tag.attr("ID") {
                let label = tag.attr("LABEL").or(tag.attr("TYPE")).unwrap_or(id);
                labels.insert(id.to_string(), label.to_string());
            }
        }
    }
    labels
}

fn resolve_tags(el: &Element, labels: &HashMap<String, String>) -> Vec<String> {
    el.attr("TAGREFS")
        .unwrap_or_default()
        .split_whitespace()
        .map(|r| labels.get(r).cloned().unwrap_or_else(|| r.to_string()))
        .collect()
}

/// Reorders regions by `ReadingOrder//ElementRef@REF`, if the file has one.
fn apply_reading_order(root: &Element, regions: &mut [Region]) {
    let Some(order) = root.find("ReadingOrder") else {
        return;
    };
    let mut rank: HashMap<&str, usize> = HashMap::new();
    for (i, r) in order
        .descendants()
        .filter(|e| e.name == "ElementRef")
        .filter_map(|e| e.attr("REF"))
        .enumerate()
    {
        rank.entry(r).or_insert(i);
    }
    if rank.is_empty() {
        return;
    }
    let keys: Vec<usize> = regions
        .iter()
        .map(|r| {
            std::iter::once(r.id.as_str())
                .chain(r.lines.iter().map(|l| l.id.as_str()))
                .filter_map(|id| rank.get(id).copied())
                .min()
                .unwrap_or(usize::MAX)
        })
        .collect();
    let mut indexed: Vec<(usize, Region)> = keys.into_iter().zip(regions.iter().cloned()).collect();
    indexed.sort_by_key(|(k, _)| *k);
    for (slot, (_, r)) in regions.iter_mut().zip(indexed) {
        *slot = r;
    }
}
