//! Endpoint, cache directory and token, from [`HubOptions`](super::HubOptions)
//! and the environment, resolved in the order `huggingface_hub` uses (an
//! empty variable counts as unset).

use std::path::PathBuf;

/// The public hub.
const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Base URL without a trailing `/`: `option`, else `HF_ENDPOINT`, else the
/// public hub.
pub(super) fn endpoint(option: Option<&str>) -> String {
    let endpoint = option
        .map(str::to_string)
        .or_else(|| var("HF_ENDPOINT"))
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    endpoint.trim_end_matches('/').to_string()
}

/// `option`, else `HF_HUB_CACHE`, else `HUGGINGFACE_HUB_CACHE`, else
/// `<hf home>/hub`.
pub(super) fn cache_dir(option: Option<&PathBuf>) -> Result<PathBuf, String> {
    if let Some(dir) = option {
        return Ok(dir.clone());
    }
    if let Some(dir) = var("HF_HUB_CACHE").or_else(|| var("HUGGINGFACE_HUB_CACHE")) {
        return Ok(PathBuf::from(dir));
    }
    Ok(hf_home()?.join("hub"))
}

/// The access token: none when `HF_HUB_DISABLE_IMPLICIT_TOKEN` is set, else
/// `HF_TOKEN`, else the file `HF_TOKEN_PATH` names, else `<hf home>/token`
/// (written by `huggingface-cli login`).
pub(super) fn token() -> Option<String> {
    if var("HF_HUB_DISABLE_IMPLICIT_TOKEN").is_some() {
        return None;
    }
    if let Some(token) = var("HF_TOKEN") {
        return Some(token);
    }
    let from_file = |path: PathBuf| {
        let token = std::fs::read_to_string(path).ok()?.trim().to_string();
        (!token.is_empty()).then_some(token)
    };
    if let Some(token) = var("HF_TOKEN_PATH").and_then(|p| from_file(PathBuf::from(p))) {
        return Some(token);
    }
    hf_home()
        .ok()
        .and_then(|home| from_file(home.join("token")))
}

/// `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else
/// `~/.cache/huggingface`.
fn hf_home() -> Result<PathBuf, String> {
    if let Some(home) = var("HF_HOME") {
        return Ok(PathBuf::from(home));
    }
    if let Some(cache) = var("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(cache).join("huggingface"));
    }
    var("HOME")
        .or_else(|| var("USERPROFILE"))
        .map(|home| PathBuf::from(home).join(".cache").join("huggingface"))
        .ok_or_else(|| {
            "cannot locate the hub cache: no home directory (HOME); set HF_HUB_CACHE or HF_HOME"
                .to_string()
        })
}

/// A set, non-empty environment variable.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_endpoint_loses_its_trailing_slash() {
        assert_eq!(endpoint(Some("http://mirror/")), "http://mirror");
        assert_eq!(endpoint(Some("http://mirror")), "http://mirror");
    }

    #[test]
    fn an_explicit_cache_dir_wins() {
        let dir = PathBuf::from("/somewhere");
        assert_eq!(cache_dir(Some(&dir)).unwrap(), dir);
    }
}
