//! `htr stage`: the best checkpoint of a run → an inference artifact.
//!
//! ```text
//! htr stage --run runs/<id> [--metric val_cer] [--f16] --out DIR
//!           [--beam N [--lm-text FILE [--lm-order 6] [--lm-alpha 0.5] [--lm-beta 1.0]]]
//!           [--card-append FILE ...]
//! ```
//!
//! Argument handling, plus appending Markdown files to the model card:
//! choosing the checkpoint and writing the artifact is `tr_train::stage`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tr_infer::artifact::WeightsDType;
use tr_train::{stage, LmOptions, StageOptions};

/// Arguments of `htr stage`.
#[derive(Args, Debug, Clone)]
pub struct StageArgs {
    /// Run directory (`runs/<yyyymmdd-hhmmss>-<name>`).
    #[arg(long)]
    pub run: PathBuf,
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
    let opts = StageOptions {
        run: args.run.clone(),
        metric: args.metric.clone(),
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
    let sel = stage(&opts).with_context(|| format!("staging {}", args.run.display()))?;
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
