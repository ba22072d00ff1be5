//! Artifacts on the Hugging Face hub (feature `hub`, on by default): see
//! [`fetch_artifact`].

mod cache;
mod download;
mod http;
mod settings;

use std::path::{Path, PathBuf};

use crate::artifact::{file_info, ArtifactConfig, CARD_FILE, CONFIG_FILE};
use crate::decoder::DecoderConfig;
use crate::error::{Error, Result};

use cache::{is_repo_path, RepoCache};
use download::Repo;
use http::Client;

/// Where to fetch from; every field falls back to the environment.
#[derive(Clone, Debug, Default)]
pub struct HubOptions {
    /// Base URL of the hub (`HF_ENDPOINT`).
    pub endpoint: Option<String>,
    /// Cache directory (`HF_HUB_CACHE`).
    pub cache_dir: Option<PathBuf>,
    /// Branch, tag or commit (default `main`).
    pub revision: Option<String>,
}

/// Downloads the artifact of `repo_id` (`owner/name`) and returns the local
/// directory that holds its files.
///
/// A hub model repository holding an artifact directory's files
/// (`config.json`, `model.safetensors`, optionally `lm.json` and
/// `README.md`) is fetched file by file into the hub cache and loaded from
/// there; later calls reuse the cache (a `HEAD` request checks for a newer
/// revision).
///
/// * Endpoint: [`HubOptions::endpoint`], else `HF_ENDPOINT`, else
///   `https://huggingface.co` (so a mirror or a test server can stand in).
/// * Cache: [`HubOptions::cache_dir`], else `HF_HUB_CACHE`, else
///   `$HF_HOME/hub`, else `~/.cache/huggingface/hub`, in the layout
///   `huggingface_hub` and `hf-hub` use (they share it).
/// * Token: `HF_TOKEN`, else `HF_TOKEN_PATH`, else the token file of
///   `huggingface-cli login` (`$HF_HOME/token`).
///
/// `config.json` is fetched first; the other files are then fetched at the
/// commit it came from, so the files always belong together, and each is
/// checked against the size and SHA-256 `config.json` records. A download
/// that does not match is removed from the cache and reported.
///
/// The hub's file API is two requests (`HEAD`/`GET
/// {endpoint}/{owner}/{name}/resolve/{revision}/{file}`), spoken here on a
/// small blocking HTTP client rather than through an SDK: no async runtime,
/// no storage-backend client in the dependency tree of an embedded
/// recogniser.
pub fn fetch_artifact(repo_id: &str, options: &HubOptions) -> Result<PathBuf> {
    let hub_err = |message: String| Error::Hub {
        repo: repo_id.to_string(),
        message,
    };
    let is_name = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let (owner, name) = match repo_id.split_once('/') {
        Some((o, n)) if is_name(o) && is_name(n) => (o, n),
        _ => {
            return Err(hub_err(
                "expected a repository id of the form owner/name".to_string(),
            ))
        }
    };
    let revision = options.revision.as_deref().unwrap_or("main");
    if !is_repo_path(revision) {
        return Err(hub_err(format!(
            "revision {revision:?} is not a branch, tag or commit name"
        )));
    }
    let cache_dir = settings::cache_dir(options.cache_dir.as_ref()).map_err(hub_err)?;
    let client = Client::new(
        settings::endpoint(options.endpoint.as_deref()),
        settings::token(),
    );
    let repo = Repo {
        client: &client,
        cache: RepoCache::new(&cache_dir, owner, name),
        id: repo_id,
    };
    let fetch = |file: &str, revision: &str| -> Result<PathBuf> {
        repo.fetch(file, revision)
            .map_err(|e| hub_err(format!("cannot fetch {file}: {e}")))
    };
    let config_path = fetch(CONFIG_FILE, revision)?;
    let dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| hub_err(format!("cached {} has no directory", config_path.display())))?;
    // The snapshot directory is named after the commit config.json came from.
    let commit = dir
        .file_name()
        .map(|c| c.to_string_lossy().into_owned())
        .ok_or_else(|| hub_err(format!("cannot tell the commit of {}", dir.display())))?;
    let config = ArtifactConfig::read(&dir)?;
    let mut files = vec![(
        config.weights.file.clone(),
        config.weights.bytes,
        config.weights.sha256.clone(),
    )];
    if let DecoderConfig::Beam { lm: Some(lm), .. } = &config.decoder {
        files.push((lm.file.clone(), lm.bytes, lm.sha256.clone()));
    }
    for (file, bytes, sha) in files {
        if !is_repo_path(&file) {
            return Err(hub_err(format!(
                "{CONFIG_FILE} names the file {file:?}, which is not a path inside the repository"
            )));
        }
        let path = fetch(&file, &commit)?;
        check_download(&path, bytes, sha.as_deref()).map_err(|m| {
            remove_cached(&path);
            hub_err(format!(
                "{file}: {m}; the bad copy was removed from the cache, fetching again may help"
            ))
        })?;
    }
    // The model card is documentation: a repository without one still loads.
    if let Err(e) = fetch(CARD_FILE, &commit) {
        tracing::debug!("{e}");
    }
    Ok(dir)
}

/// Size and hash of a downloaded file against `config.json`.
fn check_download(
    path: &Path,
    bytes: Option<u64>,
    sha256: Option<&str>,
) -> std::result::Result<(), String> {
    let info = file_info(path).map_err(|e| e.to_string())?;
    if let Some(want) = bytes {
        if info.bytes != want {
            return Err(format!(
                "downloaded {} bytes, config.json records {want} (incomplete or wrong download)",
                info.bytes
            ));
        }
    }
    if let Some(want) = sha256 {
        if !info.sha256.eq_ignore_ascii_case(want) {
            return Err(format!(
                "downloaded content has SHA-256 {}, config.json records {want}",
                info.sha256
            ));
        }
    }
    Ok(())
}

/// Deletes a cached file: the blob a snapshot entry points to, then the entry.
fn remove_cached(path: &Path) {
    if let Ok(target) = std::fs::canonicalize(path) {
        let _ = std::fs::remove_file(target);
    }
    let _ = std::fs::remove_file(path);
}
