//! Background loading: `num_workers` threads produce batches ahead of the
//! consumer, at most `prefetch` at a time, delivered strictly in order.
//!
//! Workers claim the next batch position from a shared counter, but only
//! while fewer than `prefetch` claimed batches wait to be delivered; this
//! bounds memory to `prefetch` batches in flight (plus the one the consumer
//! holds) however slow the consumer is. Finished batches wait in a small
//! ordered map until the consumer reaches them. Dropping the [`Prefetcher`]
//! tells the workers to stop and joins them: a worker finishes at most the
//! batch it is loading. A panic inside a worker's job becomes that batch's
//! `Err` instead of a hang.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// A job: load the batch at a position of the epoch.
pub(crate) type Job<T> = Arc<dyn Fn(usize) -> Result<T> + Send + Sync>;

struct State<T> {
    /// Next position a worker may claim.
    next_claim: usize,
    /// Next position the consumer will take.
    next_deliver: usize,
    /// Finished batches not yet delivered, by position.
    ready: BTreeMap<usize, Result<T>>,
    stop: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
    total: usize,
    prefetch: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No code panics while holding the lock (jobs run outside it), so a
        // poisoned mutex still holds consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }
}

/// Worker threads producing positions `0..total` of an epoch, in order.
pub(crate) struct Prefetcher<T: Send + 'static> {
    shared: Arc<Shared<T>>,
    workers: Vec<JoinHandle<()>>,
}

impl<T: Send + 'static> Prefetcher<T> {
    /// Starts `num_workers` threads (at least one) running `job` for
    /// positions `0..total`, at most `prefetch` (at least one) in flight.
    pub(crate) fn start(
        job: Job<T>,
        total: usize,
        num_workers: usize,
        prefetch: usize,
    ) -> Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_claim: 0,
                next_deliver: 0,
                ready: BTreeMap::new(),
                stop: false,
            }),
            changed: Condvar::new(),
            total,
            prefetch: prefetch.max(1),
        });
        let mut prefetcher = Self {
            shared,
            workers: Vec::new(),
        };
        // More workers than batches would only idle.
        for w in 0..num_workers.max(1).min(total) {
            let shared = Arc::clone(&prefetcher.shared);
            let job = Arc::clone(&job);
            let handle = std::thread::Builder::new()
                .name(format!("tr-loader-{w}"))
                .spawn(move || work(&shared, &*job))
                .map_err(|e| {
                    Error::invalid(
                        "loader.num_workers",
                        format!("cannot start worker thread {w}: {e}"),
                    )
                })?;
            // On a spawn error, `prefetcher` is dropped here and joins the threads already started.
            prefetcher.workers.push(handle);
        }
        Ok(prefetcher)
    }

    /// The result for the next position, blocking until a worker produced it;
    /// `None` after the last position.
    pub(crate) fn next(&mut self) -> Option<Result<T>> {
        let mut state = self.shared.lock();
        if state.next_deliver >= self.shared.total {
            return None;
        }
        loop {
            let position = state.next_deliver;
            if let Some(result) = state.ready.remove(&position) {
                state.next_deliver += 1;
                self.shared.changed.notify_all();
                return Some(result);
            }
            state = self.shared.wait(state);
        }
    }

    /// Positions not yet delivered.
    pub(crate) fn remaining(&self) -> usize {
        self.shared.total - self.shared.lock().next_deliver
    }
}

impl<T: Send + 'static> Drop for Prefetcher<T> {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        for handle in self.workers.drain(..) {
            // Jobs run under `catch_unwind`, so a worker cannot have panicked.
            let _ = handle.join();
        }
    }
}

fn work<T>(shared: &Shared<T>, job: &(dyn Fn(usize) -> Result<T> + Send + Sync)) {
    loop {
        let position = {
            let mut state = shared.lock();
            loop {
                if state.stop || state.next_claim >= shared.total {
                    return;
                }
                if state.next_claim < state.next_deliver + shared.prefetch {
                    break;
                }
                state = shared.wait(state);
            }
            state.next_claim += 1;
            state.next_claim - 1
        };
        let result = catch_unwind(AssertUnwindSafe(|| job(position))).unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(Error::invalid(
                "loader",
                format!("worker panicked while loading batch {position}: {what}"),
            ))
        });
        let mut state = shared.lock();
        if state.stop {
            return;
        }
        state.ready.insert(position, result);
        shared.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn delivers_in_order_with_bounded_lookahead() {
        let max_seen = Arc::new(AtomicUsize::new(0));
        let delivered = Arc::new(AtomicUsize::new(0));
        let (m, d) = (Arc::clone(&max_seen), Arc::clone(&delivered));
        let job: Job<usize> = Arc::new(move |p| {
            // Position p may only start once p - prefetch batches were delivered.
            let ahead = p - d.load(Ordering::SeqCst).min(p);
            m.fetch_max(ahead, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis((7 * p % 5) as u64));
            Ok(p * 10)
        });
        let mut pf = Prefetcher::start(job, 20, 3, 4).unwrap();
        let mut got = Vec::new();
        while let Some(r) = pf.next() {
            got.push(r.unwrap());
            delivered.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(got, (0..20).map(|p| p * 10).collect::<Vec<_>>());
        assert!(
            max_seen.load(Ordering::SeqCst) <= 4,
            "lookahead {}",
            max_seen.load(Ordering::SeqCst)
        );
    }

    #[test]
    fn panics_become_errors() {
        let job: Job<usize> = Arc::new(|p| if p == 2 { panic!("boom at {p}") } else { Ok(p) });
        let mut pf = Prefetcher::start(job, 4, 2, 2).unwrap();
        assert_eq!(pf.next().unwrap().unwrap(), 0);
        assert_eq!(pf.next().unwrap().unwrap(), 1);
        let err = pf.next().unwrap().unwrap_err().to_string();
        assert!(
            err.contains("batch 2") && err.contains("boom at 2"),
            "{err}"
        );
        assert_eq!(pf.next().unwrap().unwrap(), 3);
        assert!(pf.next().is_none());
    }
}
