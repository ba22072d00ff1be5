//! `cargo xtask <command>`: a thin clap dispatcher over the [`xtask`] library,
//! one subcommand per module.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use xtask::{download, lab};

mod bench;

/// Project automation for tr: datasets, lab reproductions, benchmarks.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `xtask=debug`.
    #[arg(long, global = true, env = "XTASK_LOG", default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fetch or import a dataset, verify its digests and extract it.
    Download(download::DownloadArgs),
    /// Run a lab's experiments in order and print a results table.
    Lab(lab::LabArgs),
    /// Time CPU training steps and inference of the line models (docs/performance.md).
    ///
    /// One row per model, each measured in child processes of its own:
    /// fwd_ms, bwd_ms, opt_ms (medians of the forward pass with the CTC
    /// loss, backward pass and AdamW step at the model's batch, --threads
    /// threads); samples/s (batch / their sum); peak_rss_MB (peak RSS of the
    /// training process); latency_1t_ms (median eval-mode latency of one
    /// line, 1 thread); predict_rss_MB (peak RSS of a separate process that
    /// only builds the model and reads one line, the counterpart of `htr
    /// predict` on one line). bench/torch_bench.py prints the PyTorch and
    /// onnxruntime figures.
    ///
    /// `cargo xtask bench serve [--clients 64] [--duration-s 30]`: the HTTP
    /// server (tr-serve) under load on loopback: throughput, p50/p99 latency,
    /// errors and the server's RSS at start and end, next to the
    /// single-request latency (docs/serve.md).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log);
    // Before any thread starts: candle's matmuls re-read /proc/cpuinfo otherwise.
    tr_kernels::pin_thread_count();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Download(args) => {
            let summary =
                download::run(&args).with_context(|| format!("download {}", args.dataset))?;
            println!("{summary}");
        }
        Command::Lab(args) => {
            let table = lab::run(&args).with_context(|| format!("lab {}", args.number))?;
            println!("{table}");
        }
        Command::Bench(args) => println!("{}", bench::run(&args).context("bench")?),
    }
    Ok(())
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
