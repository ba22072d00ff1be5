//! # tr-serve: handwriting recognition behind a web page and an HTTP API
//!
//! What `htr serve` runs: an [axum] server around one recogniser of
//! `tr-infer`, with the page embedded in the binary.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = tr_infer::LineTextRecognizer::bundled()?;
//! let config = tr_serve::ServeConfig::default(); // 127.0.0.1:8080
//! tr_serve::serve(&config, model)?; // until Ctrl-C / SIGTERM
//! # Ok(())
//! # }
//! ```
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the page: choose, drop or paste an image, see the text, the line outlined, low-confidence characters shaded; examples; flag a wrong reading |
//! | `POST /v1/predict` | JSON `{"image": "data:image/png;base64,…"}` (or bare base64), `multipart/form-data` field `image`, or an `image/*` body → `{"pred", "confidence", "lines", "timings_ms", …}` |
//! | `POST /v1/flag` | image + `prediction` + `correction` → `<id>.png`, `<id>.json`, `<id>.xml` in the flag directory (a `page-lines` dataset) |
//! | `GET /healthz` | model, queue depth, uptime |
//! | `GET /metrics` | Prometheus text: requests, errors, latency, queue depth, batch sizes |
//! | `GET /openapi.json` | the API's schema (OpenAPI 3.1) |
//!
//! How a prediction runs: admission (a bounded number of requests at once,
//! else 503 with `Retry-After`), the body read under its size limit (413),
//! the image decoded on a blocking thread after its header passed the
//! pixel limit (413), then the model worker — one thread owning the
//! recogniser — reads it in a batch with the requests that arrived within
//! a few milliseconds. Every step runs under the request timeout (504).
//! Anything malformed is a 400 whose JSON `{"error": …}` names the field
//! and what was wrong. The whole protocol is in `docs/serve.md`.
//!
//! ## API
//!
//! | item | what |
//! |---|---|
//! | [`serve`] | bind, serve until Ctrl-C / SIGTERM, finish requests in flight |
//! | [`Server`] | a server on a background thread: `start`, `addr`, `shutdown` (tests, benchmarks) |
//! | [`router`], [`run`], [`AppState`] | the axum router and its state, to embed or serve yourself |
//! | [`ServeConfig`] | address, batch size and wait, queue, timeout, body and pixel limits, flag directory |
//! | [`Recognize`], [`ModelInfo`], [`Layout`], [`ReadAs`], [`Reading`] | what the server needs of a recogniser (implemented for both of tr-infer's; a line model behind `ParagraphTextRecognizer` reads pages too) |
//! | [`PredictResponse`], [`LineOut`], [`Timings`], [`FlagRecord`], [`FlagStore`] | the answers and the flag store |
//! | [`Metrics`] | the Prometheus metrics |
//! | [`Error`], [`ApiError`], [`Result`] | the server's errors and a refused request |
//!
//! Not here: model loading beyond what `tr-infer` does (the CLI picks the
//! artifact), TLS, authentication (it binds loopback by default; put a
//! reverse proxy in front to expose it).

mod batcher;
mod config;
mod error;
mod flag;
mod input;
mod metrics;
mod model;
mod page;
mod predict;
mod server;
mod state;

pub use config::ServeConfig;
pub use error::{ApiError, Error, Reason, Result};
pub use flag::{FlagRecord, FlagResponse, FlagStore, MAX_TEXT_CHARS};
pub use metrics::Metrics;
pub use model::{Layout, ModelInfo, ReadAs, Reading, Recognize};
pub use predict::{LineOut, PredictResponse, Timings};
pub use server::{router, run, serve, Server};
pub use state::AppState;
