//! Top-k checkpoint retention: which `best-*.safetensors` files to keep on
//! disk while a run trains. (Choosing a checkpoint afterwards is
//! [`crate::run::RunDir::best_checkpoint`]'s job; both rank by the same
//! [`Monitor`].)

use std::path::Path;

use crate::error::{Error, Result};
use crate::run::Monitor;
use crate::state::RankedCheckpoint;

/// The best `k` checkpoints by one monitor, best first.
pub struct TopK {
    monitor: Monitor,
    k: usize,
    entries: Vec<RankedCheckpoint>,
}

impl TopK {
    /// Ranks by `monitor`, keeping `k`; starts from `entries` restored from a checkpoint.
    pub fn new(monitor: Monitor, k: usize, entries: Vec<RankedCheckpoint>) -> Self {
        Self {
            monitor,
            k,
            entries,
        }
    }

    /// The monitor it ranks by.
    pub fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    /// Kept checkpoints, best first.
    pub fn entries(&self) -> &[RankedCheckpoint] {
        &self.entries
    }

    /// Offers a new score: returns the file name to save the checkpoint
    /// under if it makes the top k, deleting the file that drops out of `dir`.
    pub fn admit(&mut self, score: f64, epoch: u64, dir: &Path) -> Result<Option<String>> {
        if self.k == 0 || !score.is_finite() {
            return Ok(None);
        }
        let pos = self
            .entries
            .iter()
            .position(|e| self.monitor.better(score, e.score))
            .unwrap_or(self.entries.len());
        if pos >= self.k {
            return Ok(None);
        }
        let file = format!(
            "best-epoch={epoch:03}-{}={score:.4}.safetensors",
            self.monitor.metric
        );
        self.entries.insert(
            pos,
            RankedCheckpoint {
                file: file.clone(),
                score,
                epoch,
            },
        );
        while self.entries.len() > self.k {
            if let Some(out) = self.entries.pop() {
                let p = dir.join(&out.file);
                if p.exists() {
                    std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
                }
            }
        }
        Ok(Some(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_k_and_deletes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = TopK::new(Monitor::new("val_cer", None), 2, vec![]);
        for (epoch, score) in [(0, 0.5), (1, 0.3), (2, 0.4), (3, 0.6), (4, 0.1)] {
            if let Some(f) = t.admit(score, epoch, dir.path()).unwrap() {
                std::fs::write(dir.path().join(f), b"x").unwrap();
            }
        }
        let scores: Vec<f64> = t.entries().iter().map(|e| e.score).collect();
        assert_eq!(scores, vec![0.1, 0.3]);
        let mut files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            vec![
                "best-epoch=001-val_cer=0.3000.safetensors",
                "best-epoch=004-val_cer=0.1000.safetensors"
            ]
        );
        let mut acc = TopK::new(Monitor::new("val_acc", None), 1, vec![]);
        assert!(acc.admit(0.5, 0, dir.path()).unwrap().is_some());
        assert!(acc.admit(0.4, 1, dir.path()).unwrap().is_none());
        assert!(acc.admit(f64::NAN, 2, dir.path()).unwrap().is_none());
    }
}
