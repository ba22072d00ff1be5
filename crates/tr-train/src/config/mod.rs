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

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tr_data::datasets::DatasetConfig;
use tr_lit::LitConfig;
use tr_models::{ModelConfig, Task};

use crate::error::{Error, Result};
use crate::trainer_config::TrainerConfig;

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
            switch_variant(&mut tree, &o.key, &value);
            set_path(&mut tree, &o.key, value)?;
        }
        Self::from_tree(tree)
    }

    /// Validates a config tree and turns it into a `RunConfig`.
    pub fn from_tree(mut tree: Value) -> Result<Self> {
        fill_defaults(&mut tree)?;
        let reference = reference_tree(&tree)?;
        check_keys(&tree, &reference, "")?;
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
            let keys = self.data.dataset.keys();
            if keys.iter().any(|k| k == "with_start_end_tokens") {
                self.data
                    .dataset
                    .set("with_start_end_tokens", Value::Bool(true))
                    .map_err(|e| Error::config("data.with_start_end_tokens", e.to_string()))?;
            } else {
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

/// `--model.name X` / `--data.dataset X` / `--trainer.optimizer.name X` /
/// `--trainer.scheduler.name X` choosing a different variant than the file: the old
/// variant's settings do not apply to the new one, so the section restarts from the new
/// variant's defaults (the loader settings of `data` are kept).
fn switch_variant(tree: &mut Value, key: &str, value: &Value) {
    let keep: &[&str] = match key {
        "model.name" | "trainer.optimizer.name" | "trainer.scheduler.name" => &[],
        "data.dataset" => &["batch_size", "num_workers", "prefetch", "data_dir"],
        _ => return,
    };
    let Some((section, tag)) = key.rsplit_once('.') else {
        return;
    };
    let node = section
        .split('.')
        .try_fold(&mut *tree, |node, part| node.get_mut(part));
    let Some(Value::Object(map)) = node else {
        return;
    };
    if map.get(tag) == Some(value) {
        return;
    }
    tracing::info!("{key} switched to {value}: `{section}` restarts from its defaults");
    map.retain(|k, _| keep.contains(&k.as_str()));
}

/// Sets `a.b.c` in `tree`, creating mappings on the way.
fn set_path(tree: &mut Value, key: &str, value: Value) -> Result<()> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut node = tree;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            return Err(Error::config(key, "empty segment in dotted key"));
        }
        let map = match node {
            Value::Object(m) => m,
            _ => {
                return Err(Error::config(
                    key,
                    format!("{} is a value, not a section", parts[..i].join(".")),
                ))
            }
        };
        if i + 1 == parts.len() {
            map.insert(part.to_string(), value);
            return Ok(());
        }
        node = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(())
}

/// Adds the sections a file may leave out, and the variant tags with their defaults.
fn fill_defaults(tree: &mut Value) -> Result<()> {
    let Value::Object(map) = tree else {
        return Err(Error::config("config", "expected a mapping of sections"));
    };
    let defaults = serde_json::to_value(RunConfig::default())
        .map_err(|e| Error::config("config", e.to_string()))?;
    for key in ["name", "seed", "lit", "trainer"] {
        if !map.contains_key(key) {
            map.insert(key.to_string(), defaults[key].clone());
        }
    }
    for (section, tag, default) in [
        ("data", "dataset", "emnist-lines"),
        ("model", "name", "line-cnn"),
    ] {
        let entry = map
            .entry(section.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        match entry {
            Value::Object(m) => {
                m.entry(tag.to_string())
                    .or_insert_with(|| Value::String(default.to_string()));
            }
            _ => return Err(Error::config(section, "expected a mapping")),
        }
    }
    // A file or override may give `trainer.optimizer.lr` without the optimizer's name:
    // the variant is then the default one.
    for sub in ["optimizer", "scheduler"] {
        if let Some(Value::Object(section)) = map.get_mut("trainer").and_then(|t| t.get_mut(sub)) {
            if !section.contains_key("name") {
                section.insert("name".into(), defaults["trainer"][sub]["name"].clone());
            }
        }
    }
    map.entry("reference".to_string()).or_insert(Value::Null);
    Ok(())
}

/// The tree of valid keys for the variants `tree` chose, with default values.
fn reference_tree(tree: &Value) -> Result<Value> {
    let tag = |section: &str, key: &str| -> Result<String> {
        match tree.get(section).and_then(|s| s.get(key)) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(Error::config(
                format!("{section}.{key}"),
                format!("expected a name, got {other}"),
            )),
            None => Err(Error::config(format!("{section}.{key}"), "missing")),
        }
    };
    let dataset = DatasetConfig::by_name(&tag("data", "dataset")?)
        .map_err(|e| Error::config("data.dataset", e.to_string()))?;
    let model = ModelConfig::by_name(&tag("model", "name")?)
        .map_err(|e| Error::config("model.name", e.to_string()))?;
    let trainer_tree = tree.get("trainer").cloned().unwrap_or(Value::Null);
    let trainer = TrainerConfig::reference_tree(&trainer_tree)?;
    let cfg = RunConfig {
        data: DataSection {
            dataset,
            ..DataSection::default()
        },
        model,
        reference: Some(Reference::default()),
        ..RunConfig::default()
    };
    let mut v = serde_json::to_value(&cfg).map_err(|e| Error::config("config", e.to_string()))?;
    v["trainer"] = trainer;
    Ok(v)
}

/// Every key of `user` must exist in `reference` (recursively where both are mappings).
fn check_keys(user: &Value, reference: &Value, prefix: &str) -> Result<()> {
    let (Value::Object(u), Value::Object(r)) = (user, reference) else {
        return Ok(());
    };
    for (k, v) in u {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match r.get(k) {
            None => {
                let mut valid: Vec<&String> = r.keys().collect();
                valid.sort();
                let valid: Vec<&str> = valid.iter().map(|s| s.as_str()).collect();
                let level = if prefix.is_empty() {
                    "the top level".to_string()
                } else {
                    format!("`{prefix}`")
                };
                return Err(Error::config(
                    path,
                    format!("unknown key; valid keys at {level}: {}", valid.join(", ")),
                ));
            }
            Some(rv) => check_keys(v, rv, &path)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
