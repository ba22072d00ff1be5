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
//! rejected. Names, defaults and dotted overrides ([`ModelConfig::set`],
//! [`ModelConfig::set_str`]) come from the registry mechanism of
//! [`tr_data::registry`](mod@tr_data::registry); what a model is beyond its config (task, default
//! data, builder) is its [`ModelKind`], implemented in the model's own
//! module. Adding a model is its module, one line below and its re-export
//! at the crate root.

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};

use crate::error::{Error, Result};
use crate::model::{DataSpec, Model, Task};
use crate::{
    params, CnnConfig, CrnnConfig, LineCnnConfig, LineCnnLstmConfig, LineCnnSimpleConfig,
    LineCnnTransformerConfig, MlpConfig, ResnetTransformerConfig,
};

/// What a model of the zoo is beyond its hyper-parameters; implemented by
/// each model's config type (`LineCnnConfig`, …) in the model's own module.
pub trait ModelKind {
    /// The task the model's outputs are for.
    fn task(&self) -> Task;
    /// One-line description (`htr models`).
    fn description(&self) -> &'static str;
    /// The data the course trains the model on.
    fn default_spec(&self) -> DataSpec;
    /// Builds the model for data described by `spec`, its variables under `vb`.
    fn build(&self, spec: &DataSpec, vb: VarBuilder) -> Result<Box<dyn Model>>;
}

tr_data::registry! {
    /// The config of one model of the zoo, tagged by its registry name.
    #[derive(Clone, Debug, PartialEq)]
    pub enum ModelConfig {
        kind: "model",
        tag: "name",
        each: dyn ModelKind,
        error: Error,
        "mlp" => Mlp(MlpConfig),
        "cnn" => Cnn(CnnConfig),
        "line-cnn-simple" => LineCnnSimple(LineCnnSimpleConfig),
        "line-cnn" => LineCnn(LineCnnConfig),
        "line-cnn-lstm" => LineCnnLstm(LineCnnLstmConfig),
        "line-cnn-transformer" => LineCnnTransformer(LineCnnTransformerConfig),
        "resnet-transformer" => ResnetTransformer(ResnetTransformerConfig),
        "crnn" => Crnn(CrnnConfig),
    }
}

impl ModelConfig {
    /// The task the model's outputs are for.
    pub fn task(&self) -> Task {
        self.kind().task()
    }

    /// One-line description.
    pub fn description(&self) -> &'static str {
        self.kind().description()
    }

    /// Builds the model for data described by `spec`, its variables under `vb`.
    pub fn build(&self, spec: &DataSpec, vb: VarBuilder) -> Result<Box<dyn Model>> {
        self.kind().build(spec, vb)
    }
}

/// The data the course trains model `name` on (each model's
/// [`ModelKind::default_spec`]): MNIST digits for `mlp`, EMNIST characters
/// for `cnn`, 32-character EMNIST lines for the line models, IAM paragraphs
/// for `resnet-transformer`.
pub fn default_spec(name: &str) -> Result<DataSpec> {
    Ok(ModelConfig::by_name(name)?.kind().default_spec())
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
