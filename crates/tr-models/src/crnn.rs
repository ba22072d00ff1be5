//! `crnn`: a convolutional-recurrent line reader for real handwriting, in
//! the style of PyLaia's `LaiaCRNN` (Puigcerver 2017) and kraken's default
//! VGSL network — a deeper CNN with a finer time step than the course's
//! LineCNN, then a stacked bidirectional LSTM, trained with CTC.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use tr_data::registry::Variant;

use crate::error::{check_positive, check_probability, Error};
use crate::layers::{
    max_pool2d, BatchNorm2d, Conv2d, Conv2dSpec, Dropout, LayerInit, Linear, Lstm, LstmConfig,
};
use crate::model::{check_input, DataSpec, Model, Task};
use crate::registry::{ModelConfig, ModelKind};

/// Registry name (written once, in the registration in [`crate::registry`]).
pub const NAME: &str = <CrnnConfig as Variant<ModelConfig>>::NAME;

/// Hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrnnConfig {
    /// Output channels of the four conv stages.
    pub channels: [usize; 4],
    /// Hidden size of each LSTM direction.
    pub lstm_dim: usize,
    /// Stacked bidirectional LSTM layers.
    pub lstm_layers: usize,
    /// Dropout before, between and after the LSTM layers.
    pub dropout: f64,
    /// Batch normalisation after every convolution.
    pub batch_norm: bool,
}

impl Default for CrnnConfig {
    fn default() -> Self {
        Self {
            channels: [32, 64, 96, 128],
            lstm_dim: 256,
            lstm_layers: 3,
            dropout: 0.5,
            batch_norm: true,
        }
    }
}

/// `crnn`: a convolutional-recurrent line reader for real handwriting, in
/// the style of PyLaia's `LaiaCRNN` (Puigcerver 2017) and kraken's default
/// VGSL network — a deeper CNN with a finer time step than the course's
/// LineCNN, then a stacked bidirectional LSTM, trained with CTC.
///
/// ```text
/// (B, 1, H, W)
///  → conv 3×3 (c₁) + BN + ReLU, max-pool 2×2     → H/2,  W/2
///  → conv 3×3 (c₂) + BN + ReLU, max-pool 2×2     → H/4,  W/4
///  → conv 3×3 (c₃) + BN + ReLU, conv 3×3 stride (2,1) (c₃) + BN + ReLU → H/8,  W/4
///  → conv 3×3 (c₄) + BN + ReLU, conv 3×3 stride (2,1) (c₄) + BN + ReLU → H/16, W/4
///  → columns as a sequence: (S = W/4, B, c₄·H/16), dropout
///  → bidirectional LSTM, `lstm_layers` × `lstm_dim`, dropout between layers
///  → dropout, linear (2·lstm_dim → classes)       → (B, classes, S)
/// ```
///
/// Why not the course's line models on real lines: their time step is the
/// window stride of at least 8 input pixels (one feature column of LineCNN
/// covers 8 px), so a real line at 48 px, with letters 9–14 px wide, gets
/// barely one CTC frame per character — too few for CTC, which needs a
/// blank between repeated letters. Here one frame covers 4 px (2–3 frames
/// per letter), the height is folded into the features instead of being
/// convolved away by one window, and three LSTM layers carry context along
/// the line as PyLaia's and kraken's recognisers do.
///
/// Height halvings after the pools use strided convolutions (the fast CPU
/// kernels take any stride); the input height must be a multiple of 16.
/// Batch normalisation (BN, `batch_norm`, on by default as in PyLaia's IAM
/// recipe) keeps the activations the six ReLU layers of PyTorch-initialised
/// convolutions hand the LSTM at unit scale.
#[derive(Clone, Debug)]
pub struct Crnn {
    spec: DataSpec,
    convs: Vec<Conv2d>,
    norms: Vec<BatchNorm2d>,
    lstm: Lstm,
    fc: Linear,
    dropout: Dropout,
}

/// `(stride_h, stride_w, pool_after)` of the six convolutions.
const STAGES: [(usize, usize, bool); 6] = [
    (1, 1, true),
    (1, 1, true),
    (1, 1, false),
    (2, 1, false),
    (1, 1, false),
    (2, 1, false),
];

