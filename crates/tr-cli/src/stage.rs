//! `htr stage`: the best checkpoint of a run → an inference artifact.
//!
//! ```text
//! htr stage --run runs/<id> [--metric val_cer] [--f16] --out DIR
//!           [--beam N [--lm-text FILE [--lm-order 6] [--lm-alpha 0.5] [--lm-beta 1.0]]]
//! ```
//!
//! The checkpoint is chosen by `--metric` (default: the metric the run
//! monitored): every checkpoint in `checkpoints/` is matched, by its global
//! step, to the validation record of `metrics.jsonl` logged at that step,
//! and the best value wins (lowest, or highest for accuracies). The
//! model's input size and output length come from the run's data settings,
//! its vocabulary from the checkpoint (both must agree). The artifact format
//! is `tr_infer::artifact`; the model card records the data, the command
//! that reproduces the run, the metrics and the date.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use tr_data::DataDir;
use tr_infer::artifact::{write_artifact, ArtifactSpec, ModelCard, WeightsDType};
use tr_infer::DecoderConfig;
use tr_lit::Objective;
use tr_models::decoding::CharNgramLm;
use tr_models::DataSpec;
use tr_train::checkpoint::Checkpoint;
use tr_train::RunConfig;

/// Arguments of `htr stage`.
#[derive(Args, Debug, Clone)]
pub struct StageArgs {
    /// Run directory (`runs/<yyyymmdd-hhmmss>-<name>`).
    #[arg(long)]
    pub run: PathBuf,
    /// Validation metric that picks the checkpoint (default: the run's monitor).
    #[arg(long)]
    pub metric: Option<String>,
    /// Store the weights as f16 (half the size).
    #[arg(long)]
    pub f16: bool,
    /// Artifact directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite a non-empty output directory.
    #[arg(long)]
    pub force: bool,
    /// Default decoder: beam search of this width (default: greedy).
    #[arg(long)]
    pub beam: Option<usize>,
    /// Train a character n-gram LM on the lines of this text file and ship it
    /// for beam search (needs --beam).
    #[arg(long)]
    pub lm_text: Option<PathBuf>,
    /// Order of that LM.
    #[arg(long, default_value_t = 6)]
    pub lm_order: usize,
    /// LM weight (on natural-log probabilities).
    #[arg(long, default_value_t = 0.5)]
    pub lm_alpha: f32,
    /// Bonus per character (nats).
    #[arg(long, default_value_t = 1.0)]
    pub lm_beta: f32,
}

/// The checkpoint a metric picked.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub path: PathBuf,
    pub metric: String,
    pub score: f64,
    pub step: u64,
}

