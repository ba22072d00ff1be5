//! 2-D convolution on the CPU as a candle custom op: im2col + gemm forward
//! with fused bias and ReLU, and a backward pass giving input, weight and
//! bias gradients.
//!
//! Per image `(C, H, W)` with `K = C·kh·kw` and `N = Ho·Wo`:
//!
//! ```text
//! forward   col (K, N) = im2col(x)       y (O, N) = W (O, K) · col + b, then ReLU
//! backward  g = dy ⊙ [y > 0]             db += Σₙ g
//!           dW (O, K) += g · colᵀ        dx = col2im(Wᵀ (K, O) · g)
//! ```
//!
//! The im2col matrix is built in tiles of output rows (~512 KB each, see
//! `Dims::tile_rows`) so each tile is still in cache when the gemm reads it,
//! in per-thread scratch buffers reused across calls; the backward pass
//! rebuilds the tiles instead of keeping them, so extra memory stays at one
//! tile per thread. Images are split over rayon threads; with fewer images
//! than threads the gemm is multi-threaded.

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::im2col::{col2im_rows, im2col_rows, with_scratch, Dims};
use super::{assume_init, cpu_f32, filled_vec, gemm, gemm_uninit, host, winograd, MatRef};

/// Kernel, stride and padding, each `(height, width)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
}

/// Calls `f(image, chunk)` for every `len`-float chunk of `out`: images in
/// parallel with single-threaded gemms when there are at least as many
/// images as threads, else one image at a time with multi-threaded gemms
/// (`gemm_threads`).
fn per_image<T: Send>(
    d: &Dims,
    out: &mut [T],
    len: usize,
    f: impl Fn(usize, &mut [T], usize) + Sync,
) {
    if out.is_empty() || len == 0 {
        return;
    }
    let (per_task, gemm_threads) = d.split();
    if gemm_threads > 1 {
        out.chunks_mut(len)
            .enumerate()
            .for_each(|(i, c)| f(i, c, gemm_threads));
    } else {
        out.par_chunks_mut(len)
            .enumerate()
            .with_min_len(per_task)
            .for_each(|(i, c)| f(i, c, 1));
    }
}

/// Forward pass: `(B, C, H, W)` input, `(O, C, kh, kw)` weight, optional
/// `(O)` bias → `(B, O, Ho, Wo)` values.
fn forward(x: &[f32], w: &[f32], bias: Option<&[f32]>, d: &Dims, relu: bool) -> Vec<f32> {
    let (k, n, o) = (d.k(), d.n(), d.o);
    let fill = |y: &mut [MaybeUninit<f32>]| {
        if winograd::applies(d) {
            return winograd::forward(x, w, bias, d, relu, y);
        }
        per_image(d, y, o * n, |i, y, t| {
            let xi = &x[i * d.image()..(i + 1) * d.image()];
            if d.pointwise() {
                gemm_uninit(
                    (o, n, k),
                    y,
                    MatRef::rows(n),
                    w,
                    MatRef::rows(k),
                    xi,
                    MatRef::rows(n),
                    t,
                );
            } else {
                // Tiles of output rows, so each im2col tile is still in cache for the gemm.
                let rows = d.tile_rows();
                with_scratch(k * rows * d.wo, 0, |col, _| {
                    for oh in (0..d.ho).step_by(rows) {
                        let end = (oh + rows).min(d.ho);
                        let cols = (end - oh) * d.wo;
                        im2col_rows(xi, d, oh..end, &mut col[..k * cols]);
                        gemm_uninit(
                            (o, cols, k),
                            &mut y[oh * d.wo..],
                            MatRef { rs: n, cs: 1 },
                            w,
                            MatRef::rows(k),
                            col,
                            MatRef::rows(cols),
                            t,
                        );
                    }
                });
            }
            // SAFETY: the gemms wrote all `O × N` outputs of the image (the
            // tiles cover every output row).
            let y = unsafe { assume_init(y) };
            for (oc, row) in y.chunks_mut(n).enumerate() {
                let b = bias.map_or(0.0, |b| b[oc]);
                if relu {
                    row.iter_mut().for_each(|v| *v = (*v + b).max(0.0));
                } else if b != 0.0 {
                    row.iter_mut().for_each(|v| *v += b);
                }
            }
        });
    };
    // SAFETY: Winograd writes every output (see `winograd::forward`), and
    // `per_image` hands every image's `O × N` slice to the closure above.
    unsafe { filled_vec(d.b * o * n, fill) }.0
}

