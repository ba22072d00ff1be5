//! Behaviour of the batch loader: order, shuffling, determinism across worker
//! counts, resuming, subsets, collation and error propagation.
#![cfg(feature = "full")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use candle_core::Device;
use image::{GrayImage, Luma};
use tr_data::datasets::{Dataset, Sample, Target};
use tr_data::{aug_seed, Batch, DataLoader, LoaderConfig};
use tr_data::{Error, Result};

/// `len` 3x4 images whose pixels encode `(index, aug_seed)`; class target
/// `index % 10` (or a sequence `[index, index + 1, 3]`). Counts `get` calls.
struct Toy {
    len: usize,
    sequences: bool,
    fail_at: Option<usize>,
    odd_size_at: Option<usize>,
    calls: AtomicUsize,
}

impl Toy {
    fn new(len: usize) -> Self {
        Self {
            len,
            sequences: false,
            fail_at: None,
            odd_size_at: None,
            calls: AtomicUsize::new(0),
        }
    }
}

impl Dataset for Toy {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize, aug_seed: u64) -> Result<Sample> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail_at == Some(index) {
            return Err(Error::format("toy.bin", "corrupt record"));
        }
        let w = if self.odd_size_at == Some(index) {
            5
        } else {
            4
        };
        let image = GrayImage::from_fn(w, 3, |x, y| {
            Luma([(index as u64 * 31 + aug_seed.rotate_left(x + 4 * y) % 97) as u8])
        });
        let target = if self.sequences {
            Target::Sequence(vec![index as u32, index as u32 + 1, 3])
        } else {
            Target::Class((index % 10) as u32)
        };
        Ok(Sample { image, target })
    }
}

fn config(batch_size: usize, shuffle: bool, num_workers: usize, prefetch: usize) -> LoaderConfig {
    LoaderConfig {
        batch_size,
        shuffle,
        seed: 42,
        num_workers,
        prefetch,
        drop_last: false,
    }
}

fn loader(ds: Toy, cfg: LoaderConfig) -> DataLoader {
    DataLoader::new(Arc::new(ds), cfg, &Device::Cpu).unwrap()
}

/// Everything observable about a batch, for exact comparisons.
#[derive(Debug, PartialEq)]
struct Seen {
    indices: Vec<usize>,
    batch_index: usize,
    images: Vec<f32>,
    image_dims: Vec<usize>,
    targets: Vec<u32>,
}

fn seen(b: &Batch) -> Seen {
    Seen {
        indices: b.indices.clone(),
        batch_index: b.batch_index,
        images: b.images.flatten_all().unwrap().to_vec1().unwrap(),
        image_dims: b.images.dims().to_vec(),
        targets: b.targets.flatten_all().unwrap().to_vec1().unwrap(),
    }
}

fn collect(l: &DataLoader, epoch: u64) -> Vec<Seen> {
    l.epoch(epoch).map(|b| seen(&b.unwrap())).collect()
}