impl Crnn {
    /// Parameters `convs.N.{weight,bias}`, `norms.N.*` (with running
    /// statistics), `lstm.*` (PyTorch names), `fc` under `vb`.
    pub fn new(cfg: &CrnnConfig, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Self> {
        for (i, &c) in cfg.channels.iter().enumerate() {
            check_positive(NAME, &format!("channels[{i}]"), c)?;
        }
        check_positive(NAME, "lstm_dim", cfg.lstm_dim)?;
        check_positive(NAME, "lstm_layers", cfg.lstm_layers)?;
        check_probability(NAME, "dropout", cfg.dropout)?;
        let [c, h, w] = spec.input_shape;
        if h == 0 || h % 16 != 0 || w < 4 {
            return Err(Error::invalid(
                "data input_shape",
                "height",
                format!(
                    "{NAME} needs a height that is a multiple of 16 and a width of at least 4, got {h}x{w} \
                     (set data.height, e.g. 48 or 64)"
                ),
            ));
        }
        let [c1, c2, c3, c4] = cfg.channels;
        let outs = [c1, c2, c3, c3, c4, c4];
        let mut convs = Vec::with_capacity(6);
        let mut norms = Vec::new();
        let mut in_ch = c;
        for (i, (&(sh, sw, _), &out)) in STAGES.iter().zip(&outs).enumerate() {
            let spec = Conv2dSpec {
                in_channels: in_ch,
                out_channels: out,
                kernel: (3, 3),
                stride: (sh, sw),
                padding: (1, 1),
            };
            convs.push(Conv2d::new(spec, LayerInit::Torch, vb.pp("convs").pp(i))?);
            if cfg.batch_norm {
                norms.push(BatchNorm2d::new(out, vb.pp("norms").pp(i))?);
            }
            in_ch = out;
        }
        let features = c4 * (h / 16);
        let lstm = Lstm::new(
            LstmConfig {
                input_size: features,
                hidden_size: cfg.lstm_dim,
                num_layers: cfg.lstm_layers,
                bidirectional: true,
                dropout: cfg.dropout as f32,
            },
            vb.pp("lstm"),
        )?;
        let classes = spec.num_classes();
        Ok(Self {
            spec: spec.clone(),
            convs,
            norms,
            lstm,
            fc: Linear::new(2 * cfg.lstm_dim, classes, LayerInit::Torch, vb.pp("fc"))?,
            dropout: Dropout::new(cfg.dropout as f32),
        })
    }

    /// CTC frames for an input `w` pixels wide: two 2×2 pools.
    pub fn output_steps(w: usize) -> usize {
        w / 4
    }

    /// `(B, C, H, W)` → `(B, classes, W/4)` logits.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        check_input(NAME, &self.spec, x, false)?;
        if Self::output_steps(x.dim(3)?) == 0 {
            candle_core::bail!("{NAME}: input width {} is below 4", x.dim(3)?)
        }
        let mut x = x.clone();
        for (i, (conv, &(_, _, pool))) in self.convs.iter().zip(&STAGES).enumerate() {
            x = match self.norms.get(i) {
                Some(bn) => bn.forward_relu(&conv.forward(&x)?, train)?,
                None => conv.forward_relu(&x)?,
            };
            if pool {
                x = max_pool2d(&x, 2, 2, 0)?;
            }
        }
        let (b, c, h, s) = x.dims4()?;
        // Columns become time steps; channels × rows their features.
        let x = x.reshape((b, c * h, s))?.permute((2, 0, 1))?.contiguous()?; // (S, B, F)
        let x = self.dropout.forward(&x, train)?;
        let x = self.lstm.forward(&x, train)?; // (S, B, 2H)
        let x = self.dropout.forward(&x, train)?;
        let x = self.fc.forward(&x)?; // (S, B, K)
        x.permute((1, 2, 0))?.contiguous()
    }
}

impl ModelKind for CrnnConfig {
    fn task(&self) -> Task {
        Task::Ctc
    }

    fn description(&self) -> &'static str {
        "CRNN: 6-conv CNN (time step 4 px) + stacked BiLSTM, PyLaia style (CTC, real lines)"
    }

    /// Real lines: 48 px high on a 1024 px canvas, the 83 EMNIST/IAM symbols.
    fn default_spec(&self) -> DataSpec {
        let lines = DataSpec::emnist_lines();
        DataSpec::new([1, 48, 1024], lines.vocab, Some(128))
    }

    fn build(&self, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Box<dyn Model>> {
        Ok(Box::new(Crnn::new(self, spec, vb)?))
    }
}

impl Model for Crnn {
    fn name(&self) -> &'static str {
        NAME
    }

    fn task(&self) -> Task {
        Task::Ctc
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        Crnn::forward(self, x, train)
    }
}
