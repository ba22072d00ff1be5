//! `htr predict`: read the text of image files — lines or whole pages —
//! with a model artifact.
//!
//! ```text
//! htr predict [--model DIR|owner/name|bundled] IMAGE... [--layout line|page]
//!             [--format text|json|page-xml|alto|hocr] [--json] [--out-dir DIR] [--png OUT]
//!             [--beam N | --greedy] [--batch-size N] [--polarity auto|bright-ink|dark-ink]
//!             [--no-contrast-stretch] [--no-flip] [--segmenter DIR] [--max-pixels N]
//! ```
//!
//! `--model` is an artifact directory (from `htr stage`) or, when no such
//! directory exists, a Hugging Face hub repository id (endpoint from
//! `HF_ENDPOINT`). Without `--model` (or with `--model bundled`) the English
//! line model embedded in the binary reads the images (`tr_infer::BUNDLED_CARD`).
//! `-` as an image reads standard input.
//!
//! **Line or page.** A paragraph model (vocabulary with `\n`, e.g.
//! `resnet-transformer`) reads every image whole. A line model reads an
//! image as one line or as a page of lines (segmented, each line read, see
//! `tr_infer::ParagraphTextRecognizer`): `--layout line|page` says which;
//! without it, an image at least twice the model's input height where the
//! segmenter finds more than one line is a page, anything else a line. A page turned upside down is detected
//! (`--no-flip` turns that off).
//!
//! **Output** (`--format`, default `text`):
//!
//! * `text`: the image's text, lines of a page separated by `\n`, then a
//!   newline;
//! * `json` (`--json` is the same): one JSON object per image and line of
//!   output: `image`, `layout` (`line`/`page`), `text`, `confidence`,
//!   `char_confidences`, `inverted`, `decoder`, `load_ms`, `predict_ms`;
//!   line reads add `steps` and `x`, page reads add `rotation`, `skew_deg`,
//!   `width`, `height` and `regions` (lines with `polygon`, `baseline`,
//!   `bbox`, `confidence`, `char_confidences`: `tr_data::layout::page_json`);
//!   a failed image gives `image` and `error`;
//! * `page-xml` (PAGE 2019), `alto` (ALTO v4), `hocr`: one document per
//!   image, read back by `tr_data::layout::read_page` (PAGE/ALTO); a line
//!   read is a page with one line covering the image. One image: to
//!   standard output; several: `--out-dir DIR` is required, and each goes
//!   to `DIR/<image stem>.xml` (`.html` for hOCR). The image is named as
//!   given on the command line.
//!
//! `--png OUT` draws each line's polygon and its text over the image (one
//! image: the file `OUT`; several: the directory `OUT`, `<stem>.png` each).
//!
//! Every failing image is reported on stderr, the others are still
//! printed, and the exit code is non-zero if any failed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use image::DynamicImage;
use tr_data::layout::{page_json, write_alto, write_hocr, write_page_xml, WriteOptions};
use tr_infer::{
    load_image_file, Artifact, LinePrediction, PagePrediction, ParagraphTextRecognizer, Polarity,
    Prediction, Preprocessing, Segmenter,
};

use crate::overlay;

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
    /// Read each image as one line or as a page (default: the segmenter decides).
    #[arg(long, value_enum)]
    pub layout: Option<LayoutArg>,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Same as `--format json`.
    #[arg(long)]
    pub json: bool,
    /// Folder for the per-image documents of `--format page-xml|alto|hocr`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Draw the line polygons and the text over the image into this PNG.
    #[arg(long, value_name = "OUT")]
    pub png: Option<PathBuf>,
    /// Find a page's lines with this trained segmenter (`htr segment-train`)
    /// instead of the classical one.
    #[arg(long, value_name = "DIR")]
    pub segmenter: Option<PathBuf>,
    /// Do not test a page's orientation (upside down, a quarter turn): read it as it is.
    #[arg(long)]
    pub no_flip: bool,
    /// Beam search of this width (keeps the artifact's language model, if any).
    #[arg(long, conflicts_with = "greedy")]
    pub beam: Option<usize>,
    /// Best-path (greedy) decoding instead of the artifact's decoder: no
    /// beam, no language model; faster.
    #[arg(long)]
    pub greedy: bool,
    /// Images (or a page's lines) per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Ink polarity of the images.
    #[arg(long, value_enum, default_value = "auto")]
    pub polarity: PolarityArg,
    /// Keep the grey levels as they are (no background/ink contrast stretch).
    #[arg(long)]
    pub no_contrast_stretch: bool,
    /// Refuse images with more pixels than this (checked before decoding).
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

