//! The one error type of `tr-lit`: every variant names the argument or field
//! at fault, what was expected and what was found.

/// Errors from losses, metrics and step functions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument whose shape, length or value does not fit.
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    Data(#[from] tr_data::Error),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }
}

/// Returns `Err(Error::Invalid)` built from a format string.
macro_rules! invalid {
    ($what:expr, $($arg:tt)*) => {
        return Err($crate::error::Error::invalid($what, format!($($arg)*)))
    };
}
pub(crate) use invalid;
