//! The "lit models": one step function per training objective, turning a
//! model and a batch into a loss plus decoded predictions, so the trainer
//! stays task-agnostic and computes metrics from [`StepOutput`]. The
//! objectives are listed at [`Objective`].

mod classify;
mod ctc;
mod positional;
mod seq2seq;

pub use classify::classify_step;
pub use ctc::ctc_step;
pub use positional::positional_step;
pub use seq2seq::seq2seq_step;

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};
use tr_data::ContentRule;
use tr_data::Vocabulary;
use tr_data::{END, PAD, START};
use tr_models::{Model, Task};

use crate::error::{invalid, Result};
use crate::loss::{CrossEntropy, CtcLoss};

/// What one training or validation step produced.
#[derive(Clone, Debug)]
pub struct StepOutput {
    /// Scalar loss, differentiable w.r.t. the model's variables.
    pub loss: Tensor,
    /// Decoded predictions, one content label sequence per sample.
    pub predictions: Vec<Vec<u32>>,
    /// True content label sequences, paired with `predictions`.
    pub targets: Vec<Vec<u32>>,
}

/// The training objective of a step: which step function
/// ([`LitModel::step`]) turns a model and a batch into a loss and
/// predictions.
///
/// | objective | model output | loss | predictions |
/// |---|---|---|---|
/// | [`Objective::Classify`] | `(B, C)` | cross-entropy | argmax class |
/// | [`Objective::Ctc`] | `(B, C, S)` | CTC (`S` input steps, targets up to the first `<P>`, `<S>`/`<E>` stripped) | greedy CTC, read by the content rule |
/// | [`Objective::Positional`] | `(B, C, S)` with `S` = target length | per-position cross-entropy | per-position argmax |
/// | [`Objective::Seq2Seq`] | teacher-forced `(B, C, Sy − 1)` | cross-entropy of `y[:, 1:]` given `y[:, :-1]` | training: teacher-forced argmax; validation: [`tr_models::Model::decode_greedy`] |
///
/// Predictions and targets are *content* label sequences, read by the rule
/// inference uses too ([`tr_data::ContentRule`]): `<S>` and other special tokens
/// skipped, cut at the first `<E>` or `<P>` (classifiers: one class per
/// sample).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    Classify,
    Ctc,
    /// Per-position cross-entropy on `(B, C, S)` outputs with fixed-length
    /// targets (the course's `line-cnn-simple` with `--loss cross_entropy`).
    Positional,
    Seq2Seq,
}

impl Objective {
    /// The objective a model's task is trained with by default.
    pub fn default_for(task: Task) -> Self {
        match task {
            Task::Classify => Objective::Classify,
            Task::Ctc => Objective::Ctc,
            Task::Seq2Seq => Objective::Seq2Seq,
        }
    }

    /// Whether a model of `task` produces what this objective reads.
    pub fn fits(self, task: Task) -> bool {
        matches!(
            (self, task),
            (Objective::Classify, Task::Classify)
                | (Objective::Ctc | Objective::Positional, Task::Ctc)
                | (Objective::Seq2Seq, Task::Seq2Seq)
        )
    }
}

/// Loss settings of the lit model (the `lit` section of a training config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LitConfig {
    /// Objective; `None` = the model's default ([`Objective::default_for`]).
    pub objective: Option<Objective>,
    /// Seq2seq: leave `<P>` targets out of the loss (the course's
    /// TransformerLitModel did; its 2022 rewrite did not). The positional
    /// objective always counts padding: predicting `<P>` is how a
    /// fixed-length reader marks where the line ends.
    pub ignore_padding: bool,
    /// Cross-entropy label smoothing `ε` in `[0, 1)`.
    pub label_smoothing: f64,
    /// CTC: infeasible samples contribute 0 instead of `+∞` (the course used `true`).
    pub ctc_zero_infinity: bool,
}

impl Default for LitConfig {
    fn default() -> Self {
        Self {
            objective: None,
            ignore_padding: true,
            label_smoothing: 0.0,
            ctc_zero_infinity: true,
        }
    }
}

/// Special token indices a step needs (`None` where the vocabulary has
/// none) and the vocabulary's content rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    pub blank: Option<u32>,
    pub start: Option<u32>,
    pub end: Option<u32>,
    pub pad: Option<u32>,
    /// Which labels of a sequence are text.
    pub rule: ContentRule,
}

impl Tokens {
    /// Reads the special tokens of `vocab`.
    pub fn of(vocab: &Vocabulary) -> Self {
        Self {
            blank: vocab.token_index(tr_data::BLANK),
            start: vocab.token_index(START),
            end: vocab.token_index(END),
            pad: vocab.token_index(PAD),
            rule: ContentRule::of(vocab),
        }
    }

