//! `trainer.optimizer.*`: which optimizer, and its hyper-parameters.
//!
//! A registry ([`tr_data::registry`](mod@tr_data::registry)) tagged by `name`; each optimizer's
//! defaults are its config's `Default` (PyTorch's, except the course's lr
//! 1e-3), written once and used both for keys a file leaves out and as the
//! reference of valid keys.

use serde::{Deserialize, Serialize};
use tr_data::registry::ConfigError;

use crate::error::{Error, Result};

/// The course's learning rate (`--lr 1e-3`).
const LR: f64 = 1e-3;
/// PyTorch's Adam betas.
const BETAS: (f64, f64) = (0.9, 0.999);
/// PyTorch's Adam epsilon.
const EPS: f64 = 1e-8;

tr_data::registry! {
    /// Which optimizer to use and its hyper-parameters (`trainer.optimizer.*`).
    #[derive(Clone, Debug, PartialEq)]
    pub enum OptimizerConfig {
        kind: "optimizer",
        tag: "name",
        error: ConfigError,
        /// `torch.optim.Adam` (the course's default, lr 1e-3); weight decay is an L2 term in the gradient.
        "adam" => Adam(AdamConfig),
        /// `torch.optim.AdamW`: decoupled weight decay (default 0.01 as PyTorch).
        "adamw" => AdamW(AdamWConfig),
        /// `torch.optim.SGD` with momentum (dampening 0).
        "sgd" => Sgd(SgdConfig),
    }
}

/// `name: adam`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: LR,
            betas: BETAS,
            eps: EPS,
            weight_decay: 0.0,
        }
    }
}

/// `name: adamw`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamWConfig {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    /// Decoupled: parameters shrink by `lr * weight_decay` per step.
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: LR,
            betas: BETAS,
            eps: EPS,
            weight_decay: 0.01,
        }
    }
}

/// `name: sgd`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: LR,
            momentum: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::Adam(AdamConfig::default())
    }
}

impl OptimizerConfig {
    /// The configured (base) learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Adam(AdamConfig { lr, .. })
            | OptimizerConfig::AdamW(AdamWConfig { lr, .. })
            | OptimizerConfig::Sgd(SgdConfig { lr, .. }) => *lr,
        }
    }

    pub(super) fn validate(&self) -> Result<()> {
        let bad = |field: &str, msg: String| {
            Err(Error::config(format!("trainer.optimizer.{field}"), msg))
        };
        if !(self.lr().is_finite() && self.lr() >= 0.0) {
            return bad(
                "lr",
                format!("must be a finite number >= 0, got {}", self.lr()),
            );
        }
        match self {
            OptimizerConfig::Adam(AdamConfig { betas, eps, .. })
            | OptimizerConfig::AdamW(AdamWConfig { betas, eps, .. }) => {
                if !(0.0..1.0).contains(&betas.0) || !(0.0..1.0).contains(&betas.1) {
                    return bad("betas", format!("both must be in [0, 1), got {betas:?}"));
                }
                if *eps <= 0.0 {
                    return bad("eps", format!("must be > 0, got {eps}"));
                }
            }
            OptimizerConfig::Sgd(SgdConfig {
                momentum, nesterov, ..
            }) => {
                if *momentum < 0.0 {
                    return bad("momentum", format!("must be >= 0, got {momentum}"));
                }
                if *nesterov && *momentum == 0.0 {
                    return bad("nesterov", "needs momentum > 0".into());
                }
            }
        }
        Ok(())
    }
}
