//! `line-cnn`: the course's fully convolutional line reader (lab 3+, trained
//! with CTC on EMNIST lines), also the encoder of `line-cnn-lstm` and
//! `line-cnn-transformer`.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use tr_data::registry::Variant;

use crate::error::{check_positive, check_probability, Error};
use crate::layers::{Conv2dSpec, ConvBlock, Dropout, LayerInit, Linear};
use crate::model::{check_input, DataSpec, Model, Task};
use crate::registry::{ModelConfig, ModelKind};

/// Registry name (written once, in the registration in [`crate::registry`]).
pub const NAME: &str = <LineCnnConfig as Variant<ModelConfig>>::NAME;

/// Strides of the eight 3×3 conv blocks.
const STRIDES: [usize; 8] = [1, 1, 2, 1, 2, 1, 2, 1];
/// Output channels of the eight blocks, in multiples of `conv_dim`.
const WIDTHS: [usize; 8] = [1, 1, 1, 1, 2, 2, 4, 4];

/// Hyper-parameters (course defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineCnnConfig {
    /// Channels of the first conv blocks (doubles twice).
    pub conv_dim: usize,
    /// Channels of the window convolution and width of `fc1`.
    pub fc_dim: usize,
    /// Dropout between `fc1` and `fc2`.
    pub fc_dropout: f64,
    /// Receptive width of one output step, in input pixels (≥ 8).
    pub window_width: usize,
    /// Input pixels between output steps (≥ 8).
    pub window_stride: usize,
    /// Keep only the first `output_len` (data) steps.
    pub limit_output_length: bool,
}

impl Default for LineCnnConfig {
    fn default() -> Self {
        Self {
            conv_dim: 32,
            fc_dim: 512,
            fc_dropout: 0.2,
            window_width: 16,
            window_stride: 8,
            limit_output_length: false,
        }
    }
}

/// `line-cnn`: the course's fully convolutional line reader (lab 3+, trained
/// with CTC on EMNIST lines), also the encoder of `line-cnn-lstm` and
/// `line-cnn-transformer`.
///
/// ```text
/// (B, C, H, W)
///  → 8 ConvBlocks, 3×3, padding 1, strides 1,1,2,1,2,1,2,1,
///    channels d,d,d,d,2d,2d,4d,4d (d = conv_dim)          → (B, 4d, H₃, W₃)
///  → window ConvBlock: kernel (H/8, WW/8), stride (H/8, WS/8), padding 0
///                                                          → (B, fc_dim, 1, S)
///  → fc1 + ReLU + dropout + fc2 per step                   → (B, classes, S)
/// ```
///
/// `WW`/`WS` are `window_width`/`window_stride` in input pixels; the three
/// stride-2 blocks shrink a side `n` to `⌊(n−1)/2⌋+1` each, so a 28×896 line
/// gives a 4×112 map and `S = 112 − 2 + 1 = 111` steps. Weights use the
/// course's Kaiming-normal fan-out init with its normal bias (see
/// [`crate::layers::LayerInit`]). With 83 classes on 1×28×896 the model has
/// exactly 1,003,891 parameters.
#[derive(Clone, Debug)]
pub struct LineCnn {
    convs: Vec<ConvBlock>,
    window: ConvBlock,
    fc1: Linear,
    fc2: Linear,
    dropout: Dropout,
    limit: Option<usize>,
    spec: DataSpec,
    model: &'static str,
}

