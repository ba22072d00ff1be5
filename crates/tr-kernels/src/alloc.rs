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
//!
//! Long-lived servers want the opposite: [`heap_stats`] tells how much of
//! the heap is in use and how much is freed memory malloc still holds, and
//! [`release_free_memory`] hands the latter back to the system (`htr serve`
//! reports both on `/metrics` and releases when its model worker goes idle).

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

/// What glibc's malloc holds, from `mallinfo2` (all arenas).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes in allocated blocks (heap and `mmap`ed), i.e. live data.
    pub in_use: u64,
    /// Bytes of freed blocks malloc keeps for reuse instead of returning them.
    pub free: u64,
    /// Bytes in blocks served by `mmap` (part of `in_use`).
    pub mmapped: u64,
}

/// Current heap statistics; `None` on other platforms than Linux/glibc.
pub fn heap_stats() -> Option<HeapStats> {
    heap_stats_impl()
}

/// Returns the free memory at the top of the heap and in the middle of
/// every arena to the system (`malloc_trim(0)`); `true` when some was
/// released. A no-op returning `false` on other platforms.
pub fn release_free_memory() -> bool {
    release_impl()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_stats_impl() -> Option<HeapStats> {
    // SAFETY: mallinfo2 takes no arguments and only reads malloc's counters.
    let m = unsafe { libc::mallinfo2() };
    let bytes = |v: usize| v as u64;
    Some(HeapStats {
        in_use: bytes(m.uordblks) + bytes(m.hblkhd),
        free: bytes(m.fordblks),
        mmapped: bytes(m.hblkhd),
    })
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_stats_impl() -> Option<HeapStats> {
    None
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_impl() -> bool {
    // SAFETY: malloc_trim is thread-safe and only gives free pages back.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_impl() -> bool {
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

    #[test]
    fn heap_stats_see_live_blocks() {
        if !cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert_eq!(super::heap_stats(), None);
            return;
        }
        let before = super::heap_stats().unwrap();
        // 64 × 64 KiB, below the mmap threshold: heap blocks.
        let blocks: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 64 << 10]).collect();
        let during = super::heap_stats().unwrap();
        // Other tests allocate concurrently: allow slack, but 4 MiB must show.
        assert!(
            during.in_use + (1 << 20) >= before.in_use + (4 << 20),
            "{before:?} -> {during:?}"
        );
        assert!(blocks.iter().all(|b| b.len() == 64 << 10));
        drop(blocks);
        super::release_free_memory();
        let after = super::heap_stats().unwrap();
        assert!(after.in_use < during.in_use, "{during:?} -> {after:?}");
    }
}
