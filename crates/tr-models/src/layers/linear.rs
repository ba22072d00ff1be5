//! Fully connected layer with PyTorch's parameter layout (`weight` `(out, in)`,
//! `bias` `(out)`) and a selectable [`LayerInit`].

use candle_core::{Result, Tensor, D};
use candle_nn::VarBuilder;

use super::init::LayerInit;

/// `y = x Wᵀ + b` over the last dimension.
#[derive(Clone, Debug)]
pub struct Linear {
    /// `(out, in)`
    weight: Tensor,
    /// `(out)`
    bias: Option<Tensor>,
}

impl Linear {
    /// Creates (or loads) `weight` and `bias` under `vb`.
    pub fn new(in_dim: usize, out_dim: usize, init: LayerInit, vb: VarBuilder) -> Result<Self> {
        let weight =
            vb.get_with_hints((out_dim, in_dim), "weight", init.weight(in_dim, out_dim))?;
        let bias = match init.bias(in_dim, out_dim) {
            Some(b) => Some(vb.get_with_hints(out_dim, "bias", b)?),
            None => None,
        };
        Ok(Self { weight, bias })
    }

    /// Wraps existing tensors (`weight` `(out, in)`, `bias` `(out)`).
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Self {
        Self { weight, bias }
    }

    /// `(out, in)` weight.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// `(out)` bias.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// `(..., in)` → `(..., out)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let in_dim = x.dim(D::Minus1)?;
        let rows = x.elem_count() / in_dim.max(1);
        let y = x.reshape((rows, in_dim))?.matmul(&self.weight.t()?)?;
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let mut out_dims = dims;
        if let Some(last) = out_dims.last_mut() {
            *last = self.weight.dim(0)?;
        }
        y.reshape(out_dims)
    }
}
