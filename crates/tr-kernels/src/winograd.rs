//! Winograd F(2×2, 3×3) forward pass of 3×3 stride-1 convolutions: 2.25×
//! fewer multiplications than im2col + gemm, used by [`super::conv`] for the
//! forward pass of the zoo's 3×3 stride-1 convolutions with enough channels
//! (the backward pass keeps im2col).
//!
//! Each 2×2 block of outputs is computed from the 4×4 input patch `d` under
//! it (Lavin & Gray 2015):
//!
//! ```text
//! U = G g Gᵀ (per output/input channel pair)   V = Bᵀ d B (per input channel and tile)
//! M[ξ] (O, tiles) = U[ξ] (O, C) · V[ξ] (C, tiles)   for the 16 positions ξ of the 4×4 transforms
//! Y = Aᵀ M A + bias, then ReLU
//! ```
//!
//! with `Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]`,
//! `G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]` and `Aᵀ = [1 1 1 0; 0 1 −1 −1]`.
//! The transforms only add, subtract and halve, so the result differs from
//! the direct convolution by rounding only (tested against candle's conv2d).
//!
//! Tiles are processed in chunks (a range of tile columns of one tile row,
//! or several whole tile rows) sized so the chunk's `V` and `M` (16·(C+O)
//! floats per tile) stay near 512 KB (in L2);
//! chunks of all images run in parallel on rayon's pool, each writing its own
//! output rows.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::im2col::{with_scratch, Dims};
use super::shuffle::interleave;
use super::{gemm, MatRef};

/// Input channels for which Winograd beats im2col + gemm, measured on
/// line-cnn's layers at batch 1: with a single input channel the transforms
/// cost more than they save; with 32 channels Winograd is ~15 % faster, with
/// 64 on par, with 128 slower (im2col's one deep gemm is then efficient,
/// Winograd's 16 shallow ones are not).
const CHANNELS: std::ops::RangeInclusive<usize> = 8..=32;

/// Floats of `V` and `M` per chunk (512 KB; measured on line-cnn's layers:
/// 4 % faster than 1 MB, 15 % faster than 256 KB, whose gemms are too small).
const CHUNK_FLOATS: usize = 1 << 17;

/// Whether [`forward`] computes this convolution: 3×3 kernel, stride 1,
/// input channels in [`CHANNELS`] and a non-empty output.
pub(super) fn applies(d: &Dims) -> bool {
    (d.kh, d.kw, d.sh, d.sw) == (3, 3, 1, 1) && CHANNELS.contains(&d.c) && d.ho > 0 && d.wo > 0
}

/// `U = G g Gᵀ` of every `(O, C, 3, 3)` kernel, laid out `(16, O, C)`.
fn transform_weights(w: &[f32], o: usize, c: usize) -> Vec<f32> {
    let mut u = vec![0f32; 16 * o * c];
    for (oc, g) in w.chunks_exact(9).enumerate() {
        // G g: 4×3.
        let mut gg = [[0f32; 3]; 4];
        for j in 0..3 {
            let (a, b, e) = (g[j], g[3 + j], g[6 + j]);
            gg[0][j] = a;
            gg[1][j] = 0.5 * (a + b + e);
            gg[2][j] = 0.5 * (a - b + e);
            gg[3][j] = e;
        }
        // (G g) Gᵀ: 4×4.
        for (i, r) in gg.iter().enumerate() {
            let row = [
                r[0],
                0.5 * (r[0] + r[1] + r[2]),
                0.5 * (r[0] - r[1] + r[2]),
                r[2],
            ];
            for (j, v) in row.into_iter().enumerate() {
                u[(4 * i + j) * o * c + oc] = v;
            }
        }
    }
    u
}

/// One chunk of tiles: tile rows `ty0..ty0 + rows`, tile columns
/// `tx0..tx0 + width`, `tc = rows·width` tiles (row-major in `V` and `M`).
#[derive(Clone, Copy)]
struct Chunk {
    ty0: usize,
    rows: usize,
    tx0: usize,
    width: usize,
    tc: usize,
}

