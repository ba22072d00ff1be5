//! Learning-rate schedules: constant, OneCycle (as `torch.optim.lr_scheduler.OneCycleLR`,
//! which the course used) and cosine decay with linear warm-up.
//!
//! A schedule is a pure function of the scheduler step, so its only state is
//! that step count, which checkpoints store; a resumed run continues the same
//! curve. The scheduler steps once per optimizer step or once per epoch
//! (`interval`); the course's Lightning setup stepped OneCycle per **epoch**
//! (Lightning's default interval), which stays the default here.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use tr_data::registry::ConfigError;

use crate::error::{Error, Result};

/// When the scheduler advances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// After every optimizer step.
    Step,
    /// After every training epoch (Lightning's default, the course's behaviour).
    #[default]
    Epoch,
}

tr_data::registry! {
    /// `trainer.scheduler.*`.
    #[derive(Clone, Debug, PartialEq)]
    pub enum SchedulerConfig {
        kind: "scheduler",
        tag: "name",
        error: ConfigError,
        /// The optimizer's learning rate throughout.
        "constant" => Constant(ConstantConfig),
        /// OneCycleLR: cosine warm-up from `max_lr / div_factor` to `max_lr` over
        /// `pct_start` of `total_steps`, then cosine annealing to
        /// `max_lr / (div_factor * final_div_factor)`.
        "one-cycle" => OneCycle(OneCycleConfig),
        /// Linear warm-up from 0 to the optimizer's lr over `warmup_steps`, then
        /// cosine decay to `min_lr` at `total_steps`.
        "cosine" => Cosine(CosineConfig),
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig::Constant(ConstantConfig {})
    }
}

/// `name: constant` (no settings).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantConfig {}

/// `name: one-cycle`. `max_lr` has no default: a config must give it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneCycleConfig {
    /// The course's `--one_cycle_max_lr`.
    pub max_lr: f64,
    /// The course's `--one_cycle_total_steps` (default 100).
    #[serde(default = "default_total_steps")]
    pub total_steps: u64,
    #[serde(default = "default_pct_start")]
    pub pct_start: f64,
    #[serde(default = "default_div_factor")]
    pub div_factor: f64,
    #[serde(default = "default_final_div_factor")]
    pub final_div_factor: f64,
    #[serde(default)]
    pub interval: Interval,
}

impl Default for OneCycleConfig {
    /// The registry's template: every default, and `max_lr` (required in a
    /// config) at 0, which [`SchedulerConfig::validate`] rejects until it is set.
    fn default() -> Self {
        Self {
            max_lr: 0.0,
            total_steps: default_total_steps(),
            pct_start: default_pct_start(),
            div_factor: default_div_factor(),
            final_div_factor: default_final_div_factor(),
            interval: Interval::default(),
        }
    }
}

/// `name: cosine`. `warmup_steps` and `total_steps` have no default: a config must give them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineConfig {
    pub warmup_steps: u64,
    pub total_steps: u64,
    #[serde(default)]
    pub min_lr: f64,
    #[serde(default = "default_step_interval")]
    pub interval: Interval,
}

impl Default for CosineConfig {
    /// The registry's template: every default, and the required
    /// `warmup_steps`/`total_steps` at 0, which [`SchedulerConfig::validate`]
    /// rejects until they are set.
    fn default() -> Self {
        Self {
            warmup_steps: 0,
            total_steps: 0,
            min_lr: f64::default(),
            interval: default_step_interval(),
        }
    }
}

fn default_total_steps() -> u64 {
    100
}
fn default_pct_start() -> f64 {
    0.3
}
fn default_div_factor() -> f64 {
    25.0
}
fn default_final_div_factor() -> f64 {
    1e4
}
fn default_step_interval() -> Interval {
    Interval::Step
}

impl SchedulerConfig {
    /// When this schedule advances (constant: irrelevant, reported as `Step`).
    pub fn interval(&self) -> Interval {
        match self {
            SchedulerConfig::Constant(_) => Interval::Step,
            SchedulerConfig::OneCycle(OneCycleConfig { interval, .. })
            | SchedulerConfig::Cosine(CosineConfig { interval, .. }) => *interval,
        }
    }

