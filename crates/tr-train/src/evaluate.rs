//! Evaluation phases (validation, test): the model in inference mode over a
//! loader, metrics accumulated, and the first images kept for a sample sheet.

use std::collections::BTreeMap;
use std::path::Path;

use tr_data::render::{render_grid, save_png, GridOptions, Tile};
use tr_data::tensor_to_images;
use tr_data::DataLoader;

use crate::config::RunConfig;
use crate::error::Result;
use crate::metrics::PhaseMetrics;
use crate::progress::{Mode, PhaseProgress};
use crate::session::{Session, Split};

/// One image with its predicted and true text.
pub struct SampleRow {
    pub image: image::GrayImage,
    pub predicted: String,
    pub truth: String,
}

/// What an evaluation phase produced.
pub struct Evaluation {
    /// `<split>_loss`, `<split>_cer`, … (see `crate::metrics`).
    pub metrics: BTreeMap<String, f64>,
    /// The first `keep_samples` images of the phase with their texts.
    pub rows: Vec<SampleRow>,
}

/// Runs `loader` through the model without gradients or dropout.
pub fn evaluate(
    session: &Session,
    loader: &DataLoader,
    split: Split,
    mode: Mode,
    keep_samples: usize,
) -> Result<Evaluation> {
    let mut metrics = PhaseMetrics::new(session.is_sequence(), &session.data.vocab);
    let mut progress = PhaseProgress::start(mode, split.name(), loader.num_batches() as u64);
    let mut rows = Vec::new();
    for batch in loader.epoch(0) {
        let batch = batch?;
        let out = session
            .lit
            .step(&*session.model, &batch.images, &batch.targets, false)?;
        let loss = out
            .loss
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?;
        metrics.update(loss, &out);
        progress.advance(batch.len(), Some(loss));
        if rows.len() < keep_samples {
            let images = tensor_to_images(&batch.images)?;
            for ((img, p), t) in images.into_iter().zip(&out.predictions).zip(&out.targets) {
                if rows.len() == keep_samples {
                    break;
                }
                rows.push(SampleRow {
                    image: img,
                    predicted: label_text(session, p),
                    truth: label_text(session, t),
                });
            }
        }
    }
    progress.finish();
    Ok(Evaluation {
        metrics: metrics.compute(split.name()),
        rows,
    })
}

/// Text of a content label sequence (a class for classifiers).
fn label_text(session: &Session, labels: &[u32]) -> String {
    session
        .data
        .vocab
        .decode(labels)
        .unwrap_or_else(|_| format!("{labels:?}"))
}

/// Draws `rows` as a prediction-vs-truth sheet at `path`.
pub fn save_sample_sheet(rows: &[SampleRow], path: &Path) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let tiles: Vec<Tile> = rows
        .iter()
        .map(|r| Tile::prediction(r.image.clone(), &r.predicted, &r.truth))
        .collect();
    let wide = rows[0].image.width() > 4 * rows[0].image.height();
    let opts = GridOptions {
        columns: Some(if wide { 1 } else { 4 }),
        ..GridOptions::default()
    };
    let sheet = render_grid(&tiles, &opts)?;
    save_png(&sheet, path)?;
    Ok(())
}

/// `validate`/`test` commands: builds `config`, loads `ckpt` (when given) and
/// evaluates `split`; returns `<split>_loss`, `<split>_cer`/`<split>_acc`, ….
pub fn assess(
    config: RunConfig,
    ckpt: Option<&Path>,
    split: Split,
) -> Result<BTreeMap<String, f64>> {
    let session = Session::build(config)?;
    if let Some(path) = ckpt {
        session.restore(path)?;
        tracing::info!(
            "evaluating {} on the {} split",
            path.display(),
            split.name()
        );
    }
    let loader = session.loader(split)?;
    let mode = Mode::detect(session.config.trainer.progress_bar);
    Ok(evaluate(&session, &loader, split, mode, 0)?.metrics)
}
