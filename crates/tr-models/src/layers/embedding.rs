//! Token embedding table (`weight` `(num_tokens, dim)`, as PyTorch's `nn.Embedding`).

use candle_core::{DType, Result, Tensor};
use candle_nn::{Init, VarBuilder};

/// Looks up one `dim`-vector per token index.
#[derive(Clone, Debug)]
pub struct Embedding {
    /// `(num_tokens, dim)`
    weight: Tensor,
}

impl Embedding {
    /// Creates (or loads) `weight` under `vb` with the given init.
    pub fn new(num_tokens: usize, dim: usize, init: Init, vb: VarBuilder) -> Result<Self> {
        let weight = vb.get_with_hints((num_tokens, dim), "weight", init)?;
        Ok(Self { weight })
    }

    /// `(B, S)` integer token ids → `(B, S, dim)`. Ids must be `< num_tokens`.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (num_tokens, dim) = self.weight.dims2()?;
        let ids = match ids.dtype() {
            DType::U32 => ids.clone(),
            DType::U8 | DType::I64 => ids.to_dtype(DType::U32)?,
            other => candle_core::bail!("token ids must be an integer tensor, got {other:?}"),
        };
        let flat = ids.flatten_all()?;
        if flat.elem_count() > 0 {
            let max = flat.max(0)?.to_scalar::<u32>()?;
            if max as usize >= num_tokens {
                candle_core::bail!(
                    "token id {max} is out of range for an embedding of {num_tokens} tokens"
                )
            }
        }
        let mut out_dims = ids.dims().to_vec();
        out_dims.push(dim);
        self.weight.index_select(&flat, 0)?.reshape(out_dims)
    }
}
