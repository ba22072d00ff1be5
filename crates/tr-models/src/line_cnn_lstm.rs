//! `line-cnn-lstm`: [`LineCnn`] followed by a bidirectional LSTM (lab 3+,
//! CTC on EMNIST lines).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use tr_data::registry::Variant;

use crate::error::{check_positive, check_probability};
use crate::layers::{LayerInit, Linear, Lstm, LstmConfig};
use crate::line_cnn::{LineCnn, LineCnnConfig};
use crate::model::{DataSpec, Model, Task};
use crate::registry::{ModelConfig, ModelKind};

/// Registry name (written once, in the registration in [`crate::registry`]).
pub const NAME: &str = <LineCnnLstmConfig as Variant<ModelConfig>>::NAME;

/// Hyper-parameters (course defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineCnnLstmConfig {
    /// The convolutional front end.
    pub line_cnn: LineCnnConfig,
    /// Hidden size of each LSTM direction.
    pub lstm_dim: usize,
    /// Number of stacked LSTM layers.
    pub lstm_layers: usize,
    /// Dropout between LSTM layers (only used when `lstm_layers > 1`).
    pub lstm_dropout: f64,
}

impl Default for LineCnnLstmConfig {
    fn default() -> Self {
        Self {
            line_cnn: LineCnnConfig::default(),
            lstm_dim: 512,
            lstm_layers: 1,
            lstm_dropout: 0.2,
        }
    }
}

/// `line-cnn-lstm`: [`LineCnn`] followed by a bidirectional LSTM (lab 3+,
/// CTC on EMNIST lines).
///
/// `(B, C, H, W)` → LineCNN → `(B, classes, S)` → as a sequence `(S, B,
/// classes)` → bidirectional LSTM (hidden `lstm_dim`, `lstm_layers` layers,
/// dropout between layers) → the two directions **summed** → `(S, B,
/// lstm_dim)` → `fc` → `(B, classes, S)` logits. LSTM and `fc` use PyTorch's
/// default init. With the defaults on 83 classes: 3,491,782 parameters.
#[derive(Clone, Debug)]
pub struct LineCnnLstm {
    line_cnn: LineCnn,
    lstm: Lstm,
    fc: Linear,
    lstm_dim: usize,
}

impl LineCnnLstm {
    /// Parameters `line_cnn.*`, `lstm.*` (PyTorch LSTM names), `fc` under `vb`.
    pub fn new(cfg: &LineCnnLstmConfig, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Self> {
        check_positive(NAME, "lstm_dim", cfg.lstm_dim)?;
        check_positive(NAME, "lstm_layers", cfg.lstm_layers)?;
        check_probability(NAME, "lstm_dropout", cfg.lstm_dropout)?;
        let classes = spec.num_classes();
        let line_cnn =
            LineCnn::with_outputs(&cfg.line_cnn, spec, classes, NAME, vb.pp("line_cnn"))?;
        let lstm = Lstm::new(
            LstmConfig {
                input_size: classes,
                hidden_size: cfg.lstm_dim,
                num_layers: cfg.lstm_layers,
                bidirectional: true,
                dropout: cfg.lstm_dropout as f32,
            },
            vb.pp("lstm"),
        )?;
        Ok(Self {
            line_cnn,
            lstm,
            fc: Linear::new(cfg.lstm_dim, classes, LayerInit::Torch, vb.pp("fc"))?,
            lstm_dim: cfg.lstm_dim,
        })
    }

    /// `(B, C, H, W)` → `(B, classes, S)` logits.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = self.line_cnn.forward(x, train)?; // (B, K, S)
        let (b, _, s) = x.dims3()?;
        let x = x.permute((2, 0, 1))?.contiguous()?; // (S, B, K)
        let x = self.lstm.forward(&x, train)?; // (S, B, 2H)
        let x = x.reshape((s, b, 2, self.lstm_dim))?.sum(2)?; // (S, B, H)
        let x = self.fc.forward(&x)?; // (S, B, K)
        x.permute((1, 2, 0))?.contiguous()
    }
}

impl ModelKind for LineCnnLstmConfig {
    fn task(&self) -> Task {
        Task::Ctc
    }

    fn description(&self) -> &'static str {
        "LineCNN + bidirectional LSTM, directions summed (CTC)"
    }

    /// 32-character EMNIST lines.
    fn default_spec(&self) -> DataSpec {
        DataSpec::emnist_lines()
    }

    fn build(&self, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Box<dyn Model>> {
        Ok(Box::new(LineCnnLstm::new(self, spec, vb)?))
    }
}

impl Model for LineCnnLstm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn task(&self) -> Task {
        Task::Ctc
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        LineCnnLstm::forward(self, x, train)
    }
}
