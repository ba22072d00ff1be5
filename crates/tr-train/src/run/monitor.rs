//! The monitored metric of a run and which way it improves, decided once.
//!
//! A [`Monitor`] ranks the top-k checkpoints, drives early stopping and
//! picks the checkpoint to stage or test. `auto` resolves to `val_cer` for
//! sequence objectives (CTC, seq2seq, positional) and `val_acc` for
//! classifiers; without an explicit `mode`, accuracies improve upwards and
//! everything else (losses, error rates) downwards.

use serde::{Deserialize, Serialize};
use tr_lit::Objective;

use crate::config::RunConfig;
use crate::trainer_config::Mode;

/// A metric and its direction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    /// Logged metric name (`val_cer`, `val_loss`, `val_acc`, …).
    pub metric: String,
    /// True for accuracies (or `mode: max`), false for losses and error rates.
    pub higher_is_better: bool,
}

impl Monitor {
    /// `metric` improving in direction `mode`, or by its name when `None`.
    pub fn new(metric: impl Into<String>, mode: Option<Mode>) -> Self {
        let metric = metric.into();
        let higher_is_better = match mode {
            Some(Mode::Max) => true,
            Some(Mode::Min) => false,
            None => Self::improves_upwards(&metric),
        };
        Self {
            metric,
            higher_is_better,
        }
    }

    /// The naming rule: accuracies (`…acc`, `…accuracy`) improve upwards.
    pub fn improves_upwards(metric: &str) -> bool {
        metric.ends_with("acc") || metric.ends_with("accuracy")
    }

    /// What `trainer.checkpoint.{monitor,mode}` of `config` select.
    pub fn for_checkpoints(config: &RunConfig) -> Self {
        let c = &config.trainer.checkpoint;
        Self::new(resolve_auto(&c.monitor, config), c.mode)
    }

    /// What `trainer.early_stopping.{monitor,mode}` select; `auto` (and no
    /// mode) follows the checkpoint monitor.
    pub fn for_early_stopping(config: &RunConfig) -> Self {
        let es = &config.trainer.early_stopping;
        if es.monitor == "auto" {
            let mut m = Self::for_checkpoints(config);
            if let Some(mode) = es.mode {
                m.higher_is_better = mode == Mode::Max;
            }
            m
        } else {
            Self::new(es.monitor.clone(), es.mode)
        }
    }

    /// True when `a` is strictly better than `b`.
    pub fn better(&self, a: f64, b: f64) -> bool {
        if self.higher_is_better {
            a > b
        } else {
            a < b
        }
    }

    /// True when `score` beats `best` by more than `min_delta` (always, with no best yet).
    pub fn improves(&self, score: f64, best: Option<f64>, min_delta: f64) -> bool {
        match best {
            None => true,
            Some(b) if self.higher_is_better => score > b + min_delta,
            Some(b) => score < b - min_delta,
        }
    }
}

/// `auto` → the metric the objective of `config` is judged by.
fn resolve_auto(name: &str, config: &RunConfig) -> String {
    if name != "auto" {
        return name.to_string();
    }
    let objective = config
        .lit
        .objective
        .unwrap_or_else(|| Objective::default_for(config.model.task()));
    if objective == Objective::Classify {
        "val_acc"
    } else {
        "val_cer"
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_from_name_or_mode() {
        assert!(Monitor::new("val_acc", None).higher_is_better);
        assert!(Monitor::new("val_char_acc", None).higher_is_better);
        assert!(!Monitor::new("val_cer", None).higher_is_better);
        // A loss named with "acc" inside is still a loss.
        assert!(!Monitor::new("val_acc_loss", None).higher_is_better);
        assert!(Monitor::new("val_cer", Some(Mode::Max)).higher_is_better);
        let m = Monitor::new("val_cer", None);
        assert!(m.better(0.1, 0.2) && !m.better(0.2, 0.2));
        assert!(m.improves(0.5, None, 0.0));
        assert!(!m.improves(0.19, Some(0.2), 0.05) && m.improves(0.1, Some(0.2), 0.05));
    }

    #[test]
    fn auto_follows_the_objective_and_early_stopping_its_own_settings() {
        let mut cfg = RunConfig::default();
        assert_eq!(Monitor::for_checkpoints(&cfg).metric, "val_cer");
        assert_eq!(Monitor::for_early_stopping(&cfg).metric, "val_cer");
        cfg.trainer.early_stopping.monitor = "val_loss".into();
        cfg.trainer.early_stopping.mode = Some(Mode::Max);
        let es = Monitor::for_early_stopping(&cfg);
        assert_eq!(
            (es.metric.as_str(), es.higher_is_better),
            ("val_loss", true)
        );
        assert_eq!(Monitor::for_checkpoints(&cfg).metric, "val_cer");
        cfg.lit.objective = Some(Objective::Classify);
        assert_eq!(Monitor::for_checkpoints(&cfg).metric, "val_acc");
    }
}
