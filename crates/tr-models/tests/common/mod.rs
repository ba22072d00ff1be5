//! Helpers shared by the integration tests: deterministic inputs, model
//! construction in a fresh `VarMap`, and a non-degenerate scalar loss.
#![allow(dead_code)]

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::{VarBuilder, VarMap};
use tr_models::{DataSpec, Model, ModelConfig};

/// A deterministic pseudo-random `f32` tensor in `[-1, 1]` (no RNG needed).
pub fn det_tensor(shape: &[usize], seed: u32) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n)
        .map(|i| ((i as f32 + 1.0) * 12.9898 + seed as f32 * 78.233).sin())
        .collect();
    Tensor::from_vec(data, shape, &Device::Cpu)
}

/// Deterministic images in `[0, 1]`.
pub fn det_images(shape: &[usize], seed: u32) -> Result<Tensor> {
    (det_tensor(shape, seed)? + 1.0)? / 2.0
}

/// A reproducibly initialised `VarBuilder` (fixed seed) over `varmap`.
pub fn vb(varmap: &VarMap) -> VarBuilder<'static> {
    tr_models::seeded_var_builder(varmap, 42, DType::F32, &Device::Cpu)
}

/// Builds `config` for `spec` into a fresh, reproducibly initialised `VarMap` on the CPU.
pub fn build(config: &ModelConfig, spec: &DataSpec) -> anyhow::Result<(VarMap, Box<dyn Model>)> {
    let varmap = VarMap::new();
    let model = config.build(spec, vb(&varmap))?;
    Ok((varmap, model))
}

/// `Σ log_softmax(logits, dim) · w` with fixed pseudo-random weights `w`:
/// a scalar loss whose gradient reaches every logit unevenly.
pub fn weighted_log_softmax_loss(logits: &Tensor, dim: usize) -> Result<Tensor> {
    let w = det_tensor(logits.dims(), 99)?;
    let ls = candle_nn::ops::log_softmax(logits, dim)?;
    (ls * w)?.sum_all()
}

/// Maximum absolute difference between two tensors of equal shape.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    (a - b)?
        .abs()?
        .flatten_all()?
        .max(D::Minus1)?
        .to_scalar::<f32>()
}
