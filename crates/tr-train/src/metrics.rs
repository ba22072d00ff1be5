//! Per-phase metric accumulation: mean loss plus accuracy or CER, fed by
//! the [`tr_lit::StepOutput`] of every batch.
//!
//! Names (as logged in `metrics.jsonl`, prefixed by the phase):
//! `loss`; classification: `acc`; sequences: `cer` (corpus-level: Σ edits /
//! Σ reference characters — the figure tables use), `cer_mean` (per-line
//! mean), `char_acc` (position-wise accuracy of the predicted vs the true
//! characters, special tokens excluded — stricter than the course's Lightning
//! `Accuracy`, which also counted correctly predicted padding) and `seq_acc`
//! (exact line matches).

use std::collections::BTreeMap;

use tr_data::Vocabulary;
use tr_lit::{Accuracy, CharAccuracy, CharErrorRate, StepOutput};

/// Accumulates one phase.
pub struct PhaseMetrics {
    sequence: bool,
    loss_sum: f64,
    samples: usize,
    acc: Accuracy,
    char_acc: CharAccuracy,
    cer: CharErrorRate,
    exact: usize,
    lines: usize,
}

impl PhaseMetrics {
    /// Metrics for sequence targets (`sequence`) or class targets.
    pub fn new(sequence: bool, vocab: &Vocabulary) -> Self {
        Self {
            sequence,
            loss_sum: 0.0,
            samples: 0,
            acc: Accuracy::new([]),
            char_acc: CharAccuracy::new([]),
            cer: CharErrorRate::for_vocab(vocab),
            exact: 0,
            lines: 0,
        }
    }

    /// Adds one batch: its mean loss (weighted by its size) and predictions.
    pub fn update(&mut self, loss: f64, out: &StepOutput) {
        let n = out.targets.len();
        self.loss_sum += loss * n as f64;
        self.samples += n;
        if self.sequence {
            self.cer.update(&out.predictions, &out.targets);
            self.char_acc.update(&out.predictions, &out.targets);
            self.exact += out
                .predictions
                .iter()
                .zip(&out.targets)
                .filter(|(p, t)| p == t)
                .count();
            self.lines += n;
        } else {
            self.acc.update(&out.predictions, &out.targets);
        }
    }

    /// The phase's figures, keys prefixed with `phase_`.
    pub fn compute(&self, phase: &str) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        if self.samples == 0 {
            return m;
        }
        m.insert(format!("{phase}_loss"), self.loss_sum / self.samples as f64);
        if self.sequence {
            m.insert(format!("{phase}_cer"), self.cer.corpus());
            m.insert(format!("{phase}_cer_mean"), self.cer.mean());
            m.insert(format!("{phase}_char_acc"), self.char_acc.compute());
            m.insert(
                format!("{phase}_seq_acc"),
                self.exact as f64 / self.lines.max(1) as f64,
            );
        } else {
            m.insert(format!("{phase}_acc"), self.acc.compute());
        }
        m
    }
}
