//! The engine both recognisers share: preprocessing into model-sized
//! inputs, batched forward passes, stitching of wide-line windows, and
//! decoding into [`Prediction`]s.

use std::time::Instant;

use candle_core::Tensor;
use image::{DynamicImage, GrayImage};
use tr_data::images_to_tensor;
use tr_data::ContentRule;
use tr_models::decoding::{
    decode_positional, decode_seq2seq, frames_from_logits, greedy_ctc, BeamSearch, CharNgramLm,
    Decoded, Frames, LmWeighting,
};
use tr_models::Task;

use crate::alignment::align;
use crate::artifact::{lm_file, load_lm, Artifact};
use crate::decoder::DecoderConfig;
use crate::error::{Error, Result};
use crate::prediction::{BatchTimings, Prediction};
use crate::preprocess::geometry::{fit_into, line_windows};
use crate::preprocess::grey::to_grey;
use crate::preprocess::image_input::check_size;
use crate::preprocess::polarity::normalise;
use crate::preprocess::Preprocessing;

/// What the input images are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    Line,
    Page,
}

/// One image turned into model inputs.
struct Prepared {
    /// `H × W` inputs.
    windows: Vec<GrayImage>,
    /// x offset of each window (pixels of the resized image).
    starts: Vec<u32>,
    overlap: u32,
    /// Original pixels per input pixel, horizontally.
    scale_x: f32,
    inverted: bool,
    /// The image has no ink (`PolarityReport::no_ink`): no window, empty text.
    no_ink: bool,
}

/// Model output for one window.
enum WindowOut {
    /// CTC or positional: `(T, C)` log-probabilities.
    Frames(Frames),
    /// Seq2seq: decoded tokens.
    Decoded(Decoded),
}

pub(crate) struct Engine {
    pub(crate) artifact: Artifact,
    pub(crate) decoder: DecoderConfig,
    lm: Option<CharNgramLm>,
    pub(crate) preprocessing: Preprocessing,
    pub(crate) batch_size: usize,
    layout: Layout,
    /// Which decoded labels are text (the rule training reads by).
    rule: ContentRule,
}

impl Engine {
    pub(crate) fn new(artifact: Artifact, layout: Layout) -> Result<Self> {
        let decoder = artifact.config.decoder.clone();
        let lm = artifact.lm.clone();
        let rule = ContentRule::of(&artifact.config.vocabulary);
        Ok(Self {
            artifact,
            decoder,
            lm,
            preprocessing: Preprocessing::default(),
            batch_size: 16,
            layout,
            rule,
        })
    }

    pub(crate) fn set_decoder(&mut self, decoder: DecoderConfig) -> Result<()> {
        let cfg = &self.artifact.config;
        decoder.check(cfg.task, cfg.model.name())?;
        // The artifact's own LM is reused whenever the new decoder names the
        // same file (a bundled artifact has no directory to read it again from).
        self.lm = if lm_file(&decoder) == lm_file(&cfg.decoder) {
            self.artifact.lm.clone()
        } else {
            load_lm(&self.artifact.dir, &decoder)?
        };
        self.decoder = decoder;
        Ok(())
    }

    /// A beam decoder of `width` that keeps the artifact's LM, if it has one.
    pub(crate) fn beam_decoder(&self, width: usize) -> DecoderConfig {
        let lm = match &self.artifact.config.decoder {
            DecoderConfig::Beam { lm, .. } => lm.clone(),
            _ => None,
        };
        DecoderConfig::Beam { width, lm }
    }

    pub(crate) fn set_batch_size(&mut self, n: usize) -> Result<()> {
        if n == 0 {
            return Err(Error::invalid("batch_size", "must be at least 1, got 0"));
        }
        self.batch_size = n;
        Ok(())
    }

    /// Whether inputs are cut into windows (CTC decoders can stitch them).
    fn windowed(&self) -> bool {
        self.layout == Layout::Line
            && self.artifact.config.task == Task::Ctc
            && self.decoder != DecoderConfig::Positional
    }

    fn prepare(&self, image: &DynamicImage, index: usize) -> Result<Prepared> {
        let name = format!("{index}");
        check_size(
            &name,
            image.width(),
            image.height(),
            self.preprocessing.max_pixels,
        )?;
        let grey = to_grey(image);
        let p = &self.preprocessing;
        let (grey, report) = normalise(&grey, p.polarity, p.stretch_contrast);
        self.prepare_normalised(&grey, report.inverted, report.no_ink)
    }

