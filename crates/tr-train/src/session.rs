//! A training session: data module, model, lit model and device built from a
//! [`RunConfig`], and the loaders the phases read.
//!
//! The model is built from the data module's [`DataSpec`] (input size,
//! vocabulary, output length), so those are never configured twice, and its
//! weights are initialised from the run seed (independent of construction
//! order), so the same config gives the same weights bit for bit.

use std::path::PathBuf;
use std::sync::Arc;

use candle_core::{DType, Device, Var};
use candle_nn::VarMap;
use tr_data::datasets::{DataModule, Dataset};
use tr_data::derive_seed;
use tr_data::DataDir;
use tr_data::{DataLoader, LoaderConfig};
use tr_lit::{LitModel, Objective};
use tr_models::seeded_var_builder;
use tr_models::{DataSpec, Model};

use crate::checkpoint::Checkpoint;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::trainer_config::InitVocabulary;
use crate::vocab_map::map_vocabulary;

/// Which split a phase reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    /// `train`, `val` or `test` (metric prefixes).
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

/// Everything built from a config.
pub struct Session {
    pub config: RunConfig,
    pub device: Device,
    pub data: DataModule,
    pub spec: DataSpec,
    pub varmap: VarMap,
    pub model: Box<dyn Model>,
    pub lit: LitModel,
}

/// Parses `cpu`, `cuda[:N]`, `metal[:N]`.
pub fn parse_device(name: &str) -> Result<Device> {
    let (kind, index) = match name.split_once(':') {
        Some((k, i)) => (
            k,
            i.parse::<usize>().map_err(|_| {
                Error::config("trainer.device", format!("bad device index in {name:?}"))
            })?,
        ),
        None => (name, 0),
    };
    match kind {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Device::new_cuda(index).map_err(|e| {
            Error::config(
                "trainer.device",
                format!("{name}: {e} (build with `--features cuda`)"),
            )
        }),
        "metal" => Device::new_metal(index).map_err(|e| {
            Error::config(
                "trainer.device",
                format!("{name}: {e} (build with `--features metal`)"),
            )
        }),
        other => Err(Error::config(
            "trainer.device",
            format!("unknown device {other:?}; expected cpu, cuda[:N] or metal[:N]"),
        )),
    }
}

impl Session {
    /// Builds data, model and lit model for `config`.
    pub fn build(config: RunConfig) -> Result<Self> {
        let device = parse_device(&config.trainer.device)?;
        let dir = DataDir::resolve(config.data.data_dir.as_deref());
        let data = config.data.dataset.build(&dir)?;
        let spec = DataSpec::new(data.input_shape, data.vocab.clone(), data.output_len);
        let varmap = VarMap::new();
        let vb = seeded_var_builder(
            &varmap,
            derive_seed(config.seed, "weights"),
            DType::F32,
            &device,
        );
        let model = config
            .model
            .build(&spec, vb)
            .map_err(|e| Error::config("model", e.to_string()))?;
        let lit = LitModel::new(&config.lit, config.model.task(), &data.vocab)
            .map_err(|e| Error::config("lit", e.to_string()))?;
        tracing::info!(
            "{} on {} ({} train / {} val / {} test), input {:?}, {} classes, {} parameters",
            config.model.name(),
            data.name,
            data.train.len(),
            data.val.len(),
            data.test.len(),
            data.input_shape,
            data.vocab.len(),
            tr_models::params::count_parameters(&varmap)
        );
        Ok(Self {
            config,
            device,
            data,
            spec,
            varmap,
            model,
            lit,
        })
    }

    /// Loads the checkpoint at `path` into this session's model after checking
    /// that it was trained with the same model config; returns the checkpoint
    /// (optimizer and trainer state) for a resume.
    pub fn restore(&self, path: &std::path::Path) -> Result<Checkpoint> {
        let ckpt = Checkpoint::load(path, &self.device)?;
        let here = serde_json::to_value(&self.config.model)
            .map_err(|e| Error::config("model", e.to_string()))?;
        if ckpt.header.config.get("model") != Some(&here) {
            return Err(Error::checkpoint(format!(
                "{}: was trained with model config {} but this config has {}",
                path.display(),
                ckpt.header.config.get("model").cloned().unwrap_or_default(),
                here
            )));
        }
        self.load_weights(&ckpt, path)?;
        Ok(ckpt)
    }

