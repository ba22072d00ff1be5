//! `mlp`: the course's multi-layer perceptron for single characters
//! (lab 1/2, trained on MNIST).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use tr_data::registry::Variant;
use tr_data::Vocabulary;

use crate::error::{check_positive, check_probability};
use crate::layers::{Dropout, LayerInit, Linear};
use crate::model::{check_input, DataSpec, Model, Task};
use crate::registry::{ModelConfig, ModelKind};

/// Registry name (written once, in the registration in [`crate::registry`]).
pub const NAME: &str = <MlpConfig as Variant<ModelConfig>>::NAME;

/// Hyper-parameters (course defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Width of the first hidden layer.
    pub fc1: usize,
    /// Width of the second hidden layer.
    pub fc2: usize,
    /// Dropout after each hidden layer.
    pub fc_dropout: f64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            fc1: 1024,
            fc2: 128,
            fc_dropout: 0.5,
        }
    }
}

/// `mlp`: the course's multi-layer perceptron for single characters
/// (lab 1/2, trained on MNIST).
///
/// `(B, C, H, W)` → flatten → `fc1` → ReLU → dropout → `fc2` → ReLU →
/// dropout → `fc3` → `(B, classes)` logits. PyTorch default init.
#[derive(Clone, Debug)]
pub struct Mlp {
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
    dropout: Dropout,
    spec: DataSpec,
}

impl Mlp {
    /// Parameters `fc1`, `fc2`, `fc3` under `vb`.
    pub fn new(cfg: &MlpConfig, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Self> {
        spec.check_basic(NAME)?;
        check_positive(NAME, "fc1", cfg.fc1)?;
        check_positive(NAME, "fc2", cfg.fc2)?;
        check_probability(NAME, "fc_dropout", cfg.fc_dropout)?;
        let input_dim: usize = spec.input_shape.iter().product();
        Ok(Self {
            fc1: Linear::new(input_dim, cfg.fc1, LayerInit::Torch, vb.pp("fc1"))?,
            fc2: Linear::new(cfg.fc1, cfg.fc2, LayerInit::Torch, vb.pp("fc2"))?,
            fc3: Linear::new(cfg.fc2, spec.num_classes(), LayerInit::Torch, vb.pp("fc3"))?,
            dropout: Dropout::new(cfg.fc_dropout as f32),
            spec: spec.clone(),
        })
    }

    /// `(B, C, H, W)` → `(B, classes)` logits.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        check_input(NAME, &self.spec, x, true)?;
        let x = x.flatten_from(1)?;
        let x = self
            .dropout
            .forward(&self.fc1.forward(&x)?.relu()?, train)?;
        let x = self
            .dropout
            .forward(&self.fc2.forward(&x)?.relu()?, train)?;
        self.fc3.forward(&x)
    }
}

impl ModelKind for MlpConfig {
    fn task(&self) -> Task {
        Task::Classify
    }

    fn description(&self) -> &'static str {
        "3-layer perceptron on flattened pixels (lab 1)"
    }

    /// MNIST digits.
    fn default_spec(&self) -> DataSpec {
        DataSpec::new([1, 28, 28], Vocabulary::digits(), None)
    }

    fn build(&self, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Box<dyn Model>> {
        Ok(Box::new(Mlp::new(self, spec, vb)?))
    }
}

impl Model for Mlp {
    fn name(&self) -> &'static str {
        NAME
    }

    fn task(&self) -> Task {
        Task::Classify
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        Mlp::forward(self, x, train)
    }
}
