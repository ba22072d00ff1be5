//! `POST /v1/predict`: an image in, its text out, with the lines, the
//! per-character confidences and where the time went.
//!
//! `layout` (a body field or a query parameter: `auto`, `line`, `page`)
//! says how to read the image; with a line model, `auto` segments images
//! that look like pages, and each line found comes back with its polygon.

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::Json;
use image::DynamicImage;
use serde::Serialize;

use crate::batcher::Done;
use crate::error::{ApiError, Reason};
use crate::input::read_upload;
use crate::model::{Layout, ModelInfo, ReadAs};
use crate::state::AppState;

/// The answer of `/v1/predict` (documented in `openapi.json`).
#[derive(Clone, Debug, Serialize)]
pub struct PredictResponse {
    /// The text (lines joined by `\n` for paragraph models).
    pub pred: String,
    /// Product of the character confidences.
    pub confidence: f32,
    pub lines: Vec<LineOut>,
    /// How the image was read: `line` (whole image, one line), `page`
    /// (segmented into lines), `paragraph` (a paragraph model, whole image).
    pub read_as: &'static str,
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
    let query_layout = req.uri().query().and_then(layout_in_query);
    let work = async {
        let upload = read_upload(req, state.config().max_body_bytes, &["layout"]).await?;
        let read_as = read_as(
            upload
                .fields
                .get("layout")
                .map(String::as_str)
                .or(query_layout.as_deref()),
            &state.inner.info,
        )?;
        let t = Instant::now();
        let image = decode(upload.image, state.config().max_pixels).await?;
        let decode_time = t.elapsed();
        let (width, height) = (image.width(), image.height());
        let done = state
            .inner
            .batcher
            .submit(image, read_as, slot)?
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

/// The `layout` parameter of a query string (`a=b&layout=page`).
fn layout_in_query(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == "layout").then(|| value.to_string())
    })
}

/// The request's [`ReadAs`], or a 400 naming what was wrong.
fn read_as(value: Option<&str>, info: &ModelInfo) -> Result<ReadAs, ApiError> {
    let how = match value {
        None => ReadAs::Auto,
        Some(v) => ReadAs::parse(v).ok_or_else(|| {
            ApiError::bad_request(format!("layout {v:?}: expected auto, line or page"))
        })?,
    };
    match how.refusal(info) {
        Some(message) => Err(ApiError::bad_request(message)),
        None => Ok(how),
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
    let p = done.reading.prediction;
    let (read_as, lines) = match (done.reading.lines, info.layout) {
        (Some(found), _) => ("page", page_lines(&found)),
        (None, Layout::Line) => (
            "line",
            vec![LineOut {
                text: p.text.clone(),
                confidence: p.confidence,
                char_confidences: p.char_confidences.clone(),
                char_x: p.x.clone(),
                bbox: Some([0, 0, width, height]),
                polygon: Some(vec![[0, 0], [width, 0], [width, height], [0, height]]),
            }],
        ),
        (None, Layout::Paragraph) => ("paragraph", paragraph_lines(&p.text, &p.char_confidences)),
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    PredictResponse {
        pred: p.text,
        confidence: p.confidence,
        lines,
        read_as,
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

/// The lines a page was segmented into, with their boxes and polygons
/// rounded to whole pixels. `char_x` is left out: the line model's
/// positions are in its (deskewed, possibly turned) crop, not the image.
fn page_lines(found: &[tr_infer::LinePrediction]) -> Vec<LineOut> {
    let px = |v: f32| v.max(0.0).round() as u32;
    found
        .iter()
        .map(|l| {
            let [x0, y0, x1, y1] = l.bbox;
            LineOut {
                text: l.prediction.text.clone(),
                confidence: l.prediction.confidence,
                char_confidences: l.prediction.char_confidences.clone(),
                char_x: None,
                bbox: Some([px(x0), px(y0), px(x1 - x0), px(y1 - y0)]),
                polygon: Some(l.polygon.iter().map(|&(x, y)| [px(x), px(y)]).collect()),
            }
        })
        .collect()
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

    fn info(layout: Layout, segments_pages: bool) -> ModelInfo {
        ModelInfo {
            name: "m".into(),
            layout,
            decoder: "greedy".into(),
            segments_pages,
        }
    }

    #[test]
    fn the_layout_comes_from_the_query_or_the_field_and_is_checked_against_the_model() {
        assert_eq!(layout_in_query("a=1&layout=page").as_deref(), Some("page"));
        assert_eq!(layout_in_query("layout").as_deref(), Some(""));
        assert_eq!(layout_in_query("layouts=page"), None);
        let pages = info(Layout::Line, true);
        assert_eq!(read_as(None, &pages).unwrap(), ReadAs::Auto);
        assert_eq!(read_as(Some("Page"), &pages).unwrap(), ReadAs::Page);
        assert_eq!(read_as(Some("line"), &pages).unwrap(), ReadAs::Line);
        let e = read_as(Some("sideways"), &pages).unwrap_err();
        assert_eq!(e.reason, Reason::BadRequest);
        assert!(e.message.contains("expected auto, line or page"), "{e:?}");
        let e = read_as(Some("page"), &info(Layout::Line, false)).unwrap_err();
        assert!(e.message.contains("single lines only"), "{e:?}");
        let e = read_as(Some("line"), &info(Layout::Paragraph, false)).unwrap_err();
        assert!(e.message.contains("whole paragraphs"), "{e:?}");
        assert_eq!(
            read_as(Some("auto"), &info(Layout::Paragraph, false)).unwrap(),
            ReadAs::Auto
        );
    }

    #[test]
    fn page_lines_keep_the_segmenters_boxes_and_polygons_in_whole_pixels() {
        let p = tr_infer::Prediction {
            text: "ab".into(),
            confidence: 0.5,
            char_confidences: vec![1.0, 0.5],
            steps: None,
            x: Some(vec![1.0, 2.0]),
            inverted: false,
        };
        let found = [tr_infer::LinePrediction {
            polygon: vec![(10.4, 20.0), (50.6, 20.0), (50.6, 40.2), (-1.0, 40.2)],
            baseline: None,
            bbox: [10.4, 20.0, 50.6, 40.2],
            prediction: p,
        }];
        let lines = page_lines(&found);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "ab");
        assert_eq!(lines[0].bbox, Some([10, 20, 40, 20]));
        assert_eq!(
            lines[0].polygon,
            Some(vec![[10, 20], [51, 20], [51, 40], [0, 40]])
        );
        assert_eq!(lines[0].char_x, None);
    }

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