    /// Model inputs of an image already grey, bright ink on black.
    fn prepare_normalised(
        &self,
        grey: &GrayImage,
        inverted: bool,
        no_ink: bool,
    ) -> Result<Prepared> {
        let p = &self.preprocessing;
        let [_, h, w] = self.artifact.config.input_shape;
        let (h, w) = (h as u32, w as u32);
        if no_ink {
            return Ok(Prepared {
                windows: Vec::new(),
                starts: Vec::new(),
                overlap: 0,
                scale_x: 1.0,
                inverted,
                no_ink: true,
            });
        }
        if self.windowed() {
            let overlap = p.window_overlap.unwrap_or(w / 8);
            let l = line_windows(grey, h, w, overlap)?;
            Ok(Prepared {
                windows: l.windows,
                starts: l.starts,
                overlap: l.overlap,
                scale_x: l.scale_x,
                inverted,
                no_ink: false,
            })
        } else {
            let (input, scale_x) = fit_into(grey, h, w);
            Ok(Prepared {
                windows: vec![input],
                starts: vec![0],
                overlap: 0,
                scale_x,
                inverted,
                no_ink: false,
            })
        }
    }

    pub(crate) fn predict_batch(&self, images: &[DynamicImage]) -> Result<Vec<Prediction>> {
        self.predict_batch_timed(images).map(|(p, _)| p)
    }

    /// [`Self::predict_batch`] with the time spent preprocessing and in the
    /// model (forward passes and decoding).
    pub(crate) fn predict_batch_timed(
        &self,
        images: &[DynamicImage],
    ) -> Result<(Vec<Prediction>, BatchTimings)> {
        let start = Instant::now();
        let prepared: Vec<Prepared> = images
            .iter()
            .enumerate()
            .map(|(i, img)| self.prepare(img, i))
            .collect::<Result<_>>()?;
        let preprocess = start.elapsed();
        let start = Instant::now();
        let predictions = self.run_prepared(prepared, false)?;
        Ok((
            predictions,
            BatchTimings {
                preprocess,
                model: start.elapsed(),
            },
        ))
    }

    /// Reads images that are already grey with bright ink on black (line
    /// crops of a normalised page): no polarity step; `inverted` is
    /// reported as given.
    pub(crate) fn predict_normalised(
        &self,
        images: &[GrayImage],
        inverted: bool,
    ) -> Result<Vec<Prediction>> {
        self.read_normalised(images, inverted, false)
    }

    /// [`Self::predict_normalised`] with the model's own evidence only: a
    /// CTC model's frames are decoded best-path (no beam, no language
    /// model), whatever the configured decoder. What the page reader's
    /// orientation test compares: a language model can make a reading of
    /// upside-down ink look confident.
    pub(crate) fn predict_normalised_optical(
        &self,
        images: &[GrayImage],
        inverted: bool,
    ) -> Result<Vec<Prediction>> {
        self.read_normalised(images, inverted, true)
    }

    fn read_normalised(
        &self,
        images: &[GrayImage],
        inverted: bool,
        optical: bool,
    ) -> Result<Vec<Prediction>> {
        let prepared: Vec<Prepared> = images
            .iter()
            .map(|g| self.prepare_normalised(g, inverted, false))
            .collect::<Result<_>>()?;
        self.run_prepared(prepared, optical)
    }

    fn run_prepared(&self, prepared: Vec<Prepared>, optical: bool) -> Result<Vec<Prediction>> {
        let all: Vec<&GrayImage> = prepared.iter().flat_map(|p| p.windows.iter()).collect();
        let mut outs = Vec::with_capacity(all.len());
        for chunk in all.chunks(self.batch_size) {
            outs.extend(self.forward(chunk)?);
        }
        let mut outs = outs.into_iter();
        prepared
            .iter()
            .map(|p| {
                let mine: Vec<WindowOut> = outs.by_ref().take(p.windows.len()).collect();
                self.finish(p, mine, optical)
            })
            .collect()
    }

    /// Runs the model on `H × W` inputs.
    fn forward(&self, windows: &[&GrayImage]) -> Result<Vec<WindowOut>> {
        let x: Tensor = images_to_tensor(windows, &self.artifact.device)?;
        let model = &self.artifact.model;
        let vocab = &self.artifact.config.vocabulary;
        Ok(match self.artifact.config.task {
            Task::Seq2Seq => {
                let out = model.decode_greedy(&x)?;
                decode_seq2seq(&out, vocab)?
                    .into_iter()
                    .map(WindowOut::Decoded)
                    .collect()
            }
            _ => {
                let logits = model.forward(&x, false)?; // (N, C, S)
                frames_from_logits(&logits)?
                    .into_iter()
                    .map(WindowOut::Frames)
                    .collect()
            }
        })
    }

