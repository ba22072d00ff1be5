//! [`AppState`]: what every handler shares — the model worker's queue, the
//! admission slots, the settings, the metrics and the flag store.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::batcher::{BatchSettings, Batcher};
use crate::config::ServeConfig;
use crate::error::ApiError;
use crate::flag::FlagStore;
use crate::metrics::Metrics;
use crate::model::{ModelInfo, Recognize};

/// The router's state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Shared>,
}

pub(crate) struct Shared {
    pub batcher: Batcher,
    pub admission: Arc<Semaphore>,
    pub config: ServeConfig,
    pub metrics: Arc<Metrics>,
    pub info: ModelInfo,
    pub flags: Option<Arc<FlagStore>>,
    pub started: Instant,
}

/// An admitted request's slot: freed (and `htr_in_flight` lowered) when dropped.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.metrics.add_in_flight(-1);
    }
}

impl AppState {
    /// Starts the model worker owning `model`; returns the state and the
    /// worker's thread (it ends once every clone of the state is dropped).
    pub fn new(
        config: &ServeConfig,
        model: impl Recognize,
    ) -> crate::Result<(Self, JoinHandle<()>)> {
        config.validate()?;
        let metrics = Arc::new(Metrics::default());
        let info = model.info();
        let (batcher, worker) = Batcher::start(
            Box::new(model),
            BatchSettings {
                max_batch: config.max_batch,
                wait: config.batch_wait,
                capacity: config.admitted(),
            },
            metrics.clone(),
        )?;
        let flags = config
            .flag_dir
            .clone()
            .map(|d| Arc::new(FlagStore::with_limit(d, config.max_flag_bytes)));
        Ok((
            Self {
                inner: Arc::new(Shared {
                    batcher,
                    admission: Arc::new(Semaphore::new(config.admitted())),
                    config: config.clone(),
                    metrics,
                    info,
                    flags,
                    started: Instant::now(),
                }),
            },
            worker,
        ))
    }

    /// Takes an admission slot, or refuses with 503 and `Retry-After`.
    pub(crate) fn admit(&self) -> Result<Slot, ApiError> {
        let permit = self
            .inner
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::queue_full(self.inner.config.admitted(), self.retry_after()))?;
        self.inner.metrics.add_in_flight(1);
        Ok(Slot {
            _permit: permit,
            metrics: self.inner.metrics.clone(),
        })
    }

    /// The `Retry-After` of a 503: a full queue drains in well under a second
    /// at the default settings, so clients come back after 1 s.
    fn retry_after(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// The metrics the handlers and the worker update.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The settings the state was made with.
    pub fn config(&self) -> &ServeConfig {
        &self.inner.config
    }
}
