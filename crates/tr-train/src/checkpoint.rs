//! Checkpoint files: weights, optimizer state, trainer state, config and
//! vocabulary in one safetensors file, written atomically.
//!
//! Layout (`*.safetensors`):
//!
//! * tensors `model/<parameter>` — the model's weights;
//! * tensors `optim/<buffer>/<parameter>` — the optimizer's moment buffers;
//! * metadata `tr.format` = [`FORMAT`], `tr.model` (registry name),
//!   `tr.vocab` (JSON list of symbols), `tr.config` (the resolved run config,
//!   JSON) and `tr.state` (the [`crate::state::TrainerState`] as JSON: epoch,
//!   step, data position, scheduler step, best scores, early-stopping counters).
//!
//! Everything a run needs to continue exactly is in the file; nothing is read
//! from the run directory on resume.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use tr_data::tensor_file;
use tr_data::Vocabulary;

use crate::error::{Error, Result};

/// Format tag of checkpoint files written by this version.
pub const FORMAT: &str = "tr-checkpoint/1";

const MODEL_PREFIX: &str = "model/";
const OPTIM_PREFIX: &str = "optim/";

/// The content of a checkpoint.
#[derive(Debug)]
pub struct Checkpoint {
    /// Registry name of the model.
    pub model_name: String,
    /// The vocabulary the model was trained with.
    pub vocab: Vocabulary,
    /// The resolved run configuration.
    pub config: serde_json::Value,
    /// Trainer state (see `crate::state::TrainerState`), as JSON.
    pub state: serde_json::Value,
    /// Model weights by parameter name.
    pub weights: HashMap<String, Tensor>,
    /// Optimizer buffers by `<buffer>/<parameter>` name.
    pub optimizer: HashMap<String, Tensor>,
}

impl Checkpoint {
    /// Writes the checkpoint to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors = HashMap::with_capacity(self.weights.len() + self.optimizer.len());
        for (k, t) in &self.weights {
            tensors.insert(format!("{MODEL_PREFIX}{k}"), t.clone());
        }
        for (k, t) in &self.optimizer {
            tensors.insert(format!("{OPTIM_PREFIX}{k}"), t.clone());
        }
        let mut meta = HashMap::new();
        meta.insert("tr.format".to_string(), FORMAT.to_string());
        meta.insert("tr.model".to_string(), self.model_name.clone());
        meta.insert("tr.vocab".to_string(), to_json(&self.vocab)?);
        meta.insert("tr.config".to_string(), to_json(&self.config)?);
        meta.insert("tr.state".to_string(), to_json(&self.state)?);
        tensor_file::write_atomic(path, &tensors, meta)?;
        Ok(())
    }

    /// Reads a checkpoint onto `device`, checking its format tag.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let file = tensor_file::read(path, device)?;
        let format = file.meta(path, "tr.format").map_err(|_| {
            Error::checkpoint(format!(
                "{}: not a tr checkpoint (no tr.format metadata; is it a model artifact or another program's file?)",
                path.display()
            ))
        })?;
        if format != FORMAT {
            return Err(Error::checkpoint(format!(
                "{}: format {format:?} is not supported by this version (expected {FORMAT:?})",
                path.display()
            )));
        }
        let parse = |key: &str| -> Result<serde_json::Value> {
            let raw = file.meta(path, key)?;
            serde_json::from_str(raw).map_err(|e| {
                Error::checkpoint(format!(
                    "{}: metadata {key} is not valid JSON: {e}",
                    path.display()
                ))
            })
        };
        let vocab: Vocabulary = serde_json::from_value(parse("tr.vocab")?).map_err(|e| {
            Error::checkpoint(format!("{}: metadata tr.vocab: {e}", path.display()))
        })?;
        let config = parse("tr.config")?;
        let state = parse("tr.state")?;
        let model_name = file.meta(path, "tr.model")?.to_string();
        let mut weights = HashMap::new();
        let mut optimizer = HashMap::new();
        for (k, t) in file.tensors {
            if let Some(name) = k.strip_prefix(MODEL_PREFIX) {
                weights.insert(name.to_string(), t);
            } else if let Some(name) = k.strip_prefix(OPTIM_PREFIX) {
                optimizer.insert(name.to_string(), t);
            } else {
                return Err(Error::checkpoint(format!(
                    "{}: unexpected tensor {k:?} (expected model/… or optim/…)",
                    path.display()
                )));
            }
        }
        if weights.is_empty() {
            return Err(Error::checkpoint(format!(
                "{}: holds no model weights",
                path.display()
            )));
        }
        Ok(Self {
            model_name,
            vocab,
            config,
            state,
            weights,
            optimizer,
        })
    }
}

/// A metadata value as a JSON string.
fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v)
        .map_err(|e| Error::checkpoint(format!("cannot serialise metadata: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let mut weights = HashMap::new();
        weights.insert(
            "fc.weight".to_string(),
            Tensor::ones((2, 3), candle_core::DType::F32, &Device::Cpu).unwrap(),
        );
        let mut optimizer = HashMap::new();
        optimizer.insert(
            "exp_avg/fc.weight".to_string(),
            Tensor::zeros((2, 3), candle_core::DType::F32, &Device::Cpu).unwrap(),
        );
        Checkpoint {
            model_name: "mlp".into(),
            vocab: Vocabulary::digits(),
            config: serde_json::json!({"seed": 1}),
            state: serde_json::json!({"epoch": 2, "global_step": 40}),
            weights,
            optimizer,
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("last.safetensors");
        sample().save(&p).unwrap();
        let c = Checkpoint::load(&p, &Device::Cpu).unwrap();
        assert_eq!(c.model_name, "mlp");
        assert_eq!(c.vocab, Vocabulary::digits());
        assert_eq!(c.state["global_step"], 40);
        assert_eq!(c.weights["fc.weight"].dims(), &[2, 3]);
        assert!(c.optimizer.contains_key("exp_avg/fc.weight"));
    }

    #[test]
    fn foreign_safetensors_is_not_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("weights.safetensors");
        let mut t = HashMap::new();
        t.insert(
            "w".to_string(),
            Tensor::ones(2, candle_core::DType::F32, &Device::Cpu).unwrap(),
        );
        tensor_file::write_atomic(&p, &t, HashMap::new()).unwrap();
        let e = Checkpoint::load(&p, &Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("not a tr checkpoint"), "{e}");
    }
}
