//! The web page, embedded in the binary: `GET /` (HTML), `/app.js`,
//! `/style.css`, `/examples.json` and `/examples/<name>.png` (three real
//! lines of the Hooker collection, CC BY-SA 4.0, see `examples/README.md`).

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::{ApiError, Reason};

const INDEX: &str = include_str!("../static/index.html");
const APP_JS: &str = include_str!("../static/app.js");
const STYLE: &str = include_str!("../static/style.css");
pub(crate) const OPENAPI: &str = include_str!("../static/openapi.json");

/// `(file name, transcription, PNG bytes)` of the example lines.
const EXAMPLES: [(&str, &str, &[u8]); 3] = [
    (
        "hooker-3.png",
        include_str!("../../../examples/hooker-3.txt"),
        include_bytes!("../../../examples/hooker-3.png"),
    ),
    (
        "hooker-1.png",
        include_str!("../../../examples/hooker-1.txt"),
        include_bytes!("../../../examples/hooker-1.png"),
    ),
    (
        "hooker-2.png",
        include_str!("../../../examples/hooker-2.txt"),
        include_bytes!("../../../examples/hooker-2.png"),
    ),
];

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}

pub(crate) async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

pub(crate) async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

pub(crate) async fn openapi() -> Response {
    asset("application/json", OPENAPI)
}

/// `[{"name", "url", "text"}]` of the example lines.
pub(crate) async fn examples() -> Json<serde_json::Value> {
    Json(serde_json::Value::Array(
        EXAMPLES
            .iter()
            .map(|(name, text, _)| {
                serde_json::json!({
                    "name": name,
                    "url": format!("/examples/{name}"),
                    "text": text.trim(),
                })
            })
            .collect(),
    ))
}

pub(crate) async fn example(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, _, bytes) = EXAMPLES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| {
            ApiError::new(
                Reason::NotFound,
                format!(
                    "no example {name:?}; there are hooker-1.png, hooker-2.png and hooker-3.png"
                ),
            )
        })?;
    Ok(([(CONTENT_TYPE, "image/png")], *bytes).into_response())
}
