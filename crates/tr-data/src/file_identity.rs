//! What a source file *is*, for cache keys: its name, its length and the
//! SHA-256 of its content.
//!
//! A cache keyed by a file's name and size alone serves stale data when the
//! file is replaced by another of the same size (a re-download, a user's own
//! copy); one keyed by its path breaks when the data root moves. So every
//! cache that is derived from a file keys it by [`FileIdentity`]: the file
//! *name* (not the path), the length and the content digest.
//!
//! Hashing streams the file (1 MiB reads; SHA-NI makes that several hundred
//! MB/s, EMNIST's ~30 MB idx file takes ~0.1 s). A digest is remembered for
//! the rest of the process under the file's canonical path, so building a
//! dataset twice hashes once; the memo is used only while the file's length,
//! modification time, inode, device and change time (where the platform has
//! them) are exactly those seen when it was hashed, and only for files last
//! modified more than [`RACY_WINDOW`] before they were hashed — a file written
//! within the file system's timestamp granularity of the hash could change
//! again without its stamp changing (git's "racy" rule), so such a file is
//! hashed every time.
//!
//! It does not decide what a cache contains; each cache puts the identities of
//! its sources next to its own parameters (see `datasets::line_recipe`).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A file modified this recently before being hashed is not memoised.
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// Read size while hashing.
const CHUNK: usize = 1 << 20;

/// A source file as a cache key sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileIdentity {
    /// The file name without its directory (caches survive a moved data root).
    pub name: String,
    /// Length in bytes.
    pub len: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
}

/// The identity of the file at `path`: streamed and hashed, or taken from
/// this process's memo when the file has not changed since.
pub fn identify(path: &Path) -> Result<FileIdentity> {
    identify_in(memo(), path).map(|(id, _)| id)
}

/// [`identify`] with the memo `memo`; the flag is true when the file was hashed.
fn identify_in(memo: &Memo, path: &Path) -> Result<(FileIdentity, bool)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::invalid(
                "source file",
                format!("{} has no file name", path.display()),
            )
        })?;
    let canonical = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
    let before = Stamp::of(&canonical)?;
    if let Some(sha256) = memo.lock().ok().and_then(|m| {
        m.get(&canonical)
            .filter(|(stamp, _)| *stamp == before)
            .map(|(_, d)| d.clone())
    }) {
        let id = FileIdentity {
            name,
            len: before.len,
            sha256,
        };
        return Ok((id, false));
    }
    let started = SystemTime::now();
    let sha256 = sha256_file(&canonical)?;
    let after = Stamp::of(&canonical)?;
    if after != before {
        return Err(Error::format(
            path,
            "the file changed while it was being hashed; run again once it is complete",
        ));
    }
    let settled = started
        .duration_since(after.modified)
        .is_ok_and(|age| age > RACY_WINDOW);
    if settled {
        if let Ok(mut m) = memo.lock() {
            m.insert(canonical, (after, sha256.clone()));
        }
    }
    let id = FileIdentity {
        name,
        len: after.len,
        sha256,
    };
    Ok((id, true))
}

/// [`identify`] for every path, in order.
pub fn identify_all<'p>(paths: impl IntoIterator<Item = &'p Path>) -> Result<Vec<FileIdentity>> {
    paths.into_iter().map(identify).collect()
}

/// Lowercase hex SHA-256 of the file at `path`, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

type Memo = Mutex<HashMap<PathBuf, (Stamp, String)>>;

fn memo() -> &'static Memo {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(Memo::default)
}

/// What must be unchanged for a memoised digest to stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: SystemTime,
    /// `(device, inode, ctime seconds, ctime nanoseconds)` on Unix.
    unix: Option<(u64, u64, i64, i64)>,
}

impl Stamp {
    fn of(path: &Path) -> Result<Self> {
        let m = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !m.is_file() {
            return Err(Error::format(path, "expected a regular file"));
        }
        let modified = m.modified().map_err(|e| Error::io(path, e))?;
        #[cfg(unix)]
        let unix = {
            use std::os::unix::fs::MetadataExt;
            Some((m.dev(), m.ino(), m.ctime(), m.ctime_nsec()))
        };
        #[cfg(not(unix))]
        let unix = None;
        Ok(Self {
            len: m.len(),
            modified,
            unix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_old(path: &Path, bytes: &[u8]) {
        std::fs::write(path, bytes).unwrap();
        let old = SystemTime::now() - Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    #[test]
    fn identity_is_name_length_and_content_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a.bin");
        std::fs::write(&a, b"abc").unwrap();
        let id = identify(&a).unwrap();
        assert_eq!(id.name, "a.bin");
        assert_eq!(id.len, 3);
        // SHA-256("abc").
        assert_eq!(
            id.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Same name and size, other content: another identity.
        std::fs::write(&a, b"abd").unwrap();
        assert_ne!(identify(&a).unwrap(), id);
        // The directory is not part of it.
        let other = tmp.path().join("sub");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("a.bin"), b"abc").unwrap();
        assert_eq!(identify(&other.join("a.bin")).unwrap(), id);
    }

    #[test]
    fn settled_files_are_hashed_once_and_again_after_any_change() {
        let tmp = tempfile::tempdir().unwrap();
        let memo = Memo::default();
        let f = tmp.path().join("glyphs.gz");
        write_old(&f, &[7u8; 5000]);
        let (first, hashed) = identify_in(&memo, &f).unwrap();
        assert!(hashed);
        let (again, hashed) = identify_in(&memo, &f).unwrap();
        assert!(!hashed, "an unchanged settled file comes from the memo");
        assert_eq!(again, first);
        // Replaced by a same-size file whose mtime is forged back: the inode or
        // change time differ, so it is hashed again and identified anew.
        let replacement = tmp.path().join("new.gz");
        write_old(&replacement, &[8u8; 5000]);
        std::fs::rename(&replacement, &f).unwrap();
        let (changed, hashed) = identify_in(&memo, &f).unwrap();
        assert!(hashed);
        assert_ne!(changed.sha256, first.sha256);
        assert_eq!(changed.len, first.len);
    }

    #[test]
    fn freshly_written_files_are_never_memoised() {
        let tmp = tempfile::tempdir().unwrap();
        let memo = Memo::default();
        let f = tmp.path().join("fresh.txt");
        std::fs::write(&f, b"one").unwrap();
        assert!(identify_in(&memo, &f).unwrap().1);
        assert!(identify_in(&memo, &f).unwrap().1);
    }

    #[test]
    fn missing_file_and_directory_are_named_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nope.zip");
        let err = identify(&missing).unwrap_err().to_string();
        assert!(err.contains("nope.zip"), "{err}");
        let err = identify(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("expected a regular file"), "{err}");
    }
}
