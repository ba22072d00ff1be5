//! Raw `f32` buffers for the kernels: the contiguous values behind a candle
//! storage, output vectors filled without zeroing them first, and the
//! thread count the work is split over.

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, Result, Storage};

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
