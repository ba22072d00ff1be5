//! Multi-head scaled dot-product attention with PyTorch's
//! `nn.MultiheadAttention` parameters (`in_proj_weight` `(3E, E)`,
//! `in_proj_bias` `(3E)`, `out_proj`), batch-first tensors, and additive masks.
//!
//! Written on plain tensor ops with `candle_nn::ops::softmax(x, D::Minus1)`
//! (candle's fused `softmax_last_dim` has no backward pass). Masks are
//! additive: `0` where attention is allowed, [`MASK_VALUE`] (large, negative,
//! finite) where it is not — finite so that a fully masked row gives a
//! uniform distribution instead of NaN; wherever a row has one allowed key
//! the masked weights underflow to exactly 0, as with PyTorch's `-inf`.
//!
//! The projections and the attention itself are separate methods so the
//! decoder can cache keys and values across greedy-decoding steps.

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::{Init, VarBuilder};

use super::dropout::Dropout;
use super::init::{xavier_uniform, LayerInit};
use super::linear::Linear;

/// Additive mask value for a forbidden query/key pair.
pub const MASK_VALUE: f32 = -1e9;

/// `(1, 1, Sq, Sk)` additive causal mask for queries at positions
/// `offset..offset+Sq` over keys `0..Sk`: key `j` is visible to query `i` iff
/// `j <= offset + i` (PyTorch's `generate_square_subsequent_mask` when
/// `offset = 0`, `Sq = Sk`).
pub fn causal_mask(sq: usize, sk: usize, offset: usize, device: &Device) -> Result<Tensor> {
    let data: Vec<f32> = (0..sq)
        .flat_map(|i| (0..sk).map(move |j| if j <= offset + i { 0.0 } else { MASK_VALUE }))
        .collect();
    Tensor::from_vec(data, (1, 1, sq, sk), device)
}

/// `(B, 1, 1, S)` additive key-padding mask: keys whose token equals `pad`
/// are hidden. `tokens` is `(B, S)` `u32`.
pub fn padding_mask(tokens: &Tensor, pad: u32) -> Result<Tensor> {
    let (b, s) = tokens.dims2()?;
    let is_pad = tokens.to_dtype(DType::U32)?.eq(pad)?.to_dtype(DType::F32)?;
    (is_pad * MASK_VALUE as f64)?.reshape((b, 1, 1, s))
}

/// Multi-head attention over batch-first `(B, S, E)` sequences.
#[derive(Clone, Debug)]
pub struct MultiHeadAttention {
    /// `(3E, E)`: query, key, value projections stacked.
    in_proj_weight: Tensor,
    /// `(3E)`
    in_proj_bias: Tensor,
    out_proj: Linear,
    num_heads: usize,
    dim: usize,
    dropout: Dropout,
}

impl MultiHeadAttention {
    /// PyTorch's init: Xavier-uniform input projection, zero biases,
    /// default-initialised output projection weight. `dim` must be divisible
    /// by `num_heads`; `dropout` applies to the attention weights.
    pub fn new(dim: usize, num_heads: usize, dropout: f32, vb: VarBuilder) -> Result<Self> {
        if num_heads == 0 || !dim.is_multiple_of(num_heads) {
            candle_core::bail!("attention dim {dim} is not divisible by {num_heads} heads")
        }
        let in_proj_weight = vb.get_with_hints(
            (3 * dim, dim),
            "in_proj_weight",
            xavier_uniform(dim, 3 * dim),
        )?;
        let in_proj_bias = vb.get_with_hints(3 * dim, "in_proj_bias", Init::Const(0.0))?;
        let out_vb = vb.pp("out_proj");
        let out_weight =
            out_vb.get_with_hints((dim, dim), "weight", LayerInit::Torch.weight(dim, dim))?;
        let out_bias = out_vb.get_with_hints(dim, "bias", Init::Const(0.0))?;
        Ok(Self {
            in_proj_weight,
            in_proj_bias,
            out_proj: Linear::from_tensors(out_weight, Some(out_bias)),
            num_heads,
            dim,
            dropout: Dropout::new(dropout),
        })
    }

