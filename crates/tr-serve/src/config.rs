//! [`ServeConfig`]: where the server listens and the limits it enforces.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `htr serve` can be told, with its defaults.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to listen on (default `127.0.0.1:8080`: loopback only).
    pub addr: SocketAddr,
    /// Requests per model batch (default 8).
    pub max_batch: usize,
    /// How long the first request of a batch waits for others (default 5 ms).
    pub batch_wait: Duration,
    /// Requests that may wait for the model beyond the batch being run
    /// (default 64); one more is refused with 503 and `Retry-After`.
    pub queue: usize,
    /// Time from a request's arrival to its answer (default 30 s); past it, 504.
    pub timeout: Duration,
    /// Largest request body in bytes (default 16 MiB); larger bodies get 413.
    pub max_body_bytes: usize,
    /// Largest image, in pixels, read from its header before decoding
    /// (default [`tr_infer::DEFAULT_MAX_PIXELS`]); larger images get 413.
    pub max_pixels: u64,
    /// Where `POST /v1/flag` stores flagged images (`None`: flagging is off, 404).
    pub flag_dir: Option<PathBuf>,
    /// Most bytes of flags the flag directory may hold, counting the flags
    /// already there when the server starts (default 1 GiB); a flag past
    /// it gets 507.
    pub max_flag_bytes: u64,
    /// Stop on Ctrl-C / SIGTERM (what `htr serve` wants; tests turn it off).
    pub handle_signals: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_batch: 8,
            batch_wait: Duration::from_millis(5),
            queue: 64,
            timeout: Duration::from_secs(30),
            max_body_bytes: 16 << 20,
            max_pixels: tr_infer::DEFAULT_MAX_PIXELS,
            flag_dir: None,
            max_flag_bytes: 1 << 30,
            handle_signals: false,
        }
    }
}

impl ServeConfig {
    /// Refuses settings the server cannot work with.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |field: &str, message: String| {
            Err(crate::Error::Config {
                field: field.to_string(),
                message,
            })
        };
        if self.max_batch == 0 {
            return bad("max_batch", "must be at least 1, got 0".into());
        }
        if self.queue == 0 {
            return bad("queue", "must be at least 1, got 0".into());
        }
        if self.timeout.is_zero() {
            return bad("timeout", "must be above 0 ms".into());
        }
        if self.max_body_bytes < 1024 {
            return bad(
                "max_body_bytes",
                format!(
                    "{} is too small for any image; use at least 1024",
                    self.max_body_bytes
                ),
            );
        }
        if self.max_pixels == 0 {
            return bad("max_pixels", "must be at least 1, got 0".into());
        }
        Ok(())
    }

    /// Requests admitted at once: the ones waiting plus a batch being run.
    pub fn admitted(&self) -> usize {
        self.queue + self.max_batch
    }
}
