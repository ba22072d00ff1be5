//! The model worker: one thread owns the recogniser, takes up to
//! `max_batch` waiting requests — waiting at most `batch_wait` after the
//! first for others — and reads them in one batch.
//!
//! Requests reach it through a bounded channel; each carries its admission
//! slot ([`crate::state::Slot`]), so a request's memory
//! (its decoded image) is counted until the worker has dropped it, even
//! when its client already had a 504. Requests whose client has gone (a
//! timeout, a closed connection) are dropped unread when taken.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{
    sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError,
};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::DynamicImage;
use tokio::sync::oneshot;

use crate::error::{ApiError, Reason};
use crate::metrics::Metrics;
use crate::model::{ReadAs, Reading, Recognize};
use crate::state::Slot;

/// What the worker answers for one request.
#[derive(Clone, Debug)]
pub struct Done {
    pub reading: Reading,
    /// Time between queueing and the start of its batch.
    pub queued: Duration,
    /// Preprocessing and model time of the request's batch.
    pub preprocess: Duration,
    pub model: Duration,
    /// Requests in that batch.
    pub batch_size: usize,
}

struct Job {
    image: DynamicImage,
    read_as: ReadAs,
    queued_at: Instant,
    reply: oneshot::Sender<Result<Done, ApiError>>,
    _slot: Slot,
}

/// The sending side, held by the router's state.
#[derive(Clone)]
pub struct Batcher {
    tx: SyncSender<Job>,
    capacity: usize,
    metrics: Arc<Metrics>,
}

/// How the worker batches.
#[derive(Clone, Copy, Debug)]
pub struct BatchSettings {
    pub max_batch: usize,
    pub wait: Duration,
    /// Channel capacity (= admitted requests, so it is never the limit).
    pub capacity: usize,
}

impl Batcher {
    /// Starts the worker thread owning `model`. It stops when every
    /// [`Batcher`] clone is dropped and the queue is empty.
    pub fn start(
        model: Box<dyn Recognize>,
        settings: BatchSettings,
        metrics: Arc<Metrics>,
    ) -> crate::Result<(Self, JoinHandle<()>)> {
        let (tx, rx) = sync_channel(settings.capacity.max(1));
        let m = metrics.clone();
        let handle = std::thread::Builder::new()
            .name("tr-serve-model".into())
            .spawn(move || run_worker(model.as_ref(), rx, settings, &m))
            .map_err(|source| crate::Error::Io {
                what: "starting the model worker thread".into(),
                source,
            })?;
        Ok((
            Self {
                tx,
                capacity: settings.capacity,
                metrics,
            },
            handle,
        ))
    }

    /// Queues `image`, to be read as `read_as` says; the answer arrives
    /// on the returned receiver.
    pub fn submit(
        &self,
        image: DynamicImage,
        read_as: ReadAs,
        slot: Slot,
    ) -> Result<oneshot::Receiver<Result<Done, ApiError>>, ApiError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            image,
            read_as,
            queued_at: Instant::now(),
            reply,
            _slot: slot,
        };
        self.metrics.add_queue_depth(1);
        match self.tx.try_send(job) {
            Ok(()) => Ok(rx),
            Err(e) => {
                self.metrics.add_queue_depth(-1);
                Err(match e {
                    TrySendError::Full(_) => {
                        ApiError::queue_full(self.capacity, Duration::from_secs(1))
                    }
                    TrySendError::Disconnected(_) => {
                        ApiError::new(Reason::Internal, "the model worker has stopped")
                    }
                })
            }
        }
    }
}

fn run_worker(
    model: &dyn Recognize,
    rx: Receiver<Job>,
    settings: BatchSettings,
    metrics: &Metrics,
) {
    // Whether a batch ran since the worker last gave freed memory back.
    let mut worked = false;
    loop {
        let first = match rx.try_recv() {
            Ok(job) => job,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                if std::mem::take(&mut worked) {
                    release_idle_memory();
                }
                match rx.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            }
        };
        worked = true;
        let mut batch = vec![first];
        let deadline = Instant::now() + settings.wait;
        while batch.len() < settings.max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(job) => batch.push(job),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        metrics.add_queue_depth(-(batch.len() as i64));
        // Clients that timed out or hung up get nothing: do not read their images.
        batch.retain(|j| !j.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        run_batch(model, batch, metrics);
    }
    tracing::debug!("model worker stopped");
}

/// Nothing is waiting: hands the freed memory of the last batches (decoded
/// images, activations, beam buffers) back to the system, so the server's
/// RSS falls back between bursts instead of staying at its high-water mark.
fn release_idle_memory() {
    let before = tr_kernels::heap_stats();
    let released = tr_kernels::release_free_memory();
    if let (Some(b), Some(a)) = (before, tr_kernels::heap_stats()) {
        tracing::debug!(
            released,
            in_use_mb = a.in_use as f64 / 1e6,
            free_before_mb = b.free as f64 / 1e6,
            free_after_mb = a.free as f64 / 1e6,
            "model worker idle: freed memory released"
        );
    }
}

fn run_batch(model: &dyn Recognize, batch: Vec<Job>, metrics: &Metrics) {
    let started = Instant::now();
    let images: Vec<DynamicImage> = batch.iter().map(|j| j.image.clone()).collect();
    let read_as: Vec<ReadAs> = batch.iter().map(|j| j.read_as).collect();
    let n = batch.len();
    match guarded(model, &images, &read_as) {
        Ok((readings, timings)) if readings.len() == n => {
            metrics.record_batch(n, started.elapsed());
            for (job, reading) in batch.into_iter().zip(readings) {
                let done = Done {
                    reading,
                    queued: started.saturating_duration_since(job.queued_at),
                    preprocess: timings.preprocess,
                    model: timings.model,
                    batch_size: n,
                };
                let _ = job.reply.send(Ok(done));
            }
        }
        result => {
            if n == 1 {
                let message = match result {
                    Ok((p, _)) => format!("the model gave {} predictions for 1 image", p.len()),
                    Err(e) => e,
                };
                metrics.record_batch(1, started.elapsed());
                for job in batch {
                    tracing::warn!(error = %message, "prediction failed");
                    let _ = job
                        .reply
                        .send(Err(ApiError::new(Reason::Internal, message.clone())));
                }
                return;
            }
            // One image failed the batch: read them one by one so the others still get answers.
            for job in batch {
                run_batch(model, vec![job], metrics);
            }
        }
    }
}

/// The model's answer, with a panic turned into an error message.
fn guarded(
    model: &dyn Recognize,
    images: &[DynamicImage],
    read_as: &[ReadAs],
) -> Result<(Vec<Reading>, tr_infer::BatchTimings), String> {
    match catch_unwind(AssertUnwindSafe(|| model.predict_batch(images, read_as))) {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => Err(format!("recognition failed: {e}")),
        Err(_) => Err("recognition failed: the model panicked on this image".to_string()),
    }
}
