//! Staging: the best checkpoint of a run → an inference artifact
//! (`tr_infer::artifact`), what `htr stage` does.
//!
//! The checkpoint is chosen by a [`Monitor`] (default: the one the run's
//! config monitored; `metric` picks another validation metric) with
//! [`RunDir::best_checkpoint`]. The model config, vocabulary, input shape and
//! output length come from the checkpoint itself, so no data is read; only
//! checkpoints older than the `tr.data` metadata make staging rebuild the
//! run's data module (with a warning). The model card records the data, the
//! command that reproduces the run, the metrics and the date.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tr_data::DataDir;
use tr_infer::artifact::{write_artifact, ArtifactSpec, ModelCard, WeightsDType, LM_FILE};
use tr_infer::{DecoderConfig, LmConfig};
use tr_lit::Objective;
use tr_models::decoding::CharNgramLm;

use crate::checkpoint::{Checkpoint, DataInfo};
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::report::Summary;
use crate::run::{Monitor, RunDir, Selected};

/// A character n-gram language model to train and ship for beam search.
#[derive(Clone, Debug)]
pub struct LmOptions {
    /// Text file: one training line per line.
    pub text: PathBuf,
    pub order: usize,
    /// LM weight (on natural-log probabilities).
    pub alpha: f32,
    /// Bonus per character (nats).
    pub beta: f32,
}

/// What to stage and how.
#[derive(Clone, Debug)]
pub struct StageOptions {
    /// Run directory (`runs/<yyyymmdd-hhmmss>-<name>`).
    pub run: PathBuf,
    /// Validation metric that picks the checkpoint (default: the run's monitor).
    pub metric: Option<String>,
    /// Artifact directory to write.
    pub out: PathBuf,
    /// Overwrite a non-empty `out`.
    pub force: bool,
    pub weights_dtype: WeightsDType,
    /// Default decoder: beam search of this width (default: greedy).
    pub beam: Option<usize>,
    pub lm: Option<LmOptions>,
}

/// Stages `opts.run` into `opts.out`; returns the checkpoint it took.
pub fn stage(opts: &StageOptions) -> Result<Selected> {
    check_out_dir(&opts.out, opts.force)?;
    let run = RunDir::existing(&opts.run)?;
    let monitor = match &opts.metric {
        Some(m) => Monitor::new(m.clone(), None),
        None => Monitor::for_checkpoints(&RunConfig::load(Some(&run.config()), &[])?),
    };
    let sel = run.best_checkpoint(&monitor)?;
    tracing::info!(
        "staging {} ({} = {:.4} at step {})",
        sel.path.display(),
        sel.metric,
        sel.score,
        sel.step
    );
    let ckpt = Checkpoint::load(&sel.path, &candle_core::Device::Cpu)?;
    let at = |m: String| Error::stage(format!("{}: {m}", sel.path.display()));
    let config = RunConfig::from_tree(ckpt.header.config.clone())
        .map_err(|e| at(format!("the run config it carries: {e}")))?;
    if config.model.name() != ckpt.header.model_name {
        return Err(at(format!(
            "holds a {} model but its config describes {}",
            ckpt.header.model_name,
            config.model.name()
        )));
    }
    let data = match &ckpt.header.data {
        Some(d) => d.clone(),
        None => legacy_data_info(&config, &ckpt, &sel.path)?,
    };
    let (decoder, lm) = decoder(&config, opts)?;
    let spec = ArtifactSpec {
        decoder,
        lm,
        weights_dtype: opts.weights_dtype,
        card: model_card(&run, &config, &data, &sel),
        provenance: serde_json::json!({
            "run": opts.run,
            "checkpoint": sel.path,
            "metric": sel.metric,
            "score": sel.score,
            "global_step": sel.step,
            "dataset": config.data.dataset,
        }),
        ..ArtifactSpec::new(config.model.clone(), &data.spec(&ckpt.header.vocab))
    };
    write_artifact(&opts.out, &spec, &ckpt.weights)?;
    Ok(sel)
}

