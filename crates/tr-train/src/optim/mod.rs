//! Optimizers with serialisable state: Adam, AdamW and SGD with momentum.
//!
//! candle's `Optimizer` trait has no state export, so a run could not resume
//! exactly; these keep their moment buffers per named parameter and expose
//! them as tensors (`state_tensors` / `load_state_tensors`) for checkpoints.
//! Updates follow PyTorch's `torch.optim` formulas (bias-corrected Adam;
//! AdamW's decoupled weight decay; SGD momentum with dampening 0 and optional
//! Nesterov), so learning rates from the course carry over.

mod clip;
mod config;
mod grads;

pub use clip::{check_finite, clip_global_norm, global_norm};
pub use config::{AdamConfig, AdamWConfig, OptimizerConfig, SgdConfig};
pub use grads::Grads;

use std::collections::HashMap;

use candle_core::{Tensor, Var};

use crate::error::{Error, Result};

/// A parameter with its name and the optimizer's buffers for it.
struct Slot {
    name: String,
    var: Var,
    /// Adam: first moment; SGD: momentum buffer.
    m: Option<Tensor>,
    /// Adam: second moment.
    v: Option<Tensor>,
}

/// An optimizer over named parameters (sorted by name, so state order is stable).
pub struct Optimizer {
    config: OptimizerConfig,
    slots: Vec<Slot>,
    lr: f64,
    /// Number of `step` calls so far (Adam's bias-correction `t`).
    steps: u64,
    /// Adam/AdamW update `f32` CPU parameters in place
    /// ([`tr_kernels::adam_in_place`]).
    fused: bool,
}

impl Optimizer {
    /// Creates an optimizer for `params`; non-float parameters are ignored.
    pub fn new(config: OptimizerConfig, mut params: Vec<(String, Var)>) -> Result<Self> {
        config.validate()?;
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let slots = params
            .into_iter()
            .filter(|(_, v)| v.dtype().is_float())
            .map(|(name, var)| Slot {
                name,
                var,
                m: None,
                v: None,
            })
            .collect();
        Ok(Self {
            lr: config.lr(),
            config,
            slots,
            steps: 0,
            fused: true,
        })
    }

    /// Turns the in-place Adam/AdamW update for `f32` CPU parameters on
    /// (the default) or off; both give the same values, the fused one
    /// without allocating.
    pub fn set_fused(&mut self, fused: bool) {
        self.fused = fused;
    }

