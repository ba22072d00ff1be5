//! The ResNet-18 body of torchvision (`resnet18()` without its average pool
//! and classifier), for `C`-channel inputs.
//!
//! `(B, C, H, W)` → `(B, 512, H', W')` with every stride-2 stage applying
//! `n ↦ ⌊(n − 1)/2⌋ + 1` (five times: stem conv, max-pool, layers 2–4), i.e.
//! `H' = H/32` for multiples of 32 (576×640 paragraphs → 18×20).
//!
//! Names follow torchvision (`conv1`, `bn1`, `layer1.0.conv1`,
//! `layer2.0.downsample.0`, …); convolutions have no bias and torchvision's
//! init (Kaiming normal, fan-out), batch norms start at weight 1, bias 0.
//!
//! The course fed grey images by repeating the channel three times into the
//! 3-channel stem; here the stem takes the data's channel count directly.
//! For one channel that is the same function family (a 3-channel stem on a
//! repeated grey channel equals a 1-channel stem whose kernel is the sum of
//! the three) with `64·7·7·2 = 6,272` fewer parameters.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::conv::{Conv2d, Conv2dSpec};
use super::init::LayerInit;
use super::norm::BatchNorm2d;
use super::pool::{max_pool2d, pooled_size};

/// Channels of torchvision's first stage (the body's output has 8× as
/// many: 512).
pub const RESNET_WIDTH: usize = 64;

/// torchvision's `BasicBlock`: two 3×3 convs with batch norm, residual add.
#[derive(Clone, Debug)]
struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    conv2: Conv2d,
    bn2: BatchNorm2d,
    downsample: Option<(Conv2d, BatchNorm2d)>,
}

impl BasicBlock {
    fn new(in_ch: usize, out_ch: usize, stride: usize, vb: VarBuilder) -> Result<Self> {
        let init = LayerInit::KaimingNoBias;
        let downsample = if stride != 1 || in_ch != out_ch {
            let spec = Conv2dSpec::square(in_ch, out_ch, 1, stride, 0);
            Some((
                Conv2d::new(spec, init, vb.pp("downsample").pp(0))?,
                BatchNorm2d::new(out_ch, vb.pp("downsample").pp(1))?,
            ))
        } else {
            None
        };
        Ok(Self {
            conv1: Conv2d::new(
                Conv2dSpec::square(in_ch, out_ch, 3, stride, 1),
                init,
                vb.pp("conv1"),
            )?,
            bn1: BatchNorm2d::new(out_ch, vb.pp("bn1"))?,
            conv2: Conv2d::new(
                Conv2dSpec::square(out_ch, out_ch, 3, 1, 1),
                init,
                vb.pp("conv2"),
            )?,
            bn2: BatchNorm2d::new(out_ch, vb.pp("bn2"))?,
            downsample,
        })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let out = self.bn1.forward(&self.conv1.forward(x)?, train)?.relu()?;
        let out = self.bn2.forward(&self.conv2.forward(&out)?, train)?;
        let identity = match &self.downsample {
            Some((conv, bn)) => bn.forward(&conv.forward(x)?, train)?,
            None => x.clone(),
        };
        (out + identity)?.relu()
    }
}

/// ResNet-18 without average pool and fully connected layer.
#[derive(Clone, Debug)]
pub struct ResNet18 {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    stages: Vec<Vec<BasicBlock>>,
}

impl ResNet18 {
    /// Parameters under `vb` with torchvision's names.
    pub fn new(in_channels: usize, vb: VarBuilder) -> Result<Self> {
        Self::with_width(in_channels, RESNET_WIDTH, vb)
    }

    /// A ResNet-18 whose stages have `width`, 2·`width`, 4·`width` and
    /// 8·`width` channels (torchvision: `width` 64, output 512 channels).
    /// Narrow widths make small test models; the output has
    /// [`output_channels`](Self::output_channels)`(width)` channels.
    pub fn with_width(in_channels: usize, width: usize, vb: VarBuilder) -> Result<Self> {
        let conv1 = Conv2d::new(
            Conv2dSpec::square(in_channels, width, 7, 2, 3),
            LayerInit::KaimingNoBias,
            vb.pp("conv1"),
        )?;
        let bn1 = BatchNorm2d::new(width, vb.pp("bn1"))?;
        let widths = [width, 2 * width, 4 * width, 8 * width];
        let mut stages = Vec::with_capacity(4);
        let mut in_ch = width;
        for (i, &width) in widths.iter().enumerate() {
            let stride = if i == 0 { 1 } else { 2 };
            let vb = vb.pp(format!("layer{}", i + 1));
            stages.push(vec![
                BasicBlock::new(in_ch, width, stride, vb.pp(0))?,
                BasicBlock::new(width, width, 1, vb.pp(1))?,
            ]);
            in_ch = width;
        }
        Ok(Self { conv1, bn1, stages })
    }

    /// Feature-map size for an `h × w` input, or `None` when too small.
    /// Channels of the output map for a first-stage `width`.
    pub fn output_channels(width: usize) -> usize {
        8 * width
    }

    pub fn output_size(h: usize, w: usize) -> Option<(usize, usize)> {
        let stem = Conv2dSpec::square(1, 64, 7, 2, 3).output_size(h, w)?;
        let pooled = (pooled_size(stem.0, 3, 2, 1)?, pooled_size(stem.1, 3, 2, 1)?);
        let down = Conv2dSpec::square(1, 1, 3, 2, 1);
        let mut size = pooled;
        for _ in 0..3 {
            size = down.output_size(size.0, size.1)?;
        }
        Some(size)
    }

    /// `(B, C, H, W)` → `(B, 512, H', W')`; batch norms in training or
    /// evaluation mode according to `train`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = self.bn1.forward(&self.conv1.forward(x)?, train)?.relu()?;
        let mut x = max_pool2d(&x, 3, 2, 1)?;
        for stage in &self.stages {
            for block in stage {
                x = block.forward(&x, train)?;
            }
        }
        Ok(x)
    }
}
