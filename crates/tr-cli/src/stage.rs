//! `htr stage`: the best checkpoint of a run → an inference artifact.
//!
//! ```text
//! htr stage --run runs/<id> [--metric val_cer] [--f16] --out DIR
//! htr stage --best-of runs/ [--metric val_cer] [--dataset NAME] [--f16] --out DIR
//!           [--beam N [--lm-text FILE [--lm-order 6] [--lm-alpha 0.5] [--lm-beta 1.0]]]
//!           [--card-append FILE ...]
//! ```
//!
//! `--best-of DIR` stages the best checkpoint across every run under `DIR`
//! (only the runs trained on `--dataset`, a dataset registry name, when
//! given), by `--metric` (default `val_cer`; lower is better unless the
//! name ends in `acc`/`accuracy`), as the course's `save_best_model` does
//! (`tr_train::run::best_of_runs`); it prints every candidate run.
//!
//! Argument handling, plus appending Markdown files to the model card:
//! choosing the checkpoint and writing the artifact is `tr_train::stage`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tr_infer::artifact::WeightsDType;
use tr_train::run::{best_of_runs, Monitor};
use tr_train::{stage, LmOptions, StageOptions};

/// Arguments of `htr stage`.
#[derive(Args, Debug, Clone)]
pub struct StageArgs {
    /// Run directory (`runs/<yyyymmdd-hhmmss>-<name>`).
    #[arg(long, required_unless_present = "best_of", conflicts_with = "best_of")]
    pub run: Option<PathBuf>,
    /// Stage the best checkpoint across every run under this folder.
    #[arg(long, value_name = "RUNS_DIR")]
    pub best_of: Option<PathBuf>,
    /// With --best-of: only runs trained on this dataset (registry name).
    #[arg(long, requires = "best_of")]
    pub dataset: Option<String>,
    /// Validation metric that picks the checkpoint (default: the run's monitor).
    #[arg(long)]
    pub metric: Option<String>,
    /// Store the weights as f16 (half the size).
    #[arg(long)]
    pub f16: bool,
    /// Artifact directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite a non-empty output directory.
    #[arg(long)]
    pub force: bool,
    /// Default decoder: beam search of this width (default: greedy).
    #[arg(long)]
    pub beam: Option<usize>,
    /// Train a character n-gram LM on the lines of this text file and ship it
    /// for beam search (needs --beam).
    #[arg(long)]
    pub lm_text: Option<PathBuf>,
    /// Order of that LM.
    #[arg(long, default_value_t = 6)]
    pub lm_order: usize,
    /// LM weight (on natural-log probabilities).
    #[arg(long, default_value_t = 0.5)]
    pub lm_alpha: f32,
    /// Bonus per character (nats).
    #[arg(long, default_value_t = 1.0)]
    pub lm_beta: f32,
    /// Append this Markdown file to the model card (`README.md`), e.g. the
    /// licence and attribution of the training data, or test scores from
    /// `htr evaluate` (repeatable, in order).
    #[arg(long, value_name = "FILE")]
    pub card_append: Vec<PathBuf>,
}

/// Runs `htr stage`, printing what was staged where.
pub fn run(args: &StageArgs, out: &mut dyn std::io::Write) -> Result<()> {
    let (run, metric) = match (&args.run, &args.best_of) {
        (Some(run), _) => (run.clone(), args.metric.clone()),
        (None, Some(runs)) => {
            let metric = args.metric.clone().unwrap_or_else(|| "val_cer".into());
            let monitor = Monitor::new(metric.clone(), None);
            let found = best_of_runs(runs, &monitor, args.dataset.as_deref())
                .with_context(|| format!("--best-of {}", runs.display()))?;
            for c in &found.candidates {
                writeln!(
                    out,
                    "candidate {} ({}): {} = {:.4} at step {}",
                    c.run.display(),
                    c.dataset.as_deref().unwrap_or("dataset not recorded"),
                    c.selected.metric,
                    c.selected.score,
                    c.selected.step
                )?;
            }
            for (dir, why) in &found.passed_over {
                tracing::info!("passed over {}: {why}", dir.display());
            }
            (found.best.run, Some(metric))
        }
        (None, None) => anyhow::bail!("give --run RUN or --best-of RUNS_DIR"),
    };
    let opts = StageOptions {
        run: run.clone(),
        metric,
        out: args.out.clone(),
        force: args.force,
        weights_dtype: if args.f16 {
            WeightsDType::F16
        } else {
            WeightsDType::F32
        },
        beam: args.beam,
        lm: args.lm_text.as_ref().map(|text| LmOptions {
            text: text.clone(),
            order: args.lm_order,
            alpha: args.lm_alpha,
            beta: args.lm_beta,
        }),
    };
    // Read the additions first: a missing file fails before anything is written.
    let additions = args
        .card_append
        .iter()
        .map(|p| {
            std::fs::read_to_string(p).with_context(|| format!("--card-append {}", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let sel = stage(&opts).with_context(|| format!("staging {}", run.display()))?;
    if !additions.is_empty() {
        let card = args.out.join(tr_infer::artifact::CARD_FILE);
        let mut text = std::fs::read_to_string(&card)
            .with_context(|| format!("reading {}", card.display()))?;
        for a in &additions {
            text.push('\n');
            text.push_str(a.trim_end());
            text.push('\n');
        }
        std::fs::write(&card, text).with_context(|| format!("writing {}", card.display()))?;
    }
    writeln!(
        out,
        "staged {} ({} = {:.4}) -> {}",
        sel.path.display(),
        sel.metric,
        sel.score,
        args.out.display()
    )?;
    Ok(())
}
