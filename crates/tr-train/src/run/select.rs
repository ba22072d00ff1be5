//! Choosing a checkpoint of a run: `last`, or the best by a [`Monitor`].
//!
//! The best checkpoint is found from what is on disk, the same way for every
//! caller (`--ckpt best`, testing after fit, staging): each checkpoint's
//! global step is read from its header (no tensor data is loaded) and matched
//! to the validation record logged at that step in `metrics.jsonl`; the best
//! value of the monitored metric wins, the earlier file on a tie.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{read_records, runs_of, Monitor, RunDir};
use crate::checkpoint::CheckpointHeader;
use crate::error::{Error, Result};

/// The checkpoint a monitor picked.
#[derive(Clone, Debug, PartialEq)]
pub struct Selected {
    pub path: PathBuf,
    pub metric: String,
    pub score: f64,
    /// Global step it was written at.
    pub step: u64,
}

impl RunDir {
    /// The `*.safetensors` files of `checkpoints/`, sorted by name.
    pub fn checkpoint_files(&self) -> Result<Vec<PathBuf>> {
        let dir = self.checkpoints();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "safetensors"))
            .collect();
        files.sort();
        Ok(files)
    }

    /// The checkpoint with the best validation value of `monitor.metric`.
    pub fn best_checkpoint(&self, monitor: &Monitor) -> Result<Selected> {
        let log = self.metrics_jsonl();
        let mut at_step: BTreeMap<u64, f64> = BTreeMap::new();
        let mut logged: Vec<&str> = Vec::new();
        let records = read_records(&log)?;
        for rec in records.iter().filter(|r| r.phase == "val") {
            logged.extend(rec.metrics.keys().map(String::as_str));
            if let Some(&v) = rec.metrics.get(&monitor.metric) {
                at_step.insert(rec.step, v);
            }
        }
        logged.sort_unstable();
        logged.dedup();
        if at_step.is_empty() {
            return Err(Error::run(format!(
                "{}: no validation record of {} (validation metrics logged: {})",
                log.display(),
                monitor.metric,
                if logged.is_empty() {
                    "none".to_string()
                } else {
                    logged.join(", ")
                }
            )));
        }
        let files = self.checkpoint_files()?;
        if files.is_empty() {
            return Err(Error::run(format!(
                "{}: holds no checkpoints",
                self.checkpoints().display()
            )));
        }
        let mut best: Option<Selected> = None;
        for path in &files {
            let step = CheckpointHeader::read(path)?.state.global_step;
            let Some(&score) = at_step.get(&step) else {
                continue;
            };
            if score.is_finite() && best.as_ref().is_none_or(|b| monitor.better(score, b.score)) {
                best = Some(Selected {
                    path: path.clone(),
                    metric: monitor.metric.clone(),
                    score,
                    step,
                });
            }
        }
        best.ok_or_else(|| {
            Error::run(format!(
                "{}: none of its {} checkpoints was written at a validation that logged {}",
                self.checkpoints().display(),
                files.len(),
                monitor.metric
            ))
        })
    }
}

/// Resolves `--ckpt`: a checkpoint file, or `last` / `best` (by `monitor`)
/// of the newest run of experiment `name` under `runs_dir` that has one.
pub fn resolve_checkpoint(
    spec: &str,
    runs_dir: &Path,
    name: &str,
    monitor: &Monitor,
) -> Result<PathBuf> {
    if spec != "last" && spec != "best" {
        let p = PathBuf::from(spec);
        if !p.is_file() {
            return Err(Error::checkpoint(format!(
                "--ckpt {spec}: no such checkpoint file (or give `last` / `best`)"
            )));
        }
        return Ok(p);
    }
    let runs = runs_of(runs_dir, name)?;
    for run in runs.iter().rev() {
        let found = if spec == "last" {
            run.last_checkpoint()
        } else {
            match run.best_checkpoint(monitor) {
                Ok(sel) => Some(sel.path),
                Err(e) => {
                    tracing::debug!("{}: no best checkpoint: {e}", run.root().display());
                    None
                }
            }
        };
        if let Some(p) = found {
            return Ok(p);
        }
    }
    Err(Error::checkpoint(format!(
        "no `{spec}` checkpoint of experiment {name:?} under {} ({} runs of it found)",
        runs_dir.display(),
        runs.len()
    )))
}
