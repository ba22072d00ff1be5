//! Connectionist temporal classification loss: [`CtcLoss`] (the host
//! recursion and the surrogate are described there and in docs/ctc.md).

mod lattice;
mod log_space;
mod scaled;

use candle_core::{DType, Device, Tensor};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{invalid, Result};
use lattice::Lattice;

/// How per-sample losses are combined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reduction {
    /// Each sample's loss divided by its target length (at least 1), then
    /// averaged over the batch — PyTorch's default.
    #[default]
    Mean,
    /// Sum of the per-sample losses.
    Sum,
    /// The `(B,)` per-sample losses.
    None,
}

/// Which recursion computes the loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CtcAlgorithm {
    /// Rescaled linear-space recursion, falling back to log space per sample
    /// when it could lose precision (same results, several times faster).
    #[default]
    Auto,
    /// Always the log-space recursion.
    LogSpace,
}

/// CTC loss settings.
///
/// Connectionist temporal classification loss (Graves et al. 2006), with the
/// blank `<B>` at index 0 by default, as PyTorch's `ctc_loss`.
///
/// The forward–backward recursion runs on the host in `f64`, one sample per
/// rayon task: a rescaled linear-space recursion with the exact
/// log-space recursion as fallback, see docs/ctc.md. Its
/// result enters the graph as a *surrogate*
///
/// ```text
/// loss = Σ (x ⊙ G) − detach(Σ (x ⊙ G)) + value
/// ```
///
/// whose value is the loss and whose gradient w.r.t. the input `x` is the
/// detached host tensor `G`: `w (softmax − γ)` for logits (the softmax is
/// computed on the host too), `−w γ` for log-probabilities, where `γ` are the
/// occupancies and `w` the reduction's weight. This works on every device
/// and dtype candle supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CtcLoss {
    /// Index of the blank class.
    pub blank: u32,
    pub reduction: Reduction,
    /// Infinite losses (targets that no alignment can produce) become 0
    /// with zero gradient instead of `+∞`.
    pub zero_infinity: bool,
    pub algorithm: CtcAlgorithm,
}

impl Default for CtcLoss {
    fn default() -> Self {
        Self {
            blank: 0,
            reduction: Reduction::Mean,
            zero_infinity: false,
            algorithm: CtcAlgorithm::Auto,
        }
    }
}

impl CtcLoss {
    /// Loss of `(B, C, S)` logits (the line models' layout; `log_softmax`
    /// over `C` is applied here) against `(B, L)` padded integer targets,
    /// with per-sample input lengths (`≤ S`) and target lengths (`≤ L`).
    /// Returns a scalar, or `(B,)` for [`Reduction::None`].
    ///
    /// The softmax runs on the host with the recursion and the gradient
    /// `softmax − γ` goes straight to the logits, so the graph holds only
    /// one multiply and one sum (candle's reductions over the middle axis
    /// would cost far more than the loss itself).
    pub fn forward_logits(
        &self,
        logits: &Tensor,
        targets: &Tensor,
        input_lengths: &[usize],
        target_lengths: &[usize],
    ) -> Result<Tensor> {
        let (b, c, s) = match logits.dims() {
            &[b, c, s] => (b, c, s),
            d => invalid!("CTC logits", "expected (B, C, S), got shape {d:?}"),
        };
        let labels = self.check_inputs((b, s, c), targets, input_lengths, target_lengths)?;
        let raw = host_values(
            logits,
            "CTC logits",
            [("batch", b), ("class", c), ("step", s)],
        )?;
        let frame = s * c;
        // (B, S, C) log-probabilities: a log-softmax over each step's column.
        let mut log_probs = vec![0f64; b * frame];
        if frame > 0 {
            log_probs
                .par_chunks_mut(frame)
                .enumerate()
                .for_each(|(i, rows)| {
                    let x = &raw[i * frame..(i + 1) * frame];
                    for t in 0..s {
                        let row = &mut rows[t * c..(t + 1) * c];
                        let mut max = f64::NEG_INFINITY;
                        for (k, v) in row.iter_mut().enumerate() {
                            *v = x[k * s + t];
                            max = max.max(*v);
                        }
                        let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                        row.iter_mut().for_each(|v| *v -= lse);
                    }
                });
        }
        let (losses, grad_lp, weights) = self.run(
            &log_probs,
            (b, s, c),
            input_lengths,
            &labels,
            target_lengths,
        );
        // d/dlogits = g − softmax · Σ g per step, written in the (B, C, S) layout.
        let mut grad = vec![0f64; b * frame];
        if frame > 0 {
            grad.par_chunks_mut(frame).enumerate().for_each(|(i, out)| {
                for t in 0..s {
                    let at = i * frame + t * c;
                    let g = &grad_lp[at..at + c];
                    let total: f64 = g.iter().sum();
                    for k in 0..c {
                        out[k * s + t] = g[k] - log_probs[at + k].exp() * total;
                    }
                }
            });
        }
        self.surrogate(logits, grad, &losses, &weights, (1, 2))
    }