    /// Current learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.lr
    }

    /// Sets the learning rate (schedulers call this before each step).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Number of updates applied so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The parameters, by name.
    pub fn params(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.slots.iter().map(|s| (s.name.as_str(), &s.var))
    }

    /// Applies one update from `grads`; parameters without a gradient are left alone.
    pub fn step(&mut self, grads: &Grads) -> Result<()> {
        self.steps += 1;
        let t = self.steps as i32;
        let lr = self.lr;
        for slot in &mut self.slots {
            let Some(g) = grads.get(&slot.var) else {
                continue;
            };
            let p = slot.var.as_tensor();
            let g = g.to_dtype(p.dtype())?;
            match &self.config {
                OptimizerConfig::Adam(AdamConfig {
                    betas: (b1, b2),
                    eps,
                    weight_decay,
                    ..
                })
                | OptimizerConfig::AdamW(AdamWConfig {
                    betas: (b1, b2),
                    eps,
                    weight_decay,
                    ..
                }) => {
                    let decoupled = matches!(self.config, OptimizerConfig::AdamW(_));
                    let g = if !decoupled && *weight_decay != 0.0 {
                        (g + (p * *weight_decay)?)?
                    } else {
                        g
                    };
                    if self.fused && fused_applies(p, &g) {
                        let step = tr_kernels::AdamStep {
                            b1: *b1,
                            b2: *b2,
                            eps: *eps,
                            lr,
                            bc1: 1.0 - b1.powi(t),
                            bc2: 1.0 - b2.powi(t),
                            decoupled_decay: if decoupled { lr * weight_decay } else { 0.0 },
                        };
                        tr_kernels::adam_in_place(p, &g, &mut slot.m, &mut slot.v, &step)?;
                        continue;
                    }
                    let m = match &slot.m {
                        Some(m) => ((m * *b1)? + (&g * (1.0 - b1))?)?,
                        None => (&g * (1.0 - b1))?,
                    };
                    let v = match &slot.v {
                        Some(v) => ((v * *b2)? + (g.sqr()? * (1.0 - b2))?)?,
                        None => (g.sqr()? * (1.0 - b2))?,
                    };
                    let bc1 = 1.0 - b1.powi(t);
                    let bc2 = 1.0 - b2.powi(t);
                    // PyTorch: p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
                    let denom = ((v.sqrt()? / bc2.sqrt())? + *eps)?;
                    let update = ((&m / &denom)? * (lr / bc1))?;
                    let base = if decoupled && *weight_decay != 0.0 {
                        (p * (1.0 - lr * weight_decay))?
                    } else {
                        p.clone()
                    };
                    slot.var.set(&(base - update)?)?;
                    slot.m = Some(m);
                    slot.v = Some(v);
                }
                OptimizerConfig::Sgd(SgdConfig {
                    momentum,
                    weight_decay,
                    nesterov,
                    ..
                }) => {
                    let g = if *weight_decay != 0.0 {
                        (g + (p * *weight_decay)?)?
                    } else {
                        g
                    };
                    let d = if *momentum != 0.0 {
                        let buf = match &slot.m {
                            Some(b) => ((b * *momentum)? + &g)?,
                            None => g.clone(),
                        };
                        let d = if *nesterov {
                            (&g + (&buf * *momentum)?)?
                        } else {
                            buf.clone()
                        };
                        slot.m = Some(buf);
                        d
                    } else {
                        g
                    };
                    slot.var.set(&(p - (d * lr)?)?)?;
                }
            }
        }
        Ok(())
    }

    /// The optimizer's buffers as named tensors (`exp_avg/<param>`,
    /// `exp_avg_sq/<param>`, `momentum/<param>`), for checkpoints.
    pub fn state_tensors(&self) -> Result<HashMap<String, Tensor>> {
        let (m_name, v_name) = match self.config {
            OptimizerConfig::Sgd(_) => ("momentum", ""),
            _ => ("exp_avg", "exp_avg_sq"),
        };
        let mut out = HashMap::new();
        for s in &self.slots {
            // Copies: the fused update changes the buffers in place.
            if let Some(m) = &s.m {
                out.insert(format!("{m_name}/{}", s.name), m.copy()?);
            }
            if let Some(v) = &s.v {
                out.insert(format!("{v_name}/{}", s.name), v.copy()?);
            }
        }
        Ok(out)
    }

    /// Restores buffers saved by [`Self::state_tensors`] and the step count.
    /// Every parameter that has a gradient history must be present with its
    /// own shape; anything else is an error naming the tensor.
    pub fn load_state_tensors(
        &mut self,
        tensors: &HashMap<String, Tensor>,
        steps: u64,
    ) -> Result<()> {
        let (m_name, v_name) = match self.config {
            OptimizerConfig::Sgd(_) => ("momentum", ""),
            _ => ("exp_avg", "exp_avg_sq"),
        };
        let known: std::collections::HashSet<String> = self
            .slots
            .iter()
            .flat_map(|s| {
                [
                    format!("{m_name}/{}", s.name),
                    format!("{v_name}/{}", s.name),
                ]
            })
            .collect();
        if let Some(unknown) = tensors.keys().find(|k| !known.contains(*k)) {
            return Err(Error::checkpoint(format!(
                "optimizer state {unknown:?} matches no parameter of this model (was the checkpoint made with another optimizer or model?)"
            )));
        }
        for s in &mut self.slots {
            let fetch = |key: String| -> Result<Option<Tensor>> {
                match tensors.get(&key) {
                    None => Ok(None),
                    Some(t) if t.shape() != s.var.shape() => Err(Error::checkpoint(format!(
                        "optimizer state {key:?} has shape {:?}, parameter has {:?}",
                        t.dims(),
                        s.var.dims()
                    ))),
                    // A copy of its own: the fused update writes it in place.
                    Some(t) => Ok(Some(
                        t.to_device(s.var.device())?
                            .to_dtype(s.var.dtype())?
                            .copy()?,
                    )),
                }
            };
            s.m = fetch(format!("{m_name}/{}", s.name))?;
            s.v = if v_name.is_empty() {
                None
            } else {
                fetch(format!("{v_name}/{}", s.name))?
            };
        }
        self.steps = steps;
        Ok(())
    }
}

/// Whether the in-place update of [`tr_kernels::adam_in_place`] applies: a
/// contiguous `f32` CPU parameter and an `f32` CPU gradient.
fn fused_applies(p: &Tensor, g: &Tensor) -> bool {
    p.device().is_cpu()
        && g.device().is_cpu()
        && p.dtype() == candle_core::DType::F32
        && g.dtype() == candle_core::DType::F32
        && p.is_contiguous()
}

#[cfg(test)]
mod tests;
