//! Accuracies: classification / exact-sequence match ([`Accuracy`]) and
//! position-wise character accuracy ([`CharAccuracy`]), accumulated over
//! batches.

use std::collections::HashSet;

use tr_data::ContentRule;
use tr_data::Vocabulary;

use super::cer::kept;

/// Fraction of items predicted exactly: classes for classifiers, whole
/// label sequences (after dropping ignored tokens) for sequence models.
#[derive(Clone, Debug, Default)]
pub struct Accuracy {
    rule: Option<ContentRule>,
    ignore: HashSet<u32>,
    correct: usize,
    total: usize,
}

impl Accuracy {
    /// Counts exact matches, ignoring the given label indices in sequences.
    pub fn new(ignore: impl IntoIterator<Item = u32>) -> Self {
        Self {
            ignore: ignore.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Sequence accuracy of the text of both sides by `vocab`'s content
    /// rule ([`tr_data::ContentRule`]: special tokens skipped, stop at the
    /// first `<E>`/`<P>`).
    pub fn for_vocab(vocab: &Vocabulary) -> Self {
        Self {
            rule: Some(ContentRule::of(vocab)),
            ..Self::default()
        }
    }

    /// Adds a batch of predicted / true classes.
    pub fn update_classes(&mut self, predictions: &[u32], targets: &[u32]) {
        for (p, t) in predictions.iter().zip(targets) {
            self.correct += usize::from(p == t);
            self.total += 1;
        }
    }

    /// Adds a batch of predicted / true sequences; one item per sequence.
    pub fn update(&mut self, predictions: &[Vec<u32>], targets: &[Vec<u32>]) {
        for (p, t) in predictions.iter().zip(targets) {
            let (p, t) = (self.kept(p), self.kept(t));
            self.correct += usize::from(p == t);
            self.total += 1;
        }
    }

    fn kept(&self, labels: &[u32]) -> Vec<u32> {
        kept(self.rule.as_ref(), &self.ignore, labels)
    }

    /// Correct / total (0 when empty).
    pub fn compute(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }

    /// `(correct, total)`.
    pub fn counts(&self) -> (usize, usize) {
        (self.correct, self.total)
    }

    /// Forgets everything added (keeps the ignored indices).
    pub fn reset(&mut self) {
        self.correct = 0;
        self.total = 0;
    }
}

/// Position-wise character accuracy: after dropping ignored tokens,
/// `Σ #{i : hyp[i] = ref[i]} / Σ max(|hyp|, |ref|)` — the per-position
/// accuracy fixed-length readers (`line-cnn-simple`) are judged by; an
/// insertion or deletion shifts every later position, which is what CER
/// forgives and this metric does not.
#[derive(Clone, Debug, Default)]
pub struct CharAccuracy {
    rule: Option<ContentRule>,
    ignore: HashSet<u32>,
    correct: usize,
    total: usize,
    lines: usize,
}

impl CharAccuracy {
    /// Ignores the given label indices.
    pub fn new(ignore: impl IntoIterator<Item = u32>) -> Self {
        Self {
            ignore: ignore.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Compares the text of both sides by `vocab`'s content rule
    /// ([`tr_data::ContentRule`]).
    pub fn for_vocab(vocab: &Vocabulary) -> Self {
        Self {
            rule: Some(ContentRule::of(vocab)),
            ..Self::default()
        }
    }

    /// Adds a batch of predicted / true sequences.
    pub fn update(&mut self, predictions: &[Vec<u32>], targets: &[Vec<u32>]) {
        for (p, t) in predictions.iter().zip(targets) {
            let (p, t) = (self.kept(p), self.kept(t));
            self.correct += p.iter().zip(&t).filter(|(a, b)| a == b).count();
            self.total += p.len().max(t.len());
            self.lines += 1;
        }
    }

    fn kept(&self, labels: &[u32]) -> Vec<u32> {
        kept(self.rule.as_ref(), &self.ignore, labels)
    }

    /// Correct positions / compared positions: 0 before any update, 1 when
    /// only empty predictions of empty targets were added.
    pub fn compute(&self) -> f64 {
        if self.lines == 0 {
            0.0
        } else if self.total == 0 {
            1.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }

    /// Forgets everything added (keeps the ignored indices).
    pub fn reset(&mut self) {
        self.correct = 0;
        self.total = 0;
        self.lines = 0;
    }
}
