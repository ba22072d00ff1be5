//! Decoders: from a model's outputs to label sequences.
//!
//! * [`greedy`]: best-path CTC decoding (argmax, collapse repeats, drop
//!   blanks), with each character's confidence and time step;
//! * [`beam`]: CTC prefix beam search, optionally with a character n-gram
//!   language model ([`lm::CharNgramLm`]) weighted by `α` plus an insertion
//!   bonus `β`;
//! * [`autoregressive`]: turns the tokens of a seq2seq model's
//!   [`crate::Model::decode_greedy`] into labels, text and confidences;
//! * [`positional`]: per-position arg-max of fixed-length outputs.
//!
//! Which decoded labels are text is one rule for training and inference,
//! [`tr_data::content`] (`<S>` skipped, stop at the first `<E>`/`<P>`).
//!
//! CTC decoders read [`Frames`] — one sample's `(T, C)` log-probabilities on
//! the host — made from `(B, C, S)` logits by [`frames_from_logits`].
//! Everything here is inference-side: `tr-infer` uses it directly and
//! `tr-lit` re-exports it as `tr_lit::decoders`.

pub mod autoregressive;
pub mod beam;
pub mod decoded;
pub mod frames;
pub mod greedy;
pub mod lm;
pub mod positional;

pub use autoregressive::decode_seq2seq;
pub use beam::{BeamSearch, Hypothesis, LmWeighting};
pub use decoded::Decoded;
pub use frames::{frames_from_log_probs_bsc, frames_from_logits, Frames};
pub use greedy::{collapse, greedy_ctc, greedy_ctc_batch, greedy_ctc_labels};
pub use lm::{CharNgramLm, LmState};
pub use positional::{decode_positional, positional_labels};
