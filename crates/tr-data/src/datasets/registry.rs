//! The dataset registry: [`DatasetConfig`], one variant per dataset, tagged
//! by `dataset` in config files:
//!
//! ```yaml
//! data:
//!   dataset: emnist-lines
//!   max_length: 32
//! ```
//!
//! Every field has the course's default; unknown fields are errors.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::emnist::EmnistConfig;
use super::emnist_lines::EmnistLinesConfig;
use super::emnist_lines2::EmnistLines2Config;
use super::fake_images::FakeImagesConfig;
use super::mnist::MnistConfig;
use super::DataModule;
use crate::error::{Error, Result};
use crate::paths::DataDir;

/// Which dataset to build, with its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dataset")]
pub enum DatasetConfig {
    #[serde(rename = "mnist")]
    Mnist(MnistConfig),
    #[serde(rename = "emnist")]
    Emnist(EmnistConfig),
    #[serde(rename = "emnist-lines")]
    EmnistLines(EmnistLinesConfig),
    #[serde(rename = "emnist-lines2")]
    EmnistLines2(EmnistLines2Config),
    #[serde(rename = "fake-images")]
    FakeImages(FakeImagesConfig),
}

impl Default for DatasetConfig {
    /// MNIST, the course's default `--data_class`.
    fn default() -> Self {
        Self::Mnist(MnistConfig::default())
    }
}

const NAMES: [&str; 5] = [
    "mnist",
    "emnist",
    "emnist-lines",
    "emnist-lines2",
    "fake-images",
];

impl DatasetConfig {
    /// Registry names, in registry order.
    pub fn names() -> &'static [&'static str] {
        &NAMES
    }

    /// The default config of dataset `name`; unknown names are an error listing the valid ones.
    pub fn by_name(name: &str) -> Result<Self> {
        Ok(match name {
            "mnist" => Self::Mnist(MnistConfig::default()),
            "emnist" => Self::Emnist(EmnistConfig::default()),
            "emnist-lines" => Self::EmnistLines(EmnistLinesConfig::default()),
            "emnist-lines2" => Self::EmnistLines2(EmnistLines2Config::default()),
            "fake-images" => Self::FakeImages(FakeImagesConfig::default()),
            other => {
                return Err(Error::invalid(
                    "dataset",
                    format!(
                        "unknown dataset {other:?}; valid names: {}",
                        NAMES.join(", ")
                    ),
                ))
            }
        })
    }

    /// The registry name of this config.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Mnist(_) => NAMES[0],
            Self::Emnist(_) => NAMES[1],
            Self::EmnistLines(_) => NAMES[2],
            Self::EmnistLines2(_) => NAMES[3],
            Self::FakeImages(_) => NAMES[4],
        }
    }

    /// The settable keys of this dataset (its config fields).
    pub fn keys(&self) -> Vec<String> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => {
                let mut keys: Vec<String> =
                    map.keys().filter(|k| *k != "dataset").cloned().collect();
                keys.sort();
                keys
            }
            _ => Vec::new(),
        }
    }

    /// Sets field `key` from its text form: JSON (`0.3`, `true`, `[1, 2]`)
    /// or, for text fields, the bare string. An unknown key is an error
    /// listing the valid keys; a wrong type names key, expected type and value.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let name = self.name();
        let mut obj =
            serde_json::to_value(&*self).map_err(|e| Error::invalid(name, e.to_string()))?;
        let map = obj
            .as_object_mut()
            .ok_or_else(|| Error::invalid(name, "config does not serialise to an object"))?;
        if key == "dataset" {
            return Err(Error::invalid(
                "dataset",
                "the dataset is chosen by name (DatasetConfig::by_name), not set as a parameter",
            ));
        }
        let Some(current) = map.get(key) else {
            let mut keys: Vec<&str> = map
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "dataset")
                .collect();
            keys.sort_unstable();
            return Err(Error::invalid(
                format!("{name}.{key}"),
                format!("unknown key; valid keys of {name}: {}", keys.join(", ")),
            ));
        };
        let expected = kind_of(current);
        let parsed = match current {
            Value::String(_) => Value::String(value.to_string()),
            _ => serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string())),
        };
        map.insert(key.to_string(), parsed);
        *self = serde_json::from_value(obj).map_err(|e| {
            Error::invalid(
                format!("{name}.{key}"),
                format!("expected {expected}, got {value:?} ({e})"),
            )
        })?;
        Ok(())
    }

    /// Builds the data module, reading data under `dir` (fake images read nothing).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        match self {
            Self::Mnist(c) => c.build(dir),
            Self::Emnist(c) => c.build(dir),
            Self::EmnistLines(c) => c.build(dir),
            Self::EmnistLines2(c) => c.build(dir),
            Self::FakeImages(c) => c.build(),
        }
    }
}

/// A phrase for the JSON type of `v`.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "true or false",
        Value::Number(n) if n.is_u64() => "a non-negative integer",
        Value::Number(n) if n.is_i64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list like [1, 2]",
        Value::Object(_) => "an object",
        Value::Null => "a value or null",
    }
}
