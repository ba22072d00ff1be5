//! Shared fixtures for the download tests: a tiny HTTP/1.1 server on
//! 127.0.0.1 with per-path behaviours, zip and metadata builders.
//! Nothing here touches the network beyond the loopback interface.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use xtask::download::metadata::Metadata;

/// How the server answers one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// 200 with the whole body, or 206 for `Range: bytes=N-` (416 past the end).
    Good,
    /// Like `Good`, but the first request announces the full length, sends
    /// this many bytes and closes the connection.
    TruncateFirst(usize),
    /// Ignores `Range` and always sends 200 with the whole body.
    IgnoreRange,
    /// Answers with this status and an empty body.
    Status(u16),
}

/// One request the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, (Vec<u8>, Behaviour)>,
    hits: HashMap<String, usize>,
    seen: Vec<Seen>,
}

/// A loopback HTTP server living as long as the test process.
pub struct TestServer {
    base: String,
    state: Arc<Mutex<State>>,
}

impl TestServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || handle(stream, &shared));
            }
        });
        Self { base, state }
    }

    /// Serves `body` at `path` (e.g. `/a.bin`) with `behaviour`.
    pub fn route(&self, path: &str, body: &[u8], behaviour: Behaviour) {
        let mut st = self.state.lock().unwrap();
        st.routes
            .insert(path.to_string(), (body.to_vec(), behaviour));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

fn handle(mut stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }
    let (route, hit) = {
        let mut st = state.lock().unwrap();
        st.seen.push(Seen {
            path: path.clone(),
            range: range.clone(),
        });
        let hit = st.hits.entry(path.clone()).or_insert(0);
        *hit += 1;
        let hit = *hit;
        (st.routes.get(&path).cloned(), hit)
    };
    let Some((body, behaviour)) = route else {
        return respond(&mut stream, "404 Not Found", &[], b"", None);
    };
    let from = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match (behaviour, from) {
        (Behaviour::Status(code), _) => {
            let reason = match code {
                404 => "Not Found",
                500 => "Internal Server Error",
                _ => "Error",
            };
            respond(&mut stream, &format!("{code} {reason}"), &[], b"", None);
        }
        (Behaviour::TruncateFirst(n), _) if hit == 1 => {
            respond(&mut stream, "200 OK", &[], &body, Some(n));
        }
        (Behaviour::Good | Behaviour::TruncateFirst(_), Some(from)) if from >= body.len() => {
            let cr = format!("Content-Range: bytes */{}", body.len());
            respond(&mut stream, "416 Range Not Satisfiable", &[cr], b"", None);
        }
        (Behaviour::Good | Behaviour::TruncateFirst(_), Some(from)) => {
            let cr = format!(
                "Content-Range: bytes {from}-{}/{}",
                body.len() - 1,
                body.len()
            );
            respond(
                &mut stream,
                "206 Partial Content",
                &[cr],
                &body[from..],
                None,
            );
        }
        _ => respond(&mut stream, "200 OK", &[], &body, None),
    }
}

/// Writes a response announcing `body.len()` bytes; `cut` sends only that
/// many before closing.
fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[String],
    body: &[u8],
    cut: Option<usize>,
) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body[..cut.unwrap_or(body.len()).min(body.len())]);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// Deterministic pseudo-random bytes.
pub fn bytes(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// A deflate zip with `entries` (name, content) in order.
pub fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Parses metadata text for dataset `name`.
pub fn metadata(name: &str, text: &str) -> Metadata {
    Metadata::parse(text, Path::new("test-metadata.toml"), name).unwrap()
}

/// Every file under `dir` (relative path, content), sorted: a snapshot to
/// prove a source tree was not modified.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let is_link = std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_symlink();
            if p.is_dir() && !is_link {
                stack.push(p);
            } else {
                let content = std::fs::read(&p).unwrap_or_default();
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), content, is_link));
            }
        }
    }
    out.sort();
    out
}

/// Names of the entries of `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
