//! 2-D convolution with per-axis kernel, stride and padding, and the
//! course's `ConvBlock` (convolution + ReLU).
//!
//! Every convolution of the zoo goes through [`Conv2d::forward`] (or
//! [`Conv2d::forward_relu`]): `f32` CPU tensors take the fast kernel of
//! [`tr_kernels::conv2d`] (native per-axis stride and padding, fused bias and
//! ReLU), everything else (CUDA/Metal, other dtypes, or reference ops
//! requested via [`tr_kernels::set_reference_ops`]) candle's `conv2d`, as
//! follows. Candle's `conv2d` takes one
//! stride and one padding for both axes; other cases (the LineCNN window
//! convolution: kernel `(H/8, WW/8)`, stride `(H/8, WS/8)`) are computed as a
//! stride-1 convolution over exactly the rows/columns the strided windows
//! read, followed by a strided row/column selection — same values and
//! gradients, no wasted work when the stride equals the kernel along an axis
//! with a single output.
//!
//! Candle 0.11's conv2d backward pass is wrong (a shape error) when a strided
//! convolution leaves different remainders `(n + 2p − k) mod s` along height
//! and width — e.g. LineCNN's third stride-2 block on 7×224 maps. Such inputs
//! are padded explicitly and cropped to the rows/columns the windows read, so
//! the remainder is 0 on both axes.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::init::LayerInit;

/// Shape settings of a [`Conv2d`]; all pairs are `(height, width)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dSpec {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
}

impl Conv2dSpec {
    /// Square kernel `k`, stride `s`, padding `p`.
    pub fn square(in_channels: usize, out_channels: usize, k: usize, s: usize, p: usize) -> Self {
        Self {
            in_channels,
            out_channels,
            kernel: (k, k),
            stride: (s, s),
            padding: (p, p),
        }
    }

    /// Output `(height, width)` for an input of `(h, w)`, or `None` when the
    /// kernel does not fit into the padded input.
    pub fn output_size(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let out = |n: usize, k: usize, s: usize, p: usize| {
            let padded = n + 2 * p;
            (padded >= k && s > 0).then(|| (padded - k) / s + 1)
        };
        Some((
            out(h, self.kernel.0, self.stride.0, self.padding.0)?,
            out(w, self.kernel.1, self.stride.1, self.padding.1)?,
        ))
    }
}

/// A 2-D convolution with PyTorch's parameter layout: `weight`
/// `(out, in, kh, kw)`, optional `bias` `(out)`.
#[derive(Clone, Debug)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    spec: Conv2dSpec,
}

impl Conv2d {
    /// Creates (or loads) the parameters under `vb`; `init` decides whether
    /// there is a bias.
    pub fn new(spec: Conv2dSpec, init: LayerInit, vb: VarBuilder) -> Result<Self> {
        let (kh, kw) = spec.kernel;
        if kh == 0 || kw == 0 || spec.stride.0 == 0 || spec.stride.1 == 0 {
            candle_core::bail!(
                "conv2d kernel {:?} and stride {:?} must be positive",
                spec.kernel,
                spec.stride
            )
        }
        let fan_in = spec.in_channels * kh * kw;
        let fan_out = spec.out_channels * kh * kw;
        let weight = vb.get_with_hints(
            (spec.out_channels, spec.in_channels, kh, kw),
            "weight",
            init.weight(fan_in, fan_out),
        )?;
        let bias = match init.bias(fan_in, fan_out) {
            Some(b) => Some(vb.get_with_hints(spec.out_channels, "bias", b)?),
            None => None,
        };
        Ok(Self { weight, bias, spec })
    }

    /// The layer's shape settings.
    pub fn spec(&self) -> &Conv2dSpec {
        &self.spec
    }

