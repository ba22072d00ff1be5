//! The batch loader: a [`Dataset`] → an iterator of [`Batch`]es per epoch.

mod collate;
mod prefetch;

use std::sync::Arc;

use candle_core::Device;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use collate::Batch;

use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::seeding::{derive_seed, Stream};
use collate::load_batch;
use prefetch::{Job, Prefetcher};

/// How a [`DataLoader`] batches, orders and prefetches (defaults: the course's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoaderConfig {
    /// Samples per batch.
    pub batch_size: usize,
    /// Draw a new sample order every epoch (training); off: index order.
    pub shuffle: bool,
    /// Seed of the per-epoch order and of every sample's augmentation.
    pub seed: u64,
    /// Background loading threads; 0 loads on the calling thread.
    pub num_workers: usize,
    /// Batches in flight (loading or loaded, not yet taken) with workers;
    /// values below `num_workers` leave workers idle.
    pub prefetch: usize,
    /// Drop the last, incomplete batch of an epoch.
    pub drop_last: bool,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        Self {
            batch_size: 128,
            shuffle: true,
            seed: 0,
            num_workers: 0,
            prefetch: 2,
            drop_last: false,
        }
    }
}

impl LoaderConfig {
    /// Checks the values, naming the field at fault.
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::invalid(
                "loader.batch_size",
                "must be at least 1, got 0",
            ));
        }
        if self.num_workers > 0 && self.prefetch == 0 {
            return Err(Error::invalid(
                "loader.prefetch",
                format!(
                    "must be at least 1 with num_workers = {}, got 0",
                    self.num_workers
                ),
            ));
        }
        Ok(())
    }

    /// The same settings for validation/test loaders: no shuffling, no dropped samples.
    pub fn for_evaluation(&self) -> Self {
        Self {
            shuffle: false,
            drop_last: false,
            ..self.clone()
        }
    }
}

/// The augmentation seed of sample `index` in `epoch`: the SplitMix64
/// chain `[epoch, index]` of [`crate::derive_seed`].
pub fn aug_seed(seed: u64, epoch: u64, index: usize) -> u64 {
    derive_seed(seed, Stream::chain(&[epoch, index as u64]))
}

/// Seed of the sample order of `epoch`; domain-separated from [`aug_seed`].
fn order_seed(seed: u64, epoch: u64) -> u64 {
    derive_seed(seed ^ 0x5348_5546_464c_4521, Stream::chain(&[epoch]))
}

/// Batches of a dataset, epoch by epoch.
///
/// * **Order.** Each epoch visits the loader's samples (the whole dataset or
///   an explicit index list) in a permutation drawn from `(seed, epoch)` when
///   `shuffle` is on, in index order otherwise; consecutive runs of
///   `batch_size` form the batches, the last one shorter unless `drop_last`.
/// * **Determinism.** Sample `i` of epoch `e` is loaded with
///   `aug_seed = `[`aug_seed`]`(seed, e, i)`, so batches are bit-identical
///   whatever `num_workers` is and whichever thread loaded them.
/// * **Background loading.** With `num_workers > 0`, worker threads load
///   whole batches ahead of the consumer, at most `prefetch` in flight, and
///   hand them over in order; with `num_workers == 0`
///   batches load on the calling thread on demand, as PyTorch does.
/// * **Resuming.** [`DataLoader::epoch_from`] starts an epoch at a batch
///   position without loading the batches before it.
/// * **Subsets.** [`DataLoader::with_indices`] restricts the loader to fixed
///   samples (`overfit_batches`), [`DataLoader::with_limit`] to the first
///   batches of every epoch (`limit_train_batches` and friends).
#[derive(Clone)]
pub struct DataLoader {
    dataset: Arc<dyn Dataset>,
    config: LoaderConfig,
    device: Device,
    /// Samples to visit; `None`: all of `0..dataset.len()`.
    indices: Option<Arc<[usize]>>,
    /// At most this many batches per epoch.
    limit: Option<usize>,
}

