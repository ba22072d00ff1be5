//! The on-disk cache of synthetic lines: one safetensors file per parameter set.
//!
//! `<processed>/<dataset>/<key>.safetensors` holds, per split `train`, `val`,
//! `test`: `<split>.images` (`u8`, `(N, H, W)`), `<split>.labels` (`u8` when
//! every label fits, else `u32`, `(N, L)`), and in the header metadata
//! `<split>.texts` (JSON list), `params` (the JSON the key hashes), `key`,
//! `format`, `format_version` and `sha256` (digest of all tensor bytes in
//! split order). `key` is the first 16 hex digits of the SHA-256 of `params`,
//! which must hold every parameter that changes the content (config, seeds,
//! format version) and the identity of every source file — name, length and
//! SHA-256 ([`crate::file_identity`]), so a replaced file is a new key.
//!
//! Writes are atomic (temporary file + rename). A file that cannot be read,
//! has other parameters, wrong shapes or a wrong digest is reported
//! (`tracing::warn!`) and regenerated — never used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use sha2::{Digest, Sha256};

use super::synthetic_lines::LineSplit;
use crate::error::{Error, Result};
use crate::paths::DataDir;

const FORMAT: &str = "tr-synthetic-lines";
/// Bumped whenever generation changes what a given parameter set produces.
pub const FORMAT_VERSION: u32 = 1;
const SPLITS: [&str; 3] = ["train", "val", "test"];

/// The three splits of a synthetic line dataset.
#[derive(Clone, Debug)]
pub struct LineSets {
    pub train: LineSplit,
    pub val: LineSplit,
    pub test: LineSplit,
}

impl LineSets {
    fn splits(&self) -> [&LineSplit; 3] {
        [&self.train, &self.val, &self.test]
    }
}

/// One cache entry, identified by its parameters.
#[derive(Clone, Debug)]
pub struct LineCache {
    path: PathBuf,
    key: String,
    params: String,
    /// Expected `(height, width, label_len)` of every split.
    shape: (usize, usize, usize),
}

