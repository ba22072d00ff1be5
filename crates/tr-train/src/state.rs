//! The trainer's resumable state: where the run is and what it has seen.
//!
//! Stored as JSON inside every checkpoint. Together with the seed and the
//! config it determines everything the rest of the run will do: the data order
//! (loader seed + epoch + batch index), the dropout masks (seeded per global
//! step), the learning rate (scheduler step) and the checkpoint/early-stopping
//! decisions (best scores, patience counter).

use serde::{Deserialize, Serialize};

/// A saved top-k checkpoint and its monitored score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedCheckpoint {
    /// File name inside `checkpoints/`.
    pub file: String,
    /// Value of the monitored metric when it was saved.
    pub score: f64,
    /// Epoch (0-based) it was saved after.
    pub epoch: u64,
}

/// Everything the training loop needs to continue where it stopped.
/// Fields added after the first release default when an older checkpoint lacks them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainerState {
    /// Epoch in progress (0-based).
    pub epoch: u64,
    /// Training batches of `epoch` already consumed (0 at an epoch boundary).
    pub batch_in_epoch: u64,
    /// Optimizer steps taken in the whole run.
    pub global_step: u64,
    /// Scheduler steps taken (per step or per epoch, as configured).
    pub scheduler_step: u64,
    /// Best score of the checkpoint monitor so far and the epoch it came from.
    pub best_score: Option<f64>,
    pub best_epoch: Option<u64>,
    /// Best score of the early-stopping monitor so far (`None` in checkpoints
    /// written before it had its own monitor: it was the checkpoint monitor's).
    pub early_stopping_best: Option<f64>,
    /// Validation rounds since the early-stopping monitor last improved.
    pub epochs_without_improvement: u64,
    /// Top-k checkpoints kept on disk, best first.
    pub top_k: Vec<RankedCheckpoint>,
    /// Running sums of the current epoch's training loss (for resuming mid-epoch).
    pub train_loss_sum: f64,
    pub train_loss_count: u64,
    /// Training time so far, seconds (wall time of earlier sessions included).
    pub train_seconds: f64,
    /// Seconds spent in training phases only (no validation, checkpoints, plots).
    pub train_phase_seconds: f64,
    /// Training samples processed so far.
    pub train_samples: u64,
    /// Set when the run finished (max_epochs/max_steps reached or early stop).
    pub finished: bool,
}
