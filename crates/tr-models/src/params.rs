//! Parameters versus buffers, and parameter counting.
//!
//! A model's `VarMap` holds its trainable parameters and, for batch-norm
//! layers, the running statistics (`running_mean`, `running_var`). Those are
//! buffers: saved with the weights, updated by the forward pass in training
//! mode, never touched by an optimiser and not counted as parameters
//! (PyTorch's `parameters()` vs `buffers()`).

use candle_core::Var;
use candle_nn::VarMap;

/// Name suffixes of non-trainable buffers.
pub const BUFFER_SUFFIXES: [&str; 2] = ["running_mean", "running_var"];

/// True for a buffer's variable name (`….running_mean`, `….running_var`).
pub fn is_buffer(name: &str) -> bool {
    BUFFER_SUFFIXES
        .iter()
        .any(|s| name == *s || name.ends_with(&format!(".{s}")))
}

/// Trainable variables of `varmap` (buffers excluded), sorted by name.
pub fn trainable_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    named_vars(varmap)
        .into_iter()
        .filter(|(name, _)| !is_buffer(name))
        .collect()
}

/// Every variable of `varmap` (buffers included), sorted by name.
pub fn named_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = varmap
        .data()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut vars: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Number of trainable scalars in `varmap`.
pub fn count_parameters(varmap: &VarMap) -> usize {
    trainable_vars(varmap)
        .iter()
        .map(|(_, v)| v.elem_count())
        .sum()
}
