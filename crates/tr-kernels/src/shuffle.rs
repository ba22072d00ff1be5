//! Strided copies of `f32` runs — every other element out of a run, into a
//! run, and two runs interleaved — with AVX-512 permutes (`vpermt2ps`) when
//! the CPU has them and plain loops otherwise. Used by im2col/col2im for
//! stride-2 convolutions and by the Winograd output transform.

/// `out[k] = src[k·stride]` for every `k` of `out`.
pub(super) fn gather(src: &[f32], stride: usize, out: &mut [f32]) {
    let done = if stride == 2 {
        x86::gather2(src, out)
    } else {
        0
    };
    for (k, v) in out.iter_mut().enumerate().skip(done) {
        *v = src[k * stride];
    }
}

/// `dst[k·stride] += src[k]` for every `k` of `src` (the adjoint of
/// [`gather`]).
pub(super) fn scatter_add(src: &[f32], stride: usize, dst: &mut [f32]) {
    let done = if stride == 2 {
        x86::scatter_add2(src, dst)
    } else {
        0
    };
    for (k, v) in src.iter().enumerate().skip(done) {
        dst[k * stride] += v;
    }
}

/// `out[2t] = a[t]`, `out[2t + 1] = b[t]` for `t < min(a, b, out / 2)`.
#[inline(always)]
pub(super) fn interleave(a: &[f32], b: &[f32], out: &mut [f32]) {
    let n = a.len().min(b.len()).min(out.len() / 2);
    let done = x86::interleave(&a[..n], &b[..n], &mut out[..2 * n]);
    for t in done..n {
        out[2 * t] = a[t];
        out[2 * t + 1] = b[t];
    }
}

/// The vectorised heads of the functions above: each handles a prefix of
/// whole 16-float vectors and returns its length (0 without AVX-512).
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        _mm512_add_ps, _mm512_loadu_ps, _mm512_permutex2var_ps, _mm512_set_epi32,
        _mm512_setzero_ps, _mm512_storeu_ps,
    };

    fn avx512() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
    }

    pub(super) fn gather2(src: &[f32], out: &mut [f32]) -> usize {
        // SAFETY: only called on a CPU with AVX-512F.
        if avx512() {
            unsafe { gather2_avx512(src, out) }
        } else {
            0
        }
    }

    pub(super) fn scatter_add2(src: &[f32], dst: &mut [f32]) -> usize {
        // SAFETY: only called on a CPU with AVX-512F.
        if avx512() {
            unsafe { scatter_add2_avx512(src, dst) }
        } else {
            0
        }
    }

    #[inline(always)]
    pub(super) fn interleave(a: &[f32], b: &[f32], out: &mut [f32]) -> usize {
        // SAFETY: only called on a CPU with AVX-512F.
        if avx512() {
            unsafe { interleave_avx512(a, b, out) }
        } else {
            0
        }
    }

    /// Outputs `k < n` (whole vectors with `2k + 32 ≤ src.len()`).
    #[target_feature(enable = "avx512f")]
    unsafe fn gather2_avx512(src: &[f32], out: &mut [f32]) -> usize {
        let even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        let n = (out.len() / 16).min(src.len() / 32) * 16;
        for k in (0..n).step_by(16) {
            // SAFETY: 2k + 32 ≤ src.len() and k + 16 ≤ out.len().
            unsafe {
                let a = _mm512_loadu_ps(src.as_ptr().add(2 * k));
                let b = _mm512_loadu_ps(src.as_ptr().add(2 * k + 16));
                _mm512_storeu_ps(out.as_mut_ptr().add(k), _mm512_permutex2var_ps(a, even, b));
            }
        }
        n
    }

    /// Inputs `k < n` (whole vectors with `2k + 32 ≤ dst.len()`).
    #[target_feature(enable = "avx512f")]
    unsafe fn scatter_add2_avx512(src: &[f32], dst: &mut [f32]) -> usize {
        // Interleave with zeros: [s0, 0, s1, 0, …] and [s8, 0, s9, 0, …].
        let lo = _mm512_set_epi32(16, 7, 16, 6, 16, 5, 16, 4, 16, 3, 16, 2, 16, 1, 16, 0);
        let hi = _mm512_set_epi32(16, 15, 16, 14, 16, 13, 16, 12, 16, 11, 16, 10, 16, 9, 16, 8);
        let zero = _mm512_setzero_ps();
        let n = (src.len() / 16).min(dst.len() / 32) * 16;
        for k in (0..n).step_by(16) {
            // SAFETY: k + 16 ≤ src.len() and 2k + 32 ≤ dst.len().
            unsafe {
                let s = _mm512_loadu_ps(src.as_ptr().add(k));
                let (a, b) = (
                    dst.as_mut_ptr().add(2 * k),
                    dst.as_mut_ptr().add(2 * k + 16),
                );
                let sa = _mm512_permutex2var_ps(s, lo, zero);
                let sb = _mm512_permutex2var_ps(s, hi, zero);
                _mm512_storeu_ps(a, _mm512_add_ps(_mm512_loadu_ps(a), sa));
                _mm512_storeu_ps(b, _mm512_add_ps(_mm512_loadu_ps(b), sb));
            }
        }
        n
    }

    /// Pairs `t < n` (whole vectors of `a`; `a`, `b` equally long, `out` twice that).
    #[target_feature(enable = "avx512f")]
    unsafe fn interleave_avx512(a: &[f32], b: &[f32], out: &mut [f32]) -> usize {
        let lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
        let hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
        let n = a.len().min(b.len()).min(out.len() / 2) / 16 * 16;
        for t in (0..n).step_by(16) {
            // SAFETY: t + 16 ≤ a.len(), b.len() and 2t + 32 ≤ out.len().
            unsafe {
                let va = _mm512_loadu_ps(a.as_ptr().add(t));
                let vb = _mm512_loadu_ps(b.as_ptr().add(t));
                let o = out.as_mut_ptr().add(2 * t);
                _mm512_storeu_ps(o, _mm512_permutex2var_ps(va, lo, vb));
                _mm512_storeu_ps(o.add(16), _mm512_permutex2var_ps(va, hi, vb));
            }
        }
        n
    }
}

