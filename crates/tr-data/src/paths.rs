//! Where data lives: the data root, raw dataset files and caches.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment variable naming the data root.
pub const DATA_DIR_ENV: &str = "TR_DATA_DIR";
/// Environment variable naming the cache directory (default `<root>/processed`).
pub const CACHE_DIR_ENV: &str = "TR_CACHE_DIR";
/// The data root when neither `--data-dir` nor `TR_DATA_DIR` names one.
pub const DEFAULT_DATA_DIR: &str = "data";

/// The data root every command uses: `explicit` (`--data-dir`), else
/// `$TR_DATA_DIR` when set and not empty, else `default` (`./data` for
/// [`DataDir::resolve`]; `cargo xtask` passes the workspace's `data/` so it
/// works from any directory of the checkout).
pub fn resolve_root(explicit: Option<&Path>, default: impl Into<PathBuf>) -> PathBuf {
    pick_root(explicit, env_path(DATA_DIR_ENV), default.into())
}

fn pick_root(explicit: Option<&Path>, from_env: Option<PathBuf>, default: PathBuf) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or(from_env)
        .unwrap_or(default)
}

/// A non-empty environment variable as a path.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// A resolved data root plus its cache directory.
///
/// The root is, in order: an explicit path (`--data-dir`), the environment
/// variable `TR_DATA_DIR`, then `./data`. Inside it:
///
/// * raw files of dataset `<name>` are looked up in `<root>/downloaded/<name>/`
///   (what `cargo xtask download <name>` fills) and, as a fallback, in
///   `<root>/<name>/` — so a read-only folder laid out as `<name>/<files>`
///   (e.g. `--data-dir /work/shared/data`) works directly;
/// * caches (synthetic lines, ...) go to `<root>/processed/`, or to the
///   directory named by `TR_CACHE_DIR` (needed when the root is read-only).
///
/// A missing raw file is [`Error::MissingData`] whose hint is the command
/// that fetches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
    cache: PathBuf,
}

impl DataDir {
    /// A data root at `root` with caches in `<root>/processed` (ignores the environment).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let cache = root.join("processed");
        Self { root, cache }
    }

    /// Resolves the root with [`resolve_root`] (`explicit`, else
    /// `$TR_DATA_DIR`, else `./data`); the cache directory is
    /// `$TR_CACHE_DIR` when set, else `<root>/processed`.
    pub fn resolve(explicit: Option<&Path>) -> Self {
        let dir = Self::new(resolve_root(explicit, DEFAULT_DATA_DIR));
        match env_path(CACHE_DIR_ENV) {
            Some(cache) => dir.with_cache_dir(cache),
            None => dir,
        }
    }

    /// The same root with caches in `cache`.
    pub fn with_cache_dir(mut self, cache: impl Into<PathBuf>) -> Self {
        self.cache = cache.into();
        self
    }

    /// The data root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The cache directory (`<root>/processed` unless overridden).
    pub fn processed(&self) -> &Path {
        &self.cache
    }

    /// Where `cargo xtask download <name>` puts the files of dataset `name`.
    pub fn downloaded(&self, name: &str) -> PathBuf {
        self.root.join("downloaded").join(name)
    }

    /// The directories searched for raw files of `name`, in order.
    pub fn raw_dirs(&self, name: &str) -> [PathBuf; 2] {
        [self.downloaded(name), self.root.join(name)]
    }

    /// The first existing `<dir>/<file>` over [`Self::raw_dirs`], if any.
    pub fn find(&self, name: &str, file: &str) -> Option<PathBuf> {
        self.raw_dirs(name)
            .into_iter()
            .map(|d| d.join(file))
            .find(|p| p.is_file())
    }

    /// Like [`Self::find`] but a missing file is [`Error::MissingData`].
    pub fn require(&self, name: &str, file: &str) -> Result<PathBuf> {
        self.find(name, file)
            .ok_or_else(|| self.missing(name, &[file]))
    }

    /// The [`Error::MissingData`] for dataset `name` when none of `files` exists.
    pub fn missing(&self, name: &str, files: &[&str]) -> Error {
        let [primary, fallback] = self.raw_dirs(name);
        let wanted = match files {
            [one] => (*one).to_string(),
            many => format!("{{{}}}", many.join(", ")),
        };
        Error::MissingData {
            path: PathBuf::from(format!(
                "{} (also looked in {})",
                primary.join(&wanted).display(),
                fallback.display()
            )),
            hint: fetch_hint(name),
        }
    }
}

impl Default for DataDir {
    /// [`DataDir::resolve`] without an explicit path.
    fn default() -> Self {
        Self::resolve(None)
    }
}

/// The command that fetches dataset `name`.
pub fn fetch_hint(name: &str) -> String {
    format!("cargo xtask download {name} [--from <dir or file>]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_explicit_then_environment_then_default() {
        let (x, e, d) = (Path::new("x"), PathBuf::from("e"), PathBuf::from("d"));
        assert_eq!(pick_root(Some(x), Some(e.clone()), d.clone()), x);
        assert_eq!(pick_root(None, Some(e.clone()), d.clone()), e);
        assert_eq!(pick_root(None, None, d.clone()), d);
        assert_eq!(resolve_root(Some(x), "d"), x);
    }

    #[test]
    fn lookup_prefers_downloaded_then_plain_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path());
        assert!(dir.find("mnist", "a.gz").is_none());
        std::fs::create_dir_all(tmp.path().join("mnist")).unwrap();
        std::fs::write(tmp.path().join("mnist/a.gz"), b"x").unwrap();
        assert_eq!(
            dir.find("mnist", "a.gz").unwrap(),
            tmp.path().join("mnist/a.gz")
        );
        std::fs::create_dir_all(tmp.path().join("downloaded/mnist")).unwrap();
        std::fs::write(tmp.path().join("downloaded/mnist/a.gz"), b"x").unwrap();
        assert_eq!(
            dir.find("mnist", "a.gz").unwrap(),
            tmp.path().join("downloaded/mnist/a.gz")
        );
        assert_eq!(dir.processed(), tmp.path().join("processed"));
    }

    #[test]
    fn missing_data_names_path_and_command() {
        let dir = DataDir::new("/nonexistent/root");
        let err = dir.require("brown", "brown.zip").unwrap_err().to_string();
        assert!(
            err.contains("/nonexistent/root/downloaded/brown/brown.zip"),
            "{err}"
        );
        assert!(err.contains("cargo xtask download brown"), "{err}");
    }
}