#[test]
fn unshuffled_batches_follow_index_order() {
    let l = loader(Toy::new(10), config(4, false, 0, 1));
    assert_eq!(l.num_batches(), 3);
    let batches = collect(&l, 0);
    let idx: Vec<_> = batches.iter().map(|b| b.indices.clone()).collect();
    assert_eq!(idx, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
    assert_eq!(batches[0].image_dims, vec![4, 1, 3, 4]);
    assert_eq!(batches[2].image_dims, vec![2, 1, 3, 4]);
    assert_eq!(batches[1].targets, vec![4, 5, 6, 7]);
    assert_eq!(batches[2].batch_index, 2);
    // Pixel (0, 0) of sample 9 in epoch 0: (9 * 31 + seed % 97) / 255.
    let expected = ((9u64 * 31 + aug_seed(42, 0, 9) % 97) as u8) as f32 / 255.0;
    assert_eq!(batches[2].images[12], expected);
}

#[test]
fn drop_last_drops_the_short_batch() {
    let mut cfg = config(4, true, 0, 1);
    cfg.drop_last = true;
    let l = loader(Toy::new(10), cfg);
    assert_eq!(l.num_batches(), 2);
    let batches = collect(&l, 0);
    assert_eq!(batches.len(), 2);
    assert!(batches.iter().all(|b| b.indices.len() == 4));
}

#[test]
fn batches_are_identical_for_any_worker_count() {
    let reference = collect(&loader(Toy::new(37), config(5, true, 0, 1)), 3);
    assert_eq!(reference.len(), 8);
    for (workers, prefetch) in [(1, 1), (2, 2), (3, 5), (8, 2)] {
        let got = collect(&loader(Toy::new(37), config(5, true, workers, prefetch)), 3);
        assert_eq!(got, reference, "num_workers {workers}, prefetch {prefetch}");
    }
}

#[test]
fn every_epoch_is_a_new_permutation_and_reproducible() {
    let l = loader(Toy::new(50), config(8, true, 0, 1));
    let e0 = l.epoch_order(0);
    let e1 = l.epoch_order(1);
    assert_ne!(e0, e1);
    assert_ne!(e0, (0..50).collect::<Vec<_>>());
    let mut sorted = e1.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    assert_eq!(collect(&l, 1), collect(&l, 1));
    let flat: Vec<usize> = collect(&l, 1).into_iter().flat_map(|b| b.indices).collect();
    assert_eq!(flat, e1);
    // Another seed gives another order.
    let mut cfg = config(8, true, 0, 1);
    cfg.seed = 7;
    assert_ne!(loader(Toy::new(50), cfg).epoch_order(0), e0);
    // The same sample gets other augmentation randomness in another epoch.
    let unshuffled = loader(Toy::new(50), config(50, false, 0, 1));
    assert_ne!(
        collect(&unshuffled, 0)[0].images,
        collect(&unshuffled, 1)[0].images
    );
    assert_ne!(aug_seed(42, 0, 5), aug_seed(42, 1, 5));
    assert_ne!(aug_seed(42, 0, 5), aug_seed(42, 0, 6));
}

#[test]
fn resuming_equals_the_tail_without_loading_the_head() {
    for workers in [0, 2] {
        let full = collect(&loader(Toy::new(23), config(4, true, workers, 2)), 5);
        let ds = Arc::new(Toy::new(23));
        let l = DataLoader::new(ds.clone(), config(4, true, workers, 2), &Device::Cpu).unwrap();
        let tail: Vec<Seen> = l
            .epoch_from(5, 2)
            .unwrap()
            .map(|b| seen(&b.unwrap()))
            .collect();
        assert_eq!(tail, full[2..], "num_workers {workers}");
        assert_eq!(tail[0].batch_index, 2);
        // Batches 0 and 1 (8 samples) were skipped, not loaded.
        assert_eq!(ds.calls.load(Ordering::SeqCst), 23 - 8);
        assert_eq!(l.epoch_from(5, 6).unwrap().count(), 0);
        let err = l.epoch_from(5, 7).err().unwrap().to_string();
        assert!(
            err.contains("batch 7") && err.contains("only 6 batches"),
            "{err}"
        );
    }
}

#[test]
fn limit_and_explicit_indices_restrict_the_epoch() {
    let l = loader(Toy::new(100), config(8, true, 2, 2)).with_limit(3);
    assert_eq!(l.num_batches(), 3);
    let batches = collect(&l, 0);
    assert_eq!(batches.len(), 3);
    let flat: Vec<usize> = batches.iter().flat_map(|b| b.indices.clone()).collect();
    assert_eq!(flat, l.epoch_order(0)[..24]);

    let l = loader(Toy::new(100), config(2, false, 0, 1))
        .with_indices(vec![5, 3, 9])
        .unwrap();
    assert_eq!((l.num_samples(), l.num_batches()), (3, 2));
    let idx: Vec<_> = collect(&l, 4).into_iter().map(|b| b.indices).collect();
    assert_eq!(idx, vec![vec![5, 3], vec![9]]);
    // The same fixed samples every epoch (overfitting a few batches).
    assert_eq!(collect(&l, 0)[0].indices, collect(&l, 9)[0].indices);

    let err = loader(Toy::new(10), config(2, false, 0, 1))
        .with_indices(vec![1, 10])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("index 10 at position 1"), "{err}");
}

