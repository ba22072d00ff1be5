//! Extracting the members a dataset's metadata names from a zip archive.
//!
//! Every selected member is checked before anything is written: a member
//! whose path is absolute, contains `..`, a backslash or NUL, or that is a
//! symbolic link fails the whole extraction ([`Error::UnsafeMember`], the
//! "zip slip" defence). Files are written as `<path>.tmp` and renamed, and a
//! stamp `<archive>.extracted.toml` is written last, recording the archive's
//! digest and every output file with its size; a later run with the same
//! archive and the same member list skips the work while those files exist.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::metadata::{check_relative, Extract};
use super::verify::{CHUNK, SUMS_FILE};

/// Suffix of the extraction stamp written next to the archive.
pub const STAMP_SUFFIX: &str = ".extracted.toml";

/// The record of one completed extraction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// SHA-256 of the archive the files came from.
    pub archive_sha256: String,
    /// The member patterns that were extracted.
    pub members: Vec<String>,
    /// The prefix that was stripped, if any.
    #[serde(default)]
    pub strip_prefix: Option<String>,
    /// Output files, relative to the extraction directory.
    pub files: Vec<StampedFile>,
}

/// One extracted file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampedFile {
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// What [`extract`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    /// Output files, relative to the extraction directory.
    pub files: Vec<StampedFile>,
    /// True when the stamp showed the files already in place.
    pub skipped: bool,
}

/// Extracts the members `rule` selects from `archive` (whose digest is
/// `archive_sha256`) into `dest`, unless a matching stamp says it is done
/// (`force` extracts regardless).
pub fn extract(
    archive: &Path,
    archive_sha256: &str,
    rule: &Extract,
    dest: &Path,
    force: bool,
) -> Result<Extracted> {
    let stamp_path = stamp_path(archive, dest);
    if !force {
        if let Some(stamp) = read_stamp(&stamp_path) {
            let same_rule =
                stamp.members == rule.members && stamp.strip_prefix == rule.strip_prefix;
            if stamp.archive_sha256 == archive_sha256
                && same_rule
                && files_present(dest, &stamp.files)
            {
                return Ok(Extracted {
                    files: stamp.files,
                    skipped: true,
                });
            }
        }
    }
    let file = File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| Error::zip(archive, format!("not a readable zip archive: {e}")))?;
    let plan = plan(&mut zip, archive, rule)?;
    let mut files = Vec::with_capacity(plan.len());
    for (index, out) in plan {
        let mut member = zip
            .by_index(index)
            .map_err(|e| Error::zip(archive, format!("member #{index}: {e}")))?;
        let target = dest.join(&out);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let tmp = PathBuf::from(format!("{}.tmp", target.display()));
        let size = copy_member(&mut member, &tmp)
            .map_err(|e| Error::zip(archive, format!("member {out:?}: {e}")))?;
        if size != member.size() {
            return Err(Error::zip(
                archive,
                format!(
                    "member {out:?}: read {size} bytes, the directory says {}",
                    member.size()
                ),
            ));
        }
        std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
        files.push(StampedFile { path: out, size });
    }
    let stamp = Stamp {
        archive_sha256: archive_sha256.to_string(),
        members: rule.members.clone(),
        strip_prefix: rule.strip_prefix.clone(),
        files: files.clone(),
    };
    let text = toml::to_string(&stamp).map_err(|e| Error::metadata(&stamp_path, e.to_string()))?;
    std::fs::write(&stamp_path, text).map_err(|e| Error::io(&stamp_path, e))?;
    Ok(Extracted {
        files,
        skipped: false,
    })
}

/// `<dest>/<archive file name>.extracted.toml`.
pub fn stamp_path(archive: &Path, dest: &Path) -> PathBuf {
    let name = archive
        .file_name()
        .map_or_else(|| "archive".into(), |n| n.to_string_lossy().into_owned());
    dest.join(format!("{name}{STAMP_SUFFIX}"))
}

fn read_stamp(path: &Path) -> Option<Stamp> {
    let text = std::fs::read_to_string(path).ok()?;
    match toml::from_str(&text) {
        Ok(stamp) => Some(stamp),
        Err(e) => {
            tracing::warn!(
                "{}: unreadable extraction stamp ({}), extracting again",
                path.display(),
                e.message()
            );
            None
        }
    }
}

fn files_present(dest: &Path, files: &[StampedFile]) -> bool {
    files.iter().all(|f| {
        std::fs::metadata(dest.join(&f.path)).is_ok_and(|m| m.is_file() && m.len() == f.size)
    })
}

/// The `(member index, output path)` of every selected file member, after
/// checking that all of them are safe and every exact pattern matched.
fn plan<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    archive: &Path,
    rule: &Extract,
) -> Result<Vec<(usize, String)>> {
    let archive_name = archive.file_name().and_then(|n| n.to_str());
    let mut matched = vec![false; rule.members.len()];
    let mut plan = Vec::new();
    for index in 0..zip.len() {
        let member = zip
            .by_index(index)
            .map_err(|e| Error::zip(archive, format!("member #{index}: {e}")))?;
        let name = member
            .name()
            .map_err(|e| Error::zip(archive, format!("member #{index}: undecodable name: {e}")))?
            .into_owned();
        let mut selected = false;
        for (pattern, hit) in rule.members.iter().zip(matched.iter_mut()) {
            if selects(pattern, &name) {
                *hit = true;
                selected = true;
            }
        }
        if !selected {
            continue;
        }
        let unsafe_member = |reason: String| Error::UnsafeMember {
            archive: archive.to_path_buf(),
            member: name.clone(),
            reason,
        };
        let is_dir = member.is_dir();
        if let Err(why) = check_relative(&name, is_dir) {
            return Err(unsafe_member(format!("its path {why}")));
        }
        if member.is_symlink() {
            return Err(unsafe_member("it is a symbolic link".into()));
        }
        if is_dir {
            continue;
        }
        let out = match &rule.strip_prefix {
            Some(prefix) => name
                .strip_prefix(prefix.as_str())
                .unwrap_or(&name)
                .to_string(),
            None => name.clone(),
        };
        if out == SUMS_FILE || out.ends_with(STAMP_SUFFIX) || Some(out.as_str()) == archive_name {
            return Err(unsafe_member(
                "it would overwrite the downloader's own files".into(),
            ));
        }
        plan.push((index, out));
    }
    let missing: Vec<&str> = rule
        .members
        .iter()
        .zip(&matched)
        .filter(|(_, hit)| !**hit)
        .map(|(p, _)| p.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::zip(
            archive,
            format!(
                "no member matches {}: expected by the metadata's extract.members",
                missing.join(", ")
            ),
        ));
    }
    Ok(plan)
}

/// True when member `name` is selected by `pattern` (`*`, `dir/` or exact).
fn selects(pattern: &str, name: &str) -> bool {
    pattern == "*" || (pattern.ends_with('/') && name.starts_with(pattern)) || pattern == name
}

fn copy_member(member: &mut impl Read, tmp: &Path) -> std::io::Result<u64> {
    let mut out = File::create(tmp)?;
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match member.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                drop(out);
                let _ = std::fs::remove_file(tmp);
                return Err(e);
            }
        };
        out.write_all(&buf[..n])?;
        total += n as u64;
    }
    out.flush()?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_selection() {
        assert!(selects("*", "a/b"));
        assert!(selects("gzip/", "gzip/x.gz"));
        assert!(!selects("gzip/", "gzipx/x.gz"));
        assert!(selects("m/a.mat", "m/a.mat"));
        assert!(!selects("m/a.mat", "m/a.mat2"));
    }
}