    /// Loss of `(S, B, C)` log-probabilities (PyTorch's `ctc_loss` layout);
    /// the gradient `−γ` goes to them.
    pub fn forward_log_probs(
        &self,
        log_probs: &Tensor,
        targets: &Tensor,
        input_lengths: &[usize],
        target_lengths: &[usize],
    ) -> Result<Tensor> {
        let (s, b, c) = match log_probs.dims() {
            &[s, b, c] => (s, b, c),
            d => invalid!("CTC log-probs", "expected (S, B, C), got shape {d:?}"),
        };
        let labels = self.check_inputs((b, s, c), targets, input_lengths, target_lengths)?;
        let raw = host_values(
            log_probs,
            "CTC log-probs",
            [("step", s), ("batch", b), ("class", c)],
        )?;
        let frame = s * c;
        let mut lp = vec![0f64; b * frame];
        for t in 0..s {
            for i in 0..b {
                let from = (t * b + i) * c;
                lp[i * frame + t * c..i * frame + (t + 1) * c]
                    .copy_from_slice(&raw[from..from + c]);
            }
        }
        let (losses, grad_lp, weights) =
            self.run(&lp, (b, s, c), input_lengths, &labels, target_lengths);
        let mut grad = vec![0f64; b * frame];
        for t in 0..s {
            for i in 0..b {
                let to = (t * b + i) * c;
                grad[to..to + c]
                    .copy_from_slice(&grad_lp[i * frame + t * c..i * frame + (t + 1) * c]);
            }
        }
        self.surrogate(log_probs, grad, &losses, &weights, (0, 2))
    }

    /// Runs every sample's recursion on `(B, S, C)` log-probabilities.
    /// Returns the per-sample losses (after `zero_infinity`), the weighted
    /// gradient w.r.t. the log-probabilities `(B, S, C)` (zero for infinite
    /// losses), and the reduction weights `d reduced / d loss_b`.
    fn run(
        &self,
        log_probs: &[f64],
        (b, s, c): (usize, usize, usize),
        input_lengths: &[usize],
        labels: &[Vec<u32>],
        target_lengths: &[usize],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let frame = s * c;
        let mut grad = vec![0f64; b * frame];
        let (algorithm, blank) = (self.algorithm, self.blank);
        let one = |i: usize, g: &mut [f64], lp: &[f64]| {
            let lat = Lattice::new(lp, c, input_lengths[i], &labels[i], blank);
            sample_nll_and_grad(&lat, c, g, algorithm)
        };
        let mut losses: Vec<f64> = if frame == 0 {
            // No time steps at all: only empty targets are feasible.
            (0..b).map(|i| one(i, &mut [], &[])).collect()
        } else {
            grad.par_chunks_mut(frame)
                .zip(log_probs.par_chunks(frame))
                .enumerate()
                .map(|(i, (g, lp))| one(i, g, lp))
                .collect()
        };
        let weights: Vec<f64> = (0..b)
            .map(|i| match self.reduction {
                Reduction::Mean => 1.0 / (b as f64 * target_lengths[i].max(1) as f64),
                Reduction::Sum | Reduction::None => 1.0,
            })
            .collect();
        for (i, loss) in losses.iter_mut().enumerate() {
            let g = &mut grad[i * frame..(i + 1) * frame];
            if loss.is_infinite() {
                g.iter_mut().for_each(|v| *v = 0.0);
                if self.zero_infinity {
                    *loss = 0.0;
                }
            } else if weights[i] != 1.0 {
                let w = weights[i];
                g.iter_mut().for_each(|v| *v *= w);
            }
        }
        (losses, grad, weights)
    }

    /// `Σ x ⊙ G − detach(Σ x ⊙ G) + value`; `grad` has `x`'s layout and
    /// `sample_dims` are the dimensions to sum per sample for `none`.
    fn surrogate(
        &self,
        x: &Tensor,
        grad: Vec<f64>,
        losses: &[f64],
        weights: &[f64],
        sample_dims: (usize, usize),
    ) -> Result<Tensor> {
        // Built on the host in f64, converted before moving (Metal has no f64).
        let (dtype, device) = (x.dtype(), x.device());
        let g = Tensor::from_vec(grad, x.dims(), &Device::Cpu)?
            .to_dtype(dtype)?
            .to_device(device)?;
        let dot = (x * g)?;
        Ok(match self.reduction {
            Reduction::None => {
                let dot = dot.sum(sample_dims)?;
                let values = Tensor::from_vec(losses.to_vec(), losses.len(), &Device::Cpu)?
                    .to_dtype(dtype)?
                    .to_device(device)?;
                ((&dot - dot.detach())? + values)?
            }
            Reduction::Sum | Reduction::Mean => {
                let value: f64 = losses.iter().zip(weights).map(|(l, w)| l * w).sum();
                let dot = dot.sum_all()?;
                ((&dot - dot.detach())? + value)?
            }
        })
    }

