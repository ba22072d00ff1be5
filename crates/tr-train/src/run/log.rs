//! The metric log of a run: `metrics.jsonl` (one [`Record`] per line,
//! appended as training goes) and `metrics.csv` (the same records as a table).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::RunDir;
use crate::error::{Error, Result};

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
        let jsonl = dir.metrics_jsonl();
        let csv = dir.metrics_csv();
        let records = match keep_through_step {
            Some(limit) if jsonl.exists() => read_records(&jsonl)?
                .into_iter()
                .filter(|r| r.step <= limit)
                .collect(),
            _ => Vec::new(),
        };
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

/// Reads every record of a `metrics.jsonl`. A line cut by a kill in the
/// middle of a write is skipped with a warning; the rest are kept.
pub fn read_records(path: &Path) -> Result<Vec<Record>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut records = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            Err(e) => tracing::warn!(
                "{}:{}: skipping unreadable record: {e}",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(records)
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
    fn a_line_cut_by_a_kill_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("metrics.jsonl");
        let good = serde_json::to_string(&rec("val", 4, "val_cer", 0.25)).unwrap();
        std::fs::write(&p, format!("{good}\n{{\"phase\":\"tra\n")).unwrap();
        assert_eq!(
            read_records(&p).unwrap(),
            vec![rec("val", 4, "val_cer", 0.25)]
        );
    }
}
