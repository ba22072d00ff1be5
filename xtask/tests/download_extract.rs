//! Zip extraction: member selection, stamps, zip-slip defence, and an
//! archive downloaded then extracted with its members verified.

mod common;

use std::path::Path;

use common::{listing, metadata, zip_bytes, Behaviour, TestServer};
use xtask::download::extract::{extract, stamp_path, Stamp};
use xtask::download::install::{install, Request};
use xtask::download::metadata::Extract;
use xtask::download::verify::sha256_bytes;
use xtask::download::Error;

fn rule(members: &[&str], strip: Option<&str>) -> Extract {
    Extract {
        members: members.iter().map(ToString::to_string).collect(),
        strip_prefix: strip.map(ToString::to_string),
    }
}

fn write_zip(dir: &Path, name: &str, entries: &[(&str, &[u8])]) -> (std::path::PathBuf, String) {
    let data = zip_bytes(entries);
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    (path, sha256_bytes(&data))
}

#[test]
fn extracts_selected_members_and_stamps_the_result() {
    let tmp = tempfile::tempdir().unwrap();
    let entries: [(&str, &[u8]); 4] = [
        ("gzip/keep-a.gz", b"aaaa"),
        ("gzip/keep-b.txt", b"bb"),
        ("gzip/other.gz", b"zz"),
        ("readme.txt", b"r"),
    ];
    let (archive, digest) = write_zip(tmp.path(), "gzip.zip", &entries);
    let dest = tmp.path().join("out");
    std::fs::create_dir_all(&dest).unwrap();
    let r = rule(&["gzip/keep-a.gz", "gzip/keep-b.txt"], Some("gzip/"));

    let x = extract(&archive, &digest, &r, &dest, false).unwrap();
    assert!(!x.skipped);
    assert_eq!(
        listing(&dest),
        vec!["gzip.zip.extracted.toml", "keep-a.gz", "keep-b.txt"]
    );
    assert_eq!(std::fs::read(dest.join("keep-a.gz")).unwrap(), b"aaaa");
    let stamp: Stamp =
        toml::from_str(&std::fs::read_to_string(stamp_path(&archive, &dest)).unwrap()).unwrap();
    assert_eq!(stamp.archive_sha256, digest);
    assert_eq!(
        stamp
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.size))
            .collect::<Vec<_>>(),
        [("keep-a.gz", 4), ("keep-b.txt", 2)]
    );

    // Same archive, same rule, files present: nothing to do.
    assert!(
        extract(&archive, &digest, &r, &dest, false)
            .unwrap()
            .skipped
    );
    // A missing output, a different archive digest or --force extract again.
    std::fs::remove_file(dest.join("keep-b.txt")).unwrap();
    assert!(
        !extract(&archive, &digest, &r, &dest, false)
            .unwrap()
            .skipped
    );
    assert_eq!(std::fs::read(dest.join("keep-b.txt")).unwrap(), b"bb");
    assert!(
        !extract(&archive, &"0".repeat(64), &r, &dest, false)
            .unwrap()
            .skipped
    );
    assert!(!extract(&archive, &digest, &r, &dest, true).unwrap().skipped);
}

#[test]
fn a_directory_pattern_and_star_select_trees() {
    let tmp = tempfile::tempdir().unwrap();
    let entries: [(&str, &[u8]); 3] = [
        ("iamdb/forms/a.jpg", b"j"),
        ("iamdb/xml/a.xml", b"x"),
        ("top.txt", b"t"),
    ];
    let (archive, digest) = write_zip(tmp.path(), "iamdb.zip", &entries);
    let dest = tmp.path().join("out");
    std::fs::create_dir_all(&dest).unwrap();

    let x = extract(
        &archive,
        &digest,
        &rule(&["iamdb/xml/"], None),
        &dest,
        false,
    )
    .unwrap();
    assert_eq!(
        x.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        ["iamdb/xml/a.xml"]
    );
    let x = extract(&archive, &digest, &rule(&["*"], None), &dest, false).unwrap();
    assert_eq!(x.files.len(), 3);
    assert_eq!(std::fs::read(dest.join("iamdb/forms/a.jpg")).unwrap(), b"j");
}

