//! PAGE XML (PRImA `PcGts`, the 2009 to 2019 schemas; any namespace
//! prefix) → [`Page`].
//!
//! What is read, by local name:
//!
//! * `Page@imageFilename` (resolved relative to the XML file's folder),
//!   `@imageWidth`, `@imageHeight` (required).
//! * every `TextRegion` under the page, nested ones (and those inside other
//!   regions such as `TableRegion`) included, pre-order; each keeps its own
//!   direct `TextLine` children. Region kind = `@type`, else the `custom`
//!   attribute's `structure {type:…}`.
//! * `ReadingOrder`: `OrderedGroup`/`OrderedGroupIndexed` children sorted by
//!   `@index`, `UnorderedGroup*` in document order, `RegionRef*@regionRef`
//!   (and a group's own `@regionRef`) flattened into one sequence; regions it
//!   does not mention follow in document order.
//! * `TextLine`: `@id`; `Coords@points` (or the 2009/2010 `Point@x/@y`
//!   children); `Baseline@points`; text from the line's **own** direct
//!   `TextEquiv` (not its words' nor its region's): the one with the lowest
//!   `@index`, else the first, its `Unicode` (else `PlainText`) and `@conf`; tags from
//!   `custom` `structure {type:…}` and `@type`. Lines of a region are sorted
//!   by `custom` `readingOrder {index:N;}` when every line has one.

use std::collections::HashMap;
use std::path::Path;

use super::error::LayoutError;
use super::geometry::{parse_number, parse_points, BBox, Point};
use super::model::{
    common_skip, LayoutFormat, Line, Page, ReadOptions, Region, SkipReason, SkippedLine,
};
use super::xml::Element;

/// Builds the page of a parsed PAGE document; `xml` is the file's path (for the image).
pub(crate) fn from_root(
    root: &Element,
    xml: &Path,
    opts: &ReadOptions,
) -> Result<Page, LayoutError> {
    let page = root
        .child("Page")
        .ok_or_else(|| LayoutError::MissingElement {
            element: "Page".into(),
            parent: Some(root.name.clone()),
        })?;
    let image = page
        .attr("imageFilename")
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| super::resolve_image(xml, f));
    let width = size_attr(page, "imageWidth")?;
    let height = size_attr(page, "imageHeight")?;

    let mut regions = Vec::new();
    let mut skipped = Vec::new();
    for el in page.descendants().filter(|e| e.name == "TextRegion") {
        let custom = parse_custom(el.attr("custom").unwrap_or_default());
        let mut lines: Vec<(Option<i64>, Line)> = Vec::new();
        for line_el in el.children_named("TextLine") {
            match read_line(line_el) {
                Ok((order, line)) => match common_skip(&line, width, height, opts) {
                    Some(skip) => skipped.push(skip),
                    None => lines.push((order, line)),
                },
                Err(skip) => skipped.push(skip),
            }
        }
        if lines.iter().all(|(o, _)| o.is_some()) {
            lines.sort_by_key(|(o, _)| *o);
        }
        regions.push(Region {
            id: el.attr("id").unwrap_or_default().to_string(),
            kind: el
                .attr("type")
                .map(str::to_string)
                .or_else(|| custom_value(&custom, "structure", "type")),
            tags: Vec::new(),
            polygon: coords(el).and_then(|p| p.ok()).filter(|p| !p.is_empty()),
            lines: lines.into_iter().map(|(_, l)| l).collect(),
        });
    }
    if let Some(order) = page.child("ReadingOrder") {
        let mut sequence = Vec::new();
        for group in &order.children {
            flatten_order(group, &mut sequence);
        }
        let rank: HashMap<&str, usize> = sequence
            .iter()
            .enumerate()
            .rev()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        regions.sort_by_key(|r| rank.get(r.id.as_str()).copied().unwrap_or(usize::MAX));
    }

    Ok(Page {
        xml: xml.to_path_buf(),
        format: LayoutFormat::Page(root.namespace.clone()),
        image,
        width,
        height,
        regions,
        skipped,
    })
}

/// One `TextLine`, with its `custom` reading-order index.
fn read_line(el: &Element) -> Result<(Option<i64>, Line), SkippedLine> {
    let id = el.attr("id").unwrap_or_default().to_string();
    let bad = |detail: String| SkippedLine {
        id: id.clone(),
        reason: SkipReason::BadCoordinates,
        detail,
    };
    let polygon = match coords(el) {
        None => {
            return Err(SkippedLine {
                id,
                reason: SkipReason::NoGeometry,
                detail: "no Coords".into(),
            })
        }
        Some(p) => p.map_err(&bad)?,
    };
    let bbox = BBox::of_points(&polygon).ok_or_else(|| SkippedLine {
        id: id.clone(),
        reason: SkipReason::ZeroArea,
        detail: "Coords without points".into(),
    })?;
    let baseline = match el.child("Baseline").and_then(|b| b.attr("points")) {
        None => None,
        Some(s) => Some(parse_points(s).map_err(|e| bad(format!("Baseline points: {e}")))?),
    };
    let custom = parse_custom(el.attr("custom").unwrap_or_default());
    let mut tags = Vec::new();
    if let Some(t) = custom_value(&custom, "structure", "type") {
        tags.push(t);
    }
    if let Some(t) = el.attr("type") {
        tags.push(t.to_string());
    }
    let order = custom_value(&custom, "readingOrder", "index").and_then(|v| v.parse().ok());
    let (text, confidence) = line_text(el);
    Ok((
        order,
        Line {
            text,
            tags,
            polygon,
            baseline,
            bbox,
            id,
            confidence,
            char_confidences: Vec::new(),
        },
    ))
}

