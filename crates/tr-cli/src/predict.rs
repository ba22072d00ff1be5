//! `htr predict`: read the text of image files with a model artifact.
//!
//! ```text
//! htr predict [--model DIR|owner/name|bundled] IMAGE... [--json] [--beam N] [--batch-size N]
//!             [--polarity auto|bright-ink|dark-ink] [--no-contrast-stretch] [--max-pixels N]
//! ```
//!
//! `--model` is an artifact directory (from `htr stage`) or, when no such
//! directory exists, a Hugging Face hub repository id (endpoint from
//! `HF_ENDPOINT`). Without `--model` (or with `--model bundled`) the English
//! line model embedded in the binary reads the images (`tr_infer::BUNDLED_CARD`). `resnet-transformer` artifacts read paragraphs, every
//! other model single lines. `-` as an image reads standard input.
//!
//! Output: one line of text per image, in order; with `--json`, one JSON
//! object per line (`image`, `text`, `confidence`, `char_confidences`,
//! `steps`, `x`, `inverted`, `decoder`, `load_ms`, `predict_ms` — the
//! forward pass and decoding time of the image's batch divided by its
//! size), or `image` and `error` for an image that failed. Every failing
//! image is reported on stderr, the others are still printed, and the exit
//! code is non-zero if any failed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use image::DynamicImage;
use tr_infer::{
    load_image_file, Artifact, LineTextRecognizer, ParagraphTextRecognizer, Polarity, Prediction,
    Preprocessing,
};

/// Arguments of `htr predict`.
#[derive(Args, Debug, Clone)]
pub struct PredictArgs {
    /// Artifact directory, hub repository id (`owner/name`) or `bundled`
    /// (the default: the English line model embedded in the binary).
    #[arg(long, default_value = "bundled")]
    pub model: String,
    /// Image files (`-` = standard input).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// One JSON object per image instead of plain text.
    #[arg(long)]
    pub json: bool,
    /// Beam search of this width (keeps the artifact's language model, if any).
    #[arg(long)]
    pub beam: Option<usize>,
    /// Images per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Ink polarity of the images.
    #[arg(long, value_enum, default_value = "auto")]
    pub polarity: PolarityArg,
    /// Keep the grey levels as they are (no background/ink contrast stretch).
    #[arg(long)]
    pub no_contrast_stretch: bool,
    /// Refuse images with more pixels than this.
    #[arg(long, default_value_t = tr_infer::DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
}

/// `--polarity` values.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum PolarityArg {
    Auto,
    BrightInk,
    DarkInk,
}

/// Either recogniser, chosen by the artifact's model.
enum Recognizer {
    Line(LineTextRecognizer),
    Paragraph(ParagraphTextRecognizer),
}

impl Recognizer {
    fn predict_batch(&self, images: &[DynamicImage]) -> tr_infer::Result<Vec<Prediction>> {
        match self {
            Recognizer::Line(r) => r.predict_batch(images),
            Recognizer::Paragraph(r) => r.predict_batch(images),
        }
    }
}

