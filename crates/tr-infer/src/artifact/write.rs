//! Writing an artifact directory: weights (f32 or f16), `config.json`, an
//! optional language model and the `README.md` model card. The weights are
//! verified against the model built from the config before anything is
//! written, so an artifact that was written always loads.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
use tr_data::tensor_file;
use tr_data::Vocabulary;
use tr_models::decoding::CharNgramLm;
use tr_models::ModelConfig;

use super::card::ModelCard;
use super::verify::{check_tensors, file_info};
use super::{
    ArtifactConfig, WeightsInfo, CARD_FILE, CONFIG_FILE, FORMAT, LM_FILE, WEIGHTS_FILE,
    WEIGHTS_FORMAT,
};
use crate::decoder::{DecoderConfig, LmConfig};
use crate::error::{Error, Result};

/// Storage type of the weights file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightsDType {
    #[default]
    F32,
    /// Half the size; predictions may differ in the last digits of confidences.
    F16,
}

impl WeightsDType {
    fn dtype(self) -> DType {
        match self {
            WeightsDType::F32 => DType::F32,
            WeightsDType::F16 => DType::F16,
        }
    }
}

/// Everything an artifact is made from, besides the weights.
#[derive(Clone, Debug)]
pub struct ArtifactSpec {
    pub model: ModelConfig,
    pub vocabulary: Vocabulary,
    /// `(C, H, W)` of the training images.
    pub input_shape: [usize; 3],
    pub output_len: Option<usize>,
    /// Default decoder. A `beam` decoder's `lm` entry is filled in by
    /// [`write_artifact`] when `lm` is given (its `file`, `bytes` and
    /// `sha256` are overwritten; `alpha`/`beta` are kept).
    pub decoder: DecoderConfig,
    /// Character LM to ship as `lm.json` (requires a `beam` decoder).
    pub lm: Option<CharNgramLm>,
    pub weights_dtype: WeightsDType,
    pub card: ModelCard,
    /// Free-form provenance stored in `config.json`.
    pub provenance: serde_json::Value,
}

impl ArtifactSpec {
    /// A spec for `model` trained on data described by `data`, with the
    /// defaults: greedy decoding, no LM, f32 weights, an empty model card.
    pub fn new(model: ModelConfig, data: &tr_models::DataSpec) -> Self {
        Self {
            model,
            vocabulary: data.vocab.clone(),
            input_shape: data.input_shape,
            output_len: data.output_len,
            decoder: DecoderConfig::Greedy,
            lm: None,
            weights_dtype: WeightsDType::F32,
            card: ModelCard::default(),
            provenance: serde_json::Value::Null,
        }
    }
}

/// Writes the artifact of `spec` with `weights` (parameter name → tensor,
/// buffers included) into `dir` (created if needed) and returns its config.
pub fn write_artifact(
    dir: &Path,
    spec: &ArtifactSpec,
    weights: &HashMap<String, Tensor>,
) -> Result<ArtifactConfig> {
    let mut config = ArtifactConfig {
        format: FORMAT.to_string(),
        model: spec.model.clone(),
        task: spec.model.task(),
        vocabulary: spec.vocabulary.clone(),
        input_shape: spec.input_shape,
        output_len: spec.output_len,
        decoder: spec.decoder.clone(),
        weights: WeightsInfo {
            file: WEIGHTS_FILE.to_string(),
            dtype: spec.weights_dtype,
            bytes: None,
            sha256: None,
        },
        provenance: spec.provenance.clone(),
    };
    let config_path = dir.join(CONFIG_FILE);
    config.check(&config_path)?;
    // Same checks as loading: the weights must fit the model the config builds.
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = spec
        .model
        .build(&config.data_spec(), vb)
        .map_err(|e| Error::artifact(&config_path, format!("cannot build the model: {e}")))?;
    let vars = tr_models::params::named_vars(&varmap);
    check_tensors(&dir.join(WEIGHTS_FILE), weights, &vars, spec.model.name())?;
    drop(model);

    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let dtype = spec.weights_dtype.dtype();
    let stored: HashMap<String, Tensor> = weights
        .iter()
        .map(|(k, t)| Ok((k.clone(), t.to_device(&Device::Cpu)?.to_dtype(dtype)?)))
        .collect::<Result<_>>()?;
    let mut meta = HashMap::new();
    meta.insert("tr.format".to_string(), WEIGHTS_FORMAT.to_string());
    meta.insert("tr.model".to_string(), spec.model.name().to_string());
    meta.insert("tr.vocab".to_string(), json(&spec.vocabulary)?);
    let weights_path = dir.join(WEIGHTS_FILE);
    tensor_file::write_atomic(&weights_path, &stored, meta)?;
    let info = file_info(&weights_path)?;
    config.weights.bytes = Some(info.bytes);
    config.weights.sha256 = Some(info.sha256);

    match (&spec.lm, &mut config.decoder) {
        (Some(lm), DecoderConfig::Beam { lm: slot, .. }) => {
            let path = dir.join(LM_FILE);
            tensor_file::write_bytes_atomic(&path, json(lm)?.as_bytes())?;
            let info = file_info(&path)?;
            let (alpha, beta) = slot.as_ref().map_or((0.5, 1.0), |l| (l.alpha, l.beta));
            *slot = Some(LmConfig {
                file: LM_FILE.to_string(),
                alpha,
                beta,
                bytes: Some(info.bytes),
                sha256: Some(info.sha256),
            });
        }
        (Some(_), other) => {
            return Err(Error::invalid(
                "decoder",
                format!(
                    "a language model is only used by beam search, but the decoder is {}",
                    other.label()
                ),
            ))
        }
        (None, DecoderConfig::Beam { lm: Some(lm), .. }) => {
            return Err(Error::invalid(
                "decoder.lm",
                format!(
                    "names {:?} but no language model was given to write",
                    lm.file
                ),
            ))
        }
        (None, _) => {}
    }

    let text = serde_json::to_string_pretty(&config)
        .map_err(|e| Error::invalid("config", format!("cannot serialise: {e}")))?;
    tensor_file::write_bytes_atomic(&config_path, format!("{text}\n").as_bytes())?;
    let parameters = tr_models::params::count_parameters(&varmap);
    let card = spec.card.render(&config, parameters);
    tensor_file::write_bytes_atomic(&dir.join(CARD_FILE), card.as_bytes())?;
    tracing::info!(
        "wrote artifact {} ({} {}, {} parameters, {} bytes of weights)",
        dir.display(),
        spec.model.name(),
        match spec.weights_dtype {
            WeightsDType::F32 => "f32",
            WeightsDType::F16 => "f16",
        },
        parameters,
        info.bytes
    );
    Ok(config)
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v)
        .map_err(|e| Error::invalid("artifact", format!("cannot serialise: {e}")))
}