/// Sizes shared by every chunk of a call.
struct Plan<'a> {
    d: &'a Dims,
    u: &'a [f32],
    bias: Option<&'a [f32]>,
    relu: bool,
    /// Tile rows and columns of an image.
    th: usize,
    tw: usize,
    /// Tile rows per chunk, chunks per tile row and tile columns per chunk:
    /// rows that are longer than a chunk are split, shorter ones grouped.
    rows: usize,
    per_row: usize,
    width: usize,
}

impl<'a> Plan<'a> {
    fn new(
        d: &'a Dims,
        u: &'a [f32],
        bias: Option<&'a [f32]>,
        relu: bool,
        chunk_floats: usize,
    ) -> Self {
        let (th, tw) = (d.ho.div_ceil(2), d.wo.div_ceil(2));
        let target = (chunk_floats / (16 * (d.c + d.o))).max(8);
        let per_row = tw.div_ceil(target);
        Plan {
            d,
            u,
            bias,
            relu,
            th,
            tw,
            rows: if per_row > 1 { 1 } else { (target / tw).max(1) },
            per_row,
            width: tw.div_ceil(per_row),
        }
    }

    /// Chunks per image.
    fn chunks(&self) -> usize {
        self.th.div_ceil(self.rows) * self.per_row
    }

    fn chunk(&self, i: usize) -> Chunk {
        let (ty0, tx0) = (
            (i / self.per_row) * self.rows,
            (i % self.per_row) * self.width,
        );
        let (rows, width) = (self.rows.min(self.th - ty0), self.width.min(self.tw - tx0));
        Chunk {
            ty0,
            rows,
            tx0,
            width,
            tc: rows * width,
        }
    }

    /// `V[ξ]` `(C, tc)` of the chunk into `v` `(16, C, tc)`; `row` holds
    /// `2·width + 2` floats, `h` `4·4·width + 2·(width + 1)`.
    #[inline(always)]
    fn input_transform(&self, x: &[f32], ch: Chunk, v: &mut [f32], row: &mut [f32], h: &mut [f32]) {
        let d = self.d;
        let (tc, wd) = (ch.tc, ch.width);
        let (h, eo) = h.split_at_mut(16 * wd);
        let (even, odd) = eo.split_at_mut(wd + 1);
        // Input column of the chunk's first padded column.
        let col0 = (2 * ch.tx0) as isize - d.pw as isize;
        for c in 0..d.c {
            for r in 0..ch.rows {
                for (i, hi) in h.chunks_exact_mut(4 * wd).enumerate() {
                    // The padded input row under row i of the tiles.
                    let ih = (2 * (ch.ty0 + r) + i) as isize - d.ph as isize;
                    row.fill(0.0);
                    if ih >= 0 && (ih as usize) < d.h {
                        let src = &x[(c * d.h + ih as usize) * d.w..][..d.w];
                        let lo = (-col0).max(0) as usize;
                        let hi = ((d.w as isize - col0).max(0) as usize).min(row.len());
                        if lo < hi {
                            let start = (col0 + lo as isize) as usize;
                            row[lo..hi].copy_from_slice(&src[start..start + hi - lo]);
                        }
                    }
                    for ((e, o), p) in even.iter_mut().zip(odd.iter_mut()).zip(row.chunks_exact(2))
                    {
                        (*e, *o) = (p[0], p[1]);
                    }
                    // d · B along the row: tile t reads padded columns 2t..2t+4,
                    // i.e. even[t], odd[t], even[t+1], odd[t+1].
                    let (h0, rest) = hi.split_at_mut(wd);
                    let (h1, rest) = rest.split_at_mut(wd);
                    let (h2, h3) = rest.split_at_mut(wd);
                    let (e0, e1, o0, o1) = (&even[..wd], &even[1..], &odd[..wd], &odd[1..]);
                    for t in 0..wd {
                        h0[t] = e0[t] - e1[t];
                        h1[t] = o0[t] + e1[t];
                        h2[t] = e1[t] - o0[t];
                        h3[t] = o0[t] - o1[t];
                    }
                }
                // Bᵀ · (d B) down the columns.
                for j in 0..4 {
                    let hj = |i: usize| &h[(4 * i + j) * wd..][..wd];
                    let (a, b, e, f) = (hj(0), hj(1), hj(2), hj(3));
                    let at = |pos: usize| (pos * d.c + c) * tc + r * wd;
                    let (i0, i1, i2, i3) = (at(j), at(4 + j), at(8 + j), at(12 + j));
                    // Four disjoint rows of `v`, in increasing order.
                    let (v0, rest) = v[i0..].split_at_mut(i1 - i0);
                    let (v1, rest) = rest.split_at_mut(i2 - i1);
                    let (v2, v3) = rest.split_at_mut(i3 - i2);
                    let (v0, v1, v2, v3) =
                        (&mut v0[..wd], &mut v1[..wd], &mut v2[..wd], &mut v3[..wd]);
                    for t in 0..wd {
                        v0[t] = a[t] - e[t];
                        v1[t] = b[t] + e[t];
                        v2[t] = e[t] - b[t];
                        v3[t] = b[t] - f[t];
                    }
                }
            }
        }
    }

