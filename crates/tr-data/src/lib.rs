//! # tr-data: everything between files on disk and tensors
//!
//! This crate turns handwriting datasets into batches a model can eat, and
//! text into label tensors and back.
//!
//! It is split in two layers:
//!
//! * the **light core** (always built; what `tr-infer` depends on):
//!   [`vocab`] (the 83-symbol vocabulary, string ⇄ label tensors),
//!   [`content`] (which labels of a sequence are its text — the rule
//!   training metrics and inference share),
//!   [`image_tensor`] (grey images ⇄ `(B, 1, H, W)` tensors),
//!   [`seeding`] (the one rule that derives random streams from a seed),
//!   [`layout`] (the page model, ALTO/PAGE readers and line cropping;
//!   its IAM form reader and line filter need `full`) and
//!   [`mod@registry`], the one mechanism for configs chosen by name with dotted
//!   overrides (models, datasets, optimizers, schedulers: the
//!   [`registry!`] macro and the [`registry::Registry`] trait);
//! * the **full layer** (feature `full`, on by default): `readers` for idx /
//!   idx.gz, EMNIST MATLAB `.mat`, the NLTK Brown corpus zip and IAM's
//!   `lines.txt`; `paths` (data root and cache lookup); the `datasets` of
//!   the course (`mnist`, `emnist`, `emnist-lines`, `emnist-lines2`,
//!   `fake-images`) with their on-disk caches under `data/processed/`;
//!   `file_identity` (name, length and SHA-256 of a source file: what every
//!   cache key holds of its sources); `augment` (the course's synthetic-line
//!   augmentation and its IAM line/paragraph augmentation for real
//!   handwriting); and the batch loader with seeded shuffling and
//!   background prefetch. See `docs/datasets.md`.
//!
//! It does **not** download anything (that is `cargo xtask download`), and it
//! knows nothing about models, losses or training.

pub mod content;
pub mod error;
pub mod image_tensor;
pub mod layout;
pub mod registry;
pub mod seeding;
pub mod tensor_file;
pub mod vocab;

#[cfg(feature = "full")]
pub mod augment;
#[cfg(feature = "full")]
pub mod datasets;
#[cfg(feature = "full")]
pub mod file_identity;
#[cfg(feature = "full")]
pub mod loader;
#[cfg(feature = "full")]
pub mod paths;
#[cfg(feature = "full")]
pub mod readers;
#[cfg(feature = "full")]
pub mod render;
#[cfg(feature = "full")]
pub mod stats;

pub use error::{Error, Result};
#[cfg(feature = "full")]
pub use paths::DataDir;
pub use vocab::Vocabulary;