#[test]
fn sequence_targets_become_a_label_matrix() {
    let mut ds = Toy::new(5);
    ds.sequences = true;
    let l = loader(ds, config(3, false, 0, 1));
    let b = l.epoch(0).next().unwrap().unwrap();
    assert_eq!(b.targets.dims(), &[3, 3]);
    assert_eq!(
        b.targets.to_vec2::<u32>().unwrap(),
        vec![vec![0, 1, 3], vec![1, 2, 3], vec![2, 3, 3]]
    );
    assert_eq!(b.len(), 3);
}

#[test]
fn a_failing_sample_fails_only_its_batch() {
    for workers in [0, 3] {
        let mut ds = Toy::new(12);
        ds.fail_at = Some(7);
        let results: Vec<_> = loader(ds, config(4, false, workers, 2)).epoch(0).collect();
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok() && results[2].is_ok());
        let err = results[1].as_ref().unwrap_err().to_string();
        assert!(
            err.contains("sample 7") && err.contains("toy.bin: corrupt record"),
            "{err}"
        );
    }
    let mut ds = Toy::new(6);
    ds.odd_size_at = Some(4);
    let results: Vec<_> = loader(ds, config(3, false, 2, 2)).epoch(0).collect();
    let err = results[1].as_ref().unwrap_err().to_string();
    assert!(
        err.contains("sample 4") && err.contains("3x5") && err.contains("sample 3"),
        "{err}"
    );
}

#[test]
fn epoch_reports_its_exact_length() {
    let l = loader(Toy::new(10), config(3, false, 2, 2));
    let mut e = l.epoch(0);
    assert_eq!(e.len(), 4);
    e.next().unwrap().unwrap();
    assert_eq!(e.len(), 3);
    assert_eq!(l.epoch_from(0, 1).unwrap().len(), 3);
}

#[test]
fn config_is_validated_and_defaults_follow_the_course() {
    let d = LoaderConfig::default();
    assert_eq!(
        (d.batch_size, d.shuffle, d.num_workers, d.drop_last),
        (128, true, 0, false)
    );
    let parsed: LoaderConfig = serde_json::from_str(r#"{"batch_size": 32}"#).unwrap();
    assert_eq!(
        parsed,
        LoaderConfig {
            batch_size: 32,
            ..LoaderConfig::default()
        }
    );
    assert!(serde_json::from_str::<LoaderConfig>(r#"{"batchsize": 32}"#).is_err());
    let eval = LoaderConfig {
        drop_last: true,
        ..d.clone()
    }
    .for_evaluation();
    assert!(!eval.shuffle && !eval.drop_last);

    let bad = LoaderConfig {
        batch_size: 0,
        ..d.clone()
    };
    let err = DataLoader::new(Arc::new(Toy::new(3)), bad, &Device::Cpu)
        .err()
        .unwrap();
    assert!(err.to_string().contains("loader.batch_size"), "{err}");
    let bad = LoaderConfig {
        num_workers: 2,
        prefetch: 0,
        ..d
    };
    let err = DataLoader::new(Arc::new(Toy::new(3)), bad, &Device::Cpu)
        .err()
        .unwrap();
    assert!(err.to_string().contains("loader.prefetch"), "{err}");
}

#[test]
fn empty_dataset_gives_empty_epochs() {
    let l = loader(Toy::new(0), config(4, true, 2, 2));
    assert_eq!(l.num_batches(), 0);
    assert_eq!(l.epoch(0).count(), 0);
}
