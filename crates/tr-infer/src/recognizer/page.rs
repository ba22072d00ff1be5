//! Pages and paragraphs: [`ParagraphTextRecognizer`].
//!
//! With a **line model** a page is read in five steps:
//!
//! 1. the pixel limit is checked on the image's size (files: on the header,
//!    before decoding), the image turned grey (transparent pixels composited
//!    on white) and brought to bright ink on black (`crate::Preprocessing`);
//!    a page with no ink reads as no line;
//! 2. [`tr_data::layout::segment_lines`] finds the lines (deskew,
//!    projection profiles, connected components; reading order top to
//!    bottom, columns left to right);
//! 3. each line is cut out along its polygon ([`tr_data::layout::crop_polygon`],
//!    padded by [`Segmenter::crop_padding`]);
//! 4. orientation ([`Segmenter::detect_upside_down`], default on): the
//!    [`Segmenter::orientation_lines`] longest lines are read as they are
//!    and turned 180° (one model window from the start of each),
//!    best-path: the model's own evidence, as a language model can make a
//!    reading of upside-down ink look confident. If the turned reading has
//!    the higher mean per-character log-confidence, the page is segmented
//!    again turned and read upside down (polygons
//!    are still given in the input image's coordinates, the reading order
//!    is that of the turned page). Before that, a page whose lines run
//!    down rather than across ([`tr_data::layout::text_orientation`],
//!    [`Segmenter::detect_sideways`], default on) is turned a quarter turn
//!    clockwise first, so the upside-down test then tells 90° from 270°;
//! 5. the crops go through the line model in batches
//!    (`with_batch_size`), and the text is the lines joined by `\n`.
//!
//! With a **paragraph model** the whole image is fitted into the model's
//! input and decoded; [`PagePrediction::lines`] splits its text at `\n`,
//! every line with the whole image as its polygon (the model gives no
//! places).

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::{DynamicImage, GrayImage};
use serde::{Deserialize, Serialize};
use tr_data::layout::{
    crop_polygon, segment_lines, text_orientation, BBox, CropMode, CropOptions, LayoutFormat, Line,
    Page, PageImage, Paper, Point, Region, SegmentOptions, Segmentation, SegmentedLine,
};

use super::engine::{Engine, Layout};
use super::ParagraphTextRecognizer;
use crate::artifact::Artifact;
use crate::error::{Error, Result};
use crate::mask_segmenter::MaskSegmenter;
use crate::prediction::Prediction;
use crate::preprocess::grey::to_grey;
use crate::preprocess::image_input::check_size;
use crate::preprocess::load_image_file;
use crate::preprocess::polarity::normalise;

/// How a line model's page is cut into lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Segmenter {
    pub segment: SegmentOptions,
    /// Margin around each line polygon when cutting it out, in page pixels
    /// (default 8, as the `page-lines` training crops).
    pub crop_padding: u32,
    /// Read a few lines turned by 180° too and keep the better orientation
    /// (default on).
    pub detect_upside_down: bool,
    /// Turn a page whose lines run down rather than across a quarter turn
    /// before reading it (`tr_data::layout::text_orientation`; default on).
    pub detect_sideways: bool,
    /// How many of the longest lines decide the orientation (default 3).
    pub orientation_lines: usize,
}

impl Default for Segmenter {
    fn default() -> Self {
        Self {
            segment: SegmentOptions::default(),
            crop_padding: 8,
            detect_upside_down: true,
            detect_sideways: true,
            orientation_lines: 3,
        }
    }
}

/// One line of a page read by [`ParagraphTextRecognizer::predict_page`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinePrediction {
    /// Outline in pixels of the input image.
    pub polygon: Vec<Point>,
    /// Baseline (left to right as read), when the segmenter gives one.
    pub baseline: Option<Vec<Point>>,
    /// `[x0, y0, x1, y1]` of the polygon.
    pub bbox: [f32; 4],
    /// The line's text and per-character evidence (`x` in pixels of the crop).
    pub prediction: Prediction,
}

/// A page read by [`ParagraphTextRecognizer::predict_page`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PagePrediction {
    /// The lines' texts in reading order, joined by `\n` (empty: no line).
    pub text: String,
    /// Lines in reading order.
    pub lines: Vec<LinePrediction>,
    /// Size of the input image.
    pub width: u32,
    pub height: u32,
    /// Degrees the page was turned clockwise before reading (0, 90, 180 or 270).
    pub rotation: u32,
    /// Skew the segmenter measured, degrees.
    pub skew_deg: f32,
    /// The image was inverted (dark ink on light paper).
    pub inverted: bool,
}

