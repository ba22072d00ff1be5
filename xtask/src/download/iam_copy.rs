//! `cargo xtask download iam --from PATH` with a user's own IAM copy.
//!
//! `PATH` may be
//!
//! * the course's `iamdb.zip` (its digest is the metadata's), or a folder
//!   holding it: the ordinary import — the archive is kept, verified and
//!   extracted whole into `downloaded/iam/iamdb/`;
//! * any other zip holding `xml/` and `forms/` folders (at the top, under
//!   `iamdb/` or under any one prefix, see [`IamLayout`]);
//! * a folder holding `xml/` and `forms/` (or IAM's `formsA-D/` …), directly
//!   or in `iamdb/` — e.g. IAM's `xml.tgz` and `forms*.tgz` extracted.
//!
//! An own copy is checked before anything is written: the zip must be
//! readable (a truncated one is not), there must be one `xml/` folder, every
//! XML must be IAM form XML (`<form>` root, read by tr-data's safe XML reader,
//! its `id` the file's name) and every XML must have its form image. Then its
//! files are written to `downloaded/iam/iamdb/{xml,forms,task}/` — the layout
//! `tr_data::layout::iam_forms` reads — as `<file>.tmp` + rename (folders:
//! hard-linked where possible, else copied; the source is never modified).
//! Files of an earlier import that the new copy lacks are removed from
//! `iamdb/xml/` and `iamdb/forms/`, and the course archive's extraction stamp
//! is dropped, since the tree is no longer that archive's. An own copy is
//! written anew on every run (files already hard-linked to the source are
//! left alone).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::error::{Error, Result};
use super::extract::stamp_path;
use super::iam_layout::{IamLayout, TARGET};
use super::import::same_file;
use super::install::{dataset_dir, Request};
use super::report::{ExtractReport, Report};
use super::verify::sha256_file;

/// The archive the course distributes.
pub const COURSE_ZIP: &str = "iamdb.zip";

/// Walk depth for folder sources: `[prefix/]folder/file` below `--from`.
const MAX_DEPTH: usize = 3;

/// Imports an own IAM copy from `from`; `None` when `from` is (or holds) the
/// course's `iamdb.zip`, which the ordinary import handles.
pub fn import(req: &Request<'_>, from: &Path) -> Result<Option<Report>> {
    let dir = dataset_dir(&req.root, &req.meta.name);
    let info = std::fs::metadata(from).map_err(|e| Error::io(from, e))?;
    if info.is_file() {
        return import_zip(req, from, &dir);
    }
    let names = walk(from)?;
    let zip = from.join(COURSE_ZIP);
    if zip.is_file() && IamLayout::find(names.iter().map(String::as_str)).is_err() {
        return import_zip(req, &zip, &dir);
    }
    import_folder(from, &names, &dir).map(Some)
}

fn copy_error(path: &Path, message: impl Into<String>) -> Error {
    Error::IamCopy {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn import_zip(req: &Request<'_>, archive: &Path, dir: &Path) -> Result<Option<Report>> {
    let file = File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| {
        copy_error(
            archive,
            format!(
                "not a readable zip archive ({e}; a truncated copy?): expected the course's \
                 iamdb.zip or a zip holding xml/ and forms/ folders"
            ),
        )
    })?;
    let mut names = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let m = zip
            .by_index(i)
            .map_err(|e| copy_error(archive, format!("member #{i}: {e}")))?;
        if m.is_file() {
            let name = m
                .name()
                .map_err(|e| copy_error(archive, format!("member #{i}: {e}")))?;
            names.push(name.into_owned());
        }
    }
    let layout =
        IamLayout::find(names.iter().map(String::as_str)).map_err(|m| copy_error(archive, m))?;
    for (id, member) in &layout.xml {
        let bytes = read_member(&mut zip, member, archive)?;
        check_form_xml(&bytes, id).map_err(|m| copy_error(archive, format!("{member}: {m}")))?;
    }
    let digest = sha256_file(archive)?;
    let course = req.meta.file(COURSE_ZIP).and_then(|s| s.sha256.as_deref());
    let is_course = archive.file_name().is_some_and(|n| n == COURSE_ZIP);
    if is_course && course == Some(digest.as_str()) {
        return Ok(None);
    }
    tracing::info!(
        "{}: an own IAM copy ({} forms under {}xml/), importing into {}",
        archive.display(),
        layout.xml.len(),
        layout.prefix,
        dir.join(TARGET).display()
    );
    let dest = prepare(dir, &layout)?;
    let mut written = Vec::new();
    for (member, out) in layout.outputs() {
        let bytes = read_member(&mut zip, &member, archive)?;
        let target = dest.join(&out);
        let tmp = tmp_path(&target);
        std::fs::write(&tmp, &bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
        written.push(out);
    }
    finish(dir, &dest, archive, &layout, written, Vec::new()).map(Some)
}

fn read_member<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    member: &str,
    archive: &Path,
) -> Result<Vec<u8>> {
    let mut m = zip
        .by_name(member)
        .map_err(|e| copy_error(archive, format!("{member}: {e}")))?;
    if m.is_symlink() {
        return Err(copy_error(
            archive,
            format!("{member}: a symbolic link, expected a file"),
        ));
    }
    let mut bytes = Vec::with_capacity(m.size() as usize);
    m.read_to_end(&mut bytes).map_err(|e| {
        copy_error(
            archive,
            format!("{member}: cannot be read ({e}; a truncated or corrupt archive?)"),
        )
    })?;
    Ok(bytes)
}

