//! Model artifacts: a directory that holds everything needed to recognise
//! text with a trained model, and nothing about how to train it further.
//!
//! ```text
//! <artifact>/
//!   config.json        ArtifactConfig: format, model (name + config), task,
//!                      vocabulary, input_shape (C, H, W), output_len,
//!                      decoder, weights file info, provenance
//!   model.safetensors  the model's weights (f32, or f16 when staged with --f16),
//!                      metadata tr.format = "tr-artifact-weights/1",
//!                      tr.model, tr.vocab
//!   lm.json            optional character n-gram LM for beam search
//!   README.md          model card: data, command, metrics, date
//! ```
//!
//! [`Artifact::load`] verifies, naming the file and the tensor at fault:
//! the format tag; the weights file against the size and SHA-256 recorded in
//! `config.json` (a truncated or swapped download); that it is a safetensors
//! file of ours (truncated / foreign files are reported as such); that its
//! vocabulary is the one of `config.json`; and that every tensor of the
//! model built from the config is present with the right shape and no other
//! tensor is. [`write_artifact`] runs the same checks before writing.

mod card;
mod verify;
mod write;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
use tr_data::Vocabulary;
use tr_models::decoding::CharNgramLm;
use tr_models::{DataSpec, Model, ModelConfig, Task};

use crate::decoder::DecoderConfig;
use crate::error::{Error, Result};

pub use card::ModelCard;
#[cfg(feature = "hub")]
pub(crate) use verify::file_info;
pub use write::{write_artifact, ArtifactSpec, WeightsDType};

/// Format tag of `config.json` written by this version.
pub const FORMAT: &str = "tr-artifact/1";
/// Format tag in the metadata of the weights file.
pub const WEIGHTS_FORMAT: &str = "tr-artifact-weights/1";
/// File names inside an artifact directory.
pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const CARD_FILE: &str = "README.md";
pub const LM_FILE: &str = "lm.json";

/// `config.json` of an artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactConfig {
    /// [`FORMAT`].
    pub format: String,
    /// Registry name and config of the model (`{"name": "line-cnn", ...}`).
    pub model: ModelConfig,
    /// What the outputs are (`ctc`, `seq2seq`).
    pub task: Task,
    /// The labels the model outputs, as the list of symbols.
    pub vocabulary: Vocabulary,
    /// `(C, H, W)` of the images the model was trained on.
    pub input_shape: [usize; 3],
    /// Padded target length of the training data (seq2seq: maximum decoded length).
    pub output_len: Option<usize>,
    /// Default decoder.
    pub decoder: DecoderConfig,
    /// The weights file.
    pub weights: WeightsInfo,
    /// Free-form provenance (run, checkpoint, metrics); not read by the loader.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub provenance: serde_json::Value,
}

/// The weights entry of `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsInfo {
    /// File name inside the artifact directory.
    pub file: String,
    /// `f32` or `f16` (tensors are converted to `f32` on load).
    pub dtype: WeightsDType,
    /// Size in bytes (checked on load when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Lower-case hex SHA-256 (checked on load when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl ArtifactConfig {
    /// The data spec the model is built for.
    pub fn data_spec(&self) -> DataSpec {
        DataSpec::new(self.input_shape, self.vocabulary.clone(), self.output_len)
    }

    /// Reads and checks `config.json` of `dir` (format, task, shape, decoder).
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::artifact(
                    &path,
                    format!(
                        "not found; is {} a model artifact directory (written by `htr stage`)?",
                        dir.display()
                    ),
                ))
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        Self::parse(&text, &path)
    }

    /// Parses and checks the text of a `config.json` (named `path` in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let format = serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| Error::artifact(path, format!("not valid JSON: {e}")))?
            .get("format")
            .and_then(|f| f.as_str().map(str::to_string));
        match format.as_deref() {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(Error::artifact(
                    path,
                    format!(
                        "format {other:?} is not supported by this version (expected {FORMAT:?})"
                    ),
                ))
            }
            None => {
                return Err(Error::artifact(
                    path,
                    format!(
                        "no \"format\" field; expected {FORMAT:?} (is this a tr model artifact?)"
                    ),
                ))
            }
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        let config: ArtifactConfig = deserialize_config(de, path)?;
        config.check(path)?;
        Ok(config)
    }

    /// Consistency checks that serde cannot do.
    fn check(&self, path: &Path) -> Result<()> {
        let name = self.model.name();
        if self.model.task() != self.task {
            return Err(Error::artifact(
                path,
                format!(
                    "task {:?} does not match model {name} (task {:?})",
                    self.task,
                    self.model.task()
                ),
            ));
        }
        if self.task == Task::Classify {
            return Err(Error::artifact(
                path,
                format!(
                    "{name} is a character classifier; tr-infer recognises lines and paragraphs"
                ),
            ));
        }
        let [c, h, w] = self.input_shape;
        if c != 1 || h == 0 || w == 0 {
            return Err(Error::artifact(
                path,
                format!(
                    "input_shape {:?} must be (1, H, W) with H, W >= 1",
                    self.input_shape
                ),
            ));
        }
        self.decoder
            .check(self.task, name)
            .map_err(|e| Error::artifact(path, format!("decoder: {e}")))
    }
}

/// Deserialises with the field path in the message.
fn deserialize_config<'de, T: Deserialize<'de>>(
    de: &mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
    path: &Path,
) -> Result<T> {
    T::deserialize(de).map_err(|e| Error::artifact(path, format!("invalid config: {e}")))
}