/// Runs `htr stage`, printing the artifact directory.
pub fn run(args: &StageArgs, out: &mut dyn std::io::Write) -> Result<()> {
    check_out_dir(&args.out, args.force)?;
    let metric = match &args.metric {
        Some(m) => m.clone(),
        None => default_metric(&args.run)?,
    };
    let sel = select_checkpoint(&args.run, &metric)?;
    tracing::info!(
        "staging {} ({} = {:.4} at step {})",
        sel.path.display(),
        sel.metric,
        sel.score,
        sel.step
    );
    let ckpt = Checkpoint::load(&sel.path, &candle_core::Device::Cpu)
        .with_context(|| format!("loading checkpoint {}", sel.path.display()))?;
    let config = RunConfig::from_tree(ckpt.config.clone())
        .with_context(|| format!("{}: reading the run config it carries", sel.path.display()))?;
    if config.model.name() != ckpt.model_name {
        bail!(
            "{}: holds a {} model but its config describes {}",
            sel.path.display(),
            ckpt.model_name,
            config.model.name()
        );
    }
    let data = config
        .data
        .dataset
        .build(&DataDir::resolve(config.data.data_dir.as_deref()))
        .context(
            "building the run's data module (needed for the model's input size and output length)",
        )?;
    data.vocab
        .ensure_same(&ckpt.vocab, &sel.path.display().to_string())
        .context("the checkpoint's vocabulary differs from its data's")?;
    let spec = DataSpec::new(data.input_shape, ckpt.vocab.clone(), data.output_len);

    let objective = config
        .lit
        .objective
        .unwrap_or_else(|| Objective::default_for(config.model.task()));
    let decoder = match (objective, args.beam) {
        (Objective::Positional, None) => DecoderConfig::Positional,
        (Objective::Positional, Some(_)) => {
            bail!("--beam: the model was trained with per-position cross-entropy, it has no CTC outputs to search")
        }
        (_, Some(width)) => DecoderConfig::beam(width),
        (_, None) => DecoderConfig::Greedy,
    };
    let (decoder, lm) = match &args.lm_text {
        None => (decoder, None),
        Some(path) => {
            let DecoderConfig::Beam { width, .. } = decoder else {
                bail!("--lm-text: a language model is used by beam search; add --beam N");
            };
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading LM text {}", path.display()))?;
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let lm = CharNgramLm::train(args.lm_order, lines.iter().copied())
                .with_context(|| format!("training the LM on {}", path.display()))?;
            tracing::info!(
                "trained an order-{} character LM on {} lines",
                args.lm_order,
                lines.len()
            );
            let cfg = tr_infer::decoder::LmConfig {
                file: tr_infer::artifact::LM_FILE.to_string(),
                alpha: args.lm_alpha,
                beta: args.lm_beta,
                bytes: None,
                sha256: None,
            };
            (
                DecoderConfig::Beam {
                    width,
                    lm: Some(cfg),
                },
                Some(lm),
            )
        }
    };

    let summary = read_json(&args.run.join("summary.json"));
    let mut metrics = BTreeMap::new();
    metrics.insert(sel.metric.clone(), sel.score);
    if let Some(s) = &summary {
        for key in ["test"] {
            if let Some(map) = s.get(key).and_then(|v| v.as_object()) {
                metrics.extend(
                    map.iter()
                        .filter_map(|(k, v)| v.as_f64().map(|v| (k.clone(), v))),
                );
            }
        }
    }
    let dataset = serde_json::to_string(&config.data.dataset).unwrap_or_default();
    let mut notes = vec![
        format!("run: {}", args.run.display()),
        format!("checkpoint: {} (step {})", sel.path.display(), sel.step),
    ];
    if let Some(commit) = summary
        .as_ref()
        .and_then(|s| s.get("git_commit"))
        .and_then(|c| c.as_str())
    {
        notes.push(format!("git commit: {commit}"));
    }
    let card = ModelCard {
        name: config.name.clone(),
        data: format!(
            "`{}`: {} train / {} val / {} test samples, input {:?}. Settings: `{dataset}`. {}",
            data.name,
            data.train.len(),
            data.val.len(),
            data.test.len(),
            data.input_shape,
            data.notes.join("; ")
        ),
        command: format!(
            "htr fit --config {}",
            args.run.join("config.yaml").display()
        ),
        metrics,
        date: chrono::Local::now().to_rfc3339(),
        notes,
    };
    let spec = ArtifactSpec {
        decoder,
        lm,
        weights_dtype: if args.f16 {
            WeightsDType::F16
        } else {
            WeightsDType::F32
        },
        card,
        provenance: serde_json::json!({
            "run": args.run,
            "checkpoint": sel.path,
            "metric": sel.metric,
            "score": sel.score,
            "global_step": sel.step,
            "dataset": config.data.dataset,
        }),
        ..ArtifactSpec::new(config.model.clone(), &spec)
    };
    write_artifact(&args.out, &spec, &ckpt.weights)
        .with_context(|| format!("writing the artifact to {}", args.out.display()))?;
    writeln!(
        out,
        "staged {} ({} = {:.4}) -> {}",
        sel.path.display(),
        sel.metric,
        sel.score,
        args.out.display()
    )?;
    Ok(())
}

