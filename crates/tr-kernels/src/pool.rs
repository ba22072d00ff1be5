//! 2-D max-pooling on the CPU as a candle custom op (PyTorch's
//! `nn.MaxPool2d`, floor mode, any kernel, stride and padding).
//!
//! The forward pass records the flat input index of each window's maximum
//! (the first one on exact ties, as PyTorch does; padding never wins); the
//! backward pass scatters the output gradient to those indices. Planes
//! `(b, c)` are split over rayon threads.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::{cpu_f32, host};

/// The custom op; keeps the argmax indices of its forward pass.
struct MaxPoolOp {
    kernel: usize,
    stride: usize,
    padding: usize,
    /// Per output element, the index of its maximum within its input plane.
    argmax: Mutex<Vec<u32>>,
}

/// `(planes, h, w, ho, wo)` of an input shape.
fn sizes(op: &MaxPoolOp, shape: &Shape) -> Result<(usize, usize, usize, usize, usize)> {
    let (b, c, h, w) = shape.dims4()?;
    let out = |n: usize| {
        let padded = n + 2 * op.padding;
        (padded >= op.kernel && op.kernel > 0 && op.stride > 0)
            .then(|| (padded - op.kernel) / op.stride + 1)
    };
    match (out(h), out(w)) {
        (Some(ho), Some(wo)) => Ok((b * c, h, w, ho, wo)),
        _ => candle_core::bail!(
            "max-pool kernel {} (padding {}) does not fit a {h}x{w} input",
            op.kernel,
            op.padding
        ),
    }
}

impl CustomOp1 for MaxPoolOp {
    fn name(&self) -> &'static str {
        "tr-max-pool2d"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = cpu_f32(storage, layout, "max-pool input")?;
        let (planes, h, w, ho, wo) = sizes(self, layout.shape())?;
        let (k, s, p) = (self.kernel, self.stride, self.padding as isize);
        let mut y = vec![0f32; planes * ho * wo];
        let mut idx = vec![0u32; planes * ho * wo];
        if !y.is_empty() {
            y.par_chunks_mut(ho * wo)
                .zip(idx.par_chunks_mut(ho * wo))
                .enumerate()
                .for_each(|(pl, (y, idx))| {
                    let plane = &x[pl * h * w..(pl + 1) * h * w];
                    for oh in 0..ho {
                        for ow in 0..wo {
                            let (mut best, mut at) = (f32::NEG_INFINITY, u32::MAX);
                            for i in 0..k {
                                let ih = (oh * s + i) as isize - p;
                                if ih < 0 || ih as usize >= h {
                                    continue;
                                }
                                for j in 0..k {
                                    let iw = (ow * s + j) as isize - p;
                                    if iw < 0 || iw as usize >= w {
                                        continue;
                                    }
                                    let pos = ih as usize * w + iw as usize;
                                    // `>` keeps the first maximum; NaN always wins, as in PyTorch.
                                    if at == u32::MAX || plane[pos] > best || plane[pos].is_nan() {
                                        best = plane[pos];
                                        at = pos as u32;
                                    }
                                }
                            }
                            y[oh * wo + ow] = best;
                            idx[oh * wo + ow] = at;
                        }
                    }
                });
        }
        let (b, c, _, _) = layout.shape().dims4()?;
        *self
            .argmax
            .lock()
            .map_err(|_| candle_core::Error::msg("max-pool: poisoned argmax"))? = idx;
        Ok((CpuStorage::F32(y), Shape::from((b, c, ho, wo))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let (planes, h, w, ho, wo) = sizes(self, arg.shape())?;
        let idx = self
            .argmax
            .lock()
            .map_err(|_| candle_core::Error::msg("max-pool: poisoned argmax"))?;
        let grad = grad.contiguous()?;
        let (gs, gl) = grad.storage_and_layout();
        let g = host(&gs, gl, "max-pool output gradient")?;
        if idx.len() != g.len() || g.len() != planes * ho * wo {
            candle_core::bail!(
                "max-pool backward: gradient {:?} does not match the forward pass",
                gl.shape()
            )
        }
        let mut dx = vec![0f32; planes * h * w];
        if !dx.is_empty() && ho * wo > 0 {
            dx.par_chunks_mut(h * w).enumerate().for_each(|(pl, dx)| {
                let range = pl * ho * wo..(pl + 1) * ho * wo;
                for (&at, &gv) in idx[range.clone()].iter().zip(&g[range]) {
                    if at != u32::MAX {
                        dx[at as usize] += gv;
                    }
                }
            });
        }
        Ok(Some(Tensor::from_vec(dx, arg.shape(), arg.device())?))
    }
}

/// `(B, C, H, W)` → `(B, C, Ho, Wo)`, `Ho = ⌊(H + 2p − k)/s⌋ + 1`;
/// differentiable. CPU `f32` tensors only.
pub fn max_pool2d(x: &Tensor, kernel: usize, stride: usize, padding: usize) -> Result<Tensor> {
    x.contiguous()?.apply_op1(MaxPoolOp {
        kernel,
        stride,
        padding,
        argmax: Mutex::new(Vec::new()),
    })
}
