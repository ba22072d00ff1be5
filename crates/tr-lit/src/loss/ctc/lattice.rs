//! The CTC lattice of one sample: its `(T, C)` log-probabilities, the
//! blank-extended label sequence `l'` and which transitions it allows.
//!
//! `l' = (blank, l₁, blank, l₂, …, l_L, blank)` has `2L + 1` states. A path
//! moves from state `s` to `s` (stay), `s + 1` (advance), or `s + 2` (skip a
//! blank) when `l'_{s+2}` is a label different from `l'_s`.

/// One sample's inputs to the CTC recursions.
pub(crate) struct Lattice<'a> {
    /// `(T_max, C)` row-major log-probabilities; only the first `frames` rows count.
    log_probs: &'a [f64],
    classes: usize,
    /// The sample's input length `T`.
    pub frames: usize,
    /// `l'`, the blank-extended labels.
    pub ext: Vec<u32>,
    /// `skip[s]`: the transition `s − 2 → s` is allowed.
    pub skip: Vec<bool>,
    /// Distinct symbols `[blank, l₁ … l_L]` and, per state, its index in it.
    pub symbols: Vec<u32>,
    pub symbol_of_state: Vec<usize>,
}

impl<'a> Lattice<'a> {
    pub fn new(
        log_probs: &'a [f64],
        classes: usize,
        frames: usize,
        labels: &[u32],
        blank: u32,
    ) -> Self {
        let states = 2 * labels.len() + 1;
        let mut ext = Vec::with_capacity(states);
        let mut symbol_of_state = Vec::with_capacity(states);
        for (j, &l) in labels.iter().enumerate() {
            ext.push(blank);
            symbol_of_state.push(0);
            ext.push(l);
            symbol_of_state.push(j + 1);
        }
        ext.push(blank);
        symbol_of_state.push(0);
        let skip = (0..states)
            .map(|s| s >= 2 && s % 2 == 1 && ext[s] != ext[s - 2])
            .collect();
        let symbols = std::iter::once(blank)
            .chain(labels.iter().copied())
            .collect();
        Self {
            log_probs,
            classes,
            frames,
            ext,
            skip,
            symbols,
            symbol_of_state,
        }
    }

    /// Number of states `2L + 1`.
    pub fn states(&self) -> usize {
        self.ext.len()
    }

    /// Number of labels `L`.
    pub fn labels(&self) -> usize {
        self.ext.len() / 2
    }

    /// `(C,)` log-probabilities at time `t`.
    pub fn row(&self, t: usize) -> &[f64] {
        &self.log_probs[t * self.classes..(t + 1) * self.classes]
    }

    /// Fewest frames any alignment needs: one per label, plus a blank
    /// between each pair of equal consecutive labels.
    pub fn min_frames(&self) -> usize {
        let repeats = (1..self.labels())
            .filter(|&j| self.ext[2 * j + 1] == self.ext[2 * j - 1])
            .count();
        self.labels() + repeats
    }

    /// True when at least one alignment exists.
    pub fn feasible(&self) -> bool {
        self.frames >= self.min_frames()
    }

    /// Whether a path can be in state `s` at time `t` and still finish:
    /// the states reachable from the start within `t + 1` frames and from
    /// which the end is reachable in the remaining frames.
    pub fn window(&self, t: usize) -> (usize, usize) {
        let states = self.states();
        let remaining = self.frames - t; // frames t..T, including t
        let lo = states.saturating_sub(2 * remaining);
        let hi = (2 * t + 2).min(states);
        (lo, hi)
    }
}