    /// Stitches one image's window outputs and decodes them (`optical`: a
    /// beam decoder is replaced by best-path decoding).
    fn finish(&self, p: &Prepared, outs: Vec<WindowOut>, optical: bool) -> Result<Prediction> {
        if p.no_ink {
            let ctc = self.artifact.config.task == Task::Ctc;
            return Ok(Prediction {
                text: String::new(),
                confidence: 1.0,
                char_confidences: Vec::new(),
                steps: ctc.then(Vec::new),
                x: ctc.then(Vec::new),
                inverted: p.inverted,
            });
        }
        let vocab = &self.artifact.config.vocabulary;
        let [_, _, w] = self.artifact.config.input_shape;
        let mut frames_data: Vec<f32> = Vec::new();
        let mut centres: Vec<f32> = Vec::new();
        let mut classes = 0;
        let n = outs.len();
        for (k, out) in outs.into_iter().enumerate() {
            let f = match out {
                WindowOut::Decoded(d) => return self.to_prediction(d, None, p.inverted),
                WindowOut::Frames(f) => f,
            };
            classes = f.num_classes();
            let s = f.len().max(1) as f32;
            let start = p.starts[k] as f32;
            let half = p.overlap as f32 / 2.0;
            let lo = if k == 0 {
                f32::NEG_INFINITY
            } else {
                start + half
            };
            let hi = if k + 1 == n {
                f32::INFINITY
            } else {
                p.starts[k + 1] as f32 + half
            };
            for t in 0..f.len() {
                let x = start + (t as f32 + 0.5) * w as f32 / s;
                if x >= lo && x < hi {
                    frames_data.extend_from_slice(f.step(t));
                    centres.push(x * p.scale_x);
                }
            }
        }
        let frames = Frames::new(frames_data, classes.max(1))?;
        let decoder = match &self.decoder {
            DecoderConfig::Beam { .. } if optical => &DecoderConfig::Greedy,
            d => d,
        };
        let decoded = match decoder {
            DecoderConfig::Greedy => greedy_ctc(&frames, vocab.blank()?)?,
            DecoderConfig::Beam { width, .. } => {
                let blank = vocab.blank()?;
                let mut search = BeamSearch::new(*width, blank);
                if let (DecoderConfig::Beam { lm: Some(cfg), .. }, Some(lm)) =
                    (&self.decoder, &self.lm)
                {
                    search = search.with_lm(LmWeighting {
                        lm,
                        vocab,
                        alpha: cfg.alpha,
                        beta: cfg.beta,
                    });
                }
                let best = search.decode(&frames)?;
                align(&frames, &best.labels, blank)?
            }
            DecoderConfig::Positional => decode_positional(&frames, &self.rule),
        };
        self.to_prediction(decoded, Some(&centres), p.inverted)
    }

    /// Text and evidence of decoded labels, read by the content rule of
    /// [`tr_data::ContentRule`] (as the trainer's metrics read them): `<S>` and
    /// other special tokens skipped, stop at the first `<E>` or `<P>`.
    fn to_prediction(
        &self,
        d: Decoded,
        centres: Option<&[f32]>,
        inverted: bool,
    ) -> Result<Prediction> {
        let vocab = &self.artifact.config.vocabulary;
        let mut text = String::new();
        let mut conf = Vec::new();
        let mut steps = Vec::new();
        for i in self.rule.positions(&d.labels) {
            let (l, Some(&c), Some(&s)) = (d.labels[i], d.confidences.get(i), d.steps.get(i))
            else {
                break;
            };
            let sym = vocab.symbol(l).ok_or_else(|| {
                Error::invalid(
                    "model output",
                    format!("label {l} is outside the {}-symbol vocabulary", vocab.len()),
                )
            })?;
            text.push_str(sym);
            conf.push(c);
            steps.push(s);
        }
        let x = centres.map(|cs| {
            steps
                .iter()
                .map(|&s| cs.get(s).copied().unwrap_or(f32::NAN))
                .collect()
        });
        Ok(Prediction {
            text,
            confidence: conf.iter().product(),
            char_confidences: conf,
            steps: centres.map(|_| steps),
            x,
            inverted,
        })
    }
}
