//! Real crops (lines or paragraphs) of varying sizes, and their on-disk cache.
//!
//! Cutting thousands of lines out of page images takes seconds to minutes;
//! reading them back must take a fraction of a second. A [`LineSet`] keeps
//! one split's crops as one byte buffer (each crop's rows contiguous), their
//! sizes, texts and sources (`collection:page/line` ids); a [`LineStore`] is
//! the three splits plus the extraction report.
//!
//! [`StoreCache`] writes a store to `<processed>/<sub>/<key>.safetensors`:
//! per split `<split>.pixels` (`u8`, `(Σ h·w,)`) and `<split>.sizes`
//! (`u32`, `(N, 2)`: width, height), and in the metadata `<split>.texts`, `<split>.sources`
//! (JSON lists), `report` (JSON), `params` (the JSON the key hashes),
//! `key`, `format`, `format_version` and `sha256` (digest of all tensor
//! bytes in split order). `key` is the first 16 hex digits of the SHA-256
//! of `params`, which must name every input of the content: the crop
//! settings and the digest of every source file (XML and image bytes), so a
//! replaced page or a changed setting never reuses an old entry. A file
//! that cannot be read, has other parameters, wrong sizes or a wrong digest
//! is reported (`tracing::warn!`) and rebuilt — never used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::GrayImage;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::paths::DataDir;

const FORMAT: &str = "tr-real-lines";
/// Bumped whenever extraction changes what a given parameter set produces.
pub const FORMAT_VERSION: u32 = 1;
const SPLITS: [&str; 3] = ["train", "val", "test"];

/// One split's crops, each with its own size.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineSet {
    pixels: Vec<u8>,
    /// Start of each crop in `pixels`, plus the end.
    offsets: Vec<usize>,
    /// `(width, height)` of each crop.
    sizes: Vec<(u32, u32)>,
    texts: Vec<String>,
    sources: Vec<String>,
}

impl LineSet {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            offsets: vec![0],
            ..Self::default()
        }
    }

    /// Appends a crop (non-empty), its text and its source.
    pub fn push(&mut self, image: &GrayImage, text: String, source: String) -> Result<()> {
        if image.width() == 0 || image.height() == 0 {
            return Err(Error::invalid(
                "line crop",
                format!("{source}: crop is {}x{}", image.width(), image.height()),
            ));
        }
        self.pixels.extend_from_slice(image.as_raw());
        self.offsets.push(self.pixels.len());
        self.sizes.push(image.dimensions());
        self.texts.push(text);
        self.sources.push(source);
        Ok(())
    }

    /// Appends every crop of `other`.
    pub fn extend(&mut self, other: LineSet) {
        let base = self.pixels.len();
        self.pixels.extend_from_slice(&other.pixels);
        self.offsets
            .extend(other.offsets.iter().skip(1).map(|o| base + o));
        self.sizes.extend(other.sizes);
        self.texts.extend(other.texts);
        self.sources.extend(other.sources);
    }

    /// Number of crops.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// True when there are no crops.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// `(width, height)` of every crop.
    pub fn sizes(&self) -> &[(u32, u32)] {
        &self.sizes
    }

    /// The text of every crop, as extracted (not yet normalised).
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// `collection:page/line` of every crop.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Crop `i` as an image (`None` when out of range).
    pub fn image(&self, i: usize) -> Option<GrayImage> {
        let (start, end) = (*self.offsets.get(i)?, *self.offsets.get(i + 1)?);
        let (w, h) = self.sizes[i];
        GrayImage::from_raw(w, h, self.pixels[start..end].to_vec())
    }

    /// Replaces every text by `f(text)`; returns how many changed.
    pub fn normalise_texts(&mut self, f: impl Fn(&str) -> String) -> usize {
        let mut changed = 0;
        for t in &mut self.texts {
            let n = f(t);
            if n != *t {
                changed += 1;
                *t = n;
            }
        }
        changed
    }

    /// Keeps the crops for which `keep(index)` holds, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let mut out = LineSet::new();
        for i in 0..self.len() {
            if keep(i) {
                let (s, e) = (self.offsets[i], self.offsets[i + 1]);
                out.pixels.extend_from_slice(&self.pixels[s..e]);
                out.offsets.push(out.pixels.len());
                out.sizes.push(self.sizes[i]);
                out.texts.push(std::mem::take(&mut self.texts[i]));
                out.sources.push(std::mem::take(&mut self.sources[i]));
            }
        }
        *self = out;
    }

    /// Rebuilds a set from stored parts, checking every size.
    fn from_parts(
        pixels: Vec<u8>,
        sizes: Vec<(u32, u32)>,
        texts: Vec<String>,
        sources: Vec<String>,
    ) -> std::result::Result<Self, String> {
        if texts.len() != sizes.len() || sources.len() != sizes.len() {
            return Err(format!(
                "{} sizes, {} texts and {} sources",
                sizes.len(),
                texts.len(),
                sources.len()
            ));
        }
        let mut offsets = Vec::with_capacity(sizes.len() + 1);
        let mut end = 0usize;
        offsets.push(end);
        for &(w, h) in &sizes {
            if w == 0 || h == 0 {
                return Err(format!("a stored crop is {w}x{h}"));
            }
            end += w as usize * h as usize;
            offsets.push(end);
        }
        if end != pixels.len() {
            return Err(format!(
                "{} pixel bytes do not hold {} crops of the stored sizes ({end} bytes)",
                pixels.len(),
                sizes.len()
            ));
        }
        Ok(Self {
            pixels,
            offsets,
            sizes,
            texts,
            sources,
        })
    }
}

