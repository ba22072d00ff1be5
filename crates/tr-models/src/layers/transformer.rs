//! PyTorch's post-norm `nn.TransformerDecoderLayer` / `nn.TransformerDecoder`
//! (ReLU feed-forward, layer-norm eps 1e-5, no final norm), batch-first, with
//! an incremental mode that caches keys and values for greedy decoding.
//!
//! One layer, `x` the target sequence and `m` the encoder memory:
//!
//! ```text
//! x = norm1(x + dropout(self_attn(x, x, x, causal + key-padding mask)))
//! x = norm2(x + dropout(multihead_attn(x, m, m)))
//! x = norm3(x + dropout(linear2(dropout(relu(linear1(x))))))
//! ```
//!
//! Parameter names follow PyTorch (`self_attn.in_proj_weight`,
//! `multihead_attn.out_proj.bias`, `linear1.weight`, `norm3.bias`, ...) under
//! `layers.{i}`. Unlike PyTorch, which deep-copies one initialised layer
//! `num_layers` times (all layers start identical), every layer here is
//! initialised independently from the same distributions.
//!
//! Incremental decoding is exact: with a causal mask, position `j`'s
//! activations in every layer depend on positions `<= j` only, so the keys and
//! values computed when position `j` was new are the ones a full recomputation
//! would produce.

use candle_core::{Result, Tensor};
use candle_nn::kv_cache::KvCache;
use candle_nn::VarBuilder;

use super::attention::MultiHeadAttention;
use super::dropout::Dropout;
use super::init::LayerInit;
use super::linear::Linear;
use super::norm::LayerNorm;

/// Shape settings of a [`TransformerDecoder`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecoderConfig {
    /// Model width `E`.
    pub dim: usize,
    pub num_heads: usize,
    /// Hidden width of the feed-forward block.
    pub ff_dim: usize,
    pub num_layers: usize,
    /// Dropout on attention weights, residual branches and the feed-forward hidden layer.
    pub dropout: f32,
}

/// One post-norm decoder layer.
#[derive(Clone, Debug)]
pub struct DecoderLayer {
    self_attn: MultiHeadAttention,
    multihead_attn: MultiHeadAttention,
    linear1: Linear,
    linear2: Linear,
    norm1: LayerNorm,
    norm2: LayerNorm,
    norm3: LayerNorm,
    dropout: Dropout,
}

/// Keys and values one layer keeps between greedy-decoding steps.
#[derive(Clone, Debug)]
pub struct LayerCache {
    /// `(B, h, t, d)` self-attention keys/values of the positions seen so
    /// far, written in place into buffers allocated once for the whole run
    /// (appending by concatenation would copy the cache at every step:
    /// quadratic in the output length, 682 tokens for paragraphs).
    self_kv: KvCache,
    /// `(B, h, Sx, d)` cross-attention keys/values of the memory.
    memory_kv: (Tensor, Tensor),
}

