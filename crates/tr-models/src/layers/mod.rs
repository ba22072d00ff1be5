//! Building blocks of the zoo, one concept per module.
//!
//! The compute-heavy paths each go through exactly one function, which picks
//! the fast CPU kernels of [`tr_kernels`] for `f32` CPU tensors and candle's
//! own ops otherwise: convolutions through [`conv::Conv2d::forward`],
//! max-pooling through [`pool::max_pool2d`], LSTMs through
//! [`lstm::Lstm::forward`].

pub mod attention;
pub mod conv;
pub mod dropout;
pub mod embedding;
pub mod init;
pub mod linear;
pub mod lstm;
pub mod norm;
pub mod pool;
pub mod positional;
pub mod resnet;
pub mod transformer;

pub use attention::MultiHeadAttention;
pub use conv::{Conv2d, Conv2dSpec, ConvBlock};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use init::LayerInit;
pub use linear::Linear;
pub use lstm::{Lstm, LstmConfig};
pub use norm::{BatchNorm2d, LayerNorm};
pub use pool::max_pool2d;
pub use positional::{PositionalEncoding, PositionalEncodingImage};
pub use resnet::ResNet18;
pub use transformer::{DecoderCache, DecoderConfig, TransformerDecoder};