    /// Loads only the weights at `path` (`trainer.init_from`, fine-tuning): a
    /// checkpoint file, or a staged artifact directory (`htr stage` output,
    /// e.g. `models/default`; f16 weights are widened to f32). Same model
    /// name, vocabulary and tensor shapes, while the model's other settings
    /// may differ.
    pub fn init_from(&self, path: &std::path::Path) -> Result<()> {
        let named = |e: Error| Error::config("trainer.init_from", e.to_string());
        if path.is_dir() {
            return self.init_from_artifact(path).map_err(named);
        }
        let ckpt = Checkpoint::load(path, &self.device).map_err(named)?;
        self.ensure_model(&ckpt.header.model_name, path)
            .map_err(named)?;
        self.init_weights(ckpt.weights, &ckpt.header.vocab, path)
            .map_err(named)?;
        tracing::info!(
            "initialised the weights from {} (its step {}; optimizer and schedule start afresh)",
            path.display(),
            ckpt.header.state.global_step
        );
        Ok(())
    }

    /// [`Session::init_from`] for an artifact directory.
    fn init_from_artifact(&self, dir: &std::path::Path) -> Result<()> {
        let config =
            tr_infer::ArtifactConfig::read(dir).map_err(|e| Error::checkpoint(e.to_string()))?;
        self.ensure_model(config.model.name(), dir)?;
        let weights_path = dir.join(&config.weights.file);
        let file = tr_data::tensor_file::read(&weights_path, &self.device)?;
        let weights = file
            .tensors
            .into_iter()
            .map(|(k, t)| Ok((k, t.to_dtype(candle_core::DType::F32)?)))
            .collect::<std::result::Result<std::collections::HashMap<_, _>, candle_core::Error>>(
            )?;
        let count = weights.len();
        self.init_weights(weights, &config.vocabulary, &weights_path)?;
        tracing::info!(
            "initialised the weights from the artifact {} ({} tensors, stored as {:?}; optimizer and schedule start afresh)",
            dir.display(),
            count,
            config.weights.dtype
        );
        Ok(())
    }

    /// Copies fine-tuning `weights` trained with `vocab` (read from `file`)
    /// into the model: the vocabularies must be equal unless
    /// `trainer.init_vocabulary` is `map` ([`crate::vocab_map`]).
    fn init_weights(
        &self,
        weights: std::collections::HashMap<String, candle_core::Tensor>,
        vocab: &tr_data::Vocabulary,
        file: &std::path::Path,
    ) -> Result<()> {
        let weights = match self.config.trainer.init_vocabulary {
            InitVocabulary::Same => {
                self.data
                    .vocab
                    .ensure_same(vocab, &file.display().to_string())
                    .map_err(|e| {
                        Error::checkpoint(format!(
                            "{e} (set trainer.init_vocabulary: map to carry the shared \
                             symbols over and start the others afresh)"
                        ))
                    })?;
                weights
            }
            InitVocabulary::Map => {
                let (weights, map) = map_vocabulary(self, weights, vocab, file)?;
                tracing::info!(
                    "vocabulary mapped: {} symbols carried over, {} new {:?}, {} dropped {:?} (tensors {:?})",
                    map.shared,
                    map.new.len(),
                    map.new,
                    map.dropped.len(),
                    map.dropped,
                    map.tensors
                );
                weights
            }
        };
        self.copy_weights(&weights, file)
    }

    /// Trainable parameters, sorted by name.
    pub fn trainable(&self) -> Vec<(String, Var)> {
        tr_models::params::trainable_vars(&self.varmap)
    }

    /// Number of trainable scalars.
    pub fn parameter_count(&self) -> usize {
        tr_models::params::count_parameters(&self.varmap)
    }

