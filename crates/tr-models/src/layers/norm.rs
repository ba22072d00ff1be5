//! Normalisation layers: [`LayerNorm`] over the last dimension (PyTorch's
//! `nn.LayerNorm`, eps 1e-5) and [`BatchNorm2d`] over the channels of
//! `(B, C, H, W)` maps (PyTorch's `nn.BatchNorm2d`).
//!
//! `LayerNorm` is computed with `candle_nn::ops::layer_norm_slow`: candle's
//! fused `LayerNorm::forward` has no backward pass and would silently stop
//! gradients.
//!
//! `BatchNorm2d` is PyTorch's: in training mode it normalises with the batch
//! statistics (biased variance) and updates the running mean and the
//! unbiased running variance with momentum 0.1; in evaluation mode it uses
//! the running statistics. On the CPU it runs as one fused kernel
//! (`tr_kernels::batch_norm2d`, optionally with the following ReLU), else as
//! `candle_nn::BatchNorm` over the same tensors. The running statistics are stored in the
//! `VarBuilder` as `running_mean` / `running_var` so they are saved with the
//! weights, but they are buffers, not parameters: see
//! [`crate::params::is_buffer`].

use candle_core::Var;
use candle_core::{Result, Tensor};
use candle_nn::{Init, ModuleT, VarBuilder};

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
    /// candle-nn's layer over the same tensors: the reference path.
    inner: candle_nn::BatchNorm,
    weight: Tensor,
    bias: Tensor,
    running_mean: Var,
    running_var: Var,
}

/// PyTorch's defaults.
const EPS: f64 = 1e-5;
const MOMENTUM: f64 = 0.1;

impl BatchNorm2d {
    /// Parameters `weight` (1), `bias` (0); buffers `running_mean` (0), `running_var` (1).
    pub fn new(channels: usize, vb: VarBuilder) -> Result<Self> {
        let running_mean = vb.get_with_hints(channels, "running_mean", Init::Const(0.))?;
        let running_var = vb.get_with_hints(channels, "running_var", Init::Const(1.))?;
        let weight = vb.get_with_hints(channels, "weight", Init::Const(1.))?;
        let bias = vb.get_with_hints(channels, "bias", Init::Const(0.))?;
        // Both paths share the same storage: `Var::from_tensor` of a
        // variable tensor (a `VarMap`'s) wraps it without copying, so the
        // running statistics updated here are the ones saved.
        let inner = candle_nn::BatchNorm::new_with_momentum(
            channels,
            running_mean.clone(),
            running_var.clone(),
            weight.clone(),
            bias.clone(),
            EPS,
            MOMENTUM,
        )?;
        Ok(Self {
            inner,
            weight,
            bias,
            running_mean: Var::from_tensor(&running_mean)?,
            running_var: Var::from_tensor(&running_var)?,
        })
    }

    /// `(C)` running mean.
    pub fn running_mean(&self) -> &Tensor {
        self.running_mean.as_tensor()
    }

    /// `(C)` running (unbiased) variance.
    pub fn running_var(&self) -> &Tensor {
        self.running_var.as_tensor()
    }

    /// `(B, C, H, W)` → `(B, C, H, W)`; batch statistics (and a running
    /// statistics update) when `train`, running statistics otherwise.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_fused(x, train, false)
    }

    /// [`Self::forward`] followed by ReLU, fused on the CPU.
    pub fn forward_relu(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_fused(x, train, true)
    }

    /// candle-nn's unfused ops (what the CPU kernel is checked against).
    pub fn forward_reference(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.inner.forward_t(x, train)
    }

    fn forward_fused(&self, x: &Tensor, train: bool, relu: bool) -> Result<Tensor> {
        if train && x.elem_count() / x.dim(1)?.max(1) < 2 {
            candle_core::bail!(
                "batch-norm in training mode needs more than one value per channel, got input {:?}",
                x.shape()
            )
        }
        if !(tr_kernels::use_fast_kernels(x) && x.rank() == 4) {
            let y = self.forward_reference(x, train)?;
            return if relu { y.relu() } else { Ok(y) };
        }
        let stats = if train {
            tr_kernels::BatchNormStats::Batch
        } else {
            tr_kernels::BatchNormStats::Given {
                mean: self.running_mean.as_tensor(),
                var: self.running_var.as_tensor(),
            }
        };
        let out = tr_kernels::batch_norm2d(x, &self.weight, &self.bias, stats, EPS, relu)?;
        if train {
            let n = out.count as f64;
            let unbiased = n / (n - 1.0);
            let dev = x.device();
            let mean = Tensor::from_vec(out.mean, self.running_mean.shape(), dev)?;
            let var = Tensor::from_vec(out.var, self.running_var.shape(), dev)?;
            self.running_mean.set(
                &((self.running_mean.as_tensor() * (1.0 - MOMENTUM))? + (mean * MOMENTUM)?)?,
            )?;
            self.running_var.set(
                &((self.running_var.as_tensor() * (1.0 - MOMENTUM))?
                    + (var * (MOMENTUM * unbiased))?)?,
            )?;
        }
        Ok(out.y)
    }
}
