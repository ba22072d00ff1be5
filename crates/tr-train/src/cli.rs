//! The experiment command line shared by `tr-train` and `htr`: `fit`,
//! `validate`, `test`, `print-config` and `sweep` ([`crate::run_sweep`]), each taking `--config FILE`, an
//! optional `--ckpt PATH|last|best` and any number of dotted overrides
//! (`--trainer.max_epochs 10`, `--model.window_stride=18`).
//!
//! Dotted options are not clap arguments: [`split_overrides`] takes them out
//! of the argument list first (a dotted key always names a config field), so
//! they may appear anywhere on the line, before or after `--config`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::config::{Override, RunConfig};
use crate::error::{Error, Result};
use crate::evaluate::assess;
use crate::fit::{fit, format_metrics};
use crate::run::{resolve_checkpoint, Monitor};
use crate::session::Split;

/// Options every experiment command takes.
#[derive(Args, Debug, Clone, Default)]
pub struct ExperimentArgs {
    /// YAML experiment file (see `configs/`); the built-in default
    /// (line-cnn + CTC on emnist-lines) when absent.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Checkpoint to resume from (`fit`) or to evaluate (`validate`/`test`):
    /// a file, or `last`/`best` of the newest run of this experiment.
    #[arg(long)]
    pub ckpt: Option<String>,
    /// Experiment name (the run directory's suffix); overrides the file's `name`.
    #[arg(long)]
    pub name: Option<String>,
    /// Seed of weights, data order and dropout; overrides the file's `seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Data root (= `--data.data_dir`; else `TR_DATA_DIR`, else `./data`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Where run directories are created and `--ckpt last|best` looks
    /// (= `--trainer.runs_dir`; default `runs`).
    #[arg(long)]
    pub runs_dir: Option<PathBuf>,
}

/// The experiment subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum ExperimentCommand {
    /// Train (and, with `trainer.test_after_fit`, test the best checkpoint).
    Fit(ExperimentArgs),
    /// Evaluate a checkpoint on the validation split.
    Validate(ExperimentArgs),
    /// Evaluate a checkpoint on the test split.
    Test(ExperimentArgs),
    /// Print the fully resolved configuration (defaults included) as YAML.
    PrintConfig(ExperimentArgs),
    /// Train every combination of a grid of overrides (or `--random N` of
    /// them) and write one table ranked by the monitored metric.
    Sweep(SweepArgs),
}

/// Options of `sweep`.
#[derive(Args, Debug, Clone, Default)]
pub struct SweepArgs {
    #[command(flatten)]
    pub experiment: ExperimentArgs,
    /// A swept key and its values, `KEY=V1,V2,…` (repeatable; commas inside
    /// `[]` do not split).
    #[arg(long = "grid", value_name = "KEY=V1,V2,…", required = true)]
    pub grid: Vec<String>,
    /// Train only this many combinations, drawn at random (seeded).
    #[arg(long, value_name = "N")]
    pub random: Option<usize>,
    /// Seed of the `--random` draw.
    #[arg(long, default_value_t = 0)]
    pub sweep_seed: u64,
}

/// Separates `--a.b value` / `--a.b=value` pairs from the other arguments.
/// Returns `(remaining arguments, overrides)`.
pub fn split_overrides(args: &[String]) -> Result<(Vec<String>, Vec<Override>)> {
    let mut rest = Vec::new();
    let mut dotted = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let is_dotted = a
            .strip_prefix("--")
            .is_some_and(|k| k.split('=').next().is_some_and(|k| k.contains('.')));
        if !is_dotted {
            rest.push(a.clone());
            i += 1;
            continue;
        }
        dotted.push(a.clone());
        if !a.contains('=') {
            let value = args.get(i + 1).ok_or_else(|| {
                Error::config(a.trim_start_matches('-'), "expected a value after the key")
            })?;
            dotted.push(value.clone());
            i += 1;
        }
        i += 1;
    }
    Ok((rest, Override::parse_args(&dotted)?))
}

/// Applies `trainer.num_threads` (0 = keep `RAYON_NUM_THREADS` or all cores)
/// to candle's kernels and to the global rayon pool. Call before any work.
fn apply_num_threads(n: usize) {
    if n == 0 {
        return;
    }
    // candle's CPU matmuls read RAYON_NUM_THREADS at every call (see tr_kernels::pin_thread_count).
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    if rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .is_err()
    {
        tracing::warn!("thread pool already started; trainer.num_threads={n} ignored by rayon");
    }
}

/// Logs to stderr with an `EnvFilter` (`info`, `tr_train=debug`, …); an
/// invalid filter falls back to `info`.
pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Loads the config of `args` with `overrides`.
fn load_config(args: &ExperimentArgs, overrides: &[Override]) -> Result<RunConfig> {
    RunConfig::load(
        args.config.as_deref(),
        &experiment_overrides(args, overrides),
    )
}

