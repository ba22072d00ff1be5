//! Run configuration: YAML files plus dotted command-line overrides.
//!
//! ```yaml
//! name: line-cnn-ctc
//! seed: 42
//! data:    { dataset: emnist-lines, max_overlap: 0.33, batch_size: 128 }
//! model:   { name: line-cnn, window_stride: 18 }
//! lit:     { objective: ctc }
//! trainer: { max_epochs: 10, optimizer: { name: adam, lr: 0.001 } }
//! ```
//!
//! Resolution: the file is read, `--section.key value` overrides are applied
//! (values parsed as YAML scalars: `0.33`, `true`, `adam`), every key is
//! checked against the keys the chosen dataset/model/optimizer/scheduler
//! actually have (an unknown key is an error naming it and listing the valid
//! keys at that level), the tree is deserialised (a wrong type is an error
//! naming the key), and settings that must agree between data and model are
//! linked (a sequence-to-sequence model turns on the dataset's start/end
//! tokens). Input size, output length and vocabulary are never configured on
//! the model: they come from the data module when the model is built.
//!
//! The sections chosen by name (`data`, `model`, `trainer.optimizer`,
//! `trainer.scheduler`; see `chosen.rs`) are registries of
//! [`tr_data::registry`](mod@tr_data::registry): the valid keys of each are
//! the default tree of the variant the config names, so every default is
//! written once, in the variant's config type.

mod chosen;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tr_data::datasets::DatasetConfig;
use tr_data::registry::dotted;
use tr_lit::LitConfig;
use tr_models::{ModelConfig, Task};

use crate::error::{Error, Result};
use crate::trainer_config::TrainerConfig;
use chosen::{fill_defaults, key_error, reference_tree, switch_variant};

/// The `data` section: the dataset (tagged by `dataset`) and how it is batched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSection {
    #[serde(flatten)]
    pub dataset: DatasetConfig,
    /// Samples per batch (the course's default 128).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Background threads preparing batches (0 = prepare on the training thread).
    #[serde(default = "default_num_workers")]
    pub num_workers: usize,
    /// Batches prepared ahead per worker pool (bounds memory).
    #[serde(default = "default_prefetch")]
    pub prefetch: usize,
    /// Data root (`--data-dir`); `null` = `TR_DATA_DIR` or `./data`.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
}

fn default_batch_size() -> usize {
    128
}
fn default_num_workers() -> usize {
    2
}
fn default_prefetch() -> usize {
    4
}

impl Default for DataSection {
    fn default() -> Self {
        Self {
            dataset: DatasetConfig::default(),
            batch_size: default_batch_size(),
            num_workers: default_num_workers(),
            prefetch: default_prefetch(),
            data_dir: None,
        }
    }
}

/// The course's published result for an experiment (shown beside ours by `cargo xtask lab`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Metric name, e.g. `test_cer` or `test_acc`.
    pub metric: String,
    /// The published value, if the course gave one.
    pub value: Option<f64>,
    /// Where the figure comes from.
    pub source: String,
}

/// A whole experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Experiment name (run directory suffix).
    pub name: String,
    /// Seed of everything random: weights, data order, dropout, augmentation.
    pub seed: u64,
    pub data: DataSection,
    pub model: ModelConfig,
    pub lit: LitConfig,
    pub trainer: TrainerConfig,
    pub reference: Option<Reference>,
}

impl Default for RunConfig {
    /// The default experiment: line-cnn + CTC on EMNIST lines.
    fn default() -> Self {
        Self {
            name: "line-cnn-ctc".into(),
            seed: 42,
            data: DataSection {
                dataset: DatasetConfig::by_name("emnist-lines").unwrap_or_default(),
                ..DataSection::default()
            },
            model: ModelConfig::by_name("line-cnn").expect("line-cnn is a built-in model"),
            lit: LitConfig::default(),
            trainer: TrainerConfig::default(),
            reference: None,
        }
    }
}

/// A `--dotted.key value` command-line override.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub key: String,
    pub value: String,
}

