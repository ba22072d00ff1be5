//! `cnn`: the course's small convolutional character classifier (lab 2,
//! trained on EMNIST).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use tr_data::registry::Variant;
use tr_data::Vocabulary;

use crate::error::{check_positive, check_probability, Error};
use crate::layers::{max_pool2d, Conv2dSpec, ConvBlock, Dropout, LayerInit, Linear};
use crate::model::{check_input, DataSpec, Model, Task};
use crate::registry::{ModelConfig, ModelKind};

/// Registry name (written once, in the registration in [`crate::registry`]).
pub const NAME: &str = <CnnConfig as Variant<ModelConfig>>::NAME;

/// Hyper-parameters (course defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CnnConfig {
    /// Channels of both conv blocks.
    pub conv_dim: usize,
    /// Width of the hidden fully connected layer.
    pub fc_dim: usize,
    /// Dropout after the max-pool.
    pub fc_dropout: f64,
}

impl Default for CnnConfig {
    fn default() -> Self {
        Self {
            conv_dim: 64,
            fc_dim: 128,
            fc_dropout: 0.25,
        }
    }
}

/// `cnn`: the course's small convolutional character classifier (lab 2,
/// trained on EMNIST).
///
/// `(B, C, H, W)` → ConvBlock(3×3, `conv_dim`) → ConvBlock(3×3, `conv_dim`)
/// → 2×2 max-pool → dropout → flatten → `fc1` → ReLU → `fc2` →
/// `(B, classes)`. PyTorch default init.
///
/// The course hard-coded 28×28 inputs; here the flattened size is derived
/// from the data's `(H, W)`: `conv_dim · ⌊H/2⌋ · ⌊W/2⌋`.
#[derive(Clone, Debug)]
pub struct Cnn {
    conv1: ConvBlock,
    conv2: ConvBlock,
    fc1: Linear,
    fc2: Linear,
    dropout: Dropout,
    spec: DataSpec,
}

impl Cnn {
    /// Parameters `conv1.conv`, `conv2.conv`, `fc1`, `fc2` under `vb`.
    pub fn new(cfg: &CnnConfig, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Self> {
        spec.check_basic(NAME)?;
        check_positive(NAME, "conv_dim", cfg.conv_dim)?;
        check_positive(NAME, "fc_dim", cfg.fc_dim)?;
        check_probability(NAME, "fc_dropout", cfg.fc_dropout)?;
        let [c, h, w] = spec.input_shape;
        if h < 2 || w < 2 {
            return Err(Error::invalid(
                NAME,
                "data input_shape",
                format!("{h}x{w} images are too small for the 2x2 max-pool (need at least 2x2)"),
            ));
        }
        let fc_in = cfg.conv_dim * (h / 2) * (w / 2);
        let init = LayerInit::Torch;
        Ok(Self {
            conv1: ConvBlock::new(
                Conv2dSpec::square(c, cfg.conv_dim, 3, 1, 1),
                init,
                vb.pp("conv1"),
            )?,
            conv2: ConvBlock::new(
                Conv2dSpec::square(cfg.conv_dim, cfg.conv_dim, 3, 1, 1),
                init,
                vb.pp("conv2"),
            )?,
            fc1: Linear::new(fc_in, cfg.fc_dim, init, vb.pp("fc1"))?,
            fc2: Linear::new(cfg.fc_dim, spec.num_classes(), init, vb.pp("fc2"))?,
            dropout: Dropout::new(cfg.fc_dropout as f32),
            spec: spec.clone(),
        })
    }

    /// `(B, C, H, W)` → `(B, classes)` logits.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        check_input(NAME, &self.spec, x, true)?;
        self.forward_unchecked(x, train)
    }

    /// [`Cnn::forward`] without the input-shape check (for callers that
    /// already guarantee it, such as `line-cnn-simple`'s windows).
    pub(crate) fn forward_unchecked(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = self.conv2.forward(&self.conv1.forward(x)?)?;
        let x = max_pool2d(&x, 2, 2, 0)?;
        let x = self.dropout.forward(&x, train)?.flatten_from(1)?;
        let x = self.fc1.forward(&x)?.relu()?;
        self.fc2.forward(&x)
    }
}

impl ModelKind for CnnConfig {
    fn task(&self) -> Task {
        Task::Classify
    }

    fn description(&self) -> &'static str {
        "two 3x3 conv blocks, 2x2 max-pool, two FC layers (lab 2)"
    }

    /// EMNIST characters.
    fn default_spec(&self) -> DataSpec {
        DataSpec::new([1, 28, 28], Vocabulary::emnist(), None)
    }

    fn build(&self, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Box<dyn Model>> {
        Ok(Box::new(Cnn::new(self, spec, vb)?))
    }
}

impl Model for Cnn {
    fn name(&self) -> &'static str {
        NAME
    }

    fn task(&self) -> Task {
        Task::Classify
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        Cnn::forward(self, x, train)
    }
}
