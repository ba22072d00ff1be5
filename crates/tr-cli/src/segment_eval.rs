//! `htr segment-eval`: how well pages are segmented and read, against the
//! line polygons and transcriptions of PAGE/ALTO ground truth.
//!
//! ```text
//! htr segment-eval --pages DIR [--split test] [--model DIR|owner/name|bundled]
//!                  [--segmenter DIR] [--iou 0.5] [--no-read] [--beam N] [--limit N] [--json]
//! ```
//!
//! `DIR` is a page collection laid out as the shared ones are
//! (`xml/<id>.xml` naming its image, `splits/<split>.txt` listing page ids);
//! without `splits/`, every `xml/*.xml` (or `*.xml` in `DIR`) is a page.
//! Ground truth is every line the reader keeps (non-empty text, usable
//! polygon). Per page, and summed over the pages:
//!
//! * **detection**: predicted line polygons matched one to one to the
//!   ground-truth ones at IoU ≥ `--iou` (`tr_data::layout::match_lines`):
//!   precision, recall, F1 (from the summed counts);
//! * **page CER** (unless `--no-read`): the page read by
//!   `ParagraphTextRecognizer` (segmented, lines joined by `\n`) against the
//!   ground-truth lines joined by `\n`, corpus-level (Σ edits / Σ reference
//!   characters, the line breaks counted as characters);
//! * **line CER with ground-truth lines**: each ground-truth line cut out
//!   of the page (polygon, padding 8, as `page-lines` trains) and read by
//!   the same model, joined by `\n` and scored the same way — the CER the
//!   segmentation would give if it were perfect;
//! * seconds per page of segmentation + reading.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use image::DynamicImage;
use tr_data::layout::{
    crop_line, match_lines, page_image, read_page, CropOptions, DetectionScores, ReadOptions,
};
use tr_infer::ParagraphTextRecognizer;
use tr_lit::edit_distance;

use crate::data::Split;
use crate::predict::load_artifact;

/// Arguments of `htr segment-eval`.
#[derive(Args, Debug, Clone)]
pub struct SegmentEvalArgs {
    /// Page collection: `xml/*.xml` (+ `splits/<split>.txt`), or a folder of XML files.
    #[arg(long, value_name = "DIR")]
    pub pages: PathBuf,
    /// Split listed in `DIR/splits/` to score.
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
    /// Artifact directory, hub repository id or `bundled` (default): a line model.
    #[arg(long, default_value = "bundled")]
    pub model: String,
    /// A trained segmenter (folder from `htr segment-train`) instead of the classical one.
    #[arg(long, value_name = "DIR")]
    pub segmenter: Option<PathBuf>,
    /// IoU at which a predicted line matches a ground-truth line.
    #[arg(long, default_value_t = 0.5)]
    pub iou: f32,
    /// Segment only: detection scores, no reading.
    #[arg(long)]
    pub no_read: bool,
    /// Beam search of this width for reading (keeps the artifact's LM).
    #[arg(long)]
    pub beam: Option<usize>,
    /// Score at most this many pages.
    #[arg(long)]
    pub limit: Option<usize>,
    /// One JSON object per page, then the totals.
    #[arg(long)]
    pub json: bool,
}

/// Scores of a page or of all of them.
#[derive(Clone, Debug, Default, serde::Serialize)]
struct Totals {
    pages: usize,
    detection: Counts,
    page_edits: usize,
    gt_line_edits: usize,
    reference_chars: usize,
    seconds: f64,
}

#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
struct Counts {
    predicted: usize,
    truth: usize,
    matched: usize,
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.pages += o.pages;
        self.detection.predicted += o.detection.predicted;
        self.detection.truth += o.detection.truth;
        self.detection.matched += o.detection.matched;
        self.page_edits += o.page_edits;
        self.gt_line_edits += o.gt_line_edits;
        self.reference_chars += o.reference_chars;
        self.seconds += o.seconds;
    }

    fn scores(&self) -> DetectionScores {
        DetectionScores {
            predicted: self.detection.predicted,
            truth: self.detection.truth,
            matched: self.detection.matched,
        }
    }

    fn summary(&self, read: bool) -> serde_json::Value {
        let s = self.scores();
        let cer = |e: usize| {
            (read && self.reference_chars > 0).then(|| e as f64 / self.reference_chars as f64)
        };
        serde_json::json!({
            "pages": self.pages,
            "truth_lines": s.truth,
            "predicted_lines": s.predicted,
            "matched": s.matched,
            "precision": s.precision(),
            "recall": s.recall(),
            "f1": s.f1(),
            "page_cer": cer(self.page_edits),
            "gt_line_cer": cer(self.gt_line_edits),
            "seconds_per_page": self.seconds / self.pages.max(1) as f64,
        })
    }
}

/// The XML files of the split (or of the whole folder).
fn page_files(dir: &Path, split: Split) -> Result<Vec<PathBuf>> {
    let xml_dir = if dir.join("xml").is_dir() {
        dir.join("xml")
    } else {
        dir.to_path_buf()
    };
    let name = match split {
        Split::Train => "train",
        Split::Val => "val",
        Split::Test => "test",
    };
    let list = dir.join("splits").join(format!("{name}.txt"));
    if list.is_file() {
        let text = std::fs::read_to_string(&list)
            .with_context(|| format!("reading {}", list.display()))?;
        let files: Vec<PathBuf> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|id| xml_dir.join(format!("{id}.xml")))
            .collect();
        if let Some(missing) = files.iter().find(|f| !f.is_file()) {
            bail!(
                "{} lists {}, which does not exist",
                list.display(),
                missing.display()
            );
        }
        return Ok(files);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&xml_dir)
        .with_context(|| format!("--pages {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "--pages {}: no splits/{}.txt and no XML files in {}",
            dir.display(),
            name,
            xml_dir.display()
        );
    }
    Ok(files)
}

