//! Safetensors files with metadata: atomic writes and reads that tell a
//! truncated file from a foreign one.
//!
//! Checkpoints (`tr-train`), model artifacts (`tr-infer`) and dataset caches
//! all go through here, so every caller gets the same guarantees:
//!
//! * [`write_atomic`] writes to a temporary file in the same directory,
//!   syncs it and renames it over the target: a crash leaves either the old
//!   file or the new one, never half a file;
//! * [`read`] reports, naming the file, whether it is not a safetensors file at
//!   all (e.g. a PNG or a text file), a truncated one (shorter than its header
//!   says), or has a malformed header;
//! * [`read_metadata`] reads the string metadata from the header alone, without
//!   touching the tensor data (choosing among checkpoints of hundreds of MB).
//!
//! Temporary files are named by process id *and* a per-process counter, so two
//! threads writing the same target never share a temporary file.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::safetensors::Load;
use candle_core::{Device, Tensor};
use safetensors::tensor::{SafeTensorError, SafeTensors};

use crate::error::{Error, Result};

/// Tensors and string metadata of one safetensors file.
#[derive(Debug, Default)]
pub struct TensorFile {
    pub tensors: HashMap<String, Tensor>,
    pub metadata: HashMap<String, String>,
}

impl TensorFile {
    /// The metadata value under `key`, or an error naming the file and key.
    pub fn meta(&self, path: &Path, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| Error::format(path, format!("metadata key {key:?} is missing")))
    }

    /// Removes and returns the tensor `name`, or an error naming file and tensor.
    pub fn take(&mut self, path: &Path, name: &str) -> Result<Tensor> {
        self.tensors
            .remove(name)
            .ok_or_else(|| Error::format(path, format!("tensor {name:?} is missing")))
    }
}

/// Serialises `tensors` with `metadata` and writes them atomically to `path`
/// (creating the parent directory).
pub fn write_atomic(
    path: &Path,
    tensors: &HashMap<String, Tensor>,
    metadata: HashMap<String, String>,
) -> Result<()> {
    let mut sorted: Vec<(&String, &Tensor)> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    // safetensors needs contiguous tensors on the host.
    let host: Vec<(String, Tensor)> = sorted
        .into_iter()
        .map(|(k, t)| Ok((k.clone(), t.to_device(&Device::Cpu)?.contiguous()?)))
        .collect::<Result<_>>()?;
    let bytes =
        safetensors::tensor::serialize(host.iter().map(|(k, t)| (k.as_str(), t)), Some(metadata))
            .map_err(|e| Error::format(path, format!("cannot serialise tensors: {e}")))?;
    write_bytes_atomic(path, &bytes)
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::invalid("path", format!("{} has no file name", path.display())))?;
    // Unique per write: the process id keeps processes apart, the counter threads.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        file_name.to_string_lossy(),
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable; not supported everywhere, so best effort.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Reads a whole safetensors file onto `device`.
pub fn read(path: &Path, device: &Device) -> Result<TensorFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse(path, &bytes, device)
}

/// Parses safetensors `bytes` (named `path` in errors) onto `device`.
pub fn parse(path: &Path, bytes: &[u8], device: &Device) -> Result<TensorFile> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| explain(path, bytes, e))?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| explain(path, bytes, e))?;
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        let t = view
            .load(device)
            .map_err(|e| Error::format(path, format!("tensor {name:?} cannot be loaded: {e}")))?;
        tensors.insert(name, t);
    }
    Ok(TensorFile {
        tensors,
        metadata: meta.metadata().clone().unwrap_or_default(),
    })
}

/// Largest header [`read_metadata`] accepts (safetensors itself allows 100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// The string metadata of the safetensors file at `path`, read from its
/// header only (8-byte length + JSON); the tensor data is not read.
pub fn read_metadata(path: &Path) -> Result<HashMap<String, String>> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len).map_err(|_| {
        Error::format(
            path,
            "shorter than the 8 bytes every safetensors file starts with",
        )
    })?;
    let n = u64::from_le_bytes(len);
    if n > MAX_HEADER {
        return Err(Error::format(
            path,
            format!("not a safetensors file (first bytes {len:02x?})"),
        ));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(|_| {
        Error::format(
            path,
            format!("truncated safetensors file: its header needs {n} bytes after the length"),
        )
    })?;
    if header.first() != Some(&b'{') {
        return Err(Error::format(
            path,
            format!("not a safetensors file (first bytes {len:02x?})"),
        ));
    }
    #[derive(serde::Deserialize)]
    struct Header {
        #[serde(rename = "__metadata__", default)]
        metadata: HashMap<String, String>,
    }
    let parsed: Header = serde_json::from_slice(&header)
        .map_err(|e| Error::format(path, format!("malformed safetensors header: {e}")))?;
    Ok(parsed.metadata)
}

