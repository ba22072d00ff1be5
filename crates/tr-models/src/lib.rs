//! # tr-models: the model zoo of tr
//!
//! Every model of the original course, as a plain struct with a serde
//! `Config` whose defaults are the course's, built from a
//! [`candle_nn::VarBuilder`]:
//!
//! | name | input | output |
//! |---|---|---|
//! | `mlp`, `cnn` | `(B, 1, 28, 28)` | `(B, C)` class logits |
//! | `line-cnn-simple`, `line-cnn`, `line-cnn-lstm` | `(B, 1, H, W)` | `(B, C, S)` per-step logits (CTC or fixed-length) |
//! | `line-cnn-transformer`, `resnet-transformer` | `(B, 1, H, W)` (+ teacher tokens) | `(B, C, Sy)` logits, or greedy decoded tokens |
//!
//! The [`registry`] builds any of them by name from a [`ModelConfig`] and the
//! [`DataSpec`] of the data they will read, so input size, output length and
//! vocabulary are never typed twice.
//!
//! The [`decoding`] module holds the decoders (greedy and beam-search CTC,
//! character n-gram language model) here rather than in `tr-lit` because
//! `tr-infer` must decode without depending on the training stack; `tr-lit`
//! re-exports them.
//!
//! The fast CPU kernels (convolution, max-pooling, LSTM as candle custom
//! ops) live in the `tr-kernels` crate; the layers use them automatically
//! for `f32` CPU tensors (opt out with `TR_REFERENCE_OPS=1` or
//! [`tr_kernels::set_reference_ops`]).
//!
//! Building blocks live in [`layers`] (convolution, pooling, LSTM,
//! attention, Transformer decoder, positional encodings, ResNet-18); the
//! autoregressive decoding shared by the Transformers in [`seq2seq`];
//! parameter counting and buffer handling in [`params`]; reproducible
//! initialisation and dropout in [`seeded`].
//!
//! Not here: losses, metrics, optimisers, training loops (`tr-lit`, `tr-train`).

pub mod cnn;
pub mod crnn;
pub mod decoding;
pub mod error;
pub mod layers;
pub mod line_cnn;
pub mod line_cnn_lstm;
pub mod line_cnn_simple;
pub mod line_cnn_transformer;
pub mod mlp;
pub mod model;
pub mod params;
pub mod registry;
pub mod resnet_transformer;
pub mod seeded;
pub mod seq2seq;

pub use error::{Error, Result};
pub use model::{DataSpec, GreedyDecode, Model, Task};
pub use registry::{
    default_parameter_count, default_spec, parameter_count, ModelConfig, ModelKind,
};