    /// `Y = Aᵀ M A` (+ bias, ReLU) of the chunk from `m` `(16, O, tc)`:
    /// calls `write(oc, output_row, values)` for the chunk's part of each
    /// output row; `s` holds `8·width` floats, `out` `4·width`.
    #[inline(always)]
    fn output_transform(
        &self,
        m: &[f32],
        ch: Chunk,
        s: &mut [f32],
        out: &mut [f32],
        mut write: impl FnMut(usize, usize, &[f32]),
    ) {
        let d = self.d;
        let (o, tc, wd) = (d.o, ch.tc, ch.width);
        let cols = (d.wo - 2 * ch.tx0).min(2 * wd);
        let (out, s_out) = out.split_at_mut(2 * wd);
        for oc in 0..o {
            let bias = self.bias.map_or(0.0, |b| b[oc]);
            for r in 0..ch.rows {
                let oh = 2 * (ch.ty0 + r);
                let mij = |i: usize, j: usize| &m[((4 * i + j) * o + oc) * tc + r * wd..][..wd];
                // Aᵀ · M down the columns: s[rr][j][t].
                {
                    let (s0, s1) = s.split_at_mut(4 * wd);
                    for ((j, s0), s1) in s0
                        .chunks_exact_mut(wd)
                        .enumerate()
                        .zip(s1.chunks_exact_mut(wd))
                    {
                        let (a, b, e, f) = (mij(0, j), mij(1, j), mij(2, j), mij(3, j));
                        for t in 0..wd {
                            s0[t] = a[t] + b[t] + e[t];
                            s1[t] = b[t] - e[t] - f[t];
                        }
                    }
                }
                // (Aᵀ M) · A along the rows, interleaving the two output columns of each tile.
                for (rr, sr) in s.chunks_exact(4 * wd).take((d.ho - oh).min(2)).enumerate() {
                    let (a, rest) = sr.split_at(wd);
                    let (b, rest) = rest.split_at(wd);
                    let (e, f) = rest.split_at(wd);
                    let (y0, y1) = s_out.split_at_mut(wd);
                    for t in 0..wd {
                        y0[t] = a[t] + b[t] + e[t] + bias;
                        y1[t] = b[t] - e[t] - f[t] + bias;
                    }
                    interleave(y0, y1, out);
                    if self.relu {
                        out.iter_mut().for_each(|v| *v = v.max(0.0));
                    }
                    write(oc, oh + rr, &out[..cols]);
                }
            }
        }
    }

