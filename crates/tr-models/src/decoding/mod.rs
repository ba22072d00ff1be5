//! Decoders: from a model's outputs to label sequences.
//!
//! | items | what |
//! |---|---|
//! | [`greedy_ctc`], [`greedy_ctc_batch`], [`greedy_ctc_labels`], [`collapse`] | best-path CTC decoding (argmax, collapse repeats, drop blanks), with each character's confidence and time step |
//! | [`BeamSearch`], [`LmWeighting`], [`Hypothesis`] | CTC prefix beam search, optionally with a character n-gram language model weighted by `α` plus an insertion bonus `β` |
//! | [`CharNgramLm`], [`LmState`] | the character n-gram language model (trained from text, saved as JSON) |
//! | [`decode_seq2seq`] | the tokens of a seq2seq model's [`crate::Model::decode_greedy`] → labels, text and confidences |
//! | [`decode_positional`], [`positional_labels`] | per-position arg-max of fixed-length outputs |
//! | [`Frames`], [`frames_from_logits`], [`frames_from_log_probs_bsc`] | one sample's `(T, C)` log-probabilities on the host, what the CTC decoders read |
//! | [`Decoded`] | labels with per-label confidences and time steps, what every decoder returns |
//!
//! Which decoded labels are text is one rule for training and inference,
//! [`tr_data::ContentRule`] (`<S>` skipped, stop at the first `<E>`/`<P>`).
//!
//! CTC decoders read [`Frames`] — one sample's `(T, C)` log-probabilities on
//! the host — made from `(B, C, S)` logits by [`frames_from_logits`].
//! Everything here is inference-side: `tr-infer` uses it directly and
//! `tr-lit` re-exports it as `tr_lit::decoders`.

mod autoregressive;
mod beam;
mod decoded;
mod frames;
mod greedy;
mod lm;
mod positional;

pub use autoregressive::decode_seq2seq;
pub use beam::{BeamSearch, Hypothesis, LmWeighting};
pub use decoded::Decoded;
pub use frames::{frames_from_log_probs_bsc, frames_from_logits, Frames};
pub use greedy::{collapse, greedy_ctc, greedy_ctc_batch, greedy_ctc_labels};
pub use lm::{CharNgramLm, LmState};
pub use positional::{decode_positional, positional_labels};
