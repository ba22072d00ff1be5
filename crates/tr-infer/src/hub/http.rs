//! The two requests of the hub's file API, on a blocking `ureq` agent:
//! `HEAD {endpoint}/{repo}/resolve/{revision}/{file}` for a file's commit,
//! ETag and size (following only relative redirects, which a renamed
//! repository answers with; an absolute one points at the storage backend and
//! already carries the headers), and `GET` of the same URL into a file
//! (following every redirect; the token goes to the endpoint's host only).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use ureq::config::RedirectAuthHeaders;
use ureq::http::{HeaderMap, Response, Uri};
use ureq::Agent;

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for each read (headers, then every piece of the body):
/// a stalled download fails instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Relative redirects followed by [`Client::head`] before giving up.
const MAX_RELATIVE_REDIRECTS: usize = 10;

/// Why a request failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// No answer: connection refused, DNS, timeout, or a 5xx. A cached copy
    /// may stand in.
    Unreachable(String),
    /// An answer that is not the file.
    Refused(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unreachable(m) | Failure::Refused(m) => f.write_str(m),
        }
    }
}

/// What `HEAD` says about a file.
pub(super) struct Head {
    pub status: u16,
    /// `X-Repo-Commit`.
    pub commit: Option<String>,
    /// `X-Linked-Etag`, else `ETag`, without `W/` and quotes.
    pub etag: Option<String>,
    /// The hub's `X-Error-Message`, else `X-Error-Code`.
    pub error: Option<String>,
}

/// A hub endpoint and the token to present to it.
pub(super) struct Client {
    agent: Agent,
    endpoint: String,
    token: Option<String>,
}

impl Client {
    pub(super) fn new(endpoint: String, token: Option<String>) -> Self {
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .redirect_auth_headers(RedirectAuthHeaders::SameHost)
            .user_agent(concat!("tr-infer/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Self {
            agent,
            endpoint,
            token,
        }
    }

    /// `{endpoint}/{repo_id}/resolve/{revision}/{file}`, the revision as one
    /// path segment (`refs/pr/1` → `refs%2Fpr%2F1`).
    pub(super) fn file_url(&self, repo_id: &str, revision: &str, file: &str) -> String {
        let file: Vec<String> = file.split('/').map(encode_segment).collect();
        format!(
            "{}/{repo_id}/resolve/{}/{}",
            self.endpoint,
            encode_segment(revision),
            file.join("/")
        )
    }

    pub(super) fn head(&self, url: &str) -> Result<Head, Failure> {
        let mut url = url.to_string();
        for _ in 0..=MAX_RELATIVE_REDIRECTS {
            let mut request = self.agent.head(&url).config().max_redirects(0).build();
            if let Some(token) = &self.token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            let response = request.call().map_err(|e| transport(&url, &e))?;
            let status = response.status().as_u16();
            let location = header(response.headers(), "location");
            match location.and_then(|l| relative_target(&url, &l)) {
                Some(next) if (300..400).contains(&status) => url = next,
                _ => return read_head(&url, &response),
            }
        }
        Err(Failure::Refused(format!(
            "HEAD {url}: more than {MAX_RELATIVE_REDIRECTS} redirects"
        )))
    }

    /// Streams the body of `GET url` into a new file `dest`; returns its size.
    pub(super) fn download(&self, url: &str, dest: &Path) -> Result<u64, Failure> {
        let mut request = self.agent.get(url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request.call().map_err(|e| transport(url, &e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(status_failure("GET", url, status, response.headers()));
        }
        let io = |e: std::io::Error| Failure::Refused(format!("{}: {e}", dest.display()));
        let mut file = std::fs::File::create(dest).map_err(io)?;
        let mut body = response.into_body().into_reader();
        let bytes = std::io::copy(&mut body, &mut file)
            .map_err(|e| Failure::Unreachable(format!("GET {url}: the download broke off: {e}")))?;
        file.flush().map_err(io)?;
        Ok(bytes)
    }
}

fn read_head<B>(url: &str, response: &Response<B>) -> Result<Head, Failure> {
    let headers = response.headers();
    let status = response.status().as_u16();
    if status >= 500 {
        return Err(status_failure("HEAD", url, status, headers));
    }
    let etag = header(headers, "x-linked-etag").or_else(|| header(headers, "etag"));
    Ok(Head {
        status,
        commit: header(headers, "x-repo-commit"),
        etag: etag.map(|e| {
            let e = e.strip_prefix("W/").unwrap_or(&e);
            e.trim_matches('"').to_string()
        }),
        error: error_message(headers),
    })
}

/// A non-success status as a failure; 5xx counts as unreachable.
pub(super) fn status_failure(method: &str, url: &str, status: u16, headers: &HeaderMap) -> Failure {
    let mut message = format!("{method} {url}: HTTP {status}");
    if let Some(detail) = error_message(headers) {
        message.push_str(&format!(" ({detail})"));
    }
    if status >= 500 {
        Failure::Unreachable(message)
    } else {
        Failure::Refused(message)
    }
}

fn error_message(headers: &HeaderMap) -> Option<String> {
    header(headers, "x-error-message").or_else(|| header(headers, "x-error-code"))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_string)
}

fn transport(url: &str, e: &ureq::Error) -> Failure {
    let message = format!("{url}: {e}");
    match e {
        ureq::Error::Io(_)
        | ureq::Error::Timeout(_)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed => Failure::Unreachable(message),
        _ => Failure::Refused(message),
    }
}

/// The URL a relative `Location` leads to from `url`; `None` for an
/// absolute (or scheme-relative `//host/…`) one.
fn relative_target(url: &str, location: &str) -> Option<String> {
    // RFC 3986: a scheme is a letter, then letters, digits, `+`, `-`, `.`,
    // ending at the first `:` before any `/`, `?` or `#`.
    let head = location.split(['/', '?', '#']).next().unwrap_or("");
    let has_scheme = head.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if has_scheme || location.starts_with("//") {
        return None;
    }
    let base: Uri = url.parse().ok()?;
    let origin = format!("{}://{}", base.scheme_str()?, base.authority()?);
    if location.starts_with('/') {
        return Some(format!("{origin}{location}"));
    }
    let dir = base.path().rsplit_once('/').map_or("", |(dir, _)| dir);
    Some(format!("{origin}{dir}/{location}"))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_encode_the_revision_as_one_segment() {
        let c = Client::new("https://hub.test".into(), None);
        assert_eq!(
            c.file_url("tr/line", "refs/pr/1", "sub dir/lm#1.json"),
            "https://hub.test/tr/line/resolve/refs%2Fpr%2F1/sub%20dir/lm%231.json"
        );
        assert_eq!(
            c.file_url("tr/line", "main", "config.json"),
            "https://hub.test/tr/line/resolve/main/config.json"
        );
    }

    #[test]
    fn only_relative_redirects_are_followed_by_head() {
        let url = "http://127.0.0.1:9/tr/old/resolve/main/config.json";
        assert_eq!(
            relative_target(url, "/tr/new/resolve/main/config.json").as_deref(),
            Some("http://127.0.0.1:9/tr/new/resolve/main/config.json")
        );
        assert_eq!(
            relative_target(url, "other.json").as_deref(),
            Some("http://127.0.0.1:9/tr/old/resolve/main/other.json")
        );
        assert_eq!(relative_target(url, "https://cdn.test/blob"), None);
        assert_eq!(relative_target(url, "//cdn.test/blob"), None);
    }
}
