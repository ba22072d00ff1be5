//! `--from PATH`: importing local files, never touching the source.

mod common;

use std::path::Path;

use common::{bytes, listing, metadata, snapshot, zip_bytes};
use xtask::download::import::Method;
use xtask::download::install::{install, Request};
use xtask::download::metadata::Metadata;
use xtask::download::report::{Action, DigestStatus};
use xtask::download::verify::{sha256_bytes, DigestOrigin};
use xtask::download::Error;

/// `toy`: a.bin and b.bin with digests, c.bin without, pack.zip extracting `inner/`.
fn toy(a: &[u8], b: &[u8]) -> Metadata {
    metadata(
        "toy",
        &format!(
            "name = \"toy\"\ndescription = \"d\"\nlicense = \"l\"\n\
             [[file]]\nname = \"a.bin\"\nsha256 = \"{}\"\n\
             [[file]]\nname = \"b.bin\"\nsha256 = \"{}\"\nsize = {}\n\
             [[file]]\nname = \"c.bin\"\n\
             [[file]]\nname = \"pack.zip\"\nextract = {{ members = [\"inner/\"], strip_prefix = \"inner/\" }}\n",
            sha256_bytes(a),
            sha256_bytes(b),
            b.len()
        ),
    )
}

fn from<'a>(meta: &'a Metadata, root: &Path, source: &Path, force: bool) -> Request<'a> {
    Request {
        meta,
        root: root.to_path_buf(),
        from: Some(source.to_path_buf()),
        files: Vec::new(),
        force,
    }
}

#[test]
fn directory_with_good_and_bad_files_imports_the_good_and_leaves_the_source_alone() {
    let (a, b) = (bytes(4_000, 1), bytes(3_000, 2));
    let meta = toy(&a, &b);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("a.bin"), &a).unwrap();
    let bad_b = bytes(3_000, 3); // right size, wrong content
    std::fs::write(src.path().join("b.bin"), &bad_b).unwrap();
    std::fs::write(src.path().join("notes.txt"), b"unrelated").unwrap();
    let before = snapshot(src.path());
    let root = tempfile::tempdir().unwrap();

    let err = install(&from(&meta, root.path(), src.path(), false)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, Error::DigestMismatch { moved_to: None, .. }),
        "{err:?}"
    );
    assert!(
        msg.starts_with(&format!(
            "{}: SHA-256 mismatch",
            src.path().join("b.bin").display()
        )),
        "{msg}"
    );
    assert!(msg.contains(&format!(
        "expected {} (from metadata), actual {}",
        sha256_bytes(&b),
        sha256_bytes(&bad_b)
    )));

    assert_eq!(snapshot(src.path()), before, "the source must not change");
    let dir = root.path().join("downloaded/toy");
    assert_eq!(
        listing(&dir),
        vec!["a.bin"],
        "only the verified file lands, no temp files"
    );
    assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), a);
}

#[test]
fn directory_import_reports_unknown_files_records_unknown_digests_and_is_idempotent() {
    let (a, b, c) = (bytes(4_000, 4), bytes(2_000, 5), bytes(1_000, 6));
    let meta = toy(&a, &b);
    let src = tempfile::tempdir().unwrap();
    for (n, d) in [("a.bin", &a), ("b.bin", &b), ("c.bin", &c)] {
        std::fs::write(src.path().join(n), d).unwrap();
    }
    std::fs::write(src.path().join("notes.txt"), b"unrelated").unwrap();
    let before = snapshot(src.path());
    let root = tempfile::tempdir().unwrap();

    let report = install(&from(&meta, root.path(), src.path(), false)).unwrap();
    let names: Vec<&str> = report.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a.bin", "b.bin", "c.bin"]);
    assert_eq!(report.unknown, vec![src.path().join("notes.txt")]);
    assert_eq!(
        report.files[0].digest,
        DigestStatus::Verified(DigestOrigin::Metadata)
    );
    assert_eq!(report.files[2].digest, DigestStatus::Recorded);
    assert!(matches!(
        report.files[0].action,
        Action::Imported {
            method: Method::HardLink | Method::Copy,
            ..
        }
    ));
    let dir = root.path().join("downloaded/toy");
    assert_eq!(
        std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap(),
        format!("{}  c.bin\n", sha256_bytes(&c))
    );
    for (n, d) in [("a.bin", &a), ("b.bin", &b), ("c.bin", &c)] {
        assert_eq!(&std::fs::read(dir.join(n)).unwrap(), d);
    }

    let again = install(&from(&meta, root.path(), src.path(), false)).unwrap();
    assert!(
        again
            .files
            .iter()
            .all(|f| f.action == Action::AlreadyPresent),
        "{again:?}"
    );
    assert_eq!(
        again.files[2].digest,
        DigestStatus::Verified(DigestOrigin::Recorded(dir.join("SHA256SUMS")))
    );
    // --force with the same source (hard links to the same inode) leaves no temp files.
    install(&from(&meta, root.path(), src.path(), true)).unwrap();
    assert_eq!(listing(&dir), vec!["SHA256SUMS", "a.bin", "b.bin", "c.bin"]);
    assert_eq!(snapshot(src.path()), before);
}