    /// Number of heads.
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// `(B, S, E)` → `(B, heads, S, E/heads)` projection with rows
    /// `part·E .. (part+count)·E` of the stacked weight.
    fn project(&self, x: &Tensor, part: usize, count: usize) -> Result<Tensor> {
        let w = self
            .in_proj_weight
            .narrow(0, part * self.dim, count * self.dim)?;
        let b = self
            .in_proj_bias
            .narrow(0, part * self.dim, count * self.dim)?;
        Linear::from_tensors(w, Some(b)).forward(x)
    }

    /// `(B, S, E)` → `(B, heads, S, E/heads)`.
    fn split_heads(&self, x: &Tensor) -> Result<Tensor> {
        let (b, s, _) = x.dims3()?;
        x.reshape((b, s, self.num_heads, self.dim / self.num_heads))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// Queries, keys and values of a self-attention input, one matmul:
    /// `(B, S, E)` → three `(B, heads, S, E/heads)`.
    pub fn project_qkv(&self, x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let qkv = self.project(x, 0, 3)?;
        let q = self.split_heads(&qkv.narrow(2, 0, self.dim)?)?;
        let k = self.split_heads(&qkv.narrow(2, self.dim, self.dim)?)?;
        let v = self.split_heads(&qkv.narrow(2, 2 * self.dim, self.dim)?)?;
        Ok((q, k, v))
    }

    /// Queries only: `(B, S, E)` → `(B, heads, S, E/heads)`.
    pub fn project_q(&self, x: &Tensor) -> Result<Tensor> {
        self.split_heads(&self.project(x, 0, 1)?)
    }

    /// Keys and values of a memory: `(B, S, E)` → two `(B, heads, S, E/heads)`.
    pub fn project_kv(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let kv = self.project(x, 1, 2)?;
        let k = self.split_heads(&kv.narrow(2, 0, self.dim)?)?;
        let v = self.split_heads(&kv.narrow(2, self.dim, self.dim)?)?;
        Ok((k, v))
    }

    /// Attention of projected queries `(B, h, Sq, d)` over keys/values
    /// `(B, h, Sk, d)` with an optional additive mask broadcastable to
    /// `(B, h, Sq, Sk)`; returns the output-projected `(B, Sq, E)`.
    pub fn attend(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor> {
        let (b, _, sq, d) = q.dims4()?;
        // `kᵀ` as a strided view: candle's matmul reads transposed operands
        // directly, so no copy of the keys (at every step of greedy decoding
        // and twice per attention in training, forward and backward).
        let scores = (q.matmul(&k.transpose(2, 3)?)? / (d as f64).sqrt())?;
        let scores = match mask {
            Some(m) => scores.broadcast_add(m)?,
            None => scores,
        };
        let weights = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let weights = self.dropout.forward(&weights, train)?;
        let out = weights.matmul(v)?; // (B, h, Sq, d)
        let out = out.transpose(1, 2)?.reshape((b, sq, self.dim))?;
        self.out_proj.forward(&out)
    }

    /// Self-attention: `(B, S, E)` → `(B, S, E)`.
    pub fn forward_self(&self, x: &Tensor, mask: Option<&Tensor>, train: bool) -> Result<Tensor> {
        let (q, k, v) = self.project_qkv(x)?;
        self.attend(&q, &k, &v, mask, train)
    }

    /// Cross-attention of `x` `(B, Sq, E)` over `memory` `(B, Sk, E)` → `(B, Sq, E)`.
    pub fn forward_cross(
        &self,
        x: &Tensor,
        memory: &Tensor,
        mask: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor> {
        let q = self.project_q(x)?;
        let (k, v) = self.project_kv(memory)?;
        self.attend(&q, &k, &v, mask, train)
    }
}
