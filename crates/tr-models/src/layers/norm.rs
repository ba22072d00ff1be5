//! Normalisation layers: [`LayerNorm`] over the last dimension (PyTorch's
//! `nn.LayerNorm`, eps 1e-5) and [`BatchNorm2d`] over the channels of
//! `(B, C, H, W)` maps (PyTorch's `nn.BatchNorm2d`).
//!
//! `LayerNorm` is computed with `candle_nn::ops::layer_norm_slow`: candle's
//! fused `LayerNorm::forward` has no backward pass and would silently stop
//! gradients.
//!
//! `BatchNorm2d` wraps `candle_nn::BatchNorm`: in training mode it normalises
//! with the batch statistics (biased variance) and updates the running mean
//! and the unbiased running variance with momentum 0.1; in evaluation mode it
//! uses the running statistics. The running statistics are stored in the
//! `VarBuilder` as `running_mean` / `running_var` so they are saved with the
//! weights, but they are buffers, not parameters: see
//! [`crate::params::is_buffer`].

use candle_core::{Result, Tensor};
use candle_nn::{BatchNormConfig, Init, ModuleT, VarBuilder};

/// Layer normalisation over the last dimension with learnable `weight`/`bias`.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    /// `weight` initialised to 1, `bias` to 0 (PyTorch's defaults).
    pub fn new(dim: usize, eps: f32, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(dim, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(dim, "bias", Init::Const(0.0))?,
            eps,
        })
    }

    /// `(..., dim)` → `(..., dim)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        candle_nn::ops::layer_norm_slow(x, &self.weight, &self.bias, self.eps)
    }
}

/// Batch normalisation of `(B, C, H, W)` maps, PyTorch defaults (eps 1e-5,
/// momentum 0.1, affine, tracked running statistics).
#[derive(Clone, Debug)]
pub struct BatchNorm2d {
    inner: candle_nn::BatchNorm,
}

impl BatchNorm2d {
    /// Parameters `weight` (1), `bias` (0); buffers `running_mean` (0), `running_var` (1).
    pub fn new(channels: usize, vb: VarBuilder) -> Result<Self> {
        let config = BatchNormConfig {
            eps: 1e-5,
            remove_mean: true,
            affine: true,
            momentum: 0.1,
        };
        Ok(Self {
            inner: candle_nn::batch_norm(channels, config, vb)?,
        })
    }

    /// `(C)` running mean.
    pub fn running_mean(&self) -> &Tensor {
        self.inner.running_mean()
    }

    /// `(C)` running (unbiased) variance.
    pub fn running_var(&self) -> &Tensor {
        self.inner.running_var()
    }

    /// `(B, C, H, W)` → `(B, C, H, W)`; batch statistics (and a running
    /// statistics update) when `train`, running statistics otherwise.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if train && x.elem_count() / x.dim(1)?.max(1) < 2 {
            candle_core::bail!(
                "batch-norm in training mode needs more than one value per channel, got input {:?}",
                x.shape()
            )
        }
        self.inner.forward_t(x, train)
    }
}
