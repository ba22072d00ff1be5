//! The im2col machinery of the CPU convolution ([`super::conv`]): the sizes
//! of one call, the im2col matrix of an image and its adjoint (col2im), and
//! per-thread scratch buffers reused across calls.
//!
//! For an image `(C, H, W)` the im2col matrix is `(K, N)` with `K = C·kh·kw`
//! (row `(c·kh + i)·kw + j` holds input channel `c` shifted by kernel
//! offset `(i, j)`) and `N = Ho·Wo` output positions; entries that fall
//! into the padding are 0.

use std::cell::RefCell;
use std::ops::Range;

use candle_core::{Result, Shape};

use super::conv::ConvGeometry;
use super::shuffle::{gather, scatter_add};
use super::threads;

/// Every size of one convolution call.
#[derive(Clone, Copy, Debug)]
pub(super) struct Dims {
    pub(super) b: usize,
    pub(super) c: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) o: usize,
    pub(super) kh: usize,
    pub(super) kw: usize,
    pub(super) sh: usize,
    pub(super) sw: usize,
    pub(super) ph: usize,
    pub(super) pw: usize,
    pub(super) ho: usize,
    pub(super) wo: usize,
}

impl Dims {
    pub(super) fn new(x: &Shape, w: &Shape, g: ConvGeometry) -> Result<Self> {
        let (b, c, h, wd) = x.dims4()?;
        let (o, ci, kh, kw) = w.dims4()?;
        let ((sh, sw), (ph, pw)) = (g.stride, g.padding);
        if ci != c || (kh, kw) != g.kernel || sh == 0 || sw == 0 {
            candle_core::bail!(
                "conv2d: weight {w:?} does not fit input {x:?} with kernel {:?}, stride {:?}",
                g.kernel,
                g.stride
            )
        }
        if h + 2 * ph < kh || wd + 2 * pw < kw {
            candle_core::bail!("conv2d: kernel {:?} does not fit input {x:?}", g.kernel)
        }
        let (ho, wo) = ((h + 2 * ph - kh) / sh + 1, (wd + 2 * pw - kw) / sw + 1);
        Ok(Self {
            b,
            c,
            h,
            w: wd,
            o,
            kh,
            kw,
            sh,
            sw,
            ph,
            pw,
            ho,
            wo,
        })
    }

    /// Rows of the im2col matrix.
    pub(super) fn k(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Output positions per image.
    pub(super) fn n(&self) -> usize {
        self.ho * self.wo
    }

    /// Input elements per image.
    pub(super) fn image(&self) -> usize {
        self.c * self.h * self.w
    }

    /// Output rows per forward im2col tile: about [`TILE_FLOATS`] floats,
    /// so the tile stays in cache between im2col and gemm.
    pub(super) fn tile_rows(&self) -> usize {
        (TILE_FLOATS / (self.k() * self.wo).max(1)).clamp(1, self.ho.max(1))
    }

    /// A 1×1 stride-1 unpadded kernel: the image itself is the im2col matrix.
    pub(super) fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.sh == 1 && self.sw == 1 && self.ph == 0 && self.pw == 0
    }

    /// `(lo, hi)`: output columns `ow` whose input column `ow·sw + kj − pw`
    /// lies inside the image.
    fn valid_cols(&self, kj: usize) -> (usize, usize) {
        let lo = if self.pw > kj {
            (self.pw - kj).div_ceil(self.sw)
        } else {
            0
        };
        let hi = if self.w + self.pw > kj {
            (self.w + self.pw - kj).div_ceil(self.sw).min(self.wo)
        } else {
            0
        };
        (lo.min(hi), hi)
    }

    /// Images per rayon task and threads per gemm.
    pub(super) fn split(&self) -> (usize, usize) {
        let t = threads();
        if self.b >= t {
            (self.b.div_ceil(t), 1)
        } else {
            (1, t)
        }
    }
}

/// Target size of a forward im2col tile (512 KB of `f32`, so it stays in L2;
/// measured on line-cnn's layers at batch 1: 5–8 % faster than 1 MB, and
/// faster than 256 KB).
const TILE_FLOATS: usize = 1 << 17;

