//! # tr-lit: losses, metrics and per-task step functions
//!
//! The training-side glue between a [`tr_models::Model`] and the trainer:
//!
//! * [`loss`]: cross-entropy (class or per-position, optional ignored index
//!   and label smoothing) and CTC (host forward–backward, surrogate with the
//!   exact gradient; see docs/ctc.md);
//! * [`metrics`]: character error rate (corpus and per-line mean), character,
//!   sequence and classification accuracy, accumulated per epoch;
//! * [`steps`]: one step function per objective (classify, CTC, positional
//!   cross-entropy, seq2seq) returning a loss and decoded predictions, so the
//!   trainer never looks at model outputs itself;
//! * [`decoders`]: re-export of [`tr_models::decoding`] (greedy and beam CTC,
//!   character n-gram LM), which lives in `tr-models` so that `tr-infer` can
//!   decode without this crate.
//!
//! Not here: optimisers, schedules, the training loop, checkpoints (`tr-train`).

pub mod error;
pub mod loss;
pub mod metrics;
pub mod steps;

pub use tr_models::decoding as decoders;

pub use error::{Error, Result};
pub use loss::{CrossEntropy, CtcAlgorithm, CtcLoss, Reduction};
pub use metrics::{Accuracy, CharAccuracy, CharErrorRate};
pub use steps::{LitConfig, LitModel, Objective, StepOutput, Tokens};