impl PagePrediction {
    /// The page as a layout [`Page`] (one region holding every line, with
    /// confidences), for the PAGE/ALTO/hOCR/JSON writers of
    /// [`tr_data::layout`]. `image` is the image path written into the file.
    pub fn to_page(&self, image: Option<PathBuf>) -> Page {
        let lines: Vec<Line> = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| Line {
                id: format!("l{i}"),
                polygon: l.polygon.clone(),
                baseline: l.baseline.clone(),
                bbox: BBox {
                    x0: l.bbox[0],
                    y0: l.bbox[1],
                    x1: l.bbox[2],
                    y1: l.bbox[3],
                },
                text: l.prediction.text.clone(),
                tags: Vec::new(),
                confidence: Some(l.prediction.confidence),
                char_confidences: l.prediction.char_confidences.clone(),
            })
            .collect();
        let polygon = lines
            .iter()
            .map(|l| l.bbox)
            .reduce(|a, b| a.union(&b))
            .map(|b| b.corners());
        Page {
            xml: PathBuf::new(),
            format: LayoutFormat::Page(None),
            image,
            width: self.width,
            height: self.height,
            regions: if lines.is_empty() {
                Vec::new()
            } else {
                vec![Region {
                    id: "r0".into(),
                    kind: None,
                    tags: Vec::new(),
                    polygon,
                    lines,
                }]
            },
            skipped: Vec::new(),
        }
    }

    /// The page as one [`Prediction`]: the text with `\n` between lines,
    /// per-character confidences with 1 for each line break, the product as
    /// confidence; no steps or positions.
    pub fn to_prediction(&self) -> Prediction {
        let mut chars = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                chars.push(1.0);
            }
            chars.extend_from_slice(&l.prediction.char_confidences);
        }
        Prediction {
            text: self.text.clone(),
            confidence: chars.iter().product(),
            char_confidences: chars,
            steps: None,
            x: None,
            inverted: self.inverted,
        }
    }
}

impl ParagraphTextRecognizer {
    /// Wraps a loaded artifact: a line model reads pages through the
    /// segmenter, a paragraph model (vocabulary with `\n`) reads them whole.
    pub fn from_artifact(artifact: Artifact) -> Result<Self> {
        let paragraph = artifact.config.data_spec().reads_paragraphs();
        Ok(if paragraph {
            Self {
                engine: Engine::new(artifact, Layout::Page)?,
                segmenter: None,
                trained: None,
            }
        } else {
            Self {
                engine: Engine::new(artifact, Layout::Line)?,
                segmenter: Some(Segmenter::default()),
                trained: None,
            }
        })
    }

    /// Whether pages are segmented into lines (a line model) rather than
    /// read whole (a paragraph model).
    pub fn segments_lines(&self) -> bool {
        self.segmenter.is_some()
    }

    /// Replaces the segmentation settings (line models only; an error for
    /// a paragraph model, which does not segment).
    pub fn with_segmenter(mut self, segmenter: Segmenter) -> Result<Self> {
        if self.segmenter.is_none() {
            return Err(self.no_segmenter());
        }
        self.segmenter = Some(segmenter);
        Ok(self)
    }

    /// The segmentation settings, for a line model.
    pub fn segmenter(&self) -> Option<&Segmenter> {
        self.segmenter.as_ref()
    }

    /// The lines the segmenter finds on `image` (after the same grey and
    /// polarity steps as [`Self::predict_page`]), without reading them.
    /// Paragraph models do not segment: an error.
    pub fn segment(&self, image: &DynamicImage) -> Result<Segmentation> {
        let Some(seg) = &self.segmenter else {
            return Err(self.no_segmenter());
        };
        let p = &self.engine.preprocessing;
        check_size("0", image.width(), image.height(), p.max_pixels)?;
        let (grey, report) = normalise(&to_grey(image), p.polarity, p.stretch_contrast);
        if report.no_ink {
            return Ok(Segmentation {
                lines: Vec::new(),
                skew_deg: 0.0,
                columns: 0,
                line_height: 0.0,
            });
        }
        match &self.trained {
            Some(t) => Ok(Segmentation {
                lines: t.segment(&grey)?,
                skew_deg: 0.0,
                columns: 0,
                line_height: 0.0,
            }),
            None => Ok(segment_lines(&grey, &seg.segment)),
        }
    }

