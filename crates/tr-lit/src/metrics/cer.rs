//! Character error rate, corpus and per-line mean: [`CharErrorRate`].

use std::collections::HashSet;

use tr_data::ContentRule;
use tr_data::Vocabulary;

use super::edit_distance::edit_distance;

/// Accumulating character error rate.
///
/// Character error rate: edit distance / reference length, accumulated over
/// batches, with special tokens ignored (or, [`CharErrorRate::for_vocab`],
/// both sides read as text by the content rule inference uses).
///
/// Two figures are kept (DESIGN.md asks tables to name which one they use):
///
/// * **corpus** CER = Σ edits / Σ reference lengths — what torchmetrics'
///   `CharErrorRate` (the course's metric) computes; long lines weigh more;
/// * **per-line mean** CER = mean over lines of edits / max(reference
///   length, 1) — every line weighs the same.
///
/// An empty reference counts as length 1 for the per-line figure (so an
/// empty line read as "ab" has CER 2); the corpus figure is 0 when no
/// reference characters were seen at all and no edits were made.
#[derive(Clone, Debug, Default)]
pub struct CharErrorRate {
    /// Reads both sides as text first (`for_vocab`).
    rule: Option<ContentRule>,
    ignore: HashSet<u32>,
    edits: usize,
    reference_len: usize,
    line_sum: f64,
    lines: usize,
}

impl CharErrorRate {
    /// Ignores the given label indices in both hypotheses and references.
    pub fn new(ignore: impl IntoIterator<Item = u32>) -> Self {
        Self {
            ignore: ignore.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Compares the text of both sides by `vocab`'s content rule
    /// ([`tr_data::ContentRule`], what inference returns): `<S>`, `<B>` and
    /// other special tokens skipped, reading stops at the first `<E>`/`<P>`.
    pub fn for_vocab(vocab: &Vocabulary) -> Self {
        Self {
            rule: Some(ContentRule::of(vocab)),
            ..Self::default()
        }
    }

    /// Adds one batch of hypothesis / reference label sequences (paired by
    /// position; extra entries of the longer list are ignored).
    pub fn update(&mut self, hypotheses: &[Vec<u32>], references: &[Vec<u32>]) {
        for (h, r) in hypotheses.iter().zip(references) {
            self.update_line(h, r);
        }
    }

    /// Adds one line.
    pub fn update_line(&mut self, hypothesis: &[u32], reference: &[u32]) {
        let h = self.kept(hypothesis);
        let r = self.kept(reference);
        let edits = edit_distance(&h, &r);
        self.edits += edits;
        self.reference_len += r.len();
        self.line_sum += edits as f64 / r.len().max(1) as f64;
        self.lines += 1;
    }

    fn kept(&self, labels: &[u32]) -> Vec<u32> {
        kept(self.rule.as_ref(), &self.ignore, labels)
    }

    /// Σ edits / Σ reference lengths over everything since the last reset.
    pub fn corpus(&self) -> f64 {
        if self.reference_len == 0 {
            return if self.edits == 0 {
                0.0
            } else {
                self.edits as f64
            };
        }
        self.edits as f64 / self.reference_len as f64
    }

    /// Mean of the per-line CERs (0 when no line was added).
    pub fn mean(&self) -> f64 {
        if self.lines == 0 {
            0.0
        } else {
            self.line_sum / self.lines as f64
        }
    }

    /// Total edits and reference characters so far.
    pub fn counts(&self) -> (usize, usize) {
        (self.edits, self.reference_len)
    }

    /// Number of lines added.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Forgets everything added (keeps the ignored indices).
    pub fn reset(&mut self) {
        self.edits = 0;
        self.reference_len = 0;
        self.line_sum = 0.0;
        self.lines = 0;
    }
}

/// `labels` read as text by `rule` (when given), without `ignore`d labels.
pub(crate) fn kept(rule: Option<&ContentRule>, ignore: &HashSet<u32>, labels: &[u32]) -> Vec<u32> {
    let text = match rule {
        Some(r) => r.content(labels),
        None => labels.to_vec(),
    };
    text.into_iter().filter(|l| !ignore.contains(l)).collect()
}
