//! [`Error`]: what can stop the server from starting or running; and
//! [`ApiError`]: a refused request, answered as JSON `{"error": "…"}`.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Errors of the server itself (a bad request is an [`ApiError`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting the server cannot work with.
    #[error("invalid serve setting {field}: {message}")]
    Config { field: String, message: String },
    /// The address cannot be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Any other I/O failure (runtime, worker thread, flag directory).
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The server stopped with an error or its thread panicked.
    #[error("server stopped: {0}")]
    Stopped(String),
    /// The flag directory is at its size limit.
    #[error(
        "the flag directory {dir} holds {used} bytes of flags; {more} more would pass its limit \
         of {limit} bytes (label or move the flags, or raise --max-flag-bytes)"
    )]
    FlagsFull {
        dir: std::path::PathBuf,
        used: u64,
        more: u64,
        limit: u64,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a request was refused (the `reason` label of `htr_errors_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    BadRequest,
    BodyTooLarge,
    ImageTooLarge,
    QueueFull,
    Timeout,
    NotFound,
    FlagsFull,
    Internal,
}

impl Reason {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Reason::BadRequest => "bad_request",
            Reason::BodyTooLarge => "body_too_large",
            Reason::ImageTooLarge => "image_too_large",
            Reason::QueueFull => "queue_full",
            Reason::Timeout => "timeout",
            Reason::NotFound => "not_found",
            Reason::FlagsFull => "flags_full",
            Reason::Internal => "internal",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Reason::BadRequest => StatusCode::BAD_REQUEST,
            Reason::BodyTooLarge | Reason::ImageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Reason::QueueFull => StatusCode::SERVICE_UNAVAILABLE,
            Reason::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Reason::NotFound => StatusCode::NOT_FOUND,
            Reason::FlagsFull => StatusCode::INSUFFICIENT_STORAGE,
            Reason::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A refused request: status, message and, for 503, when to retry.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub reason: Reason,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 naming what was wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Reason::BadRequest, message)
    }

    /// 503: every admission slot is taken.
    pub fn queue_full(admitted: usize, retry_after: Duration) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                Reason::QueueFull,
                format!(
                    "the server is busy ({admitted} requests admitted, none free); retry later"
                ),
            )
        }
    }

    /// 504 after `timeout`.
    pub fn timeout(timeout: Duration) -> Self {
        Self::new(
            Reason::Timeout,
            format!(
                "no answer within the request timeout of {} ms",
                timeout.as_millis()
            ),
        )
    }

    /// The HTTP status of this refusal.
    pub fn status(&self) -> StatusCode {
        self.reason.status()
    }

    /// An image error of tr-infer: too many pixels → 413, anything else → 400.
    pub fn from_image(e: tr_infer::Error) -> Self {
        match e {
            tr_infer::Error::TooLarge { .. } => Self::new(Reason::ImageTooLarge, e.to_string()),
            tr_infer::Error::Image { .. } => Self::bad_request(e.to_string()),
            other => Self::new(Reason::Internal, other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = axum::Json(serde_json::json!({ "error": self.message }));
        let mut response = (self.status(), body).into_response();
        if let Some(after) = self.retry_after {
            let secs = after.as_secs().max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response.extensions_mut().insert(self.reason);
        response
    }
}
