//! Losses: cross-entropy (classes or sequences, optional ignored index and
//! label smoothing) and CTC.

mod cross_entropy;
mod ctc;

pub use cross_entropy::CrossEntropy;
pub use ctc::{CtcAlgorithm, CtcLoss, Reduction};
