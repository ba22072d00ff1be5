//! Training the line segmenter (`tr_models::UNet`) on the line polygons and
//! baselines of page collections: `htr segment-train --config FILE`.
//!
//! ```yaml
//! name: unet-hooker
//! roots: [../shared/data/htr/hooker]
//! max_side: 512          # pages reduced so the longer side is at most this
//! baseline_radius: 1.5
//! model: { base: 16, depth: 3, out_channels: 2, batch_norm: true }
//! steps: 20000
//! lr: 0.001
//! val_every: 500
//! seed: 42
//! ```
//!
//! The loop is deliberately small: one page per step (pages differ in
//! size), AdamW, the mean binary cross-entropy of both masks
//! (`tr_models::mask_loss`); every `val_every` steps (and at the end) the
//! validation pages' loss and line-body IoU are logged and the weights
//! written to `<out>/unet.safetensors` with `<out>/segmenter.json` (the
//! config), atomically. `max_minutes` stops it early (smoke runs).

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use image::GrayImage;
use serde::{Deserialize, Serialize};
use tr_data::datasets::{load_page_masks, PageMaskOptions, PageMaskSample};
use tr_models::params::trainable_vars;
use tr_models::{mask_loss, seeded_var_builder, UNet, UNetConfig};

use crate::error::{Error, Result};

/// The segmenter's training config (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmenterConfig {
    pub name: String,
    pub roots: Vec<PathBuf>,
    pub max_side: u32,
    pub baseline_radius: f32,
    pub model: UNetConfig,
    pub steps: usize,
    pub lr: f64,
    pub val_every: usize,
    pub seed: u64,
    /// Stop after this many minutes (0 = no limit).
    pub max_minutes: f64,
}

impl Default for SegmenterConfig {
    fn default() -> Self {
        Self {
            name: "unet".into(),
            roots: Vec::new(),
            max_side: 512,
            baseline_radius: 1.5,
            model: UNetConfig::default(),
            steps: 20_000,
            lr: 1e-3,
            val_every: 500,
            seed: 42,
            max_minutes: 0.0,
        }
    }
}

impl SegmenterConfig {
    /// Reads a YAML config file (unknown keys are errors).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_yaml::from_str(&text)
            .map_err(|e| Error::config(path.display().to_string(), e.to_string()))
    }
}

/// What a training run ended with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmenterSummary {
    pub steps: usize,
    pub train_pages: usize,
    pub val_pages: usize,
    pub first_loss: f32,
    pub last_loss: f32,
    pub val_loss: f32,
    pub val_iou: f32,
    pub seconds: f64,
}

/// `(1, 1, H, W)` image and `(1, C, H, W)` targets of a sample.
fn tensors(s: &PageMaskSample, channels: usize) -> Result<(Tensor, Tensor)> {
    let (w, h) = s.image.dimensions();
    let to = |g: &GrayImage| -> Vec<f32> { g.iter().map(|&v| f32::from(v) / 255.0).collect() };
    let x = Tensor::from_vec(to(&s.image), (1, 1, h as usize, w as usize), &Device::Cpu)?;
    let mut t = to(&s.body);
    if channels > 1 {
        t.extend(to(&s.baseline));
    }
    let y = Tensor::from_vec(
        t,
        (1, channels.min(2), h as usize, w as usize),
        &Device::Cpu,
    )?;
    Ok((x, y))
}

/// Loss and line-body IoU (threshold 0.5) over `pages`.
fn evaluate(net: &UNet, pages: &[PageMaskSample], channels: usize) -> Result<(f32, f32)> {
    let (mut loss, mut inter, mut union) = (0f32, 0usize, 0usize);
    for s in pages {
        let (x, y) = tensors(s, channels)?;
        let logits = net.forward(&x)?;
        loss += mask_loss(&logits, &y)?.to_scalar::<f32>()?;
        let p: Vec<f32> = candle_nn::ops::sigmoid(&logits.narrow(1, 0, 1)?)?
            .flatten_all()?
            .to_vec1()?;
        for (&a, &b) in p.iter().zip(s.body.iter()) {
            let (a, b) = (a > 0.5, b > 127);
            inter += usize::from(a && b);
            union += usize::from(a || b);
        }
    }
    let n = pages.len().max(1) as f32;
    Ok((
        loss / n,
        if union == 0 {
            1.0
        } else {
            inter as f32 / union as f32
        },
    ))
}

