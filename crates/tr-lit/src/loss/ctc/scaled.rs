//! The fast CTC forward–backward recursion: linear-space probabilities in
//! `f64`, rescaled to sum 1 at every time step (Graves 2012, §7.3.1), so the
//! inner loop is multiply–adds instead of `exp`/`log`.
//!
//! Rescaling keeps the largest state of each step near 1, so only states
//! whose probability is below ~1e−290 of the step's total lose precision.
//! Such states move the likelihood by at most ~1e−290 in absolute terms (all
//! forward probabilities of one step sum to at most 1), which is negligible
//! relative to the likelihood unless the loss itself exceeds several hundred
//! nats. The recursion therefore reports "use the log-space reference"
//! ([`None`]) whenever a step's normaliser underflows or the loss exceeds
//! [`MAX_SCALED_NLL`]; see docs/ctc.md for the argument.

use super::lattice::Lattice;

/// Above this negative log-likelihood (nats) the scaled result is not
/// trusted and the log-space recursion is used instead.
pub(crate) const MAX_SCALED_NLL: f64 = 500.0;

/// Same contract as [`super::log_space::nll_and_grad`] for feasible
/// lattices with at least one frame, or `None` when the caller must use the
/// log-space recursion (`grad` is then left untouched).
pub(crate) fn nll_and_grad(lat: &Lattice, classes: usize, grad: &mut [f64]) -> Option<f64> {
    let (frames, states) = (lat.frames, lat.states());
    debug_assert!(frames > 0 && lat.feasible());
    let symbols = lat.symbols.len();

    // y[t·K + k]: probability of distinct symbol k at time t.
    let mut y = vec![0f64; frames * symbols];
    for t in 0..frames {
        let row = lat.row(t);
        for (k, &c) in lat.symbols.iter().enumerate() {
            y[t * symbols + k] = row[c as usize].exp();
        }
    }
    let sym = &lat.symbol_of_state;

    // alpha[t·S + s], each row rescaled to sum 1; log_p accumulates the
    // logs of the scale factors.
    let mut alpha = vec![0f64; frames * states];
    alpha[0] = y[sym[0]];
    if states > 1 {
        alpha[1] = y[sym[1]];
    }
    let mut log_p = rescale(&mut alpha[..states])?;
    for t in 1..frames {
        let (prev, cur) = alpha[(t - 1) * states..(t + 1) * states].split_at_mut(states);
        let (lo, hi) = lat.window(t);
        let yt = &y[t * symbols..(t + 1) * symbols];
        for s in lo..hi {
            let mut a = prev[s];
            if s >= 1 {
                a += prev[s - 1];
            }
            if lat.skip[s] {
                a += prev[s - 2];
            }
            cur[s] = a * yt[sym[s]];
        }
        log_p += rescale(&mut cur[lo..hi])?;
    }
    let last = &alpha[(frames - 1) * states..];
    let end = if states > 1 {
        last[states - 1] + last[states - 2]
    } else {
        last[0]
    };
    if end.is_nan() || end <= 0.0 {
        return None;
    }
    log_p += end.ln();
    let nll = -log_p;
    if !nll.is_finite() || nll > MAX_SCALED_NLL {
        return None;
    }

    // beta (without the emission at t), rescaled per step; the occupancy of
    // each step is normalised by its own sum, so beta's scale cancels.
    let mut beta = vec![0f64; states];
    let mut next = vec![0f64; states];
    beta[states - 1] = 1.0;
    if states > 1 {
        beta[states - 2] = 1.0;
    }
    let mut occupancy = vec![0f64; states];
    // Per-step symbol occupancies, written to `grad` only once every step
    // succeeded, so a fallback finds `grad` untouched.
    let mut gamma = vec![0f64; frames * symbols];
    for t in (0..frames).rev() {
        if t + 1 < frames {
            std::mem::swap(&mut beta, &mut next);
            let (lo, hi) = lat.window(t);
            let yn = &y[(t + 1) * symbols..(t + 2) * symbols];
            beta.iter_mut().for_each(|b| *b = 0.0);
            for s in lo..hi {
                let mut b = next[s] * yn[sym[s]];
                if s + 1 < states {
                    b += next[s + 1] * yn[sym[s + 1]];
                }
                if s + 2 < states && lat.skip[s + 2] {
                    b += next[s + 2] * yn[sym[s + 2]];
                }
                beta[s] = b;
            }
            rescale(&mut beta[lo..hi])?;
        }
        let row_alpha = &alpha[t * states..(t + 1) * states];
        let mut z = 0.0;
        for s in 0..states {
            occupancy[s] = row_alpha[s] * beta[s];
            z += occupancy[s];
        }
        if !z.is_finite() || z <= 0.0 {
            return None;
        }
        let inv = 1.0 / z;
        let g = &mut gamma[t * symbols..(t + 1) * symbols];
        for s in 0..states {
            g[sym[s]] += occupancy[s] * inv;
        }
    }
    for t in 0..frames {
        let row = &mut grad[t * classes..(t + 1) * classes];
        for (k, &c) in lat.symbols.iter().enumerate() {
            row[c as usize] -= gamma[t * symbols + k];
        }
    }
    Some(nll)
}

/// Rescales `v` to sum 1 and returns the log of the factor, or `None` when
/// the sum underflowed (or is not finite).
#[inline]
fn rescale(v: &mut [f64]) -> Option<f64> {
    let sum: f64 = v.iter().sum();
    if !sum.is_finite() || sum <= f64::MIN_POSITIVE {
        return None;
    }
    let inv = 1.0 / sum;
    v.iter_mut().for_each(|x| *x *= inv);
    Some(sum.ln())
}
