//! Building blocks of the zoo, one concept per module.
//!
//! The compute-heavy paths each go through exactly one function, which picks
//! the fast CPU kernels of [`tr_kernels`] for `f32` CPU tensors and candle's
//! own ops otherwise: convolutions through [`Conv2d::forward`],
//! max-pooling through [`max_pool2d`], LSTMs through [`Lstm::forward`].

mod attention;
mod conv;
mod dropout;
mod embedding;
mod init;
mod linear;
mod lstm;
mod norm;
mod pool;
mod positional;
mod resnet;
mod transformer;

pub use attention::{causal_mask, padding_mask, MultiHeadAttention};
pub use conv::{Conv2d, Conv2dSpec, ConvBlock};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub(crate) use init::symmetric_uniform;
pub use init::LayerInit;
pub use linear::Linear;
pub use lstm::{Lstm, LstmConfig};
pub use norm::{BatchNorm2d, LayerNorm};
pub use pool::{max_pool2d, max_pool2d_reference};
pub use positional::{image_table, sinusoid_table, PositionalEncoding, PositionalEncodingImage};
pub use resnet::{ResNet18, RESNET_WIDTH};
pub use transformer::{DecoderCache, DecoderConfig, TransformerDecoder};
