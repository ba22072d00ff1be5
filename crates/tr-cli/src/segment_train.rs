//! `htr segment-train`: train the U-Net line segmenter on the line
//! polygons and baselines of page collections (`tr_train::train_segmenter`).
//!
//! ```text
//! htr segment-train --config configs/segmenter/unet_hooker.yaml --out models/segmenter
//!                   [--steps N] [--max-minutes M]
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tr_train::{train_segmenter, SegmenterConfig};

/// Arguments of `htr segment-train`.
#[derive(Args, Debug, Clone)]
pub struct SegmentTrainArgs {
    /// Segmenter config (YAML).
    #[arg(long)]
    pub config: PathBuf,
    /// Folder for `unet.safetensors` and `segmenter.json`.
    #[arg(long)]
    pub out: PathBuf,
    /// Override the config's number of steps.
    #[arg(long)]
    pub steps: Option<usize>,
    /// Stop after this many minutes.
    #[arg(long)]
    pub max_minutes: Option<f64>,
}

/// Runs `htr segment-train`, printing the summary as JSON.
pub fn run(args: &SegmentTrainArgs, out: &mut dyn std::io::Write) -> Result<()> {
    let mut cfg = SegmenterConfig::load(&args.config)
        .with_context(|| format!("--config {}", args.config.display()))?;
    if let Some(s) = args.steps {
        cfg.steps = s;
    }
    if let Some(m) = args.max_minutes {
        cfg.max_minutes = m;
    }
    let summary = train_segmenter(&cfg, &args.out).context("training the segmenter")?;
    writeln!(out, "{}", serde_json::to_string(&summary)?)?;
    Ok(())
}