/// Without x86-64 the plain loops do everything.
#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    pub(super) fn gather2(_: &[f32], _: &mut [f32]) -> usize {
        0
    }
    pub(super) fn scatter_add2(_: &[f32], _: &mut [f32]) -> usize {
        0
    }
    pub(super) fn interleave(_: &[f32], _: &[f32], _: &mut [f32]) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectorised_copies_match_the_plain_loops() {
        for stride in [2, 3] {
            for len in [1, 15, 16, 17, 33, 100] {
                let src: Vec<f32> = (0..(len - 1) * stride + 1)
                    .map(|i| i as f32 * 0.5 - 3.0)
                    .collect();
                let mut out = vec![f32::NAN; len];
                gather(&src, stride, &mut out);
                let want: Vec<f32> = (0..len).map(|k| src[k * stride]).collect();
                assert_eq!(out, want, "gather stride {stride} len {len}");

                let mut dst: Vec<f32> = (0..src.len()).map(|i| i as f32).collect();
                let mut want = dst.clone();
                for (k, v) in out.iter().enumerate() {
                    want[k * stride] += v;
                }
                scatter_add(&out, stride, &mut dst);
                assert_eq!(dst, want, "scatter_add stride {stride} len {len}");
            }
        }
        for len in [0, 1, 16, 17, 40] {
            let a: Vec<f32> = (0..len).map(|i| i as f32).collect();
            let b: Vec<f32> = (0..len).map(|i| -(i as f32) - 0.5).collect();
            let mut out = vec![f32::NAN; 2 * len];
            interleave(&a, &b, &mut out);
            let want: Vec<f32> = a.iter().zip(&b).flat_map(|(x, y)| [*x, *y]).collect();
            assert_eq!(out, want, "interleave len {len}");
        }
    }
}
