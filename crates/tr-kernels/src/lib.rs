//! # tr-kernels: the fast CPU kernels of tr
//!
//! candle's CPU backend allocates a fresh tensor for every op and has no
//! fused convolution or recurrence, which made CPU training several times
//! slower than PyTorch's. This crate holds the hand-written replacements for
//! the hot operations, as candle custom ops with forward **and** backward
//! passes, plus the two other pieces of CPU-specific speed work of a
//! training step:
//!
//! | item | what | used by |
//! |---|---|---|
//! | [`conv2d`], [`ConvGeometry`] | 2-D convolution (any kernel, per-axis stride and padding) with fused bias and ReLU | `tr_models::layers::Conv2d` |
//! | [`max_pool2d`] | max-pooling with the argmax kept for the backward pass | `tr_models::layers::max_pool2d` |
//! | [`batch_norm2d`], [`BatchNormStats`], [`BatchNormOut`] | batch normalisation of `(B, C, H, W)` maps (batch or given statistics) with an optional fused ReLU | `tr_models::layers::BatchNorm2d` |
//! | [`lstm_recurrence`] | the recurrence of one (bi)directional LSTM layer, backpropagation through time included | `tr_models::layers::Lstm` |
//! | [`adam_in_place`], [`AdamStep`] | one Adam/AdamW update of an `f32` parameter and its moments, in place | `tr_train::optim::Optimizer` |
//! | [`keep_freed_memory`], [`MALLOC_ENV`] | glibc allocator settings for long-lived training processes | `htr fit`, `tr-train`, `cargo xtask bench` |
//! | [`pin_thread_count`], [`THREADS_ENV`] | fixes `RAYON_NUM_THREADS` so candle's matmuls stop re-reading `/proc/cpuinfo` on every call | `htr`, `tr-train`, `cargo xtask` (`main`) |
//! | [`heap_stats`], [`HeapStats`], [`release_free_memory`] | what malloc holds (live vs. freed-but-kept) and giving the freed part back | `htr serve` (`/metrics`, idle model worker) |
//! | [`use_fast_kernels`], [`set_reference_ops`], [`reference_ops`], [`REFERENCE_OPS_ENV`] | the switch to candle's reference ops | the layers, tests, benchmarks |
//!
//! ## How the kernels work
//!
//! * Convolution: im2col + gemm with fused bias and ReLU; input gradient by
//!   gemm + col2im, weight gradient by gemm against the recomputed im2col
//!   buffer, bias gradient by a reduction. Buffers are per image, so memory
//!   stays bounded. The forward pass of 3×3 stride-1 convolutions with 8–32
//!   input channels uses Winograd F(2×2, 3×3) instead.
//! * Max-pooling: PyTorch's `nn.MaxPool2d` (floor mode); on ties the whole
//!   gradient goes to the first maximum, as in PyTorch.
//! * Batch normalisation: per-channel statistics in two passes, one pass
//!   to normalise (and rectify), two for the backward pass, instead of
//!   candle-nn's ten allocating broadcast ops each way.
//! * LSTM: fused gate math (PyTorch's gate order `i, f, g, o`); the input
//!   projection stays a single candle matmul over the whole sequence, done
//!   by the caller; sigmoid and tanh are vectorised.
//! * Adam/AdamW: three passes over memory instead of ~15 allocating tensor
//!   ops, with the unfused arithmetic operation for operation, so both give
//!   bit-identical parameters.
//!
//! Work is split over images (or directions, or chunks of a parameter) with
//! rayon, so the thread count follows `RAYON_NUM_THREADS`; when there are
//! fewer images than threads the gemm itself runs multi-threaded instead.
//! Matrix products go through the gemm crate built with its AVX-512
//! microkernels (`x86-v4`); the strided copies, the Winograd transforms and
//! the activations have AVX-512 and AVX2 builds picked at run time, with
//! portable fallbacks.
//!
//! ## Fast kernels or candle's reference ops
//!
//! The kernels take contiguous `f32` CPU tensors only; callers check with
//! [`use_fast_kernels`] and keep candle's own ops on CUDA/Metal and for
//! other dtypes. Setting the environment variable `TR_REFERENCE_OPS=1`
//! ([`REFERENCE_OPS_ENV`], read once, at the first use) or calling
//! [`set_reference_ops`]`(true)` makes [`use_fast_kernels`] say no on the
//! CPU too, so the layers use candle's reference ops — for equivalence
//! checks and benchmarks. The results differ by rounding only (the layers'
//! tests in `tr-models/tests/cpu_kernels.rs` compare outputs and gradients;
//! `tests/` here compares the kernels with candle's ops directly).
//!
//! Errors are candle's ([`candle_core::Error`]): custom ops run inside
//! candle's graph and must return its `Result`.
//!
//! ## Not here
//!
//! The layers that choose between kernel and reference op and own the
//! weights (`tr-models`); which optimizer runs, its state and checkpoints
//! (`tr-train`); GPU kernels (candle's own ops are used on CUDA and Metal).
//! This crate depends on candle-core and nothing of tr, so the kernels can
//! be built, tested and benchmarked alone (`cargo test -p tr-kernels`).

mod activation;
mod adam;
mod alloc;
mod batch_norm;
mod buffers;
mod conv;
mod im2col;
mod lstm;
mod matmul;
mod pool;
mod reference;
mod shuffle;
mod thread_count;
mod winograd;

pub use adam::{adam_in_place, AdamStep};
pub use alloc::{heap_stats, keep_freed_memory, release_free_memory, HeapStats, MALLOC_ENV};
pub use batch_norm::{batch_norm2d, BatchNormOut, BatchNormStats};
pub use conv::{conv2d, ConvGeometry};
pub use lstm::lstm_recurrence;
pub use pool::max_pool2d;
pub use reference::{reference_ops, set_reference_ops, use_fast_kernels, REFERENCE_OPS_ENV};
pub use thread_count::{pin_thread_count, THREADS_ENV};

use buffers::{assume_init, cpu_f32, filled_vec, host, threads};
use matmul::{gemm, gemm_uninit, MatRef};