impl LineCnn {
    /// A reader with one output per vocabulary symbol. Parameters
    /// `convs.{0..8}.conv`, `fc1`, `fc2` under `vb`.
    pub fn new(cfg: &LineCnnConfig, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Self> {
        Self::with_outputs(cfg, spec, spec.num_classes(), NAME, vb)
    }

    /// A LineCNN with `outputs` features per step (the Transformer uses its
    /// model width); `model` names the owner in error messages.
    pub fn with_outputs(
        cfg: &LineCnnConfig,
        spec: &DataSpec,
        outputs: usize,
        model: &'static str,
        vb: VarBuilder,
    ) -> crate::Result<Self> {
        spec.check_basic(model)?;
        check_positive(model, "conv_dim", cfg.conv_dim)?;
        check_positive(model, "fc_dim", cfg.fc_dim)?;
        check_positive(model, "outputs", outputs)?;
        check_probability(model, "fc_dropout", cfg.fc_dropout)?;
        let [c, h, w] = spec.input_shape;
        if h < 8 {
            return Err(Error::invalid(
                model,
                "data input_shape",
                format!("height {h} is below 8: the window kernel height is H/8"),
            ));
        }
        for (field, value) in [
            ("window_width", cfg.window_width),
            ("window_stride", cfg.window_stride),
        ] {
            if value < 8 {
                return Err(Error::invalid(
                    model,
                    field,
                    format!("{value} is below 8: the window conv uses {field}/8 feature columns"),
                ));
            }
        }
        let window = window_spec(cfg, 4 * cfg.conv_dim, h);
        let (h3, w3) = feature_size(h, w);
        match window.output_size(h3, w3) {
            Some((1, _)) => {}
            Some((rows, _)) => {
                return Err(Error::invalid(
                    model,
                    "data input_shape",
                    format!(
                        "height {h} gives {rows} rows of windows (feature height {h3}, kernel {}); need exactly 1",
                        window.kernel.0
                    ),
                ))
            }
            None => {
                return Err(Error::invalid(
                    model,
                    "data input_shape",
                    format!(
                        "{h}x{w} input gives a {h3}x{w3} feature map, smaller than the window kernel {:?} (window_width {})",
                        window.kernel, cfg.window_width
                    ),
                ))
            }
        }
        let limit = if cfg.limit_output_length {
            Some(spec.require_output_len(model, "limit_output_length is set")?)
        } else {
            None
        };
        let init = LayerInit::KaimingFanOut;
        let mut convs = Vec::with_capacity(STRIDES.len());
        let mut in_ch = c;
        for (i, (&stride, &mult)) in STRIDES.iter().zip(WIDTHS.iter()).enumerate() {
            let out_ch = mult * cfg.conv_dim;
            let spec = Conv2dSpec::square(in_ch, out_ch, 3, stride, 1);
            convs.push(ConvBlock::new(spec, init, vb.pp("convs").pp(i))?);
            in_ch = out_ch;
        }
        Ok(Self {
            convs,
            window: ConvBlock::new(window, init, vb.pp("convs").pp(STRIDES.len()))?,
            fc1: Linear::new(cfg.fc_dim, cfg.fc_dim, init, vb.pp("fc1"))?,
            fc2: Linear::new(cfg.fc_dim, outputs, init, vb.pp("fc2"))?,
            dropout: Dropout::new(cfg.fc_dropout as f32),
            limit,
            spec: spec.clone(),
            model,
        })
    }

    /// Number of output steps for an input of width `w` (before any
    /// `limit_output_length`), 0 when too narrow.
    pub fn output_steps(&self, w: usize) -> usize {
        let (h3, w3) = feature_size(self.spec.input_shape[1], w);
        self.window
            .conv()
            .spec()
            .output_size(h3, w3)
            .map_or(0, |(_, s)| s)
    }

    /// `(B, C, H, W)` → `(B, outputs, S)` logits.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        check_input(self.model, &self.spec, x, false)?;
        let w = x.dim(3)?;
        if self.output_steps(w) == 0 {
            candle_core::bail!(
                "{}: input width {w} is too narrow for one window",
                self.model
            )
        }
        let mut x = x.clone();
        for conv in &self.convs {
            x = conv.forward(&x)?;
        }
        let x = self.window.forward(&x)?; // (B, fc_dim, 1, S)
        let x = x.squeeze(2)?.transpose(1, 2)?; // (B, S, fc_dim)
        let x = self.fc1.forward(&x)?.relu()?;
        let x = self.dropout.forward(&x, train)?;
        let x = self.fc2.forward(&x)?.transpose(1, 2)?.contiguous()?; // (B, outputs, S)
        match self.limit {
            Some(n) if n < x.dim(2)? => x.narrow(2, 0, n),
            _ => Ok(x),
        }
    }
}

/// The window convolution of a `H`-pixel-high input.
fn window_spec(cfg: &LineCnnConfig, in_ch: usize, h: usize) -> Conv2dSpec {
    Conv2dSpec {
        in_channels: in_ch,
        out_channels: cfg.fc_dim,
        kernel: (h / 8, cfg.window_width / 8),
        stride: (h / 8, cfg.window_stride / 8),
        padding: (0, 0),
    }
}

/// Feature-map size after the eight 3×3 blocks.
fn feature_size(h: usize, w: usize) -> (usize, usize) {
    let down = |n: usize| if n == 0 { 0 } else { (n - 1) / 2 + 1 };
    STRIDES.iter().fold(
        (h, w),
        |(h, w), &s| if s == 2 { (down(h), down(w)) } else { (h, w) },
    )
}

impl ModelKind for LineCnnConfig {
    fn task(&self) -> Task {
        Task::Ctc
    }

    fn description(&self) -> &'static str {
        "fully convolutional line reader, one step per window (CTC)"
    }

    /// 32-character EMNIST lines.
    fn default_spec(&self) -> DataSpec {
        DataSpec::emnist_lines()
    }

    fn build(&self, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Box<dyn Model>> {
        Ok(Box::new(LineCnn::new(self, spec, vb)?))
    }
}

impl Model for LineCnn {
    fn name(&self) -> &'static str {
        NAME
    }

    fn task(&self) -> Task {
        Task::Ctc
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        LineCnn::forward(self, x, train)
    }
}
