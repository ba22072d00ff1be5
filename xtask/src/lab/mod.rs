//! `cargo xtask lab N [--quick] [--resume]`: runs every experiment of lab `N`
//! (listed in `configs/labs.toml`) in order with the trainer, then prints a
//! results table with the course's published figure beside each result.
//! With `--resume` a lab can be run in several sittings: finished experiments
//! are skipped (their summaries fill the table) and unfinished ones continue
//! from their last checkpoint (see [`resume`]).
//!
//! ```text
//! cargo xtask download emnist --from ../shared/data/emnist
//! cargo xtask download brown --from ../shared/data/brown
//! cargo xtask lab 3 --quick
//! cargo xtask lab 3 -- --trainer.max_epochs 3     # extra overrides for every experiment
//! nohup cargo xtask lab 3 --resume > lab3.log &   # again after an interruption: goes on
//! ```

mod plan;
mod resume;
mod table;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tr_train::{Override, RunConfig};

pub use plan::{load_lab, Lab};
pub use table::{render, Row};

/// Options of `cargo xtask lab`.
#[derive(Args, Debug, Clone)]
pub struct LabArgs {
    /// Lab number (1–4).
    pub number: u32,
    /// Scale data and epochs down (settings in configs/labs.toml) so the lab
    /// finishes in minutes on a CPU.
    #[arg(long)]
    pub quick: bool,
    /// Skip experiments that already finished with the same config and
    /// continue unfinished ones from their last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Directory holding `labs.toml` and the experiment files.
    #[arg(long, default_value = "configs")]
    pub configs: PathBuf,
    /// Data directory (else `TR_DATA_DIR`, else `./data`).
    #[arg(long, env = tr_data::DATA_DIR_ENV)]
    pub data_dir: Option<PathBuf>,
    /// Where run directories go.
    #[arg(long, default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Only run experiments whose file name contains this text.
    #[arg(long)]
    pub only: Option<String>,
    /// Dotted overrides for every experiment, after `--`
    /// (e.g. `-- --trainer.max_epochs 3`).
    #[arg(last = true)]
    pub overrides: Vec<String>,
}

/// Runs the lab; returns the rendered table. Experiments that fail are
/// reported in the table and make the whole command fail afterwards.
pub fn run(args: &LabArgs) -> Result<String> {
    let lab = load_lab(&args.configs, args.number)?;
    let mut overrides: Vec<Override> = Vec::new();
    let mut push = |key: &str, value: String| {
        overrides.push(Override {
            key: key.into(),
            value,
        })
    };
    if args.quick {
        for (k, v) in &lab.quick {
            push(k, v.clone());
        }
    }
    if let Some(dir) = &args.data_dir {
        push("data.data_dir", dir.display().to_string());
    }
    push("trainer.runs_dir", args.runs_dir.display().to_string());
    overrides.extend(Override::parse_args(&args.overrides).context("overrides after `--`")?);

    let mut rows = Vec::new();
    for path in &lab.experiments {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if args.only.as_deref().is_some_and(|o| !stem.contains(o)) {
            continue;
        }
        tracing::info!("lab {}: {}", lab.number, path.display());
        let row = match run_one(
            path,
            &overrides,
            args.resume.then_some(args.runs_dir.as_path()),
        ) {
            Ok(row) => row,
            Err(e) => {
                tracing::error!("{}: {e:#}", path.display());
                Row {
                    experiment: stem.clone(),
                    model: String::new(),
                    epochs: 0,
                    wall_seconds: 0.0,
                    samples_per_sec: 0.0,
                    val: None,
                    test: None,
                    course: None,
                    error: Some(format!("{e:#}")),
                }
            }
        };
        rows.push(Row {
            experiment: stem,
            ..row
        });
    }
    let text = render(lab.number, &lab.title, args.quick, &rows);
    std::fs::create_dir_all(&args.runs_dir)
        .with_context(|| format!("creating {}", args.runs_dir.display()))?;
    let file = args.runs_dir.join(format!(
        "lab{}{}.md",
        lab.number,
        if args.quick { "-quick" } else { "" }
    ));
    std::fs::write(&file, &text).with_context(|| format!("writing {}", file.display()))?;
    tracing::info!("table written to {}", file.display());
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    if failed > 0 {
        anyhow::bail!(
            "{text}\n{failed} of {} experiments failed (see above)",
            rows.len()
        );
    }
    Ok(text)
}

fn run_one(
    path: &std::path::Path,
    overrides: &[Override],
    resume_from: Option<&std::path::Path>,
) -> Result<Row> {
    let config = RunConfig::load(Some(path), overrides)
        .with_context(|| format!("loading {}", path.display()))?;
    let reference = config.reference.clone();
    let prior = match resume_from {
        Some(runs) => resume::prior(&config, runs)?,
        None => resume::Prior::Fresh,
    };
    let summary = match prior {
        resume::Prior::Finished(summary) => {
            tracing::info!("{}: finished before, skipped", config.name);
            *summary
        }
        resume::Prior::Unfinished(ckpt) => {
            tracing::info!("{}: continuing from {}", config.name, ckpt.display());
            tr_train::fit(config, Some(&ckpt))?
        }
        resume::Prior::Fresh => tr_train::fit(config, None)?,
    };
    let val = summary.best_score.map(|v| (summary.monitor.clone(), v));
    let test_metric = reference
        .as_ref()
        .map(|r| r.metric.clone())
        .unwrap_or_else(|| summary.monitor.replace("val_", "test_"));
    let test = summary
        .test
        .as_ref()
        .and_then(|t| t.get(&test_metric).map(|v| (test_metric.clone(), *v)));
    Ok(Row {
        experiment: String::new(),
        model: summary.model.clone(),
        epochs: summary.epochs,
        wall_seconds: summary.wall_seconds,
        samples_per_sec: summary.train_samples_per_sec,
        val,
        test,
        course: reference.and_then(|r| r.value),
        error: None,
    })
}
