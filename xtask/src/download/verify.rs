//! SHA-256 digests: hashing files, the expected digest of a file, and the
//! `SHA256SUMS` record of digests the metadata does not know.
//!
//! `SHA256SUMS` (in `downloaded/<dataset>/`) uses `sha256sum`'s format, one
//! `<64 hex digits>  <file name>` line per file, so `sha256sum -c SHA256SUMS`
//! checks it too. A digest recorded there is trusted on later runs exactly
//! like one from the metadata.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::{Error, Result};
use super::metadata::FileSpec;

/// File name of the digest record inside `downloaded/<dataset>/`.
pub const SUMS_FILE: &str = "SHA256SUMS";

/// Read size for hashing and copying (bytes).
pub const CHUNK: usize = 1 << 20;

/// Lowercase hex SHA-256 of a file's content.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    hash_file_into(path, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Feeds a file's content into `hasher`.
pub fn hash_file_into(path: &Path, hasher: &mut Sha256) -> Result<()> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where an expected digest comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DigestOrigin {
    /// The dataset's metadata file.
    Metadata,
    /// A digest recorded in `SHA256SUMS` by an earlier run.
    Recorded(PathBuf),
}

impl std::fmt::Display for DigestOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Metadata => f.write_str("from metadata"),
            Self::Recorded(p) => write!(f, "recorded in {}", p.display()),
        }
    }
}

/// A digest a file must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub sha256: String,
    pub origin: DigestOrigin,
}

impl Expected {
    /// The mismatch error for `file` whose digest is `actual`.
    pub fn mismatch(&self, file: &Path, actual: &str, moved_to: Option<PathBuf>) -> Error {
        Error::DigestMismatch {
            file: file.to_path_buf(),
            expected: self.sha256.clone(),
            actual: actual.to_string(),
            origin: self.origin.to_string(),
            moved_to,
        }
    }
}

/// The `SHA256SUMS` record of one dataset directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sums {
    path: PathBuf,
    entries: BTreeMap<String, String>,
    dirty: bool,
}

impl Sums {
    /// Reads `<dir>/SHA256SUMS`; a missing file is an empty record.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(SUMS_FILE);
        let mut entries = BTreeMap::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let parsed = line
                        .split_once("  ")
                        .or_else(|| line.split_once(" *"))
                        .filter(|(d, n)| {
                            d.len() == 64
                                && d.bytes().all(|b| b.is_ascii_hexdigit())
                                && !n.is_empty()
                        });
                    let Some((digest, name)) = parsed else {
                        return Err(Error::metadata(
                            &path,
                            format!(
                                "line {}: expected `<64 hex digits>  <file name>`, found {line:?}",
                                i + 1
                            ),
                        ));
                    };
                    entries.insert(name.to_string(), digest.to_ascii_lowercase());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        Ok(Self {
            path,
            entries,
            dirty: false,
        })
    }

    /// The file this record lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded digest of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(String::as_str)
    }

    /// Records `digest` for `name` (written by [`Sums::save`]).
    pub fn record(&mut self, name: &str, digest: &str) {
        if self.get(name) != Some(digest) {
            self.entries.insert(name.to_string(), digest.to_string());
            self.dirty = true;
        }
    }

    /// Forgets `name` (used by `--force`, which re-establishes the digest).
    pub fn forget(&mut self, name: &str) {
        if self.entries.remove(name).is_some() {
            self.dirty = true;
        }
    }

    /// Writes the record if it changed (temp file + rename).
    pub fn save(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let text: String = self
            .entries
            .iter()
            .map(|(n, d)| format!("{d}  {n}\n"))
            .collect();
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        self.dirty = false;
        Ok(())
    }

    /// The digest `spec` must have: the metadata's, else the recorded one.
    pub fn expected(&self, spec: &FileSpec) -> Option<Expected> {
        if let Some(d) = &spec.sha256 {
            return Some(Expected {
                sha256: d.clone(),
                origin: DigestOrigin::Metadata,
            });
        }
        self.get(&spec.name).map(|d| Expected {
            sha256: d.to_string(),
            origin: DigestOrigin::Recorded(self.path.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_known_inputs() {
        assert_eq!(
            sha256_bytes(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sums_round_trip_and_reject_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let mut sums = Sums::load(dir.path()).unwrap();
        assert_eq!(sums.get("a"), None);
        let d = sha256_bytes(b"a");
        sums.record("a.gz", &d);
        sums.save().unwrap();
        let text = std::fs::read_to_string(dir.path().join(SUMS_FILE)).unwrap();
        assert_eq!(text, format!("{d}  a.gz\n"));
        assert_eq!(
            Sums::load(dir.path()).unwrap().get("a.gz"),
            Some(d.as_str())
        );

        std::fs::write(dir.path().join(SUMS_FILE), "nonsense\n").unwrap();
        let err = Sums::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("SHA256SUMS: line 1: expected `<64 hex digits>  <file name>`"),
            "{err}"
        );
    }
}
