//! # tr-lit: losses, metrics and per-task step functions
//!
//! The training-side glue between a [`tr_models::Model`] and the trainer.
//!
//! ## API
//!
//! | item | what |
//! |---|---|
//! | [`LitConfig`] → [`LitModel`] | the `lit` section of a run config and the configured step: [`LitModel::step`] returns a [`StepOutput`] (loss + decoded predictions and targets), so the trainer never looks at model outputs itself |
//! | [`Objective`] | classify, CTC, positional cross-entropy, seq2seq (table of outputs, losses and predictions there) |
//! | [`classify_step`], [`ctc_step`], [`positional_step`], [`seq2seq_step`] | the four step functions behind [`LitModel::step`] |
//! | [`Tokens`] | the special tokens of a vocabulary and its content rule |
//! | [`CrossEntropy`] | class or per-position cross-entropy, optional ignored index and label smoothing |
//! | [`CtcLoss`], [`CtcAlgorithm`], [`Reduction`] | CTC (host forward–backward, surrogate with the exact gradient; see docs/ctc.md) |
//! | [`CharErrorRate`], [`CharAccuracy`], [`Accuracy`], [`edit_distance`] | character error rate (corpus and per-line mean), character, sequence and classification accuracy, accumulated per epoch |
//! | [`decoders`] | re-export of [`tr_models::decoding`] (greedy and beam CTC, character n-gram LM), which lives in `tr-models` so that `tr-infer` can decode without this crate |
//! | [`Error`], [`Result`] | the crate's error type |
//!
//! Not here: optimisers, schedules, the training loop, checkpoints (`tr-train`).

mod error;
mod loss;
mod metrics;
mod steps;

pub use tr_models::decoding as decoders;

pub use error::{Error, Result};
pub use loss::{CrossEntropy, CtcAlgorithm, CtcLoss, Reduction};
pub use metrics::{edit_distance, Accuracy, CharAccuracy, CharErrorRate};
pub use steps::{
    classify_step, ctc_step, positional_step, seq2seq_step, LitConfig, LitModel, Objective,
    StepOutput, Tokens,
};
