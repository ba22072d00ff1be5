//! Whether a file may stay: size and SHA-256 checks of a finished download
//! or of a file already in place, moving rejected downloads aside to
//! `<file>.corrupt`, and recording digests the metadata lacks.

use std::path::{Path, PathBuf};

use super::error::{Error, Result};
use super::metadata::FileSpec;
use super::report::{Action, DigestStatus, FileReport};
use super::verify::{sha256_file, Expected, Sums};

/// A file found at its destination before anything was fetched.
pub enum Existing {
    /// Size and digest as expected (or none known, now recorded).
    Good(FileReport),
    /// Wrong size or digest.
    Bad {
        bytes: u64,
        actual: String,
        expected: Option<Expected>,
    },
}

/// Verifies a file already at `target` without moving it; records its digest
/// when none is known.
pub fn inspect(spec: &FileSpec, target: &Path, sums: &mut Sums) -> Result<Existing> {
    let bytes = std::fs::metadata(target)
        .map_err(|e| Error::io(target, e))?
        .len();
    let size_ok = spec.size.is_none_or(|s| s == bytes);
    let actual = sha256_file(target)?;
    let expected = sums.expected(spec);
    let digest = match expected {
        Some(e) if size_ok && e.sha256 == actual => DigestStatus::Verified(e.origin),
        None if size_ok => {
            note_recorded(spec, &actual, sums);
            DigestStatus::Recorded
        }
        expected => {
            return Ok(Existing::Bad {
                bytes,
                actual,
                expected,
            })
        }
    };
    Ok(Existing::Good(FileReport {
        name: spec.name.clone(),
        path: target.to_path_buf(),
        bytes,
        sha256: actual,
        action: Action::AlreadyPresent,
        digest,
    }))
}

/// The error for a file that failed [`inspect`].
pub fn bad_existing(
    spec: &FileSpec,
    file: &Path,
    bytes: u64,
    actual: &str,
    expected: Option<Expected>,
) -> Error {
    match (spec.size, expected) {
        (Some(size), _) if size != bytes => Error::SizeMismatch {
            what: file.display().to_string(),
            expected: size,
            actual: bytes,
        },
        (_, Some(e)) => e.mismatch(file, actual, None),
        (_, None) => Error::io(file, std::io::Error::other("fails verification")),
    }
}

/// Verifies a file already at `target`: `Some` when it is good, `None` after
/// moving a bad one aside to `<target>.corrupt`.
pub fn check_existing(
    spec: &FileSpec,
    target: &Path,
    sums: &mut Sums,
) -> Result<Option<FileReport>> {
    match inspect(spec, target, sums)? {
        Existing::Good(report) => Ok(Some(report)),
        Existing::Bad { bytes, actual, .. } => {
            let aside = suffixed(target, ".corrupt");
            std::fs::rename(target, &aside).map_err(|e| Error::io(target, e))?;
            tracing::warn!(
                "{}: existing file fails verification (sha256 {actual}, {bytes} bytes), moved aside to {}; fetching it again",
                target.display(),
                aside.display()
            );
            Ok(None)
        }
    }
}

/// Checks a finished `.part` and renames it to `target`; a failing one is
/// moved to `<target>.corrupt`.
pub fn accept(
    spec: &FileSpec,
    part: &Path,
    target: &Path,
    bytes: u64,
    actual: &str,
    sums: &mut Sums,
) -> Result<DigestStatus> {
    let aside = || -> Result<PathBuf> {
        let corrupt = suffixed(target, ".corrupt");
        std::fs::rename(part, &corrupt).map_err(|e| Error::io(part, e))?;
        Ok(corrupt)
    };
    if let Some(size) = spec.size.filter(|&s| s != bytes) {
        return Err(Error::SizeMismatch {
            what: aside()?.display().to_string(),
            expected: size,
            actual: bytes,
        });
    }
    let status = match sums.expected(spec) {
        Some(e) if e.sha256 != actual => return Err(e.mismatch(target, actual, Some(aside()?))),
        Some(e) => DigestStatus::Verified(e.origin),
        None => {
            note_recorded(spec, actual, sums);
            DigestStatus::Recorded
        }
    };
    std::fs::rename(part, target).map_err(|e| Error::io(target, e))?;
    Ok(status)
}

/// Records the digest of a file the metadata has none for, and says so.
pub fn note_recorded(spec: &FileSpec, digest: &str, sums: &mut Sums) {
    sums.record(&spec.name, digest);
    tracing::info!(
        "{}: no SHA-256 known; recorded {digest} in {} (later runs verify against it)",
        spec.name,
        sums.path().display()
    );
}

/// `<path><suffix>` (`a.zip` + `.part` = `a.zip.part`).
pub fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Removes `path`; a missing file is fine.
pub fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}