/// Runs `htr segment-eval`.
pub fn run(args: &SegmentEvalArgs, out: &mut dyn Write) -> Result<()> {
    let mut files = page_files(&args.pages, args.split)?;
    if let Some(n) = args.limit {
        files.truncate(n);
    }
    let mut r = ParagraphTextRecognizer::from_artifact(load_artifact(&args.model)?)?;
    if !r.segments_lines() {
        bail!(
            "--model {}: {} reads whole paragraphs; segment-eval needs a line model",
            args.model,
            r.config().model.name()
        );
    }
    if let Some(w) = args.beam {
        r.set_decoder(r.beam_decoder(w)).context("--beam")?;
    }
    if let Some(dir) = &args.segmenter {
        let t = tr_infer::MaskSegmenter::load(dir)
            .with_context(|| format!("--segmenter {}", dir.display()))?;
        r = r.with_mask_segmenter(t)?;
    }
    let read = !args.no_read;
    let mut total = Totals::default();
    for file in &files {
        let t = score_page(&r, file, args.iou, read)
            .with_context(|| format!("scoring {}", file.display()))?;
        if args.json {
            let mut v = t.summary(read);
            v["xml"] = serde_json::json!(file);
            writeln!(out, "{v}")?;
        }
        total.add(&t);
    }
    let s = total.summary(read);
    if args.json {
        let mut v = s;
        v["total"] = serde_json::json!(true);
        writeln!(out, "{v}")?;
    } else {
        let d = total.scores();
        writeln!(
            out,
            "{} pages, {} ground-truth lines, {} predicted, {} matched at IoU >= {}",
            total.pages, d.truth, d.predicted, d.matched, args.iou
        )?;
        writeln!(
            out,
            "precision {:.4}  recall {:.4}  F1 {:.4}",
            d.precision(),
            d.recall(),
            d.f1()
        )?;
        if read {
            writeln!(
                out,
                "page CER {:.2} %  (ground-truth lines: {:.2} %)  over {} reference characters",
                100.0 * s["page_cer"].as_f64().unwrap_or(f64::NAN),
                100.0 * s["gt_line_cer"].as_f64().unwrap_or(f64::NAN),
                total.reference_chars
            )?;
        }
        writeln!(
            out,
            "{:.2} s per page (segmentation + reading)",
            s["seconds_per_page"].as_f64().unwrap_or(0.0)
        )?;
    }
    Ok(())
}

fn score_page(r: &ParagraphTextRecognizer, file: &Path, iou: f32, read: bool) -> Result<Totals> {
    let page = read_page(file, &ReadOptions::default())?;
    let image_path = page
        .image
        .clone()
        .with_context(|| format!("{} names no image", file.display()))?;
    let image =
        image::open(&image_path).with_context(|| format!("reading {}", image_path.display()))?;
    let pimg = page_image(image.to_luma8(), &page, &image_path)?;
    let truth: Vec<Vec<(f32, f32)>> = page
        .lines()
        .map(|l| {
            if l.polygon.len() >= 3 {
                l.polygon.clone()
            } else {
                l.bbox.corners()
            }
        })
        .collect();
    let t0 = Instant::now();
    let (polygons, text) = if read {
        let p = r.predict_page(&image)?;
        (
            p.lines
                .iter()
                .map(|l| l.polygon.clone())
                .collect::<Vec<_>>(),
            Some(p.text),
        )
    } else {
        let s = r.segment(&image)?;
        (s.lines.into_iter().map(|l| l.polygon).collect(), None)
    };
    let seconds = t0.elapsed().as_secs_f64();
    // Image pixels → XML page pixels.
    let polygons: Vec<Vec<(f32, f32)>> = polygons
        .iter()
        .map(|p| p.iter().map(|&(x, y)| (x / pimg.sx, y / pimg.sy)).collect())
        .collect();
    let (_, d) = match_lines(&polygons, &truth, iou);
    let mut t = Totals {
        pages: 1,
        detection: Counts {
            predicted: d.predicted,
            truth: d.truth,
            matched: d.matched,
        },
        seconds,
        ..Totals::default()
    };
    if let Some(text) = text {
        let reference: Vec<char> = page
            .lines()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
            .chars()
            .collect();
        let hyp: Vec<char> = text.chars().collect();
        t.page_edits = edit_distance(&hyp, &reference);
        t.reference_chars = reference.len();
        // The same model on the ground-truth lines.
        let crops: Vec<DynamicImage> = page
            .lines()
            .filter_map(|l| crop_line(&pimg, l, &CropOptions::default()).ok())
            .map(DynamicImage::ImageLuma8)
            .collect();
        let preds = r.predict_line_batch(&crops)?;
        let joined: Vec<char> = preds
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
            .chars()
            .collect();
        t.gt_line_edits = edit_distance(&joined, &reference);
    }
    Ok(t)
}