/// `--layout` values.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutArg {
    Line,
    Page,
}

/// `--format` values.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    PageXml,
    Alto,
    Hocr,
}

impl Format {
    fn is_document(self) -> bool {
        matches!(self, Format::PageXml | Format::Alto | Format::Hocr)
    }
}

/// One image read: as a page (a line read is a page of one line covering
/// the image), with the line read's own prediction when it was one.
struct Reading {
    page: PagePrediction,
    line: Option<Prediction>,
    load_ms: f64,
    predict_ms: f64,
}

/// Runs `htr predict`.
pub fn run(args: &PredictArgs, out: &mut dyn std::io::Write) -> Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let format = match (args.format, args.json) {
        (Some(f), true) if f != Format::Json => {
            bail!("--json is --format json; it cannot go with --format {f:?}")
        }
        (Some(f), _) => f,
        (None, true) => Format::Json,
        (None, false) => Format::Text,
    };
    let several = args.images.len() > 1;
    if format.is_document() && several && args.out_dir.is_none() {
        bail!(
            "--format {format:?} writes one document per image: give --out-dir DIR for {} images",
            args.images.len()
        );
    }
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("--out-dir {}", dir.display()))?;
    }
    if let (Some(png), true) = (&args.png, several) {
        std::fs::create_dir_all(png)
            .with_context(|| format!("--png {} (a folder, for several images)", png.display()))?;
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
    let mut recognizer = ParagraphTextRecognizer::from_artifact(artifact)?
        .with_preprocessing(preprocessing)
        .with_batch_size(args.batch_size)?;
    if let Some(w) = args.beam {
        recognizer
            .set_decoder(recognizer.beam_decoder(w))
            .context("--beam")?;
    }
    if args.greedy {
        recognizer
            .set_decoder(tr_infer::DecoderConfig::Greedy)
            .context("--greedy")?;
    }
    if recognizer.segments_lines() {
        recognizer = recognizer.with_segmenter(Segmenter {
            detect_upside_down: !args.no_flip,
            detect_sideways: !args.no_flip,
            ..Segmenter::default()
        })?;
        if let Some(dir) = &args.segmenter {
            let t = tr_infer::MaskSegmenter::load(dir)
                .with_context(|| format!("--segmenter {}", dir.display()))?;
            recognizer = recognizer.with_mask_segmenter(t)?;
        }
    } else if args.layout == Some(LayoutArg::Line) {
        bail!(
            "--layout line: {} reads whole paragraphs (its vocabulary has \\n); drop --layout",
            recognizer.config().model.name()
        );
    }
    let decoder = recognizer.decoder().label();

    let mut failed = 0usize;
    for chunk in args.images.chunks(args.batch_size) {
        let results = read_chunk(&recognizer, args, chunk);
        for (path, r) in chunk.iter().zip(results) {
            match r {
                Ok(reading) => {
                    write_reading(args, format, &decoder, path, &reading, out)?;
                    if let Some(png) = &args.png {
                        let target = if several {
                            png.join(format!("{}.png", stem(path)))
                        } else {
                            png.clone()
                        };
                        draw(path, &reading.page, &target, args.max_pixels)?;
                    }
                }
                Err(e) => {
                    failed += 1;
                    tracing::error!("{e}");
                    if format == Format::Json {
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

/// Loads and reads a chunk of images: line reads batched together, pages
/// one by one. Errors are messages naming the file.
fn read_chunk(
    r: &ParagraphTextRecognizer,
    args: &PredictArgs,
    chunk: &[PathBuf],
) -> Vec<std::result::Result<Reading, String>> {
    let mut results: Vec<Option<std::result::Result<Reading, String>>> =
        (0..chunk.len()).map(|_| None).collect();
    let mut lines: Vec<(usize, DynamicImage, f64)> = Vec::new();
    for (i, path) in chunk.iter().enumerate() {
        let t = Instant::now();
        let img = match load_image_file(path, args.max_pixels) {
            Ok(img) => img,
            Err(e) => {
                results[i] = Some(Err(e.to_string()));
                continue;
            }
        };
        let load_ms = ms(t);
        let as_page = match (r.segments_lines(), args.layout) {
            (false, _) | (true, Some(LayoutArg::Page)) => true,
            (true, Some(LayoutArg::Line)) => false,
            (true, None) => match r.looks_like_page(&img) {
                Ok(page) => page,
                Err(e) => {
                    results[i] = Some(Err(format!("{}: {e}", path.display())));
                    continue;
                }
            },
        };
        if as_page {
            let t = Instant::now();
            results[i] = Some(
                r.predict_page(&img)
                    .map(|page| Reading {
                        page,
                        line: None,
                        load_ms,
                        predict_ms: ms(t),
                    })
                    .map_err(|e| format!("{}: {e}", path.display())),
            );
        } else {
            lines.push((i, img, load_ms));
        }
    }
    if !lines.is_empty() {
        let images: Vec<DynamicImage> = lines.iter().map(|(_, img, _)| img.clone()).collect();
        let t = Instant::now();
        match r.predict_line_batch(&images) {
            Ok(preds) => {
                let each = ms(t) / images.len() as f64;
                for ((i, img, load_ms), p) in lines.iter().zip(preds) {
                    results[*i] = Some(Ok(line_reading(img, p, *load_ms, each)));
                }
            }
            // One bad image fails the batch: redo it image by image to find it.
            Err(_) => {
                for (i, img, load_ms) in &lines {
                    let t = Instant::now();
                    results[*i] = Some(
                        r.predict_line_batch(std::slice::from_ref(img))
                            .map(|mut v| line_reading(img, v.remove(0), *load_ms, ms(t)))
                            .map_err(|e| format!("{}: {e}", chunk[*i].display())),
                    );
                }
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("not read".into())))
        .collect()
}

/// A line read as a page of one line covering the image (none if empty).
fn line_reading(img: &DynamicImage, p: Prediction, load_ms: f64, predict_ms: f64) -> Reading {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let lines = if p.text.is_empty() {
        Vec::new()
    } else {
        vec![LinePrediction {
            polygon: vec![(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)],
            baseline: None,
            bbox: [0.0, 0.0, w, h],
            prediction: p.clone(),
        }]
    };
    Reading {
        page: PagePrediction {
            text: p.text.clone(),
            lines,
            width: img.width(),
            height: img.height(),
            rotation: 0,
            skew_deg: 0.0,
            inverted: p.inverted,
        },
        line: Some(p),
        load_ms,
        predict_ms,
    }
}

fn write_reading(
    args: &PredictArgs,
    format: Format,
    decoder: &str,
    path: &Path,
    r: &Reading,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    let opts = WriteOptions {
        image_name: Some(path.display().to_string()),
        ..WriteOptions::default()
    };
    let page = r.page.to_page(Some(path.to_path_buf()));
    let doc = match format {
        Format::Text => {
            writeln!(out, "{}", r.page.text)?;
            return Ok(());
        }
        Format::Json => {
            let summary = r.page.to_prediction();
            let mut v = serde_json::json!({
                "image": path,
                "layout": if r.line.is_some() { "line" } else { "page" },
                "text": r.page.text,
                "confidence": summary.confidence,
                "char_confidences": summary.char_confidences,
                "inverted": r.page.inverted,
                "decoder": decoder,
                "load_ms": r.load_ms,
                "predict_ms": r.predict_ms,
            });
            if let Some(p) = &r.line {
                v["steps"] = serde_json::json!(p.steps);
                v["x"] = serde_json::json!(p.x);
            } else {
                let pj = page_json(&page, &opts);
                v["rotation"] = serde_json::json!(r.page.rotation);
                v["skew_deg"] = serde_json::json!(r.page.skew_deg);
                v["width"] = pj["width"].clone();
                v["height"] = pj["height"].clone();
                v["regions"] = pj["regions"].clone();
            }
            writeln!(out, "{v}")?;
            return Ok(());
        }
        Format::PageXml => write_page_xml(&page, &opts),
        Format::Alto => write_alto(&page, &opts),
        Format::Hocr => write_hocr(&page, &opts),
    };
    match &args.out_dir {
        Some(dir) => {
            let ext = if format == Format::Hocr {
                "html"
            } else {
                "xml"
            };
            let target = dir.join(format!("{}.{ext}", stem(path)));
            std::fs::write(&target, doc)
                .with_context(|| format!("writing {}", target.display()))?;
        }
        None => out.write_all(doc.as_bytes())?,
    }
    Ok(())
}

/// The file stem of an image path (`stdin` for `-`).
fn stem(path: &Path) -> String {
    if path == Path::new("-") {
        return "stdin".into();
    }
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into())
}

fn draw(path: &Path, page: &PagePrediction, target: &Path, max_pixels: u64) -> Result<()> {
    // Standard input cannot be read twice: draw on a blank page of its size.
    let img = if path == Path::new("-") {
        DynamicImage::new_luma8(page.width, page.height)
    } else {
        load_image_file(path, max_pixels)?
    };
    overlay::draw_page(&img, page)
        .save(target)
        .with_context(|| format!("--png {}", target.display()))
}

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
