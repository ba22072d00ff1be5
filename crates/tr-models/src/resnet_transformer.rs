//! `resnet-transformer`: a ResNet-18 encoder and a Transformer decoder for
//! paragraphs (lab 3/4 of 2022, IAM paragraphs 1×576×640, 84 classes,
//! `output_len` 682).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use tr_data::registry::Variant;
use tr_data::Vocabulary;

use crate::error::{check_probability, Error};
use crate::layers::RESNET_WIDTH;
use crate::layers::{Conv2d, Conv2dSpec, LayerInit, PositionalEncodingImage, ResNet18};
use crate::model::{check_input, DataSpec};
use crate::model::{Model, Task};
use crate::registry::{ModelConfig, ModelKind};
use crate::seq2seq::{EncoderDecoder, ImageEncoder};
use crate::seq2seq::{TokenDecoder, TokenDecoderConfig};

/// Registry name (written once, in the registration in [`crate::registry`]).
pub const NAME: &str = <ResnetTransformerConfig as Variant<ModelConfig>>::NAME;

/// Hyper-parameters (course defaults; on `tf_fc_dim` see [`ResnetTransformer`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResnetTransformerConfig {
    /// Model width `E` (divisible by 4 for the 2-D positional encoding).
    pub tf_dim: usize,
    /// Feed-forward hidden width.
    pub tf_fc_dim: usize,
    /// Decoder-layer dropout.
    pub tf_dropout: f64,
    /// Number of decoder layers.
    pub tf_layers: usize,
    /// Attention heads (must divide `tf_dim`).
    pub tf_nhead: usize,
    /// Dropout after adding the decoder's 1-D positional encodings.
    pub pos_dropout: f64,
    /// Channels of the ResNet's first stage (64 = torchvision's ResNet-18,
    /// whose last stage has 8× as many: 512). Smaller values give narrow test
    /// models; the projection to `tf_dim` follows.
    pub resnet_width: usize,
}

impl Default for ResnetTransformerConfig {
    fn default() -> Self {
        Self {
            tf_dim: 256,
            tf_fc_dim: 1024,
            tf_dropout: 0.4,
            tf_layers: 4,
            tf_nhead: 4,
            pos_dropout: 0.1,
            resnet_width: RESNET_WIDTH,
        }
    }
}

/// The ResNet-18 encoder: `(B, C, H, W)` → `(B, H'·W', E)` memory.
#[derive(Clone, Debug)]
pub struct ResnetEncoder {
    resnet: ResNet18,
    projection: Conv2d,
    pos: PositionalEncodingImage,
    spec: DataSpec,
}

impl ImageEncoder for ResnetEncoder {
    const NAME: &'static str = NAME;

    /// ResNet body, 1×1 projection, 2-D positions, flattened row-major
    /// over the feature map.
    fn encode(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        check_input(NAME, &self.spec, x, false)?;
        let x = self.resnet.forward(x, train)?;
        let x = self.pos.forward(&self.projection.forward(&x)?)?; // (B, E, H', W')
        x.flatten_from(2)?.transpose(1, 2)?.contiguous()
    }
}

/// `resnet-transformer`: a ResNet-18 encoder and a Transformer decoder for
/// paragraphs (lab 3/4 of 2022, IAM paragraphs 1×576×640, 84 classes,
/// `output_len` 682).
///
/// ```text
/// encode: (B, C, H, W) → ResNet-18 body → (B, 512, H/32, W/32)
///         → 1×1 conv (encoder_projection) → (B, E, H', W') + 2-D positions
///         → flattened row by row                          = memory (B, H'·W', E)
/// decode: as line-cnn-transformer (embedding · √E + positions, 4 post-norm
///         decoder layers, fc)
/// ```
///
/// Differences from the course, all documented choices:
///
/// * the ResNet stem takes the data's channels (1 for grey) instead of
///   repeating grey into 3 channels: 6,272 fewer parameters, same function
///   family (see [`crate::layers::ResNet18`]);
/// * `tf_fc_dim` defaults to 1024, the course's `TF_FC_DIM` constant; its
///   command-line default was `TF_DIM` (256) by mistake, so runs that did not
///   pass `--tf_fc_dim` used 256 — set `tf_fc_dim: 256` to reproduce those.
///
/// Init: torchvision's for the ResNet, Kaiming-normal fan-out with the
/// course's normal bias for the projection, `U(-0.1, 0.1)` for embedding and
/// `fc`, PyTorch's for the decoder.
pub type ResnetTransformer = EncoderDecoder<ResnetEncoder>;

impl ResnetTransformer {
    /// Parameters `resnet.*` (torchvision names), `encoder_projection`,
    /// `embedding`, `fc`, `transformer_decoder.layers.*` under `vb`.
    pub fn new(
        cfg: &ResnetTransformerConfig,
        spec: &DataSpec,
        vb: VarBuilder,
    ) -> crate::Result<Self> {
        spec.check_basic(NAME)?;
        check_probability(NAME, "pos_dropout", cfg.pos_dropout)?;
        if !cfg.tf_dim.is_multiple_of(4) {
            return Err(Error::invalid(
                NAME,
                "tf_dim",
                format!(
                    "{} is not divisible by 4, as the 2-D positional encoding needs",
                    cfg.tf_dim
                ),
            ));
        }
        if cfg.resnet_width == 0 {
            return Err(Error::invalid(NAME, "resnet_width", "must be at least 1"));
        }
        let [c, h, w] = spec.input_shape;
        let Some((fh, fw)) = ResNet18::output_size(h, w) else {
            return Err(Error::invalid(
                NAME,
                "data input_shape",
                format!("{h}x{w} images are too small for ResNet-18"),
            ));
        };
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
        let encoder = ResnetEncoder {
            resnet: ResNet18::with_width(c, cfg.resnet_width, vb.pp("resnet"))?,
            projection: Conv2d::new(
                Conv2dSpec::square(
                    ResNet18::output_channels(cfg.resnet_width),
                    cfg.tf_dim,
                    1,
                    1,
                    0,
                ),
                LayerInit::KaimingFanOut,
                vb.pp("encoder_projection"),
            )?,
            pos: PositionalEncodingImage::new(cfg.tf_dim, fh, fw, vb.device())?,
            spec: spec.clone(),
        };
        Ok(Self::from_parts(encoder, decoder))
    }
}

impl ModelKind for ResnetTransformerConfig {
    fn task(&self) -> Task {
        Task::Seq2Seq
    }

    fn description(&self) -> &'static str {
        "ResNet-18 encoder + 4-layer Transformer decoder (paragraphs)"
    }

    /// IAM paragraphs: 576×640 pages, 84 symbols, 682 labels.
    fn default_spec(&self) -> DataSpec {
        DataSpec::new([1, 576, 640], Vocabulary::paragraphs(), Some(682))
    }

    fn build(&self, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Box<dyn Model>> {
        Ok(Box::new(ResnetTransformer::new(self, spec, vb)?))
    }
}
