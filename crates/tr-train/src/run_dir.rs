//! The run directory and its metric logs.
//!
//! ```text
//! runs/<yyyymmdd-hhmmss>-<name>/
//!   config.yaml      resolved configuration (defaults included)
//!   metrics.jsonl    one JSON object per logged step / epoch
//!   metrics.csv      the same records as a table (columns = union of metric names)
//!   checkpoints/     last.safetensors, best-*.safetensors
//!   plots/           loss.png, cer.png (or accuracy.png), lr.png
//!   samples/         validation images with prediction vs truth
//!   summary.json     best metrics, epochs, wall time, samples/s, parameters, git commit
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
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

    /// Opens an existing run directory (to resume into it).
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

    /// Writes a text file of the run atomically.
    pub fn write_text(&self, path: &Path, text: &str) -> Result<()> {
        tr_data::tensor_file::write_bytes_atomic(path, text.as_bytes()).map_err(Error::from)
    }
}

/// One logged record: a training step or the end of a validation/test epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// `train`, `val` or `test`.
    pub phase: String,
    pub epoch: u64,
    pub step: u64,
    /// Seconds since the run started (across resumes).
    pub time: f64,
    /// Metric name → value (`train_loss`, `lr`, `val_cer`, …).
    #[serde(flatten)]
    pub metrics: BTreeMap<String, f64>,
}

/// Appends records to `metrics.jsonl` and rewrites `metrics.csv` on flush.
pub struct MetricsLog {
    jsonl: PathBuf,
    csv: PathBuf,
    records: Vec<Record>,
}

impl MetricsLog {
    /// Opens the logs of `dir`. Records from a previous session that come
    /// after `keep_through_step` (work lost when that session was killed and
    /// redone after a resume) are dropped so the log has no duplicates.
    pub fn open(dir: &RunDir, keep_through_step: Option<u64>) -> Result<Self> {
        let jsonl = dir.root().join("metrics.jsonl");
        let csv = dir.root().join("metrics.csv");
        let mut records = Vec::new();
        if let Some(limit) = keep_through_step {
            if jsonl.exists() {
                let text = std::fs::read_to_string(&jsonl).map_err(|e| Error::io(&jsonl, e))?;
                for (i, line) in text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                {
                    match serde_json::from_str::<Record>(line) {
                        Ok(r) if r.step <= limit => records.push(r),
                        Ok(_) => {}
                        // A line cut by a kill mid-write: drop it, keep the rest.
                        Err(e) => tracing::warn!(
                            "{}:{}: skipping unreadable record: {e}",
                            jsonl.display(),
                            i + 1
                        ),
                    }
                }
            }
        }
        let log = Self {
            jsonl,
            csv,
            records,
        };
        log.rewrite_jsonl()?;
        Ok(log)
    }

    /// All records so far.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Appends a record to `metrics.jsonl` immediately.
    pub fn push(&mut self, record: Record) -> Result<()> {
        let line =
            serde_json::to_string(&record).map_err(|e| Error::config("metrics", e.to_string()))?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.jsonl)
            .map_err(|e| Error::io(&self.jsonl, e))?;
        writeln!(f, "{line}").map_err(|e| Error::io(&self.jsonl, e))?;
        self.records.push(record);
        Ok(())
    }

    fn rewrite_jsonl(&self) -> Result<()> {
        let mut text = String::new();
        for r in &self.records {
            let line =
                serde_json::to_string(r).map_err(|e| Error::config("metrics", e.to_string()))?;
            text.push_str(&line);
            text.push('\n');
        }
        tr_data::tensor_file::write_bytes_atomic(&self.jsonl, text.as_bytes())?;
        Ok(())
    }

    /// Rewrites `metrics.csv` with one column per metric name seen so far.
    pub fn flush_csv(&self) -> Result<()> {
        let mut columns: Vec<&str> = Vec::new();
        for r in &self.records {
            for k in r.metrics.keys() {
                if !columns.contains(&k.as_str()) {
                    columns.push(k);
                }
            }
        }
        let mut out = String::from("phase,epoch,step,time");
        for c in &columns {
            out.push(',');
            out.push_str(c);
        }
        out.push('\n');
        for r in &self.records {
            out.push_str(&format!("{},{},{},{:.3}", r.phase, r.epoch, r.step, r.time));
            for c in &columns {
                out.push(',');
                if let Some(v) = r.metrics.get(*c) {
                    out.push_str(&v.to_string());
                }
            }
            out.push('\n');
        }
        tr_data::tensor_file::write_bytes_atomic(&self.csv, out.as_bytes())?;
        Ok(())
    }

    /// `(step, value)` series of one metric in one phase, for plots.
    pub fn series(&self, phase: &str, metric: &str) -> Vec<(f64, f64)> {
        self.records
            .iter()
            .filter(|r| r.phase == phase)
            .filter_map(|r| r.metrics.get(metric).map(|v| (r.step as f64, *v)))
            .collect()
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

    fn rec(phase: &str, step: u64, k: &str, v: f64) -> Record {
        Record {
            phase: phase.into(),
            epoch: 0,
            step,
            time: 0.0,
            metrics: [(k.to_string(), v)].into_iter().collect(),
        }
    }

    #[test]
    fn logs_round_trip_and_resume_drops_redone_steps() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::create(tmp.path(), "exp one").unwrap();
        assert!(dir
            .root()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with("-exp-one"));
        let mut log = MetricsLog::open(&dir, None).unwrap();
        log.push(rec("train", 1, "train_loss", 2.0)).unwrap();
        log.push(rec("val", 2, "val_cer", 0.5)).unwrap();
        log.push(rec("train", 3, "train_loss", 1.0)).unwrap();
        log.flush_csv().unwrap();
        let csv = std::fs::read_to_string(dir.root().join("metrics.csv")).unwrap();
        assert_eq!(
            csv.lines().next().unwrap(),
            "phase,epoch,step,time,train_loss,val_cer"
        );
        assert_eq!(csv.lines().count(), 4);

        let log = MetricsLog::open(&dir, Some(2)).unwrap();
        assert_eq!(log.records().len(), 2);
        assert_eq!(log.series("val", "val_cer"), vec![(2.0, 0.5)]);
        let text = std::fs::read_to_string(dir.root().join("metrics.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 2);
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
