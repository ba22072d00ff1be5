//! Metrics accumulated over an epoch: character error rate (corpus and
//! per-line mean), character accuracy, sequence and classification accuracy.
//!
//! Each is a struct with `update` (per batch), `compute`/`corpus`/`mean`
//! (at epoch end) and `reset`; they read the label sequences a
//! [`crate::StepOutput`] carries.

mod accuracy;
mod cer;
mod edit_distance;

pub use accuracy::{Accuracy, CharAccuracy};
pub use cer::CharErrorRate;
pub use edit_distance::edit_distance;
