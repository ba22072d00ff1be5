//! Batch normalisation of `(B, C, H, W)` maps, with an optional fused ReLU,
//! as one candle custom op (forward and backward).
//!
//! candle-nn's `BatchNorm` is a chain of about ten broadcasting tensor ops
//! (transpose, mean, subtract, square, mean, divide, multiply, add, transpose
//! back), each allocating a tensor the size of the input, plus as many again
//! in the backward pass: on a CRNN training step they cost more than the
//! convolutions. Here the statistics take two passes over the input, the
//! forward pass one, and the backward pass two (per-channel sums of `dy` and
//! `dy·x̂`, then `dx`), each split over rayon threads by channel or plane.
//!
//! Training mode normalises with the batch statistics (biased variance, as
//! PyTorch) and returns them for the caller's running-statistics update; the
//! gradient then flows through the statistics too. Evaluation mode uses the
//! given statistics as constants. The ReLU, when fused, masks the output
//! gradient with `y > 0` before the normalisation's backward pass.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::{cpu_f32, host};

/// Which statistics normalise the input.
#[derive(Clone, Copy, Debug)]
pub enum BatchNormStats<'a> {
    /// The batch's own (training mode); the gradient flows through them.
    Batch,
    /// Given per-channel mean and (biased or running) variance, used as
    /// constants (evaluation mode).
    Given { mean: &'a Tensor, var: &'a Tensor },
}

/// What [`batch_norm2d`] returns.
#[derive(Debug)]
pub struct BatchNormOut {
    /// The normalised (and, if asked, rectified) maps, `(B, C, H, W)`.
    pub y: Tensor,
    /// Per-channel mean used.
    pub mean: Vec<f32>,
    /// Per-channel biased variance used.
    pub var: Vec<f32>,
    /// Values per channel (`B·H·W`).
    pub count: usize,
}

/// The custom op, holding the statistics of its forward pass.
struct BatchNormOp {
    mean: Vec<f32>,
    invstd: Vec<f32>,
    relu: bool,
    /// Statistics come from the batch (their gradient is part of `dx`).
    batch_stats: bool,
}

/// `(B, C, H·W)` of a 4-D shape.
fn dims(shape: &Shape) -> Result<(usize, usize, usize)> {
    let (b, c, h, w) = shape.dims4()?;
    Ok((b, c, h * w))
}

