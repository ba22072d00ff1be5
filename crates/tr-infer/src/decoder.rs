//! Decoder choice: how a model's outputs become text ([`DecoderConfig`]).

use serde::{Deserialize, Serialize};
use tr_models::Task;

use crate::error::{Error, Result};

/// A character language model file inside the artifact and its weighting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LmConfig {
    /// File name inside the artifact directory (JSON of a
    /// [`tr_models::decoding::CharNgramLm`]).
    pub file: String,
    /// Weight of the LM's natural-log probabilities.
    #[serde(default = "default_alpha")]
    pub alpha: f32,
    /// Bonus per emitted character (nats).
    #[serde(default = "default_beta")]
    pub beta: f32,
    /// Size of `file` in bytes (checked on load when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Lower-case hex SHA-256 of `file` (checked on load when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

fn default_alpha() -> f32 {
    0.5
}
fn default_beta() -> f32 {
    1.0
}

/// How outputs are decoded.
///
/// Stored in an artifact's `config.json` under `decoder` and overridable by
/// the caller ([`crate::LineTextRecognizer::set_decoder`]):
///
/// ```json
/// { "kind": "greedy" }
/// { "kind": "beam", "width": 8 }
/// { "kind": "beam", "width": 8, "lm": { "file": "lm.json", "alpha": 0.5, "beta": 1.0 } }
/// { "kind": "positional" }
/// ```
///
/// | kind | models | meaning |
/// |---|---|---|
/// | `greedy` | CTC line models | best path: argmax per time step, repeats collapsed, blanks dropped |
/// | `greedy` | seq2seq models | greedy autoregressive decoding (the only decoding they support) |
/// | `beam` | CTC line models | prefix beam search of `width`, optionally with the character n-gram LM stored in the artifact (`lm.file`), weighted by `alpha` (on natural-log LM probabilities) with a per-character bonus `beta` |
/// | `positional` | `line-cnn-simple` trained with per-position cross-entropy | argmax per output position, read up to the first `<E>`/`<P>` |
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DecoderConfig {
    #[default]
    Greedy,
    Beam {
        /// Prefixes kept per time step (≥ 1).
        width: usize,
        /// Optional character language model shipped in the artifact.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lm: Option<LmConfig>,
    },
    Positional,
}

impl DecoderConfig {
    /// Beam search of `width` without a language model.
    pub fn beam(width: usize) -> Self {
        DecoderConfig::Beam { width, lm: None }
    }

    /// Short name for logs and JSON output (`greedy`, `beam-8`, `beam-8+lm`, `positional`).
    pub fn label(&self) -> String {
        match self {
            DecoderConfig::Greedy => "greedy".into(),
            DecoderConfig::Beam { width, lm: None } => format!("beam-{width}"),
            DecoderConfig::Beam { width, lm: Some(_) } => format!("beam-{width}+lm"),
            DecoderConfig::Positional => "positional".into(),
        }
    }

    /// Checks that a model of `task` can be decoded this way.
    pub fn check(&self, task: Task, model: &str) -> Result<()> {
        match (self, task) {
            (DecoderConfig::Beam { width: 0, .. }, _) => Err(Error::invalid(
                "decoder.width",
                "beam width must be at least 1, got 0",
            )),
            (DecoderConfig::Beam { lm: Some(lm), .. }, _)
                if !(lm.alpha.is_finite() && lm.beta.is_finite()) =>
            {
                Err(Error::invalid(
                    "decoder.lm",
                    format!("alpha {} and beta {} must be finite", lm.alpha, lm.beta),
                ))
            }
            (DecoderConfig::Greedy, Task::Ctc | Task::Seq2Seq) => Ok(()),
            (DecoderConfig::Beam { .. } | DecoderConfig::Positional, Task::Ctc) => Ok(()),
            (DecoderConfig::Beam { .. }, Task::Seq2Seq) => Err(Error::invalid(
                "decoder",
                format!("{model} is a sequence-to-sequence model: it decodes greedily, beam search applies to CTC models only"),
            )),
            (d, t) => Err(Error::invalid(
                "decoder",
                format!("{} decoding does not apply to {model} (task {t:?})", d.label()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms_round_trip() {
        let beam: DecoderConfig = serde_json::from_str(
            r#"{"kind":"beam","width":4,"lm":{"file":"lm.json","alpha":0.3}}"#,
        )
        .unwrap();
        match &beam {
            DecoderConfig::Beam {
                width,
                lm: Some(lm),
            } => {
                assert_eq!(*width, 4);
                assert_eq!(lm.alpha, 0.3);
                assert_eq!(lm.beta, 1.0);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(beam.label(), "beam-4+lm");
        let back: DecoderConfig =
            serde_json::from_str(&serde_json::to_string(&beam).unwrap()).unwrap();
        assert_eq!(back, beam);
        assert_eq!(
            serde_json::from_str::<DecoderConfig>(r#"{"kind":"greedy"}"#).unwrap(),
            DecoderConfig::Greedy
        );
        assert!(serde_json::from_str::<DecoderConfig>(r#"{"kind":"sampling"}"#).is_err());
    }

    #[test]
    fn checks_task_and_width() {
        assert!(DecoderConfig::beam(3).check(Task::Ctc, "line-cnn").is_ok());
        let e = DecoderConfig::beam(3)
            .check(Task::Seq2Seq, "line-cnn-transformer")
            .unwrap_err()
            .to_string();
        assert!(e.contains("greedily"), "{e}");
        assert!(DecoderConfig::beam(0).check(Task::Ctc, "x").is_err());
        assert!(DecoderConfig::Positional.check(Task::Seq2Seq, "x").is_err());
        assert!(DecoderConfig::Greedy.check(Task::Classify, "cnn").is_err());
    }
}
