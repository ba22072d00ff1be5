//! The one error type of `tr-data`: every variant names the file, field or
//! character at fault and what was expected.

use std::path::PathBuf;

/// Errors from reading, decoding and encoding data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A character that the vocabulary cannot encode.
    #[error("unknown character {ch:?} at position {position} of {text:?}: it is not in the {vocab_len}-symbol vocabulary")]
    UnknownCharacter {
        ch: char,
        position: usize,
        text: String,
        vocab_len: usize,
    },
    /// A file exists but its content is not what its format requires.
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// An I/O failure on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Data that must be fetched first; `hint` is the command that fetches it.
    #[error("missing data: {} not found; fetch it with `{hint}`", path.display())]
    MissingData { path: PathBuf, hint: String },
    /// A value that does not fit what the caller or a config asked for.
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// A failure while loading one sample of a dataset (names its index).
    #[error("sample {index}: {source}")]
    Sample {
        index: usize,
        #[source]
        source: Box<Error>,
    },
    /// A config chosen by name, or one of its keys, that the registry rejects.
    #[error(transparent)]
    Config(#[from] crate::registry::ConfigError),
    /// A page-layout file (ALTO, PAGE, IAM form XML) or its page image that
    /// cannot be used; `kind` says what is wrong and where.
    #[error("{}: {kind}", path.display())]
    Layout {
        path: PathBuf,
        #[source]
        kind: Box<crate::layout::LayoutError>,
    },
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Format`].
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
