//! `UNet`: a small U-Net that predicts line masks of a page (kraken's
//! baseline segmenter and ocrs's text detector are of this kind): per
//! pixel, one logit per mask — by default two, the **line body** (inside a
//! line polygon) and the **baseline** (a band a few pixels thick along it).
//! `tr_data::layout::lines_from_mask` turns the predicted body mask into
//! ordered line polygons.
//!
//! ```text
//! (B, 1, H, W)                      H, W multiples of 2^depth
//!  → depth × [conv 3×3 → conv 3×3 → (skip) → max-pool 2]
//!  → conv 3×3 → conv 3×3                 (bottleneck, base·2^depth channels)
//!  → depth × [nearest 2× up → concat skip → conv 3×3 → conv 3×3]
//!  → 1×1 conv → (B, out_channels, H, W) logits
//! ```
//!
//! Every 3×3 convolution is followed by batch normalisation and ReLU
//! (`batch_norm: false` leaves the normalisation out: plain conv + ReLU,
//! which trains far less reliably — a page's masks are mostly background and
//! an unnormalised net often settles on predicting the background
//! everywhere). Channels double at each level (`base`, `2·base`, …). Not a
//! [`crate::ModelConfig`] entry: its targets are masks, not labels, so it is
//! trained with a per-pixel loss (binary cross-entropy on the logits) by its
//! own loop rather than by the text-recognition objectives.

use candle_core::{Result, Tensor, D};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use crate::layers::{max_pool2d, BatchNorm2d, Conv2d, Conv2dSpec, ConvBlock, LayerInit};

/// Sizes of a [`UNet`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UNetConfig {
    /// Channels of the first level (doubling per level).
    pub base: usize,
    /// Number of down-sampling levels.
    pub depth: usize,
    /// Masks predicted (2: line body, baseline).
    pub out_channels: usize,
    /// Batch normalisation after every 3×3 convolution.
    pub batch_norm: bool,
}

impl Default for UNetConfig {
    fn default() -> Self {
        Self {
            base: 16,
            depth: 3,
            out_channels: 2,
            batch_norm: true,
        }
    }
}

/// A 3×3 convolution, optionally batch-normalised, then ReLU.
#[derive(Clone, Debug)]
struct Block {
    conv: ConvBlock,
    norm: Option<BatchNorm2d>,
}

impl Block {
    fn new(cin: usize, cout: usize, batch_norm: bool, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            conv: ConvBlock::new(
                Conv2dSpec::square(cin, cout, 3, 1, 1),
                LayerInit::KaimingFanOut,
                vb.clone(),
            )?,
            norm: if batch_norm {
                Some(BatchNorm2d::new(cout, vb.pp("norm"))?)
            } else {
                None
            },
        })
    }
    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        match &self.norm {
            Some(norm) => norm.forward_relu(&self.conv.conv().forward(x)?, train),
            None => self.conv.forward(x),
        }
    }
}

/// Two [`Block`]s.
#[derive(Clone, Debug)]
struct DoubleConv {
    a: Block,
    b: Block,
}

impl DoubleConv {
    fn new(cin: usize, cout: usize, batch_norm: bool, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            a: Block::new(cin, cout, batch_norm, vb.pp("a"))?,
            b: Block::new(cout, cout, batch_norm, vb.pp("b"))?,
        })
    }
    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.b.forward(&self.a.forward(x, train)?, train)
    }
}

/// A small U-Net (see the module docs).
#[derive(Clone, Debug)]
pub struct UNet {
    down: Vec<DoubleConv>,
    bottom: DoubleConv,
    up: Vec<DoubleConv>,
    head: Conv2d,
    depth: usize,
}

impl UNet {
    /// Creates (or loads) the weights under `vb` (`down.N.*`, `bottom.*`,
    /// `up.N.*`, `head.*`).
    pub fn new(cfg: &UNetConfig, vb: VarBuilder) -> Result<Self> {
        if cfg.base == 0 || cfg.depth == 0 || cfg.out_channels == 0 {
            candle_core::bail!("unet: base, depth and out_channels must be positive, got {cfg:?}")
        }
        let ch = |level: usize| cfg.base << level;
        let bn = cfg.batch_norm;
        let mut down = Vec::new();
        for l in 0..cfg.depth {
            let cin = if l == 0 { 1 } else { ch(l - 1) };
            down.push(DoubleConv::new(cin, ch(l), bn, vb.pp(format!("down.{l}")))?);
        }
        let bottom = DoubleConv::new(ch(cfg.depth - 1), ch(cfg.depth), bn, vb.pp("bottom"))?;
        let mut up = Vec::new();
        for l in (0..cfg.depth).rev() {
            // Upsampled features (ch(l + 1)) concatenated with the skip (ch(l)).
            up.push(DoubleConv::new(
                ch(l + 1) + ch(l),
                ch(l),
                bn,
                vb.pp(format!("up.{l}")),
            )?);
        }
        let head = Conv2d::new(
            Conv2dSpec::square(ch(0), cfg.out_channels, 1, 1, 0),
            LayerInit::Torch,
            vb.pp("head"),
        )?;
        Ok(Self {
            down,
            bottom,
            up,
            head,
            depth: cfg.depth,
        })
    }

    /// `(B, 1, H, W)` → `(B, out_channels, H, W)` logits for inference
    /// (batch norm with its running statistics); `H` and `W` must be
    /// multiples of `2^depth`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_t(x, false)
    }

    /// [`Self::forward`]; `train` normalises with the batch's statistics
    /// and updates the running ones (training).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        let m = 1 << self.depth;
        if h % m != 0 || w % m != 0 {
            candle_core::bail!("unet: input {h}x{w} must be a multiple of {m} on both sides")
        }
        let mut skips = Vec::with_capacity(self.depth);
        let mut x = x.clone();
        for d in &self.down {
            let y = d.forward(&x, train)?;
            x = max_pool2d(&y, 2, 2, 0)?;
            skips.push(y);
        }
        x = self.bottom.forward(&x, train)?;
        for u in &self.up {
            let skip = skips
                .pop()
                .ok_or_else(|| candle_core::Error::Msg("unet: skip".into()))?;
            let (_, _, sh, sw) = skip.dims4()?;
            x = x.upsample_nearest2d(sh, sw)?;
            x = Tensor::cat(&[&x, &skip], 1)?;
            x = u.forward(&x, train)?;
        }
        self.head.forward(&x)
    }

    /// Per-pixel probabilities `(B, out_channels, H, W)` in `[0, 1]`.
    pub fn probabilities(&self, x: &Tensor) -> Result<Tensor> {
        candle_nn::ops::sigmoid(&self.forward(x)?)
    }
}

/// Mean binary cross-entropy of `logits` against 0/1 `targets` (same
/// shape), computed stably: `max(z, 0) − z·t + log(1 + e^{−|z|})`.
pub fn mask_loss(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let relu = logits.relu()?;
    let softplus = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    let per_pixel = ((relu - (logits * targets)?)? + softplus)?;
    per_pixel.flatten_all()?.mean(D::Minus1)
}
