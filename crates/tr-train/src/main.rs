//! `tr-train`: trains, validates and tests tr experiments (the same commands
//! as `htr fit|validate|test|print-config`).
//!
//! ```text
//! cargo run --release -p tr-train                      # default: line-cnn + CTC on emnist-lines
//! cargo run --release -p tr-train -- fit --config configs/lab3/line_cnn_ctc.yaml --trainer.max_epochs 5
//! cargo run --release -p tr-train -- test --config configs/lab3/line_cnn_ctc.yaml --ckpt best
//! ```

use anyhow::Context;
use clap::Parser;
use tr_train::cli::{run, split_overrides, ExperimentArgs, ExperimentCommand};

/// Train handwritten-text recognizers. Dotted options (`--trainer.max_epochs 10`)
/// override any config field.
#[derive(Parser, Debug)]
#[command(name = "tr-train", version, about)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `tr_train=debug`.
    #[arg(long, global = true, env = "HTR_LOG", default_value = "info")]
    log: String,
    /// What to do; `fit` with the default config when absent.
    #[command(subcommand)]
    command: Option<ExperimentCommand>,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (rest, overrides) = split_overrides(&args[1..]).context("reading the command line")?;
    let cli = Cli::parse_from(std::iter::once(args[0].clone()).chain(rest));
    tr_train::cli::init_tracing(&cli.log);
    // Before any thread starts: candle's matmuls re-read /proc/cpuinfo otherwise.
    tr_kernels::pin_thread_count();
    let command = cli
        .command
        .unwrap_or(ExperimentCommand::Fit(ExperimentArgs::default()));
    let mut stdout = std::io::stdout().lock();
    run(&command, &overrides, &mut stdout)?;
    Ok(())
}
