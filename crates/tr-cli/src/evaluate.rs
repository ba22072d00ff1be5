//! `htr evaluate`: score a model artifact on a split of an experiment's
//! data, through the same recogniser `htr predict` uses.
//!
//! ```text
//! htr evaluate --config FILE [--model DIR|owner/name|bundled] [--split test]
//!              [--beam N] [--greedy-only] [--batch-size N] [--predictions FILE]
//!              [--json] [--data.x value …]
//! ```
//!
//! The data module is built from the config's `data` section (dotted
//! overrides apply, as for `fit`); every sample of the split is handed to
//! [`LineTextRecognizer`] as an image, and its text compared with the
//! label. Each decoder is scored: greedy, and the artifact's own decoder
//! (e.g. beam search with its language model) when it is another one, or
//! beam search of `--beam N` (keeping the artifact's LM).
//!
//! Error rates are corpus-level, the form `ketos test` reports: the sum of
//! the lines' edit distances over the sum of the references' lengths, in
//! characters (CER) and in white-space separated words (WER); the mean of
//! the per-line CERs is printed beside them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use image::DynamicImage;
use tr_data::datasets::TargetKind;
use tr_data::{DataDir, Vocabulary};
use tr_infer::{DecoderConfig, LineTextRecognizer, Preprocessing};
use tr_lit::edit_distance;
use tr_train::{Override, RunConfig};

use crate::data::{label_text, Split};
use crate::predict::load_artifact;

/// Arguments of `htr evaluate`.
#[derive(Args, Debug, Clone)]
pub struct EvaluateArgs {
    /// Experiment config whose `data` section names the dataset.
    #[arg(long)]
    pub config: PathBuf,
    /// Artifact directory, hub repository id or `bundled` (default).
    #[arg(long, default_value = "bundled")]
    pub model: String,
    /// Split to score.
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
    /// Also score beam search of this width (with the artifact's LM, if any).
    #[arg(long)]
    pub beam: Option<usize>,
    /// Score the greedy decoder only.
    #[arg(long)]
    pub greedy_only: bool,
    /// Images per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Write every line's reference and hypotheses here (JSON lines).
    #[arg(long, value_name = "FILE")]
    pub predictions: Option<PathBuf>,
    /// Print the scores as one JSON object per decoder.
    #[arg(long)]
    pub json: bool,
    /// Data root (default: the config's, else `$TR_DATA_DIR`, else ./data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Corpus-level scores of one decoder.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Scores {
    pub decoder: String,
    pub lines: usize,
    pub char_errors: usize,
    pub chars: usize,
    pub word_errors: usize,
    pub words: usize,
    /// Mean of the per-line CERs (a line with an empty reference counts 0
    /// when read as empty, else 1).
    pub mean_line_cer: f64,
    pub seconds: f64,
}

impl Scores {
    pub fn cer(&self) -> f64 {
        ratio(self.char_errors, self.chars)
    }

    pub fn wer(&self) -> f64 {
        ratio(self.word_errors, self.words)
    }
}

fn ratio(errors: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        errors as f64 / total as f64
    }
}

/// Accumulates the errors of one decoder line by line.
#[derive(Default)]
struct Tally {
    scores: Scores,
    line_cer_sum: f64,
}

impl Tally {
    fn add(&mut self, hypothesis: &str, reference: &str) {
        let h: Vec<char> = hypothesis.chars().collect();
        let r: Vec<char> = reference.chars().collect();
        let d = edit_distance(&h, &r);
        let hw: Vec<&str> = hypothesis.split_whitespace().collect();
        let rw: Vec<&str> = reference.split_whitespace().collect();
        let s = &mut self.scores;
        s.lines += 1;
        s.char_errors += d;
        s.chars += r.len();
        s.word_errors += edit_distance(&hw, &rw);
        s.words += rw.len();
        self.line_cer_sum += if r.is_empty() {
            f64::from(u8::from(d > 0))
        } else {
            d as f64 / r.len() as f64
        };
    }

    fn finish(mut self, decoder: String, seconds: f64) -> Scores {
        self.scores.mean_line_cer = self.line_cer_sum / self.scores.lines.max(1) as f64;
        self.scores.decoder = decoder;
        self.scores.seconds = seconds;
        self.scores
    }
}

