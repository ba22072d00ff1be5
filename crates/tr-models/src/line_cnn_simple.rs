//! `line-cnn-simple`: the course's first line reader — the [`Cnn`]
//! character classifier slid over the line in windows (lab 2/3, EMNIST lines).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use tr_data::registry::Variant;

use crate::cnn::{Cnn, CnnConfig};
use crate::error::{check_positive, Error};
use crate::model::{check_input, DataSpec, Model, Task};
use crate::registry::{ModelConfig, ModelKind};

/// Registry name (written once, in the registration in [`crate::registry`]).
pub const NAME: &str = <LineCnnSimpleConfig as Variant<ModelConfig>>::NAME;

/// Hyper-parameters (course defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineCnnSimpleConfig {
    /// The per-window classifier.
    pub cnn: CnnConfig,
    /// Width of each window in pixels.
    pub window_width: usize,
    /// Horizontal step between windows in pixels.
    pub window_stride: usize,
    /// Keep only the first `output_len` (data) steps.
    pub limit_output_length: bool,
}

impl Default for LineCnnSimpleConfig {
    fn default() -> Self {
        Self {
            cnn: CnnConfig::default(),
            window_width: 28,
            window_stride: 28,
            limit_output_length: false,
        }
    }
}

/// `line-cnn-simple`: the course's first line reader — the [`Cnn`]
/// character classifier slid over the line in windows (lab 2/3, EMNIST lines).
///
/// `(B, C, H, W)` → `S = ⌊(W − window_width)/window_stride⌋ + 1` windows of
/// `(C, H, window_width)` → [`Cnn`] on every window (one batched call) →
/// `(B, classes, S)` logits, truncated to the data's `output_len` when
/// `limit_output_length` is set. With the defaults (windows of one 28-pixel
/// character, no overlap) a 28×896 line gives 32 steps.
#[derive(Clone, Debug)]
pub struct LineCnnSimple {
    cnn: Cnn,
    window_width: usize,
    window_stride: usize,
    limit: Option<usize>,
    spec: DataSpec,
}

impl LineCnnSimple {
    /// The CNN's parameters live under `vb.pp("cnn")`.
    pub fn new(cfg: &LineCnnSimpleConfig, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Self> {
        spec.check_basic(NAME)?;
        check_positive(NAME, "window_width", cfg.window_width)?;
        check_positive(NAME, "window_stride", cfg.window_stride)?;
        let [c, h, w] = spec.input_shape;
        if w < cfg.window_width {
            return Err(Error::invalid(
                NAME,
                "window_width",
                format!("{} is wider than the {w}-pixel input", cfg.window_width),
            ));
        }
        let limit = if cfg.limit_output_length {
            Some(spec.require_output_len(NAME, "limit_output_length is set")?)
        } else {
            None
        };
        let window_spec = DataSpec::new(
            [c, h, cfg.window_width],
            spec.vocab.clone(),
            spec.output_len,
        );
        let cnn = Cnn::new(&cfg.cnn, &window_spec, vb.pp("cnn")).map_err(|e| match e {
            Error::Invalid { field, message, .. } => {
                Error::invalid(NAME, format!("cnn.{field}"), message)
            }
            other => other,
        })?;
        Ok(Self {
            cnn,
            window_width: cfg.window_width,
            window_stride: cfg.window_stride,
            limit,
            spec: spec.clone(),
        })
    }

    /// Number of windows (output steps before any limit) for a width `w`.
    pub fn num_windows(&self, w: usize) -> usize {
        if w < self.window_width {
            0
        } else {
            (w - self.window_width) / self.window_stride + 1
        }
    }

    /// `(B, C, H, W)` → `(B, classes, S)` logits.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        check_input(NAME, &self.spec, x, false)?;
        let (b, c, h, w) = x.dims4()?;
        let s = self.num_windows(w);
        if s == 0 {
            candle_core::bail!(
                "{NAME}: input width {w} is narrower than window_width {}",
                self.window_width
            )
        }
        let ww = self.window_width;
        let windows = if self.window_stride == ww {
            x.narrow(3, 0, s * ww)?
                .reshape((b, c, h, s, ww))?
                .permute((0, 3, 1, 2, 4))?
        } else {
            let parts = (0..s)
                .map(|i| x.narrow(3, i * self.window_stride, ww))
                .collect::<Result<Vec<_>>>()?;
            Tensor::stack(&parts, 1)?
        };
        let windows = windows.reshape((b * s, c, h, ww))?;
        let logits = self.cnn.forward_unchecked(&windows, train)?; // (B·S, K)
        let k = logits.dim(1)?;
        let out = logits.reshape((b, s, k))?.transpose(1, 2)?.contiguous()?;
        match self.limit {
            Some(n) if n < s => out.narrow(2, 0, n),
            _ => Ok(out),
        }
    }
}

impl ModelKind for LineCnnSimpleConfig {
    fn task(&self) -> Task {
        Task::Ctc
    }

    fn description(&self) -> &'static str {
        "the CNN applied to each fixed-width window of a line"
    }

    /// 32-character EMNIST lines.
    fn default_spec(&self) -> DataSpec {
        DataSpec::emnist_lines()
    }

    fn build(&self, spec: &DataSpec, vb: VarBuilder) -> crate::Result<Box<dyn Model>> {
        Ok(Box::new(LineCnnSimple::new(self, spec, vb)?))
    }
}

impl Model for LineCnnSimple {
    fn name(&self) -> &'static str {
        NAME
    }

    fn task(&self) -> Task {
        Task::Ctc
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        LineCnnSimple::forward(self, x, train)
    }
}