fn import_folder(from: &Path, names: &[String], dir: &Path) -> Result<Report> {
    let layout = IamLayout::find(names.iter().map(String::as_str)).map_err(|m| {
        let tgz = names
            .iter()
            .any(|n| !n.contains('/') && (n.ends_with(".tgz") || n.ends_with(".tar.gz")));
        let hint = if tgz {
            "; IAM's .tgz archives must be extracted first (tar xzf xml.tgz; tar xzf formsA-D.tgz ...)"
        } else {
            ""
        };
        copy_error(from, format!("{m}{hint}"))
    })?;
    for (id, rel) in &layout.xml {
        let path = from.join(rel);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        check_form_xml(&bytes, id).map_err(|m| copy_error(&path, m))?;
    }
    let dest = prepare(dir, &layout)?;
    let mut written = Vec::new();
    for (rel, out) in layout.outputs() {
        let source = from.join(&rel);
        let target = dest.join(&out);
        if !same_file(&source, &target) {
            link_or_copy(&source, &target)?;
        }
        written.push(out);
    }
    let used: BTreeSet<String> = layout
        .outputs()
        .iter()
        .filter_map(|(rel, _)| rel.split('/').next().map(str::to_string))
        .collect();
    let mut unknown: Vec<PathBuf> = top_entries(from)?
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_none_or(|n| !used.contains(n))
        })
        .collect();
    unknown.sort();
    finish(dir, &dest, from, &layout, written, unknown)
}

/// Creates `<dir>/iamdb/{xml,forms}` (and `task/` when the copy has one); returns `<dir>/iamdb`.
fn prepare(dir: &Path, layout: &IamLayout) -> Result<PathBuf> {
    let dest = dir.join(TARGET);
    let task = (!layout.task.is_empty()).then_some("task");
    for sub in ["xml", "forms"].into_iter().chain(task) {
        let d = dest.join(sub);
        std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
    }
    Ok(dest)
}

/// Removes what the new copy lacks, drops the course archive's stamp, reports.
fn finish(
    dir: &Path,
    dest: &Path,
    source: &Path,
    layout: &IamLayout,
    written: Vec<String>,
    unknown: Vec<PathBuf>,
) -> Result<Report> {
    let kept: BTreeSet<&str> = written.iter().map(String::as_str).collect();
    let mut removed = 0usize;
    for sub in ["xml", "forms"] {
        let d = dest.join(sub);
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let path = entry.map_err(|e| Error::io(&d, e))?.path();
            let name = path
                .file_name()
                .map(|n| format!("{sub}/{}", n.to_string_lossy()));
            if path.is_file() && name.is_some_and(|n| !kept.contains(n.as_str())) {
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                removed += 1;
            }
        }
    }
    let stamp = stamp_path(Path::new(COURSE_ZIP), dir);
    match std::fs::remove_file(&stamp) {
        Ok(()) => tracing::info!("{}: removed, the tree is now an own copy", stamp.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&stamp, e)),
    }
    if removed > 0 {
        tracing::info!(
            "removed {removed} file(s) of an earlier import from {}",
            dest.display()
        );
    }
    if layout.duplicates > 0 {
        tracing::warn!(
            "{}: {} form image(s) found twice; the first of each was kept",
            source.display(),
            layout.duplicates
        );
    }
    if layout.orphans > 0 {
        tracing::warn!(
            "{}: {} form image(s) have no XML (imported; the IAM reader ignores them)",
            source.display(),
            layout.orphans
        );
    }
    if layout.task.is_empty() {
        tracing::warn!(
            "{}: no task/ folder (the official split lists trainset.txt, testset.txt, validationset1.txt, validationset2.txt)",
            source.display()
        );
    }
    Ok(Report {
        dataset: "iam".to_string(),
        dir: dir.to_path_buf(),
        files: Vec::new(),
        extracted: vec![ExtractReport {
            archive: format!(
                "{} (own copy, {} forms)",
                source.display(),
                layout.xml.len()
            ),
            files: written.iter().map(|w| format!("{TARGET}/{w}")).collect(),
            skipped: false,
        }],
        unknown,
    })
}

/// IAM form XML whose `id` (when present) is `id`; the error says what was found.
fn check_form_xml(bytes: &[u8], id: &str) -> std::result::Result<(), String> {
    let root = tr_data::layout::parse_document(bytes)
        .map_err(|e| format!("not readable IAM form XML: {e}"))?;
    if root.name != "form" {
        return Err(format!(
            "root element <{}>, expected <form> (IAM form XML)",
            root.name
        ));
    }
    match root.attr("id") {
        Some(found) if found != id => Err(format!(
            "describes form {found:?} (its id attribute), expected {id:?} as its file name says"
        )),
        _ => Ok(()),
    }
}

/// Relative paths (with `/`) of the files below `root`, at most [`MAX_DEPTH`] deep.
fn walk(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, rel, depth)) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let child = format!("{rel}{name}");
            if path.is_dir() {
                if depth + 1 < MAX_DEPTH {
                    stack.push((path, format!("{child}/"), depth + 1));
                }
            } else if path.is_file() {
                out.push(child);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn top_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| Error::io(dir, e)))
        .collect()
}

fn tmp_path(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_os_string();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Hard-links (the resolved file) or copies `source` to `target` via `<target>.tmp`.
fn link_or_copy(source: &Path, target: &Path) -> Result<()> {
    let real = std::fs::canonicalize(source).map_err(|e| Error::io(source, e))?;
    let tmp = tmp_path(target);
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&tmp, e)),
    }
    if std::fs::hard_link(&real, &tmp).is_err() {
        std::fs::copy(&real, &tmp).map_err(|e| Error::io(&real, e))?;
    }
    std::fs::rename(&tmp, target).map_err(|e| Error::io(target, e))
}
