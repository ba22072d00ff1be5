//! One file of a repository into the hub cache, the way `hf_hub_download`
//! does it: a file at a commit hash that is already cached is used without
//! asking the hub; otherwise `HEAD` gives the commit and ETag the revision
//! resolves to, a blob with that ETag is reused or downloaded (under a lock,
//! through `<blob>.incomplete`), and `snapshots/<commit>/<file>` points at it.
//! When the hub cannot be reached, the copy cached for the revision is used.

use std::path::PathBuf;

use super::cache::{is_commit_hash, is_safe_name, RepoCache};
use super::http::{Client, Failure};

/// A repository on one endpoint, with its cache.
pub(super) struct Repo<'a> {
    pub client: &'a Client,
    pub cache: RepoCache,
    /// `owner/name`.
    pub id: &'a str,
}

impl Repo<'_> {
    /// The cached path of `file` at `revision`, downloading it if needed.
    pub(super) fn fetch(&self, file: &str, revision: &str) -> Result<PathBuf, String> {
        if is_commit_hash(revision) {
            let cached = self.cache.snapshot(revision, file);
            if cached.exists() {
                return Ok(cached);
            }
        }
        match self.fetch_online(file, revision) {
            Ok(path) => Ok(path),
            Err(Failure::Unreachable(message)) => match self.cached(file, revision) {
                Some(path) => {
                    tracing::warn!("{message}; using the cached {}", path.display());
                    Ok(path)
                }
                None => Err(format!("{message} (and no cached copy)")),
            },
            Err(Failure::Refused(message)) => Err(message),
        }
    }

    fn fetch_online(&self, file: &str, revision: &str) -> Result<PathBuf, Failure> {
        let url = self.client.file_url(self.id, revision, file);
        let head = self.client.head(&url)?;
        let commit = head.commit.filter(|c| is_safe_name(c));
        if head.status == 404 {
            if let Some(commit) = &commit {
                self.cache.mark_missing(commit, file);
                let _ = self.cache.write_ref(revision, commit);
            }
            let what = head.error.unwrap_or_else(|| "not found".to_string());
            return Err(Failure::Refused(format!("{url}: HTTP 404 ({what})")));
        }
        if !(200..400).contains(&head.status) {
            let mut message = format!("HEAD {url}: HTTP {}", head.status);
            if let Some(detail) = head.error {
                message.push_str(&format!(" ({detail})"));
            }
            if matches!(head.status, 401 | 403) {
                message.push_str(
                    "; the repository may be private or gated (set HF_TOKEN), or not exist",
                );
            }
            return Err(Failure::Refused(message));
        }
        let missing = |header: &str| {
            Failure::Refused(format!(
                "HEAD {url}: no usable {header} header (is this a hub endpoint?)"
            ))
        };
        let commit = commit.ok_or_else(|| missing("X-Repo-Commit"))?;
        let etag = head
            .etag
            .filter(|e| is_safe_name(e))
            .ok_or_else(|| missing("ETag"))?;
        let local = |e: crate::Error| Failure::Refused(e.to_string());

        let blob = self.cache.blob(&etag);
        if !blob.exists() {
            let _lock = self.cache.lock(&etag).map_err(local)?;
            // Another process may have finished it while we waited.
            if !blob.exists() {
                if let Some(dir) = blob.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Failure::Refused(format!("{}: {e}", dir.display())))?;
                }
                let partial = PathBuf::from(format!("{}.incomplete", blob.display()));
                tracing::debug!("downloading {url} into {}", partial.display());
                let result = self.client.download(&url, &partial).and_then(|_| {
                    std::fs::rename(&partial, &blob)
                        .map_err(|e| Failure::Refused(format!("{}: {e}", blob.display())))
                });
                if let Err(e) = result {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e);
                }
            }
        }
        self.cache.write_ref(revision, &commit).map_err(local)?;
        self.cache.link(&commit, file, &etag).map_err(local)
    }

    /// The file cached for `revision` (its ref or itself as a commit).
    fn cached(&self, file: &str, revision: &str) -> Option<PathBuf> {
        let commit = self.cache.commit_of(revision)?;
        if self.cache.is_missing(&commit, file) {
            return None;
        }
        Some(self.cache.snapshot(&commit, file)).filter(|p| p.exists())
    }
}
