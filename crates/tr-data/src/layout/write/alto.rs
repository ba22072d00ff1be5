//! [`Page`] → ALTO v4 (4.2: polygons and baselines as `x,y` point lists).
//!
//! ```xml
//! <alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
//!   <Description><MeasurementUnit>pixel</MeasurementUnit>
//!     <sourceImageInformation><fileName>…</fileName></sourceImageInformation> …</Description>
//!   <Layout><Page ID="page_0" PHYSICAL_IMG_NR="1" WIDTH="W" HEIGHT="H">
//!     <PrintSpace HPOS="0" VPOS="0" WIDTH="W" HEIGHT="H">
//!       <TextBlock ID="r0" …><Shape><Polygon POINTS="…"/></Shape>
//!         <TextLine ID="l0_0" HPOS VPOS WIDTH HEIGHT BASELINE="x,y x,y">
//!           <Shape><Polygon POINTS="…"/></Shape>
//!           <String CONTENT="word" WC="0.97" CC="0 0 1 0"/><SP/>…
//! ```
//!
//! A line's text is cut into words (`String`) at spaces, each space one
//! `SP`, so our reader (which joins them back the same way) gets the exact
//! text, runs of spaces included. `WC` is the word's confidence: the product
//! of its characters' confidences when the line has them, else the line's
//! confidence spread evenly (`c^(1/words)`), so the product of a line's
//! `WC`s is its confidence. `CC` holds one digit per character, `0` sure to
//! `9` unsure (`round(10·(1 − c))`, at most 9).

use std::fmt::Write;

use super::{escape, ids, points, WriteOptions};
use crate::layout::geometry::BBox;
use crate::layout::model::{Line, Page};

/// The ALTO v4 namespace.
pub const ALTO_V4_NS: &str = "http://www.loc.gov/standards/alto/ns-v4#";

/// Writes `page` as an ALTO v4 document.
pub fn write_alto(page: &Page, opts: &WriteOptions) -> String {
    let mut s = String::new();
    let ids = ids(page);
    let (w, h) = (page.width.max(1), page.height.max(1));
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<alto xmlns="{ALTO_V4_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{ALTO_V4_NS} http://www.loc.gov/alto/v4/alto-4-2.xsd">"#
    );
    let _ = writeln!(
        s,
        "  <Description>\n    <MeasurementUnit>pixel</MeasurementUnit>\n    <sourceImageInformation>\n      <fileName>{}</fileName>\n    </sourceImageInformation>",
        escape(&opts.image_name(page))
    );
    let _ = writeln!(
        s,
        "    <OCRProcessing ID=\"OCR_0\">\n      <ocrProcessingStep>\n        <processingDateTime>{}</processingDateTime>\n        <processingSoftware>\n          <softwareName>{}</softwareName>\n        </processingSoftware>\n      </ocrProcessingStep>\n    </OCRProcessing>\n  </Description>",
        escape(&opts.created()),
        escape(&opts.creator)
    );
    let _ = writeln!(
        s,
        r#"  <Layout>
    <Page ID="page_0" PHYSICAL_IMG_NR="1" WIDTH="{w}" HEIGHT="{h}">
      <PrintSpace HPOS="0" VPOS="0" WIDTH="{w}" HEIGHT="{h}">"#
    );
    for (region, (rid, line_ids)) in page.regions.iter().zip(&ids) {
        let lines_box = region.lines.iter().map(line_box).reduce(|a, b| a.union(&b));
        let b = region
            .polygon
            .as_deref()
            .and_then(BBox::of_points)
            .or(lines_box)
            .unwrap_or(BBox::from_xywh(0.0, 0.0, w as f32, h as f32));
        let _ = write!(s, r#"        <TextBlock ID="{rid}"{}>"#, xywh(&b));
        if let Some(p) = region.polygon.as_deref().filter(|p| p.len() >= 3) {
            let _ = write!(
                s,
                "\n          <Shape><Polygon POINTS=\"{}\"/></Shape>",
                points(p)
            );
        }
        s.push('\n');
        for (line, lid) in region.lines.iter().zip(line_ids) {
            write_line(&mut s, line, lid);
        }
        let _ = writeln!(s, "        </TextBlock>");
    }
    let _ = writeln!(s, "      </PrintSpace>\n    </Page>\n  </Layout>\n</alto>");
    s
}

fn line_box(l: &Line) -> BBox {
    BBox::of_points(&l.polygon).unwrap_or(l.bbox)
}

/// ` HPOS="…" VPOS="…" WIDTH="…" HEIGHT="…"`, integers covering the box.
fn xywh(b: &BBox) -> String {
    let (x0, y0) = (b.x0.floor(), b.y0.floor());
    let (x1, y1) = (b.x1.ceil(), b.y1.ceil());
    format!(
        r#" HPOS="{}" VPOS="{}" WIDTH="{}" HEIGHT="{}""#,
        x0 as i64,
        y0 as i64,
        (x1 - x0).max(1.0) as i64,
        (y1 - y0).max(1.0) as i64
    )
}

fn write_line(s: &mut String, line: &Line, id: &str) {
    let baseline = line
        .baseline
        .as_deref()
        .filter(|b| b.len() >= 2)
        .map(|b| format!(r#" BASELINE="{}""#, points(b)))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        r#"          <TextLine ID="{id}"{}{baseline}>"#,
        xywh(&line.bbox)
    );
    if line.polygon.len() >= 3 {
        let _ = writeln!(
            s,
            "            <Shape><Polygon POINTS=\"{}\"/></Shape>",
            points(&line.polygon)
        );
    }
    let chars: Vec<char> = line.text.chars().collect();
    let per_char = (line.char_confidences.len() == chars.len()).then_some(&line.char_confidences);
    let words = chars.split(|c| *c == ' ').filter(|w| !w.is_empty()).count();
    let spread = line
        .confidence
        .map(|c| c.clamp(0.0, 1.0).powf(1.0 / words.max(1) as f32));
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            let _ = writeln!(s, "            <SP/>");
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] != ' ' {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let mut attrs = String::new();
        match per_char {
            Some(cc) => {
                let mine = &cc[start..i];
                let wc: f32 = mine.iter().product();
                let digits: Vec<String> = mine
                    .iter()
                    .map(|c| {
                        (((1.0 - c.clamp(0.0, 1.0)) * 10.0).round() as u32)
                            .min(9)
                            .to_string()
                    })
                    .collect();
                let _ = write!(attrs, r#" WC="{wc:.4}" CC="{}""#, digits.join(" "));
            }
            None => {
                if let Some(c) = spread {
                    let _ = write!(attrs, r#" WC="{c:.4}""#);
                }
            }
        }
        let _ = writeln!(
            s,
            r#"            <String CONTENT="{}"{attrs}/>"#,
            escape(&word)
        );
    }
    let _ = writeln!(s, "          </TextLine>");
}