    /// Finds lines with a trained segmenter ([`MaskSegmenter`], from
    /// `htr segment-train`) instead of the classical one (line models only).
    pub fn with_mask_segmenter(mut self, trained: MaskSegmenter) -> Result<Self> {
        if self.segmenter.is_none() {
            return Err(self.no_segmenter());
        }
        self.trained = Some(trained);
        Ok(self)
    }

    /// Reads each image as **one line** with the line model, as
    /// [`crate::LineTextRecognizer::predict_batch`] does (for images the
    /// caller knows are lines). Paragraph models: an error.
    pub fn predict_line_batch(&self, images: &[DynamicImage]) -> Result<Vec<Prediction>> {
        self.check_reads_lines()?;
        self.engine.predict_batch(images)
    }

    /// Refuses line reading with a paragraph model.
    fn check_reads_lines(&self) -> Result<()> {
        if self.segmenter.is_none() {
            return Err(Error::invalid(
                "layout",
                format!(
                    "{} reads whole paragraphs; it cannot read an image as one line",
                    self.engine.artifact.config.model.name()
                ),
            ));
        }
        Ok(())
    }

    /// [`Self::predict_line_batch`] with the time spent preparing the
    /// batch and in the model.
    pub fn predict_line_batch_timed(
        &self,
        images: &[DynamicImage],
    ) -> Result<(Vec<Prediction>, crate::BatchTimings)> {
        self.check_reads_lines()?;
        self.engine.predict_batch_timed(images)
    }

    /// Whether a line model should read `image` as a page (segment it,
    /// [`Self::predict_page`]) rather than as one line: an image shorter
    /// than twice the model's input height is a line; a taller one is a
    /// page when the segmenter finds more than one line on it. Paragraph
    /// models always read pages: `true`. What `htr predict` and `htr serve`
    /// do when no layout is asked for.
    pub fn looks_like_page(&self, image: &DynamicImage) -> Result<bool> {
        if self.segmenter.is_none() {
            return Ok(true);
        }
        let [_, h, _] = self.engine.artifact.config.input_shape;
        if (image.height() as usize) < 2 * h {
            return Ok(false);
        }
        Ok(self.segment(image)?.lines.len() > 1)
    }

    fn no_segmenter(&self) -> Error {
        Error::invalid(
            "segmenter",
            format!(
                "{} reads whole paragraphs; segmentation applies to line models",
                self.engine.artifact.config.model.name()
            ),
        )
    }

    /// Reads one page: its text (`\n` between lines) as one [`Prediction`]
    /// ([`PagePrediction::to_prediction`]).
    pub fn predict(&self, image: &DynamicImage) -> Result<Prediction> {
        Ok(self.predict_page(image)?.to_prediction())
    }

    /// [`Self::predict`] for several pages; an image that cannot be read
    /// fails the call with an error naming its index.
    pub fn predict_batch(&self, images: &[DynamicImage]) -> Result<Vec<Prediction>> {
        images
            .iter()
            .enumerate()
            .map(|(i, img)| {
                self.predict_page_named(img, &format!("{i}"))
                    .map(|p| p.to_prediction())
            })
            .collect()
    }

    /// Reads an image file (`-` = standard input) under the pixel limit
    /// (checked on the header, before decoding).
    pub fn predict_file(&self, path: impl AsRef<Path>) -> Result<Prediction> {
        Ok(self.predict_page_file(path)?.to_prediction())
    }

    /// [`Self::predict_page`] of an image file.
    pub fn predict_page_file(&self, path: impl AsRef<Path>) -> Result<PagePrediction> {
        let path = path.as_ref();
        let image = load_image_file(path, self.engine.preprocessing.max_pixels)?;
        self.predict_page_named(&image, &path.display().to_string())
    }

    /// Reads one page with every line's polygon, baseline and confidence.
    pub fn predict_page(&self, image: &DynamicImage) -> Result<PagePrediction> {
        self.predict_page_named(image, "0")
    }