#[test]
fn directory_without_known_files_lists_what_was_expected() {
    let meta = toy(b"a", b"b");
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("other.bin"), b"x").unwrap();
    let root = tempfile::tempdir().unwrap();
    let msg = install(&from(&meta, root.path(), src.path(), false))
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        format!(
            "{}: none of the files of dataset toy found; expected any of: a.bin, b.bin, c.bin, pack.zip",
            src.path().display()
        )
    );
}

#[test]
fn single_file_is_matched_by_name() {
    let (a, b) = (bytes(100, 7), bytes(200, 8));
    let meta = toy(&a, &b);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("b.bin"), &b).unwrap();
    std::fs::write(src.path().join("zzz.bin"), &b).unwrap();
    let root = tempfile::tempdir().unwrap();

    let report = install(&from(&meta, root.path(), &src.path().join("b.bin"), false)).unwrap();
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].name, "b.bin");
    assert_eq!(
        std::fs::read(root.path().join("downloaded/toy/b.bin")).unwrap(),
        b
    );

    let msg = install(&from(
        &meta,
        root.path(),
        &src.path().join("zzz.bin"),
        false,
    ))
    .unwrap_err()
    .to_string();
    assert!(msg.ends_with(
        "not a file of dataset toy; expected a file named one of: a.bin, b.bin, c.bin, pack.zip"
    ));
    let missing = src.path().join("nope.bin");
    let msg = install(&from(&meta, root.path(), &missing, false))
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with(&missing.display().to_string()), "{msg}");
}

#[test]
fn a_wrong_size_is_rejected_before_the_digest() {
    let (a, b) = (bytes(100, 9), bytes(200, 10));
    let meta = toy(&a, &b);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("b.bin"), &b[..150]).unwrap();
    let root = tempfile::tempdir().unwrap();
    let msg = install(&from(&meta, root.path(), &src.path().join("b.bin"), false))
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        format!(
            "{}: size mismatch: expected 200 bytes, actual 150 bytes",
            src.path().join("b.bin").display()
        )
    );
    assert_eq!(
        listing(&root.path().join("downloaded/toy")),
        Vec::<String>::new()
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_source_is_imported_as_a_real_file() {
    let (a, b) = (bytes(300, 11), bytes(200, 12));
    let meta = toy(&a, &b);
    let real = tempfile::tempdir().unwrap();
    std::fs::write(real.path().join("data-a"), &a).unwrap();
    let src = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(real.path().join("data-a"), src.path().join("a.bin")).unwrap();
    let root = tempfile::tempdir().unwrap();

    install(&from(&meta, root.path(), src.path(), false)).unwrap();
    let dest = root.path().join("downloaded/toy/a.bin");
    assert!(std::fs::symlink_metadata(&dest)
        .unwrap()
        .file_type()
        .is_file());
    assert_eq!(std::fs::read(&dest).unwrap(), a);
    assert!(std::fs::symlink_metadata(src.path().join("a.bin"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(real.path().join("data-a")).unwrap(), a);
}

#[test]
fn importing_the_destination_itself_verifies_without_moving() {
    let (a, b) = (bytes(300, 13), bytes(200, 14));
    let meta = toy(&a, &b);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("downloaded/toy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.bin"), &a).unwrap();
    std::fs::write(dir.join("b.bin"), b"wrong").unwrap();

    let report = install(&from(&meta, root.path(), &dir.join("a.bin"), false)).unwrap();
    assert_eq!(report.files[0].action, Action::AlreadyPresent);
    let msg = install(&from(&meta, root.path(), &dir.join("b.bin"), false))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("size mismatch: expected 200 bytes, actual 5 bytes"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(dir.join("b.bin")).unwrap(),
        b"wrong",
        "never moved aside"
    );
}

#[test]
fn an_imported_archive_is_extracted() {
    let meta = toy(b"a", b"b");
    let src = tempfile::tempdir().unwrap();
    let zip = zip_bytes(&[
        ("inner/x.txt", b"x-content"),
        ("inner/sub/y.txt", b"y"),
        ("outer.txt", b"no"),
    ]);
    std::fs::write(src.path().join("pack.zip"), &zip).unwrap();
    let root = tempfile::tempdir().unwrap();

    let report = install(&from(&meta, root.path(), src.path(), false)).unwrap();
    assert_eq!(report.extracted.len(), 1);
    assert_eq!(report.extracted[0].files, vec!["x.txt", "sub/y.txt"]);
    assert!(!report.extracted[0].skipped);
    let dir = root.path().join("downloaded/toy");
    assert_eq!(std::fs::read(dir.join("x.txt")).unwrap(), b"x-content");
    assert_eq!(std::fs::read(dir.join("sub/y.txt")).unwrap(), b"y");
    assert!(!dir.join("outer.txt").exists());

    let again = install(&from(&meta, root.path(), src.path(), false)).unwrap();
    assert!(again.extracted[0].skipped);
}
