//! Bringing one dataset's files into `<root>/downloaded/<name>/`: download
//! or import each file, verify it, put it in place, extract archives.
//!
//! A file is accepted only after its size and SHA-256 match the metadata (or
//! the digest an earlier run recorded in `SHA256SUMS`); a file without any
//! known digest is accepted and its digest recorded. A downloaded file that
//! fails is moved aside to `<file>.corrupt`; an imported one is dropped from
//! the destination and its source left alone. Every file is attempted; the
//! failures are reported together at the end.

use std::path::{Path, PathBuf};

use super::acceptance::{
    accept, bad_existing, check_existing, inspect, note_recorded, remove_if_exists, suffixed,
    Existing,
};
use super::error::{Error, Result};
use super::extract::{extract, StampedFile};
use super::fetch::fetch;
use super::iam_copy;
use super::import::{bring, plan, same_file};
use super::metadata::{FileSpec, Metadata};
use super::progress::mib;
use super::report::{Action, DigestStatus, ExtractReport, FileReport, Report};
use super::verify::{sha256_file, Sums};

/// The dataset whose `--from` also takes a user's own copy ([`iam_copy`]).
const IAM: &str = "iam";

/// What to install.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub meta: &'a Metadata,
    /// The data root; files land in `<root>/downloaded/<name>/`.
    pub root: PathBuf,
    /// Import from this file or directory instead of downloading.
    pub from: Option<PathBuf>,
    /// Files to download (default: the metadata's `download` list).
    pub files: Vec<String>,
    /// Fetch, import and extract again even when verified copies exist.
    pub force: bool,
}

/// `<root>/downloaded/<name>`: where dataset `name`'s files go (the layout
/// `tr_data::DataDir::downloaded` reads).
pub fn dataset_dir(root: &Path, name: &str) -> PathBuf {
    root.join("downloaded").join(name)
}

/// Downloads or imports the requested files of one dataset, verifies and
/// extracts them.
pub fn install(req: &Request<'_>) -> Result<Report> {
    let meta = req.meta;
    let dir = dataset_dir(&req.root, &meta.name);
    if let (IAM, Some(from)) = (meta.name.as_str(), &req.from) {
        if let Some(report) = iam_copy::import(req, from)? {
            return Ok(report);
        }
    }
    // Work out what to do before creating anything.
    let (sources, unknown) = match &req.from {
        Some(from) => {
            let found = plan(meta, from)?;
            let sources = found
                .found
                .into_iter()
                .map(|c| (c.spec, Some(c.source)))
                .collect::<Vec<_>>();
            (sources, found.unknown)
        }
        None => {
            let specs = meta.select(&req.files)?;
            (specs.into_iter().map(|s| (s, None)).collect(), Vec::new())
        }
    };
    for path in &unknown {
        tracing::warn!(
            "{}: not a file of dataset {}, skipped",
            path.display(),
            meta.name
        );
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut run = Installer {
        meta,
        sums: Sums::load(&dir)?,
        force: req.force,
        report: Report {
            dataset: meta.name.clone(),
            dir,
            files: Vec::new(),
            extracted: Vec::new(),
            unknown,
        },
        errors: Vec::new(),
    };
    let total = sources.len();
    for (spec, source) in sources {
        let dir = run.report.dir.clone();
        let outcome = match source {
            Some(source) => import_one(spec, &source, &dir, &mut run.sums, req.force),
            None => download_one(spec, &dir, &mut run.sums, req.force),
        };
        run.settle(outcome, spec);
    }
    run.sums.save()?;
    Error::collect(run.errors, total)?;
    Ok(run.report)
}

/// The state of one [`install`] run.
struct Installer<'m> {
    meta: &'m Metadata,
    sums: Sums,
    force: bool,
    report: Report,
    errors: Vec<Error>,
}

impl Installer<'_> {
    /// Records a file's outcome and extracts it when it is an archive.
    fn settle(&mut self, outcome: Result<FileReport>, spec: &FileSpec) {
        let file = match outcome {
            Ok(f) => f,
            Err(e) => return self.errors.push(e),
        };
        tracing::debug!(
            "{}: {} ({}), sha256 {}",
            file.name,
            file.action,
            mib(file.bytes),
            file.sha256
        );
        if let Some(rule) = &spec.extract {
            let dir = &self.report.dir;
            match extract(&file.path, &file.sha256, rule, dir, self.force).and_then(|x| {
                check_extracted(self.meta, dir, &x.files, x.skipped, &self.sums).map(|()| x)
            }) {
                Ok(x) => {
                    let what = if x.skipped {
                        "already extracted"
                    } else {
                        "extracted"
                    };
                    tracing::info!("{}: {what} {} file(s)", file.name, x.files.len());
                    self.report.extracted.push(ExtractReport {
                        archive: file.name.clone(),
                        files: x.files.into_iter().map(|f| f.path).collect(),
                        skipped: x.skipped,
                    });
                }
                Err(e) => self.errors.push(e),
            }
        }
        self.report.files.push(file);
    }
}