/// Backward pass: `(dx, dW, db)` for the output gradient `dy` (`y` is the
/// forward output, used for the ReLU mask).
fn backward(x: &[f32], w: &[f32], y: &[f32], dy: &[f32], d: &Dims, relu: bool) -> [Vec<f32>; 3] {
    let (k, n, o) = (d.k(), d.n(), d.o);
    // Weight and bias gradients: one accumulator per rayon task, summed at the end.
    type Acc = (Vec<f32>, Vec<f32>);
    let zero = || -> Acc { (vec![0f32; o * k], vec![0f32; o]) };
    let image =
        |(mut dw, mut db): Acc, (i, dxi): (usize, &mut [MaybeUninit<f32>]), t: usize| -> Acc {
            let range = i * o * n..(i + 1) * o * n;
            let cols = if d.pointwise() {
                0
            } else {
                k * d.tile_rows() * d.wo
            };
            with_scratch(cols, if relu { o * n } else { 0 }, |col, masked| {
                let g: &[f32] = if relu {
                    for ((m, g), y) in masked
                        .iter_mut()
                        .zip(&dy[range.clone()])
                        .zip(&y[range.clone()])
                    {
                        *m = if *y > 0.0 { *g } else { 0.0 };
                    }
                    masked
                } else {
                    &dy[range]
                };
                for (db, row) in db.iter_mut().zip(g.chunks(n)) {
                    *db += row.iter().sum::<f32>();
                }
                let xi = &x[i * d.image()..(i + 1) * d.image()];
                if d.pointwise() {
                    gemm(
                        (o, k, n),
                        &mut dw,
                        MatRef::rows(k),
                        true,
                        g,
                        MatRef::rows(n),
                        xi,
                        MatRef::transposed(n),
                        t,
                    );
                    gemm_uninit(
                        (k, n, o),
                        dxi,
                        MatRef::rows(n),
                        w,
                        MatRef::transposed(k),
                        g,
                        MatRef::rows(n),
                        t,
                    );
                    return;
                }
                // col2im adds into `dxi`: zero it first (written, not `calloc`ed:
                // adding into the untouched pages of a zeroed allocation would
                // map the shared zero page on the read and fault again, with a
                // TLB shootdown to every core, on the write).
                dxi.iter_mut().for_each(|v| {
                    v.write(0.0);
                });
                // SAFETY: every element was just written.
                let dxi = unsafe { assume_init(dxi) };
                // Tiles of output rows, as in the forward pass.
                let rows = d.tile_rows();
                for oh in (0..d.ho).step_by(rows) {
                    let end = (oh + rows).min(d.ho);
                    let cols = (end - oh) * d.wo;
                    let col = &mut col[..k * cols];
                    let g = &g[oh * d.wo..];
                    let g_v = MatRef { rs: n, cs: 1 };
                    im2col_rows(xi, d, oh..end, col);
                    gemm(
                        (o, k, cols),
                        &mut dw,
                        MatRef::rows(k),
                        true,
                        g,
                        g_v,
                        col,
                        MatRef::transposed(cols),
                        t,
                    );
                    gemm(
                        (k, cols, o),
                        col,
                        MatRef::rows(cols),
                        false,
                        w,
                        MatRef::transposed(k),
                        g,
                        g_v,
                        t,
                    );
                    col2im_rows(col, d, oh..end, dxi);
                }
            });
            (dw, db)
        };
    let sum = |(mut dw, mut db): Acc, (dw2, db2): Acc| -> Acc {
        dw.iter_mut().zip(&dw2).for_each(|(a, b)| *a += b);
        db.iter_mut().zip(&db2).for_each(|(a, b)| *a += b);
        (dw, db)
    };
    let len = d.image();
    let (per_task, t) = d.split();
    let fill = |dx: &mut [MaybeUninit<f32>]| {
        if n == 0 || len == 0 || d.b == 0 {
            dx.iter_mut().for_each(|v| {
                v.write(0.0);
            });
            zero()
        } else if t > 1 {
            dx.chunks_mut(len)
                .enumerate()
                .fold(zero(), |acc, item| image(acc, item, t))
        } else {
            dx.par_chunks_mut(len)
                .enumerate()
                .with_min_len(per_task)
                .fold(zero, |acc, item| image(acc, item, 1))
                .reduce(zero, sum)
        }
    };
    // SAFETY: `image` writes its whole `dx` slice (zeros, then col2im adds,
    // or the pointwise gemm), and every image's slice is handed to it.
    let (dx, (dw, db)) = unsafe { filled_vec(d.b * len, fill) };
    [dx, dw, db]
}

