//! The model registry: every model by name, its config, the data it was
//! made for, and a builder.
//!
//! [`ModelConfig`] is a serde enum tagged by `name`, so a config file reads
//!
//! ```yaml
//! model:
//!   name: line-cnn-lstm
//!   lstm_dim: 256
//!   line_cnn: { window_width: 16 }
//! ```
//!
//! with every missing field at the course's default and unknown fields
//! rejected. [`ModelConfig::set`] overrides one (dotted) key generically
//! through `serde_json`, validating it against the model's config type.

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tr_data::Vocabulary;

use crate::error::{Error, Result};
use crate::model::{DataSpec, Model, Task};
use crate::{
    cnn, line_cnn, line_cnn_lstm, line_cnn_simple, line_cnn_transformer, mlp, params,
    resnet_transformer,
};

/// The config of one model of the zoo, tagged by its registry name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum ModelConfig {
    Mlp(mlp::Config),
    Cnn(cnn::Config),
    LineCnnSimple(line_cnn_simple::Config),
    LineCnn(line_cnn::Config),
    LineCnnLstm(line_cnn_lstm::Config),
    LineCnnTransformer(line_cnn_transformer::Config),
    ResnetTransformer(resnet_transformer::Config),
}

/// Every registry name, in the course's order.
pub const MODEL_NAMES: [&str; 7] = [
    mlp::NAME,
    cnn::NAME,
    line_cnn_simple::NAME,
    line_cnn::NAME,
    line_cnn_lstm::NAME,
    line_cnn_transformer::NAME,
    resnet_transformer::NAME,
];

impl ModelConfig {
    /// Every registry name.
    pub fn names() -> &'static [&'static str] {
        &MODEL_NAMES
    }

    /// The default (course) config of a model.
    pub fn by_name(name: &str) -> Result<Self> {
        Ok(match name {
            mlp::NAME => Self::Mlp(Default::default()),
            cnn::NAME => Self::Cnn(Default::default()),
            line_cnn_simple::NAME => Self::LineCnnSimple(Default::default()),
            line_cnn::NAME => Self::LineCnn(Default::default()),
            line_cnn_lstm::NAME => Self::LineCnnLstm(Default::default()),
            line_cnn_transformer::NAME => Self::LineCnnTransformer(Default::default()),
            resnet_transformer::NAME => Self::ResnetTransformer(Default::default()),
            _ => {
                return Err(Error::UnknownModel {
                    name: name.to_string(),
                    valid: MODEL_NAMES.join(", "),
                })
            }
        })
    }

    /// Registry name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Mlp(_) => mlp::NAME,
            Self::Cnn(_) => cnn::NAME,
            Self::LineCnnSimple(_) => line_cnn_simple::NAME,
            Self::LineCnn(_) => line_cnn::NAME,
            Self::LineCnnLstm(_) => line_cnn_lstm::NAME,
            Self::LineCnnTransformer(_) => line_cnn_transformer::NAME,
            Self::ResnetTransformer(_) => resnet_transformer::NAME,
        }
    }

    /// The task the model's outputs are for.
    pub fn task(&self) -> Task {
        match self {
            Self::Mlp(_) | Self::Cnn(_) => Task::Classify,
            Self::LineCnnSimple(_) | Self::LineCnn(_) | Self::LineCnnLstm(_) => Task::Ctc,
            Self::LineCnnTransformer(_) | Self::ResnetTransformer(_) => Task::Seq2Seq,
        }
    }

    /// One-line description.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Mlp(_) => "3-layer perceptron on flattened pixels (lab 1)",
            Self::Cnn(_) => "two 3x3 conv blocks, 2x2 max-pool, two FC layers (lab 2)",
            Self::LineCnnSimple(_) => "the CNN applied to each fixed-width window of a line",
            Self::LineCnn(_) => "fully convolutional line reader, one step per window (CTC)",
            Self::LineCnnLstm(_) => "LineCNN + bidirectional LSTM, directions summed (CTC)",
            Self::LineCnnTransformer(_) => "LineCNN encoder + 4-layer Transformer decoder",
            Self::ResnetTransformer(_) => {
                "ResNet-18 encoder + 4-layer Transformer decoder (paragraphs)"
            }
        }
    }

    /// Builds the model for data described by `spec`, its variables under `vb`.
    pub fn build(&self, spec: &DataSpec, vb: VarBuilder) -> Result<Box<dyn Model>> {
        Ok(match self {
            Self::Mlp(c) => Box::new(mlp::Mlp::new(c, spec, vb)?),
            Self::Cnn(c) => Box::new(cnn::Cnn::new(c, spec, vb)?),
            Self::LineCnnSimple(c) => Box::new(line_cnn_simple::LineCnnSimple::new(c, spec, vb)?),
            Self::LineCnn(c) => Box::new(line_cnn::LineCnn::new(c, spec, vb)?),
            Self::LineCnnLstm(c) => Box::new(line_cnn_lstm::LineCnnLstm::new(c, spec, vb)?),
            Self::LineCnnTransformer(c) => {
                Box::new(line_cnn_transformer::LineCnnTransformer::new(c, spec, vb)?)
            }
            Self::ResnetTransformer(c) => {
                Box::new(resnet_transformer::ResnetTransformer::new(c, spec, vb)?)
            }
        })
    }

    /// The config as a JSON object (with its `name`).
    pub fn to_json(&self) -> Value {
        // Plain structs of numbers and booleans always serialise.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Every settable key, dotted for nested configs (`line_cnn.conv_dim`).
    pub fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if let Value::Object(map) = self.to_json() {
            for (k, v) in &map {
                if k != "name" {
                    collect_keys(k, v, &mut keys);
                }
            }
        }
        keys
    }

    /// Overrides one key (dotted for nested configs) with a JSON value; the
    /// result is re-validated against the config type. Unknown keys and
    /// values of the wrong type are errors naming the key, the expected type
    /// and the value given; the config is unchanged on error.
    pub fn set(&mut self, key: &str, value: Value) -> Result<()> {
        let model = self.name();
        let unknown = || Error::UnknownKey {
            model: model.to_string(),
            key: key.to_string(),
            valid: self.keys().join(", "),
        };
        if key == "name" {
            return Err(Error::invalid(
                model,
                "name",
                "the model cannot be changed by setting a key; start from ModelConfig::by_name",
            ));
        }
        let mut json = self.to_json();
        let mut node = &mut json;
        let parts: Vec<&str> = key.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            node = match node.get_mut(*part) {
                Some(child @ Value::Object(_)) => child,
                _ => return Err(unknown()),
            };
        }
        let last = parts[parts.len() - 1];
        let Some(slot) = node.as_object_mut().and_then(|m| m.get_mut(last)) else {
            return Err(unknown());
        };
        let expected = describe_type(slot);
        *slot = value.clone();
        match serde_json::from_value::<ModelConfig>(json) {
            Ok(updated) => {
                *self = updated;
                Ok(())
            }
            Err(e) => Err(Error::WrongType {
                model: model.to_string(),
                key: key.to_string(),
                expected,
                value: value.to_string(),
                message: e.to_string(),
            }),
        }
    }

    /// [`ModelConfig::set`] from command-line text: parsed as JSON
    /// (`64`, `0.5`, `true`, `{"conv_dim": 8}`), otherwise taken as a string.
    pub fn set_str(&mut self, key: &str, text: &str) -> Result<()> {
        let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
        self.set(key, value)
    }
}