impl DataLoader {
    /// A loader over all samples of `dataset`, producing tensors on `device`.
    pub fn new(dataset: Arc<dyn Dataset>, config: LoaderConfig, device: &Device) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            dataset,
            config,
            device: device.clone(),
            indices: None,
            limit: None,
        })
    }

    /// Restricts the loader to these dataset indices (shuffled among
    /// themselves when `shuffle` is on); an index out of range is an error.
    pub fn with_indices(mut self, indices: Vec<usize>) -> Result<Self> {
        let len = self.dataset.len();
        if let Some((pos, &i)) = indices.iter().enumerate().find(|(_, &i)| i >= len) {
            return Err(Error::invalid(
                "loader indices",
                format!(
                    "index {i} at position {pos} is out of range for a dataset of {len} samples"
                ),
            ));
        }
        self.indices = Some(indices.into());
        Ok(self)
    }

    /// Keeps only the first `max_batches` batches of every epoch.
    pub fn with_limit(mut self, max_batches: usize) -> Self {
        self.limit = Some(max_batches);
        self
    }

    /// The settings this loader runs with.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// The dataset it reads.
    pub fn dataset(&self) -> &Arc<dyn Dataset> {
        &self.dataset
    }

    /// Samples an epoch draws its batches from (before `drop_last` and the limit).
    pub fn num_samples(&self) -> usize {
        self.indices
            .as_ref()
            .map_or(self.dataset.len(), |ix| ix.len())
    }

    /// Batches per epoch, after `drop_last` and the limit.
    pub fn num_batches(&self) -> usize {
        let (n, bs) = (self.num_samples(), self.config.batch_size);
        let full = if self.config.drop_last {
            n / bs
        } else {
            n.div_ceil(bs)
        };
        self.limit.map_or(full, |l| full.min(l))
    }

    /// The order in which `epoch` visits the samples (dataset indices).
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = match &self.indices {
            Some(ix) => ix.to_vec(),
            None => (0..self.dataset.len()).collect(),
        };
        if self.config.shuffle {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(order_seed(
                self.config.seed,
                epoch,
            )));
        }
        order
    }

    /// All batches of `epoch`.
    pub fn epoch(&self, epoch: u64) -> Epoch {
        self.start(epoch, 0)
    }

    /// The batches of `epoch` from position `start_batch` on (what a trainer
    /// resuming mid-epoch needs): identical to the tail of [`Self::epoch`],
    /// and the skipped batches are never loaded. `start_batch` may equal
    /// [`Self::num_batches`] (nothing left); beyond it is an error.
    pub fn epoch_from(&self, epoch: u64, start_batch: usize) -> Result<Epoch> {
        let total = self.num_batches();
        if start_batch > total {
            return Err(Error::invalid(
                "start batch",
                format!("cannot resume at batch {start_batch}: an epoch has only {total} batches"),
            ));
        }
        Ok(self.start(epoch, start_batch))
    }

    fn start(&self, epoch: u64, start_batch: usize) -> Epoch {
        let bs = self.config.batch_size;
        let order = self.epoch_order(epoch);
        let batches: Arc<[Vec<usize>]> = order
            .chunks(bs)
            .take(self.num_batches())
            .skip(start_batch)
            .map(<[usize]>::to_vec)
            .collect();
        let (dataset, device, seed) = (
            Arc::clone(&self.dataset),
            self.device.clone(),
            self.config.seed,
        );
        let job: Job<Batch> = Arc::new(move |pos| {
            let indices = &batches[pos];
            load_batch(
                &*dataset,
                indices,
                |i| aug_seed(seed, epoch, i),
                &device,
                epoch,
                start_batch + pos,
            )
        });
        let total = self.num_batches() - start_batch;
        let source = if self.config.num_workers == 0 || total == 0 {
            Source::Inline {
                job,
                next: 0,
                total,
            }
        } else {
            match Prefetcher::start(
                Arc::clone(&job),
                total,
                self.config.num_workers,
                self.config.prefetch,
            ) {
                Ok(p) => Source::Workers(p),
                Err(e) => {
                    tracing::warn!("{e}; loading on the calling thread instead");
                    Source::Inline {
                        job,
                        next: 0,
                        total,
                    }
                }
            }
        };
        Epoch { source }
    }
}

/// The batches of one epoch, in order; each is `Ok(batch)` or the error of
/// its first failing sample. Dropping it early stops and joins its workers.
pub struct Epoch {
    source: Source,
}

enum Source {
    Inline {
        job: Job<Batch>,
        next: usize,
        total: usize,
    },
    Workers(Prefetcher<Batch>),
}

impl Iterator for Epoch {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        match &mut self.source {
            Source::Inline { job, next, total } => {
                if *next >= *total {
                    return None;
                }
                *next += 1;
                Some(job(*next - 1))
            }
            Source::Workers(p) => p.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = match &self.source {
            Source::Inline { next, total, .. } => total - next,
            Source::Workers(p) => p.remaining(),
        };
        (left, Some(left))
    }
}

impl ExactSizeIterator for Epoch {}

#[cfg(test)]
mod seed_tests {
    use super::{aug_seed, order_seed};

    /// Values of the loader's own SplitMix64 chains before they moved to
    /// `crate::seeding`: augmentations and sample orders depend on them.
    #[test]
    fn loader_seeds_are_the_historical_values() {
        let aug = [
            ((0, 0, 0), 0x2382_75bc_38fc_be91),
            ((42, 0, 0), 0x6310_bf04_d820_7f46),
            ((42, 3, 17), 0x9e5f_c771_d786_b599),
            ((u64::MAX, 1, 5), 0xbd67_26cf_886f_2317),
            ((7, 100, 12345), 0x82ac_c8d5_e045_743e),
        ];
        for ((s, e, i), want) in aug {
            assert_eq!(aug_seed(s, e, i), want, "aug_seed({s}, {e}, {i})");
        }
        let order = [
            ((0, 0), 0x7959_36fd_0569_4c57),
            ((42, 0), 0xcab6_3efe_10a7_0392),
            ((42, 3), 0xcfb0_c795_3694_7a0f),
            ((u64::MAX, 1), 0xf237_79c7_9c7e_e4f8),
            ((7, 100), 0xb76b_f337_5c10_2aab),
        ];
        for ((s, e), want) in order {
            assert_eq!(order_seed(s, e), want, "order_seed({s}, {e})");
        }
    }
}
