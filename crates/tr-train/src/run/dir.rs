//! The run directory: its layout, its name, and creating or opening it.
//! (The layout is documented on the parent module.)

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Length of the `yyyymmdd-hhmmss` stamp that starts every run directory name.
pub(super) const STAMP_LEN: usize = 15;

/// The directory-name form of an experiment name: ASCII letters, digits,
/// `-` and `_` kept, anything else (spaces, `/`, non-ASCII) turned into `-`.
pub fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Paths of one run.
#[derive(Clone, Debug)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Creates `<runs>/<yyyymmdd-hhmmss>-<name>/` and its sub-directories. If
    /// that name exists (two runs in the same second), a numeric suffix is added.
    pub fn create(runs: &Path, name: &str) -> Result<Self> {
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let safe = safe_name(name);
        let mut root = runs.join(format!("{stamp}-{safe}"));
        let mut n = 1;
        while root.exists() {
            n += 1;
            root = runs.join(format!("{stamp}-{safe}-{n}"));
        }
        let dir = Self { root };
        dir.ensure_layout()?;
        Ok(dir)
    }

    /// An existing run directory, read only: an error naming the path when
    /// it is not a directory.
    pub fn existing(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::run(format!(
                "{}: not a run directory (expected runs/<yyyymmdd-hhmmss>-<name>/)",
                root.display()
            )));
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// Opens an existing run directory to write into it (resume), creating
    /// missing sub-directories.
    pub fn open(root: &Path) -> Result<Self> {
        let dir = Self {
            root: root.to_path_buf(),
        };
        dir.ensure_layout()?;
        Ok(dir)
    }

    /// The run directory that holds a checkpoint `…/<run>/checkpoints/x.safetensors`.
    pub fn of_checkpoint(ckpt: &Path) -> Option<PathBuf> {
        let parent = ckpt.parent()?;
        (parent.file_name()? == "checkpoints").then(|| parent.parent().map(Path::to_path_buf))?
    }

    fn ensure_layout(&self) -> Result<()> {
        for d in [
            self.root.clone(),
            self.checkpoints(),
            self.plots(),
            self.samples(),
        ] {
            std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }
    pub fn plots(&self) -> PathBuf {
        self.root.join("plots")
    }
    pub fn samples(&self) -> PathBuf {
        self.root.join("samples")
    }
    pub fn config(&self) -> PathBuf {
        self.root.join("config.yaml")
    }
    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.json")
    }
    pub fn metrics_jsonl(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }
    pub fn metrics_csv(&self) -> PathBuf {
        self.root.join("metrics.csv")
    }
    /// `checkpoints/last.safetensors`, if the run has written it.
    pub fn last_checkpoint(&self) -> Option<PathBuf> {
        Some(self.checkpoints().join("last.safetensors")).filter(|p| p.is_file())
    }

    /// Writes a text file of the run atomically.
    pub fn write_text(&self, path: &Path, text: &str) -> Result<()> {
        tr_data::tensor_file::write_bytes_atomic(path, text.as_bytes()).map_err(Error::from)
    }
}

/// The commit of the working tree the program runs in, if it is a git checkout.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised_and_same_second_runs_numbered() {
        assert_eq!(safe_name("exp one/ü"), "exp-one--");
        let tmp = tempfile::tempdir().unwrap();
        let a = RunDir::create(tmp.path(), "exp one").unwrap();
        let name = a.root().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with("-exp-one"), "{name}");
        assert_eq!(name.len(), STAMP_LEN + 1 + "exp-one".len());
        for sub in ["checkpoints", "plots", "samples"] {
            assert!(a.root().join(sub).is_dir());
        }
        assert!(RunDir::existing(&tmp.path().join("nope")).is_err());
    }

    #[test]
    fn run_dir_of_checkpoint() {
        let p = Path::new("runs/x/checkpoints/last.safetensors");
        assert_eq!(RunDir::of_checkpoint(p), Some(PathBuf::from("runs/x")));
        assert_eq!(
            RunDir::of_checkpoint(Path::new("elsewhere/last.safetensors")),
            None
        );
    }
}