/// Runs `htr predict`.
pub fn run(args: &PredictArgs, out: &mut dyn std::io::Write) -> Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let artifact = load_artifact(&args.model)?;
    let preprocessing = Preprocessing {
        max_pixels: args.max_pixels,
        polarity: match args.polarity {
            PolarityArg::Auto => Polarity::Auto,
            PolarityArg::BrightInk => Polarity::BrightInk,
            PolarityArg::DarkInk => Polarity::DarkInk,
        },
        stretch_contrast: !args.no_contrast_stretch,
        ..Preprocessing::default()
    };
    let paragraph = artifact.config.data_spec().reads_paragraphs();
    let recognizer = if paragraph {
        let mut r = ParagraphTextRecognizer::from_artifact(artifact)?
            .with_preprocessing(preprocessing)
            .with_batch_size(args.batch_size)?;
        if let Some(w) = args.beam {
            r.set_decoder(r.beam_decoder(w)).context("--beam")?;
        }
        Recognizer::Paragraph(r)
    } else {
        let mut r = LineTextRecognizer::from_artifact(artifact)?
            .with_preprocessing(preprocessing)
            .with_batch_size(args.batch_size)?;
        if let Some(w) = args.beam {
            r.set_decoder(r.beam_decoder(w)).context("--beam")?;
        }
        Recognizer::Line(r)
    };
    let decoder = match &recognizer {
        Recognizer::Line(r) => r.decoder().label(),
        Recognizer::Paragraph(r) => r.decoder().label(),
    };

    let mut failed = 0usize;
    for chunk in args.images.chunks(args.batch_size) {
        // Decode the files; a file that cannot be read is reported and skipped.
        let mut loaded: Vec<(&Path, DynamicImage, f64)> = Vec::new();
        let mut results: Vec<(&Path, Outcome)> = Vec::new();
        for path in chunk {
            let t = Instant::now();
            match load_image_file(path, args.max_pixels) {
                Ok(img) => loaded.push((path, img, ms(t))),
                Err(e) => results.push((path, Err(e.to_string()))),
            }
        }
        let images: Vec<DynamicImage> = loaded.iter().map(|(_, i, _)| i.clone()).collect();
        let t = Instant::now();
        let batch = if images.is_empty() {
            Ok(Vec::new())
        } else {
            recognizer.predict_batch(&images)
        };
        match batch {
            Ok(preds) => {
                let each = ms(t) / images.len().max(1) as f64;
                for ((path, _, load), p) in loaded.iter().zip(preds) {
                    results.push((path, Ok((p, *load, each))));
                }
            }
            // One bad image fails the batch: redo it image by image to find it.
            Err(_) => {
                for (path, img, load) in &loaded {
                    let t = Instant::now();
                    let r = recognizer
                        .predict_batch(std::slice::from_ref(img))
                        .map(|mut v| v.remove(0));
                    results.push((
                        path,
                        r.map(|p| (p, *load, ms(t)))
                            .map_err(|e| format!("{}: {e}", path.display())),
                    ));
                }
            }
        }
        // Report in input order.
        for path in chunk {
            let Some((_, r)) = results.iter().find(|(p, _)| *p == path.as_path()) else {
                continue;
            };
            match r {
                Ok((p, load_ms, predict_ms)) => {
                    if args.json {
                        let v = serde_json::json!({
                            "image": path,
                            "text": p.text,
                            "confidence": p.confidence,
                            "char_confidences": p.char_confidences,
                            "steps": p.steps,
                            "x": p.x,
                            "inverted": p.inverted,
                            "decoder": decoder,
                            "load_ms": load_ms,
                            "predict_ms": predict_ms,
                        });
                        writeln!(out, "{v}")?;
                    } else {
                        writeln!(out, "{}", p.text)?;
                    }
                }
                Err(e) => {
                    failed += 1;
                    // Every message names the file already.
                    tracing::error!("{e}");
                    if args.json {
                        writeln!(out, "{}", serde_json::json!({"image": path, "error": e}))?;
                    }
                }
            }
        }
    }
    out.flush()?;
    if failed > 0 {
        bail!("{failed} of {} images could not be read", args.images.len());
    }
    Ok(())
}

/// What became of one image: its prediction with the milliseconds spent
/// loading and predicting it, or the error message.
type Outcome = std::result::Result<(Prediction, f64, f64), String>;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The artifact `--model` names: `bundled`, a directory or a hub repository.
pub(crate) fn load_artifact(model: &str) -> Result<Artifact> {
    if model == "bundled" {
        return tr_infer::bundled_artifact(&candle_core::Device::Cpu)
            .context("loading the bundled model");
    }
    let dir = resolve_model(model)?;
    Artifact::load(&dir).with_context(|| format!("loading model {model}"))
}

/// An artifact directory, or the hub repository `model` names.
fn resolve_model(model: &str) -> Result<PathBuf> {
    let path = Path::new(model);
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let looks_like_repo =
        model.split('/').count() == 2 && !model.starts_with('.') && !model.starts_with('/');
    if !looks_like_repo {
        bail!(
            "--model {model}: no such artifact directory (and not a hub repository id owner/name)"
        );
    }
    tracing::info!("fetching {model} from the hub");
    tr_infer::fetch_artifact(model, &tr_infer::HubOptions::default())
        .with_context(|| format!("--model {model}: not a local directory, so fetched from the hub"))
}
