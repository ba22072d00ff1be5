//! The sequence-to-sequence step: teacher forcing for the loss, greedy
//! autoregressive decoding for validation predictions (as the course).

use candle_core::Tensor;

use super::{argmax_rows, batch_size, target_rows, StepOutput, Tokens};
use crate::error::{invalid, Result};
use crate::loss::CrossEntropy;
use tr_models::Model;

/// Cross-entropy of `model.forward_teacher(images, y[:, :-1])` `(B, C, L−1)`
/// against `y[:, 1:]` for `(B, L)` targets `y` that start with `<S>`.
///
/// Predictions: in training the teacher-forced argmax (free, and what the
/// course logged), otherwise [`Model::decode_greedy`]'s tokens.
pub fn seq2seq_step(
    model: &dyn Model,
    images: &Tensor,
    targets: &Tensor,
    train: bool,
    loss: &CrossEntropy,
    tokens: &Tokens,
) -> Result<StepOutput> {
    let b = batch_size(images)?;
    let rows = target_rows(targets, b)?;
    let len = targets.dim(1)?;
    if len < 2 {
        invalid!(
            "targets",
            "seq2seq targets need at least <S> and one more label, got length {len}"
        );
    }
    if let Some((i, r)) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| Some(r[0]) != tokens.start)
    {
        invalid!(
            "targets",
            "seq2seq target {i} starts with label {} instead of <S>",
            r[0]
        );
    }
    let decoder_in = targets.narrow(1, 0, len - 1)?;
    let expected = targets.narrow(1, 1, len - 1)?;
    let logits = model.forward_teacher(images, &decoder_in, train)?;
    match logits.dims() {
        &[lb, _, s] if lb == b && s == len - 1 => {}
        d => invalid!(
            "model output",
            "{} teacher forcing should give ({b}, C, {}) logits, got {d:?}",
            model.name(),
            len - 1
        ),
    }
    let value = loss.forward(&logits, &expected)?;
    let predicted_rows = if train {
        argmax_rows(&logits)?
    } else {
        let decoded = model.decode_greedy(images)?;
        target_rows(&decoded.tokens, b)?
    };
    Ok(StepOutput {
        loss: value,
        predictions: predicted_rows.iter().map(|p| tokens.content(p)).collect(),
        targets: rows.iter().map(|r| tokens.content(r)).collect(),
    })
}