/// Dotted leaf keys under `prefix`.
fn collect_keys(prefix: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_keys(&format!("{prefix}.{k}"), v, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

/// What a config slot holding `value` accepts, in words.
fn describe_type(value: &Value) -> String {
    match value {
        Value::Bool(_) => "true or false".into(),
        Value::Number(n) if n.is_u64() => "a non-negative integer".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Object(_) => "a table of settings".into(),
        Value::Array(_) => "a list".into(),
        Value::Null => "a value".into(),
    }
}

/// The data the course trains a model on: MNIST digits for `mlp`, EMNIST
/// characters for `cnn`, 32-character EMNIST lines (28×896, labels padded to
/// 32, with `<S>`/`<E>` inside the 32 for the Transformer as in the course's
/// `EMNISTLines`) for the line models, IAM paragraphs (576×640, 84 symbols,
/// 682 labels) for `resnet-transformer`.
pub fn default_spec(name: &str) -> Result<DataSpec> {
    let emnist_lines = || DataSpec::new([1, 28, 896], Vocabulary::emnist(), Some(32));
    Ok(match ModelConfig::by_name(name)? {
        ModelConfig::Mlp(_) => DataSpec::new([1, 28, 28], Vocabulary::digits(), None),
        ModelConfig::Cnn(_) => DataSpec::new([1, 28, 28], Vocabulary::emnist(), None),
        ModelConfig::LineCnnSimple(_)
        | ModelConfig::LineCnn(_)
        | ModelConfig::LineCnnLstm(_)
        | ModelConfig::LineCnnTransformer(_) => emnist_lines(),
        ModelConfig::ResnetTransformer(_) => {
            DataSpec::new([1, 576, 640], Vocabulary::paragraphs(), Some(682))
        }
    })
}

/// Number of trainable parameters of `config` built for `spec` (on the CPU,
/// in a throw-away `VarMap`).
pub fn parameter_count(config: &ModelConfig, spec: &DataSpec) -> Result<usize> {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    config.build(spec, vb)?;
    Ok(params::count_parameters(&varmap))
}

/// Parameters of a model with its default config on its default data.
pub fn default_parameter_count(name: &str) -> Result<usize> {
    parameter_count(&ModelConfig::by_name(name)?, &default_spec(name)?)
}