/// Runs `htr evaluate`.
pub fn run(args: &EvaluateArgs, overrides: &[Override], out: &mut dyn Write) -> Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    if args.greedy_only && args.beam.is_some() {
        bail!("--greedy-only and --beam exclude each other");
    }
    let config = RunConfig::load(Some(&args.config), overrides)
        .with_context(|| format!("reading {}", args.config.display()))?;
    let dir = DataDir::resolve(args.data_dir.as_deref().or(config.data.data_dir.as_deref()));
    let module = config.data.dataset.build(&dir).with_context(|| {
        format!(
            "building the data of {} from {}",
            args.config.display(),
            dir.root().display()
        )
    })?;
    if module.target_kind != TargetKind::Sequence {
        bail!(
            "{} is a classification dataset; `htr evaluate` scores line readers",
            module.name
        );
    }
    let (split_name, split) = args.split.of(&module);
    if split.is_empty() {
        bail!("the {split_name} split of {} is empty", module.name);
    }
    let artifact = load_artifact(&args.model)?;
    let model_name = artifact.config.model.name().to_string();
    warn_unreadable_symbols(&module.vocab, &artifact.config.vocabulary, &model_name);
    let artifact_decoder = artifact.config.decoder.clone();
    let mut recognizer = LineTextRecognizer::from_artifact(artifact)
        .context("--model")?
        // Dataset images are what the model was trained on: bright ink on
        // black, contrast already stretched.
        .with_preprocessing(Preprocessing::as_trained())
        .with_batch_size(args.batch_size)?;
    let decoders = decoders(args, &recognizer, &artifact_decoder);

    // References, read once.
    let references = (0..split.len())
        .map(|i| {
            let target = split
                .target(i)
                .with_context(|| format!("reading label {i} of the {split_name} split"))?;
            label_text(&module, &target)
        })
        .collect::<Result<Vec<_>>>()?;

    let mut hypotheses: Vec<Vec<String>> = vec![Vec::with_capacity(split.len()); decoders.len()];
    let mut all = Vec::new();
    // The split's images, loaded once for every decoder.
    let images = (0..split.len())
        .map(|i| {
            split
                .get(i, 0)
                .map(|s| DynamicImage::ImageLuma8(s.image))
                .with_context(|| format!("loading sample {i} of the {split_name} split"))
        })
        .collect::<Result<Vec<_>>>()?;
    for (d, decoder) in decoders.iter().enumerate() {
        recognizer
            .set_decoder(decoder.clone())
            .with_context(|| format!("decoder {}", decoder.label()))?;
        let t = Instant::now();
        let mut tally = Tally::default();
        for start in (0..split.len()).step_by(args.batch_size) {
            let end = (start + args.batch_size).min(split.len());
            let preds = recognizer
                .predict_batch(&images[start..end])
                .with_context(|| format!("reading samples {start}..{end}"))?;
            for (p, reference) in preds.into_iter().zip(&references[start..end]) {
                tally.add(&p.text, reference);
                hypotheses[d].push(p.text);
            }
        }
        let scores = tally.finish(decoder.label(), t.elapsed().as_secs_f64());
        tracing::info!(
            "{} on {} {split_name}: CER {:.2} % WER {:.2} % ({} lines, {:.1} lines/s)",
            scores.decoder,
            module.name,
            100.0 * scores.cer(),
            100.0 * scores.wer(),
            scores.lines,
            scores.lines as f64 / scores.seconds.max(1e-9)
        );
        all.push(scores);
    }

    if let Some(path) = &args.predictions {
        write_predictions(path, &references, &decoders, &hypotheses)?;
    }
    if args.json {
        for s in &all {
            let mut v = serde_json::to_value(s)?;
            v["model"] = model_name.clone().into();
            v["dataset"] = module.name.clone().into();
            v["split"] = split_name.into();
            v["cer"] = s.cer().into();
            v["wer"] = s.wer().into();
            writeln!(out, "{v}")?;
        }
    } else {
        writeln!(
            out,
            "{model_name} on {} ({split_name}, {} lines)",
            module.name,
            split.len()
        )?;
        writeln!(
            out,
            "| decoder | CER % | WER % | mean line CER % | chars | words | lines/s |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---:|")?;
        for s in &all {
            writeln!(
                out,
                "| {} | {:.2} | {:.2} | {:.2} | {} | {} | {:.1} |",
                s.decoder,
                100.0 * s.cer(),
                100.0 * s.wer(),
                100.0 * s.mean_line_cer,
                s.chars,
                s.words,
                s.lines as f64 / s.seconds.max(1e-9)
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Warns about label symbols the model cannot write: every one of them is
/// an error in the scores (a model trained on other data, or another text
/// normalisation).
fn warn_unreadable_symbols(data: &Vocabulary, model: &Vocabulary, model_name: &str) {
    let missing = unwritable_symbols(data, model);
    if !missing.is_empty() {
        tracing::warn!(
            "the data has {} symbol(s) the {model_name} model cannot write, each counted as an error: {:?}",
            missing.len(),
            missing
        );
    }
}

/// The data's characters (special tokens aside) that `model` has no index for.
fn unwritable_symbols<'a>(data: &'a Vocabulary, model: &Vocabulary) -> Vec<&'a str> {
    let known = |s: &str| {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => model.char_index(c).is_some(),
            _ => model.token_index(s).is_some(),
        }
    };
    data.symbols()
        .iter()
        .enumerate()
        .filter(|&(i, s)| !data.is_special(i as u32) && !known(s))
        .map(|(_, s)| s.as_str())
        .collect()
}

