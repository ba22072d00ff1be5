//! Streaming HTTP(S) download into a `.part` file, with resume.
//!
//! An existing `.part` file is continued with `Range: bytes=<len>-`:
//!
//! * `206 Partial Content` starting at `<len>`: the body is appended;
//! * `200 OK` (the server ignores `Range`): the `.part` is truncated and the
//!   whole file is fetched again;
//! * `416 Range Not Satisfiable` with `Content-Range: bytes */<len>`: the
//!   `.part` is already complete; any other total restarts from scratch.
//!
//! The SHA-256 is computed while streaming (the kept prefix is hashed first),
//! so the file is read only once. A connection that ends before the announced
//! length is [`Error::Truncated`] and leaves the `.part` for the next run.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use ureq::http::header::{CONTENT_LENGTH, CONTENT_RANGE, RANGE};
use ureq::http::{StatusCode, Uri};
use ureq::{Agent, Body};

use super::error::{Error, Result};
use super::progress::Progress;
use super::verify::{hash_file_into, CHUNK};

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the response headers and for each read of the body.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// What a completed transfer produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// Size of the `.part` file (bytes).
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the `.part` file.
    pub sha256: String,
    /// Bytes kept from an earlier partial download (0 when fetched whole).
    pub resumed_from: u64,
}

/// Downloads `url` into `part`, continuing an existing `part`. `expected_size`
/// (bytes, from the metadata) is checked against the size the server announces.
pub fn fetch(url: &str, part: &Path, expected_size: Option<u64>, label: &str) -> Result<Fetched> {
    let agent = agent_for(url)?;
    let existing = match std::fs::metadata(part) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(Error::io(part, e)),
    };
    if existing == 0 {
        return fetch_whole(url, part, expected_size, label, send(&agent, url, None)?);
    }
    tracing::info!("{label}: resuming {} from byte {existing}", part.display());
    let resp = send(&agent, url, Some(existing))?;
    match resp.status() {
        StatusCode::PARTIAL_CONTENT => match parse_content_range(&resp) {
            Some((start, total)) if start == existing => {
                let total = total.or_else(|| content_length(&resp).map(|n| n + existing));
                check_size(url, expected_size, total)?;
                let mut hasher = Sha256::new();
                hash_file_into(part, &mut hasher)?;
                let file = OpenOptions::new()
                    .append(true)
                    .open(part)
                    .map_err(|e| Error::io(part, e))?;
                let bytes = stream(resp, file, &mut hasher, existing, total, url, part, label)?;
                Ok(Fetched {
                    bytes,
                    sha256: hex::encode(hasher.finalize()),
                    resumed_from: existing,
                })
            }
            other => {
                tracing::warn!("{label}: server answered the range request with {other:?}, restarting from scratch");
                drop(resp);
                fetch_whole(url, part, expected_size, label, send(&agent, url, None)?)
            }
        },
        StatusCode::OK => {
            tracing::warn!(
                "{label}: server ignored the range request (200 OK), restarting from scratch"
            );
            fetch_whole(url, part, expected_size, label, resp)
        }
        StatusCode::RANGE_NOT_SATISFIABLE => {
            let total = parse_unsatisfied_range(&resp);
            drop(resp);
            if total == Some(existing) {
                tracing::info!(
                    "{label}: {} is already complete ({existing} bytes)",
                    part.display()
                );
                let mut hasher = Sha256::new();
                hash_file_into(part, &mut hasher)?;
                return Ok(Fetched {
                    bytes: existing,
                    sha256: hex::encode(hasher.finalize()),
                    resumed_from: existing,
                });
            }
            tracing::warn!(
                "{label}: {} does not fit the remote file, restarting from scratch",
                part.display()
            );
            fetch_whole(url, part, expected_size, label, send(&agent, url, None)?)
        }
        _ => Err(status_error(url, &resp)),
    }
}