    fn predict_page_named(&self, image: &DynamicImage, name: &str) -> Result<PagePrediction> {
        let p = &self.engine.preprocessing;
        let (w, h) = (image.width(), image.height());
        check_size(name, w, h, p.max_pixels)?;
        let (grey, report) = normalise(&to_grey(image), p.polarity, p.stretch_contrast);
        let mut out = PagePrediction {
            text: String::new(),
            lines: Vec::new(),
            width: w,
            height: h,
            rotation: 0,
            skew_deg: 0.0,
            inverted: report.inverted,
        };
        if report.no_ink {
            return Ok(out);
        }
        let Some(seg) = &self.segmenter else {
            let pred = self
                .engine
                .predict_normalised(std::slice::from_ref(&grey), report.inverted)?
                .pop()
                .ok_or_else(|| Error::invalid("prediction", "no output for the image"))?;
            out.lines = split_paragraph(&pred, w, h);
            out.text = pred.text;
            return Ok(out);
        };
        // A quarter turn first when the lines run down the page.
        let sideways = seg.detect_sideways && text_orientation(&grey, &seg.segment).vertical;
        let grey = if sideways {
            image::imageops::rotate90(&grey)
        } else {
            grey
        };
        let (w, h) = grey.dimensions();
        let (mut upright, crops) = self.read_lines(&grey, seg, report.inverted)?;
        if seg.detect_upside_down && !upright.lines.is_empty() {
            let started = Instant::now();
            // The widest lines' crops, as they are and turned 180° (no second
            // segmentation unless the page is turned), scored on the model's
            // own evidence: best-path decoding, no language model.
            let mut widest: Vec<usize> = (0..upright.lines.len()).collect();
            widest.sort_by(|&a, &b| width(&upright.lines[b]).total_cmp(&width(&upright.lines[a])));
            widest.truncate(seg.orientation_lines.max(1));
            // One model window of each line (its start, and the start of the
            // turned line) is enough evidence and halves the cost.
            let [_, mh, mw] = self.engine.artifact.config.input_shape;
            let window = |c: &GrayImage| {
                let w = ((c.height() as usize * mw).div_ceil(mh.max(1)) as u32).clamp(1, c.width());
                image::imageops::crop_imm(c, 0, 0, w, c.height()).to_image()
            };
            let probe: Vec<GrayImage> = widest
                .iter()
                .map(|&i| window(&crops[i]))
                .chain(
                    widest
                        .iter()
                        .map(|&i| window(&image::imageops::rotate180(&crops[i]))),
                )
                .collect();
            let read = self
                .engine
                .predict_normalised_optical(&probe, report.inverted)?;
            let (as_is, turned) = read.split_at(widest.len());
            let (as_is, flipped) = (score(as_is.iter()), score(turned.iter()));
            tracing::debug!(
                as_is,
                flipped,
                ms = started.elapsed().as_secs_f64() * 1e3,
                "orientation test"
            );
            if flipped > as_is {
                // Segmented again upright, for the turned page's baselines
                // and reading order.
                let turned_img = image::imageops::rotate180(&grey);
                upright = self.read_lines(&turned_img, seg, report.inverted)?.0;
                // Back to the input image's coordinates.
                let (w, h) = (w as f32, h as f32);
                map_lines(&mut upright.lines, |(x, y)| (w - x, h - y));
                out.rotation = 180;
            }
        }
        if sideways {
            // From the quarter-turned image (width = the input's height) back
            // to the input's coordinates: (x', y') -> (y', H - x').
            let big_h = out.height as f32;
            map_lines(&mut upright.lines, |(x, y)| (y, big_h - x));
            out.rotation += 90;
        }
        out.skew_deg = upright.skew_deg;
        out.text = upright
            .lines
            .iter()
            .map(|l| l.prediction.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        out.lines = upright.lines;
        Ok(out)
    }

    /// Segments `grey` (bright ink on black) and reads its lines; returns
    /// the lines' crops too (for the orientation test).
    fn read_lines(
        &self,
        grey: &GrayImage,
        seg: &Segmenter,
        inverted: bool,
    ) -> Result<(ReadLines, Vec<GrayImage>)> {
        let started = Instant::now();
        let (skew_deg, cut) = cut_lines(grey, seg, self.trained.as_ref())?;
        let segmented = started.elapsed();
        let (lines, crops): (Vec<SegmentedLine>, Vec<GrayImage>) = cut.into_iter().unzip();
        let preds = self.engine.predict_normalised(&crops, inverted)?;
        tracing::debug!(
            lines = lines.len(),
            segment_ms = segmented.as_secs_f64() * 1e3,
            read_ms = (started.elapsed() - segmented).as_secs_f64() * 1e3,
            "page lines"
        );
        let lines = lines
            .into_iter()
            .zip(preds)
            .map(|(l, prediction)| LinePrediction {
                bbox: [l.bbox.x0, l.bbox.y0, l.bbox.x1, l.bbox.y1],
                polygon: l.polygon,
                baseline: Some(l.baseline),
                prediction,
            })
            .collect();
        Ok((ReadLines { skew_deg, lines }, crops))
    }

    /// The line images [`Self::predict_page`] reads, in reading order, each
    /// with its segmented line: cut out along the polygon, grey, bright ink
    /// on black, at the page's scale (the model's resizing comes after).
    /// No orientation test: the image is cut as it is. Line models only.
    pub fn line_images(&self, image: &DynamicImage) -> Result<Vec<(SegmentedLine, GrayImage)>> {
        let Some(seg) = &self.segmenter else {
            return Err(self.no_segmenter());
        };
        let p = &self.engine.preprocessing;
        check_size("0", image.width(), image.height(), p.max_pixels)?;
        let (grey, report) = normalise(&to_grey(image), p.polarity, p.stretch_contrast);
        if report.no_ink {
            return Ok(Vec::new());
        }
        Ok(cut_lines(&grey, seg, self.trained.as_ref())?.1)
    }
}

/// Moves every line's polygon, baseline and box by `f` (a rotation or
/// flip of the page); the box is that of its moved corners.
fn map_lines(lines: &mut [LinePrediction], f: impl Fn(Point) -> Point) {
    for l in lines {
        for p in l.polygon.iter_mut().chain(l.baseline.iter_mut().flatten()) {
            *p = f(*p);
        }
        let [x0, y0, x1, y1] = l.bbox;
        let (a, b) = (f((x0, y0)), f((x1, y1)));
        l.bbox = [a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1)];
    }
}

