//! Fast CPU kernels for the zoo's hot operations, as candle custom ops with
//! forward **and** backward passes:
//!
//! * [`conv`]: 2-D convolution (any kernel, per-axis stride and padding) as
//!   im2col + gemm with fused bias and ReLU; input gradient by gemm + col2im,
//!   weight gradient by gemm against the recomputed im2col buffer, bias
//!   gradient by a reduction. Buffers are per image, so memory stays bounded.
//!   The forward pass of 3×3 stride-1 convolutions with 8–32 input channels
//!   uses Winograd F(2×2, 3×3) instead (`cpu/winograd.rs`).
//! * [`pool`]: max-pooling with argmax indices kept for the backward pass.
//! * [`lstm`]: the recurrence of one (bi)directional LSTM layer with fused
//!   gate math and backpropagation through time; the input projection stays a
//!   single candle matmul over the whole sequence; sigmoid and tanh are
//!   vectorised (`cpu/activation.rs`).
//!
//! Work is split over images (or directions) with rayon, so the thread count
//! follows `RAYON_NUM_THREADS`; when there are fewer images than threads the
//! gemm itself runs multi-threaded instead.
//!
//! The layers ([`crate::layers::Conv2d`], [`crate::layers::max_pool2d`],
//! [`crate::layers::Lstm`]) use these kernels automatically for `f32`
//! tensors on the CPU and keep candle's own ops on CUDA/Metal and other
//! dtypes. Setting the environment variable `TR_REFERENCE_OPS=1` (read once,
//! at the first use) or calling [`set_reference_ops`]`(true)` makes them use
//! candle's reference ops on the CPU too — for equivalence checks and
//! benchmarks.

mod activation;
mod adam;
mod alloc;
mod conv;
mod im2col;
mod lstm;
mod pool;
mod shuffle;
mod winograd;

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, Ordering};

use candle_core::{CpuStorage, DType, Result, Storage, Tensor};

pub use adam::{adam_in_place, AdamStep};
pub use alloc::{keep_freed_memory, MALLOC_ENV};
pub use conv::{conv2d, ConvGeometry};
pub use lstm::lstm_recurrence;
pub use pool::max_pool2d;

/// Environment variable that selects candle's reference ops on the CPU.
pub const REFERENCE_OPS_ENV: &str = "TR_REFERENCE_OPS";

/// 0: not decided yet (read the environment), 1: fast kernels, 2: reference ops.
static MODE: AtomicU8 = AtomicU8::new(0);

/// Forces candle's reference ops (`true`) or the fast kernels (`false`) on
/// the CPU for every later forward pass, overriding `TR_REFERENCE_OPS`.
pub fn set_reference_ops(reference: bool) {
    MODE.store(if reference { 2 } else { 1 }, Ordering::SeqCst);
}

/// Whether the layers use candle's reference ops on the CPU.
pub fn reference_ops() -> bool {
    match MODE.load(Ordering::SeqCst) {
        1 => false,
        2 => true,
        _ => {
            let reference = std::env::var(REFERENCE_OPS_ENV)
                .map(|v| !matches!(v.trim(), "" | "0" | "false" | "no"))
                .unwrap_or(false);
            // Another thread may have decided meanwhile; keep its choice.
            let _ = MODE.compare_exchange(
                0,
                if reference { 2 } else { 1 },
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
            MODE.load(Ordering::SeqCst) == 2
        }
    }
}

/// Whether the fast kernels apply to `x`: an `f32` CPU tensor and the
/// reference ops not requested.
pub fn use_fast_kernels(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32 && !reference_ops()
}

/// The contiguous `f32` values of a CPU storage.
pub(crate) fn cpu_f32<'a>(
    storage: &'a CpuStorage,
    layout: &candle_core::Layout,
    what: &str,
) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("{what}: fast CPU kernel expects f32 values")
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{what}: fast CPU kernel expects a contiguous tensor"),
    }
}

/// The contiguous `f32` values of a (CPU) tensor's storage; get the pair
/// from `Tensor::storage_and_layout` of a contiguous tensor.
pub(crate) fn host<'a>(
    storage: &'a Storage,
    layout: &candle_core::Layout,
    what: &str,
) -> Result<&'a [f32]> {
    let Storage::Cpu(cpu) = storage else {
        candle_core::bail!("{what}: fast CPU kernel got a non-CPU tensor")
    };
    cpu_f32(cpu, layout, what)
}

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

/// A vector of `len` floats written by `fill` without zeroing them first
/// (zeroing a layer's output costs as much as a pass over it), and what
/// `fill` returns.
///
/// # Safety
/// `fill` must initialise every element of the slice it is given.
pub(crate) unsafe fn filled_vec<R>(
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<f32>]) -> R,
) -> (Vec<f32>, R) {
    let mut v = Vec::with_capacity(len);
    let r = fill(&mut v.spare_capacity_mut()[..len]);
    // SAFETY: the caller's `fill` initialised all `len` elements.
    unsafe { v.set_len(len) };
    (v, r)
}

/// The floats of a slice whose every element has been written.
///
/// # Safety
/// Every element of `s` must be initialised.
pub(crate) unsafe fn assume_init(s: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    // SAFETY: `MaybeUninit<f32>` has the layout of `f32`, and the caller
    // guarantees the elements are initialised.
    unsafe { &mut *(s as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

/// Rayon's thread count (honours `RAYON_NUM_THREADS`).
pub(crate) fn threads() -> usize {
    rayon::current_num_threads().max(1)
}