/// A loaded, verified artifact: its config, the model with its weights,
/// and the language model when the decoder names one.
pub struct Artifact {
    /// The directory it was loaded from.
    pub dir: PathBuf,
    pub config: ArtifactConfig,
    pub model: Box<dyn Model>,
    /// The LM of `config.decoder`, if any.
    pub lm: Option<CharNgramLm>,
    pub device: Device,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifact")
            .field("dir", &self.dir)
            .field("model", &self.config.model.name())
            .finish()
    }
}

impl Artifact {
    /// Loads and verifies the artifact in `dir` on the CPU.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_on(dir, &Device::Cpu)
    }

    /// Loads and verifies the artifact in `dir` onto `device`.
    pub fn load_on(dir: &Path, device: &Device) -> Result<Self> {
        let config = ArtifactConfig::read(dir)?;
        let weights = verify::read_checked(
            &dir.join(&config.weights.file),
            config.weights.bytes,
            config.weights.sha256.as_deref(),
        )?;
        let lm = lm_file(&config.decoder)
            .map(|lm| read_lm_text(&dir.join(&lm.file), lm))
            .transpose()?;
        Self::assemble(dir, config, &weights, lm.as_deref(), device)
    }

    /// Loads and verifies an artifact whose files are held in memory, e.g.
    /// embedded in a binary with `include_bytes!`. `label` stands for the
    /// directory in error messages; sizes and hashes recorded in the config
    /// are checked against the bytes as [`Artifact::load`] checks files.
    pub fn from_bytes(files: &ArtifactBytes<'_>, device: &Device) -> Result<Self> {
        let dir = files.label;
        let config = ArtifactConfig::parse(files.config, &dir.join(CONFIG_FILE))?;
        let weights_path = dir.join(&config.weights.file);
        verify::check_bytes(
            &weights_path,
            files.weights,
            config.weights.bytes,
            config.weights.sha256.as_deref(),
        )?;
        let lm = match (lm_file(&config.decoder), files.lm) {
            (Some(lm), Some(text)) => {
                verify::check_bytes(
                    &dir.join(&lm.file),
                    text.as_bytes(),
                    lm.bytes,
                    lm.sha256.as_deref(),
                )?;
                Some(text)
            }
            (Some(lm), None) => {
                return Err(Error::artifact(
                    dir.join(&lm.file),
                    "not found; config.json names a language model but none was given",
                ))
            }
            (None, _) => None,
        };
        Self::assemble(dir, config, files.weights, lm, device)
    }

    /// Builds the model of a checked config and loads its weights and LM.
    fn assemble(
        dir: &Path,
        config: ArtifactConfig,
        weights: &[u8],
        lm: Option<&str>,
        device: &Device,
    ) -> Result<Self> {
        let weights_path = dir.join(&config.weights.file);
        let file =
            tr_data::tensor_file::parse(&weights_path, weights, device).map_err(|e| match e {
                tr_data::Error::Format { path, message } => Error::artifact(path, message),
                other => Error::from(other),
            })?;
        verify::check_weights_metadata(&weights_path, &file, &config)?;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let model = config.model.build(&config.data_spec(), vb).map_err(|e| {
            Error::artifact(
                dir.join(CONFIG_FILE),
                format!("cannot build the model: {e}"),
            )
        })?;
        verify::load_into(&weights_path, &file.tensors, &varmap, config.model.name())?;
        let lm = match (lm_file(&config.decoder), lm) {
            (Some(info), Some(text)) => Some(parse_lm(&dir.join(&info.file), text)?),
            _ => None,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            model,
            lm,
            device: device.clone(),
        })
    }
}

/// The files of an artifact held in memory ([`Artifact::from_bytes`]).
#[derive(Clone, Copy, Debug)]
pub struct ArtifactBytes<'a> {
    /// Stands for the artifact directory in error messages.
    pub label: &'a Path,
    /// The text of `config.json`.
    pub config: &'a str,
    /// The weights file the config names.
    pub weights: &'a [u8],
    /// The language model file, when the config's decoder names one.
    pub lm: Option<&'a str>,
}

/// The LM file entry of a decoder config, if it names one.
pub(crate) fn lm_file(decoder: &DecoderConfig) -> Option<&crate::decoder::LmConfig> {
    match decoder {
        DecoderConfig::Beam { lm: Some(lm), .. } => Some(lm),
        _ => None,
    }
}

/// Parses the text of an LM file (named `path` in errors).
fn parse_lm(path: &Path, text: &str) -> Result<CharNgramLm> {
    serde_json::from_str(text)
        .map_err(|e| Error::artifact(path, format!("not a character n-gram language model: {e}")))
}

/// Reads the LM file a decoder config names, verifying its size and hash.
pub(crate) fn load_lm(dir: &Path, decoder: &DecoderConfig) -> Result<Option<CharNgramLm>> {
    let Some(lm) = lm_file(decoder) else {
        return Ok(None);
    };
    let path = dir.join(&lm.file);
    parse_lm(&path, &read_lm_text(&path, lm)?).map(Some)
}

/// The text of the LM file at `path`, checked against its entry.
fn read_lm_text(path: &Path, lm: &crate::decoder::LmConfig) -> Result<String> {
    let bytes = verify::read_checked(path, lm.bytes, lm.sha256.as_deref())?;
    String::from_utf8(bytes).map_err(|_| Error::artifact(path, "not UTF-8 text"))
}