/// An in-bounds input row feeding one output row of the im2col matrix.
#[derive(Clone, Copy)]
struct SrcRow {
    /// Offset of the input row in the image.
    start: usize,
    /// Kernel column.
    kj: usize,
    /// Output columns `lo..hi` read inside the row.
    lo: usize,
    hi: usize,
}

/// Calls `f(dst, src)` for every output row `oh` in `rows` of every row of
/// the im2col matrix (restricted to those output rows, so `(K, rows·Wo)`):
/// `dst` is the offset of its `Wo` entries, `src` the input row it reads
/// (`None` when it falls into the padding).
fn for_each_row(d: &Dims, rows: Range<usize>, mut f: impl FnMut(usize, Option<SrcRow>)) {
    let n = rows.len() * d.wo;
    for ci in 0..d.c {
        for ki in 0..d.kh {
            for kj in 0..d.kw {
                let row = (ci * d.kh + ki) * d.kw + kj;
                let (lo, hi) = d.valid_cols(kj);
                for oh in rows.clone() {
                    let dst = row * n + (oh - rows.start) * d.wo;
                    let ih = (oh * d.sh + ki) as isize - d.ph as isize;
                    let src = (ih >= 0 && (ih as usize) < d.h).then(|| SrcRow {
                        start: (ci * d.h + ih as usize) * d.w,
                        kj,
                        lo,
                        hi,
                    });
                    f(dst, src);
                }
            }
        }
    }
}

/// The columns of output rows `rows` of the im2col matrix: `(K, rows·Wo)`.
pub(super) fn im2col_rows(x: &[f32], d: &Dims, rows: Range<usize>, col: &mut [f32]) {
    for_each_row(d, rows, |dst, src| {
        let out = &mut col[dst..dst + d.wo];
        let Some(r) = src else {
            out.fill(0.0);
            return;
        };
        out[..r.lo].fill(0.0);
        out[r.hi..].fill(0.0);
        // Input column of output column `lo`.
        let first = r.start + r.lo * d.sw + r.kj - d.pw;
        if d.sw == 1 {
            out[r.lo..r.hi].copy_from_slice(&x[first..first + (r.hi - r.lo)]);
        } else {
            let len = r.hi - r.lo;
            gather(
                &x[first..first + (len - 1) * d.sw + 1],
                d.sw,
                &mut out[r.lo..r.hi],
            );
        }
    });
}

/// Adds the columns `col` `(K, rows·Wo)` of output rows `rows` back onto the
/// image `dx` `(C, H, W)` (the adjoint of [`im2col_rows`]).
pub(super) fn col2im_rows(col: &[f32], d: &Dims, rows: Range<usize>, dx: &mut [f32]) {
    for_each_row(d, rows, |dst, src| {
        let Some(r) = src else { return };
        let first = r.start + r.lo * d.sw + r.kj - d.pw;
        let from = &col[dst + r.lo..dst + r.hi];
        if d.sw == 1 {
            for (o, v) in dx[first..first + from.len()].iter_mut().zip(from) {
                *o += v;
            }
        } else {
            let len = from.len();
            scatter_add(from, d.sw, &mut dx[first..first + (len - 1) * d.sw + 1]);
        }
    });
}

thread_local! {
    /// Per-thread im2col / gradient buffers, reused across calls so the
    /// large im2col matrices are neither zeroed nor page-faulted again.
    static SCRATCH: RefCell<[Vec<f32>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Runs `f` on two scratch buffers of `a` and `b` floats (contents
/// unspecified), this thread's reusable ones unless they are in use.
pub(super) fn with_scratch<R>(
    a: usize,
    b: usize,
    f: impl FnOnce(&mut [f32], &mut [f32]) -> R,
) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut bufs) => {
            let [x, y] = &mut *bufs;
            if x.len() < a {
                x.resize(a, 0.0);
            }
            if y.len() < b {
                y.resize(b, 0.0);
            }
            f(&mut x[..a], &mut y[..b])
        }
        Err(_) => f(&mut vec![0.0; a], &mut vec![0.0; b]),
    })
}
