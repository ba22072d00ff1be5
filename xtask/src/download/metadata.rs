//! Dataset metadata: `data/raw/<name>/metadata.toml`.
//!
//! One TOML file per dataset lists every file the downloader knows: where to
//! fetch it (`url`, optional), its SHA-256 digest and size where known, and
//! for zip archives which members to extract. The format is documented in
//! `docs/data.md`; [`Metadata::parse`] enforces it.
//!
//! The committed files are compiled into the binary ([`builtin`]), so the
//! command works from any data root; a data root's own `raw/<name>/metadata.toml`
//! or an explicit `--metadata-dir` takes precedence (tests point URLs at a
//! local server this way).

use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use super::error::{Error, Result};

/// The datasets with committed metadata, in the order `--help` lists them.
pub const DATASETS: [&str; 4] = ["emnist", "mnist", "brown", "iam"];

/// File names the downloader writes itself; metadata may not claim them.
const RESERVED: [&str; 1] = ["SHA256SUMS"];
/// Suffixes of the downloader's own bookkeeping files.
const RESERVED_SUFFIXES: [&str; 4] = [".part", ".corrupt", ".tmp", ".extracted.toml"];

/// The metadata of one dataset.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Dataset name, equal to its directory under `raw/` and `downloaded/`.
    pub name: String,
    /// One line saying what the data is.
    pub description: String,
    /// License and terms of use as stated by the distributor.
    pub license: String,
    /// Where the dataset is described.
    #[serde(default)]
    pub homepage: Option<String>,
    /// Files fetched when no `--file` is given (default: every file with a `url`).
    #[serde(default)]
    pub download: Option<Vec<String>>,
    /// Every file the downloader knows, archives and individual files alike.
    #[serde(rename = "file")]
    pub files: Vec<FileSpec>,
}

/// One known file of a dataset.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Path relative to `downloaded/<dataset>/` (usually a bare file name).
    pub name: String,
    /// HTTP(S) location; files without one can only be imported with `--from`.
    #[serde(default)]
    pub url: Option<String>,
    /// Lowercase hex SHA-256 digest, where known.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Size in bytes, where known.
    #[serde(default)]
    pub size: Option<u64>,
    /// Free text (provenance, alternatives).
    #[serde(default)]
    pub note: Option<String>,
    /// Zip members to extract after the file is in place.
    #[serde(default)]
    pub extract: Option<Extract>,
}

/// Which members of a zip archive to extract, and where.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extract {
    /// Member patterns: an exact member path, a directory prefix ending in
    /// `/` (everything below it), or `*` (every member).
    pub members: Vec<String>,
    /// Removed from the front of member paths to form the output path
    /// (`gzip/` turns `gzip/x.gz` into `x.gz`); must end in `/`.
    #[serde(default)]
    pub strip_prefix: Option<String>,
}

/// Where a [`Metadata`] value was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataSource {
    /// A file on disk.
    File(PathBuf),
    /// The copy of `data/raw/<name>/metadata.toml` compiled into the binary.
    Builtin(String),
}

impl std::fmt::Display for MetadataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Builtin(name) => write!(f, "built-in copy of data/raw/{name}/metadata.toml"),
        }
    }
}

/// The committed metadata text of dataset `name`, compiled into the binary.
pub fn builtin(name: &str) -> Option<&'static str> {
    Some(match name {
        "emnist" => include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/raw/emnist/metadata.toml"
        )),
        "mnist" => include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/raw/mnist/metadata.toml"
        )),
        "brown" => include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/raw/brown/metadata.toml"
        )),
        "iam" => include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/raw/iam/metadata.toml"
        )),
        _ => return None,
    })
}

/// Finds and parses the metadata of `name`: `<metadata_dir>/<name>/metadata.toml`
/// when a directory is given (the file must exist), else
/// `<data_root>/raw/<name>/metadata.toml` when it exists, else the built-in copy
/// (only the four [`DATASETS`] have one).
pub fn resolve(
    name: &str,
    metadata_dir: Option<&Path>,
    data_root: &Path,
) -> Result<(Metadata, MetadataSource)> {
    if let Some(dir) = metadata_dir {
        let path = dir.join(name).join("metadata.toml");
        if !path.is_file() && builtin(name).is_none() {
            return Err(unknown_dataset(name));
        }
        return Ok((Metadata::load(&path, name)?, MetadataSource::File(path)));
    }
    let local = data_root.join("raw").join(name).join("metadata.toml");
    if local.is_file() {
        return Ok((Metadata::load(&local, name)?, MetadataSource::File(local)));
    }
    let Some(text) = builtin(name) else {
        return Err(unknown_dataset(name));
    };
    let origin = PathBuf::from(format!("data/raw/{name}/metadata.toml (built in)"));
    let meta = Metadata::parse(text, &origin, name)?;
    Ok((meta, MetadataSource::Builtin(name.to_string())))
}

