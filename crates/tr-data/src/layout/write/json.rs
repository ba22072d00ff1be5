//! [`Page`] → JSON (`htr predict --format json`).
//!
//! ```json
//! { "image": "page.png", "width": 2550, "height": 3300, "text": "line 1\nline 2",
//!   "regions": [ { "id": "r0", "polygon": [[x, y], …],
//!     "lines": [ { "id": "l0_0", "text": "…", "confidence": 0.93,
//!                  "char_confidences": [0.99, …], "polygon": [[x, y], …],
//!                  "baseline": [[x, y], …] | null, "bbox": [x0, y0, x1, y1] } ] } ] }
//! ```
//!
//! `text` is every line in reading order joined by `\n`. Coordinates are
//! page pixels as floats (not rounded).

use serde_json::{json, Value};

use super::{ids, WriteOptions};
use crate::layout::geometry::Point;
use crate::layout::model::Page;

fn pts(p: &[Point]) -> Value {
    Value::Array(p.iter().map(|&(x, y)| json!([x, y])).collect())
}

/// The page as a JSON value (see the module docs).
pub fn page_json(page: &Page, opts: &WriteOptions) -> Value {
    let ids = ids(page);
    let text: Vec<&str> = page.lines().map(|l| l.text.as_str()).collect();
    let regions: Vec<Value> = page
        .regions
        .iter()
        .zip(&ids)
        .map(|(r, (rid, lids))| {
            let lines: Vec<Value> = r
                .lines
                .iter()
                .zip(lids)
                .map(|(l, lid)| {
                    json!({
                        "id": lid,
                        "text": l.text,
                        "confidence": l.confidence,
                        "char_confidences": l.char_confidences,
                        "polygon": pts(&l.polygon),
                        "baseline": l.baseline.as_deref().map(pts),
                        "bbox": [l.bbox.x0, l.bbox.y0, l.bbox.x1, l.bbox.y1],
                    })
                })
                .collect();
            json!({
                "id": rid,
                "polygon": r.polygon.as_deref().map(pts),
                "lines": lines,
            })
        })
        .collect();
    json!({
        "image": opts.image_name(page),
        "width": page.width,
        "height": page.height,
        "text": text.join("\n"),
        "regions": regions,
    })
}