/// The line's own `TextEquiv` (lowest `@index`, else the first) →
/// `Unicode`/`PlainText`, and its `@conf`.
fn line_text(el: &Element) -> (String, Option<f32>) {
    let equivs: Vec<&Element> = el.children_named("TextEquiv").collect();
    let index = |e: &Element| e.attr("index").and_then(|i| i.trim().parse::<i64>().ok());
    let chosen = equivs
        .iter()
        .filter(|e| index(e).is_some())
        .min_by_key(|e| index(e))
        .or(equivs.first());
    let text = chosen
        .and_then(|e| e.child("Unicode").or(e.child("PlainText")))
        .map(|u| u.text.clone())
        .unwrap_or_default();
    let conf = chosen
        .and_then(|e| e.attr("conf"))
        .and_then(parse_number)
        .filter(|c| (0.0..=1.0).contains(c));
    (text, conf)
}

/// `Coords@points`, or the older `Coords/Point@x,@y` children.
fn coords(el: &Element) -> Option<Result<Vec<Point>, String>> {
    let c = el.child("Coords")?;
    if let Some(points) = c.attr("points") {
        return Some(parse_points(points).map_err(|e| format!("Coords points: {e}")));
    }
    let pts: Result<Vec<Point>, String> = c
        .children_named("Point")
        .map(|p| {
            let num = |a| p.attr(a).and_then(parse_number);
            match (num("x"), num("y")) {
                (Some(x), Some(y)) => Ok((x, y)),
                _ => Err(format!("line {}: Point without numeric x and y", p.line)),
            }
        })
        .collect();
    Some(pts)
}

fn size_attr(el: &Element, attribute: &str) -> Result<u32, LayoutError> {
    let raw = el
        .attr(attribute)
        .ok_or_else(|| LayoutError::MissingAttribute {
            line: el.line,
            element: el.name.clone(),
            attribute: attribute.into(),
        })?;
    parse_number(raw)
        .filter(|v| *v >= 1.0)
        .map(|v| v.round() as u32)
        .ok_or_else(|| LayoutError::BadAttribute {
            line: el.line,
            element: el.name.clone(),
            attribute: attribute.into(),
            expected: "a positive number of pixels".into(),
            found: raw.into(),
        })
}

/// Flattens a reading-order group (or reference) into region ids in order.
fn flatten_order(el: &Element, out: &mut Vec<String>) {
    if let Some(r) = el.attr("regionRef") {
        out.push(r.to_string());
    }
    let mut children: Vec<&Element> = el.children.iter().collect();
    if el.name.starts_with("OrderedGroup") {
        children.sort_by_key(|c| {
            c.attr("index")
                .and_then(|i| i.trim().parse::<i64>().ok())
                .unwrap_or(i64::MAX)
        });
    }
    for c in children {
        flatten_order(c, out);
    }
}

/// PAGE's `custom` attribute: `name {key:value; key:value;} name {…}`.
fn parse_custom(s: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let name = rest[..open].trim().to_string();
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let body = &rest[open + 1..open + close];
        let pairs = body
            .split(';')
            .filter_map(|kv| kv.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        out.push((name, pairs));
        rest = &rest[open + close + 1..];
    }
    out
}

fn custom_value(
    custom: &[(String, Vec<(String, String)>)],
    group: &str,
    key: &str,
) -> Option<String> {
    custom
        .iter()
        .filter(|(g, _)| g == group)
        .flat_map(|(_, kv)| kv.iter())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_attribute_groups() {
        let c = parse_custom("readingOrder {index:3;} structure {type:heading;} textStyle {offset:0; length:4;strikethrough:true;}");
        assert_eq!(
            custom_value(&c, "readingOrder", "index").as_deref(),
            Some("3")
        );
        assert_eq!(
            custom_value(&c, "structure", "type").as_deref(),
            Some("heading")
        );
        assert_eq!(
            custom_value(&c, "textStyle", "length").as_deref(),
            Some("4")
        );
        assert!(parse_custom("").is_empty());
        assert!(parse_custom("broken {index:1").is_empty());
    }
}
