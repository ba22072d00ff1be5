//! Allocator settings for training processes on Linux/glibc.
//!
//! A CPU training step allocates and frees hundreds of MB of activations
//! and gradients (candle allocates every op's result; its backward pass
//! accumulates each gradient onto a fresh zero tensor). glibc serves
//! blocks above 32 MB with `mmap` and gives them back with `munmap`, and
//! its per-thread arenas shrink after frees, so every step faults the same
//! memory in again page by page, with the kernel zeroing each page: ~25 %
//! of a line-cnn step on 2 cores (`perf`: `clear_page_erms`, page faults).
//!
//! [`keep_freed_memory`] makes glibc keep freed memory for reuse: one arena,
//! no `mmap` for large blocks, no trimming. Measured with `cargo xtask
//! bench` (batch 32, 2 threads): line-cnn 23 → 32 samples/s, line-cnn-lstm
//! 16.4 → 20.9, peak RSS +10–15 % (the heap keeps its high-water mark).
//! Training binaries (`htr`, `tr-train`, `cargo xtask bench`) call it; a
//! program embedding the library can call it too, or set the equivalent
//! `MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=…`.

/// Environment variables by which a user already chose glibc's malloc
/// behaviour; when any is set, [`keep_freed_memory`] leaves it alone.
pub const MALLOC_ENV: [&str; 5] = [
    "MALLOC_ARENA_MAX",
    "MALLOC_MMAP_MAX_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "GLIBC_TUNABLES",
];

/// Makes glibc's malloc keep freed memory for reuse (see the module docs).
/// Returns whether the settings were applied: `false` on other platforms,
/// when the user set any of [`MALLOC_ENV`], or when glibc refused one.
/// Call it early, before other threads allocate.
pub fn keep_freed_memory() -> bool {
    if let Some(var) = MALLOC_ENV.iter().find(|v| std::env::var_os(v).is_some()) {
        tracing::debug!(var, "malloc settings left to the environment");
        return false;
    }
    apply()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply() -> bool {
    // M_ARENA_MAX is glibc-specific and not exported by the libc crate.
    const M_ARENA_MAX: libc::c_int = -8;
    let settings = [
        (M_ARENA_MAX, 1),
        (libc::M_MMAP_MAX, 0),
        (libc::M_TRIM_THRESHOLD, libc::c_int::MAX),
    ];
    settings.iter().all(|&(param, value)| {
        // SAFETY: mallopt only changes malloc's tuning parameters; it is
        // thread-safe and takes plain integers.
        let ok = unsafe { libc::mallopt(param, value) } == 1;
        if !ok {
            tracing::debug!(param, value, "glibc refused a malloc setting");
        }
        ok
    })
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply() -> bool {
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn settings_apply_and_allocation_still_works() {
        let user_choice = super::MALLOC_ENV
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        let applied = super::keep_freed_memory();
        let glibc = cfg!(all(target_os = "linux", target_env = "gnu"));
        assert_eq!(applied, glibc && !user_choice);
        // A block far above the old 32 MB mmap threshold, freed and reused.
        for round in 0..3u8 {
            let v = vec![round; 80 << 20];
            assert_eq!(v[(80 << 20) - 1], round);
        }
    }
}
