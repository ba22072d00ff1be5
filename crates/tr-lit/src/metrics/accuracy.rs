//! Accuracies: classification / exact-sequence match ([`Accuracy`]) and
//! position-wise character accuracy ([`CharAccuracy`]), accumulated over
//! batches.

use std::collections::HashSet;

use tr_data::Vocabulary;

/// Fraction of items predicted exactly: classes for classifiers, whole
/// label sequences (after dropping ignored tokens) for sequence models.
#[derive(Clone, Debug, Default)]
pub struct Accuracy {
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

    /// Sequence accuracy that ignores `vocab`'s special tokens.
    pub fn for_vocab(vocab: &Vocabulary) -> Self {
        Self::new((0..vocab.len() as u32).filter(|&i| vocab.is_special(i)))
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
            let keep = |l: &&u32| !self.ignore.contains(l);
            self.correct += usize::from(p.iter().filter(keep).eq(t.iter().filter(keep)));
            self.total += 1;
        }
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

    /// Ignores `vocab`'s special tokens.
    pub fn for_vocab(vocab: &Vocabulary) -> Self {
        Self::new((0..vocab.len() as u32).filter(|&i| vocab.is_special(i)))
    }

    /// Adds a batch of predicted / true sequences.
    pub fn update(&mut self, predictions: &[Vec<u32>], targets: &[Vec<u32>]) {
        for (p, t) in predictions.iter().zip(targets) {
            let p: Vec<u32> = p
                .iter()
                .copied()
                .filter(|l| !self.ignore.contains(l))
                .collect();
            let t: Vec<u32> = t
                .iter()
                .copied()
                .filter(|l| !self.ignore.contains(l))
                .collect();
            self.correct += p.iter().zip(&t).filter(|(a, b)| a == b).count();
            self.total += p.len().max(t.len());
            self.lines += 1;
        }
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
