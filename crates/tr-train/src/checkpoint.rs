//! Checkpoint files: weights, optimizer state, trainer state, config,
//! vocabulary and data description in one safetensors file, written atomically.
//!
//! Layout (`*.safetensors`):
//!
//! * tensors `model/<parameter>` — the model's weights;
//! * tensors `optim/<buffer>/<parameter>` — the optimizer's moment buffers;
//! * metadata `tr.format` = [`CHECKPOINT_FORMAT`], `tr.model` (registry name),
//!   `tr.vocab` (JSON list of symbols), `tr.config` (the resolved run config,
//!   JSON), `tr.state` (the [`TrainerState`] as JSON: epoch, step, data
//!   position, scheduler step, best scores, early-stopping counters) and
//!   `tr.data` (the [`DataInfo`]: input shape, output length, split sizes;
//!   absent in checkpoints written before it existed).
//!
//! Everything a run needs to continue exactly is in the file; nothing is read
//! from the run directory on resume. Everything staging and inference need
//! (model config, vocabulary, input shape, output length) is in it too, so
//! neither rebuilds a dataset. [`CheckpointHeader::read`] gets all of it but
//! the tensors from the file's header alone.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use tr_data::datasets::DataModule;
use tr_data::tensor_file;
use tr_data::Vocabulary;
use tr_models::DataSpec;

use crate::error::{Error, Result};
use crate::state::TrainerState;

/// Format tag of checkpoint files written by this version.
pub const CHECKPOINT_FORMAT: &str = "tr-checkpoint/1";

const MODEL_PREFIX: &str = "model/";
const OPTIM_PREFIX: &str = "optim/";

/// The data a model was trained on, as far as using the model needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    /// Dataset registry name (`emnist-lines`, …).
    pub dataset: String,
    /// `(C, H, W)` of the input images.
    pub input_shape: [usize; 3],
    /// Padded target length (sequence models), `None` for classifiers.
    pub output_len: Option<usize>,
    /// Samples per split.
    pub train: usize,
    pub val: usize,
    pub test: usize,
    /// What the data module said about itself (splits carved, caches, …).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl DataInfo {
    /// The description of `data`.
    pub fn of(data: &DataModule) -> Self {
        Self {
            dataset: data.name.clone(),
            input_shape: data.input_shape,
            output_len: data.output_len,
            train: data.train.len(),
            val: data.val.len(),
            test: data.test.len(),
            notes: data.notes.clone(),
        }
    }

    /// The model-building spec for this data and `vocab`.
    pub fn spec(&self, vocab: &Vocabulary) -> DataSpec {
        DataSpec::new(self.input_shape, vocab.clone(), self.output_len)
    }
}

/// Everything in a checkpoint but its tensors.
#[derive(Clone, Debug)]
pub struct CheckpointHeader {
    /// Registry name of the model.
    pub model_name: String,
    /// The vocabulary the model was trained with.
    pub vocab: Vocabulary,
    /// The resolved run configuration.
    pub config: serde_json::Value,
    /// Where training was when the checkpoint was written.
    pub state: TrainerState,
    /// The data it was trained on (`None` in checkpoints older than `tr.data`).
    pub data: Option<DataInfo>,
}

impl CheckpointHeader {
    /// Reads the header of the checkpoint at `path` without loading its tensors.
    pub fn read(path: &Path) -> Result<Self> {
        Self::from_metadata(path, &tensor_file::read_metadata(path)?)
    }