#[test]
fn zip_slip_members_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("a/b/out");
    std::fs::create_dir_all(&dest).unwrap();
    for evil in ["../evil.txt", "ok/../../evil.txt", "/tmp/evil-absolute.txt"] {
        let entries: [(&str, &[u8]); 2] = [("good.txt", b"g"), (evil, b"pwned")];
        let (archive, digest) = write_zip(tmp.path(), "evil.zip", &entries);
        let err = extract(&archive, &digest, &rule(&["*"], None), &dest, false).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, Error::UnsafeMember { member, .. } if member == evil),
            "{err:?}"
        );
        assert!(
            msg.contains(&format!("refusing to extract member {evil:?}")),
            "{msg}"
        );
        assert_eq!(
            listing(&dest),
            Vec::<String>::new(),
            "nothing written for {evil}"
        );
        assert!(!tmp.path().join("a/b/evil.txt").exists());
        assert!(!tmp.path().join("a/evil.txt").exists());
    }
    assert!(!Path::new("/tmp/evil-absolute.txt").exists());
}

#[test]
fn a_missing_member_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let entries: [(&str, &[u8]); 1] = [("matlab/emnist-letters.mat", b"m")];
    let (archive, digest) = write_zip(tmp.path(), "matlab.zip", &entries);
    let msg = extract(
        &archive,
        &digest,
        &rule(&["matlab/emnist-byclass.mat"], None),
        tmp.path(),
        false,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        msg,
        format!(
            "{}: no member matches matlab/emnist-byclass.mat: expected by the metadata's extract.members",
            archive.display()
        )
    );
    std::fs::write(&archive, b"not a zip").unwrap();
    let msg = extract(&archive, &digest, &rule(&["*"], None), tmp.path(), false)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(&format!(
            "{}: not a readable zip archive",
            archive.display()
        )),
        "{msg}"
    );
}

#[test]
fn a_downloaded_archive_is_extracted_and_its_known_members_verified() {
    let server = TestServer::start();
    let mapping = b"0 48\n1 49\n";
    let zip = zip_bytes(&[("gzip/map.txt", mapping), ("gzip/img.gz", b"img")]);
    server.route("/gzip.zip", &zip, Behaviour::Good);
    let text = |map_digest: &str| {
        format!(
            "name = \"toy\"\ndescription = \"d\"\nlicense = \"l\"\ndownload = [\"gzip.zip\"]\n\
             [[file]]\nname = \"gzip.zip\"\nurl = \"{}\"\n\
             extract = {{ members = [\"gzip/map.txt\", \"gzip/img.gz\"], strip_prefix = \"gzip/\" }}\n\
             [[file]]\nname = \"map.txt\"\nsha256 = \"{map_digest}\"\n",
            server.url("/gzip.zip")
        )
    };
    let root = tempfile::tempdir().unwrap();
    let meta = metadata("toy", &text(&sha256_bytes(mapping)));
    let request = |meta| Request {
        meta,
        root: root.path().to_path_buf(),
        from: None,
        files: Vec::new(),
        force: false,
    };

    let report = install(&request(&meta)).unwrap();
    assert_eq!(report.extracted[0].files, vec!["map.txt", "img.gz"]);
    let dir = root.path().join("downloaded/toy");
    assert_eq!(std::fs::read(dir.join("map.txt")).unwrap(), mapping);
    // gzip.zip had no digest: it is recorded.
    assert_eq!(
        std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap(),
        format!("{}  gzip.zip\n", sha256_bytes(&zip))
    );

    // A metadata digest the extracted member does not have is an error.
    let wrong = metadata("toy", &text(&"ab".repeat(32)));
    let forced = Request {
        force: true,
        ..request(&wrong)
    };
    let msg = install(&forced).unwrap_err().to_string();
    assert!(
        msg.starts_with(&format!(
            "{}: SHA-256 mismatch: expected {}",
            dir.join("map.txt").display(),
            "ab".repeat(32)
        )),
        "{msg}"
    );
}