/// Three splits of crops and what extraction reported (`R`, stored as JSON).
#[derive(Clone, Debug, PartialEq)]
pub struct LineStore<R> {
    pub train: LineSet,
    pub val: LineSet,
    pub test: LineSet,
    pub report: R,
}

impl<R> LineStore<R> {
    fn splits(&self) -> [&LineSet; 3] {
        [&self.train, &self.val, &self.test]
    }
}

/// One cache entry of a [`LineStore`], identified by its parameters.
#[derive(Clone, Debug)]
pub struct StoreCache {
    path: PathBuf,
    key: String,
    params: String,
}

impl StoreCache {
    /// The entry for `params` under `<processed>/<sub>/`.
    pub fn new(dir: &DataDir, sub: &str, params: &serde_json::Value) -> Result<Self> {
        let (path, key, params) = super::line_cache::cache_entry(dir, sub, params)?;
        Ok(Self { path, key, params })
    }

    /// The cache file.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the entry, or runs `build` and stores its result. Returns the
    /// store and a note saying which happened (for `DataModule::notes`).
    pub fn load_or_build<R: Serialize + DeserializeOwned>(
        &self,
        build: impl FnOnce() -> Result<LineStore<R>>,
    ) -> Result<(LineStore<R>, String)> {
        let mut why = "not cached yet".to_string();
        if self.path.exists() {
            let started = Instant::now();
            match self.load() {
                Ok(store) => {
                    let secs = started.elapsed().as_secs_f64();
                    tracing::info!(path = %self.path.display(), secs, "line crops loaded from cache");
                    let note = format!(
                        "line crops loaded in {secs:.2}s from cache {}",
                        self.path.display()
                    );
                    return Ok((store, note));
                }
                Err(reason) => {
                    tracing::warn!(path = %self.path.display(), %reason, "cache file is unusable; rebuilding");
                    why = format!("cache file was unusable ({reason})");
                }
            }
        }
        self.create_dir()?;
        let started = Instant::now();
        let store = build()?;
        let secs = started.elapsed().as_secs_f64();
        self.store(&store)?;
        tracing::info!(path = %self.path.display(), secs, "line crops extracted and cached");
        let note = format!(
            "line crops extracted in {secs:.1}s ({why}) and cached at {}",
            self.path.display()
        );
        Ok((store, note))
    }

