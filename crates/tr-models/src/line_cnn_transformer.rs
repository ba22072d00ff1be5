//! `line-cnn-transformer`: a [`LineCnn`] encoder and a Transformer decoder
//! (lab 4, cross-entropy on EMNIST lines with `<S>`/`<E>` tokens).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use tr_data::registry::Variant;

use crate::error::check_probability;
use crate::layers::PositionalEncoding;
use crate::line_cnn::{LineCnn, LineCnnConfig};
use crate::model::DataSpec;
use crate::model::{Model, Task};
use crate::registry::{ModelConfig, ModelKind};
use crate::seq2seq::{EncoderDecoder, ImageEncoder};
use crate::seq2seq::{TokenDecoder, TokenDecoderConfig};

/// Registry name (written once, in the registration in [`crate::registry`]).
pub const NAME: &str = <LineCnnTransformerConfig as Variant<ModelConfig>>::NAME;

/// Hyper-parameters (course defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineCnnTransformerConfig {
    /// The convolutional encoder (its outputs are `tf_dim` wide).
    pub line_cnn: LineCnnConfig,
    /// Model width `E`.
    pub tf_dim: usize,
    /// Feed-forward hidden width.
    pub tf_fc_dim: usize,
    /// Decoder-layer dropout.
    pub tf_dropout: f64,
    /// Number of decoder layers.
    pub tf_layers: usize,
    /// Attention heads (must divide `tf_dim`).
    pub tf_nhead: usize,
    /// Dropout after adding positional encodings (the course's
    /// `PositionalEncoding` default).
    pub pos_dropout: f64,
}

impl Default for LineCnnTransformerConfig {
    fn default() -> Self {
        Self {
            line_cnn: LineCnnConfig::default(),
            tf_dim: 256,
            tf_fc_dim: 256,
            tf_dropout: 0.4,
            tf_layers: 4,
            tf_nhead: 4,
            pos_dropout: 0.1,
        }
    }
}

/// The LineCNN encoder: `(B, C, H, W)` → `(B, Sx, E)` memory.
#[derive(Clone, Debug)]
pub struct LineCnnEncoder {
    line_cnn: LineCnn,
    pos: PositionalEncoding,
    dim: usize,
}

impl ImageEncoder for LineCnnEncoder {
    const NAME: &'static str = NAME;

    /// LineCNN outputs `(B, E, Sx)` · √E, transposed, plus 1-D positions.
    fn encode(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = (self.line_cnn.forward(x, train)? * (self.dim as f64).sqrt())?;
        let x = x.transpose(1, 2)?.contiguous()?;
        self.pos.forward(&x, train)
    }
}

/// `line-cnn-transformer`: a [`LineCnn`] encoder and a Transformer decoder
/// (lab 4, cross-entropy on EMNIST lines with `<S>`/`<E>` tokens).
///
/// ```text
/// encode: (B, C, H, W) → LineCNN with tf_dim outputs → (B, E, Sx) · √E
///         → (B, Sx, E) + 1-D positions, dropout pos_dropout     = memory
/// decode: tokens (B, Sy) → embedding · √E + positions → 4 post-norm decoder
///         layers (causal + <P> key-padding self-attention, cross-attention
///         to memory, ReLU FF) → fc → logits
/// ```
///
/// The model is the shared [`EncoderDecoder`] with a [`LineCnnEncoder`]:
/// [`EncoderDecoder::forward_teacher`] gives `(B, C, Sy)` teacher-forced
/// logits; [`EncoderDecoder::decode_greedy`] (and `forward`) decode
/// greedily up to the data's `output_len` tokens, see [`crate::TokenDecoder`].
/// Embedding and `fc` use the course's `U(-0.1, 0.1)` init (zero `fc` bias),
/// the LineCNN its own Kaiming init, the decoder PyTorch's.
pub type LineCnnTransformer = EncoderDecoder<LineCnnEncoder>;

impl LineCnnTransformer {
    /// Parameters `line_cnn.*`, `embedding`, `fc`, `transformer_decoder.layers.*` under `vb`.
    pub fn new(
        cfg: &LineCnnTransformerConfig,
        spec: &DataSpec,
        vb: VarBuilder,
    ) -> crate::Result<Self> {
        check_probability(NAME, "pos_dropout", cfg.pos_dropout)?;
        let decoder = TokenDecoder::new(
            NAME,
            &TokenDecoderConfig {
                dim: cfg.tf_dim,
                num_heads: cfg.tf_nhead,
                ff_dim: cfg.tf_fc_dim,
                num_layers: cfg.tf_layers,
                dropout: cfg.tf_dropout,
                pos_dropout: cfg.pos_dropout,
            },
            spec,
            vb.clone(),
        )?;
        let line_cnn =
            LineCnn::with_outputs(&cfg.line_cnn, spec, cfg.tf_dim, NAME, vb.pp("line_cnn"))?;
        let steps = line_cnn.output_steps(spec.input_shape[2]);
        let encoder = LineCnnEncoder {
            pos: PositionalEncoding::new(cfg.tf_dim, steps, cfg.pos_dropout as f32, vb.device())?,
            line_cnn,
            dim: cfg.tf_dim,
        };
        Ok(Self::from_parts(encoder, decoder))
    }
}

impl ModelKind for LineCnnTransformerConfig {
    fn task(&self) -> Task {
        Task::Seq2Seq
    }

    fn description(&self) -> &'static str {
        "LineCNN encoder + 4-layer Transformer decoder"
    }

    /// 32-character EMNIST lines.
    fn default_spec(&self) -> DataSpec {
        DataSpec::emnist_lines()
    }

    fn build(&self, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Box<dyn Model>> {
        Ok(Box::new(LineCnnTransformer::new(self, spec, vb)?))
    }
}
