//! `--from PATH`: finding a dataset's known files in a local file or
//! directory and bringing them into the data root.
//!
//! The source is only ever read: files are hard-linked when source and
//! destination share a filesystem (a link to the resolved file, never to a
//! symlink), else copied; a rejected file is removed from the destination
//! side only.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::{Error, Result};
use super::metadata::{FileSpec, Metadata};
use super::verify::{sha256_file, CHUNK};

/// A known file found under `--from`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<'m> {
    pub spec: &'m FileSpec,
    pub source: PathBuf,
}

/// What `--from` offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPlan<'m> {
    /// Known files, in metadata order.
    pub found: Vec<Candidate<'m>>,
    /// Top-level entries of a source directory that are not known files (skipped).
    pub unknown: Vec<PathBuf>,
}

/// Finds the known files of `meta` at `from`: in a directory, each file is
/// looked up as `<from>/<name>`, then as `<from>/<base name>`; a single file
/// is matched by its name.
pub fn plan<'m>(meta: &'m Metadata, from: &Path) -> Result<ImportPlan<'m>> {
    let info = std::fs::metadata(from).map_err(|e| Error::io(from, e))?;
    if !info.is_dir() {
        let name = from
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let spec = meta
            .files
            .iter()
            .find(|f| f.basename() == name)
            .ok_or_else(|| Error::UnknownFile {
                path: from.to_path_buf(),
                dataset: meta.name.clone(),
                expected: meta.known_names(),
            })?;
        return Ok(ImportPlan {
            found: vec![Candidate {
                spec,
                source: from.to_path_buf(),
            }],
            unknown: Vec::new(),
        });
    }
    let found: Vec<Candidate<'m>> = meta
        .files
        .iter()
        .filter_map(|spec| {
            [from.join(&spec.name), from.join(spec.basename())]
                .into_iter()
                .find(|p| p.is_file())
                .map(|source| Candidate { spec, source })
        })
        .collect();
    if found.is_empty() {
        return Err(Error::NothingToImport {
            dir: from.to_path_buf(),
            dataset: meta.name.clone(),
            expected: meta.known_names(),
        });
    }
    let mut unknown = Vec::new();
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let path = entry.map_err(|e| Error::io(from, e))?.path();
        let used = found.iter().any(|c| c.source.starts_with(&path));
        if !used {
            unknown.push(path);
        }
    }
    unknown.sort();
    Ok(ImportPlan { found, unknown })
}

/// How a file was brought in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    HardLink,
    Copy,
}

/// A file brought to a temporary destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brought {
    pub method: Method,
    /// Size in bytes.
    pub bytes: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

/// Links or copies `source` (symlinks resolved) to `tmp`, hashing the content.
pub fn bring(source: &Path, tmp: &Path) -> Result<Brought> {
    let real = std::fs::canonicalize(source).map_err(|e| Error::io(source, e))?;
    match std::fs::remove_file(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(tmp, e)),
    }
    if std::fs::hard_link(&real, tmp).is_ok() {
        let bytes = std::fs::metadata(tmp).map_err(|e| Error::io(tmp, e))?.len();
        return Ok(Brought {
            method: Method::HardLink,
            bytes,
            sha256: sha256_file(tmp)?,
        });
    }
    let mut input = File::open(&real).map_err(|e| Error::io(&real, e))?;
    let mut output = File::create(tmp).map_err(|e| Error::io(tmp, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut bytes = 0u64;
    loop {
        let n = input.read(&mut buf).map_err(|e| Error::io(&real, e))?;
        if n == 0 {
            break;
        }
        output.write_all(&buf[..n]).map_err(|e| Error::io(tmp, e))?;
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    output.flush().map_err(|e| Error::io(tmp, e))?;
    Ok(Brought {
        method: Method::Copy,
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// True when `a` and `b` resolve to the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
