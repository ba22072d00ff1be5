//! The router ([`router`]) and the running server ([`Server`]): binding,
//! the per-request metrics and tracing layers, and graceful shutdown on
//! Ctrl-C, SIGTERM or [`Server::shutdown`], finishing requests in flight.

use std::future::Future;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::oneshot;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::ServeConfig;
use crate::error::{ApiError, Error, Reason, Result};
use crate::model::Recognize;
use crate::state::AppState;
use crate::{flag, page, predict};

/// Every route of the server, with the metrics and tracing layers.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config().max_body_bytes;
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::app_js))
        .route("/style.css", get(page::style))
        .route("/examples.json", get(page::examples))
        .route("/examples/{name}", get(page::example))
        .route("/openapi.json", get(page::openapi))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/predict", post(predict::predict))
        .route("/v1/flag", post(flag::flag))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Counts every answer by route and status, and its latency.
async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".to_string());
    let response = next.run(req).await;
    let status = response.status();
    let reason = response.extensions().get::<Reason>().map(|r| r.label());
    let reason = reason
        .or_else(|| (status.is_client_error() || status.is_server_error()).then_some("other"));
    state
        .metrics()
        .record_request(&route, status.as_u16(), started.elapsed(), reason);
    response
}

async fn healthz(State(state): State<AppState>) -> Json<serde_json::Value> {
    let s = &state.inner;
    Json(serde_json::json!({
        "status": "ok",
        "model": s.info,
        "queue_depth": s.metrics.queue_depth(),
        "in_flight": s.metrics.in_flight(),
        "max_batch": s.config.max_batch,
        "admitted": s.config.admitted(),
        "uptime_s": s.started.elapsed().as_secs_f64(),
        "flagging": s.flags.is_some(),
    }))
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}

async fn not_found(req: Request) -> ApiError {
    ApiError::new(
        Reason::NotFound,
        format!(
            "no route {} {}; see /openapi.json",
            req.method(),
            req.uri().path()
        ),
    )
}

/// A server running on its own thread (with its own tokio runtime).
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl Server {
    /// Binds `config.addr` (port 0: any free port) and starts serving
    /// with `model` on a background thread.
    pub fn start(config: &ServeConfig, model: impl Recognize) -> Result<Server> {
        config.validate()?;
        let listener = std::net::TcpListener::bind(config.addr).map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| Error::Bind { addr, source })?;
        let (state, worker) = AppState::new(config, model)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let signals = config.handle_signals;
        let thread = std::thread::Builder::new()
            .name("tr-serve".into())
            .spawn(move || -> Result<()> {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .thread_name("tr-serve-io")
                    .build()
                    .map_err(|source| Error::Io {
                        what: "starting the tokio runtime".into(),
                        source,
                    })?;
                let served = runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .map_err(|source| Error::Bind { addr, source })?;
                    run(listener, state, shutdown_signal(stopped, signals)).await
                });
                // Dropping the runtime drops every task still holding the state;
                // with the last sender of its queue gone, the worker ends.
                drop(runtime);
                let _ = worker.join();
                served
            })
            .map_err(|source| Error::Io {
                what: "starting the server thread".into(),
                source,
            })?;
        Ok(Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, finishes the requests in flight, then returns.
    pub fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.join()
    }

    /// Waits until the server stops (Ctrl-C or SIGTERM when
    /// `handle_signals` is set).
    pub fn wait(mut self) -> Result<()> {
        self.join()
    }

    fn join(&mut self) -> Result<()> {
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| Error::Stopped("the server thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.join();
    }
}

/// Serves `state` on `listener` until `shutdown` resolves, then finishes
/// the requests in flight.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = listener.local_addr().ok();
    tracing::info!(addr = ?addr, "serving");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| Error::Io {
            what: "serving".into(),
            source,
        })?;
    tracing::info!("server stopped; requests in flight were answered");
    Ok(())
}

/// Resolves on `stop`, or on Ctrl-C / SIGTERM when `signals` is set.
async fn shutdown_signal(stop: oneshot::Receiver<()>, signals: bool) {
    let stop = async {
        // A dropped sender (the `Server` handle is gone) also stops the server.
        let _ = stop.await;
    };
    if !signals {
        return stop.await;
    }
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = stop => {},
        () = ctrl_c => tracing::info!("Ctrl-C: finishing requests in flight"),
        () = term => tracing::info!("SIGTERM: finishing requests in flight"),
    }
}

/// Starts the server on `config.addr` and serves until Ctrl-C or SIGTERM
/// (what `htr serve` runs).
pub fn serve(config: &ServeConfig, model: impl Recognize) -> Result<()> {
    let config = ServeConfig {
        handle_signals: true,
        ..config.clone()
    };
    let server = Server::start(&config, model)?;
    tracing::info!("listening on {} (page at {}/)", server.addr(), server.url());
    server.wait()
}
