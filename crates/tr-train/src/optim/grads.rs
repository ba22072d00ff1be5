//! Gradients of the trainable parameters only.
//!
//! candle's `GradStore` keeps a gradient for every tensor of the graph;
//! holding it across micro-batches (gradient accumulation) would keep all
//! intermediate activations' gradients alive. [`Grads`] copies out the
//! parameters' gradients so the store can be dropped right after backward.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, TensorId, Var};

use crate::error::Result;

/// Parameter gradients keyed by the parameter's tensor id.
#[derive(Clone, Debug, Default)]
pub struct Grads(HashMap<TensorId, Tensor>);

impl Grads {
    /// The gradients of `params` found in `store` (parameters the loss does not reach have none).
    pub fn from_store<'a>(store: &GradStore, params: impl IntoIterator<Item = &'a Var>) -> Self {
        Self(
            params
                .into_iter()
                .filter_map(|v| store.get(v.as_tensor()).map(|g| (v.id(), g.clone())))
                .collect(),
        )
    }

    /// Gradient of `var`, if any.
    pub fn get(&self, var: &Var) -> Option<&Tensor> {
        self.0.get(&var.id())
    }

    /// Replaces the gradient of `var`.
    pub fn set(&mut self, var: &Var, grad: Tensor) {
        self.0.insert(var.id(), grad);
    }

    /// Number of parameters with a gradient.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no parameter has a gradient.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `other` into `self` (gradient accumulation).
    pub fn accumulate(&mut self, other: Grads) -> Result<()> {
        for (id, g) in other.0 {
            let sum = match self.0.remove(&id) {
                Some(acc) => (acc + g)?,
                None => g,
            };
            self.0.insert(id, sum);
        }
        Ok(())
    }
}
