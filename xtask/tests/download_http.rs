//! Downloads against a loopback HTTP server: verification, resume, errors.

mod common;

use std::path::Path;

use common::{bytes, metadata, Behaviour, Seen, TestServer};
use xtask::download::install::{install, Request};
use xtask::download::metadata::Metadata;
use xtask::download::report::{Action, DigestStatus};
use xtask::download::verify::{sha256_bytes, DigestOrigin};
use xtask::download::Error;

/// Metadata of dataset `toy` with one downloadable file `a.bin`.
fn toy(url: &str, sha256: Option<&str>, size: Option<usize>) -> Metadata {
    let mut text = format!(
        "name = \"toy\"\ndescription = \"d\"\nlicense = \"l\"\n[[file]]\nname = \"a.bin\"\nurl = \"{url}\"\n"
    );
    if let Some(d) = sha256 {
        text.push_str(&format!("sha256 = \"{d}\"\n"));
    }
    if let Some(n) = size {
        text.push_str(&format!("size = {n}\n"));
    }
    metadata("toy", &text)
}

fn request<'a>(meta: &'a Metadata, root: &Path, force: bool) -> Request<'a> {
    Request {
        meta,
        root: root.to_path_buf(),
        from: None,
        files: Vec::new(),
        force,
    }
}

#[test]
fn good_download_verifies_and_lands() {
    let server = TestServer::start();
    let body = bytes(100_000, 1);
    server.route("/a.bin", &body, Behaviour::Good);
    let meta = toy(
        &server.url("/a.bin"),
        Some(&sha256_bytes(&body)),
        Some(body.len()),
    );
    let root = tempfile::tempdir().unwrap();

    let report = install(&request(&meta, root.path(), false)).unwrap();
    let dest = root.path().join("downloaded/toy/a.bin");
    assert_eq!(report.dir, root.path().join("downloaded/toy"));
    assert_eq!(report.files.len(), 1);
    assert_eq!(
        report.files[0].action,
        Action::Downloaded { resumed_from: 0 }
    );
    assert_eq!(
        report.files[0].digest,
        DigestStatus::Verified(DigestOrigin::Metadata)
    );
    assert_eq!(report.files[0].bytes, 100_000);
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(common::listing(&report.dir), vec!["a.bin"]);

    // A verified copy is not fetched again.
    let again = install(&request(&meta, root.path(), false)).unwrap();
    assert_eq!(again.files[0].action, Action::AlreadyPresent);
    assert_eq!(server.seen().len(), 1);
    // --force fetches again.
    let forced = install(&request(&meta, root.path(), true)).unwrap();
    assert_eq!(
        forced.files[0].action,
        Action::Downloaded { resumed_from: 0 }
    );
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn truncated_transfer_keeps_part_and_the_next_run_resumes() {
    let server = TestServer::start();
    let body = bytes(100_000, 2);
    server.route("/a.bin", &body, Behaviour::TruncateFirst(40_000));
    let url = server.url("/a.bin");
    let meta = toy(&url, Some(&sha256_bytes(&body)), None);
    let root = tempfile::tempdir().unwrap();
    let part = root.path().join("downloaded/toy/a.bin.part");

    let err = install(&request(&meta, root.path(), false)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                received: 40_000,
                expected: Some(100_000),
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "GET {url}: transfer truncated after 40000 of 100000 bytes"
        )),
        "{msg}"
    );
    assert!(
        msg.contains("a.bin.part is kept, run the command again to resume"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&part).unwrap(), &body[..40_000]);
    assert!(!root.path().join("downloaded/toy/a.bin").exists());

    let report = install(&request(&meta, root.path(), false)).unwrap();
    assert_eq!(
        report.files[0].action,
        Action::Downloaded {
            resumed_from: 40_000
        }
    );
    assert_eq!(
        report.files[0].digest,
        DigestStatus::Verified(DigestOrigin::Metadata)
    );
    assert_eq!(
        std::fs::read(root.path().join("downloaded/toy/a.bin")).unwrap(),
        body
    );
    assert!(!part.exists());
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].range, None);
    assert_eq!(
        seen[1],
        Seen {
            path: "/a.bin".into(),
            range: Some("bytes=40000-".into())
        }
    );
}

