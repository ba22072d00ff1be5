//! The error type of `cargo xtask download`: every variant names the file or
//! URL at fault and what was expected, in one line.

use std::path::PathBuf;

/// Errors from reading metadata, fetching, verifying, importing and extracting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A metadata file that is not valid TOML or breaks a rule of the format.
    #[error("{}: {message}", path.display())]
    Metadata { path: PathBuf, message: String },
    /// A dataset name without metadata.
    #[error("unknown dataset {name:?}: expected one of {known}")]
    UnknownDataset { name: String, known: String },
    /// `--file NAME` naming a file the metadata does not list or cannot download.
    #[error("dataset {dataset}: {message}")]
    Selection { dataset: String, message: String },
    /// An I/O failure on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The request could not be made or the response could not be read
    /// (DNS failure, connection refused, TLS, timeout).
    #[error("GET {url} failed: {reason}")]
    Http { url: String, reason: String },
    /// The server answered with an error status.
    #[error("GET {url} failed: HTTP {status}")]
    HttpStatus { url: String, status: String },
    /// The server closed the connection before sending the whole file.
    #[error(
        "GET {url}: transfer truncated after {received} of {} bytes ({reason}); \
         the partial file {} is kept, run the command again to resume",
        expected.map_or_else(|| "?".to_string(), |n| n.to_string()),
        part.display()
    )]
    Truncated {
        url: String,
        received: u64,
        expected: Option<u64>,
        reason: String,
        part: PathBuf,
    },
    /// A file whose SHA-256 digest is not the recorded one.
    #[error(
        "{}: SHA-256 mismatch: expected {expected} ({origin}), actual {actual}{}",
        file.display(),
        moved_to.as_ref().map_or_else(String::new, |p| format!("; moved aside to {}", p.display()))
    )]
    DigestMismatch {
        file: PathBuf,
        expected: String,
        actual: String,
        /// Where the expected digest comes from (metadata file or SHA256SUMS).
        origin: String,
        /// Where the rejected file was moved, if it was ours to move.
        moved_to: Option<PathBuf>,
    },
    /// A file whose size is not the recorded one.
    #[error("{what}: size mismatch: expected {expected} bytes, actual {actual} bytes")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },
    /// A zip archive that cannot be read.
    #[error("{}: {message}", archive.display())]
    Zip { archive: PathBuf, message: String },
    /// A zip member whose path would escape the extraction directory.
    #[error("{}: refusing to extract member {member:?}: {reason}", archive.display())]
    UnsafeMember {
        archive: PathBuf,
        member: String,
        reason: String,
    },
    /// `--from DIR` holding none of the files the metadata knows.
    #[error("{}: none of the files of dataset {dataset} found; expected any of: {expected}", dir.display())]
    NothingToImport {
        dir: PathBuf,
        dataset: String,
        expected: String,
    },
    /// `--from FILE` whose name is not one the metadata knows.
    #[error("{}: not a file of dataset {dataset}; expected a file named one of: {expected}", path.display())]
    UnknownFile {
        path: PathBuf,
        dataset: String,
        expected: String,
    },
    /// `--from` naming an own IAM copy that is not usable (a zip or folder
    /// without `xml/`, an XML without its form image, a truncated zip).
    #[error("{}: {message}", path.display())]
    IamCopy { path: PathBuf, message: String },
    /// Several files failed; each message is kept.
    #[error("{failed} of {total} files failed: {}", messages.join("; "))]
    Several {
        failed: usize,
        total: usize,
        messages: Vec<String>,
    },
}

/// Result alias of the download module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for [`Error::Metadata`].
    pub fn metadata(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Metadata {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Zip`].
    pub fn zip(archive: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::Zip {
            archive: archive.into(),
            message: message.to_string(),
        }
    }

    /// One error for a batch: `Ok` when `errors` is empty, the error itself
    /// when there is one, [`Error::Several`] otherwise.
    pub fn collect(errors: Vec<Error>, total: usize) -> Result<()> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.into_iter().next().expect("one error")),
            failed => Err(Error::Several {
                failed,
                total,
                messages: errors.iter().map(ToString::to_string).collect(),
            }),
        }
    }
}
