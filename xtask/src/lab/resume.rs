//! `cargo xtask lab N --resume`: what an experiment's earlier runs leave to do.
//!
//! The runs of an experiment are found by name ([`tr_train::run::runs_of`]);
//! only runs whose saved `config.yaml` is the same experiment count — the
//! same resolved config except where runs and data are kept and how progress
//! is shown (so a `--quick` run never stands in for a full one, nor a run
//! with other overrides). The newest such run decides: with a
//! `summary.json` it is finished and its summary fills the table; with a
//! `checkpoints/last.safetensors` it continues from there; otherwise (or
//! with no run) the experiment starts afresh.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;
use tr_train::run::runs_of;
use tr_train::{RunConfig, Summary};

/// What `--resume` does with one experiment.
#[derive(Debug)]
pub enum Prior {
    /// A matching run finished: reuse its summary.
    Finished(Box<Summary>),
    /// A matching run stopped: continue from this checkpoint.
    Unfinished(PathBuf),
    /// Nothing to reuse.
    Fresh,
}

/// Keys that do not make a run another experiment.
const IGNORED: [(&str, &str); 5] = [
    ("trainer", "runs_dir"),
    ("trainer", "progress_bar"),
    ("trainer", "num_threads"),
    ("trainer", "device"),
    ("data", "data_dir"),
];

fn comparable(config: &RunConfig) -> Result<Value> {
    let mut v = serde_json::to_value(config).context("serialising a run config")?;
    for (section, key) in IGNORED {
        if let Some(obj) = v.get_mut(section).and_then(Value::as_object_mut) {
            obj.remove(key);
        }
    }
    Ok(v)
}

/// The newest run of `config`'s experiment under `runs_dir` with the same config.
pub fn prior(config: &RunConfig, runs_dir: &Path) -> Result<Prior> {
    let want = comparable(config)?;
    let runs = runs_of(runs_dir, &config.name).with_context(|| {
        format!(
            "looking for runs of {} in {}",
            config.name,
            runs_dir.display()
        )
    })?;
    for run in runs.iter().rev() {
        let Ok(saved) = RunConfig::load(Some(&run.config()), &[]) else {
            continue;
        };
        if comparable(&saved)? != want {
            continue;
        }
        if run.summary().is_file() {
            let text = std::fs::read_to_string(run.summary())
                .with_context(|| format!("reading {}", run.summary().display()))?;
            let summary: Summary = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a run summary", run.summary().display()))?;
            return Ok(Prior::Finished(Box::new(summary)));
        }
        if let Some(last) = run.last_checkpoint() {
            return Ok(Prior::Unfinished(last));
        }
    }
    Ok(Prior::Fresh)
}
