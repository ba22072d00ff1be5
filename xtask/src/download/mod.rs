//! `cargo xtask download <dataset>`: fetch a dataset over HTTP(S) or import a
//! local copy, verify it and extract it into `<data root>/downloaded/<dataset>/`.
//!
//! What a dataset consists of is data, not code: `data/raw/<name>/metadata.toml`
//! ([`metadata`]) lists every known file with its URL, SHA-256 digest, size and
//! the zip members to extract. The modules, in the order a file passes them:
//!
//! | module | role |
//! |---|---|
//! | [`metadata`] | parse and validate `metadata.toml`, choose the files to fetch |
//! | [`fetch`] | streaming HTTP GET into `<file>.part`, resuming with `Range` |
//! | [`import`] | `--from PATH`: find known files locally, hard-link or copy them |
//! | [`verify`] | SHA-256 of files, `SHA256SUMS` for digests the metadata lacks |
//! | [`extract`] | zip members to files, zip-slip checks, extraction stamp |
//! | [`acceptance`] | whether a file may stay: size/digest checks, `.corrupt`, recording |
//! | [`install`] | the per-dataset pipeline tying these together |
//! | [`iam_copy`], [`iam_layout`] | `iam --from` with a user's own copy (zip or folders) |
//! | [`report`] | what a run did, file by file |
//! | [`command`] | CLI arguments, data-root resolution, printed summary |
//!
//! This module does not read datasets: `tr-data` does, from the layout
//! written here (`tr_data::DataDir::downloaded`).

pub mod acceptance;
pub mod command;
pub mod error;
pub mod extract;
pub mod fetch;
pub mod iam_copy;
pub mod iam_layout;
pub mod import;
pub mod install;
pub mod metadata;
pub mod progress;
pub mod report;
pub mod verify;

pub use command::{data_root, run, DownloadArgs, Summary};
pub use error::{Error, Result};
pub use install::{dataset_dir, install, Request};
pub use metadata::{FileSpec, Metadata};
pub use report::{Action, DigestStatus, ExtractReport, FileReport, Report};