    /// Checks the values, naming the offending key.
    pub fn validate(&self) -> Result<()> {
        let bad = |k: &str, m: String| Err(Error::config(format!("trainer.scheduler.{k}"), m));
        match self {
            SchedulerConfig::Constant(_) => Ok(()),
            SchedulerConfig::OneCycle(OneCycleConfig {
                max_lr,
                total_steps,
                pct_start,
                div_factor,
                final_div_factor,
                ..
            }) => {
                if !(*max_lr > 0.0 && max_lr.is_finite()) {
                    return bad("max_lr", format!("must be > 0, got {max_lr}"));
                }
                if *total_steps < 2 {
                    return bad("total_steps", format!("must be >= 2, got {total_steps}"));
                }
                if !(0.0..1.0).contains(pct_start) {
                    return bad("pct_start", format!("must be in [0, 1), got {pct_start}"));
                }
                if *div_factor <= 0.0 || *final_div_factor <= 0.0 {
                    return bad(
                        "div_factor",
                        "div_factor and final_div_factor must be > 0".into(),
                    );
                }
                Ok(())
            }
            SchedulerConfig::Cosine(CosineConfig {
                warmup_steps,
                total_steps,
                min_lr,
                ..
            }) => {
                if total_steps <= warmup_steps {
                    return bad(
                        "total_steps",
                        format!("must exceed warmup_steps ({warmup_steps}), got {total_steps}"),
                    );
                }
                if *min_lr < 0.0 {
                    return bad("min_lr", format!("must be >= 0, got {min_lr}"));
                }
                Ok(())
            }
        }
    }

    /// The learning rate at scheduler step `step` (0-based) for an optimizer
    /// whose configured lr is `base_lr`. Past the end the final value is kept
    /// (PyTorch raises instead; a run longer than its schedule is not an error here).
    pub fn lr_at(&self, step: u64, base_lr: f64) -> f64 {
        match *self {
            SchedulerConfig::Constant(_) => base_lr,
            SchedulerConfig::OneCycle(OneCycleConfig {
                max_lr,
                total_steps,
                pct_start,
                div_factor,
                final_div_factor,
                ..
            }) => {
                let initial = max_lr / div_factor;
                let min = initial / final_div_factor;
                // PyTorch: phase ends at float(pct_start * total_steps) - 1 and total_steps - 1.
                let end_up = pct_start * total_steps as f64 - 1.0;
                let end_down = total_steps as f64 - 1.0;
                let s = (step as f64).min(end_down);
                let cos_anneal = |start: f64, end: f64, pct: f64| {
                    end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0)
                };
                if s <= end_up {
                    cos_anneal(initial, max_lr, if end_up > 0.0 { s / end_up } else { 1.0 })
                } else {
                    cos_anneal(max_lr, min, (s - end_up) / (end_down - end_up))
                }
            }
            SchedulerConfig::Cosine(CosineConfig {
                warmup_steps,
                total_steps,
                min_lr,
                ..
            }) => {
                if step < warmup_steps {
                    base_lr * (step + 1) as f64 / warmup_steps as f64
                } else {
                    let t = ((step - warmup_steps) as f64 / (total_steps - warmup_steps) as f64)
                        .min(1.0);
                    min_lr + (base_lr - min_lr) * 0.5 * (1.0 + (PI * t).cos())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_cycle(total: u64) -> SchedulerConfig {
        SchedulerConfig::OneCycle(OneCycleConfig {
            max_lr: 0.01,
            total_steps: total,
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
            interval: Interval::Step,
        })
    }

    #[test]
    fn one_cycle_matches_pytorch_values() {
        // torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=100): lr at steps 0, 29, 50, 99
        let s = one_cycle(100);
        let expect = [(0, 0.0004), (29, 0.01), (99, 4e-8)];
        for (step, lr) in expect {
            let got = s.lr_at(step, 1.0);
            assert!(
                (got - lr).abs() < 1e-9 + lr * 1e-6,
                "step {step}: {got} vs {lr}"
            );
        }
        // Monotone up then down.
        let lrs: Vec<f64> = (0..100).map(|i| s.lr_at(i, 1.0)).collect();
        assert!(lrs[..30].windows(2).all(|w| w[1] >= w[0]));
        assert!(lrs[29..].windows(2).all(|w| w[1] <= w[0]));
        assert_eq!(s.lr_at(500, 1.0), s.lr_at(99, 1.0));
    }

    #[test]
    fn cosine_warms_up_then_decays() {
        let s = SchedulerConfig::Cosine(CosineConfig {
            warmup_steps: 10,
            total_steps: 110,
            min_lr: 0.0,
            interval: Interval::Step,
        });
        assert!((s.lr_at(0, 1.0) - 0.1).abs() < 1e-12);
        assert!((s.lr_at(9, 1.0) - 1.0).abs() < 1e-12);
        assert!((s.lr_at(60, 1.0) - 0.5).abs() < 1e-12);
        assert!(s.lr_at(110, 1.0).abs() < 1e-12);
    }

    #[test]
    fn validation_names_key() {
        let s = SchedulerConfig::Cosine(CosineConfig {
            warmup_steps: 10,
            total_steps: 5,
            min_lr: 0.0,
            interval: Interval::Step,
        });
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("trainer.scheduler.total_steps"), "{e}");
        assert_eq!(
            SchedulerConfig::default(),
            SchedulerConfig::Constant(ConstantConfig {})
        );
    }
}
