//! # tr-train: the training engine of tr
//!
//! A Lightning-like trainer without Python: the loop over the task step
//! functions of `tr-lit` (train / validate / test), optimizers with
//! serialisable state, learning-rate schedules, gradient clipping, exact
//! checkpoint/resume, early stopping, progress reporting, the run directory
//! (metrics, plots, sample sheets, summary) and the YAML config system with
//! dotted command-line overrides. The binary `tr-train` is `htr fit`.
//!
//! Not here: models (`tr-models`), losses/metrics (`tr-lit`), data (`tr-data`),
//! the numeric kernels (the fused Adam pass, the allocator settings:
//! `tr-kernels`).

pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod early_stopping;
pub mod error;
pub mod evaluate;
pub mod fit;
pub mod metrics;
pub mod optim;
pub mod plots;
pub mod progress;
pub mod report;
pub mod run;
pub mod schedule;
pub mod session;
pub mod stage;
pub mod state;
pub mod topk;
pub mod trainer_config;

pub use config::{Override, RunConfig};
pub use error::{Error, Result};
pub use fit::fit;
pub use report::Summary;
