//! The loader's worker threads: bounded look-ahead and a clean shutdown when
//! an epoch is dropped half-way. Its own test binary (= process), so the
//! thread census below sees no other test's loader threads.
#![cfg(feature = "full")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::Device;
use image::GrayImage;
use tr_data::datasets::{Dataset, Sample, Target};
use tr_data::Result;
use tr_data::{DataLoader, LoaderConfig};

/// A dataset whose samples take 5 ms each to load.
struct Slow {
    calls: AtomicUsize,
}

impl Dataset for Slow {
    fn len(&self) -> usize {
        10_000
    }

    fn get(&self, index: usize, _aug_seed: u64) -> Result<Sample> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(5));
        Ok(Sample {
            image: GrayImage::new(8, 8),
            target: Target::Class(index as u32 % 3),
        })
    }
}

/// Names of this process's threads that belong to the loader.
fn loader_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
                .filter(|name| name.starts_with("tr-loader"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn dropping_an_epoch_midway_stops_its_workers() {
    let ds = Arc::new(Slow {
        calls: AtomicUsize::new(0),
    });
    let cfg = LoaderConfig {
        batch_size: 4,
        shuffle: true,
        seed: 1,
        num_workers: 3,
        prefetch: 3,
        drop_last: false,
    };
    let dyn_ds: Arc<dyn Dataset> = ds.clone();
    let loader = DataLoader::new(dyn_ds, cfg, &Device::Cpu).unwrap();
    let refs_before = Arc::strong_count(&ds);
    let mut epoch = loader.epoch(0);
    assert_eq!(epoch.len(), 2_500);
    for _ in 0..2 {
        assert_eq!(epoch.next().unwrap().unwrap().len(), 4);
    }
    if cfg!(target_os = "linux") {
        assert_eq!(loader_threads(), 3);
    }
    // Give the workers time to run ahead as far as they may.
    std::thread::sleep(Duration::from_millis(300));
    let loaded = ds.calls.load(Ordering::SeqCst);
    // 2 batches taken + at most 3 in flight, 4 samples each.
    assert!(
        loaded <= (2 + 3) * 4,
        "loaded {loaded} samples: look-ahead is unbounded"
    );
    assert!(loaded > 2 * 4, "workers did not prefetch (loaded {loaded})");

    let t = Instant::now();
    drop(epoch);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        t.elapsed()
    );
    assert_eq!(
        Arc::strong_count(&ds),
        refs_before,
        "a worker still holds the dataset"
    );
    if cfg!(target_os = "linux") {
        assert_eq!(loader_threads(), 0);
    }
    let after = ds.calls.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        ds.calls.load(Ordering::SeqCst),
        after,
        "samples still loading after drop"
    );
}
