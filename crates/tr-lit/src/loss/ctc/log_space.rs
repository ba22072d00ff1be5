//! The reference CTC forward–backward recursion in log space (`f64`): exact
//! for any input, including log-probabilities far below `f64`'s range in
//! linear space. [`super::scaled`] falls back to it.

use super::lattice::Lattice;

/// Negative log-likelihood of the sample, and `grad[t·C + c] = −γ_t(c)`, its
/// gradient w.r.t. the log-probabilities (`grad` is `(T_max, C)`, zeroed,
/// rows past the input length untouched). Returns `+∞` (gradient left zero)
/// when no alignment has non-zero probability.
pub(crate) fn nll_and_grad(lat: &Lattice, classes: usize, grad: &mut [f64]) -> f64 {
    let (frames, states) = (lat.frames, lat.states());
    if !lat.feasible() {
        return f64::INFINITY;
    }
    if frames == 0 {
        // Only the empty labelling has an (empty) alignment, with probability 1.
        return 0.0;
    }
    let neg = f64::NEG_INFINITY;
    let emit = |t: usize, s: usize| lat.row(t)[lat.ext[s] as usize];

    // alpha[t·S + s]: log-probability of the path prefixes 0..=t ending in s.
    let mut alpha = vec![neg; frames * states];
    alpha[0] = emit(0, 0);
    if states > 1 {
        alpha[1] = emit(0, 1);
    }
    for t in 1..frames {
        let (prev, cur) = alpha[(t - 1) * states..(t + 1) * states].split_at_mut(states);
        let (lo, hi) = lat.window(t);
        for s in lo..hi {
            let mut a = prev[s];
            if s >= 1 {
                a = log_add(a, prev[s - 1]);
            }
            if lat.skip[s] {
                a = log_add(a, prev[s - 2]);
            }
            cur[s] = a + emit(t, s);
        }
    }
    let last = &alpha[(frames - 1) * states..];
    let log_p = if states > 1 {
        log_add(last[states - 1], last[states - 2])
    } else {
        last[0]
    };
    if log_p == neg {
        return f64::INFINITY;
    }

    // beta[s] at time t: log-probability of finishing from state s at t,
    // not counting the emission at t.
    let mut beta = vec![neg; states];
    let mut next = vec![neg; states];
    beta[states - 1] = 0.0;
    if states > 1 {
        beta[states - 2] = 0.0;
    }
    let mut gamma = vec![neg; lat.symbols.len()];
    for t in (0..frames).rev() {
        if t + 1 < frames {
            // beta_t(s) from beta_{t+1} (held in `next`).
            std::mem::swap(&mut beta, &mut next);
            let (lo, hi) = lat.window(t);
            beta.fill(neg);
            for s in lo..hi {
                let mut b = next[s] + emit(t + 1, s);
                if s + 1 < states {
                    b = log_add(b, next[s + 1] + emit(t + 1, s + 1));
                }
                if s + 2 < states && lat.skip[s + 2] {
                    b = log_add(b, next[s + 2] + emit(t + 1, s + 2));
                }
                beta[s] = b;
            }
        }
        // Occupancy: gamma_t(s) = alpha_t(s) beta_t(s) / P, summed per symbol.
        let row_alpha = &alpha[t * states..(t + 1) * states];
        let mut z = neg;
        gamma.iter_mut().for_each(|g| *g = neg);
        for s in 0..states {
            let v = row_alpha[s] + beta[s];
            z = log_add(z, v);
            let k = lat.symbol_of_state[s];
            gamma[k] = log_add(gamma[k], v);
        }
        // Σ_s alpha_t(s) beta_t(s) = P for every t; normalising per step by
        // the computed sum keeps each row's occupancies summing to 1.
        let row = &mut grad[t * classes..(t + 1) * classes];
        for (k, &g) in gamma.iter().enumerate() {
            if g > neg {
                row[lat.symbols[k] as usize] -= (g - z).exp();
            }
        }
    }
    -log_p
}

/// `log(exp(a) + exp(b))`, exact for infinite arguments.
#[inline]
pub(crate) fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}
