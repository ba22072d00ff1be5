//! Page outputs: the [`Page`] model written as PAGE 2019 XML, ALTO v4,
//! hOCR and JSON — what recognisers hand to page tools (Transkribus,
//! eScriptorium, kraken, hOCR viewers), and what our own readers
//! ([`super::read_page`]) read back.
//!
//! | function | format |
//! |---|---|
//! | [`write_page_xml`] | PAGE 2019-07-15 (`PcGts`): one `TextRegion` per region, a `ReadingOrder`, lines with `Coords`, `Baseline`, `TextEquiv@conf` |
//! | [`write_alto`] | ALTO v4 (4.2 point lists): one `TextBlock` per region, lines with box, `Shape/Polygon`, `BASELINE`, words as `String` (`WC`, `CC`) and spaces as `SP` |
//! | [`write_hocr`] | hOCR 1.2 HTML: `ocr_page` → `ocr_carea` → `ocr_par` → `ocr_line` (`bbox`, `poly`, `baseline`, `x_wconf`) |
//! | [`page_json`] | JSON: regions and lines with polygons, baselines, confidences, per-character confidences |
//!
//! Coordinates are written as page pixels rounded to integers (PAGE and ALTO
//! point lists are integers in practice; kraken and Transkribus write them
//! so). Text is escaped for XML; nothing else is changed, so a page read
//! back has the same text. Region and line ids that are empty or not valid
//! XML ids are replaced by `r{i}` / `l{i}_{j}`.

mod alto;
mod hocr;
mod json;
mod page_xml;

pub use alto::write_alto;
pub use hocr::write_hocr;
pub use json::page_json;
pub use page_xml::write_page_xml;

use super::geometry::Point;
use super::model::Page;

/// What the writers put around the page itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// The software named as creator (PAGE `Metadata/Creator`, ALTO
    /// `processingSoftware`, hOCR `ocr-system`).
    pub creator: String,
    /// Creation time, ISO 8601 (`2026-01-31T12:00:00Z`); `None` = now.
    pub created: Option<String>,
    /// The image file name written into the file; `None` = the page's
    /// image path as it is (file name only when that path is absolute).
    pub image_name: Option<String>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            creator: format!("tr {}", env!("CARGO_PKG_VERSION")),
            created: None,
            image_name: None,
        }
    }
}

impl WriteOptions {
    pub(crate) fn created(&self) -> String {
        self.created.clone().unwrap_or_else(now_iso8601)
    }

    pub(crate) fn image_name(&self, page: &Page) -> String {
        if let Some(n) = &self.image_name {
            return n.clone();
        }
        match &page.image {
            None => String::new(),
            Some(p) if p.is_absolute() => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Some(p) => p.to_string_lossy().into_owned(),
        }
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_iso8601() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        (rest / 60) % 60,
        rest % 60
    )
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `s` with `& < > " '` escaped (attribute- and text-safe); characters XML
/// 1.0 forbids (controls other than tab, newline, carriage return) are dropped.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// `x,y x,y …` with integer coordinates (PAGE, ALTO 4.2).
pub(crate) fn points(p: &[Point]) -> String {
    p.iter()
        .map(|&(x, y)| format!("{},{}", x.round() as i64, y.round() as i64))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A valid XML id: `id` itself when it is one, else `fallback`.
pub(crate) fn xml_id(id: &str, fallback: String) -> String {
    let mut chars = id.chars();
    let ok = match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {
            chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        }
        _ => false,
    };
    if ok {
        id.to_string()
    } else {
        fallback
    }
}

/// Region and line ids, unique across the page: the file's own where they
/// are valid and not yet used, else `r{i}` / `l{i}_{j}`.
pub(crate) fn ids(page: &Page) -> Vec<(String, Vec<String>)> {
    let mut seen = std::collections::HashSet::new();
    let mut take = |id: &str, fallback: String| {
        let mut chosen = xml_id(id, fallback.clone());
        if !seen.insert(chosen.clone()) {
            chosen = fallback;
            while !seen.insert(chosen.clone()) {
                chosen.push('_');
            }
        }
        chosen
    };
    page.regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rid = take(&r.id, format!("r{i}"));
            let lines = r
                .lines
                .iter()
                .enumerate()
                .map(|(j, l)| take(&l.id, format!("l{i}_{j}")))
                .collect();
            (rid, lines)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_escapes_and_ids() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(now_iso8601().len(), 20);
        assert_eq!(
            escape("a<b & \"c\"\n\u{1}"),
            "a&lt;b &amp; &quot;c&quot;&#10;"
        );
        assert_eq!(points(&[(1.4, 2.6), (-3.0, 0.0)]), "1,3 -3,0");
        assert_eq!(xml_id("line_1", "x".into()), "line_1");
        assert_eq!(xml_id("1line", "x".into()), "x");
        assert_eq!(xml_id("", "x".into()), "x");
    }
}