    /// `(out, in, kh, kw)` weight.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// `(B, in, H, W)` → `(B, out, Ho, Wo)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.run(x, false)
    }

    /// `(B, in, H, W)` → `(B, out, Ho, Wo)` followed by ReLU (fused on the CPU).
    pub fn forward_relu(&self, x: &Tensor) -> Result<Tensor> {
        self.run(x, true)
    }

    fn run(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        let Some((ho, wo)) = self.spec.output_size(h, w) else {
            candle_core::bail!(
                "conv2d kernel {:?} (padding {:?}) does not fit a {h}x{w} input",
                self.spec.kernel,
                self.spec.padding
            )
        };
        if tr_kernels::use_fast_kernels(x) {
            let geom = tr_kernels::ConvGeometry {
                kernel: self.spec.kernel,
                stride: self.spec.stride,
                padding: self.spec.padding,
            };
            return tr_kernels::conv2d(x, &self.weight, self.bias.as_ref(), geom, relu);
        }
        let y = self.reference(x, (ho, wo))?;
        if relu {
            y.relu()
        } else {
            Ok(y)
        }
    }

    /// [`Conv2d::forward`] with candle's reference ops whatever the device
    /// and the [`tr_kernels::set_reference_ops`] setting (for equivalence
    /// checks).
    pub fn forward_reference(&self, x: &Tensor) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        let Some(out) = self.spec.output_size(h, w) else {
            candle_core::bail!(
                "conv2d kernel {:?} (padding {:?}) does not fit a {h}x{w} input",
                self.spec.kernel,
                self.spec.padding
            )
        };
        self.reference(x, out)
    }

    /// candle's `conv2d` (any device): `(B, in, H, W)` → `(B, out, Ho, Wo)`.
    fn reference(&self, x: &Tensor, (ho, wo): (usize, usize)) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        let (sh, sw) = self.spec.stride;
        let (ph, pw) = self.spec.padding;
        let (kh, kw) = self.spec.kernel;
        // candle's conv2d backward derives the transposed convolution's output
        // padding from the height alone; it is only right when both axes leave
        // the same remainder `(n + 2p - k) mod s`.
        let rem_h = (h + 2 * ph - kh) % sh;
        let rem_w = (w + 2 * pw - kw) % sw;
        let y = if sh == sw && ph == pw && (sh == 1 || rem_h == rem_w) {
            x.conv2d(&self.weight, ph, sh, 1, 1)?
        } else {
            // Pad explicitly and keep exactly the rows/columns the windows read.
            let x = x.pad_with_zeros(2, ph, ph)?.pad_with_zeros(3, pw, pw)?;
            let x = x
                .narrow(2, 0, (ho - 1) * sh + kh)?
                .narrow(3, 0, (wo - 1) * sw + kw)?
                .contiguous()?;
            if sh == sw {
                x.conv2d(&self.weight, 0, sh, 1, 1)?
            } else {
                let y = x.conv2d(&self.weight, 0, 1, 1, 1)?;
                let y = take_every(&y, 2, sh, ho)?;
                take_every(&y, 3, sw, wo)?
            }
        };
        match &self.bias {
            Some(b) => y.broadcast_add(&b.reshape((1, (), 1, 1))?),
            None => Ok(y),
        }
    }
}

/// Rows `0, step, 2·step, …` (`count` of them) of dimension `dim`.
fn take_every(x: &Tensor, dim: usize, step: usize, count: usize) -> Result<Tensor> {
    if step == 1 {
        return x.narrow(dim, 0, count);
    }
    let idx: Vec<u32> = (0..count).map(|i| (i * step) as u32).collect();
    let idx = Tensor::from_vec(idx, count, x.device())?;
    x.contiguous()?.index_select(&idx, dim)
}

/// The course's `ConvBlock`: [`Conv2d`] (with bias) followed by ReLU.
#[derive(Clone, Debug)]
pub struct ConvBlock {
    conv: Conv2d,
}

impl ConvBlock {
    /// The conv's parameters live under `vb.pp("conv")`, as in the course.
    pub fn new(spec: Conv2dSpec, init: LayerInit, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            conv: Conv2d::new(spec, init, vb.pp("conv"))?,
        })
    }

    /// The wrapped convolution.
    pub fn conv(&self) -> &Conv2d {
        &self.conv
    }

    /// `(B, in, H, W)` → `(B, out, Ho, Wo)`, non-negative.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv.forward_relu(x)
    }
}