    /// Reads and fully checks the cache file; the error says why it is unusable.
    pub fn load<R: DeserializeOwned>(&self) -> std::result::Result<LineStore<R>, String> {
        let buf = std::fs::read(&self.path).map_err(|e| format!("cannot read it: {e}"))?;
        let st = SafeTensors::deserialize(&buf)
            .map_err(|e| format!("not a valid safetensors file: {e}"))?;
        let (_, meta) = SafeTensors::read_metadata(&buf).map_err(|e| format!("bad header: {e}"))?;
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
        let json = |k: &str| -> std::result::Result<Vec<String>, String> {
            serde_json::from_str(get(k)?)
                .map_err(|e| format!("{k} is not a JSON list of strings: {e}"))
        };
        let mut hasher = Sha256::new();
        let mut sets = Vec::with_capacity(3);
        for split in SPLITS {
            let tensor = |name: &str, dtype: Dtype, rank: usize| {
                let key = format!("{split}.{name}");
                let t = st.tensor(&key).map_err(|e| format!("{key}: {e}"))?;
                let shape_ok = t.shape().len() == rank && (rank == 1 || t.shape()[1] == 2);
                if t.dtype() != dtype || !shape_ok {
                    return Err(format!(
                        "{key} is {:?} {:?}, expected {dtype:?} of rank {rank}",
                        t.dtype(),
                        t.shape()
                    ));
                }
                Ok(t)
            };
            let pixels = tensor("pixels", Dtype::U8, 1)?;
            let sizes = tensor("sizes", Dtype::U32, 2)?;
            hasher.update(pixels.data());
            hasher.update(sizes.data());
            let flat: Vec<u32> = sizes
                .data()
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let set = LineSet::from_parts(
                pixels.data().to_vec(),
                flat.chunks_exact(2).map(|c| (c[0], c[1])).collect(),
                json(&format!("{split}.texts"))?,
                json(&format!("{split}.sources"))?,
            )
            .map_err(|e| format!("{split}: {e}"))?;
            sets.push(set);
        }
        if get("sha256")? != hex::encode(hasher.finalize()) {
            return Err("content digest mismatch (the file is corrupt)".to_string());
        }
        let report: R = serde_json::from_str(get("report")?).map_err(|e| format!("report: {e}"))?;
        let mut sets = sets.into_iter();
        let (Some(train), Some(val), Some(test)) = (sets.next(), sets.next(), sets.next()) else {
            return Err("missing splits".to_string());
        };
        Ok(LineStore {
            train,
            val,
            test,
            report,
        })
    }

    fn create_dir(&self) -> Result<&Path> {
        super::line_cache::create_cache_dir(&self.path)
    }

