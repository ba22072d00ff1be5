//! `from_hub` against a local server on 127.0.0.1 that speaks the hub's
//! file API: `HEAD`/`GET {endpoint}/{owner}/{name}/resolve/{revision}/{file}`
//! with `ETag`, `X-Repo-Commit` and `Content-Length`, relative redirects for
//! renamed repositories, and 404 for missing files. Never the network.
#![cfg(feature = "hub")]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use tr_infer::{fetch_artifact, HubOptions, LineTextRecognizer, Preprocessing};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// One served file: its bytes, and optionally a shorter body than announced.
#[derive(Clone)]
struct Served {
    bytes: Vec<u8>,
    short_body: bool,
}

#[derive(Default)]
struct Repo {
    files: HashMap<String, Served>,
    /// Relative redirect target for every request (a renamed repository).
    moved_to: Option<String>,
}

struct Server {
    endpoint: String,
    repos: Arc<Mutex<HashMap<String, Repo>>>,
    gets: Arc<AtomicUsize>,
}

impl Server {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let repos: Arc<Mutex<HashMap<String, Repo>>> = Arc::default();
        let gets = Arc::new(AtomicUsize::new(0));
        let (r, g) = (repos.clone(), gets.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, g) = (r.clone(), g.clone());
                std::thread::spawn(move || serve(stream, &r, &g));
            }
        });
        Self {
            endpoint,
            repos,
            gets,
        }
    }

    fn add(&self, repo: &str, r: Repo) {
        self.repos.lock().unwrap().insert(repo.to_string(), r);
    }
}

fn serve(mut stream: TcpStream, repos: &Mutex<HashMap<String, Repo>>, gets: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("").to_string(),
    );
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
    }
    // /{owner}/{name}/resolve/{revision}/{file}
    let segs: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
    let reply =
        |stream: &mut TcpStream, status: &str, headers: &[(String, String)], body: &[u8]| {
            let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
            let _ = stream.flush();
        };
    if segs.len() != 5 || segs[2] != "resolve" {
        reply(
            &mut stream,
            "404 Not Found",
            &[("Content-Length".into(), "0".into())],
            b"",
        );
        return;
    }
    let repo_id = format!("{}/{}", segs[0], segs[1]);
    let (revision, file) = (segs[3], segs[4]);
    let repos = repos.lock().unwrap();
    let Some(repo) = repos.get(&repo_id) else {
        reply(
            &mut stream,
            "404 Not Found",
            &[("Content-Length".into(), "0".into())],
            b"",
        );
        return;
    };
    if let Some(target) = &repo.moved_to {
        let loc = format!("/{target}/resolve/{revision}/{file}");
        reply(
            &mut stream,
            "307 Temporary Redirect",
            &[
                ("Location".into(), loc),
                ("Content-Length".into(), "0".into()),
            ],
            b"",
        );
        return;
    }
    let Some(served) = repo.files.get(file).cloned() else {
        reply(
            &mut stream,
            "404 Not Found",
            &[
                ("X-Repo-Commit".into(), COMMIT.into()),
                ("X-Error-Code".into(), "EntryNotFound".into()),
                ("Content-Length".into(), "0".into()),
            ],
            b"",
        );
        return;
    };
    drop(repos);
    let etag = hex::encode(Sha256::digest(&served.bytes));
    let headers = |len: usize| {
        vec![
            ("ETag".to_string(), format!("\"{etag}\"")),
            ("X-Repo-Commit".to_string(), COMMIT.to_string()),
            ("Content-Length".to_string(), len.to_string()),
        ]
    };
    if method == "HEAD" {
        reply(&mut stream, "200 OK", &headers(served.bytes.len()), b"");
    } else {
        gets.fetch_add(1, Ordering::SeqCst);
        let body = if served.short_body {
            &served.bytes[..served.bytes.len() - 100]
        } else {
            &served.bytes[..]
        };
        reply(&mut stream, "200 OK", &headers(body.len()), body);
    }
}

/// The files of a tiny artifact, by name.
fn artifact_files() -> (tempfile::TempDir, HashMap<String, Served>) {
    let dir = tempfile::tempdir().unwrap();
    common::tiny_artifact(dir.path(), "line-cnn");
    let files = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                Served {
                    bytes: std::fs::read(&p).unwrap(),
                    short_body: false,
                },
            )
        })
        .collect();
    (dir, files)
}