/// `Σ f(x)` over a slice with eight independent accumulators (vectorises).
fn sum_map(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += f(v);
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// `(Σ a, Σ a·f(b))` over two slices of equal length, eight accumulators each.
fn sum_and_dot(a: &[f32], b: &[f32], f: impl Fn(f32) -> f32) -> (f32, f32) {
    let (mut s, mut d) = ([0f32; 8], [0f32; 8]);
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut tail = (0f32, 0f32);
    for (&x, &y) in ac.remainder().iter().zip(bc.remainder()) {
        tail.0 += x;
        tail.1 += x * f(y);
    }
    for (ach, bch) in ac.zip(bc) {
        for k in 0..8 {
            s[k] += ach[k];
            d[k] += ach[k] * f(bch[k]);
        }
    }
    (
        s.iter().sum::<f32>() + tail.0,
        d.iter().sum::<f32>() + tail.1,
    )
}

/// Per-channel mean and biased variance of contiguous `(B, C, HW)` values,
/// two passes, accumulated per plane in `f32` and across planes in `f64`.
fn channel_stats(x: &[f32], (b, c, hw): (usize, usize, usize)) -> (Vec<f32>, Vec<f32>) {
    let n = (b * hw).max(1) as f64;
    (0..c)
        .into_par_iter()
        .map(|ch| {
            let planes = (0..b).map(|i| &x[(i * c + ch) * hw..(i * c + ch + 1) * hw]);
            let total = |f: &dyn Fn(f32) -> f32| {
                planes
                    .clone()
                    .map(|p| f64::from(sum_map(p, f)))
                    .sum::<f64>()
                    / n
            };
            let m = total(&|v| v) as f32;
            let var = total(&|v| (v - m) * (v - m));
            (m, var as f32)
        })
        .unzip()
}

impl CustomOp3 for BatchNormOp {
    fn name(&self) -> &'static str {
        "tr-batch-norm2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = cpu_f32(s1, l1, "batch-norm input")?;
        let weight = cpu_f32(s2, l2, "batch-norm weight")?;
        let bias = cpu_f32(s3, l3, "batch-norm bias")?;
        let (_, c, hw) = dims(l1.shape())?;
        let mut y = vec![0f32; x.len()];
        if hw > 0 {
            y.par_chunks_mut(hw)
                .zip(x.par_chunks(hw))
                .enumerate()
                .for_each(|(plane, (y, x))| {
                    let ch = plane % c;
                    let scale = weight[ch] * self.invstd[ch];
                    let shift = bias[ch] - self.mean[ch] * scale;
                    for (y, &x) in y.iter_mut().zip(x) {
                        let v = x * scale + shift;
                        *y = if self.relu { v.max(0.0) } else { v };
                    }
                });
        }
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, c, hw) = dims(x.shape())?;
        let grad = grad.contiguous()?;
        let (xs, xl) = x.storage_and_layout();
        let xv = host(&xs, xl, "batch-norm input")?;
        let (gs, gl) = grad.storage_and_layout();
        let g = host(&gs, gl, "batch-norm output gradient")?;
        let (ys, yl) = res.storage_and_layout();
        let y = host(&ys, yl, "batch-norm output")?;
        let (ws, wl) = weight.storage_and_layout();
        let w = host(&ws, wl, "batch-norm weight")?;
        if g.len() != xv.len() || y.len() != xv.len() || w.len() != c {
            candle_core::bail!(
                "batch-norm backward: gradient {:?} does not match input {:?}",
                gl.shape(),
                xl.shape()
            )
        }
        // dy after the ReLU mask, materialised once when fused.
        let masked: Option<Vec<f32>> = self.relu.then(|| {
            g.par_iter()
                .zip(y.par_iter())
                .map(|(&g, &y)| if y > 0.0 { g } else { 0.0 })
                .collect()
        });
        let dy: &[f32] = masked.as_deref().unwrap_or(g);
        // Per channel: Σ dy and Σ dy·x̂.
        let (sum_dy, sum_dy_xhat): (Vec<f32>, Vec<f32>) = (0..c)
            .into_par_iter()
            .map(|ch| {
                let (m, is) = (self.mean[ch], self.invstd[ch]);
                let (mut s, mut sx) = (0f64, 0f64);
                for i in 0..b {
                    let r = (i * c + ch) * hw..(i * c + ch + 1) * hw;
                    let (sd, sdx) = sum_and_dot(&dy[r.clone()], &xv[r], |x| x - m);
                    s += f64::from(sd);
                    sx += f64::from(sdx);
                }
                (s as f32, (sx * f64::from(is)) as f32)
            })
            .unzip();
        let n = (b * hw).max(1) as f32;
        let mut dx = vec![0f32; xv.len()];
        if hw > 0 {
            dx.par_chunks_mut(hw).enumerate().for_each(|(plane, dx)| {
                let ch = plane % c;
                let r = plane * hw..(plane + 1) * hw;
                let (d, xp) = (&dy[r.clone()], &xv[r]);
                let (m, is) = (self.mean[ch], self.invstd[ch]);
                let k = w[ch] * is;
                if self.batch_stats {
                    let (mean_dy, mean_dy_xhat) = (sum_dy[ch] / n, sum_dy_xhat[ch] / n);
                    for ((dx, &d), &x) in dx.iter_mut().zip(d).zip(xp) {
                        *dx = k * (d - mean_dy - (x - m) * is * mean_dy_xhat);
                    }
                } else {
                    for (dx, &d) in dx.iter_mut().zip(d) {
                        *dx = k * d;
                    }
                }
            });
        }
        let dev = x.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), dev)?),
            Some(Tensor::from_vec(sum_dy_xhat, weight.shape(), dev)?),
            Some(Tensor::from_vec(sum_dy, weight.shape(), dev)?),
        ))
    }
}

/// Batch normalisation of `(B, C, H, W)` `x` with per-channel `weight` and
/// `bias` (`(C)`), `eps` added to the variance, then ReLU if `relu`;
/// differentiable in all three inputs. CPU `f32` tensors only.
pub fn batch_norm2d(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    stats: BatchNormStats<'_>,
    eps: f64,
    relu: bool,
) -> Result<BatchNormOut> {
    let x = x.contiguous()?;
    let (b, c, hw) = dims(x.shape())?;
    for (what, t) in [("weight", weight), ("bias", bias)] {
        if t.dims() != [c] {
            candle_core::bail!(
                "batch-norm {what} {:?} does not match the {c} channels of input {:?}",
                t.shape(),
                x.shape()
            )
        }
    }
    let (mean, var) = match stats {
        BatchNormStats::Batch => {
            let (s, l) = x.storage_and_layout();
            channel_stats(host(&s, l, "batch-norm input")?, (b, c, hw))
        }
        BatchNormStats::Given { mean, var } => {
            let (mean, var) = (mean.to_vec1::<f32>()?, var.to_vec1::<f32>()?);
            if mean.len() != c || var.len() != c {
                candle_core::bail!(
                    "batch-norm statistics of {} / {} channels for an input of {c}",
                    mean.len(),
                    var.len()
                )
            }
            (mean, var)
        }
    };
    let invstd = var.iter().map(|&v| 1.0 / (v + eps as f32).sqrt()).collect();
    let op = BatchNormOp {
        mean: mean.clone(),
        invstd,
        relu,
        batch_stats: matches!(stats, BatchNormStats::Batch),
    };
    let y = x.apply_op3(&weight.contiguous()?, &bias.contiguous()?, op)?;
    Ok(BatchNormOut {
        y,
        mean,
        var,
        count: b * hw,
    })
}
