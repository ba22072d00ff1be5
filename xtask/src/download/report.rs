//! What installing a dataset did, file by file: the values `install`
//! returns and the command prints.

use std::path::PathBuf;

use super::import::Method;
use super::verify::DigestOrigin;

/// How a file got into place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Fetched over HTTP(S); `resumed_from` bytes came from an earlier `.part`.
    Downloaded { resumed_from: u64 },
    /// Imported from `source`.
    Imported { source: PathBuf, method: Method },
    /// A verified copy was already in place.
    AlreadyPresent,
}

/// How a file's digest was established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DigestStatus {
    /// Equal to the expected digest from this origin.
    Verified(DigestOrigin),
    /// No digest was known: computed and recorded in `SHA256SUMS`.
    Recorded,
}

/// One installed file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    pub name: String,
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
    pub sha256: String,
    pub action: Action,
    pub digest: DigestStatus,
}

/// One archive's extraction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractReport {
    pub archive: String,
    /// Output paths relative to the dataset directory.
    pub files: Vec<String>,
    /// True when an up-to-date extraction stamp made it a no-op.
    pub skipped: bool,
}

/// What [`install`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub dataset: String,
    /// `<root>/downloaded/<name>`.
    pub dir: PathBuf,
    pub files: Vec<FileReport>,
    pub extracted: Vec<ExtractReport>,
    /// Entries of a `--from` directory that are not known files (skipped).
    pub unknown: Vec<PathBuf>,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Downloaded { resumed_from: 0 } => f.write_str("downloaded"),
            Action::Downloaded { resumed_from } => {
                write!(f, "downloaded, resumed at byte {resumed_from}")
            }
            Action::Imported { source, method } => {
                let how = if *method == Method::HardLink {
                    "hard link"
                } else {
                    "copy"
                };
                write!(f, "imported from {} ({how})", source.display())
            }
            Action::AlreadyPresent => f.write_str("already present"),
        }
    }
}
