//! Pinning the thread count candle's CPU ops ask for.
//!
//! candle's CPU matmul looks its thread count up on **every call**
//! (`candle_core::utils::get_num_threads`): `RAYON_NUM_THREADS` if set,
//! otherwise the number of physical cores, which `num_cpus` finds by opening
//! and parsing `/proc/cpuinfo` each time. Measured with `strace` on this
//! project's 2-core machine: 3,973 opens of `/proc/cpuinfo` in one
//! `line-cnn-transformer` training step plus one greedy decode, ~5 % of a
//! training step in the kernel's `show_cpuinfo`/`vsnprintf`, and 42 % of
//! the greedy-decoding latency (254 → 148 ms for one line, `cargo xtask
//! bench --models line-cnn-transformer`), whose steps are many small
//! matmuls.
//!
//! [`pin_thread_count`] sets `RAYON_NUM_THREADS` once, at start-up, to the
//! thread count rayon would use anyway, so both rayon's pool and candle's
//! matmuls keep their defaults without the lookups. The binaries (`htr`,
//! `tr-train`, `cargo xtask`) call it first thing in `main`; a program
//! embedding the libraries should call it (or set `RAYON_NUM_THREADS`)
//! before it starts other threads.

/// The environment variable candle and rayon read their thread count from.
pub const THREADS_ENV: &str = "RAYON_NUM_THREADS";

/// Sets [`THREADS_ENV`] to the machine's available parallelism (rayon's
/// default pool size) unless it is already set to a positive number;
/// returns the value now in effect, or `None` when the parallelism is
/// unknown (then nothing changes). Call it at the start of `main`, before
/// other threads run: the process environment is shared by all threads.
pub fn pin_thread_count() -> Option<usize> {
    if let Some(n) = std::env::var(THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    let n = std::thread::available_parallelism().ok()?.get();
    std::env::set_var(THREADS_ENV, n.to_string());
    tracing::debug!(threads = n, "{THREADS_ENV} pinned");
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_the_default_once_and_keeps_a_user_choice() {
        // Tests share the process environment: only this test touches the variable.
        let before = std::env::var(THREADS_ENV).ok();
        let n = pin_thread_count().expect("available parallelism");
        assert!(n > 0);
        let value = std::env::var(THREADS_ENV).unwrap();
        match before.as_deref().and_then(|v| v.parse::<usize>().ok()) {
            Some(user) if user > 0 => assert_eq!(n, user),
            _ => assert_eq!(value, n.to_string()),
        }
        // candle now reads the pinned value instead of /proc/cpuinfo.
        assert_eq!(candle_core::utils::get_num_threads(), n);
        assert_eq!(pin_thread_count(), Some(n));
    }
}
