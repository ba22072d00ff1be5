//! [`Frames`]: one sample's per-time-step log-probabilities on the host, the
//! input of every CTC decoder, and the conversion from a model's `(B, C, S)`
//! logits.

use candle_core::{bail, DType, Device, Result, Tensor};

/// `(T, C)` log-probabilities of one sample, row-major: row `t` holds the
/// log-probability of every class at time step `t`.
#[derive(Clone, Debug, PartialEq)]
pub struct Frames {
    data: Vec<f32>,
    num_classes: usize,
}

impl Frames {
    /// Wraps `(T, C)` row-major log-probabilities. `data.len()` must be a
    /// multiple of `num_classes` (> 0).
    pub fn new(data: Vec<f32>, num_classes: usize) -> Result<Self> {
        if num_classes == 0 {
            bail!("frames: the number of classes must be at least 1, got 0");
        }
        if !data.len().is_multiple_of(num_classes) {
            bail!(
                "frames: {} log-probabilities are not a whole number of {num_classes}-class rows",
                data.len()
            );
        }
        Ok(Self { data, num_classes })
    }

    /// Builds frames from per-step probabilities (not logs), `(T, C)` rows.
    pub fn from_probs(rows: &[Vec<f32>]) -> Result<Self> {
        let num_classes = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * num_classes);
        for (t, row) in rows.iter().enumerate() {
            if row.len() != num_classes {
                bail!(
                    "frames: row {t} has {} classes, row 0 has {num_classes}",
                    row.len()
                );
            }
            data.extend(row.iter().map(|p| p.ln()));
        }
        Self::new(data, num_classes)
    }

    /// Number of time steps `T`.
    pub fn len(&self) -> usize {
        self.data.len() / self.num_classes
    }

    /// True when there are no time steps.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of classes `C`.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// `(C,)` log-probabilities of time step `t` (`t < len()`).
    pub fn step(&self, t: usize) -> &[f32] {
        &self.data[t * self.num_classes..(t + 1) * self.num_classes]
    }

    /// Keeps only the first `len` time steps (a sample's true input length).
    pub fn truncate(&mut self, len: usize) {
        self.data.truncate(len * self.num_classes);
    }
}

/// Converts `(B, C, S)` logits (the line models' layout) into one [`Frames`]
/// per sample, applying `log_softmax` over the class dimension. Works on any
/// device and float dtype; the result lives on the host in `f32`.
pub fn frames_from_logits(logits: &Tensor) -> Result<Vec<Frames>> {
    let (_b, c, _s) = logits.dims3().map_err(|_| {
        candle_core::Error::Msg(format!(
            "CTC logits: expected (B, C, S), got shape {:?}",
            logits.dims()
        ))
    })?;
    let log_probs = candle_nn::ops::log_softmax(&logits.to_dtype(DType::F32)?, 1)?;
    // (B, S, C) so that each time step is a contiguous row.
    let rows = log_probs
        .transpose(1, 2)?
        .to_device(&Device::Cpu)?
        .to_vec3::<f32>()?;
    rows.into_iter()
        .map(|sample| Frames::new(sample.into_iter().flatten().collect(), c))
        .collect()
}

/// Converts `(B, S, C)` log-probabilities (already normalised over the last
/// dimension) into one [`Frames`] per sample.
pub fn frames_from_log_probs_bsc(log_probs: &Tensor) -> Result<Vec<Frames>> {
    let (_b, _s, c) = log_probs.dims3().map_err(|_| {
        candle_core::Error::Msg(format!(
            "CTC log-probs: expected (B, S, C), got shape {:?}",
            log_probs.dims()
        ))
    })?;
    let rows = log_probs
        .to_dtype(DType::F32)?
        .to_device(&Device::Cpu)?
        .to_vec3::<f32>()?;
    rows.into_iter()
        .map(|sample| Frames::new(sample.into_iter().flatten().collect(), c))
        .collect()
}

/// Index of the largest value of a row (the first one on ties).
pub(crate) fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Checks that `blank` indexes a class of `frames`.
pub(crate) fn check_blank(frames: &Frames, blank: u32) -> Result<()> {
    if blank as usize >= frames.num_classes() {
        bail!(
            "CTC decoding: blank index {blank} is outside the {} classes of the model output",
            frames.num_classes()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_become_normalised_rows_per_time_step() {
        // (B=1, C=2, S=3): class 1 wins at t=1 only.
        let logits = Tensor::new(&[[[0f32, 1.0, 0.0], [0.0, 3.0, -1.0]]], &Device::Cpu).unwrap();
        let frames = frames_from_logits(&logits).unwrap();
        assert_eq!(frames.len(), 1);
        let f = &frames[0];
        assert_eq!((f.len(), f.num_classes()), (3, 2));
        for t in 0..3 {
            let total: f32 = f.step(t).iter().map(|l| l.exp()).sum();
            assert!((total - 1.0).abs() < 1e-6);
        }
        assert_eq!(argmax(f.step(0)), 0);
        assert_eq!(argmax(f.step(1)), 1);
        assert!((f.step(1)[1] - (-(1.0f32 + (-2.0f32).exp()).ln())).abs() < 1e-6);
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(Frames::new(vec![0.0; 5], 2).is_err());
        assert!(Frames::new(vec![], 0).is_err());
        let t = Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap();
        let err = frames_from_logits(&t).unwrap_err().to_string();
        assert!(err.contains("(B, C, S)"), "{err}");
    }
}
