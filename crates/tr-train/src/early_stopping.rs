//! Early stopping: stop when a monitored validation metric has not improved
//! (by more than `min_delta`) for `patience` validation rounds.
//!
//! The monitor is `trainer.early_stopping.{monitor,mode}`, which default to
//! the checkpoint's (see [`Monitor::for_early_stopping`]). Its best score and
//! patience counter live in [`TrainerState`], so a resumed run continues
//! counting where it stopped.

use std::collections::BTreeMap;

use crate::config::RunConfig;
use crate::run::Monitor;
use crate::state::TrainerState;

/// The early-stopping rule of a run.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    pub monitor: Monitor,
    pub enabled: bool,
    pub patience: u64,
    pub min_delta: f64,
}

impl EarlyStopping {
    /// The rule `config` describes.
    pub fn new(config: &RunConfig) -> Self {
        let es = &config.trainer.early_stopping;
        Self {
            monitor: Monitor::for_early_stopping(config),
            enabled: es.enabled,
            patience: es.patience,
            min_delta: es.min_delta,
        }
    }

    /// Carries an older checkpoint's state over: before early stopping had a
    /// monitor of its own, its best score was the checkpoint monitor's.
    pub fn adopt_legacy_state(&self, state: &mut TrainerState, checkpoint_monitor: &Monitor) {
        if state.early_stopping_best.is_none() && self.monitor == *checkpoint_monitor {
            state.early_stopping_best = state.best_score;
        }
    }

    /// Counts one validation round's `metrics` into `state`; true to stop.
    pub fn update(&self, state: &mut TrainerState, metrics: &BTreeMap<String, f64>) -> bool {
        let Some(&score) = metrics.get(&self.monitor.metric) else {
            if self.enabled {
                tracing::warn!(
                    "early stopping: {} was not computed (have: {}); this round does not count",
                    self.monitor.metric,
                    metrics.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            }
            return false;
        };
        if self
            .monitor
            .improves(score, state.early_stopping_best, self.min_delta)
        {
            state.early_stopping_best = Some(score);
            state.epochs_without_improvement = 0;
        } else {
            state.epochs_without_improvement += 1;
        }
        let stop = self.enabled && state.epochs_without_improvement >= self.patience;
        if stop {
            tracing::info!(
                "early stopping: {} has not improved for {} validation rounds",
                self.monitor.metric,
                state.epochs_without_improvement
            );
        }
        stop
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainer_config::Mode;

    fn round(cer: f64, loss: f64) -> BTreeMap<String, f64> {
        [("val_cer".to_string(), cer), ("val_loss".to_string(), loss)].into()
    }

    #[test]
    fn follows_its_own_monitor_not_the_checkpoints() {
        let mut cfg = RunConfig::default();
        cfg.trainer.early_stopping.enabled = true;
        cfg.trainer.early_stopping.patience = 2;
        cfg.trainer.early_stopping.monitor = "val_loss".into();
        let es = EarlyStopping::new(&cfg);
        let mut state = TrainerState::default();
        // CER keeps improving, the loss does not: the loss decides.
        assert!(!es.update(&mut state, &round(0.5, 1.0)));
        assert!(!es.update(&mut state, &round(0.4, 1.1)));
        assert!(es.update(&mut state, &round(0.3, 1.2)));
        assert_eq!(state.early_stopping_best, Some(1.0));

        // The same rounds with mode max: a rising loss is an improvement.
        cfg.trainer.early_stopping.mode = Some(Mode::Max);
        let es = EarlyStopping::new(&cfg);
        let mut state = TrainerState::default();
        for (cer, loss) in [(0.5, 1.0), (0.4, 1.1), (0.3, 1.2)] {
            assert!(!es.update(&mut state, &round(cer, loss)));
        }
        assert_eq!(state.epochs_without_improvement, 0);
    }

    #[test]
    fn min_delta_and_disabled() {
        let mut cfg = RunConfig::default();
        cfg.trainer.early_stopping.patience = 1;
        cfg.trainer.early_stopping.min_delta = 0.05;
        let es = EarlyStopping::new(&cfg);
        let mut state = TrainerState::default();
        assert!(!es.update(&mut state, &round(0.5, 0.0)));
        // Better by less than min_delta: counted, but disabled never stops.
        assert!(!es.update(&mut state, &round(0.48, 0.0)));
        assert_eq!(state.epochs_without_improvement, 1);
    }

    #[test]
    fn legacy_state_is_adopted_only_for_the_same_monitor() {
        let cfg = RunConfig::default();
        let es = EarlyStopping::new(&cfg);
        let mut state = TrainerState {
            best_score: Some(0.2),
            ..TrainerState::default()
        };
        es.adopt_legacy_state(&mut state, &Monitor::for_checkpoints(&cfg));
        assert_eq!(state.early_stopping_best, Some(0.2));
        let mut state = TrainerState {
            best_score: Some(0.2),
            ..TrainerState::default()
        };
        es.adopt_legacy_state(&mut state, &Monitor::new("val_acc", None));
        assert_eq!(state.early_stopping_best, None);
    }
}
