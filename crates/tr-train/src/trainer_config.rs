//! The `trainer` section: loop limits, optimisation, checkpointing, early
//! stopping and reporting — the Lightning `Trainer` flags the course used.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::OptimizerConfig;
use crate::schedule::SchedulerConfig;

/// A batch limit: a count (`10`) or a fraction of the split (`0.25`), as Lightning's
/// `limit_*_batches` / `overfit_batches`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Limit {
    Count(u64),
    Fraction(f64),
}

impl Limit {
    /// Number of batches out of `available`; a fraction rounds down but
    /// keeps at least one batch when it is positive.
    pub fn resolve(self, available: u64) -> u64 {
        match self {
            Limit::Count(n) => n.min(available),
            Limit::Fraction(f) if f <= 0.0 => 0,
            Limit::Fraction(f) => ((available as f64 * f).floor() as u64)
                .clamp(1, available.max(1))
                .min(available),
        }
    }

    /// Zero (`0` or `0.0`): the feature is off.
    pub fn is_zero(self) -> bool {
        matches!(self, Limit::Count(0)) || matches!(self, Limit::Fraction(f) if f == 0.0)
    }

    fn validate(self, key: &str) -> Result<()> {
        match self {
            Limit::Fraction(f) if !(0.0..=1.0).contains(&f) => Err(Error::config(
                key,
                format!(
                    "a fraction must be in [0, 1] (or give a whole number of batches), got {f}"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// Which way a monitored metric improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Min,
    Max,
}

/// Checkpointing (`trainer.checkpoint.*`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckpointConfig {
    /// Metric ranking the top-k checkpoints: `val_cer`, `val_loss`, `val_acc`, …;
    /// `auto` = `val_cer` for sequence data, `val_acc` for classification.
    pub monitor: String,
    /// `auto` = min for losses and error rates, max for accuracies.
    pub mode: Option<Mode>,
    /// How many best checkpoints to keep (0 = none).
    pub save_top_k: usize,
    /// Also keep `last.safetensors`, written after every epoch.
    pub save_last: bool,
    /// Additionally write `last` every N optimizer steps inside an epoch (0 = off).
    pub every_n_train_steps: u64,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        Self {
            monitor: "auto".into(),
            mode: None,
            save_top_k: 1,
            save_last: true,
            every_n_train_steps: 0,
        }
    }
}

/// Early stopping on the monitored metric (`trainer.early_stopping.*`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarlyStoppingConfig {
    pub enabled: bool,
    /// `auto` = the checkpoint's monitor.
    pub monitor: String,
    pub mode: Option<Mode>,
    /// Validation rounds without improvement before stopping.
    pub patience: u64,
    /// Improvement smaller than this does not count.
    pub min_delta: f64,
}

impl Default for EarlyStoppingConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            monitor: "auto".into(),
            mode: None,
            patience: 3,
            min_delta: 0.0,
        }
    }
}

/// `trainer.*`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainerConfig {
    pub max_epochs: u64,
    /// Stop after this many optimizer steps (0 = no limit).
    pub max_steps: u64,
    pub check_val_every_n_epoch: u64,
    pub limit_train_batches: Limit,
    pub limit_val_batches: Limit,
    pub limit_test_batches: Limit,
    /// Train and validate on the same first N (or fraction of) training batches, unshuffled.
    pub overfit_batches: Limit,
    /// Run 1 train, 1 val and 1 test batch, no checkpoints or plots (`true` or a batch count).
    pub fast_dev_run: u64,
    pub accumulate_grad_batches: u64,
    /// Clip the global gradient norm to this value (0 = off).
    pub gradient_clip_val: f64,
    /// Stop with an error naming the step and parameter when a loss or gradient is not finite.
    pub terminate_on_nan: bool,
    pub optimizer: OptimizerConfig,
    pub scheduler: SchedulerConfig,
    pub checkpoint: CheckpointConfig,
    pub early_stopping: EarlyStoppingConfig,
    /// Log training loss and lr every N optimizer steps.
    pub log_every_n_steps: u64,
    /// Evaluate the test split with the best checkpoint after fitting.
    pub test_after_fit: bool,
    /// Validation images drawn into `samples/` per validation round.
    pub num_sample_images: usize,
    /// Progress bar on a terminal (log lines otherwise).
    pub progress_bar: bool,
    /// Where run directories are created.
    pub runs_dir: PathBuf,
    /// `cpu`, `cuda[:N]` or `metal[:N]`.
    pub device: String,
    /// Compute threads (0 = all cores, or `RAYON_NUM_THREADS`).
    pub num_threads: usize,
    /// Fine-tuning: start a new run from the weights of this checkpoint
    /// (a `.safetensors` file of an earlier run) or staged artifact
    /// directory (`htr stage` output such as `models/default`; f16 weights
    /// are widened to f32) with a fresh optimizer,
    /// schedule and trainer state. The model name, the vocabulary and every
    /// tensor's shape must match; settings without weights (dropout) may
    /// differ. Ignored when resuming (the resumed checkpoint's weights win).
    pub init_from: Option<PathBuf>,
    /// What `init_from` does when its vocabulary differs from this data's:
    /// `same` (the default) refuses; `map` carries the output rows (and
    /// embedding rows) of every symbol both vocabularies share over by name
    /// and leaves the new symbols' rows freshly initialised (kraken's
    /// `--resize new`): fine-tuning a model on another language or script.
    pub init_vocabulary: InitVocabulary,
}