/// Segments `grey` and cuts its lines out (see [`Segmenter`]). Returns the
/// skew too.
fn cut_lines(
    grey: &GrayImage,
    seg: &Segmenter,
    trained: Option<&MaskSegmenter>,
) -> Result<(f32, Vec<(SegmentedLine, GrayImage)>)> {
    let (skew, lines) = match trained {
        Some(t) => (0.0, t.segment(grey)?),
        None => {
            let found = segment_lines(grey, &seg.segment);
            (found.skew_deg, found.lines)
        }
    };
    let (w, h) = grey.dimensions();
    let page = PageImage {
        image: grey.clone(),
        sx: 1.0,
        sy: 1.0,
        page_w: w,
        page_h: h,
    };
    let opts = CropOptions {
        mode: CropMode::Polygon,
        padding: seg.crop_padding,
        target_height: None,
        paper: Paper::Fixed(0),
        invert: false,
    };
    let cut = lines
        .into_iter()
        // A polygon the cropper cannot use (no area) is not a line.
        .filter_map(|l| crop_polygon(&page, &l.polygon, &opts).ok().map(|c| (l, c)))
        .collect();
    Ok((skew, cut))
}

struct ReadLines {
    skew_deg: f32,
    lines: Vec<LinePrediction>,
}

fn width(l: &LinePrediction) -> f32 {
    l.bbox[2] - l.bbox[0]
}

/// Mean per-character log-confidence over `preds` (−∞ without characters).
fn score<'a>(preds: impl Iterator<Item = &'a Prediction>) -> f64 {
    let (sum, n) = preds
        .flat_map(|p| p.char_confidences.iter())
        .fold((0f64, 0usize), |(s, n), &c| {
            (s + f64::from(c.max(1e-6)).ln(), n + 1)
        });
    if n == 0 {
        f64::NEG_INFINITY
    } else {
        sum / n as f64
    }
}

/// A paragraph model's prediction cut at `\n` into lines covering the image.
fn split_paragraph(pred: &Prediction, w: u32, h: u32) -> Vec<LinePrediction> {
    if pred.text.is_empty() {
        return Vec::new();
    }
    let whole = BBox::from_xywh(0.0, 0.0, w as f32, h as f32);
    let chars: Vec<char> = pred.text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..=chars.len() {
        if i == chars.len() || chars[i] == '\n' {
            let conf = pred.char_confidences.get(start..i).unwrap_or(&[]).to_vec();
            out.push(LinePrediction {
                polygon: whole.corners(),
                baseline: None,
                bbox: [0.0, 0.0, w as f32, h as f32],
                prediction: Prediction {
                    text: chars[start..i].iter().collect(),
                    confidence: conf.iter().product(),
                    char_confidences: conf,
                    steps: None,
                    x: None,
                    inverted: pred.inverted,
                },
            });
            start = i + 1;
        }
    }
    out
}