/// The dotted overrides plus the ones the named options stand for.
fn experiment_overrides(args: &ExperimentArgs, overrides: &[Override]) -> Vec<Override> {
    let mut all = overrides.to_vec();
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let top = [
        ("name", args.name.clone()),
        ("seed", args.seed.map(|s| s.to_string())),
        ("data.data_dir", path(&args.data_dir)),
        ("trainer.runs_dir", path(&args.runs_dir)),
    ];
    for (key, value) in top {
        if let Some(value) = value {
            all.push(Override {
                key: key.into(),
                value,
            });
        }
    }
    all
}

fn checkpoint_path(spec: &str, config: &RunConfig) -> Result<PathBuf> {
    resolve_checkpoint(
        spec,
        &config.trainer.runs_dir,
        &config.name,
        &Monitor::for_checkpoints(config),
    )
}

/// Runs one experiment command; `out` receives what the command prints.
pub fn run(
    command: &ExperimentCommand,
    overrides: &[Override],
    out: &mut dyn std::io::Write,
) -> Result<()> {
    let write = |out: &mut dyn std::io::Write, text: &str| {
        out.write_all(text.as_bytes())
            .map_err(|e| Error::io(Path::new("<stdout>"), e))
    };
    if !matches!(command, ExperimentCommand::PrintConfig(_)) {
        tr_kernels::keep_freed_memory();
    }
    match command {
        ExperimentCommand::Sweep(args) => {
            let axes = args
                .grid
                .iter()
                .map(|g| crate::sweep::GridAxis::parse(g))
                .collect::<Result<Vec<_>>>()?;
            let base = experiment_overrides(&args.experiment, overrides);
            let (trials, monitor, name) = crate::sweep::run_sweep(
                args.experiment.config.as_deref(),
                &base,
                &axes,
                args.random,
                args.sweep_seed,
            )?;
            let command_line = std::env::args().collect::<Vec<_>>().join(" ");
            let table = crate::sweep::render_table(&trials, &axes, &monitor, &command_line);
            let runs_dir = RunConfig::load(args.experiment.config.as_deref(), &base)?
                .trainer
                .runs_dir;
            let path = crate::sweep::write_table(&runs_dir, &name, &table)?;
            tracing::info!("sweep table written to {}", path.display());
            write(out, &table)?;
            let failed = trials.iter().filter(|t| t.result.is_err()).count();
            if failed > 0 {
                return Err(Error::config(
                    "sweep",
                    format!("{failed} of {} trials failed (see the table)", trials.len()),
                ));
            }
            Ok(())
        }
        ExperimentCommand::PrintConfig(args) => {
            let cfg = load_config(args, overrides)?;
            write(out, &cfg.to_yaml()?)
        }
        ExperimentCommand::Fit(args) => {
            let cfg = load_config(args, overrides)?;
            apply_num_threads(cfg.trainer.num_threads);
            let resume = match &args.ckpt {
                Some(spec) => Some(checkpoint_path(spec, &cfg)?),
                None => None,
            };
            let summary = fit(cfg, resume.as_deref())?;
            let text = serde_json::to_string_pretty(&summary)
                .map_err(|e| Error::config("summary", e.to_string()))?;
            write(out, &format!("{text}\n"))
        }
        ExperimentCommand::Validate(args) | ExperimentCommand::Test(args) => {
            let split = if matches!(command, ExperimentCommand::Validate(_)) {
                Split::Val
            } else {
                Split::Test
            };
            let cfg = load_config(args, overrides)?;
            apply_num_threads(cfg.trainer.num_threads);
            let ckpt = match &args.ckpt {
                Some(spec) => Some(checkpoint_path(spec, &cfg)?),
                None => {
                    tracing::warn!("no --ckpt: evaluating freshly initialised weights");
                    None
                }
            };
            let metrics = assess(cfg, ckpt.as_deref(), split)?;
            write(out, &format!("{}\n", format_metrics(&metrics)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn dotted_options_are_taken_out_anywhere() {
        let (rest, ov) = split_overrides(&s(&[
            "--trainer.max_epochs",
            "3",
            "--config",
            "a.yaml",
            "--model.window_stride=18",
        ]))
        .unwrap();
        assert_eq!(rest, s(&["--config", "a.yaml"]));
        assert_eq!(ov.len(), 2);
        assert_eq!(ov[0].key, "trainer.max_epochs");
        assert_eq!(ov[0].value, "3");
        assert_eq!(ov[1].key, "model.window_stride");
        assert_eq!(ov[1].value, "18");
    }

    #[test]
    fn dotted_option_without_value_is_an_error() {
        let e = split_overrides(&s(&["--trainer.max_epochs"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("trainer.max_epochs"), "{e}");
    }

    #[test]
    fn print_config_writes_resolved_yaml() {
        let mut out = Vec::new();
        let ov = split_overrides(&s(&["--trainer.max_epochs", "7"]))
            .unwrap()
            .1;
        run(
            &ExperimentCommand::PrintConfig(ExperimentArgs::default()),
            &ov,
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("max_epochs: 7"), "{text}");
        assert!(text.contains("window_stride"), "{text}");
    }
}