#[test]
fn hub_downloads_cache_and_failures() {
    let server = Server::start();
    let (local, files) = artifact_files();
    server.add(
        "tr/good",
        Repo {
            files: files.clone(),
            moved_to: None,
        },
    );
    server.add(
        "tr/renamed",
        Repo {
            moved_to: Some("tr/good".into()),
            ..Repo::default()
        },
    );
    let mut no_weights = files.clone();
    no_weights.remove("model.safetensors");
    server.add(
        "tr/no-weights",
        Repo {
            files: no_weights,
            moved_to: None,
        },
    );
    let mut short = files.clone();
    short.get_mut("model.safetensors").unwrap().short_body = true;
    server.add(
        "tr/short",
        Repo {
            files: short,
            moved_to: None,
        },
    );

    let cache = tempfile::tempdir().unwrap();
    let opts = HubOptions {
        endpoint: Some(server.endpoint.clone()),
        cache_dir: Some(cache.path().to_path_buf()),
        revision: None,
    };
    let img = common::dynamic(common::scan(120, 28));
    let want = LineTextRecognizer::from_dir(local.path())
        .unwrap()
        .predict(&img)
        .unwrap();

    // Download, then the same from the cache (no second GET of any file).
    let r = LineTextRecognizer::from_hub_with("tr/good", &opts).unwrap();
    assert_eq!(r.predict(&img).unwrap(), want);
    let gets = server.gets.load(Ordering::SeqCst);
    assert_eq!(gets, 3, "config.json, model.safetensors, README.md");
    let again = LineTextRecognizer::from_hub_with("tr/good", &opts).unwrap();
    assert_eq!(again.predict(&img).unwrap(), want);
    assert_eq!(server.gets.load(Ordering::SeqCst), gets);

    // A renamed repository redirects.
    let moved = LineTextRecognizer::from_hub_with("tr/renamed", &opts).unwrap();
    assert_eq!(moved.predict(&img).unwrap().text, want.text);

    // A missing file.
    let e = LineTextRecognizer::from_hub_with("tr/no-weights", &opts)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("tr/no-weights") && e.contains("model.safetensors"),
        "{e}"
    );

    // A download shorter than the file: reported and dropped from the cache.
    let e = LineTextRecognizer::from_hub_with("tr/short", &opts)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("tr/short") && e.contains("config.json records"),
        "{e}"
    );

    // An unknown repository and a malformed id.
    let e = LineTextRecognizer::from_hub_with("tr/nothing", &opts)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("tr/nothing") && e.contains("config.json"), "{e}");
    let e = LineTextRecognizer::from_hub_with("no-owner", &opts)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("owner/name"), "{e}");

    // The endpoint and cache from the environment (this is the only test in
    // this binary that touches them).
    std::env::set_var("HF_ENDPOINT", &server.endpoint);
    let env_cache = tempfile::tempdir().unwrap();
    std::env::set_var("HF_HUB_CACHE", env_cache.path());
    let r = LineTextRecognizer::from_hub("tr/good")
        .unwrap()
        .with_preprocessing(Preprocessing::default());
    assert_eq!(r.predict(&img).unwrap(), want);
    assert!(std::fs::read_dir(env_cache.path())
        .unwrap()
        .next()
        .is_some());
}

#[test]
fn hub_cache_layout_revisions_and_offline_use() {
    let server = Server::start();
    let (_local, files) = artifact_files();
    server.add(
        "tr/good",
        Repo {
            files: files.clone(),
            moved_to: None,
        },
    );
    let mut evil = files.clone();
    let mut config: serde_json::Value =
        serde_json::from_slice(&files["config.json"].bytes).unwrap();
    config["weights"]["file"] = "../../escape.safetensors".into();
    evil.get_mut("config.json").unwrap().bytes = serde_json::to_vec(&config).unwrap();
    server.add(
        "tr/evil",
        Repo {
            files: evil,
            moved_to: None,
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let opts = |revision: Option<&str>| HubOptions {
        endpoint: Some(server.endpoint.clone()),
        cache_dir: Some(cache.path().to_path_buf()),
        revision: revision.map(str::to_string),
    };

    // The layout huggingface_hub uses: snapshot entries pointing at blobs, refs.
    let dir = fetch_artifact("tr/good", &opts(None)).unwrap();
    let repo = cache.path().join("models--tr--good");
    assert_eq!(dir, repo.join("snapshots").join(COMMIT));
    let refs = std::fs::read_to_string(repo.join("refs/main")).unwrap();
    assert_eq!(refs, COMMIT);
    for file in ["config.json", "model.safetensors", "README.md"] {
        let entry = dir.join(file);
        let etag = hex::encode(Sha256::digest(&files[file].bytes));
        #[cfg(unix)]
        assert!(std::fs::symlink_metadata(&entry)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::canonicalize(&entry).unwrap(),
            std::fs::canonicalize(repo.join("blobs").join(etag)).unwrap()
        );
    }

    // A tag is recorded as a ref; a commit is served from the cache alone.
    let gets = server.gets.load(Ordering::SeqCst);
    assert_eq!(fetch_artifact("tr/good", &opts(Some("v1"))).unwrap(), dir);
    assert_eq!(
        std::fs::read_to_string(repo.join("refs/v1")).unwrap(),
        COMMIT
    );
    assert_eq!(fetch_artifact("tr/good", &opts(Some(COMMIT))).unwrap(), dir);
    assert_eq!(server.gets.load(Ordering::SeqCst), gets);
    let e = fetch_artifact("tr/good", &opts(Some("../main")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("revision"), "{e}");

    // With the hub unreachable, the cached revision is used; without a cached
    // copy the failure says so.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let offline = |cache_dir: &std::path::Path| HubOptions {
        endpoint: Some(closed.clone()),
        cache_dir: Some(cache_dir.to_path_buf()),
        revision: None,
    };
    assert_eq!(
        fetch_artifact("tr/good", &offline(cache.path())).unwrap(),
        dir
    );
    let empty = tempfile::tempdir().unwrap();
    let e = fetch_artifact("tr/good", &offline(empty.path()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("config.json") && e.contains("no cached copy"),
        "{e}"
    );

    // A config.json naming a file outside the repository is refused.
    let e = fetch_artifact("tr/evil", &opts(None))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tr/evil") && e.contains("escape.safetensors"),
        "{e}"
    );
    assert!(!cache.path().join("escape.safetensors").exists());
}