#[test]
fn resumes_from_an_existing_part_file() {
    let server = TestServer::start();
    let body = bytes(50_000, 3);
    server.route("/a.bin", &body, Behaviour::Good);
    let meta = toy(
        &server.url("/a.bin"),
        Some(&sha256_bytes(&body)),
        Some(50_000),
    );
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("downloaded/toy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.bin.part"), &body[..30_000]).unwrap();

    let report = install(&request(&meta, root.path(), false)).unwrap();
    assert_eq!(
        report.files[0].action,
        Action::Downloaded {
            resumed_from: 30_000
        }
    );
    assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), body);
    assert_eq!(server.seen()[0].range.as_deref(), Some("bytes=30000-"));
}

#[test]
fn a_complete_part_file_is_accepted_after_416() {
    let server = TestServer::start();
    let body = bytes(20_000, 4);
    server.route("/a.bin", &body, Behaviour::Good);
    let meta = toy(&server.url("/a.bin"), Some(&sha256_bytes(&body)), None);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("downloaded/toy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.bin.part"), &body).unwrap();

    let report = install(&request(&meta, root.path(), false)).unwrap();
    assert_eq!(
        report.files[0].action,
        Action::Downloaded {
            resumed_from: 20_000
        }
    );
    assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), body);
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn a_server_ignoring_range_restarts_cleanly() {
    let server = TestServer::start();
    let body = bytes(60_000, 5);
    server.route("/a.bin", &body, Behaviour::IgnoreRange);
    let meta = toy(&server.url("/a.bin"), Some(&sha256_bytes(&body)), None);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("downloaded/toy");
    std::fs::create_dir_all(&dir).unwrap();
    // A stale prefix that does not even match: appending to it would corrupt the file.
    std::fs::write(dir.join("a.bin.part"), bytes(30_000, 99)).unwrap();

    let report = install(&request(&meta, root.path(), false)).unwrap();
    assert_eq!(
        report.files[0].action,
        Action::Downloaded { resumed_from: 0 }
    );
    assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), body);
    assert_eq!(server.seen()[0].range.as_deref(), Some("bytes=30000-"));
}

#[test]
fn wrong_digest_names_both_digests_and_moves_the_file_aside() {
    let server = TestServer::start();
    let body = bytes(10_000, 6);
    server.route("/a.bin", &body, Behaviour::Good);
    let wrong = sha256_bytes(b"something else");
    let actual = sha256_bytes(&body);
    let meta = toy(&server.url("/a.bin"), Some(&wrong), None);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("downloaded/toy");

    let msg = install(&request(&meta, root.path(), false))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!(
            "expected {wrong} (from metadata), actual {actual}"
        )),
        "{msg}"
    );
    assert!(msg.contains("a.bin: SHA-256 mismatch"), "{msg}");
    assert!(msg.contains("moved aside to"), "{msg}");
    assert!(!dir.join("a.bin").exists());
    assert!(!dir.join("a.bin.part").exists());
    assert_eq!(std::fs::read(dir.join("a.bin.corrupt")).unwrap(), body);
}

#[test]
fn a_corrupt_existing_file_is_moved_aside_and_fetched_again() {
    let server = TestServer::start();
    let body = bytes(10_000, 7);
    server.route("/a.bin", &body, Behaviour::Good);
    let meta = toy(&server.url("/a.bin"), Some(&sha256_bytes(&body)), None);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("downloaded/toy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.bin"), b"garbage").unwrap();

    let report = install(&request(&meta, root.path(), false)).unwrap();
    assert_eq!(
        report.files[0].action,
        Action::Downloaded { resumed_from: 0 }
    );
    assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), body);
    assert_eq!(
        std::fs::read(dir.join("a.bin.corrupt")).unwrap(),
        b"garbage"
    );
}