/// The decoders to score: greedy, then the artifact's own or `--beam N`.
fn decoders(
    args: &EvaluateArgs,
    recognizer: &LineTextRecognizer,
    artifact_decoder: &DecoderConfig,
) -> Vec<DecoderConfig> {
    let first = match artifact_decoder {
        DecoderConfig::Positional => DecoderConfig::Positional,
        _ => DecoderConfig::Greedy,
    };
    let mut out = vec![first.clone()];
    if args.greedy_only {
        return out;
    }
    let second = match args.beam {
        Some(w) => recognizer.beam_decoder(w),
        None => artifact_decoder.clone(),
    };
    if second != first {
        out.push(second);
    }
    out
}

/// One JSON object per line: index, reference and each decoder's text.
fn write_predictions(
    path: &Path,
    references: &[String],
    decoders: &[DecoderConfig],
    hypotheses: &[Vec<String>],
) -> Result<()> {
    let mut text = String::new();
    for (i, reference) in references.iter().enumerate() {
        let mut v = serde_json::json!({ "index": i, "reference": reference });
        for (d, decoder) in decoders.iter().enumerate() {
            v[decoder.label()] = hypotheses[d][i].clone().into();
        }
        text.push_str(&v.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_characters_the_model_lacks_are_unwritable() {
        let model = tr_data::Vocabulary::from_symbols(["<B>", "a", "b", " "]).unwrap();
        let data = tr_data::Vocabulary::from_symbols(["<B>", "a", "b", " ", "z"]).unwrap();
        assert_eq!(super::unwritable_symbols(&data, &model), vec!["z"]);
        assert!(super::unwritable_symbols(&model, &model).is_empty());
    }

    use super::*;

    #[test]
    fn tally_is_corpus_level_in_chars_and_words() {
        let mut t = Tally::default();
        t.add("the cat", "the cap"); // 1 char, 1 word of 7 chars, 2 words
        t.add("a", "abc"); // 2 chars, 1 word of 3 chars, 1 word
        let s = t.finish("greedy".into(), 1.0);
        assert_eq!((s.char_errors, s.chars), (3, 10));
        assert_eq!((s.word_errors, s.words), (2, 3));
        assert!((s.cer() - 0.3).abs() < 1e-12);
        assert!((s.mean_line_cer - (1.0 / 7.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn empty_reference_lines_count_as_whole_errors_in_the_mean() {
        let mut t = Tally::default();
        t.add("x", "");
        t.add("", "");
        let s = t.finish("greedy".into(), 1.0);
        assert_eq!(s.chars, 0);
        assert_eq!(s.cer(), 0.0);
        assert!((s.mean_line_cer - 0.5).abs() < 1e-12);
    }
}
