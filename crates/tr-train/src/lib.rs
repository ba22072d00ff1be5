//! # tr-train: the training engine of tr
//!
//! A Lightning-like trainer without Python: the loop over the task step
//! functions of `tr-lit` (train / validate / test), optimizers with
//! serialisable state, learning-rate schedules, gradient clipping, exact
//! checkpoint/resume, early stopping, progress reporting, the run directory
//! (metrics, plots, sample sheets, summary) and the YAML config system with
//! dotted command-line overrides. The binary `tr-train` is `htr fit`.
//!
//! ## API
//!
//! | item | what |
//! |---|---|
//! | [`RunConfig`], [`Override`] | an experiment: YAML file + dotted overrides, checked key by key ([`RunConfig::load`]) |
//! | [`DataSection`], [`TrainerConfig`], [`CheckpointConfig`], [`EarlyStoppingConfig`], [`Limit`], [`Mode`], [`SchedulerConfig`], [`Reference`] | the sections of a [`RunConfig`] |
//! | [`fit()`] → [`Summary`] | train (or resume from a checkpoint) and report |
//! | [`Session`], [`Split`], [`parse_device`] | data module, model, lit model and device built from a config; its loaders |
//! | [`Checkpoint`], [`CheckpointHeader`], [`TrainerState`], [`DataInfo`] | checkpoint files: save, load, read the header without the tensors |
//! | [`run`] | training runs on disk: [`run::RunDir`], [`run::runs_of`], typed [`run::Record`]s, [`run::Monitor`], [`run::resolve_checkpoint`], the best checkpoint across runs [`run::best_of_runs`] (`htr stage --best-of`) |
//! | [`train_segmenter`], [`SegmenterConfig`], [`SegmenterSummary`] | the U-Net line segmenter's training loop on page collections (`htr segment-train`) |
//! | [`stage()`], [`StageOptions`] | a run's best checkpoint → an inference artifact of `tr-infer` (`htr stage`) |
//! | [`optim`] | [`optim::Optimizer`] (Adam, AdamW, SGD) with checkpointable state, [`optim::Grads`], gradient clipping |
//! | [`run_sweep`], [`GridAxis`], [`render_table`] | hyper-parameter sweeps over a grid of overrides (`htr sweep`) |
//! | [`vocab_map`] | `trainer.init_vocabulary: map`: fine-tuning weights of another vocabulary carried over symbol by symbol |
//! | [`cli`] | the experiment commands `fit|validate|test|print-config|sweep` shared by `htr` and `tr-train` |
//! | [`Error`], [`Result`] | the crate's error type |
//!
//! ```no_run
//! # fn main() -> tr_train::Result<()> {
//! use tr_train::{fit, Override, RunConfig};
//!
//! let overrides = Override::parse_args(&["--trainer.max_epochs".into(), "1".into()])?;
//! let config = RunConfig::load(Some("configs/lab3/line_cnn_ctc.yaml".as_ref()), &overrides)?;
//! let summary = fit(config, None)?;
//! println!("{:?}", summary.best_score);
//! # Ok(())
//! # }
//! ```
//!
//! Not here: models (`tr-models`), losses/metrics (`tr-lit`), data (`tr-data`),
//! the numeric kernels (the fused Adam pass, the allocator settings:
//! `tr-kernels`).

mod checkpoint;
pub mod cli;
mod config;
mod early_stopping;
mod error;
mod evaluate;
mod fit;
mod metrics;
pub mod optim;
mod plots;
mod progress;
mod report;
pub mod run;
mod schedule;
mod segmenter;
mod session;
mod stage;
mod state;
mod sweep;
mod topk;
mod trainer_config;
pub mod vocab_map;

pub use checkpoint::{Checkpoint, CheckpointHeader, DataInfo, CHECKPOINT_FORMAT};
pub use config::{DataSection, Override, Reference, RunConfig};
pub use error::{Error, Result};
pub use fit::fit;
pub use report::Summary;
pub use schedule::{ConstantConfig, CosineConfig, Interval, OneCycleConfig, SchedulerConfig};
pub use segmenter::{train_segmenter, SegmenterConfig, SegmenterSummary};
pub use session::{parse_device, Session, Split};
pub use stage::{stage, LmOptions, StageOptions};
pub use state::{RankedCheckpoint, TrainerState};
pub use sweep::{combinations, render_table, run_sweep, write_table, GridAxis, Trial};
pub use trainer_config::{
    CheckpointConfig, EarlyStoppingConfig, InitVocabulary, Limit, Mode, TrainerConfig,
};
