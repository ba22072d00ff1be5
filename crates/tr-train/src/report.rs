//! End-of-epoch reports: `plots/*.png` from the metric log and `summary.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::plots::{line_plot, Series};
use crate::run::{git_commit, MetricsLog, RunDir};
use crate::session::Session;
use crate::state::TrainerState;
use crate::topk::TopK;

/// Draws `loss.png`, `cer.png` (sequences) or `accuracy.png` (classes) and `lr.png`.
pub fn write_plots(run: &RunDir, log: &MetricsLog, sequence: bool) -> Result<()> {
    let dir = run.plots();
    line_plot(
        &dir.join("loss.png"),
        "loss",
        "loss",
        &[
            Series {
                name: "train (per step)",
                points: log.series("train", "train_loss"),
            },
            Series {
                name: "train (epoch)",
                points: log.series("train_epoch", "train_loss"),
            },
            Series {
                name: "val",
                points: log.series("val", "val_loss"),
            },
        ],
        true,
    )?;
    if sequence {
        line_plot(
            &dir.join("cer.png"),
            "character error rate (corpus)",
            "CER",
            &[
                Series {
                    name: "train",
                    points: log.series("train_epoch", "train_cer"),
                },
                Series {
                    name: "val",
                    points: log.series("val", "val_cer"),
                },
            ],
            false,
        )?;
    } else {
        line_plot(
            &dir.join("accuracy.png"),
            "accuracy",
            "accuracy",
            &[
                Series {
                    name: "train",
                    points: log.series("train_epoch", "train_acc"),
                },
                Series {
                    name: "val",
                    points: log.series("val", "val_acc"),
                },
            ],
            false,
        )?;
    }
    line_plot(
        &dir.join("lr.png"),
        "learning rate",
        "lr",
        &[Series {
            name: "lr",
            points: lr_points(log),
        }],
        false,
    )?;
    Ok(())
}

/// Learning rate per logged step and at every epoch end, in step order.
fn lr_points(log: &MetricsLog) -> Vec<(f64, f64)> {
    let mut points = log.series("train", "lr");
    points.extend(log.series("train_epoch", "lr"));
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points.dedup_by(|a, b| a.0 == b.0);
    points
}

/// `summary.json`: what a run achieved and what it cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub model: String,
    pub dataset: String,
    pub run_dir: Option<PathBuf>,
    pub parameters: usize,
    pub epochs: u64,
    pub global_steps: u64,
    /// Training wall time in seconds (all sessions of a resumed run).
    pub wall_seconds: f64,
    pub train_samples: u64,
    /// Training throughput (training phases only).
    pub train_samples_per_sec: f64,
    pub monitor: String,
    pub best_score: Option<f64>,
    pub best_epoch: Option<u64>,
    pub best_checkpoint: Option<PathBuf>,
    pub stopped_early: bool,
    /// Metrics of the last validation round.
    pub val: BTreeMap<String, f64>,
    /// Test metrics of the best checkpoint.
    pub test: Option<BTreeMap<String, f64>>,
    pub git_commit: Option<String>,
    pub finished_at: String,
}

impl Summary {
    /// Gathers the summary of a finished fit.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn collect(
        session: &Session,
        state: &TrainerState,
        run: Option<&RunDir>,
        topk: &TopK,
        val: BTreeMap<String, f64>,
        test: Option<BTreeMap<String, f64>>,
        stopped_early: bool,
        wall_seconds: f64,
    ) -> Self {
        Self {
            name: session.config.name.clone(),
            model: session.config.model.name().to_string(),
            dataset: session.data.name.clone(),
            run_dir: run.map(|r| r.root().to_path_buf()),
            parameters: session.parameter_count(),
            epochs: state.epoch,
            global_steps: state.global_step,
            wall_seconds,
            train_samples: state.train_samples,
            train_samples_per_sec: state.train_samples as f64 / state.train_phase_seconds.max(1e-9),
            monitor: topk.monitor().metric.clone(),
            best_score: state.best_score,
            best_epoch: state.best_epoch,
            best_checkpoint: run.and_then(|r| {
                topk.entries()
                    .first()
                    .map(|e| r.checkpoints().join(&e.file))
            }),
            stopped_early,
            val,
            test,
            git_commit: git_commit(),
            finished_at: chrono::Local::now().to_rfc3339(),
        }
    }

    /// Writes `summary.json` into the run directory.
    pub fn write(&self, run: &RunDir) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::config("summary", e.to_string()))?;
        run.write_text(&run.summary(), &text)
    }
}