    /// The content of a label sequence by [`tr_data::ContentRule`]: `<S>` and
    /// other special tokens skipped, cut at the first `<E>` or `<P>`.
    pub fn content(&self, labels: &[u32]) -> Vec<u32> {
        self.rule.content(labels)
    }
}

/// A configured lit model: the objective, its losses and special tokens.
#[derive(Clone, Debug)]
pub struct LitModel {
    pub objective: Objective,
    pub tokens: Tokens,
    pub cross_entropy: CrossEntropy,
    pub ctc: CtcLoss,
}

impl LitModel {
    /// Builds the lit model for a model of `task` reading data labelled with `vocab`.
    pub fn new(config: &LitConfig, task: Task, vocab: &Vocabulary) -> Result<Self> {
        let objective = config.objective.unwrap_or(Objective::default_for(task));
        if !objective.fits(task) {
            invalid!(
                "lit.objective",
                "{objective:?} cannot train a {task:?} model"
            );
        }
        let tokens = Tokens::of(vocab);
        let need = |tok: Option<u32>, name: &str| -> Result<u32> {
            tok.ok_or_else(|| {
                crate::error::Error::invalid(
                    "vocabulary",
                    format!("the {objective:?} objective needs a {name} token, this {}-symbol vocabulary has none", vocab.len()),
                )
            })
        };
        let mut cross_entropy = CrossEntropy::new().smoothing(config.label_smoothing);
        let mut ctc = CtcLoss {
            zero_infinity: config.ctc_zero_infinity,
            ..CtcLoss::default()
        };
        match objective {
            Objective::Classify => {}
            Objective::Ctc => {
                ctc.blank = need(tokens.blank, "<B>")?;
                need(tokens.pad, "<P>")?;
            }
            Objective::Positional => {
                need(tokens.pad, "<P>")?;
            }
            Objective::Seq2Seq => {
                let pad = need(tokens.pad, "<P>")?;
                need(tokens.start, "<S>")?;
                need(tokens.end, "<E>")?;
                if config.ignore_padding {
                    cross_entropy = cross_entropy.ignoring(pad);
                }
            }
        }
        Ok(Self {
            objective,
            tokens,
            cross_entropy,
            ctc,
        })
    }

    /// One step on `images` `(B, 1, H, W)` and `targets` (`(B,)` classes or
    /// `(B, L)` padded labels); `train` selects training behaviour (dropout,
    /// and for seq2seq teacher-forced instead of autoregressive predictions).
    pub fn step(
        &self,
        model: &dyn Model,
        images: &Tensor,
        targets: &Tensor,
        train: bool,
    ) -> Result<StepOutput> {
        match self.objective {
            Objective::Classify => {
                classify_step(model, images, targets, train, &self.cross_entropy)
            }
            Objective::Ctc => ctc_step(model, images, targets, train, &self.ctc, &self.tokens),
            Objective::Positional => positional_step(
                model,
                images,
                targets,
                train,
                &self.cross_entropy,
                &self.tokens,
            ),
            Objective::Seq2Seq => seq2seq_step(
                model,
                images,
                targets,
                train,
                &self.cross_entropy,
                &self.tokens,
            ),
        }
    }
}

/// `(B, L)` integer targets as host rows.
pub(crate) fn target_rows(targets: &Tensor, batch: usize) -> Result<Vec<Vec<u32>>> {
    match targets.dims() {
        &[b, _] if b == batch => {}
        d => invalid!(
            "targets",
            "expected ({batch}, L) padded labels, got shape {d:?}"
        ),
    }
    if targets.dtype().is_float() {
        invalid!(
            "targets",
            "expected integer labels, got {:?}",
            targets.dtype()
        );
    }
    Ok(targets
        .to_dtype(DType::U32)?
        .to_device(&Device::Cpu)?
        .to_vec2::<u32>()?)
}

/// Per-sample argmax over the class dimension of `(B, C, S)` outputs.
pub(crate) fn argmax_rows(logits: &Tensor) -> Result<Vec<Vec<u32>>> {
    Ok(logits
        .argmax(1)?
        .to_dtype(DType::U32)?
        .to_device(&Device::Cpu)?
        .to_vec2::<u32>()?)
}

/// Checks that images are a `(B, C, H, W)` batch and returns `B`.
pub(crate) fn batch_size(images: &Tensor) -> Result<usize> {
    match images.dims() {
        &[b, _, _, _] => Ok(b),
        d => invalid!("images", "expected a (B, C, H, W) batch, got shape {d:?}"),
    }
}
