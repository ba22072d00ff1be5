//! The one error type of `tr-models`: configuration and data-spec problems
//! name the model, the field and the values involved; tensor failures are
//! carried as [`candle_core::Error`].
//!
//! Model forward passes return `candle_core::Result` (they are tensor code);
//! constructors and the registry return this crate's [`Result`]. The two
//! convert both ways with `?`: an [`Error`] becomes a `candle_core::Error`
//! (its message intact), a `candle_core::Error` becomes [`Error::Candle`].

/// Errors from building, configuring and looking up models.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config value or data spec the model cannot be built with.
    #[error("{model}: invalid {field}: {message}")]
    Invalid {
        model: String,
        field: String,
        message: String,
    },
    /// An unknown model name, or a config key the model does not have or a
    /// value of the wrong type for it (the registry mechanism's errors).
    #[error(transparent)]
    Config(#[from] tr_data::registry::ConfigError),
    /// Named tensors (a checkpoint, an artifact's weights) that do not fit
    /// the model built to hold them: a missing, extra, misshapen or
    /// non-float tensor.
    #[error("{}: {message}", file.display())]
    Weights {
        file: std::path::PathBuf,
        message: String,
    },
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(model: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            model: model.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<Error> for candle_core::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Candle(inner) => inner,
            other => candle_core::Error::wrap(other),
        }
    }
}

/// Checks a dropout probability: `0 <= p < 1`.
pub(crate) fn check_probability(model: &str, field: &str, p: f64) -> Result<()> {
    if (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::invalid(
            model,
            field,
            format!("{p} is not a dropout probability in [0, 1)"),
        ))
    }
}

/// Checks a size that must be at least 1.
pub(crate) fn check_positive(model: &str, field: &str, value: usize) -> Result<()> {
    if value == 0 {
        Err(Error::invalid(model, field, "must be at least 1, got 0"))
    } else {
        Ok(())
    }
}