    /// True when the targets are sequences (CER is the metric), false for classes.
    pub fn is_sequence(&self) -> bool {
        self.lit.objective != Objective::Classify
    }

    /// Copies checkpoint weights into the model after checking that the
    /// checkpoint was made for this model and vocabulary, tensor by tensor
    /// ([`tr_models::params::load_named_tensors`], the check artifacts use too).
    pub fn load_weights(&self, ckpt: &Checkpoint, path: &std::path::Path) -> Result<()> {
        self.ensure_model(&ckpt.header.model_name, path)?;
        self.data
            .vocab
            .ensure_same(&ckpt.header.vocab, &path.display().to_string())
            .map_err(|e| Error::checkpoint(e.to_string()))?;
        self.copy_weights(&ckpt.weights, path)
    }

    /// Refuses weights of another model than the config builds.
    fn ensure_model(&self, there: &str, path: &std::path::Path) -> Result<()> {
        let here = self.config.model.name();
        if there != here {
            return Err(Error::checkpoint(format!(
                "{}: holds a {there} model, the config builds {here}",
                path.display()
            )));
        }
        Ok(())
    }

    /// Copies `weights` (read from `file`) into the model after checking
    /// every tensor's name and shape.
    fn copy_weights(
        &self,
        weights: &std::collections::HashMap<String, candle_core::Tensor>,
        file: &std::path::Path,
    ) -> Result<()> {
        let vars = tr_models::params::named_vars(&self.varmap);
        let here = self.config.model.name();
        tr_models::params::load_named_tensors(&vars, weights, file, here, "this config").map_err(
            |e| match e {
                tr_models::Error::Weights { .. } => Error::checkpoint(e.to_string()),
                other => Error::from(other),
            },
        )
    }

    /// The model's weights (buffers included) by name, for checkpoints.
    pub fn weights(&self) -> std::collections::HashMap<String, candle_core::Tensor> {
        tr_models::params::named_vars(&self.varmap)
            .into_iter()
            .map(|(k, v)| (k, v.as_tensor().clone()))
            .collect()
    }

    fn loader_config(&self, shuffle: bool) -> LoaderConfig {
        LoaderConfig {
            batch_size: self.config.data.batch_size,
            shuffle,
            seed: derive_seed(self.config.seed, "data-order"),
            num_workers: self.config.data.num_workers,
            prefetch: self.config.data.prefetch.max(1),
            drop_last: false,
        }
    }

    /// The loader of a phase with the trainer's limits applied:
    /// `overfit_batches` (train and val read the same first training batches,
    /// in order), `fast_dev_run`, then `limit_*_batches`.
    pub fn loader(&self, split: Split) -> Result<DataLoader> {
        let t = &self.config.trainer;
        let bs = self.config.data.batch_size.max(1);
        if !t.overfit_batches.is_zero() && split != Split::Test {
            let dataset: Arc<dyn Dataset> = self.data.train.clone();
            let available = dataset.len().div_ceil(bs) as u64;
            let n = t.overfit_batches.resolve(available) as usize;
            let indices: Vec<usize> = (0..(n * bs).min(dataset.len())).collect();
            return Ok(
                DataLoader::new(dataset, self.loader_config(false), &self.device)?
                    .with_indices(indices)?,
            );
        }
        let (dataset, limit) = match split {
            Split::Train => (self.data.train.clone(), t.limit_train_batches),
            Split::Val => (self.data.val.clone(), t.limit_val_batches),
            Split::Test => (self.data.test.clone(), t.limit_test_batches),
        };
        let loader = DataLoader::new(
            dataset,
            self.loader_config(split == Split::Train),
            &self.device,
        )?;
        let available = loader.num_batches() as u64;
        let mut n = limit.resolve(available);
        if t.fast_dev_run > 0 {
            n = n.min(t.fast_dev_run);
        }
        Ok(if n < available {
            loader.with_limit(n as usize)
        } else {
            loader
        })
    }

    /// The run directory root configured for this session.
    pub fn runs_dir(&self) -> PathBuf {
        self.config.trainer.runs_dir.clone()
    }
}
