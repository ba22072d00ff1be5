//! The error type of `tr-train`.

use std::path::PathBuf;

/// Errors from configuring, running, checkpointing and reporting training.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration key with a bad value, or an unknown key.
    #[error("config: {key}: {message}")]
    Config { key: String, message: String },
    /// A checkpoint that cannot be written, read or applied.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A run directory that cannot be found or read, or lacks what is asked of it.
    #[error("run: {0}")]
    Run(String),
    /// Staging a run into an inference artifact failed.
    #[error("stage: {0}")]
    Stage(String),
    /// A NaN or infinity where training cannot continue (`terminate_on_nan`).
    #[error("non-finite value at step {step}: {what}")]
    NonFinite { step: u64, what: String },
    /// An I/O failure on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A dataset, vocabulary or file-format error.
    #[error(transparent)]
    Data(Box<tr_data::Error>),
    /// A model config or build error.
    #[error(transparent)]
    Model(Box<tr_models::Error>),
    /// A loss, metric or step-function error.
    #[error(transparent)]
    Lit(Box<tr_lit::Error>),
    /// Writing an inference artifact.
    #[error(transparent)]
    Infer(Box<tr_infer::Error>),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

// The errors of the crates below are boxed: each is over 100 bytes, and an
// unboxed `Error` would make every `Result` of this crate as large
// (clippy's `result_large_err`).
macro_rules! boxed_from {
    ($($variant:ident($source:ty)),* $(,)?) => {$(
        impl From<$source> for Error {
            fn from(e: $source) -> Self {
                Error::$variant(Box::new(e))
            }
        }
    )*};
}

boxed_from!(
    Data(tr_data::Error),
    Model(tr_models::Error),
    Lit(tr_lit::Error),
    Infer(tr_infer::Error),
);

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Config`].
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            key: key.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Checkpoint`].
    pub fn checkpoint(message: impl Into<String>) -> Self {
        Error::Checkpoint(message.into())
    }

    /// Shorthand for [`Error::Run`].
    pub fn run(message: impl Into<String>) -> Self {
        Error::Run(message.into())
    }

    /// Shorthand for [`Error::Stage`].
    pub fn stage(message: impl Into<String>) -> Self {
        Error::Stage(message.into())
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