/// Verifies freshly extracted files that the metadata also lists with a digest.
fn check_extracted(
    meta: &Metadata,
    dir: &Path,
    files: &[StampedFile],
    skipped: bool,
    sums: &Sums,
) -> Result<()> {
    if skipped {
        return Ok(());
    }
    for f in files {
        let Some(expected) = meta.file(&f.path).and_then(|spec| sums.expected(spec)) else {
            continue;
        };
        let path = dir.join(&f.path);
        let actual = sha256_file(&path)?;
        if actual != expected.sha256 {
            return Err(expected.mismatch(&path, &actual, None));
        }
    }
    Ok(())
}

/// Downloads `spec` unless a verified copy exists.
fn download_one(spec: &FileSpec, dir: &Path, sums: &mut Sums, force: bool) -> Result<FileReport> {
    let target = dir.join(&spec.name);
    let part = suffixed(&target, ".part");
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    if force {
        sums.forget(&spec.name);
        remove_if_exists(&part)?;
    } else if target.is_file() {
        if let Some(report) = check_existing(spec, &target, sums)? {
            return Ok(report);
        }
    }
    let url = spec.url.as_deref().ok_or_else(|| Error::Selection {
        dataset: dir.display().to_string(),
        message: format!("{} has no download url; import it with --from", spec.name),
    })?;
    let fetched = fetch(url, &part, spec.size, &spec.name)?;
    let digest = accept(spec, &part, &target, fetched.bytes, &fetched.sha256, sums)?;
    Ok(FileReport {
        name: spec.name.clone(),
        path: target,
        bytes: fetched.bytes,
        sha256: fetched.sha256,
        action: Action::Downloaded {
            resumed_from: fetched.resumed_from,
        },
        digest,
    })
}

/// Imports `source` as `spec`; the source is never modified.
fn import_one(
    spec: &FileSpec,
    source: &Path,
    dir: &Path,
    sums: &mut Sums,
    force: bool,
) -> Result<FileReport> {
    let target = dir.join(&spec.name);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    if same_file(source, &target) {
        // The source is the destination: verify, never move or replace it.
        return match inspect(spec, &target, sums)? {
            Existing::Good(report) => Ok(report),
            Existing::Bad {
                bytes,
                actual,
                expected,
            } => Err(bad_existing(spec, source, bytes, &actual, expected)),
        };
    }
    if force {
        sums.forget(&spec.name);
    }
    let tmp = suffixed(&target, ".tmp");
    let brought = bring(source, &tmp)?;
    let rejected = |e: Error| {
        let _ = std::fs::remove_file(&tmp);
        e
    };
    if let Some(size) = spec.size.filter(|&s| s != brought.bytes) {
        return Err(rejected(Error::SizeMismatch {
            what: source.display().to_string(),
            expected: size,
            actual: brought.bytes,
        }));
    }
    let digest = match sums.expected(spec) {
        Some(e) if e.sha256 != brought.sha256 => {
            return Err(rejected(e.mismatch(source, &brought.sha256, None)))
        }
        Some(e) => DigestStatus::Verified(e.origin),
        None => DigestStatus::Recorded,
    };
    let unchanged = !force && target.is_file() && sha256_file(&target)? == brought.sha256;
    if unchanged {
        remove_if_exists(&tmp)?;
    } else {
        std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
        // rename(2) is a no-op when both names are links to one inode; drop ours.
        remove_if_exists(&tmp)?;
    }
    if digest == DigestStatus::Recorded {
        note_recorded(spec, &brought.sha256, sums);
    }
    Ok(FileReport {
        name: spec.name.clone(),
        path: target,
        bytes: brought.bytes,
        sha256: brought.sha256,
        action: if unchanged {
            Action::AlreadyPresent
        } else {
            Action::Imported {
                source: source.to_path_buf(),
                method: brought.method,
            }
        },
        digest,
    })
}
