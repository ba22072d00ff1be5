//! Verification of artifact files: sizes and hashes recorded in
//! `config.json`, the weights' metadata (format tag, model, vocabulary) and
//! every tensor against the model built from the config.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use candle_core::Tensor;
use candle_nn::VarMap;
use sha2::{Digest, Sha256};
use tr_data::tensor_file::TensorFile;
use tr_data::Vocabulary;

use super::{ArtifactConfig, WEIGHTS_FORMAT};
use crate::error::{Error, Result};

/// Size and SHA-256 of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub bytes: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// Reads `path` once and returns its size and SHA-256.
pub fn file_info(path: &Path) -> Result<FileInfo> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(FileInfo {
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Reads the file `path` that `config.json` names, checking that it exists
/// and, when recorded, its size and SHA-256 ([`check_bytes`]). The file is
/// read once: the bytes checked are the bytes returned.
pub(crate) fn read_checked(
    path: &Path,
    bytes: Option<u64>,
    sha256: Option<&str>,
) -> Result<Vec<u8>> {
    let data =
        match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::artifact(
                path,
                "not found; config.json names it but the artifact directory does not contain it",
            )),
            Err(e) => return Err(Error::io(path, e)),
        };
    check_bytes(path, &data, bytes, sha256)?;
    Ok(data)
}

/// Checks file contents (read from `path`, or held in memory and named
/// `path` in errors) against the size and SHA-256 `config.json` records.
pub(crate) fn check_bytes(
    path: &Path,
    data: &[u8],
    bytes: Option<u64>,
    sha256: Option<&str>,
) -> Result<()> {
    if let Some(want) = bytes {
        let have = data.len() as u64;
        if have < want {
            return Err(Error::artifact(
                path,
                format!("truncated: {have} bytes, config.json records {want} (an interrupted copy or download?)"),
            ));
        }
        if have > want {
            return Err(Error::artifact(
                path,
                format!("{have} bytes but config.json records {want}: not the file this config describes"),
            ));
        }
    }
    if let Some(want) = sha256 {
        let have = hex::encode(Sha256::digest(data));
        if !have.eq_ignore_ascii_case(want) {
            return Err(Error::artifact(
                path,
                format!("content does not match config.json: SHA-256 {have}, expected {want} (corrupted or replaced file)"),
            ));
        }
    }
    Ok(())
}

/// Checks the weights file's own metadata: format tag, model name and
/// vocabulary must agree with `config.json`.
pub(crate) fn check_weights_metadata(
    path: &Path,
    file: &TensorFile,
    config: &ArtifactConfig,
) -> Result<()> {
    let format = file.metadata.get("tr.format").map(String::as_str);
    match format {
        Some(WEIGHTS_FORMAT) => {}
        Some(other) => {
            return Err(Error::artifact(
                path,
                format!("weights format {other:?} is not supported (expected {WEIGHTS_FORMAT:?}); a training checkpoint must be staged with `htr stage` first"),
            ))
        }
        None => {
            return Err(Error::artifact(
                path,
                "a safetensors file, but not the weights of a tr model artifact (no tr.format metadata)",
            ))
        }
    }
    let name = config.model.name();
    match file.metadata.get("tr.model") {
        Some(m) if m == name => {}
        other => {
            return Err(Error::artifact(
                path,
                format!("holds weights of {other:?}, config.json describes {name}"),
            ))
        }
    }
    let raw = file.metadata.get("tr.vocab").ok_or_else(|| {
        Error::artifact(
            path,
            "metadata tr.vocab (the model's vocabulary) is missing",
        )
    })?;
    let vocab: Vocabulary = serde_json::from_str(raw).map_err(|e| {
        Error::artifact(path, format!("metadata tr.vocab is not a vocabulary: {e}"))
    })?;
    config
        .vocabulary
        .ensure_same(&vocab, &path.display().to_string())
        .map_err(|e| {
            Error::artifact(
                path.with_file_name(super::CONFIG_FILE),
                format!("the vocabulary does not match the weights: {e}"),
            )
        })
}

/// Copies `tensors` into the variables of `varmap` (the model built from the
/// config), converting dtype, with the weights-versus-model rule of
/// [`tr_models::params::load_named_tensors`]: a missing tensor, a tensor of
/// the wrong shape or one the model does not have is an error naming it.
pub(crate) fn load_into(
    path: &Path,
    tensors: &HashMap<String, Tensor>,
    varmap: &VarMap,
    model: &str,
) -> Result<()> {
    let vars = tr_models::params::named_vars(varmap);
    tr_models::params::load_named_tensors(&vars, tensors, path, model, super::CONFIG_FILE)
        .map_err(weights_error)
}

/// Names, shapes and completeness of `tensors` against `vars`
/// ([`tr_models::params::check_named_tensors`]).
pub(crate) fn check_tensors(
    path: &Path,
    tensors: &HashMap<String, Tensor>,
    vars: &[(String, candle_core::Var)],
    model: &str,
) -> Result<()> {
    tr_models::params::check_named_tensors(vars, tensors, path, model, super::CONFIG_FILE)
        .map(drop)
        .map_err(weights_error)
}

/// A weights mismatch is an artifact error on the weights file.
fn weights_error(e: tr_models::Error) -> Error {
    match e {
        tr_models::Error::Weights { file, message } => Error::artifact(file, message),
        other => Error::from(other),
    }
}
