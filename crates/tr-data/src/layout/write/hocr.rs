//! [`Page`] → hOCR 1.2 (HTML with OCR properties in `title`).
//!
//! `ocr_page` (`image`, `bbox`) → one `ocr_carea` + `ocr_par` per region →
//! `ocr_line` per line with `bbox`, `poly` (the polygon), `baseline`
//! (`slope offset`, relative to the box's bottom-left corner, as hOCR
//! defines it) and `x_wconf` (confidence × 100). No word boxes: the line's
//! text is the `ocr_line`'s content.

use std::fmt::Write;

use super::{escape, ids, WriteOptions};
use crate::layout::geometry::BBox;
use crate::layout::model::{Line, Page};

/// Writes `page` as an hOCR document.
pub fn write_hocr(page: &Page, opts: &WriteOptions) -> String {
    let mut s = String::new();
    let ids = ids(page);
    let _ = writeln!(
        s,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head>
  <title></title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name="ocr-system" content="{}"/>
  <meta name="ocr-capabilities" content="ocr_page ocr_carea ocr_par ocr_line"/>
</head>
<body>"#,
        escape(&opts.creator)
    );
    let _ = writeln!(
        s,
        r#"  <div class="ocr_page" id="page_0" title="image &quot;{}&quot;; bbox 0 0 {} {}; ppageno 0">"#,
        escape(&opts.image_name(page)),
        page.width,
        page.height
    );
    for (region, (rid, line_ids)) in page.regions.iter().zip(&ids) {
        let b = region
            .lines
            .iter()
            .map(|l| BBox::of_points(&l.polygon).unwrap_or(l.bbox))
            .reduce(|a, b| a.union(&b))
            .or(region.polygon.as_deref().and_then(BBox::of_points));
        let bbox = b
            .map(|b| format!(r#" title="{}""#, bbox(&b)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            r#"    <div class="ocr_carea" id="{rid}"{bbox}>
      <p class="ocr_par" id="par_{rid}"{bbox}>"#
        );
        for (line, lid) in region.lines.iter().zip(line_ids) {
            let _ = writeln!(
                s,
                r#"        <span class="ocr_line" id="{lid}" title="{}">{}</span>"#,
                line_title(line),
                escape(&line.text)
            );
        }
        let _ = writeln!(s, "      </p>\n    </div>");
    }
    let _ = writeln!(s, "  </div>\n</body>\n</html>");
    s
}

fn bbox(b: &BBox) -> String {
    format!(
        "bbox {} {} {} {}",
        b.x0.floor() as i64,
        b.y0.floor() as i64,
        b.x1.ceil() as i64,
        b.y1.ceil() as i64
    )
}

fn line_title(line: &Line) -> String {
    let b = BBox::of_points(&line.polygon).unwrap_or(line.bbox);
    let mut t = bbox(&b);
    if line.polygon.len() >= 3 {
        let pts: Vec<String> = line
            .polygon
            .iter()
            .map(|&(x, y)| format!("{} {}", x.round() as i64, y.round() as i64))
            .collect();
        let _ = write!(t, "; poly {}", pts.join(" "));
    }
    if let Some(bl) = line.baseline.as_deref().filter(|b| b.len() >= 2) {
        let (first, last) = (bl[0], bl[bl.len() - 1]);
        let dx = last.0 - first.0;
        let slope = if dx.abs() > f32::EPSILON {
            (last.1 - first.1) / dx
        } else {
            0.0
        };
        // The baseline's y at the box's left edge, relative to its bottom.
        let y_left = first.1 + slope * (b.x0.floor() - first.0);
        let _ = write!(
            t,
            "; baseline {slope:.4} {}",
            (y_left - b.y1.ceil()).round() as i64
        );
    }
    if let Some(c) = line.confidence {
        let _ = write!(
            t,
            "; x_wconf {}",
            (c.clamp(0.0, 1.0) * 100.0).round() as i64
        );
    }
    t
}
