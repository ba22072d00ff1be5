//! # tr-data: everything between files on disk and tensors
//!
//! This crate turns handwriting datasets into batches a model can eat, and
//! text into label tensors and back. It does **not** download anything
//! (that is `cargo xtask download`), and it knows nothing about models,
//! losses or training.
//!
//! ## API
//!
//! The **light core** (always built; what `tr-infer` depends on):
//!
//! | item | what |
//! |---|---|
//! | [`Vocabulary`], [`BLANK`], [`START`], [`END`], [`PAD`] | the 83-symbol vocabulary and its special tokens, string ⇄ label tensors |
//! | [`ContentRule`], [`Role`] | which labels of a sequence are its text — the rule training metrics and inference share |
//! | [`images_to_tensor`], [`tensor_to_images`], [`image_to_tensor`], [`tensor_to_image`] | grey images ⇄ `(B, 1, H, W)` `f32` tensors in `[0, 1]` |
//! | [`derive_seed`], [`Stream`], [`rng_for`] | the one rule that derives random streams from a seed |
//! | [`layout`] | the page model, ALTO/PAGE readers and line cropping (its IAM form reader and line filter need `full`) |
//! | [`mod@registry`], [`registry!`] | the one mechanism for configs chosen by name with dotted overrides (models, datasets, optimizers, schedulers): the macro and the [`registry::Registry`] trait |
//! | [`tensor_file`] | safetensors files with metadata: atomic writes, reads that tell a truncated file from a foreign one |
//! | [`Error`], [`Result`] | the crate's error type |
//!
#![cfg_attr(
    feature = "full",
    doc = r#"The **full layer** (feature `full`, on by default; see `docs/datasets.md`):

| item | what |
|---|---|
| [`datasets`] | the [`datasets::Dataset`] trait, the three-split [`datasets::DataModule`] and the datasets by name ([`datasets::DatasetConfig`]: the course's `mnist`, `emnist`, `emnist-lines`, `emnist-lines2`, `iam-*`, and `page-lines`, `font-lines`, `mixture`, …) with their on-disk caches under `data/processed/` |
| [`DataLoader`], [`LoaderConfig`], [`Batch`], [`Epoch`], [`aug_seed`] | the batch loader: seeded shuffling, background prefetch, exact resume |
| [`DataDir`], [`resolve_root`], [`DATA_DIR_ENV`], [`CACHE_DIR_ENV`], [`DEFAULT_DATA_DIR`] | where data lives: data root, raw files, caches |
| [`readers`] | idx / idx.gz, EMNIST MATLAB `.mat`, the NLTK Brown corpus zip, IAM's `lines.txt` |
| [`augment`] | the course's synthetic-line augmentation (brightness jitter, random affine) and its IAM line/paragraph augmentation for real handwriting |
| [`render`] | sample sheets: images with their labels in a grid |
| [`DataStats`], [`SplitStats`] | split sizes, shapes, label lengths, symbol frequencies (`htr data stats`) |
"#
)]
#![cfg_attr(
    not(feature = "full"),
    doc = r#"The **full layer** (feature `full`, on by default; off in this build): the
datasets, the batch loader, the data root, the raw-format readers,
augmentation, sample sheets and statistics. See `docs/datasets.md`.
"#
)]

mod content;
mod error;
mod image_tensor;
pub mod layout;
pub mod levels;
pub mod registry;
mod seeding;
pub mod tensor_file;
mod vocab;

#[cfg(feature = "full")]
pub mod augment;
#[cfg(feature = "full")]
pub mod datasets;
#[cfg(feature = "full")]
mod file_identity;
#[cfg(feature = "full")]
mod loader;
#[cfg(feature = "full")]
mod paths;
#[cfg(feature = "full")]
pub mod readers;
#[cfg(feature = "full")]
pub mod render;
#[cfg(feature = "full")]
mod stats;

pub use content::{ContentRule, Role};
pub use error::{Error, Result};
pub use image_tensor::{image_to_tensor, images_to_tensor, tensor_to_image, tensor_to_images};
pub use seeding::{derive_seed, rng_for, Stream};
pub use vocab::{Vocabulary, BLANK, END, PAD, START};

#[cfg(feature = "full")]
pub use loader::{aug_seed, Batch, DataLoader, Epoch, LoaderConfig};
#[cfg(feature = "full")]
pub use paths::{resolve_root, DataDir, CACHE_DIR_ENV, DATA_DIR_ENV, DEFAULT_DATA_DIR};
#[cfg(feature = "full")]
pub use stats::{DataStats, SplitStats};
