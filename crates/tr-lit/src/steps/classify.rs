//! The classification step: `(B, C)` logits, cross-entropy, argmax.

use candle_core::{DType, Device, Tensor};

use super::{batch_size, StepOutput};
use crate::error::{invalid, Result};
use crate::loss::CrossEntropy;
use tr_models::Model;

/// Cross-entropy of `model(images)` `(B, C)` against `(B,)` class targets;
/// predictions and targets are one-element sequences holding the class.
pub fn classify_step(
    model: &dyn Model,
    images: &Tensor,
    targets: &Tensor,
    train: bool,
    loss: &CrossEntropy,
) -> Result<StepOutput> {
    let b = batch_size(images)?;
    match targets.dims() {
        &[tb] if tb == b => {}
        d => invalid!(
            "targets",
            "a classifier expects ({b},) class targets, got shape {d:?}"
        ),
    }
    let logits = model.forward(images, train)?;
    if logits.dims().len() != 2 {
        invalid!(
            "model output",
            "{} should give (B, C) logits, got {:?}",
            model.name(),
            logits.dims()
        );
    }
    let value = loss.forward(&logits, targets)?;
    let predictions = logits
        .argmax(1)?
        .to_dtype(DType::U32)?
        .to_device(&Device::Cpu)?
        .to_vec1::<u32>()?;
    let targets = targets
        .to_dtype(DType::U32)?
        .to_device(&Device::Cpu)?
        .to_vec1::<u32>()?;
    Ok(StepOutput {
        loss: value,
        predictions: predictions.into_iter().map(|p| vec![p]).collect(),
        targets: targets.into_iter().map(|t| vec![t]).collect(),
    })
}