/// The data description of a checkpoint written before checkpoints carried
/// one: rebuilt from the run's data settings.
fn legacy_data_info(config: &RunConfig, ckpt: &Checkpoint, path: &Path) -> Result<DataInfo> {
    tracing::warn!(
        "{}: written before checkpoints recorded their data; rebuilding the run's data module for the input size and output length",
        path.display()
    );
    let data = config
        .data
        .dataset
        .build(&DataDir::resolve(config.data.data_dir.as_deref()))?;
    data.vocab
        .ensure_same(&ckpt.header.vocab, &path.display().to_string())?;
    Ok(DataInfo::of(&data))
}

/// The artifact's default decoder and its language model, from the options.
fn decoder(
    config: &RunConfig,
    opts: &StageOptions,
) -> Result<(DecoderConfig, Option<CharNgramLm>)> {
    let objective = config
        .lit
        .objective
        .unwrap_or_else(|| Objective::default_for(config.model.task()));
    let decoder = match (objective, opts.beam) {
        (Objective::Positional, None) => DecoderConfig::Positional,
        (Objective::Positional, Some(_)) => return Err(Error::stage(
            "--beam: the model was trained with per-position cross-entropy, it has no CTC outputs to search",
        )),
        (_, Some(width)) => DecoderConfig::beam(width),
        (_, None) => DecoderConfig::Greedy,
    };
    let Some(lm) = &opts.lm else {
        return Ok((decoder, None));
    };
    let DecoderConfig::Beam { width, .. } = decoder else {
        return Err(Error::stage(
            "--lm-text: a language model is used by beam search; add --beam N",
        ));
    };
    let text = std::fs::read_to_string(&lm.text).map_err(|e| Error::io(&lm.text, e))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let model = CharNgramLm::train(lm.order, lines.iter().copied())
        .map_err(|e| Error::stage(format!("training the LM on {}: {e}", lm.text.display())))?;
    tracing::info!(
        "trained an order-{} character LM on {} lines",
        lm.order,
        lines.len()
    );
    let cfg = LmConfig {
        file: LM_FILE.to_string(),
        alpha: lm.alpha,
        beta: lm.beta,
        bytes: None,
        sha256: None,
    };
    Ok((
        DecoderConfig::Beam {
            width,
            lm: Some(cfg),
        },
        Some(model),
    ))
}

/// The model card: data, reproducing command, metrics (the selecting one and
/// the run's test figures), provenance.
fn model_card(run: &RunDir, config: &RunConfig, data: &DataInfo, sel: &Selected) -> ModelCard {
    let summary: Option<Summary> = std::fs::read_to_string(run.summary())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let mut metrics = BTreeMap::new();
    metrics.insert(sel.metric.clone(), sel.score);
    if let Some(test) = summary.as_ref().and_then(|s| s.test.as_ref()) {
        metrics.extend(test.iter().map(|(k, v)| (k.clone(), *v)));
    }
    let mut notes = vec![
        format!("run: {}", run.root().display()),
        format!("checkpoint: {} (step {})", sel.path.display(), sel.step),
    ];
    if let Some(commit) = summary.as_ref().and_then(|s| s.git_commit.as_ref()) {
        notes.push(format!("git commit: {commit}"));
    }
    let settings = serde_json::to_string(&config.data.dataset).unwrap_or_default();
    ModelCard {
        name: config.name.clone(),
        data: format!(
            "`{}`: {} train / {} val / {} test samples, input {:?}. Settings: `{settings}`. {}",
            data.dataset,
            data.train,
            data.val,
            data.test,
            data.input_shape,
            data.notes.join("; ")
        ),
        command: format!("htr fit --config {}", run.config().display()),
        metrics,
        date: chrono::Local::now().to_rfc3339(),
        notes,
    }
}

/// Refuses to write into a non-empty directory unless `force`.
fn check_out_dir(out: &Path, force: bool) -> Result<()> {
    if out.is_file() {
        return Err(Error::stage(format!(
            "--out {}: is a file, expected a directory",
            out.display()
        )));
    }
    let non_empty = std::fs::read_dir(out)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if non_empty && !force {
        return Err(Error::stage(format!(
            "--out {}: directory is not empty; pass --force to overwrite",
            out.display()
        )));
    }
    Ok(())
}
