//! [`Recognize`]: what the server needs of a recogniser — a batch predict
//! and a description — implemented for both of tr-infer's recognisers.
//!
//! A line model behind a [`ParagraphTextRecognizer`] reads pages too: each
//! image of a batch is read as one line or segmented into lines as its
//! [`ReadAs`] asks (`auto`: [`ParagraphTextRecognizer::looks_like_page`],
//! the rule `htr predict` follows); the lines of a batch go through the
//! model together, pages one by one.

use std::time::{Duration, Instant};

use image::DynamicImage;
use serde::{Deserialize, Serialize};
use tr_infer::{
    BatchTimings, Error, LinePrediction, LineTextRecognizer, ParagraphTextRecognizer, Prediction,
};

/// What one image is: a single line, or a paragraph whose text has `\n`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Line,
    Paragraph,
}

/// What `/healthz` says about the model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// Registry name of the model (`crnn`, `line-cnn`, …).
    pub name: String,
    pub layout: Layout,
    /// Decoder in use (`greedy`, `beam 8 + lm`, …).
    pub decoder: String,
    /// A line model that also reads pages, segmenting them into lines.
    pub segments_pages: bool,
}

/// How the client asks an image to be read (`layout` of `/v1/predict`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadAs {
    /// A line model segments images that look like pages (more than one
    /// line found on an image at least twice the model's height).
    #[default]
    Auto,
    /// The whole image is one line.
    Line,
    /// Segment the image into lines and read them.
    Page,
}

impl ReadAs {
    /// Parses the `layout` field or query parameter.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Some(Self::Auto),
            "line" => Some(Self::Line),
            "page" | "paragraph" => Some(Self::Page),
            _ => None,
        }
    }

    /// Why `info`'s model cannot read an image this way, if it cannot.
    pub fn refusal(self, info: &ModelInfo) -> Option<String> {
        match (self, info.layout, info.segments_pages) {
            (Self::Page, Layout::Line, false) => Some(format!(
                "layout page: this server's model ({}) reads single lines only",
                info.name
            )),
            (Self::Line, Layout::Paragraph, _) => Some(format!(
                "layout line: this server's model ({}) reads whole paragraphs",
                info.name
            )),
            _ => None,
        }
    }
}

/// One image read.
#[derive(Clone, Debug)]
pub struct Reading {
    /// The text (`\n` between lines), with its per-character evidence.
    pub prediction: Prediction,
    /// The lines found when the image was segmented as a page, with their
    /// polygons in image pixels; `None` when it was read whole.
    pub lines: Option<Vec<LinePrediction>>,
}

impl From<Prediction> for Reading {
    fn from(prediction: Prediction) -> Self {
        Self {
            prediction,
            lines: None,
        }
    }
}

/// A recogniser the model worker owns. Runs on the worker's own thread,
/// never on the async runtime.
pub trait Recognize: Send + 'static {
    /// Reads the text of `images` in one batch, each as `read_as` says
    /// (as long as `images`; requests the model cannot serve are refused
    /// before they reach it, [`ReadAs::refusal`]). An error fails the whole
    /// batch; the worker then retries the images one by one.
    fn predict_batch(
        &self,
        images: &[DynamicImage],
        read_as: &[ReadAs],
    ) -> tr_infer::Result<(Vec<Reading>, BatchTimings)>;

    /// Name, layout and decoder.
    fn info(&self) -> ModelInfo;
}

/// Every image must have its [`ReadAs`].
fn check_lengths(images: &[DynamicImage], read_as: &[ReadAs]) -> tr_infer::Result<()> {
    if images.len() != read_as.len() {
        return Err(Error::invalid(
            "read_as",
            format!("{} layouts for {} images", read_as.len(), images.len()),
        ));
    }
    Ok(())
}

impl Recognize for LineTextRecognizer {
    /// Every image is one line (pages are refused before they get here).
    fn predict_batch(
        &self,
        images: &[DynamicImage],
        read_as: &[ReadAs],
    ) -> tr_infer::Result<(Vec<Reading>, BatchTimings)> {
        check_lengths(images, read_as)?;
        let (predictions, timings) = self.predict_batch_timed(images)?;
        Ok((
            predictions.into_iter().map(Reading::from).collect(),
            timings,
        ))
    }

    fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.config().model.name().to_string(),
            layout: Layout::Line,
            decoder: self.decoder().label(),
            segments_pages: false,
        }
    }
}

impl Recognize for ParagraphTextRecognizer {
    /// Paragraph models read every image whole. Line models read lines in
    /// one model batch and segment pages one by one (their lines batched
    /// through the model); page time, segmentation included, counts as
    /// model time.
    fn predict_batch(
        &self,
        images: &[DynamicImage],
        read_as: &[ReadAs],
    ) -> tr_infer::Result<(Vec<Reading>, BatchTimings)> {
        check_lengths(images, read_as)?;
        if !self.segments_lines() {
            let start = Instant::now();
            let predictions = ParagraphTextRecognizer::predict_batch(self, images)?;
            let timings = BatchTimings {
                preprocess: Duration::ZERO,
                model: start.elapsed(),
            };
            return Ok((
                predictions.into_iter().map(Reading::from).collect(),
                timings,
            ));
        }
        let mut out: Vec<Option<Reading>> = vec![None; images.len()];
        let mut lines = Vec::new();
        let mut page_time = Duration::ZERO;
        for (i, (image, how)) in images.iter().zip(read_as).enumerate() {
            let start = Instant::now();
            let page = match how {
                ReadAs::Line => false,
                ReadAs::Page => true,
                ReadAs::Auto => self.looks_like_page(image)?,
            };
            if page {
                let p = self.predict_page(image)?;
                out[i] = Some(Reading {
                    prediction: p.to_prediction(),
                    lines: Some(p.lines),
                });
            } else {
                lines.push(i);
            }
            page_time += start.elapsed();
        }
        let mut timings = BatchTimings::default();
        if !lines.is_empty() {
            let batch: Vec<DynamicImage> = lines.iter().map(|&i| images[i].clone()).collect();
            let (predictions, t) = self.predict_line_batch_timed(&batch)?;
            timings = t;
            for (i, p) in lines.into_iter().zip(predictions) {
                out[i] = Some(Reading::from(p));
            }
        }
        timings.model += page_time;
        let readings = out
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.ok_or_else(|| Error::invalid("batch", format!("image {i} was not read")))
            })
            .collect::<tr_infer::Result<Vec<_>>>()?;
        Ok((readings, timings))
    }

    fn info(&self) -> ModelInfo {
        let segments = self.segments_lines();
        ModelInfo {
            name: self.config().model.name().to_string(),
            layout: if segments {
                Layout::Line
            } else {
                Layout::Paragraph
            },
            decoder: self.decoder().label(),
            segments_pages: segments,
        }
    }
}

impl<R: Recognize + ?Sized> Recognize for Box<R> {
    fn predict_batch(
        &self,
        images: &[DynamicImage],
        read_as: &[ReadAs],
    ) -> tr_infer::Result<(Vec<Reading>, BatchTimings)> {
        (**self).predict_batch(images, read_as)
    }

    fn info(&self) -> ModelInfo {
        (**self).info()
    }
}
