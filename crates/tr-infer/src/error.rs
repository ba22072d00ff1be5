//! The one error type of `tr-infer`. Every variant names what is at fault —
//! the artifact file, the image, the hub repository or the setting — and
//! what was expected.

use std::path::PathBuf;

/// Errors from loading artifacts, reading images and recognising text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An artifact file that is missing, malformed or inconsistent with its
    /// `config.json` (wrong vocabulary, missing/extra tensor, wrong shape,
    /// truncated or foreign file).
    #[error("{}: {message}", path.display())]
    Artifact { path: PathBuf, message: String },
    /// An image that cannot be read: empty, not an image, truncated, zero-sized.
    #[error("image {name}: {message}")]
    Image { name: String, message: String },
    /// An image whose header declares more pixels than the configured limit;
    /// refused before any pixel is decoded.
    #[error("image {name}: {width}x{height} ({pixels} pixels) is above the limit of {limit} pixels; raise Preprocessing::max_pixels to read it")]
    TooLarge {
        name: String,
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    /// A failure while fetching an artifact from the Hugging Face hub.
    #[error("hub repository {repo}: {message}")]
    Hub { repo: String, message: String },
    /// A setting or argument the recogniser cannot work with.
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// An I/O failure on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Data(Box<tr_data::Error>),
    #[error(transparent)]
    Model(Box<tr_models::Error>),
    #[error(transparent)]
    Candle(Box<candle_core::Error>),
}

// The wrapped errors are boxed to keep `Result`s small.
impl From<tr_data::Error> for Error {
    fn from(e: tr_data::Error) -> Self {
        Error::Data(Box::new(e))
    }
}

impl From<tr_models::Error> for Error {
    fn from(e: tr_models::Error) -> Self {
        Error::Model(Box::new(e))
    }
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Candle(Box::new(e))
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Artifact`].
    pub fn artifact(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Artifact {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Image`].
    pub fn image(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Image {
            name: name.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
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
}
