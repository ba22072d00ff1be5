//! Inverted dropout, active only in training mode, with masks drawn from
//! the reproducible generator of [`crate::seeded`] (candle's own
//! `ops::dropout` uses an unseedable thread RNG).

use candle_core::{Result, Tensor};

/// Zeroes each element with probability `p` and scales the rest by
/// `1/(1-p)` when `train` is true; identity otherwise (and when `p == 0`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    p: f32,
}

impl Dropout {
    /// `p` must be in `[0, 1)`; models check their config fields before
    /// building one (see `error::check_probability`).
    pub fn new(p: f32) -> Self {
        Self { p }
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// Same shape as `x`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        crate::seeded::dropout(x, self.p, train)
    }
}
