//! `htr serve`: the web page and the HTTP API of crate `tr-serve`.
//!
//! ```text
//! htr serve [--model DIR|owner/name|bundled] [--addr 127.0.0.1:8080] [--max-batch N]
//!           [--batch-wait-ms N] [--queue N] [--timeout-ms N] [--max-body-bytes N]
//!           [--max-pixels N] [--flag-dir DIR] [--max-flag-bytes N] [--beam N]
//!           [--segmenter DIR]
//! ```
//!
//! `--model` is resolved as in `htr predict` (the bundled English line model
//! by default). A line model reads pages too: an upload that looks like a
//! page (or asks `layout=page`) is segmented into lines — the classical
//! segmenter, or the trained one of `--segmenter` — and each line comes
//! back with its polygon. Binds loopback unless `--addr` says otherwise; stops on
//! Ctrl-C / SIGTERM after answering the requests in flight.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tr_infer::{MaskSegmenter, ParagraphTextRecognizer};
use tr_serve::ServeConfig;

use crate::predict::load_artifact;

/// Arguments of `htr serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Artifact directory, hub repository id (`owner/name`) or `bundled`.
    #[arg(long, default_value = "bundled")]
    pub model: String,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Requests read in one model batch.
    #[arg(long, default_value_t = 8)]
    pub max_batch: usize,
    /// How long the first request of a batch waits for more, in milliseconds.
    #[arg(long, default_value_t = 5)]
    pub batch_wait_ms: u64,
    /// Requests that may wait for the model beyond the running batch; more get 503.
    #[arg(long, default_value_t = 64)]
    pub queue: usize,
    /// Time from arrival to answer, in milliseconds; past it, 504.
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Largest request body in bytes; larger ones get 413.
    #[arg(long, default_value_t = 16 << 20)]
    pub max_body_bytes: usize,
    /// Largest image in pixels (checked on the header before decoding); larger ones get 413.
    #[arg(long, default_value_t = tr_infer::DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
    /// Where `POST /v1/flag` stores flagged images (a page-lines dataset).
    #[arg(long, default_value = "flags")]
    pub flag_dir: PathBuf,
    /// Most bytes of flags the flag directory may hold (flags already there
    /// included); a flag past it gets 507.
    #[arg(long, default_value_t = 1 << 30)]
    pub max_flag_bytes: u64,
    /// Beam search of this width (keeps the artifact's language model, if any).
    #[arg(long)]
    pub beam: Option<usize>,
    /// A trained line segmenter (`htr segment-train`) for pages, instead of
    /// the classical one (line models only).
    #[arg(long)]
    pub segmenter: Option<PathBuf>,
}

impl ServeArgs {
    /// The server settings these arguments ask for.
    pub fn config(&self) -> ServeConfig {
        ServeConfig {
            addr: self.addr,
            max_batch: self.max_batch,
            batch_wait: Duration::from_millis(self.batch_wait_ms),
            queue: self.queue,
            timeout: Duration::from_millis(self.timeout_ms),
            max_body_bytes: self.max_body_bytes,
            max_pixels: self.max_pixels,
            flag_dir: Some(self.flag_dir.clone()),
            max_flag_bytes: self.max_flag_bytes,
            handle_signals: true,
        }
    }
}

/// Runs `htr serve` until Ctrl-C or SIGTERM.
pub fn run(args: &ServeArgs) -> Result<()> {
    let config = args.config();
    config.validate().context("htr serve")?;
    let artifact = load_artifact(&args.model)?;
    let preprocessing = tr_infer::Preprocessing {
        max_pixels: args.max_pixels,
        ..tr_infer::Preprocessing::default()
    };
    // Line models as well: their pages are segmented, their lines batched.
    let mut r = ParagraphTextRecognizer::from_artifact(artifact)?
        .with_preprocessing(preprocessing)
        .with_batch_size(args.max_batch)?;
    if let Some(w) = args.beam {
        r.set_decoder(r.beam_decoder(w)).context("--beam")?;
    }
    if let Some(dir) = &args.segmenter {
        let trained =
            MaskSegmenter::load(dir).with_context(|| format!("--segmenter {}", dir.display()))?;
        r = r
            .with_mask_segmenter(trained)
            .context("--segmenter: the model reads whole paragraphs, it does not segment")?;
    }
    tr_serve::serve(&config, r)?;
    Ok(())
}
