//! Cross-entropy over class or per-position logits: [`CrossEntropy`].

use candle_core::{DType, Device, Tensor, D};
use serde::{Deserialize, Serialize};

use crate::error::{invalid, Result};

/// Cross-entropy settings.
///
/// Cross-entropy over class logits `(B, C)` or per-position logits
/// `(B, C, S)`, with an optional ignored target index and label smoothing.
///
/// The mean is taken over the positions whose target is not ignored, as
/// PyTorch's `CrossEntropyLoss(ignore_index=…, reduction="mean")`. With
/// label smoothing `ε` each position's loss is
/// `(1 − ε) · (−log p[y]) + ε · mean_c(−log p[c])` (PyTorch's definition).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrossEntropy {
    /// Targets equal to this index do not contribute (the course's
    /// TransformerLitModel ignored `<P>`); `None` counts every position.
    pub ignore_index: Option<u32>,
    /// Label smoothing `ε` in `[0, 1)`.
    pub label_smoothing: f64,
}

impl CrossEntropy {
    /// Plain cross-entropy: nothing ignored, no smoothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ignores positions whose target is `index`.
    pub fn ignoring(mut self, index: u32) -> Self {
        self.ignore_index = Some(index);
        self
    }

    /// Sets label smoothing `ε`.
    pub fn smoothing(mut self, epsilon: f64) -> Self {
        self.label_smoothing = epsilon;
        self
    }

    /// Scalar mean loss of `(B, C)` logits against `(B,)` class targets, or
    /// of `(B, C, S)` logits against `(B, S)` targets. Targets are integer
    /// class indices `< C` (or the ignored index). When every position is
    /// ignored the loss is 0 (with zero gradient).
    pub fn forward(&self, logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
        if !(0.0..1.0).contains(&self.label_smoothing) {
            invalid!(
                "cross-entropy label_smoothing",
                "expected a value in [0, 1), got {}",
                self.label_smoothing
            );
        }
        let (flat_logits, num_classes) = match (logits.dims(), targets.dims()) {
            (&[b, c], &[tb]) if b == tb => (logits.clone(), c),
            (&[b, c, s], &[tb, ts]) if b == tb && s == ts => (
                logits.transpose(1, 2)?.contiguous()?.reshape((b * s, c))?,
                c,
            ),
            (l, t) => invalid!(
                "cross-entropy",
                "logits {l:?} and targets {t:?} must be (B, C) and (B,), or (B, C, S) and (B, S)"
            ),
        };
        if targets.dtype().is_float() {
            invalid!(
                "cross-entropy targets",
                "expected integer class indices, got {:?}",
                targets.dtype()
            );
        }
        if num_classes == 0 {
            invalid!("cross-entropy logits", "the class dimension is empty");
        }
        let labels = targets
            .flatten_all()?
            .to_dtype(DType::U32)?
            .to_device(&Device::Cpu)?
            .to_vec1::<u32>()?;
        let mut safe = Vec::with_capacity(labels.len());
        let mut weights = Vec::with_capacity(labels.len());
        for (i, &y) in labels.iter().enumerate() {
            if Some(y) == self.ignore_index {
                safe.push(0u32);
                weights.push(0f32);
            } else if (y as usize) < num_classes {
                safe.push(y);
                weights.push(1.0);
            } else {
                invalid!(
                    "cross-entropy targets",
                    "target {y} at flat position {i} is outside the {num_classes} classes{}",
                    self.ignore_index
                        .map(|k| format!(" (and is not the ignored index {k})"))
                        .unwrap_or_default()
                );
            }
        }
        let counted = weights.iter().filter(|&&w| w > 0.0).count();
        let device = logits.device();
        let n = labels.len();
        let safe = Tensor::from_vec(safe, (n, 1), device)?;
        let weights = Tensor::from_vec(weights, n, device)?.to_dtype(logits.dtype())?;

        let log_probs = candle_nn::ops::log_softmax(&flat_logits, D::Minus1)?;
        let nll = log_probs.gather(&safe, 1)?.squeeze(1)?.neg()?;
        let per_position = if self.label_smoothing > 0.0 {
            let eps = self.label_smoothing;
            let uniform = log_probs.mean(D::Minus1)?.neg()?;
            ((nll * (1.0 - eps))? + (uniform * eps)?)?
        } else {
            nll
        };
        let total = (per_position * weights)?.sum_all()?;
        Ok((total / counted.max(1) as f64)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_mismatch_is_named() {
        let logits = Tensor::zeros((2, 3, 4), DType::F32, &Device::Cpu).unwrap();
        let targets = Tensor::zeros((2, 5), DType::U32, &Device::Cpu).unwrap();
        let err = CrossEntropy::new()
            .forward(&logits, &targets)
            .unwrap_err()
            .to_string();
        assert!(err.contains("[2, 3, 4]") && err.contains("[2, 5]"), "{err}");
    }

    #[test]
    fn out_of_range_target_is_an_error() {
        let logits = Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap();
        let targets = Tensor::new(&[1u32, 3], &Device::Cpu).unwrap();
        let err = CrossEntropy::new()
            .forward(&logits, &targets)
            .unwrap_err()
            .to_string();
        assert!(err.contains("target 3 at flat position 1"), "{err}");
        // ... unless it is the ignored index.
        let loss = CrossEntropy::new()
            .ignoring(3)
            .forward(&logits, &targets)
            .unwrap();
        let v = loss.to_scalar::<f32>().unwrap();
        assert!((v - 3f32.ln()).abs() < 1e-6);
    }
}
