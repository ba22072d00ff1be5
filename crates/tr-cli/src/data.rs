//! `htr data stats|show|text`: look at a dataset before training on it.
//!
//! The subcommands build the dataset through the registry
//! ([`DatasetConfig::by_name`], parameters overridden with `--set key=value`)
//! from the data root (`--data-dir`, else `TR_DATA_DIR`, else `./data`).
//! `show` picks samples the way the loader's epoch 0 would (same seeded
//! order, same augmentation seeds), so the sheet shows what a model sees.
//! `text` writes a split's labels, one per line, without decoding any image
//! (the text `htr stage --lm-text` trains a language model on).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use tr_data::datasets::{DataModule, Dataset, DatasetConfig, Target, TargetKind};
use tr_data::render::{render_grid, save_png, GridOptions, Tile};
use tr_data::DataDir;
use tr_data::DataStats;
use tr_data::{aug_seed, DataLoader, LoaderConfig};

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Split sizes, image shape, label lengths and class/symbol counts.
    Stats(StatsArgs),
    /// Draw samples with their labels into a PNG grid.
    Show(ShowArgs),
    /// Write the labels of a split as text, one sample per line (e.g. the
    /// training transcriptions a language model is trained on).
    Text(TextArgs),
}

/// Which dataset, from where, with which parameters.
#[derive(Args, Debug)]
pub struct DatasetArgs {
    /// Registry name: mnist, emnist, emnist-lines, emnist-lines2, fake-images, ...
    pub dataset: String,
    /// Data root (default: $TR_DATA_DIR, else ./data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Override a dataset parameter, e.g. `--set max_length=16` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// PNG file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Split to draw from.
    #[arg(long, value_enum, default_value_t = Split::Train)]
    pub split: Split,
    /// Number of samples (all of the split if it has fewer).
    #[arg(long, default_value_t = 32)]
    pub count: usize,
    /// Seed of the sample choice and of their augmentation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct TextArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Text file to write (`-` = standard output).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Split whose labels to write.
    #[arg(long, value_enum, default_value_t = Split::Train)]
    pub split: Split,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Split {
    Train,
    Val,
    Test,
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Stats(args) => stats(&args),
        DataCommand::Show(args) => show(&args),
        DataCommand::Text(args) => text(&args),
    }
}

fn stats(args: &StatsArgs) -> Result<()> {
    let module = build(&args.dataset)?;
    let t = Instant::now();
    let stats = DataStats::compute(&module)
        .with_context(|| format!("computing statistics of {}", module.name))?;
    tracing::info!("statistics computed in {:.2} s", t.elapsed().as_secs_f64());
    print!("{stats}");
    Ok(())
}

fn show(args: &ShowArgs) -> Result<()> {
    if args.count == 0 {
        bail!("--count must be at least 1");
    }
    let module = build(&args.dataset)?;
    let (name, split) = args.split.of(&module);
    if split.is_empty() {
        bail!("the {name} split of {} is empty", module.name);
    }
    let t = Instant::now();
    let indices = pick(split, args.count, args.seed)?;
    let mut tiles = Vec::with_capacity(indices.len());
    let mut listing = Vec::with_capacity(indices.len());
    for &i in &indices {
        let sample = split.get(i, aug_seed(args.seed, 0, i)).with_context(|| {
            format!("loading sample {i} of the {name} split of {}", module.name)
        })?;
        let label = label_text(&module, &sample.target)
            .with_context(|| format!("decoding the label of sample {i} of the {name} split"))?;
        listing.push(format!("{i:>8}  {label:?}"));
        tiles.push(Tile::labelled(sample.image, &label));
    }
    let sheet = render_grid(&tiles, &GridOptions::default()).context("drawing the sample grid")?;
    save_png(&sheet, &args.out).context("writing the sample grid")?;
    tracing::info!(
        "{} samples drawn in {:.2} s",
        tiles.len(),
        t.elapsed().as_secs_f64()
    );
    println!(
        "wrote {} ({}x{} px): {} {name} samples of {}",
        args.out.display(),
        sheet.width(),
        sheet.height(),
        tiles.len(),
        module.name
    );
    println!("   index  label");
    for line in listing {
        println!("{line}");
    }
    Ok(())
}

fn text(args: &TextArgs) -> Result<()> {
    let module = build(&args.dataset)?;
    if module.target_kind != TargetKind::Sequence {
        bail!(
            "{} is a classification dataset; `htr data text` writes the label sequences of line and paragraph datasets",
            module.name
        );
    }
    let (name, split) = args.split.of(&module);
    let mut text = String::new();
    for i in 0..split.len() {
        let target = split
            .target(i)
            .with_context(|| format!("reading label {i} of the {name} split of {}", module.name))?;
        let label = label_text(&module, &target)
            .with_context(|| format!("decoding label {i} of the {name} split"))?;
        text.push_str(&label);
        text.push('\n');
    }
    if args.out.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("writing to standard output")?;
    } else {
        std::fs::write(&args.out, &text)
            .with_context(|| format!("writing {}", args.out.display()))?;
        tracing::info!(
            "wrote {} labels of the {name} split of {} to {}",
            split.len(),
            module.name,
            args.out.display()
        );
    }
    Ok(())
}

impl Split {
    /// The split's name and dataset in `module`.
    pub(crate) fn of(self, module: &DataModule) -> (&'static str, &Arc<dyn Dataset>) {
        match self {
            Split::Train => ("train", &module.train),
            Split::Val => ("val", &module.val),
            Split::Test => ("test", &module.test),
        }
    }
}

/// Builds the data module named by `args`, with its overrides applied.
fn build(args: &DatasetArgs) -> Result<DataModule> {
    let mut config = DatasetConfig::by_name(&args.dataset)?;
    for kv in &args.overrides {
        let Some((key, value)) = kv.split_once('=') else {
            bail!("--set expects KEY=VALUE, got {kv:?}");
        };
        config
            .set_str(key.trim(), value.trim())
            .with_context(|| format!("--set {kv} for dataset {}", args.dataset))?;
    }
    let dir = DataDir::resolve(args.data_dir.as_deref());
    let t = Instant::now();
    let module = config.build(&dir).with_context(|| {
        format!(
            "loading dataset {} from {}",
            args.dataset,
            dir.root().display()
        )
    })?;
    tracing::info!(
        "{} built in {:.2} s",
        module.name,
        t.elapsed().as_secs_f64()
    );
    Ok(module)
}

/// `count` indices of `split` in the order epoch 0 of a shuffling loader
/// seeded with `seed` visits them.
fn pick(split: &Arc<dyn Dataset>, count: usize, seed: u64) -> Result<Vec<usize>> {
    let cfg = LoaderConfig {
        shuffle: true,
        seed,
        ..LoaderConfig::default()
    };
    let loader = DataLoader::new(Arc::clone(split), cfg, &candle_core::Device::Cpu)?;
    let mut order = loader.epoch_order(0);
    order.truncate(count);
    Ok(order)
}

/// The text of a target: the class's symbol or the decoded sequence.
pub(crate) fn label_text(module: &DataModule, target: &Target) -> Result<String> {
    Ok(match target {
        Target::Class(c) => module
            .vocab
            .symbol(*c)
            .with_context(|| {
                format!(
                    "class {c} is outside the {}-symbol vocabulary",
                    module.vocab.len()
                )
            })?
            .to_string(),
        Target::Sequence(labels) => module.vocab.decode(labels)?,
    })
}