/// Refuses to write into a non-empty directory unless `force`.
fn check_out_dir(out: &Path, force: bool) -> Result<()> {
    if out.is_file() {
        bail!("--out {}: is a file, expected a directory", out.display());
    }
    let non_empty = std::fs::read_dir(out)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if non_empty && !force {
        bail!(
            "--out {}: directory is not empty; pass --force to overwrite",
            out.display()
        );
    }
    Ok(())
}

/// The metric the run monitored (`summary.json`), else `val_cer`.
fn default_metric(run: &Path) -> Result<String> {
    if !run.is_dir() {
        bail!("--run {}: not a directory", run.display());
    }
    Ok(read_json(&run.join("summary.json"))
        .and_then(|s| {
            s.get("monitor")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "val_cer".to_string()))
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// True when higher values of `metric` are better (accuracies).
fn higher_is_better(metric: &str) -> bool {
    metric.contains("acc")
}

/// Picks the checkpoint of `run` with the best validation `metric`.
pub fn select_checkpoint(run: &Path, metric: &str) -> Result<Selected> {
    let log = run.join("metrics.jsonl");
    let text = std::fs::read_to_string(&log)
        .with_context(|| format!("--run {}: reading its metric log", run.display()))?;
    let mut at_step: BTreeMap<u64, f64> = BTreeMap::new();
    let mut seen: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(rec) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if rec.get("phase").and_then(|p| p.as_str()) != Some("val") {
            continue;
        }
        if let Some(obj) = rec.as_object() {
            seen.extend(obj.keys().filter(|k| k.starts_with("val_")).cloned());
        }
        if let (Some(step), Some(v)) = (
            rec.get("step").and_then(|s| s.as_u64()),
            rec.get(metric).and_then(|v| v.as_f64()),
        ) {
            at_step.insert(step, v);
        }
    }
    seen.sort();
    seen.dedup();
    if at_step.is_empty() {
        bail!(
            "--metric {metric}: {} has no validation record of it (validation metrics logged: {})",
            log.display(),
            if seen.is_empty() {
                "none".to_string()
            } else {
                seen.join(", ")
            }
        );
    }
    let dir = run.join("checkpoints");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("--run {}: listing its checkpoints", run.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "--run {}: {} holds no checkpoints",
            run.display(),
            dir.display()
        );
    }
    let higher = higher_is_better(metric);
    let mut best: Option<Selected> = None;
    for path in &files {
        let step = checkpoint_step(path)?;
        let Some(&score) = at_step.get(&step) else {
            continue;
        };
        let better = match &best {
            None => true,
            Some(b) if higher => score > b.score,
            Some(b) => score < b.score,
        };
        if better && score.is_finite() {
            best = Some(Selected {
                path: path.clone(),
                metric: metric.to_string(),
                score,
                step,
            });
        }
    }
    best.with_context(|| {
        format!(
            "--metric {metric}: none of the {} checkpoints in {} was saved at a validation that logged it",
            files.len(),
            dir.display()
        )
    })
}

/// The trainer's global step stored in a checkpoint, read from its header
/// only (no tensor data is loaded).
fn checkpoint_step(path: &Path) -> Result<u64> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len)
        .with_context(|| format!("{}: too short for a safetensors file", path.display()))?;
    let n = u64::from_le_bytes(len);
    if n > 100_000_000 {
        bail!(
            "{}: not a safetensors checkpoint (header length {n})",
            path.display()
        );
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .with_context(|| format!("{}: truncated safetensors header", path.display()))?;
    let header: serde_json::Value = serde_json::from_slice(&header)
        .with_context(|| format!("{}: malformed safetensors header", path.display()))?;
    let state = header
        .get("__metadata__")
        .and_then(|m| m.get("tr.state"))
        .and_then(|s| s.as_str())
        .with_context(|| {
            format!(
                "{}: not a tr checkpoint (no tr.state metadata)",
                path.display()
            )
        })?;
    let state: serde_json::Value = serde_json::from_str(state)
        .with_context(|| format!("{}: tr.state is not JSON", path.display()))?;
    state
        .get("global_step")
        .and_then(|s| s.as_u64())
        .with_context(|| format!("{}: tr.state has no global_step", path.display()))
}
