//! Choosing the lines a dataset trains on: by tag (e.g. handwritten only), by
//! text (e.g. Copiste's page-reference lines) and by having text at all —
//! every line left out is counted with its reason, never dropped silently.
//!
//! The checks run in this order and the first that fails names the reason:
//! empty text ([`SkipReason::EmptyText`]), tags ([`SkipReason::TagFiltered`]),
//! text exclusions ([`SkipReason::TextExcluded`]). That is the order the
//! shared collections' READMEs count in (Stanford: an empty signature line is
//! counted as "empty text", not as "not handwriting").

use super::model::{Line, Page, SkipReason, SkippedLine};

/// Which lines to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineFilter {
    /// Keep only lines carrying one of these tags; empty = no tag rule. A tag
    /// matches when equal ignoring case, or when its last `:`-separated part
    /// is (so `handwritten` matches SegmOnto's `DefaultLine:Handwritten` and
    /// `InterlinearLine:Handwritten`).
    pub tags: Vec<String>,
    /// Leave out lines whose text contains one of these, ignoring case.
    pub exclude_text: Vec<String>,
    /// Leave out lines whose text is empty or white space (default on).
    pub require_text: bool,
}

impl Default for LineFilter {
    fn default() -> Self {
        LineFilter {
            tags: Vec::new(),
            exclude_text: Vec::new(),
            require_text: true,
        }
    }
}

impl LineFilter {
    /// Keeps only lines tagged with one of `tags`.
    pub fn with_tags<S: Into<String>>(tags: impl IntoIterator<Item = S>) -> Self {
        LineFilter {
            tags: tags.into_iter().map(Into::into).collect(),
            ..LineFilter::default()
        }
    }

    /// Why `line` is left out, or `None` to keep it.
    pub fn reason(&self, line: &Line) -> Option<SkippedLine> {
        let skip = |reason, detail: String| {
            Some(SkippedLine {
                id: line.id.clone(),
                reason,
                detail,
            })
        };
        if self.require_text && line.text.trim().is_empty() {
            return skip(SkipReason::EmptyText, format!("text {:?}", line.text));
        }
        if !self.tags.is_empty() && !line.tags.iter().any(|t| self.tag_wanted(t)) {
            let detail = if line.tags.is_empty() {
                "no tags".to_string()
            } else {
                format!("tags {}", line.tags.join(", "))
            };
            return skip(SkipReason::TagFiltered, detail);
        }
        let lower = line.text.to_lowercase();
        if let Some(p) = self
            .exclude_text
            .iter()
            .find(|p| lower.contains(&p.to_lowercase()))
        {
            return skip(SkipReason::TextExcluded, format!("text contains {p:?}"));
        }
        None
    }

    /// Moves the lines this filter rejects from the page's regions into
    /// [`Page::skipped`].
    pub fn apply(&self, page: &mut Page) {
        for region in &mut page.regions {
            let mut kept = Vec::with_capacity(region.lines.len());
            for line in region.lines.drain(..) {
                match self.reason(&line) {
                    Some(skip) => page.skipped.push(skip),
                    None => kept.push(line),
                }
            }
            region.lines = kept;
        }
    }

    fn tag_wanted(&self, tag: &str) -> bool {
        let last = tag.rsplit(':').next().unwrap_or(tag);
        self.tags
            .iter()
            .any(|w| w.eq_ignore_ascii_case(tag) || w.eq_ignore_ascii_case(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::BBox;

    fn line(text: &str, tags: &[&str]) -> Line {
        Line {
            id: "l".into(),
            polygon: Vec::new(),
            baseline: None,
            bbox: BBox::from_xywh(0.0, 0.0, 1.0, 1.0),
            text: text.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            confidence: None,
            char_confidences: Vec::new(),
        }
    }

    #[test]
    fn emptiness_then_tags_then_text() {
        let f = LineFilter {
            exclude_text: vec!["WIKItexte".into()],
            ..LineFilter::with_tags(["handwritten"])
        };
        assert!(f
            .reason(&line("ok", &["DefaultLine:Handwritten"]))
            .is_none());
        assert!(f
            .reason(&line("ok", &["InterlinearLine:Handwritten"]))
            .is_none());
        assert!(f.reason(&line("ok", &["handwritten"])).is_none());
        let r = |t, tags: &[&str]| f.reason(&line(t, tags)).map(|s| s.reason);
        assert_eq!(
            r("", &["DefaultLine:Signature"]),
            Some(SkipReason::EmptyText)
        );
        assert_eq!(
            r("J. Doe", &["DefaultLine:Signature"]),
            Some(SkipReason::TagFiltered)
        );
        assert_eq!(r("x", &[]), Some(SkipReason::TagFiltered));
        assert_eq!(
            r("imp_wikitexte_0022", &["Handwritten"]),
            Some(SkipReason::TextExcluded)
        );
        assert_eq!(r("  ", &["Handwritten"]), Some(SkipReason::EmptyText));
        let keep_all = LineFilter {
            require_text: false,
            ..LineFilter::default()
        };
        assert!(keep_all.reason(&line("", &[])).is_none());
    }
}
