//! `cargo xtask lab N [--quick] [--resume]`: runs every experiment of lab `N`
//! (listed in `configs/labs.toml`) in order with the trainer, then prints a
//! results table with the course's published figure beside each result.
//! With `--resume` a lab can be run in several sittings: finished experiments
//! are skipped (their summaries fill the table) and unfinished ones continue
//! from their last checkpoint (see [`resume`]). An experiment with a "tr
//! recipe" in `labs.toml` (same model and data, this project's training
//! recipe) is followed by that run; its test figure fills the table's "tr
//! recipe" column. The table goes to `docs/labs/labN.md` (with `--quick`, to
//! the runs directory) and each run's plots are copied next to it.
//!
//! The rows also go to `labN.json` beside the table, and a later `lab N
//! --only X` keeps the saved rows of the experiments it does not run: a lab
//! can be filled in one experiment at a time, on different days or machines,
//! even when the earlier run directories are gone.
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

use std::path::{Path, PathBuf};

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
    /// Where the table (`labN.md`) and its plots (`labN/`) are written:
    /// `docs/labs` by default, the runs directory with `--quick`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the "tr recipe" runs listed in configs/labs.toml.
    #[arg(long)]
    pub no_recipes: bool,
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

    let out = match &args.out {
        Some(dir) => dir.clone(),
        None if args.quick => args.runs_dir.clone(),
        None => PathBuf::from("docs/labs"),
    };
    // Also the stem of the table (`labN.md`) and of its saved rows (`labN.json`).
    let plots_dir = format!(
        "lab{}{}",
        lab.number,
        if args.quick { "-quick" } else { "" }
    );
    let resume = args.resume.then_some(args.runs_dir.as_path());
    // One experiment file's row: its outcome, with its plots kept next to the table.
    let row_of = |file: &Path| {
        let stem = file_stem(file);
        match run_one(file, &overrides, resume) {
            Ok((row, run_dir)) => Row {
                plots: run_dir
                    .map(|d| keep_plots(&d, &out, &plots_dir, &stem))
                    .unwrap_or_default(),
                experiment: stem,
                ..row
            },
            Err(e) => {
                tracing::error!("{}: {e:#}", file.display());
                Row::failed(stem, format!("{e:#}"))
            }
        }
    };
    // Rows of the experiments run now, by experiment file.
    let mut ran: Vec<(PathBuf, Vec<Row>)> = Vec::new();
    for path in &lab.experiments {
        if args
            .only
            .as_deref()
            .is_some_and(|o| !file_stem(path).contains(o))
        {
            continue;
        }
        tracing::info!("lab {}: {}", lab.number, path.display());
        let mut row = row_of(path);
        let recipe = match lab.recipes.get(path).filter(|_| !args.no_recipes) {
            Some(recipe) => {
                tracing::info!("lab {}: tr recipe {}", lab.number, recipe.display());
                let r = row_of(recipe);
                row.recipe = r.test.clone();
                Some(Row {
                    experiment: format!("↳ tr recipe: {}", r.experiment),
                    ..r
                })
            }
            None => None,
        };
        ran.push((path.clone(), std::iter::once(row).chain(recipe).collect()));
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let saved_file = out.join(format!("{plots_dir}.json"));
    let saved = load_saved(&saved_file)?;
    let failed = ran
        .iter()
        .flat_map(|(_, r)| r)
        .filter(|r| r.error.is_some())
        .count();
    let ran_count: usize = ran.iter().map(|(_, r)| r.len()).sum();
    let rows = merge_rows(&lab, ran, saved);
    let json = serde_json::to_string_pretty(&rows)?;
    std::fs::write(&saved_file, json + "\n")
        .with_context(|| format!("writing {}", saved_file.display()))?;
    let text = render(
        lab.number,
        &lab.title,
        args.quick,
        &rows,
        lab.note.as_deref(),
    );
    let file = out.join(format!("{plots_dir}.md"));
    std::fs::write(&file, &text).with_context(|| format!("writing {}", file.display()))?;
    tracing::info!("table written to {}", file.display());
    if failed > 0 {
        anyhow::bail!("{text}\n{failed} of {ran_count} experiments failed (see above)");
    }
    Ok(text)
}

/// The rows an earlier `cargo xtask lab` saved in `file` (none if it does not exist).
fn load_saved(file: &Path) -> Result<Vec<Row>> {
    match std::fs::read_to_string(file) {
        Ok(text) => serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a saved lab table (a JSON list of rows); delete it to start the table afresh",
                file.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", file.display())),
    }
}

