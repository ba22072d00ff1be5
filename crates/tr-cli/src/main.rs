//! `htr`: the command-line front end of tr.
//!
//! A thin dispatcher: every subcommand lives in its own module and calls into
//! the library crates (`tr-data`, `tr-models`, `tr-train`, `tr-infer`).

use clap::{Parser, Subcommand};

mod data;
mod models;

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(&cli.log);
    match cli.command {
        Command::Data(cmd) => data::run(cmd),
        Command::Models(args) => models::run(args),
    }
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
