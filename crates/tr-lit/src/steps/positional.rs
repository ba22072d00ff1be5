//! The per-position cross-entropy step for fixed-length sequence outputs.

use candle_core::Tensor;

use super::{batch_size, target_rows, StepOutput, Tokens};
use crate::error::{invalid, Result};
use crate::loss::CrossEntropy;
use tr_models::decoding::positional_labels;
use tr_models::Model;

/// Cross-entropy of every position of `model(images)` `(B, C, S)` against
/// `(B, S)` targets; predictions are the per-position argmax read as text
/// like the targets ([`positional_labels`], the decoding inference uses).
pub fn positional_step(
    model: &dyn Model,
    images: &Tensor,
    targets: &Tensor,
    train: bool,
    loss: &CrossEntropy,
    tokens: &Tokens,
) -> Result<StepOutput> {
    let b = batch_size(images)?;
    let rows = target_rows(targets, b)?;
    let logits = model.forward(images, train)?;
    match logits.dims() {
        &[lb, _, s] if lb == b && s == targets.dim(1)? => {}
        d => invalid!(
            "model output",
            "{} should give ({b}, C, {}) logits (one step per target position), got {d:?}",
            model.name(),
            targets.dim(1)?
        ),
    }
    let value = loss.forward(&logits, targets)?;
    let predictions = positional_labels(&logits, &tokens.rule)?;
    Ok(StepOutput {
        loss: value,
        predictions,
        targets: rows.iter().map(|r| tokens.content(r)).collect(),
    })
}