fn unknown_dataset(name: &str) -> Error {
    Error::UnknownDataset {
        name: name.to_string(),
        known: DATASETS.join(", "),
    }
}

impl Metadata {
    /// Reads and validates `path`, which must describe dataset `name`.
    pub fn load(path: &Path, name: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path, name)
    }

    /// Parses and validates metadata text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path, name: &str) -> Result<Self> {
        let mut meta: Metadata = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            let line = e.span().map(|s| text[..s.start].lines().count().max(1));
            Error::metadata(
                origin,
                line.map_or(msg.clone(), |l| format!("line {l}: {msg}")),
            )
        })?;
        if meta.name != name {
            return Err(Error::metadata(
                origin,
                format!(
                    "name = {:?}, expected {name:?} (the dataset's directory name)",
                    meta.name
                ),
            ));
        }
        meta.validate(origin)?;
        for f in &mut meta.files {
            f.sha256 = f.sha256.as_ref().map(|d| d.to_ascii_lowercase());
        }
        Ok(meta)
    }

    fn validate(&self, origin: &Path) -> Result<()> {
        let err = |m: String| Err(Error::metadata(origin, m));
        if self.files.is_empty() {
            return err("no [[file]] entries: expected at least one".into());
        }
        for (i, f) in self.files.iter().enumerate() {
            let at = format!("file[{i}] ({:?})", f.name);
            if let Err(why) = check_relative(&f.name, false) {
                return err(format!("{at}: name {why}"));
            }
            let base = f.basename();
            if RESERVED.contains(&base) || RESERVED_SUFFIXES.iter().any(|s| base.ends_with(s)) {
                return err(format!(
                    "{at}: name is reserved for the downloader's own files"
                ));
            }
            if self.files[..i].iter().any(|g| g.name == f.name) {
                return err(format!("{at}: duplicate file name"));
            }
            if let Some(url) = &f.url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return err(format!(
                        "{at}: url {url:?} must start with http:// or https://"
                    ));
                }
            }
            if let Some(d) = &f.sha256 {
                if d.len() != 64 || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return err(format!("{at}: sha256 {d:?} must be 64 hex digits"));
                }
            }
            if let Some(x) = &f.extract {
                if !f.name.ends_with(".zip") {
                    return err(format!("{at}: extract is only supported for .zip files"));
                }
                if x.members.is_empty() {
                    return err(format!("{at}: extract.members is empty"));
                }
                for m in &x.members {
                    if m != "*" {
                        if let Err(why) = check_relative(m, true) {
                            return err(format!("{at}: extract member {m:?} {why}"));
                        }
                    }
                }
                if let Some(p) = &x.strip_prefix {
                    if !p.ends_with('/') || check_relative(p, true).is_err() {
                        return err(format!("{at}: extract.strip_prefix {p:?} must be a relative directory ending in '/'"));
                    }
                }
            }
        }
        for d in self.download.iter().flatten() {
            match self.file(d) {
                None => {
                    return err(format!(
                        "download lists {d:?}, which is not a [[file]] name"
                    ))
                }
                Some(f) if f.url.is_none() => {
                    return err(format!("download lists {d:?}, which has no url"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The known file called `name`.
    pub fn file(&self, name: &str) -> Option<&FileSpec> {
        self.files.iter().find(|f| f.name == name)
    }

    /// Files to download: `wanted` by name, or the default set when empty.
    pub fn select(&self, wanted: &[String]) -> Result<Vec<&FileSpec>> {
        let selection_err = |message: String| Error::Selection {
            dataset: self.name.clone(),
            message,
        };
        let downloadable = || {
            let names: Vec<&str> = self
                .files
                .iter()
                .filter(|f| f.url.is_some())
                .map(|f| f.name.as_str())
                .collect();
            if names.is_empty() {
                "none (import it with --from)".to_string()
            } else {
                names.join(", ")
            }
        };
        if wanted.is_empty() {
            let chosen: Vec<&FileSpec> = match &self.download {
                Some(names) => names.iter().filter_map(|n| self.file(n)).collect(),
                None => self.files.iter().filter(|f| f.url.is_some()).collect(),
            };
            if chosen.is_empty() {
                return Err(selection_err(
                    "no file has a download url; import it with --from".into(),
                ));
            }
            return Ok(chosen);
        }
        wanted
            .iter()
            .map(|w| match self.file(w) {
                Some(f) if f.url.is_some() => Ok(f),
                Some(_) => Err(selection_err(format!(
                    "{w} has no download url; downloadable: {}",
                    downloadable()
                ))),
                None => Err(selection_err(format!(
                    "unknown file {w}; downloadable: {}",
                    downloadable()
                ))),
            })
            .collect()
    }

    /// Every known file name, comma separated (for error messages).
    pub fn known_names(&self) -> String {
        self.files
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl FileSpec {
    /// The last path component of [`FileSpec::name`].
    pub fn basename(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

/// Checks that `p` is a relative `/`-separated path without `.`/`..`
/// components, backslashes or NUL; `dir_ok` allows a trailing `/`.
pub fn check_relative(p: &str, dir_ok: bool) -> std::result::Result<(), &'static str> {
    let body = if dir_ok {
        p.strip_suffix('/').unwrap_or(p)
    } else {
        p
    };
    if body.is_empty() {
        return Err("is empty");
    }
    if p.contains('\\') || p.contains('\0') {
        return Err("contains a backslash or NUL");
    }
    if body
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err("must be a relative path without empty, '.' or '..' components");
    }
    if !Path::new(body)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err("must be a relative path");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        name = "toy"
        description = "a toy"
        license = "none"
        download = ["a.zip"]
        [[file]]
        name = "a.zip"
        url = "http://127.0.0.1:1/a.zip"
        sha256 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
        extract = { members = ["dir/"], strip_prefix = "dir/" }
        [[file]]
        name = "b.txt"
        size = 3
    "#;

    fn parse(text: &str) -> Result<Metadata> {
        Metadata::parse(text, Path::new("toy.toml"), "toy")
    }

    #[test]
    fn parses_and_lowercases_digests() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.files.len(), 2);
        assert_eq!(
            m.files[0].sha256.as_deref(),
            Some("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")
        );
        assert_eq!(m.files[1].size, Some(3));
        assert_eq!(m.select(&[]).unwrap()[0].name, "a.zip");
        let err = m.select(&["b.txt".into()]).unwrap_err().to_string();
        assert_eq!(
            err,
            "dataset toy: b.txt has no download url; downloadable: a.zip"
        );
    }

    #[test]
    fn rejects_bad_fields_with_the_field_named() {
        let cases = [
            (
                GOOD.replace("\"toy\"", "\"other\""),
                "name = \"other\", expected \"toy\"",
            ),
            (GOOD.replace("ABCDEF", "XYZ"), "sha256 \"XYZ"),
            (
                GOOD.replace("http://127", "ftp://127"),
                "must start with http",
            ),
            (
                GOOD.replace("\"b.txt\"", "\"../b.txt\""),
                "file[1] (\"../b.txt\"): name must be a relative path",
            ),
            (
                GOOD.replace("\"b.txt\"", "\"a.zip\""),
                "duplicate file name",
            ),
            (
                GOOD.replace("download = [\"a.zip\"]", "download = [\"b.txt\"]"),
                "which has no url",
            ),
            (
                GOOD.replace("strip_prefix = \"dir/\"", "strip_prefix = \"dir\""),
                "strip_prefix",
            ),
            (
                GOOD.replace("size = 3", "size = 3\nsizes = 4"),
                "unknown field `sizes`",
            ),
        ];
        for (text, want) in cases {
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.starts_with("toy.toml: "), "{err}");
            assert!(err.contains(want), "{err} does not contain {want}");
        }
    }

    #[test]
    fn committed_metadata_parses() {
        for name in DATASETS {
            let m = Metadata::parse(builtin(name).unwrap(), Path::new(name), name).unwrap();
            assert!(!m.select(&[]).unwrap().is_empty(), "{name}");
            assert!(m
                .files
                .iter()
                .all(|f| f.url.as_deref().is_none_or(|u| u.starts_with("https://"))));
        }
        assert!(builtin("nope").is_none());
    }

    #[test]
    fn resolution_order_is_dir_then_data_root_then_builtin() {
        let root = tempfile::tempdir().unwrap();
        let (m, src) = resolve("brown", None, root.path()).unwrap();
        assert_eq!(src, MetadataSource::Builtin("brown".into()));
        assert_eq!(m.files[0].name, "brown.zip");

        let raw = root.path().join("raw/toy");
        std::fs::create_dir_all(&raw).unwrap();
        std::fs::write(raw.join("metadata.toml"), GOOD).unwrap();
        let (m, src) = resolve("toy", None, root.path()).unwrap();
        assert_eq!(src, MetadataSource::File(raw.join("metadata.toml")));
        assert_eq!(m.name, "toy");
        let (_, src) = resolve(
            "toy",
            Some(&root.path().join("raw")),
            Path::new("/nonexistent"),
        )
        .unwrap();
        assert_eq!(src, MetadataSource::File(raw.join("metadata.toml")));

        let err = resolve("cifar", None, root.path()).unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown dataset \"cifar\": expected one of emnist, mnist, brown, iam"
        );
        let err = resolve("mnist", Some(root.path()), root.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                &root
                    .path()
                    .join("mnist/metadata.toml")
                    .display()
                    .to_string()
            ),
            "{err}"
        );
    }

    #[test]
    fn relative_paths() {
        assert!(check_relative("a/b.gz", false).is_ok());
        assert!(check_relative("a/", true).is_ok());
        assert!(check_relative("a/", false).is_err());
        for bad in ["/etc/passwd", "a/../../b", "..", "./a", "a\\b", "", "a//b"] {
            assert!(check_relative(bad, true).is_err(), "{bad}");
        }
    }
}
