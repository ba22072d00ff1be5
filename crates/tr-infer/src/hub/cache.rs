//! The hub cache layout shared with `huggingface_hub` and `hf-hub`, so a
//! model fetched by one is found by the others:
//!
//! ```text
//! <cache>/models--<owner>--<name>/blobs/<etag>                 file contents
//! <cache>/models--<owner>--<name>/snapshots/<commit>/<file>    symlink to the blob
//! <cache>/models--<owner>--<name>/refs/<revision>              commit of a branch or tag
//! <cache>/models--<owner>--<name>/.no_exist/<commit>/<file>    "not in this commit"
//! <cache>/.locks/models--<owner>--<name>/<etag>.lock           one writer per blob
//! ```
//!
//! Where symlinks are not available (Windows) the snapshot entry is a copy.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The cache of one model repository.
pub(super) struct RepoCache {
    /// `<cache>/models--<owner>--<name>`.
    dir: PathBuf,
    /// `<cache>/.locks/models--<owner>--<name>`.
    locks: PathBuf,
}

impl RepoCache {
    pub(super) fn new(cache_dir: &Path, owner: &str, name: &str) -> Self {
        let folder = format!("models--{owner}--{name}");
        Self {
            dir: cache_dir.join(&folder),
            locks: cache_dir.join(".locks").join(folder),
        }
    }

    pub(super) fn blob(&self, etag: &str) -> PathBuf {
        self.dir.join("blobs").join(etag)
    }

    pub(super) fn snapshot(&self, commit: &str, file: &str) -> PathBuf {
        self.dir.join("snapshots").join(commit).join(file)
    }

    /// The commit `revision` stands for: itself when it is a commit hash,
    /// else what `refs/<revision>` recorded.
    pub(super) fn commit_of(&self, revision: &str) -> Option<String> {
        if is_commit_hash(revision) {
            return Some(revision.to_string());
        }
        let commit = std::fs::read_to_string(self.dir.join("refs").join(revision)).ok()?;
        Some(commit.trim().to_string()).filter(|c| !c.is_empty())
    }

    /// Records that branch or tag `revision` points at `commit`.
    pub(super) fn write_ref(&self, revision: &str, commit: &str) -> Result<()> {
        if is_commit_hash(revision) {
            return Ok(());
        }
        let path = self.dir.join("refs").join(revision);
        create_parent(&path)?;
        std::fs::write(&path, commit).map_err(|e| Error::io(&path, e))
    }

    /// Marks `file` as absent from `commit` (a negative cache entry).
    pub(super) fn mark_missing(&self, commit: &str, file: &str) {
        let path = self.no_exist(commit, file);
        if create_parent(&path).is_ok() {
            let _ = std::fs::write(&path, b"");
        }
    }

    pub(super) fn is_missing(&self, commit: &str, file: &str) -> bool {
        self.no_exist(commit, file).exists()
    }

    fn no_exist(&self, commit: &str, file: &str) -> PathBuf {
        self.dir.join(".no_exist").join(commit).join(file)
    }

    /// Points `snapshots/<commit>/<file>` at `blobs/<etag>` and returns it.
    pub(super) fn link(&self, commit: &str, file: &str, etag: &str) -> Result<PathBuf> {
        let pointer = self.snapshot(commit, file);
        create_parent(&pointer)?;
        let _ = std::fs::remove_file(&pointer);
        #[cfg(unix)]
        {
            // Relative, so the cache can be moved: up from snapshots/<commit>/<dirs…>.
            let depth = 2 + file.matches('/').count();
            let target = Path::new(&"../".repeat(depth)).join("blobs").join(etag);
            std::os::unix::fs::symlink(&target, &pointer).map_err(|e| Error::io(&pointer, e))?;
        }
        #[cfg(not(unix))]
        std::fs::copy(self.blob(etag), &pointer).map_err(|e| Error::io(&pointer, e))?;
        Ok(pointer)
    }

    /// Waits for, then holds, the writer's lock of `blobs/<etag>` until the
    /// returned file is dropped (a process that dies releases it).
    pub(super) fn lock(&self, etag: &str) -> Result<File> {
        let path = self.locks.join(format!("{etag}.lock"));
        create_parent(&path)?;
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        file.lock().map_err(|e| Error::io(&path, e))?;
        Ok(file)
    }
}

/// A full 40-digit commit hash (as opposed to a branch or tag name).
pub(super) fn is_commit_hash(revision: &str) -> bool {
    revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `name` (an ETag or commit the server sent) can name a cache entry:
/// one path component of letters, digits, `-`, `_` and `.`.
pub(super) fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Whether `file` (a name `config.json` gives) is a plain relative path
/// inside the repository: `/`-separated, no empty, `.` or `..` components.
pub(super) fn is_repo_path(file: &str) -> bool {
    !file.is_empty()
        && !file.contains('\\')
        && file
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_huggingface_hub() {
        let cache = RepoCache::new(Path::new("/c"), "tr", "line");
        assert_eq!(
            cache.blob("abc"),
            Path::new("/c/models--tr--line/blobs/abc")
        );
        assert_eq!(
            cache.snapshot("0123", "sub/lm.json"),
            Path::new("/c/models--tr--line/snapshots/0123/sub/lm.json")
        );
        assert_eq!(cache.locks, Path::new("/c/.locks/models--tr--line"));
    }

    #[test]
    fn refs_resolve_and_commits_stand_for_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RepoCache::new(dir.path(), "tr", "line");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(cache.commit_of("main"), None);
        cache.write_ref("main", commit).unwrap();
        assert_eq!(cache.commit_of("main").as_deref(), Some(commit));
        assert_eq!(cache.commit_of(commit).as_deref(), Some(commit));
        // A commit is never written as a ref.
        cache.write_ref(commit, commit).unwrap();
        assert!(!dir
            .path()
            .join("models--tr--line/refs")
            .join(commit)
            .exists());
    }

    #[test]
    fn snapshot_entries_point_at_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RepoCache::new(dir.path(), "tr", "line");
        let blob = cache.blob("e1");
        std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
        std::fs::write(&blob, b"weights").unwrap();
        for file in ["model.safetensors", "sub/dir/lm.json"] {
            let pointer = cache.link("c0ffee", file, "e1").unwrap();
            assert_eq!(std::fs::read(&pointer).unwrap(), b"weights");
            // Linking again replaces the entry.
            cache.link("c0ffee", file, "e1").unwrap();
        }
        cache.mark_missing("c0ffee", "README.md");
        assert!(cache.is_missing("c0ffee", "README.md"));
        assert!(!cache.is_missing("c0ffee", "lm.json"));
        drop(cache.lock("e1").unwrap());
    }

    #[test]
    fn names_from_the_server_and_the_config_are_checked() {
        assert!(is_safe_name("0a1b-c_d.e"));
        for bad in ["", "..", ".x", "a/b", "a\\b", "a b"] {
            assert!(!is_safe_name(bad), "{bad}");
        }
        assert!(is_repo_path("model.safetensors") && is_repo_path("lm/lm.json"));
        for bad in ["", "/abs", "a//b", "../x", "a/./b", "a\\b", "x/"] {
            assert!(!is_repo_path(bad), "{bad}");
        }
        assert!(is_commit_hash("0123456789abcdef0123456789abcdef01234567"));
        assert!(!is_commit_hash("main"));
    }
}