/// `trainer.init_vocabulary`: how `init_from` treats another vocabulary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitVocabulary {
    /// The vocabularies must be identical.
    #[default]
    Same,
    /// Rows of shared symbols are copied by symbol, new symbols start fresh.
    Map,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        Self {
            max_epochs: 10,
            max_steps: 0,
            check_val_every_n_epoch: 1,
            limit_train_batches: Limit::Fraction(1.0),
            limit_val_batches: Limit::Fraction(1.0),
            limit_test_batches: Limit::Fraction(1.0),
            overfit_batches: Limit::Count(0),
            fast_dev_run: 0,
            accumulate_grad_batches: 1,
            gradient_clip_val: 0.0,
            terminate_on_nan: true,
            optimizer: OptimizerConfig::default(),
            scheduler: SchedulerConfig::default(),
            checkpoint: CheckpointConfig::default(),
            early_stopping: EarlyStoppingConfig::default(),
            log_every_n_steps: 50,
            test_after_fit: true,
            num_sample_images: 8,
            progress_bar: true,
            runs_dir: PathBuf::from("runs"),
            device: "cpu".into(),
            num_threads: 0,
            init_from: None,
            init_vocabulary: InitVocabulary::Same,
        }
    }
}

impl TrainerConfig {
    /// Checks values that serde cannot, naming the key.
    pub fn validate(&self) -> Result<()> {
        self.limit_train_batches
            .validate("trainer.limit_train_batches")?;
        self.limit_val_batches
            .validate("trainer.limit_val_batches")?;
        self.limit_test_batches
            .validate("trainer.limit_test_batches")?;
        self.overfit_batches.validate("trainer.overfit_batches")?;
        if self.check_val_every_n_epoch == 0 {
            return Err(Error::config(
                "trainer.check_val_every_n_epoch",
                "must be >= 1",
            ));
        }
        if self.accumulate_grad_batches == 0 {
            return Err(Error::config(
                "trainer.accumulate_grad_batches",
                "must be >= 1",
            ));
        }
        if !(self.gradient_clip_val >= 0.0 && self.gradient_clip_val.is_finite()) {
            return Err(Error::config(
                "trainer.gradient_clip_val",
                format!(
                    "must be a finite number >= 0, got {}",
                    self.gradient_clip_val
                ),
            ));
        }
        if self.log_every_n_steps == 0 {
            return Err(Error::config("trainer.log_every_n_steps", "must be >= 1"));
        }
        self.scheduler.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_resolve_like_lightning() {
        assert_eq!(Limit::Fraction(1.0).resolve(79), 79);
        assert_eq!(Limit::Fraction(0.25).resolve(79), 19);
        assert_eq!(Limit::Fraction(0.001).resolve(79), 1);
        assert_eq!(Limit::Count(5).resolve(3), 3);
        assert!(Limit::Count(0).is_zero() && Limit::Fraction(0.0).is_zero());
        let v: Limit = serde_json::from_str("0.5").unwrap();
        assert_eq!(v, Limit::Fraction(0.5));
        let v: Limit = serde_json::from_str("2").unwrap();
        assert_eq!(v, Limit::Count(2));
        assert!(Limit::Fraction(1.5).validate("k").is_err());
    }
}