impl DecoderLayer {
    fn new(c: &DecoderConfig, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            self_attn: MultiHeadAttention::new(c.dim, c.num_heads, c.dropout, vb.pp("self_attn"))?,
            multihead_attn: MultiHeadAttention::new(
                c.dim,
                c.num_heads,
                c.dropout,
                vb.pp("multihead_attn"),
            )?,
            linear1: Linear::new(c.dim, c.ff_dim, LayerInit::Torch, vb.pp("linear1"))?,
            linear2: Linear::new(c.ff_dim, c.dim, LayerInit::Torch, vb.pp("linear2"))?,
            norm1: LayerNorm::new(c.dim, 1e-5, vb.pp("norm1"))?,
            norm2: LayerNorm::new(c.dim, 1e-5, vb.pp("norm2"))?,
            norm3: LayerNorm::new(c.dim, 1e-5, vb.pp("norm3"))?,
            dropout: Dropout::new(c.dropout),
        })
    }

    /// `(B, S, E)` → `(B, S, E)`.
    fn feed_forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let hidden = self.linear1.forward(x)?.relu()?;
        let hidden = self.dropout.forward(&hidden, train)?;
        self.linear2.forward(&hidden)
    }

    /// `x` `(B, S, E)`, `memory` `(B, Sx, E)`, `mask` additive, broadcastable
    /// to `(B, heads, S, S)` → `(B, S, E)`.
    pub fn forward(
        &self,
        x: &Tensor,
        memory: &Tensor,
        mask: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor> {
        let a = self.self_attn.forward_self(x, mask, train)?;
        let x = self
            .norm1
            .forward(&(x + self.dropout.forward(&a, train)?)?)?;
        let a = self.multihead_attn.forward_cross(&x, memory, None, train)?;
        let x = self
            .norm2
            .forward(&(&x + self.dropout.forward(&a, train)?)?)?;
        let f = self.feed_forward(&x, train)?;
        self.norm3
            .forward(&(&x + self.dropout.forward(&f, train)?)?)
    }

    /// Evaluation-mode step for the newest position: `x` `(B, 1, E)`,
    /// `key_mask` additive `(B, 1, 1, t+1)` over all positions so far
    /// (including this one) → `(B, 1, E)`; appends this position's keys and
    /// values to `cache`.
    fn step(&self, x: &Tensor, cache: &mut LayerCache, key_mask: &Tensor) -> Result<Tensor> {
        let (q, k, v) = self.self_attn.project_qkv(x)?;
        let (k, v) = cache.self_kv.append(&k, &v)?;
        let a = self.self_attn.attend(&q, &k, &v, Some(key_mask), false)?;
        let x = self.norm1.forward(&(x + a)?)?;
        let q = self.multihead_attn.project_q(&x)?;
        let (mk, mv) = &cache.memory_kv;
        let a = self.multihead_attn.attend(&q, mk, mv, None, false)?;
        let x = self.norm2.forward(&(&x + a)?)?;
        let f = self.feed_forward(&x, false)?;
        self.norm3.forward(&(&x + f)?)
    }
}

/// A stack of post-norm decoder layers (no final norm, as the course's
/// `nn.TransformerDecoder(layer, num_layers)`).
#[derive(Clone, Debug)]
pub struct TransformerDecoder {
    layers: Vec<DecoderLayer>,
    config: DecoderConfig,
}

/// Per-layer caches of one greedy decoding run; see [`TransformerDecoder::start`].
#[derive(Clone, Debug)]
pub struct DecoderCache {
    layers: Vec<LayerCache>,
}

impl TransformerDecoder {
    /// Parameters under `vb.pp("layers").pp(i)`.
    pub fn new(config: DecoderConfig, vb: VarBuilder) -> Result<Self> {
        let layers = (0..config.num_layers)
            .map(|i| DecoderLayer::new(&config, vb.pp("layers").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { layers, config })
    }

    /// The shape settings.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Full (teacher-forced) pass: `x` `(B, S, E)` embedded targets,
    /// `memory` `(B, Sx, E)`, additive `mask` → `(B, S, E)`.
    pub fn forward(
        &self,
        x: &Tensor,
        memory: &Tensor,
        mask: Option<&Tensor>,
        train: bool,
    ) -> Result<Tensor> {
        let mut x = x.clone();
        for layer in &self.layers {
            x = layer.forward(&x, memory, mask, train)?;
        }
        Ok(x)
    }

    /// Starts incremental decoding over `memory` `(B, Sx, E)`: projects the
    /// memory's keys and values once per layer and makes room for
    /// `capacity` decoded positions (more still work: the buffers grow).
    pub fn start(&self, memory: &Tensor, capacity: usize) -> Result<DecoderCache> {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Ok(LayerCache {
                    self_kv: KvCache::new(2, capacity.max(1)),
                    memory_kv: l.multihead_attn.project_kv(memory)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DecoderCache { layers })
    }

    /// One evaluation-mode step: `x` `(B, 1, E)` the newest embedded token,
    /// `key_mask` `(B, 1, 1, t+1)` additive padding mask over every position
    /// so far → `(B, 1, E)`.
    pub fn step(&self, x: &Tensor, cache: &mut DecoderCache, key_mask: &Tensor) -> Result<Tensor> {
        if cache.layers.len() != self.layers.len() {
            candle_core::bail!(
                "decoder cache has {} layers, decoder has {}",
                cache.layers.len(),
                self.layers.len()
            )
        }
        let mut x = x.clone();
        for (layer, c) in self.layers.iter().zip(cache.layers.iter_mut()) {
            x = layer.step(&x, c, key_mask)?;
        }
        Ok(x)
    }
}