/// The custom op: arguments `(x, weight[, bias])`.
struct ConvOp {
    geom: ConvGeometry,
    relu: bool,
}

impl ConvOp {
    fn fwd(
        &self,
        x: (&CpuStorage, &Layout),
        w: (&CpuStorage, &Layout),
        b: Option<(&CpuStorage, &Layout)>,
    ) -> Result<(CpuStorage, Shape)> {
        let d = Dims::new(x.1.shape(), w.1.shape(), self.geom)?;
        let xv = cpu_f32(x.0, x.1, "conv2d input")?;
        let wv = cpu_f32(w.0, w.1, "conv2d weight")?;
        let bv = match b {
            Some((s, l)) => {
                let bv = cpu_f32(s, l, "conv2d bias")?;
                if bv.len() != d.o {
                    candle_core::bail!(
                        "conv2d: bias {:?} does not match {} output channels",
                        l.shape(),
                        d.o
                    )
                }
                Some(bv)
            }
            None => None,
        };
        let y = forward(xv, wv, bv, &d, self.relu);
        Ok((CpuStorage::F32(y), Shape::from((d.b, d.o, d.ho, d.wo))))
    }

    /// `[dx, dW, db]` as tensors shaped like `x`, `w` and `(O)`.
    fn grads(&self, x: &Tensor, w: &Tensor, y: &Tensor, dy: &Tensor) -> Result<[Tensor; 3]> {
        let d = Dims::new(x.shape(), w.shape(), self.geom)?;
        let (x, w, y, dy) = (
            x.contiguous()?,
            w.contiguous()?,
            y.contiguous()?,
            dy.contiguous()?,
        );
        let (xs, xl) = x.storage_and_layout();
        let (ws, wl) = w.storage_and_layout();
        let (ys, yl) = y.storage_and_layout();
        let (gs, gl) = dy.storage_and_layout();
        let [dx, dw, db] = backward(
            host(&xs, xl, "conv2d input")?,
            host(&ws, wl, "conv2d weight")?,
            host(&ys, yl, "conv2d output")?,
            host(&gs, gl, "conv2d output gradient")?,
            &d,
            self.relu,
        );
        let dev = x.device();
        Ok([
            Tensor::from_vec(dx, x.shape(), dev)?,
            Tensor::from_vec(dw, w.shape(), dev)?,
            Tensor::from_vec(db, d.o, dev)?,
        ])
    }
}

impl CustomOp2 for ConvOp {
    fn name(&self) -> &'static str {
        "tr-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.fwd((s1, l1), (s2, l2), None)
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let [dx, dw, _] = self.grads(x, w, res, grad)?;
        Ok((Some(dx), Some(dw)))
    }
}

impl CustomOp3 for ConvOp {
    fn name(&self) -> &'static str {
        "tr-conv2d-bias"
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
        self.fwd((s1, l1), (s2, l2), Some((s3, l3)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let [dx, dw, db] = self.grads(x, w, res, grad)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

/// `(B, C, H, W)` input, `(O, C, kh, kw)` weight, optional `(O)` bias →
/// `(B, O, Ho, Wo)`, ReLU applied when `relu`; differentiable. CPU `f32`
/// tensors only (see [`super::use_fast_kernels`]).
pub fn conv2d(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    geom: ConvGeometry,
    relu: bool,
) -> Result<Tensor> {
    let x = x.contiguous()?;
    let weight = weight.contiguous()?;
    let op = ConvOp { geom, relu };
    match bias {
        Some(b) => x.apply_op3(&weight, &b.contiguous()?, op),
        None => x.apply_op2(&weight, op),
    }
}