    /// Computes chunk `ch` of image `xi`: input transform, 16 gemms, output
    /// transform (see [`Self::output_transform`] for `write`), in scratch
    /// buffers `vm` (`16·(C+O)·tc` floats) and `small` ([`Self::small`]).
    #[inline(always)]
    fn run_chunk(
        &self,
        xi: &[f32],
        ch: Chunk,
        vm: &mut [f32],
        small: &mut [f32],
        write: impl FnMut(usize, usize, &[f32]),
    ) {
        let (c, o, tc, wd) = (self.d.c, self.d.o, ch.tc, ch.width);
        let (v, m) = vm.split_at_mut(16 * c * tc);
        let (row, rest) = small.split_at_mut(2 * wd + 2);
        let (h, rest) = rest.split_at_mut(16 * wd + 2 * (wd + 1));
        let (s, out) = rest.split_at_mut(8 * wd);
        self.input_transform(xi, ch, v, row, h);
        for pos in 0..16 {
            gemm(
                (o, tc, c),
                &mut m[pos * o * tc..][..o * tc],
                MatRef::rows(tc),
                false,
                &self.u[pos * o * c..][..o * c],
                MatRef::rows(c),
                &v[pos * c * tc..][..c * tc],
                MatRef::rows(tc),
                1,
            );
        }
        self.output_transform(m, ch, s, out, write);
    }

    /// Floats of the small scratch buffer of a chunk `width` tiles wide.
    fn small(width: usize) -> usize {
        (2 * width + 2) + (16 * width + 2 * (width + 1)) + 8 * width + 4 * width
    }

    /// [`Self::run_chunk`] in this thread's scratch buffers, compiled for
    /// AVX-512 or AVX2 when the CPU has it.
    fn run_chunk_dispatch(&self, xi: &[f32], ch: Chunk, write: impl FnMut(usize, usize, &[f32])) {
        let (c, o, tc) = (self.d.c, self.d.o, ch.tc);
        with_scratch(16 * (c + o) * tc, Self::small(ch.width), |vm, small| {
            #[cfg(target_arch = "x86_64")]
            {
                // Functions, not closures: closures would not inherit the features.
                macro_rules! compiled_for {
                    ($($name:ident: $features:literal),*) => {$(
                        #[target_feature(enable = $features)]
                        unsafe fn $name(
                            p: &Plan,
                            xi: &[f32],
                            ch: Chunk,
                            vm: &mut [f32],
                            small: &mut [f32],
                            write: impl FnMut(usize, usize, &[f32]),
                        ) {
                            p.run_chunk(xi, ch, vm, small, write)
                        }
                    )*};
                }
                compiled_for!(v4: "avx512f", v3: "avx2,fma");
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has the feature v4 is compiled for.
                    return unsafe { v4(self, xi, ch, vm, small, write) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has the features v3 is compiled for.
                    return unsafe { v3(self, xi, ch, vm, small, write) };
                }
            }
            self.run_chunk(xi, ch, vm, small, write)
        })
    }
}

/// A raw pointer to the output that chunks on several threads write through.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: chunks write disjoint output ranges (see `forward`).
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// The pointer (a method, so closures capture the whole `Sync` wrapper).
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// `(B, C, H, W)` input, `(O, C, 3, 3)` weight, optional `(O)` bias →
/// `(B, O, Ho, Wo)` (ReLU applied when `relu`) into `y`, writing every
/// element; any padding.
pub(super) fn forward(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    d: &Dims,
    relu: bool,
    y: &mut [MaybeUninit<f32>],
) {
    forward_in_chunks(x, w, bias, d, relu, y, CHUNK_FLOATS)
}

