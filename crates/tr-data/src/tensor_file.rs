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
//!   says), or has a malformed header.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
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
