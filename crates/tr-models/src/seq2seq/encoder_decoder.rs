//! The model shape both Transformers of the zoo share: an image encoder
//! whose `(B, Sx, E)` memory the [`TokenDecoder`] reads, with teacher
//! forcing for training and greedy decoding for inference.
//!
//! `line-cnn-transformer` and `resnet-transformer` differ only in their
//! encoder ([`ImageEncoder`]); the decoder block, the logits layout and the
//! [`Model`] implementation are written once here. Parameter names are the
//! encoder's and the decoder's own (`line_cnn.*` / `resnet.*`,
//! `encoder_projection`, `embedding`, `fc`, `transformer_decoder.layers.*`),
//! so checkpoints and artifacts of either model load unchanged.

use candle_core::{Result, Tensor};

use super::TokenDecoder;
use crate::model::{GreedyDecode, Model, Task};

/// The encoder half of an [`EncoderDecoder`].
pub trait ImageEncoder: Clone + std::fmt::Debug + Send + Sync {
    /// Registry name of the whole model.
    const NAME: &'static str;

    /// `(B, C, H, W)` images → `(B, Sx, E)` encoder memory.
    fn encode(&self, x: &Tensor, train: bool) -> Result<Tensor>;
}

/// An image encoder followed by the Transformer [`TokenDecoder`].
#[derive(Clone, Debug)]
pub struct EncoderDecoder<E> {
    encoder: E,
    decoder: TokenDecoder,
}

impl<E: ImageEncoder> EncoderDecoder<E> {
    /// Pairs a built encoder with a built decoder of the same width.
    pub fn from_parts(encoder: E, decoder: TokenDecoder) -> Self {
        Self { encoder, decoder }
    }

    /// The encoder.
    pub fn encoder(&self) -> &E {
        &self.encoder
    }

    /// The decoder.
    pub fn decoder(&self) -> &TokenDecoder {
        &self.decoder
    }

    /// `(B, C, H, W)` → `(B, Sx, E)` encoder memory.
    pub fn encode(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.encoder.encode(x, train)
    }

    /// `(B, C, H, W)` images and `(B, Sy)` decoder input tokens → `(B, C, Sy)` logits.
    pub fn forward_teacher(&self, x: &Tensor, y: &Tensor, train: bool) -> Result<Tensor> {
        let memory = self.encode(x, train)?;
        self.decoder
            .logits(&memory, y, train)?
            .transpose(1, 2)?
            .contiguous()
    }

    /// Greedy decoding (evaluation mode): `(B, S)` tokens and probabilities,
    /// `S` = the data's `output_len`.
    pub fn decode_greedy(&self, x: &Tensor) -> Result<GreedyDecode> {
        self.decoder.greedy(&self.encode(x, false)?)
    }

    /// The course's recomputing greedy loop (reference for [`Self::decode_greedy`]).
    pub fn decode_greedy_recompute(&self, x: &Tensor) -> Result<GreedyDecode> {
        self.decoder.greedy_recompute(&self.encode(x, false)?)
    }
}

impl<E: ImageEncoder> Model for EncoderDecoder<E> {
    fn name(&self) -> &'static str {
        E::NAME
    }

    fn task(&self) -> Task {
        Task::Seq2Seq
    }

    /// Greedy tokens `(B, S)`; decoding always runs in evaluation mode.
    fn forward(&self, x: &Tensor, _train: bool) -> Result<Tensor> {
        Ok(EncoderDecoder::decode_greedy(self, x)?.tokens)
    }

    fn decode_greedy(&self, x: &Tensor) -> Result<GreedyDecode> {
        EncoderDecoder::decode_greedy(self, x)
    }

    fn forward_teacher(&self, x: &Tensor, y: &Tensor, train: bool) -> Result<Tensor> {
        EncoderDecoder::forward_teacher(self, x, y, train)
    }
}
