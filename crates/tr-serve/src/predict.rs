//! `POST /v1/predict`: an image in, its text out, with the lines, the
//! per-character confidences and where the time went.

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::Json;
use image::DynamicImage;
use serde::Serialize;

use crate::batcher::Done;
use crate::error::{ApiError, Reason};
use crate::input::read_upload;
use crate::model::{Layout, ModelInfo};
use crate::state::AppState;

/// The answer of `/v1/predict` (documented in `openapi.json`).
#[derive(Clone, Debug, Serialize)]
pub struct PredictResponse {
    /// The text (lines joined by `\n` for paragraph models).
    pub pred: String,
    /// Product of the character confidences.
    pub confidence: f32,
    pub lines: Vec<LineOut>,
    /// The image was read as dark ink on light paper and inverted.
    pub inverted: bool,
    /// Image size in pixels after EXIF orientation.
    pub width: u32,
    pub height: u32,
    pub model: ModelInfo,
    /// Requests in the model batch this one was read in.
    pub batch_size: usize,
    pub timings_ms: Timings,
}

/// One line of the answer.
#[derive(Clone, Debug, Serialize)]
pub struct LineOut {
    pub text: String,
    pub confidence: f32,
    pub char_confidences: Vec<f32>,
    /// Horizontal centre of each character in image pixels (CTC models).
    pub char_x: Option<Vec<f32>>,
    /// `[x, y, width, height]` in image pixels (`null` when unknown).
    #[serde(rename = "box")]
    pub bbox: Option<[u32; 4]>,
    /// Outline, clockwise from the top left, in image pixels.
    pub polygon: Option<Vec<[u32; 2]>>,
}

/// Milliseconds spent per stage; `preprocess` and `model` are those of the
/// whole batch the request was read in.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Timings {
    pub decode: f64,
    pub queue: f64,
    pub preprocess: f64,
    pub model: f64,
    pub total: f64,
}

pub(crate) async fn predict(
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<PredictResponse>, ApiError> {
    let started = Instant::now();
    let slot = state.admit()?;
    let timeout = state.config().timeout;
    let work = async {
        let upload = read_upload(req, state.config().max_body_bytes, &[]).await?;
        let t = Instant::now();
        let image = decode(upload.image, state.config().max_pixels).await?;
        let decode_time = t.elapsed();
        let (width, height) = (image.width(), image.height());
        let done = state
            .inner
            .batcher
            .submit(image, slot)?
            .await
            .map_err(|_| {
                ApiError::new(Reason::Internal, "the model worker dropped the request")
            })??;
        Ok::<_, ApiError>(respond(
            done,
            &state.inner.info,
            (width, height),
            decode_time,
            started,
        ))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result.map(Json),
        Err(_) => Err(ApiError::timeout(timeout)),
    }
}

/// Decodes image bytes on a blocking thread under the pixel limit (checked
/// on the header, before any pixel is decoded).
pub(crate) async fn decode(bytes: Vec<u8>, max_pixels: u64) -> Result<DynamicImage, ApiError> {
    tokio::task::spawn_blocking(move || tr_infer::load_image(&bytes, "upload", max_pixels))
        .await
        .map_err(|_| ApiError::new(Reason::Internal, "the image decoder panicked"))?
        .map_err(ApiError::from_image)
}

fn respond(
    done: Done,
    info: &ModelInfo,
    (width, height): (u32, u32),
    decode: Duration,
    started: Instant,
) -> PredictResponse {
    let p = done.prediction;
    let lines = match info.layout {
        Layout::Line => vec![LineOut {
            text: p.text.clone(),
            confidence: p.confidence,
            char_confidences: p.char_confidences.clone(),
            char_x: p.x.clone(),
            bbox: Some([0, 0, width, height]),
            polygon: Some(vec![[0, 0], [width, 0], [width, height], [0, height]]),
        }],
        Layout::Paragraph => paragraph_lines(&p.text, &p.char_confidences),
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    PredictResponse {
        pred: p.text,
        confidence: p.confidence,
        lines,
        inverted: p.inverted,
        width,
        height,
        model: info.clone(),
        batch_size: done.batch_size,
        timings_ms: Timings {
            decode: ms(decode),
            queue: ms(done.queued),
            preprocess: ms(done.preprocess),
            model: ms(done.model),
            total: ms(started.elapsed()),
        },
    }
}

/// The lines of a paragraph text, each with its characters' confidences
/// (the `\n`s belong to no line). Paragraph models say nothing of where a
/// line is, so `box` and `polygon` are `null`.
fn paragraph_lines(text: &str, confidences: &[f32]) -> Vec<LineOut> {
    let mut lines = Vec::new();
    let mut chars = text.chars().zip(confidences.iter().copied()).peekable();
    while chars.peek().is_some() {
        let mut line = String::new();
        let mut conf = Vec::new();
        for (c, p) in chars.by_ref() {
            if c == '\n' {
                break;
            }
            line.push(c);
            conf.push(p);
        }
        lines.push(LineOut {
            text: line,
            confidence: conf.iter().product(),
            char_confidences: conf,
            char_x: None,
            bbox: None,
            polygon: None,
        });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_into_lines_with_their_confidences() {
        let lines = paragraph_lines("ab\ncd", &[0.5, 1.0, 0.9, 0.25, 0.5]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "ab");
        assert_eq!(lines[0].char_confidences, vec![0.5, 1.0]);
        assert_eq!(lines[1].text, "cd");
        assert_eq!(lines[1].char_confidences, vec![0.25, 0.5]);
        assert!((lines[1].confidence - 0.125).abs() < 1e-6);
    }
}
