//! Finding the runs of an experiment under a runs directory.
//!
//! A run of experiment `name` lives in `<runs>/<yyyymmdd-hhmmss>-<safe>` or,
//! when two runs started in the same second, `<…>-<safe>-<n>` (see
//! [`RunDir::create`], `safe` = [`safe_name`]). The directory name alone is
//! ambiguous (`line-cnn-ctc-2` may be the second `line-cnn-ctc` run of that
//! second or the first run of `line-cnn-ctc-2`), so a run whose
//! `config.yaml` can be read belongs to the experiment its config names;
//! the name decides only for runs without a readable config.

use std::path::Path;

use super::dir::STAMP_LEN;
use super::{safe_name, RunDir};
use crate::error::{Error, Result};

/// The runs of experiment `name` under `runs_dir`, oldest first (by start
/// time, then same-second number). A missing `runs_dir` has no runs.
pub fn runs_of(runs_dir: &Path, name: &str) -> Result<Vec<RunDir>> {
    let safe = safe_name(name);
    let entries = match std::fs::read_dir(runs_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(runs_dir, e)),
    };
    let mut found: Vec<((String, u32), RunDir)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(runs_dir, e))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let Some(dir_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((stamp, number)) = parse_run_name(dir_name, &safe) else {
            continue;
        };
        let run = RunDir::existing(&path)?;
        if config_name(&run).is_some_and(|n| n != name) {
            continue;
        }
        found.push(((stamp.to_string(), number), run));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found.into_iter().map(|(_, r)| r).collect())
}

/// `(stamp, same-second number)` when `dir_name` is a run directory name of
/// the experiment whose safe name is `safe` (number 1 without a suffix).
fn parse_run_name<'a>(dir_name: &'a str, safe: &str) -> Option<(&'a str, u32)> {
    let stamp = dir_name.get(..STAMP_LEN)?;
    let is_stamp = stamp
        .char_indices()
        .all(|(i, c)| if i == 8 { c == '-' } else { c.is_ascii_digit() });
    let rest = dir_name.get(STAMP_LEN..)?.strip_prefix('-')?;
    if !is_stamp {
        return None;
    }
    if rest == safe {
        return Some((stamp, 1));
    }
    let n = rest.strip_prefix(safe)?.strip_prefix('-')?;
    let number: u32 = n
        .parse()
        .ok()
        .filter(|_| n.chars().all(|c| c.is_ascii_digit()))?;
    (number >= 2).then_some((stamp, number))
}

/// The `name` a run's `config.yaml` records, if the file can be read.
fn config_name(run: &RunDir) -> Option<String> {
    let text = std::fs::read_to_string(run.config()).ok()?;
    let tree: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
    tree.get("name")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkrun(runs: &Path, dir: &str, config_name: Option<&str>) {
        let root = runs.join(dir);
        std::fs::create_dir_all(&root).unwrap();
        if let Some(n) = config_name {
            std::fs::write(root.join("config.yaml"), format!("name: {n}\nseed: 1\n")).unwrap();
        }
    }

    fn names(runs: &Path, name: &str) -> Vec<String> {
        runs_of(runs, name)
            .unwrap()
            .iter()
            .map(|r| r.root().file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn names_sharing_a_prefix_do_not_mix() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path();
        mkrun(runs, "20261201-100000-line-cnn-ctc", Some("line-cnn-ctc"));
        mkrun(
            runs,
            "20261201-110000-line-cnn-ctc-var-overlap",
            Some("line-cnn-ctc-var-overlap"),
        );
        mkrun(runs, "20261201-120000-line-cnn-simple-stride20", None);
        mkrun(runs, "20261201-090000-line-cnn-simple", None);
        assert_eq!(
            names(runs, "line-cnn-ctc"),
            ["20261201-100000-line-cnn-ctc"]
        );
        assert_eq!(
            names(runs, "line-cnn-ctc-var-overlap"),
            ["20261201-110000-line-cnn-ctc-var-overlap"]
        );
        // Without a config the name decides: "stride20" is not a same-second number.
        assert_eq!(
            names(runs, "line-cnn-simple"),
            ["20261201-090000-line-cnn-simple"]
        );
        assert!(names(runs, "line-cnn").is_empty());
    }

    #[test]
    fn same_second_runs_are_ordered_by_number_and_told_apart_by_config() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path();
        mkrun(runs, "20261201-100000-exp", Some("exp"));
        mkrun(runs, "20261201-100000-exp-2", Some("exp"));
        mkrun(runs, "20261201-100000-exp-10", Some("exp"));
        // The first run of experiment `exp-3`, not the third of `exp`.
        mkrun(runs, "20261201-100000-exp-3", Some("exp-3"));
        mkrun(runs, "20261201-095959-exp", Some("exp"));
        assert_eq!(
            names(runs, "exp"),
            [
                "20261201-095959-exp",
                "20261201-100000-exp",
                "20261201-100000-exp-2",
                "20261201-100000-exp-10"
            ]
        );
        assert_eq!(names(runs, "exp-3"), ["20261201-100000-exp-3"]);
    }

    #[test]
    fn odd_directory_names_are_skipped_not_a_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path();
        for d in [
            "ü",
            "20261201-1000ü0-exp",
            "2026120a-100000-exp",
            "short",
            "20261201-100000",
        ] {
            mkrun(runs, d, None);
        }
        std::fs::write(runs.join("20261201-100000-exp-file"), b"x").unwrap();
        // What RunDir::create makes of a non-ASCII name.
        mkrun(runs, "20261201-100000--n-", Some("ünï"));
        assert!(names(runs, "exp").is_empty());
        assert_eq!(names(runs, "ünï"), ["20261201-100000--n-"]);
        assert!(runs_of(&runs.join("missing"), "exp").unwrap().is_empty());
    }
}