/// Trains the segmenter of `cfg`, writing it into `out`.
pub fn train_segmenter(cfg: &SegmenterConfig, out: &Path) -> Result<SegmenterSummary> {
    if cfg.roots.is_empty() {
        return Err(Error::config(
            "roots",
            "name at least one page collection folder",
        ));
    }
    if cfg.model.out_channels > 2 {
        return Err(Error::config(
            "model.out_channels",
            format!(
                "1 (body) or 2 (body, baseline), got {}",
                cfg.model.out_channels
            ),
        ));
    }
    let opts = PageMaskOptions {
        max_side: cfg.max_side,
        multiple: 1 << cfg.model.depth,
        baseline_radius: cfg.baseline_radius,
        ..PageMaskOptions::default()
    };
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for root in &cfg.roots {
        train.extend(load_page_masks(root, 0, &opts)?);
        val.extend(load_page_masks(root, 1, &opts)?);
    }
    tracing::info!(
        "segmenter: {} train pages, {} val pages",
        train.len(),
        val.len()
    );
    let varmap = VarMap::new();
    let vb = seeded_var_builder(&varmap, cfg.seed, DType::F32, &Device::Cpu);
    let net = UNet::new(&cfg.model, vb)?;
    let vars = trainable_vars(&varmap)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: cfg.lr,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let channels = cfg.model.out_channels;
    let t0 = Instant::now();
    let mut first = None;
    let mut summary = None;
    let mut step = 0;
    while step < cfg.steps {
        let s = &train[step % train.len()];
        let (x, y) = tensors(s, channels)?;
        let loss = mask_loss(&net.forward_t(&x, true)?, &y)?;
        opt.backward_step(&loss)?;
        let last = loss.to_scalar::<f32>()?;
        first.get_or_insert(last);
        step += 1;
        let out_of_time =
            cfg.max_minutes > 0.0 && t0.elapsed().as_secs_f64() > cfg.max_minutes * 60.0;
        if step % cfg.val_every.max(1) == 0 || step == cfg.steps || out_of_time {
            let (val_loss, val_iou) = evaluate(&net, &val, channels)?;
            tracing::info!("segmenter step {step}: train loss {last:.4}, val loss {val_loss:.4}, val body IoU {val_iou:.3}");
            save(&varmap, cfg, out)?;
            summary = Some(SegmenterSummary {
                steps: step,
                train_pages: train.len(),
                val_pages: val.len(),
                first_loss: first.unwrap_or(last),
                last_loss: last,
                val_loss,
                val_iou,
                seconds: t0.elapsed().as_secs_f64(),
            });
        }
        if out_of_time {
            break;
        }
    }
    summary.ok_or_else(|| Error::config("steps", "must be at least 1"))
}

/// Writes `unet.safetensors` and `segmenter.json` into `out` (temp file + rename).
fn save(varmap: &VarMap, cfg: &SegmenterConfig, out: &Path) -> Result<()> {
    let weights = out.join("unet.safetensors");
    let tmp = out.join(format!(".unet.safetensors.{}", std::process::id()));
    varmap.save(&tmp)?;
    std::fs::rename(&tmp, &weights).map_err(|e| Error::io(&weights, e))?;
    let json = serde_json::to_string_pretty(cfg)
        .map_err(|e| Error::config("segmenter.json", e.to_string()))?;
    let path = out.join("segmenter.json");
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    Ok(())
}
