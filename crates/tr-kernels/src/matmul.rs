//! Matrix products of the kernels on slices, through the gemm crate (its
//! AVX-512 microkernels when the CPU has them: the `x86-v4` feature): the
//! strided view [`MatRef`], and [`gemm`] / [`gemm_uninit`] into initialised
//! or uninitialised output.

use std::mem::MaybeUninit;

/// A row-major view of a matrix in a slice: element `(r, c)` at
/// `offset + r·rs + c·cs` (transposes are views with swapped strides).
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef {
    pub rs: usize,
    pub cs: usize,
}

impl MatRef {
    /// Row-major `(_, cols)`.
    pub fn rows(cols: usize) -> Self {
        Self { rs: cols, cs: 1 }
    }

    /// The transpose of a row-major `(_, cols)` matrix.
    pub fn transposed(cols: usize) -> Self {
        Self { rs: 1, cs: cols }
    }

    /// Largest index touched by an `(r, c)` matrix, plus one.
    fn span(&self, r: usize, c: usize) -> usize {
        if r == 0 || c == 0 {
            0
        } else {
            (r - 1) * self.rs + (c - 1) * self.cs + 1
        }
    }
}

/// `dst (m, n) = [dst +] lhs (m, k) · rhs (k, n)` with the gemm crate,
/// `threads` > 1 splitting the product with rayon.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(
    dims: (usize, usize, usize),
    dst: &mut [f32],
    dst_v: MatRef,
    accumulate: bool,
    lhs: &[f32],
    lhs_v: MatRef,
    rhs: &[f32],
    rhs_v: MatRef,
    threads: usize,
) {
    // SAFETY: `dst` is a valid, exclusively borrowed buffer of `dst.len()` floats.
    unsafe {
        gemm_raw(
            dims,
            (dst.as_mut_ptr(), dst.len()),
            dst_v,
            accumulate,
            (lhs, lhs_v),
            (rhs, rhs_v),
            threads,
        )
    }
}

/// `dst (m, n) = lhs (m, k) · rhs (k, n)` into memory that need not be
/// initialised: every element of the `(m, n)` view is written, none read.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_uninit(
    dims: (usize, usize, usize),
    dst: &mut [MaybeUninit<f32>],
    dst_v: MatRef,
    lhs: &[f32],
    lhs_v: MatRef,
    rhs: &[f32],
    rhs_v: MatRef,
    threads: usize,
) {
    // SAFETY: `dst` is a valid, exclusively borrowed buffer of `dst.len()`
    // floats, and with `accumulate = false` it is only written.
    unsafe {
        gemm_raw(
            dims,
            (dst.as_mut_ptr().cast(), dst.len()),
            dst_v,
            false,
            (lhs, lhs_v),
            (rhs, rhs_v),
            threads,
        )
    }
}

/// The gemm of [`gemm`] / [`gemm_uninit`] on a `(pointer, length)` output.
///
/// # Safety
/// `dst` must be valid for writes (and, with `accumulate`, initialised
/// reads) of `len` floats and not alias `lhs` or `rhs`.
unsafe fn gemm_raw(
    (m, n, k): (usize, usize, usize),
    (dst, len): (*mut f32, usize),
    dst_v: MatRef,
    accumulate: bool,
    (lhs, lhs_v): (&[f32], MatRef),
    (rhs, rhs_v): (&[f32], MatRef),
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(len >= dst_v.span(m, n), "gemm: dst too small");
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                for c in 0..n {
                    // SAFETY: in bounds by the assert above.
                    unsafe { dst.add(r * dst_v.rs + c * dst_v.cs).write(0.0) };
                }
            }
        }
        return;
    }
    assert!(lhs.len() >= lhs_v.span(m, k), "gemm: lhs too small");
    assert!(rhs.len() >= rhs_v.span(k, n), "gemm: rhs too small");
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above keep every accessed element in bounds; the
    // caller guarantees `dst` is writable and does not alias the inputs;
    // with `accumulate = false` (`read_dst`) the gemm crate never reads `dst`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            dst_v.cs as isize,
            dst_v.rs as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_v.cs as isize,
            lhs_v.rs as isize,
            rhs.as_ptr(),
            rhs_v.cs as isize,
            rhs_v.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