    fn from_metadata(path: &Path, meta: &HashMap<String, String>) -> Result<Self> {
        let get = |key: &str| -> Result<&str> {
            meta.get(key).map(String::as_str).ok_or_else(|| {
                Error::checkpoint(format!(
                    "{}: metadata {key} is missing (written by another tool?)",
                    path.display()
                ))
            })
        };
        let format = meta.get("tr.format").ok_or_else(|| {
            Error::checkpoint(format!(
                "{}: not a tr checkpoint (no tr.format metadata; is it a model artifact or another program's file?)",
                path.display()
            ))
        })?;
        if format != CHECKPOINT_FORMAT {
            return Err(Error::checkpoint(format!(
                "{}: format {format:?} is not supported by this version (expected {CHECKPOINT_FORMAT:?})",
                path.display()
            )));
        }
        fn parse<T: serde::de::DeserializeOwned>(path: &Path, key: &str, raw: &str) -> Result<T> {
            serde_json::from_str(raw)
                .map_err(|e| Error::checkpoint(format!("{}: metadata {key}: {e}", path.display())))
        }
        Ok(Self {
            model_name: get("tr.model")?.to_string(),
            vocab: parse(path, "tr.vocab", get("tr.vocab")?)?,
            config: parse(path, "tr.config", get("tr.config")?)?,
            state: parse(path, "tr.state", get("tr.state")?)?,
            data: match meta.get("tr.data") {
                Some(raw) => Some(parse(path, "tr.data", raw)?),
                None => None,
            },
        })
    }

    /// The model-building spec, when the checkpoint records its data.
    pub fn data_spec(&self) -> Option<DataSpec> {
        self.data.as_ref().map(|d| d.spec(&self.vocab))
    }
}

/// The content of a checkpoint.
#[derive(Debug)]
pub struct Checkpoint {
    /// Model name, vocabulary, config, trainer state and data description.
    pub header: CheckpointHeader,
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
        let h = &self.header;
        let mut meta = HashMap::new();
        meta.insert("tr.format".to_string(), CHECKPOINT_FORMAT.to_string());
        meta.insert("tr.model".to_string(), h.model_name.clone());
        meta.insert("tr.vocab".to_string(), to_json(&h.vocab)?);
        meta.insert("tr.config".to_string(), to_json(&h.config)?);
        meta.insert("tr.state".to_string(), to_json(&h.state)?);
        if let Some(data) = &h.data {
            meta.insert("tr.data".to_string(), to_json(data)?);
        }
        tensor_file::write_atomic(path, &tensors, meta)?;
        Ok(())
    }

    /// Reads a checkpoint onto `device`, checking its format tag.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let file = tensor_file::read(path, device)?;
        let header = CheckpointHeader::from_metadata(path, &file.metadata)?;
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
            header,
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
            header: CheckpointHeader {
                model_name: "mlp".into(),
                vocab: Vocabulary::digits(),
                config: serde_json::json!({"seed": 1}),
                state: TrainerState {
                    epoch: 2,
                    global_step: 40,
                    ..TrainerState::default()
                },
                data: Some(DataInfo {
                    dataset: "mnist".into(),
                    input_shape: [1, 28, 28],
                    output_len: None,
                    train: 5,
                    val: 2,
                    test: 1,
                    notes: vec![],
                }),
            },
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
        assert_eq!(c.header.model_name, "mlp");
        assert_eq!(c.header.vocab, Vocabulary::digits());
        assert_eq!(c.header.state.global_step, 40);
        assert_eq!(c.weights["fc.weight"].dims(), &[2, 3]);
        assert!(c.optimizer.contains_key("exp_avg/fc.weight"));
        let spec = c.header.data_spec().unwrap();
        assert_eq!(spec.input_shape, [1, 28, 28]);
        assert_eq!(spec.num_classes(), 10);
    }

    #[test]
    fn header_alone_gives_state_and_data() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("best.safetensors");
        sample().save(&p).unwrap();
        let h = CheckpointHeader::read(&p).unwrap();
        assert_eq!(h.state.epoch, 2);
        assert_eq!(h.data.unwrap().dataset, "mnist");
    }

    #[test]
    fn checkpoint_without_data_info_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old.safetensors");
        let mut old = sample();
        old.header.data = None;
        old.save(&p).unwrap();
        let c = Checkpoint::load(&p, &Device::Cpu).unwrap();
        assert!(c.header.data.is_none() && c.header.data_spec().is_none());
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
        let e = CheckpointHeader::read(&p).unwrap_err().to_string();
        assert!(e.contains("not a tr checkpoint"), "{e}");
    }
}