impl Override {
    /// Pairs up `["--a.b", "1", "--c", "x"]`; anything else is an error.
    pub fn parse_args(args: &[String]) -> Result<Vec<Override>> {
        let mut out = Vec::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let key = flag.strip_prefix("--").ok_or_else(|| {
                Error::config(
                    flag.clone(),
                    "expected an override of the form --section.key value",
                )
            })?;
            let (key, value) = match key.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => {
                    let v = it.next().ok_or_else(|| {
                        Error::config(key.to_string(), "override is missing its value")
                    })?;
                    (key.to_string(), v.clone())
                }
            };
            if key.is_empty() {
                return Err(Error::config(flag.clone(), "empty key"));
            }
            out.push(Override { key, value });
        }
        Ok(out)
    }
}

impl RunConfig {
    /// Reads `path` (or the defaults when `None`), applies `overrides`, validates and links.
    pub fn load(path: Option<&Path>, overrides: &[Override]) -> Result<Self> {
        let mut tree = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
                let v: Value = serde_yaml::from_str(&text).map_err(|e| {
                    Error::config(p.display().to_string(), format!("not valid YAML: {e}"))
                })?;
                match v {
                    Value::Object(_) => v,
                    Value::Null => Value::Object(Map::new()),
                    _ => {
                        return Err(Error::config(
                            p.display().to_string(),
                            "expected a mapping of sections",
                        ))
                    }
                }
            }
            None => serde_json::to_value(RunConfig::default())
                .map_err(|e| Error::config("config", e.to_string()))?,
        };
        for o in overrides {
            let value: Value =
                serde_yaml::from_str(&o.value).unwrap_or(Value::String(o.value.clone()));
            switch_variant(&mut tree, &o.key, &value)?;
            dotted::insert(&mut tree, &o.key, value, "").map_err(|e| key_error(&o.key, e))?;
        }
        Self::from_tree(tree)
    }

    /// Validates a config tree and turns it into a `RunConfig`.
    pub fn from_tree(mut tree: Value) -> Result<Self> {
        fill_defaults(&mut tree)?;
        let reference = reference_tree(&tree)?;
        dotted::check_keys(&tree, &reference, "").map_err(|e| key_error("config", e))?;
        let mut cfg: RunConfig = {
            let de = tree.clone();
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = e.path().to_string();
                Error::config(
                    if path == "." { "config".into() } else { path },
                    e.inner().to_string(),
                )
            })?
        };
        cfg.link()?;
        cfg.trainer.validate()?;
        Ok(cfg)
    }

    /// Makes data and model agree: seq2seq models need `<S>`/`<E>` in the targets.
    fn link(&mut self) -> Result<()> {
        if self.model.task() == Task::Seq2Seq {
            // The flag may sit deeper than the dataset's top level (the
            // paragraphs inside `iam-original-and-synthetic-paragraphs`,
            // `text.with_start_end_tokens` of `page-paragraphs`, every part
            // of a `mixture`): every one is set.
            if !enable_start_end(&mut self.data.dataset)? {
                return Err(Error::config(
                    "data.dataset",
                    format!(
                        "model {} decodes with <S>/<E> tokens but dataset {} has no start/end tokens",
                        self.model.name(),
                        self.data.dataset.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The resolved configuration as YAML (every default written out).
    pub fn to_yaml(&self) -> Result<String> {
        serde_yaml::to_string(self).map_err(|e| Error::config("config", e.to_string()))
    }
}

#[cfg(test)]
mod tests;

/// Sets the shallowest `with_start_end_tokens` flags of `ds` (nested ones
/// too, and those of each part of a mixture) to true; false when it has none.
fn enable_start_end(ds: &mut DatasetConfig) -> Result<bool> {
    if let DatasetConfig::Mixture(m) = ds {
        let mut all = !m.parts.is_empty();
        for part in &mut m.parts {
            all &= enable_start_end(&mut part.data)?;
        }
        return Ok(all);
    }
    let mut keys: Vec<String> = ds
        .keys()
        .into_iter()
        .filter(|k| k == "with_start_end_tokens" || k.ends_with(".with_start_end_tokens"))
        .collect();
    // Only the shallowest: `synthetic-paragraphs` wraps whole paragraphs
    // itself, its `lines.text.with_start_end_tokens` must stay off.
    let depth = |k: &String| k.matches('.').count();
    if let Some(min) = keys.iter().map(depth).min() {
        keys.retain(|k| depth(k) == min);
    }
    for k in &keys {
        ds.set(k, Value::Bool(true))
            .map_err(|e| Error::config(format!("data.{k}"), e.to_string()))?;
    }
    Ok(!keys.is_empty())
}