/// Streams a response that should be the whole file into a truncated `part`.
fn fetch_whole(
    url: &str,
    part: &Path,
    expected_size: Option<u64>,
    label: &str,
    resp: Response,
) -> Result<Fetched> {
    if resp.status() != StatusCode::OK {
        return Err(status_error(url, &resp));
    }
    let total = content_length(&resp);
    check_size(url, expected_size, total)?;
    let file = File::create(part).map_err(|e| Error::io(part, e))?;
    let mut hasher = Sha256::new();
    let bytes = stream(resp, file, &mut hasher, 0, total, url, part, label)?;
    Ok(Fetched {
        bytes,
        sha256: hex::encode(hasher.finalize()),
        resumed_from: 0,
    })
}

/// Copies the body to `file` (positioned at `start`), hashing it; returns the final size.
#[allow(clippy::too_many_arguments)]
fn stream(
    resp: Response,
    mut file: File,
    hasher: &mut Sha256,
    start: u64,
    total: Option<u64>,
    url: &str,
    part: &Path,
    label: &str,
) -> Result<u64> {
    let mut body = resp.into_body().into_reader();
    let mut progress = Progress::start(label, total, start);
    let mut buf = vec![0u8; CHUNK];
    let mut position = start;
    let truncated = |position: u64, reason: String| Error::Truncated {
        url: url.to_string(),
        received: position,
        expected: total,
        reason,
        part: part.to_path_buf(),
    };
    let outcome = loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(truncated(position, error_chain(&e))),
        };
        if let Err(e) = file.write_all(&buf[..n]) {
            break Err(Error::io(part, e));
        }
        hasher.update(&buf[..n]);
        position += n as u64;
        progress.advance(n as u64);
    };
    progress.finish();
    file.flush().map_err(|e| Error::io(part, e))?;
    outcome?;
    match total {
        Some(t) if position < t => Err(truncated(
            position,
            "the server closed the connection early".into(),
        )),
        Some(t) if position > t => Err(Error::SizeMismatch {
            what: format!("GET {url}: body longer than announced"),
            expected: t,
            actual: position,
        }),
        _ => Ok(position),
    }
}

/// An agent for `url` (HTTP statuses are answers, not errors; no
/// decompression, so the bytes hashed are the file's); loopback addresses
/// bypass any configured proxy.
fn agent_for(url: &str) -> Result<Agent> {
    let parsed: Uri = url.parse().map_err(|e| Error::Http {
        url: url.to_string(),
        reason: format!("invalid URL: {e}"),
    })?;
    let loopback = matches!(
        parsed.host(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    let mut config = Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(concat!("tr-xtask/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_per_read(Some(READ_TIMEOUT));
    if loopback {
        config = config.proxy(None);
    }
    Ok(config.build().new_agent())
}

/// Sends `GET url`, from byte `from` when given.
fn send(agent: &Agent, url: &str, from: Option<u64>) -> Result<Response> {
    let mut req = agent.get(url);
    if let Some(from) = from {
        req = req.header(RANGE, format!("bytes={from}-"));
    }
    req.call().map_err(|e| Error::Http {
        url: url.to_string(),
        reason: error_chain(&e),
    })
}

type Response = ureq::http::Response<Body>;

/// The announced body length (`Content-Length`).
fn content_length(resp: &Response) -> Option<u64> {
    resp.headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn status_error(url: &str, resp: &Response) -> Error {
    Error::HttpStatus {
        url: url.to_string(),
        status: resp.status().to_string(),
    }
}

fn check_size(url: &str, expected: Option<u64>, announced: Option<u64>) -> Result<()> {
    match (expected, announced) {
        (Some(e), Some(a)) if e != a => Err(Error::SizeMismatch {
            what: format!(
                "GET {url}: the server announces a file whose size is not the metadata's"
            ),
            expected: e,
            actual: a,
        }),
        _ => Ok(()),
    }
}

/// `Content-Range: bytes <start>-<end>/<total|*>` as `(start, total)`.
fn parse_content_range(resp: &Response) -> Option<(u64, Option<u64>)> {
    let value = resp.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
}

/// `Content-Range: bytes */<total>` of a 416 answer.
fn parse_unsatisfied_range(resp: &Response) -> Option<u64> {
    let value = resp.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    value.strip_prefix("bytes */")?.trim().parse().ok()
}

/// An error and its sources on one line, repeated messages dropped.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let msg = err.to_string();
        if !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        cur = err.source();
    }
    parts.join(": ")
}