    /// Validates shapes, lengths and labels; returns each sample's labels.
    fn check_inputs(
        &self,
        (b, s, c): (usize, usize, usize),
        targets: &Tensor,
        input_lengths: &[usize],
        target_lengths: &[usize],
    ) -> Result<Vec<Vec<u32>>> {
        if self.blank as usize >= c {
            invalid!(
                "CTC blank",
                "index {} is outside the {c} classes",
                self.blank
            );
        }
        if input_lengths.len() != b {
            invalid!(
                "CTC input_lengths",
                "expected {b} lengths (one per sample), got {}",
                input_lengths.len()
            );
        }
        if target_lengths.len() != b {
            invalid!(
                "CTC target_lengths",
                "expected {b} lengths (one per sample), got {}",
                target_lengths.len()
            );
        }
        let (tb, max_len) = match targets.dims() {
            &[tb, l] => (tb, l),
            d => invalid!(
                "CTC targets",
                "expected (B, L) padded labels, got shape {d:?}"
            ),
        };
        if tb != b {
            invalid!(
                "CTC targets",
                "batch size {tb} differs from the {b} samples of the log-probs"
            );
        }
        if targets.dtype().is_float() {
            invalid!(
                "CTC targets",
                "expected integer labels, got {:?}",
                targets.dtype()
            );
        }
        for (i, &len) in input_lengths.iter().enumerate() {
            if len > s {
                invalid!(
                    "CTC input_lengths",
                    "sample {i} has length {len} but the model output has {s} steps"
                );
            }
        }
        for (i, &len) in target_lengths.iter().enumerate() {
            if len > max_len {
                invalid!(
                    "CTC target_lengths",
                    "sample {i} has length {len} but targets hold {max_len} labels"
                );
            }
        }
        let rows = targets
            .to_dtype(DType::I64)?
            .to_device(&Device::Cpu)?
            .to_vec2::<i64>()?;
        let mut labels = Vec::with_capacity(b);
        for (i, row) in rows.iter().enumerate() {
            let row = &row[..target_lengths[i]];
            for (j, &l) in row.iter().enumerate() {
                if l < 0 || l as usize >= c {
                    invalid!(
                        "CTC targets",
                        "label {l} at (sample {i}, position {j}) is outside the {c} classes"
                    );
                }
                if l == i64::from(self.blank) {
                    invalid!(
                        "CTC targets",
                        "label at (sample {i}, position {j}) is the blank {}; targets must not contain the blank",
                        self.blank
                    );
                }
            }
            labels.push(row.iter().map(|&l| l as u32).collect());
        }
        Ok(labels)
    }
}

/// `x` on the host as `f64` (row-major), rejecting NaN and infinities with
/// the index of the first one, named by `dims`.
fn host_values(x: &Tensor, what: &str, dims: [(&str, usize); 3]) -> Result<Vec<f64>> {
    let x = x.detach().to_device(&Device::Cpu)?;
    let values: Vec<f64> = match x.dtype() {
        DType::F64 => x.flatten_all()?.to_vec1::<f64>()?,
        DType::F32 => x
            .flatten_all()?
            .to_vec1::<f32>()?
            .into_iter()
            .map(f64::from)
            .collect(),
        _ => x.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?,
    };
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        let [(n0, _), (n1, d1), (n2, d2)] = dims;
        invalid!(
            what,
            "value {} at ({n0} {}, {n1} {}, {n2} {}) is not finite",
            values[i],
            i / (d1 * d2),
            i / d2 % d1,
            i % d2
        );
    }
    Ok(values)
}

/// One sample: the fast recursion, or the log-space one when asked for or
/// when the fast one cannot vouch for its precision.
fn sample_nll_and_grad(
    lat: &Lattice,
    classes: usize,
    grad: &mut [f64],
    algorithm: CtcAlgorithm,
) -> f64 {
    if algorithm == CtcAlgorithm::Auto && lat.frames > 0 && lat.feasible() {
        if let Some(nll) = scaled::nll_and_grad(lat, classes, grad) {
            return nll;
        }
        tracing::debug!(
            frames = lat.frames,
            labels = lat.labels(),
            "CTC: scaled recursion fell back to log space"
        );
    }
    log_space::nll_and_grad(lat, classes, grad)
}
