//! The switch between the fast kernels and candle's reference ops on the
//! CPU: the environment variable [`REFERENCE_OPS_ENV`] (read once, at the
//! first use) or [`set_reference_ops`], which overrides it.

use std::sync::atomic::{AtomicU8, Ordering};

use candle_core::{DType, Tensor};

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