/// The table's rows in the lab's order: for each experiment, the rows run
/// now, else the saved rows of that experiment (its own row and its "tr
/// recipe" row, matched by name); experiments in neither are left out.
fn merge_rows(lab: &Lab, ran: Vec<(PathBuf, Vec<Row>)>, saved: Vec<Row>) -> Vec<Row> {
    let mut ran: std::collections::HashMap<PathBuf, Vec<Row>> = ran.into_iter().collect();
    let mut rows = Vec::new();
    for path in &lab.experiments {
        if let Some(now) = ran.remove(path) {
            rows.extend(now);
            continue;
        }
        let stem = file_stem(path);
        let recipe = lab
            .recipes
            .get(path)
            .map(|r| format!("↳ tr recipe: {}", file_stem(r)));
        rows.extend(
            saved
                .iter()
                .filter(|r| r.experiment == stem || Some(&r.experiment) == recipe.as_ref())
                .cloned(),
        );
    }
    rows
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Copies the PNG plots of `run_dir/plots` to `out/dir/<stem>-<file>` and
/// returns `(label, link relative to out)` for each; a plot that cannot be
/// copied is logged and left out.
fn keep_plots(run_dir: &Path, out: &Path, dir: &str, stem: &str) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(run_dir.join("plots")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    let target = out.join(dir);
    let mut links = Vec::new();
    for file in files {
        let label = file_stem(&file);
        let name = format!("{stem}-{label}.png");
        let copied = std::fs::create_dir_all(&target)
            .and_then(|()| std::fs::copy(&file, target.join(&name)));
        match copied {
            Ok(_) => links.push((label, format!("{dir}/{name}"))),
            Err(e) => tracing::warn!(
                "{}: not copied to {}: {e}",
                file.display(),
                target.display()
            ),
        }
    }
    links
}

/// Runs (or with `resume_from`, finds or continues) one experiment; returns
/// its row and its run directory.
fn run_one(
    path: &Path,
    overrides: &[Override],
    resume_from: Option<&Path>,
) -> Result<(Row, Option<PathBuf>)> {
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
    let row = Row {
        experiment: String::new(),
        model: summary.model.clone(),
        epochs: summary.epochs,
        wall_seconds: summary.wall_seconds,
        samples_per_sec: summary.train_samples_per_sec,
        val,
        test,
        course: reference.and_then(|r| r.value),
        error: None,
        recipe: None,
        plots: Vec::new(),
    };
    Ok((row, summary.run_dir.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, epochs: u64) -> Row {
        Row {
            epochs,
            ..Row::failed(name.into(), String::new())
        }
    }

    #[test]
    fn later_sittings_keep_the_saved_rows_they_do_not_rerun() {
        let lab = Lab {
            number: 3,
            title: "Lines".into(),
            experiments: ["c/a.yaml", "c/b.yaml", "c/c.yaml"]
                .map(PathBuf::from)
                .into(),
            quick: Default::default(),
            recipes: [(PathBuf::from("c/b.yaml"), PathBuf::from("c/recipes/b.yaml"))].into(),
            note: None,
        };
        let saved = vec![
            row("a", 1),
            row("b", 1),
            row("↳ tr recipe: b", 1),
            row("gone", 1),
        ];
        // Now only c and b (with its recipe) run.
        let ran = vec![
            (
                PathBuf::from("c/b.yaml"),
                vec![row("b", 2), row("↳ tr recipe: b", 2)],
            ),
            (PathBuf::from("c/c.yaml"), vec![row("c", 2)]),
        ];
        let merged = merge_rows(&lab, ran, saved.clone());
        let got: Vec<(&str, u64)> = merged
            .iter()
            .map(|r| (r.experiment.as_str(), r.epochs))
            .collect();
        assert_eq!(
            got,
            [("a", 1), ("b", 2), ("↳ tr recipe: b", 2), ("c", 2)],
            "lab order, new rows replace saved ones, unknown saved rows dropped"
        );
        // Nothing run: the saved table stays as it was (minus rows of removed experiments).
        assert_eq!(merge_rows(&lab, Vec::new(), saved).len(), 3);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lab3.json");
        assert!(load_saved(&file).unwrap().is_empty());
        std::fs::write(&file, serde_json::to_string(&merged).unwrap()).unwrap();
        assert_eq!(load_saved(&file).unwrap(), merged);
        std::fs::write(&file, "{not json").unwrap();
        let e = format!("{:#}", load_saved(&file).unwrap_err());
        assert!(
            e.contains("lab3.json") && e.contains("not a saved lab table"),
            "{e}"
        );
    }
}
