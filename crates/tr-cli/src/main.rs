//! `htr`: the command-line front end of tr.
//!
//! A thin dispatcher: every subcommand lives in its own module and calls into
//! the library crates (`tr-data`, `tr-models`, `tr-train`, `tr-infer`).

use anyhow::Context;
use clap::{Parser, Subcommand};

mod data;
mod evaluate;
mod models;
mod overlay;
mod predict;
mod segment_eval;
mod segment_train;
mod serve;
mod stage;

/// Handwritten text recognition: data, models, training and inference.
#[derive(Parser, Debug)]
#[command(name = "htr", version, about)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `tr_train=debug`.
    #[arg(long, global = true, env = "HTR_LOG", default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect datasets: sizes, shapes, label statistics, sample grids.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// List the model zoo: task, default data, parameter count, description.
    Models(models::ModelsArgs),
    /// Write the inference artifact of a run's best checkpoint.
    Stage(stage::StageArgs),
    /// Read the text of images with a model artifact (directory or hub id).
    Predict(predict::PredictArgs),
    /// Score page segmentation (line detection F1 at an IoU) and page CER
    /// against PAGE/ALTO ground truth.
    SegmentEval(segment_eval::SegmentEvalArgs),
    /// Train the U-Net line segmenter on page collections' line polygons.
    SegmentTrain(segment_train::SegmentTrainArgs),
    /// Serve the web page and the HTTP API (POST /v1/predict, /v1/flag,
    /// /healthz, /metrics) on loopback until Ctrl-C.
    Serve(serve::ServeArgs),
    /// Score a model artifact on a split of an experiment's data: CER and
    /// WER of greedy decoding and of the artifact's decoder (beam + LM).
    Evaluate(evaluate::EvaluateArgs),
    /// Train, validate, test or print an experiment config (dotted options
    /// such as `--trainer.max_epochs 10` override any config field).
    #[command(flatten)]
    Experiment(tr_train::cli::ExperimentCommand),
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (rest, overrides) = tr_train::cli::split_overrides(args.get(1..).unwrap_or_default())
        .context("reading the command line")?;
    let cli = Cli::parse_from(args.iter().take(1).cloned().chain(rest));
    tr_train::cli::init_tracing(&cli.log);
    // Before any thread starts: candle's matmuls re-read /proc/cpuinfo otherwise.
    tr_kernels::pin_thread_count();
    if !overrides.is_empty()
        && !matches!(cli.command, Command::Experiment(_) | Command::Evaluate(_))
    {
        anyhow::bail!(
            "dotted options such as --{} only apply to fit/validate/test/print-config/sweep/evaluate",
            overrides[0].key
        );
    }
    match cli.command {
        Command::Data(cmd) => data::run(cmd),
        Command::Models(args) => models::run(args),
        Command::Stage(args) => stage::run(&args, &mut std::io::stdout().lock()),
        Command::Predict(args) => predict::run(&args, &mut std::io::stdout().lock()),
        Command::SegmentEval(args) => segment_eval::run(&args, &mut std::io::stdout().lock()),
        Command::SegmentTrain(args) => segment_train::run(&args, &mut std::io::stdout().lock()),
        Command::Serve(args) => serve::run(&args),
        Command::Evaluate(args) => evaluate::run(&args, &overrides, &mut std::io::stdout().lock()),
        Command::Experiment(cmd) => {
            let mut stdout = std::io::stdout().lock();
            tr_train::cli::run(&cmd, &overrides, &mut stdout)?;
            Ok(())
        }
    }
}
