//! The best checkpoint across runs, as the course's `save_best_model`
//! picks the best run of a sweep: every run directory under a runs folder
//! (optionally only those trained on one dataset) offers its best
//! checkpoint by a [`Monitor`], and the best of those wins.
//!
//! A run's dataset is the `tr.data` name its checkpoint carries (the
//! dataset registry name, e.g. `page-lines`). Folders that are not runs
//! (no `checkpoints/`), runs without a validation record of the metric and
//! runs of another dataset are passed over, each with the reason, so a
//! caller can say why a run was not considered.

use std::path::{Path, PathBuf};

use super::{Monitor, RunDir, Selected};
use crate::checkpoint::CheckpointHeader;
use crate::error::{Error, Result};

/// One run's candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct RunCandidate {
    pub run: PathBuf,
    /// Dataset registry name from the checkpoint (`None` for checkpoints
    /// older than the `tr.data` metadata).
    pub dataset: Option<String>,
    pub selected: Selected,
}

/// What [`best_of_runs`] looked at.
#[derive(Clone, Debug, PartialEq)]
pub struct BestOfRuns {
    pub best: RunCandidate,
    /// Every run that had a candidate, in directory-name order.
    pub candidates: Vec<RunCandidate>,
    /// Folders passed over, with the reason.
    pub passed_over: Vec<(PathBuf, String)>,
}

/// The best checkpoint by `monitor` over the runs under `runs_dir`
/// (only those trained on `dataset`, when given). Ties go to the earlier
/// run (directory names start with their start time).
pub fn best_of_runs(
    runs_dir: &Path,
    monitor: &Monitor,
    dataset: Option<&str>,
) -> Result<BestOfRuns> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(runs_dir)
        .map_err(|e| Error::io(runs_dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut candidates = Vec::new();
    let mut passed_over = Vec::new();
    for dir in dirs {
        if !dir.join("checkpoints").is_dir() {
            passed_over.push((dir, "not a run (no checkpoints/)".into()));
            continue;
        }
        let run = RunDir::existing(&dir)?;
        let selected = match run.best_checkpoint(monitor) {
            Ok(s) => s,
            Err(e) => {
                passed_over.push((dir, e.to_string()));
                continue;
            }
        };
        let name = CheckpointHeader::read(&selected.path)?
            .data
            .map(|d| d.dataset);
        if let Some(want) = dataset {
            if name.as_deref() != Some(want) {
                let found = name.as_deref().unwrap_or("an unrecorded dataset");
                passed_over.push((dir, format!("trained on {found}, not {want}")));
                continue;
            }
        }
        candidates.push(RunCandidate {
            run: dir,
            dataset: name,
            selected,
        });
    }
    let best = candidates
        .iter()
        .fold(None::<&RunCandidate>, |best, c| match best {
            Some(b) if !monitor.better(c.selected.score, b.selected.score) => Some(b),
            _ => Some(c),
        })
        .cloned()
        .ok_or_else(|| {
            let why: Vec<String> = passed_over
                .iter()
                .map(|(d, r)| format!("{}: {r}", d.display()))
                .collect();
            Error::run(format!(
                "no run under {} has a checkpoint with a validation {}{}{}",
                runs_dir.display(),
                monitor.metric,
                dataset
                    .map(|d| format!(" on dataset {d}"))
                    .unwrap_or_default(),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", why.join("; "))
                }
            ))
        })?;
    Ok(BestOfRuns {
        best,
        candidates,
        passed_over,
    })
}