/// [`forward`] with chunks of about `chunk_floats` floats of `V` and `M`.
fn forward_in_chunks(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    d: &Dims,
    relu: bool,
    y: &mut [MaybeUninit<f32>],
    chunk_floats: usize,
) {
    let (c, o, n) = (d.c, d.o, d.n());
    assert_eq!(
        (d.kh, d.kw, d.sh, d.sw),
        (3, 3, 1, 1),
        "winograd: 3x3 stride-1 kernels only"
    );
    assert_eq!(y.len(), d.b * o * n, "winograd: output size");
    if y.is_empty() {
        return;
    }
    let u = transform_weights(w, o, c);
    let plan = Plan::new(d, &u, bias, relu, chunk_floats);
    let chunks = plan.chunks();
    let out = OutPtr(y.as_mut_ptr().cast());
    let run = |job: usize| {
        let (img, ch) = (job / chunks, plan.chunk(job % chunks));
        let xi = &x[img * d.image()..][..d.image()];
        plan.run_chunk_dispatch(xi, ch, |oc, oh, vals| {
            let start = (img * o + oc) * n + oh * d.wo + 2 * ch.tx0;
            // SAFETY: `start + vals.len()` ≤ `y.len()` (output row `oh` of
            // channel `oc` of image `img`, columns inside `Wo`), and no other
            // chunk writes these elements: each chunk owns the output rows
            // and columns under its tiles.
            unsafe {
                std::ptr::copy_nonoverlapping(vals.as_ptr(), out.get().add(start), vals.len())
            };
        });
    };
    (0..d.b * chunks).into_par_iter().for_each(run);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::ConvGeometry;
    use candle_core::Shape;

    /// Direct convolution, in f64.
    fn direct(x: &[f32], w: &[f32], b: &[f32], d: &Dims, relu: bool) -> Vec<f32> {
        let mut y = vec![0f32; d.b * d.o * d.n()];
        for img in 0..d.b {
            for oc in 0..d.o {
                for oh in 0..d.ho {
                    for ow in 0..d.wo {
                        let mut acc = b[oc] as f64;
                        for ci in 0..d.c {
                            for ki in 0..3 {
                                for kj in 0..3 {
                                    let ih = (oh + ki) as isize - d.ph as isize;
                                    let iw = (ow + kj) as isize - d.pw as isize;
                                    if ih < 0 || iw < 0 || ih as usize >= d.h || iw as usize >= d.w
                                    {
                                        continue;
                                    }
                                    let xv = x[((img * d.c + ci) * d.h + ih as usize) * d.w
                                        + iw as usize];
                                    let wv = w[((oc * d.c + ci) * 3 + ki) * 3 + kj];
                                    acc += xv as f64 * wv as f64;
                                }
                            }
                        }
                        let v = if relu { acc.max(0.0) } else { acc };
                        y[((img * d.o + oc) * d.ho + oh) * d.wo + ow] = v as f32;
                    }
                }
            }
        }
        y
    }

    #[test]
    fn matches_direct_convolution() {
        let mut seed = 1u64;
        let mut rand = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
        };
        // (B, C, O, H, W, padding): odd/even sizes, padding 0/1/2, rows narrower than a tile.
        for (b, c, o, h, w, p) in [
            (1, 8, 5, 7, 9, (1, 1)),
            (2, 9, 4, 6, 6, (1, 1)),
            (3, 8, 3, 5, 11, (0, 0)),
            (1, 10, 2, 3, 3, (2, 2)),
            (1, 8, 3, 4, 1, (1, 1)),
            (1, 8, 2, 9, 5, (1, 1)),
            (2, 12, 7, 9, 300, (1, 0)),
            (1, 32, 4, 5, 40, (1, 1)),
        ] {
            let geom = ConvGeometry {
                kernel: (3, 3),
                stride: (1, 1),
                padding: p,
            };
            let d =
                Dims::new(&Shape::from((b, c, h, w)), &Shape::from((o, c, 3, 3)), geom).unwrap();
            let x: Vec<f32> = (0..b * c * h * w).map(|_| rand()).collect();
            let wt: Vec<f32> = (0..o * c * 9).map(|_| rand()).collect();
            let bias: Vec<f32> = (0..o).map(|_| rand()).collect();
            // Several whole rows per chunk, one row, and chunks of 8 tile columns.
            for (relu, chunk) in [
                (false, CHUNK_FLOATS),
                (true, CHUNK_FLOATS),
                (true, 16 * (c + o) * 9),
                (true, 1),
            ] {
                let want = direct(&x, &wt, &bias, &d, relu);
                let mut got = vec![MaybeUninit::new(f32::NAN); want.len()];
                forward_in_chunks(&x, &wt, Some(&bias), &d, relu, &mut got, chunk);
                // SAFETY: initialised with NaN, which the check below would catch.
                let got = unsafe { crate::assume_init(&mut got) };
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                        "{d:?} relu {relu} chunk {chunk} element {i}: {g} vs {w}"
                    );
                }
            }
        }
    }
}