/// Turns a safetensors error into a sentence about the file.
fn explain(path: &Path, bytes: &[u8], e: SafeTensorError) -> Error {
    let header_len = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    let looks_foreign = match header_len {
        None => true,
        // A safetensors header is JSON starting with '{' right after the length.
        Some(n) => bytes.get(8) != Some(&b'{') || n > 100_000_000,
    };
    let message = if bytes.is_empty() {
        "file is empty, expected a safetensors file".to_string()
    } else if looks_foreign {
        format!(
            "not a safetensors file (first bytes {:02x?})",
            &bytes[..bytes.len().min(8)]
        )
    } else if header_len.is_some_and(|n| n.saturating_add(8) > bytes.len() as u64) {
        format!(
            "truncated safetensors file: its header alone needs {} bytes but the file has {}",
            header_len.unwrap_or(0).saturating_add(8),
            bytes.len()
        )
    } else {
        match e {
            SafeTensorError::InvalidHeaderLength | SafeTensorError::MetadataIncompleteBuffer => format!(
                "truncated safetensors file: {} bytes on disk do not cover the header and tensors it declares",
                bytes.len()
            ),
            other => format!("malformed safetensors file: {other}"),
        }
    };
    Error::format(path, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> HashMap<String, Tensor> {
        let mut m = HashMap::new();
        m.insert(
            "a".into(),
            Tensor::arange(0f32, 6.0, &Device::Cpu)
                .unwrap()
                .reshape((2, 3))
                .unwrap(),
        );
        m.insert("b".into(), Tensor::new(&[1u32, 2], &Device::Cpu).unwrap());
        m
    }

    #[test]
    fn round_trip_with_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/x.safetensors");
        let mut meta = HashMap::new();
        meta.insert("k".to_string(), "v".to_string());
        write_atomic(&p, &sample(), meta).unwrap();
        let mut f = read(&p, &Device::Cpu).unwrap();
        assert_eq!(f.meta(&p, "k").unwrap(), "v");
        assert_eq!(
            f.take(&p, "a").unwrap().to_vec2::<f32>().unwrap(),
            vec![vec![0., 1., 2.], vec![3., 4., 5.]]
        );
        assert!(f
            .take(&p, "zz")
            .unwrap_err()
            .to_string()
            .contains("\"zz\" is missing"));
        assert!(f.meta(&p, "nope").is_err());
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn metadata_is_read_from_the_header_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.safetensors");
        let meta: HashMap<String, String> = [("k".to_string(), "v".to_string())].into();
        write_atomic(&p, &sample(), meta.clone()).unwrap();
        assert_eq!(read_metadata(&p).unwrap(), meta);
        // Cut inside the tensor data: the header is still whole.
        let bytes = std::fs::read(&p).unwrap();
        let cut = dir.path().join("cut.safetensors");
        std::fs::write(&cut, &bytes[..bytes.len() - 5]).unwrap();
        assert_eq!(read_metadata(&cut).unwrap(), meta);
        // Cut inside the header, a foreign file, an empty file.
        std::fs::write(&cut, &bytes[..12]).unwrap();
        let e = read_metadata(&cut).unwrap_err().to_string();
        assert!(
            e.contains("cut.safetensors") && e.contains("truncated"),
            "{e}"
        );
        std::fs::write(&cut, b"\x89PNG\r\n\x1a\n0000000000").unwrap();
        let e = read_metadata(&cut).unwrap_err().to_string();
        assert!(e.contains("not a safetensors file"), "{e}");
        std::fs::write(&cut, b"").unwrap();
        assert!(read_metadata(&cut).is_err());
    }

    #[test]
    fn concurrent_writers_of_one_file_do_not_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("race.safetensors");
        std::thread::scope(|s| {
            for t in 0..8u32 {
                let p = &p;
                s.spawn(move || {
                    for i in 0..10u32 {
                        let meta: HashMap<String, String> =
                            [("writer".to_string(), format!("{t}/{i}"))].into();
                        write_atomic(p, &sample(), meta).unwrap();
                    }
                });
            }
        });
        // The survivor is one whole file, and no temporary file is left.
        let f = read(&p, &Device::Cpu).unwrap();
        assert!(f.meta(&p, "writer").is_ok());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn truncated_foreign_and_empty_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.safetensors");
        write_atomic(&p, &sample(), HashMap::new()).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        let cut = dir.path().join("cut.safetensors");
        std::fs::write(&cut, &bytes[..bytes.len() - 5]).unwrap();
        let e = read(&cut, &Device::Cpu).unwrap_err().to_string();
        assert!(
            e.contains("cut.safetensors") && e.contains("truncated"),
            "{e}"
        );

        let png = dir.path().join("img.safetensors");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\n0000000000").unwrap();
        let e = read(&png, &Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("not a safetensors file"), "{e}");

        let empty = dir.path().join("empty.safetensors");
        std::fs::write(&empty, b"").unwrap();
        assert!(read(&empty, &Device::Cpu)
            .unwrap_err()
            .to_string()
            .contains("empty"));
    }
}