impl LineCache {
    /// The entry for `params` under `<processed>/<sub>/`; `shape` is the
    /// `(height, width, label_len)` every stored split must have.
    pub fn new(
        dir: &DataDir,
        sub: &str,
        params: &serde_json::Value,
        shape: (usize, usize, usize),
    ) -> Result<Self> {
        let (path, key, params) = cache_entry(dir, sub, params)?;
        Ok(Self {
            path,
            key,
            params,
            shape,
        })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The 16-hex-digit key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Loads the entry, or runs `generate` and stores its result. Returns the
    /// lines and a note saying which happened (for `DataModule::notes`).
    pub fn load_or_generate(
        &self,
        generate: impl FnOnce() -> Result<LineSets>,
    ) -> Result<(LineSets, String)> {
        let mut why = "not cached yet".to_string();
        if self.path.exists() {
            let started = Instant::now();
            match self.load() {
                Ok(sets) => {
                    tracing::info!(path = %self.path.display(), secs = started.elapsed().as_secs_f64(), "synthetic lines loaded from cache");
                    return Ok((
                        sets,
                        format!("lines loaded from cache {}", self.path.display()),
                    ));
                }
                Err(reason) => {
                    tracing::warn!(path = %self.path.display(), %reason, "cache file is unusable; regenerating");
                    why = format!("cache file was unusable ({reason})");
                }
            }
        }
        // Fail before the work, not after it, when the cache cannot be written.
        self.create_dir()?;
        let started = Instant::now();
        let sets = generate()?;
        let generated = started.elapsed().as_secs_f64();
        self.store(&sets)?;
        tracing::info!(
            path = %self.path.display(),
            generate_secs = generated,
            total_secs = started.elapsed().as_secs_f64(),
            "synthetic lines generated and cached"
        );
        Ok((
            sets,
            format!(
                "lines generated in {generated:.1}s ({why}) and cached at {}",
                self.path.display()
            ),
        ))
    }

    /// Reads and fully checks the cache file; the error says why it is unusable.
    pub fn load(&self) -> std::result::Result<LineSets, String> {
        let buf = std::fs::read(&self.path).map_err(|e| format!("cannot read it: {e}"))?;
        let (offsets, labels, texts) = self.check(&buf)?;
        let buf = Arc::new(buf);
        let (h, w, l) = self.shape;
        let mut splits =
            offsets
                .into_iter()
                .zip(labels)
                .zip(texts)
                .map(|((offset, labels), texts)| {
                    LineSplit::new(buf.clone(), offset, (h, w), labels, l, texts)
                        .map_err(|e| e.to_string())
                });
        let (Some(train), Some(val), Some(test)) = (splits.next(), splits.next(), splits.next())
        else {
            return Err("missing splits".to_string());
        };
        Ok(LineSets {
            train: train?,
            val: val?,
            test: test?,
        })
    }

    /// Validates `buf`; returns per split the image offset, labels and texts.
    #[allow(clippy::type_complexity)]
    fn check(
        &self,
        buf: &[u8],
    ) -> std::result::Result<(Vec<usize>, Vec<Vec<u32>>, Vec<Vec<String>>), String> {
        let st = SafeTensors::deserialize(buf)
            .map_err(|e| format!("not a valid safetensors file: {e}"))?;
        let (_, meta) = SafeTensors::read_metadata(buf).map_err(|e| format!("bad header: {e}"))?;
        let meta: HashMap<String, String> = meta.metadata().clone().unwrap_or_default();
        let get = |k: &str| {
            meta.get(k)
                .map(String::as_str)
                .ok_or_else(|| format!("metadata has no {k:?}"))
        };
        if get("format")? != FORMAT || get("format_version")? != FORMAT_VERSION.to_string() {
            return Err(format!(
                "format {:?} v{:?}, expected {FORMAT} v{FORMAT_VERSION}",
                get("format")?,
                get("format_version")?
            ));
        }
        if get("key")? != self.key || get("params")? != self.params {
            return Err("it was written for other parameters".to_string());
        }
        let (h, w, l) = self.shape;
        let mut hasher = Sha256::new();
        let (mut offsets, mut all_labels, mut all_texts) = (Vec::new(), Vec::new(), Vec::new());
        for split in SPLITS {
            let texts: Vec<String> = serde_json::from_str(get(&format!("{split}.texts"))?)
                .map_err(|e| format!("{split}.texts is not a JSON list of strings: {e}"))?;
            let n = texts.len();
            let images = st
                .tensor(&format!("{split}.images"))
                .map_err(|e| format!("{split}.images: {e}"))?;
            if images.dtype() != Dtype::U8 || images.shape() != [n, h, w] {
                return Err(format!(
                    "{split}.images is {:?} {:?}, expected U8 [{n}, {h}, {w}]",
                    images.dtype(),
                    images.shape()
                ));
            }
            let labels = st
                .tensor(&format!("{split}.labels"))
                .map_err(|e| format!("{split}.labels: {e}"))?;
            if labels.shape() != [n, l] {
                return Err(format!(
                    "{split}.labels has shape {:?}, expected [{n}, {l}]",
                    labels.shape()
                ));
            }
            let values: Vec<u32> = match labels.dtype() {
                Dtype::U8 => labels.data().iter().map(|&b| u32::from(b)).collect(),
                Dtype::U32 => labels
                    .data()
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
                other => {
                    return Err(format!(
                        "{split}.labels has dtype {other:?}, expected U8 or U32"
                    ))
                }
            };
            hasher.update(images.data());
            hasher.update(labels.data());
            offsets.push(images.data().as_ptr() as usize - buf.as_ptr() as usize);
            all_labels.push(values);
            all_texts.push(texts);
        }
        let digest = hex::encode(hasher.finalize());
        if get("sha256")? != digest {
            return Err("content digest mismatch (the file is corrupt)".to_string());
        }
        Ok((offsets, all_labels, all_texts))
    }

    /// Creates the cache directory; returns it.
    fn create_dir(&self) -> Result<&Path> {
        create_cache_dir(&self.path)
    }

    /// Writes `sets` atomically (temporary file in the same directory, then rename).
    pub fn store(&self, sets: &LineSets) -> Result<()> {
        let dir = self.create_dir()?;
        let wide = sets
            .splits()
            .iter()
            .any(|s| s.labels().iter().any(|&l| l > 255));
        let label_bytes: Vec<Vec<u8>> = sets
            .splits()
            .iter()
            .map(|s| encode_labels(s.labels(), wide))
            .collect();
        let mut hasher = Sha256::new();
        let mut metadata = HashMap::new();
        let mut views = Vec::new();
        for ((name, split), labels) in SPLITS.iter().zip(sets.splits()).zip(&label_bytes) {
            let (h, w) = split.image_size();
            let n = split.len();
            hasher.update(split.images());
            hasher.update(labels);
            let view = |dtype, shape: Vec<usize>, data| {
                TensorView::new(dtype, shape, data)
                    .map_err(|e| Error::invalid("cache tensor", e.to_string()))
            };
            views.push((
                format!("{name}.images"),
                view(Dtype::U8, vec![n, h, w], split.images())?,
            ));
            let dtype = if wide { Dtype::U32 } else { Dtype::U8 };
            views.push((
                format!("{name}.labels"),
                view(dtype, vec![n, split.label_len()], labels)?,
            ));
            let texts = serde_json::to_string(split.texts())
                .map_err(|e| Error::invalid("cache texts", e.to_string()))?;
            metadata.insert(format!("{name}.texts"), texts);
        }
        metadata.insert("format".to_string(), FORMAT.to_string());
        metadata.insert("format_version".to_string(), FORMAT_VERSION.to_string());
        metadata.insert("key".to_string(), self.key.clone());
        metadata.insert("params".to_string(), self.params.clone());
        metadata.insert("sha256".to_string(), hex::encode(hasher.finalize()));
        let tmp = dir.join(format!(".{}.tmp-{}", self.key, std::process::id()));
        let written = safetensors::serialize_to_file(views, Some(metadata), &tmp)
            .map_err(|e| Error::format(&tmp, format!("cannot write the cache: {e}")))
            .and_then(|()| std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e)));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

/// Labels as little-endian `u32` when `wide`, else one byte each (all < 256).
fn encode_labels(labels: &[u32], wide: bool) -> Vec<u8> {
    if wide {
        labels.iter().flat_map(|l| l.to_le_bytes()).collect()
    } else {
        labels.iter().map(|&l| l as u8).collect()
    }
}

/// The file, 16-hex-digit key and parameter JSON of the cache entry for
/// `params` under `<processed>/<sub>/` (every on-disk cache of the crate).
pub(crate) fn cache_entry(
    dir: &DataDir,
    sub: &str,
    params: &serde_json::Value,
) -> Result<(PathBuf, String, String)> {
    let params = serde_json::to_string(params)
        .map_err(|e| Error::invalid("cache parameters", e.to_string()))?;
    let key = hex::encode(Sha256::digest(params.as_bytes()))[..16].to_string();
    let path = dir.processed().join(sub).join(format!("{key}.safetensors"));
    Ok((path, key, params))
}

/// Creates the folder of cache file `path`; returns it. The error says how
/// to point caches elsewhere.
pub(crate) fn create_cache_dir(path: &Path) -> Result<&Path> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            dir,
            std::io::Error::new(
                e.kind(),
                format!("cannot create the cache directory ({e}); set TR_CACHE_DIR to a writable directory"),
            ),
        )
    })?;
    Ok(dir)
}
