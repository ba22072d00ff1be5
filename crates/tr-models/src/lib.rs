//! # tr-models: the model zoo of tr
//!
//! Every model of the original course (and a CRNN for real lines), as a
//! plain struct with a serde config whose defaults are the course's, built
//! from a [`candle_nn::VarBuilder`]:
//!
//! | name | model, config | input | output |
//! |---|---|---|---|
//! | `mlp` | [`Mlp`], [`MlpConfig`] | `(B, 1, 28, 28)` | `(B, C)` class logits |
//! | `cnn` | [`Cnn`], [`CnnConfig`] | `(B, 1, 28, 28)` | `(B, C)` class logits |
//! | `line-cnn-simple` | [`LineCnnSimple`], [`LineCnnSimpleConfig`] | `(B, 1, H, W)` | `(B, C, S)` per-window logits (CTC or fixed-length) |
//! | `line-cnn` | [`LineCnn`], [`LineCnnConfig`] | `(B, 1, H, W)` | `(B, C, S)` per-step logits |
//! | `line-cnn-lstm` | [`LineCnnLstm`], [`LineCnnLstmConfig`] | `(B, 1, H, W)` | `(B, C, S)` per-step logits |
//! | `line-cnn-transformer` | [`LineCnnTransformer`], [`LineCnnTransformerConfig`] | `(B, 1, H, W)` (+ teacher tokens) | `(B, C, Sy)` logits, or greedy decoded tokens |
//! | `resnet-transformer` | [`ResnetTransformer`], [`ResnetTransformerConfig`] | `(B, 1, H, W)` (+ teacher tokens) | `(B, C, Sy)` logits, or greedy decoded tokens |
//! | `crnn` (not in the course) | [`Crnn`], [`CrnnConfig`] | `(B, 1, H, W)`, `H` a multiple of 16 | `(B, C, W/4)` per-step logits (CTC) |
//!
//! ## API
//!
//! | item | what |
//! |---|---|
//! | [`ModelConfig`] | any model of the zoo by registry name, with dotted overrides ([`ModelConfig::by_name`], [`ModelConfig::set_str`]); [`ModelConfig::build`] makes it for a [`DataSpec`] |
//! | [`Model`], [`Task`], [`GreedyDecode`] | what every built model is: `forward`, `decode_greedy`, its task |
//! | [`DataSpec`] | input shape, vocabulary and output length of the data a model reads, so they are never typed twice |
//! | [`ModelKind`], [`default_spec`], [`parameter_count`], [`default_parameter_count`] | what a model is beyond its config: task, description, default data, size |
//! | [`seeded_var_builder`], [`reseed_dropout`] | reproducible initialisation (per variable name, independent of construction order) and dropout masks |
//! | [`params`] | parameter names, buffers (`running_mean`/`running_var`), counting, loading named tensors with shape checks |
//! | [`layers`] | building blocks: convolution, pooling, LSTM, attention, Transformer decoder, positional encodings, ResNet-18 |
//! | [`EncoderDecoder`], [`ImageEncoder`], [`TokenDecoder`], [`TokenDecoderConfig`], [`LineCnnEncoder`], [`ResnetEncoder`] | the image-encoder + autoregressive-decoder pair both Transformer models are |
//! | [`UNet`], [`UNetConfig`], [`mask_loss`] | a small U-Net predicting line-body and baseline masks of a page, and its per-pixel loss (trained by its own loop, not a registry model) |
//! | [`decoding`] | greedy and beam-search CTC, character n-gram language model, positional and seq2seq decoding |
//! | [`Error`], [`Result`] | the crate's error type |
//!
//! The [`decoding`] module lives here rather than in `tr-lit` because
//! `tr-infer` must decode without depending on the training stack; `tr-lit`
//! re-exports it.
//!
//! The fast CPU kernels (convolution, max-pooling, LSTM as candle custom
//! ops) live in the `tr-kernels` crate; the layers use them automatically
//! for `f32` CPU tensors (opt out with `TR_REFERENCE_OPS=1` or
//! [`tr_kernels::set_reference_ops`]).
//!
//! Not here: losses, metrics, optimisers, training loops (`tr-lit`, `tr-train`).

mod cnn;
mod crnn;
pub mod decoding;
mod error;
pub mod layers;
mod line_cnn;
mod line_cnn_lstm;
mod line_cnn_simple;
mod line_cnn_transformer;
mod mlp;
mod model;
pub mod params;
mod registry;
mod resnet_transformer;
mod seeded;
mod seq2seq;
mod unet;

pub use cnn::{Cnn, CnnConfig};
pub use crnn::{Crnn, CrnnConfig};
pub use error::{Error, Result};
pub use line_cnn::{LineCnn, LineCnnConfig};
pub use line_cnn_lstm::{LineCnnLstm, LineCnnLstmConfig};
pub use line_cnn_simple::{LineCnnSimple, LineCnnSimpleConfig};
pub use line_cnn_transformer::{LineCnnEncoder, LineCnnTransformer, LineCnnTransformerConfig};
pub use mlp::{Mlp, MlpConfig};
pub use model::{DataSpec, GreedyDecode, Model, Task};
pub use registry::{
    default_parameter_count, default_spec, parameter_count, ModelConfig, ModelKind,
};
pub use resnet_transformer::{ResnetEncoder, ResnetTransformer, ResnetTransformerConfig};
pub use seeded::{reseed_dropout, seeded_var_builder};
pub use seq2seq::{EncoderDecoder, ImageEncoder, TokenDecoder, TokenDecoderConfig};
pub use unet::{mask_loss, UNet, UNetConfig};