    /// Writes `store` atomically.
    pub fn store<R: Serialize>(&self, store: &LineStore<R>) -> Result<()> {
        self.create_dir()?;
        let size_bytes: Vec<Vec<u8>> = store
            .splits()
            .iter()
            .map(|s| {
                s.sizes
                    .iter()
                    .flat_map(|&(w, h)| w.to_le_bytes().into_iter().chain(h.to_le_bytes()))
                    .collect()
            })
            .collect();
        let invalid = |e: String| Error::invalid("line cache", e);
        let mut hasher = Sha256::new();
        let mut metadata = HashMap::new();
        let mut views = Vec::new();
        for ((name, set), sizes) in SPLITS.iter().zip(store.splits()).zip(&size_bytes) {
            hasher.update(&set.pixels);
            hasher.update(sizes);
            let pixels = TensorView::new(Dtype::U8, vec![set.pixels.len()], &set.pixels)
                .map_err(|e| invalid(e.to_string()))?;
            let sizes = TensorView::new(Dtype::U32, vec![set.len(), 2], sizes)
                .map_err(|e| invalid(e.to_string()))?;
            views.push((format!("{name}.pixels"), pixels));
            views.push((format!("{name}.sizes"), sizes));
            let to_json =
                |v: &[String]| serde_json::to_string(v).map_err(|e| invalid(e.to_string()));
            metadata.insert(format!("{name}.texts"), to_json(&set.texts)?);
            metadata.insert(format!("{name}.sources"), to_json(&set.sources)?);
        }
        metadata.insert(
            "report".to_string(),
            serde_json::to_string(&store.report).map_err(|e| invalid(e.to_string()))?,
        );
        metadata.insert("format".to_string(), FORMAT.to_string());
        metadata.insert("format_version".to_string(), FORMAT_VERSION.to_string());
        metadata.insert("key".to_string(), self.key.clone());
        metadata.insert("params".to_string(), self.params.clone());
        metadata.insert("sha256".to_string(), hex::encode(hasher.finalize()));
        let bytes = safetensors::serialize(views, Some(metadata))
            .map_err(|e| Error::format(&self.path, format!("cannot encode the cache: {e}")))?;
        crate::tensor_file::write_bytes_atomic(&self.path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crop(w: u32, h: u32, v: u8) -> GrayImage {
        GrayImage::from_pixel(w, h, image::Luma([v]))
    }

    fn store() -> LineStore<Vec<String>> {
        let mut train = LineSet::new();
        train
            .push(&crop(3, 4, 1), "ab".into(), "p/1".into())
            .unwrap();
        train
            .push(&crop(5, 2, 2), "c".into(), "p/2".into())
            .unwrap();
        let mut val = LineSet::new();
        val.push(&crop(2, 4, 3), "d".into(), "q/1".into()).unwrap();
        LineStore {
            train,
            val,
            test: LineSet::new(),
            report: vec!["r".to_string()],
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path());
        let cache = StoreCache::new(&dir, "t", &serde_json::json!({"a": 1})).unwrap();
        let s = store();
        cache.store(&s).unwrap();
        let back: LineStore<Vec<String>> = cache.load().unwrap();
        assert_eq!(back, s);
        assert_eq!(back.train.image(1).unwrap(), crop(5, 2, 2));
        assert!(back.train.image(2).is_none());

        // Other parameters: the same file is refused.
        let other = StoreCache::new(&dir, "t", &serde_json::json!({"a": 2})).unwrap();
        std::fs::copy(cache.path(), other.path()).unwrap();
        let err = other.load::<Vec<String>>().unwrap_err();
        assert!(err.contains("other parameters"), "{err}");

        // A flipped pixel byte: the digest catches it and load_or_build rebuilds.
        let mut bytes = std::fs::read(cache.path()).unwrap();
        let n = bytes.len();
        bytes[n - 1] ^= 0xff;
        std::fs::write(cache.path(), &bytes).unwrap();
        let err = cache.load::<Vec<String>>().unwrap_err();
        assert!(err.contains("digest") || err.contains("sizes"), "{err}");
        let mut built = 0;
        let (again, note) = cache
            .load_or_build(|| {
                built += 1;
                Ok(store())
            })
            .unwrap();
        assert_eq!((built, again), (1, s));
        assert!(note.contains("unusable"), "{note}");
    }

    #[test]
    fn push_checks_size_and_retain_keeps_order() {
        let mut set = LineSet::new();
        assert!(set.push(&crop(0, 5, 0), "x".into(), "p/9".into()).is_err());
        for i in 0..4u8 {
            set.push(
                &crop(u32::from(i) + 1, 4, i),
                i.to_string(),
                format!("p/{i}"),
            )
            .unwrap();
        }
        set.retain(|i| i % 2 == 1);
        assert_eq!(set.texts(), ["1", "3"]);
        assert_eq!(set.sizes(), [(2, 4), (4, 4)]);
        assert_eq!(set.image(1).unwrap(), crop(4, 4, 3));
        let mut other = LineSet::new();
        other.extend(set.clone());
        other.extend(set);
        assert_eq!(other.len(), 4);
        assert_eq!(other.image(3).unwrap(), crop(4, 4, 3));
    }
}
