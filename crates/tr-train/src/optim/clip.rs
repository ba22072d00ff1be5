//! Gradient inspection before an update: global-norm clipping and the
//! non-finite check behind `terminate_on_nan`.

use candle_core::{DType, Var};

use super::Grads;

use crate::error::{Error, Result};

/// The L2 norm of all gradients of `params` taken together (f64 accumulation).
pub fn global_norm<'a>(
    grads: &Grads,
    params: impl IntoIterator<Item = (&'a str, &'a Var)>,
) -> Result<f64> {
    let mut total = 0f64;
    for (_, var) in params {
        if let Some(g) = grads.get(var) {
            total += g
                .to_dtype(DType::F64)?
                .sqr()?
                .sum_all()?
                .to_scalar::<f64>()?;
        }
    }
    Ok(total.sqrt())
}

/// Scales every gradient so that the global norm is at most `max_norm`
/// (PyTorch's `clip_grad_norm_`, factor `max_norm / (norm + 1e-6)`).
/// Returns the norm before clipping.
pub fn clip_global_norm<'a>(
    grads: &mut Grads,
    params: impl IntoIterator<Item = (&'a str, &'a Var)> + Clone,
    max_norm: f64,
) -> Result<f64> {
    let norm = global_norm(grads, params.clone())?;
    let factor = max_norm / (norm + 1e-6);
    if factor < 1.0 {
        for (_, var) in params {
            if let Some(g) = grads.get(var) {
                let scaled = (g * factor)?;
                grads.set(var, scaled);
            }
        }
    }
    Ok(norm)
}

/// The first parameter (in the given order) whose gradient has a NaN or
/// infinite entry, as an error naming it and the step.
pub fn check_finite<'a>(
    grads: &Grads,
    params: impl IntoIterator<Item = (&'a str, &'a Var)>,
    step: u64,
) -> Result<()> {
    for (name, var) in params {
        if let Some(g) = grads.get(var) {
            let s = g
                .to_dtype(DType::F64)?
                .abs()?
                .sum_all()?
                .to_scalar::<f64>()?;
            if !s.is_finite() {
                return Err(Error::NonFinite {
                    step,
                    what: format!("gradient of parameter {name}"),
                });
            }
        }
    }
    Ok(())
}