#[test]
fn an_unknown_digest_is_recorded_and_enforced_later() {
    let server = TestServer::start();
    let body = bytes(5_000, 8);
    server.route("/a.bin", &body, Behaviour::Good);
    let meta = toy(&server.url("/a.bin"), None, None);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("downloaded/toy");

    let report = install(&request(&meta, root.path(), false)).unwrap();
    assert_eq!(report.files[0].digest, DigestStatus::Recorded);
    let digest = sha256_bytes(&body);
    assert_eq!(
        std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap(),
        format!("{digest}  a.bin\n")
    );

    // The recorded digest now guards the file: a changed local copy is rejected and re-fetched...
    std::fs::write(dir.join("a.bin"), b"tampered").unwrap();
    let report = install(&request(&meta, root.path(), false)).unwrap();
    assert_eq!(
        report.files[0].digest,
        DigestStatus::Verified(DigestOrigin::Recorded(dir.join("SHA256SUMS")))
    );
    assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), body);
    // ...and a server now serving other bytes fails against the record.
    let changed = bytes(5_000, 9);
    server.route("/a.bin", &changed, Behaviour::Good);
    std::fs::remove_file(dir.join("a.bin")).unwrap();
    let msg = install(&request(&meta, root.path(), false))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!(
            "expected {digest} (recorded in {}",
            dir.join("SHA256SUMS").display()
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("actual {}", sha256_bytes(&changed))),
        "{msg}"
    );
    // --force re-establishes the digest.
    let report = install(&request(&meta, root.path(), true)).unwrap();
    assert_eq!(report.files[0].digest, DigestStatus::Recorded);
    assert!(std::fs::read_to_string(dir.join("SHA256SUMS"))
        .unwrap()
        .contains(&sha256_bytes(&changed)));
}

#[test]
fn http_errors_name_url_and_status() {
    let server = TestServer::start();
    server.route("/gone.bin", b"", Behaviour::Status(404));
    server.route("/boom.bin", b"", Behaviour::Status(500));
    let root = tempfile::tempdir().unwrap();
    for (path, status) in [
        ("/gone.bin", "404 Not Found"),
        ("/boom.bin", "500 Internal Server Error"),
    ] {
        let url = server.url(path);
        let meta = toy(&url, None, None);
        let msg = install(&request(&meta, root.path(), false))
            .unwrap_err()
            .to_string();
        assert_eq!(msg, format!("GET {url} failed: HTTP {status}"));
    }
    assert!(!root.path().join("downloaded/toy/a.bin").exists());
}

#[test]
fn connection_refused_is_one_line_with_the_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/a.bin");
    let meta = toy(&url, None, None);
    let root = tempfile::tempdir().unwrap();
    let msg = install(&request(&meta, root.path(), false))
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with(&format!("GET {url} failed: ")), "{msg}");
    assert!(msg.to_lowercase().contains("connection refused"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn server_size_differing_from_metadata_is_refused_before_writing() {
    let server = TestServer::start();
    let body = bytes(1_000, 10);
    server.route("/a.bin", &body, Behaviour::Good);
    let url = server.url("/a.bin");
    let meta = toy(&url, None, Some(999));
    let root = tempfile::tempdir().unwrap();
    let msg = install(&request(&meta, root.path(), false))
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&format!("GET {url}")), "{msg}");
    assert!(
        msg.contains("size mismatch: expected 999 bytes, actual 1000 bytes"),
        "{msg}"
    );
}

#[test]
fn the_binary_downloads_and_reports_errors_on_one_line() {
    let server = TestServer::start();
    let body = bytes(3_000, 11);
    server.route("/a.bin", &body, Behaviour::Good);
    let meta_dir = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(meta_dir.path().join("toy")).unwrap();
    let text = format!(
        "name = \"toy\"\ndescription = \"d\"\nlicense = \"l\"\n\
         [[file]]\nname = \"a.bin\"\nurl = \"{}\"\nsha256 = \"{}\"\n\
         [[file]]\nname = \"b.bin\"\nurl = \"{}\"\n",
        server.url("/a.bin"),
        sha256_bytes(&body),
        server.url("/missing.bin")
    );
    std::fs::write(meta_dir.path().join("toy/metadata.toml"), text).unwrap();
    let run = |file: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["download", "toy", "--file", file, "--metadata-dir"])
            .arg(meta_dir.path())
            .arg("--data-dir")
            .arg(root.path())
            .env("XTASK_LOG", "off")
            .output()
            .unwrap()
    };
    let ok = run("a.bin");
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.starts_with("toy: 1 file(s) in "), "{stdout}");
    assert!(stdout.contains("downloaded"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "sha256 {} (verified against metadata)",
            sha256_bytes(&body)
        )),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(root.path().join("downloaded/toy/a.bin")).unwrap(),
        body
    );

    let bad = run("b.bin");
    assert!(!bad.status.success());
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        format!(
            "error: download toy: GET {} failed: HTTP 404 Not Found\n",
            server.url("/missing.bin")
        )
    );
}
