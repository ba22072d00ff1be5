//! Hyper-parameter sweeps, as the course's sweep files do: every combination
//! of a grid of dotted overrides (or `random` of them, seeded), each trained
//! as its own experiment, then one table sorted by the monitored metric.
//!
//! ```text
//! htr sweep --config configs/lab3/line_cnn_ctc.yaml \
//!     --grid trainer.optimizer.lr=1e-3,3e-4 --grid model.window_stride=16,20 [--random 3]
//! ```
//!
//! Trial `k` is named `<experiment>-sweep-<kk>` (so `--ckpt last|best` of
//! the base experiment never picks a trial) and gets the base overrides,
//! then its own. Every trial's config is resolved before the first one
//! trains, so a mistyped key fails at once. A trial that fails is a row
//! with its error; the sweep then fails after the table is written.
//! Values are split at commas outside brackets (`--grid
//! data.augment.degrees=[0,0],[-1,1]` has two values).

use std::path::{Path, PathBuf};

use crate::config::{Override, RunConfig};
use crate::error::{Error, Result};
use crate::fit::fit;
use crate::report::Summary;
use crate::run::Monitor;

/// One swept key and its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridAxis {
    pub key: String,
    pub values: Vec<String>,
}

impl GridAxis {
    /// Parses `key=v1,v2,…` (commas inside `[]`/`{}` do not split).
    pub fn parse(text: &str) -> Result<Self> {
        let (key, values) = text.split_once('=').ok_or_else(|| {
            Error::config("sweep --grid", format!("{text:?}: expected KEY=V1,V2,…"))
        })?;
        let key = key.trim().trim_start_matches("--").to_string();
        let mut out = Vec::new();
        let (mut depth, mut cur) = (0i32, String::new());
        for c in values.chars() {
            match c {
                '[' | '{' => depth += 1,
                ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(std::mem::take(&mut cur).trim().to_string());
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        out.push(cur.trim().to_string());
        out.retain(|v| !v.is_empty());
        if key.is_empty() || out.is_empty() {
            return Err(Error::config(
                "sweep --grid",
                format!("{text:?}: expected KEY=V1,V2,… with a key and at least one value"),
            ));
        }
        Ok(Self { key, values: out })
    }
}

/// Every combination of `axes`, first axis slowest; `random` keeps that many
/// of them, drawn without repetition from `seed` (all when it is larger).
pub fn combinations(axes: &[GridAxis], random: Option<usize>, seed: u64) -> Vec<Vec<Override>> {
    let mut all: Vec<Vec<Override>> = vec![Vec::new()];
    for axis in axes {
        all = all
            .into_iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push(Override {
                        key: axis.key.clone(),
                        value: v.clone(),
                    });
                    c
                })
            })
            .collect();
    }
    if let Some(n) = random {
        if n < all.len() {
            // A seeded permutation: indices ordered by their own derived seed.
            let mut idx: Vec<usize> = (0..all.len()).collect();
            idx.sort_by_key(|&i| {
                tr_data::derive_seed(seed, tr_data::Stream::chain(&[0x7377_6565, i as u64]))
            });
            let mut keep: Vec<usize> = idx.into_iter().take(n).collect();
            keep.sort_unstable();
            all = keep.into_iter().map(|i| all[i].clone()).collect();
        }
    }
    all
}

/// One trial's outcome.
#[derive(Clone, Debug)]
pub struct Trial {
    pub name: String,
    pub overrides: Vec<Override>,
    pub result: std::result::Result<Summary, String>,
}

/// Resolves every trial, then trains them in order; returns the trials and
/// the monitor they are ranked by.
pub fn run_sweep(
    config: Option<&Path>,
    base: &[Override],
    axes: &[GridAxis],
    random: Option<usize>,
    seed: u64,
) -> Result<(Vec<Trial>, Monitor, String)> {
    let base_cfg = RunConfig::load(config, base)?;
    let combos = combinations(axes, random, seed);
    let mut planned = Vec::with_capacity(combos.len());
    for (k, combo) in combos.into_iter().enumerate() {
        let name = format!("{}-sweep-{k:02}", base_cfg.name);
        let mut all = base.to_vec();
        all.extend(combo.iter().cloned());
        all.push(Override {
            key: "name".into(),
            value: name.clone(),
        });
        let cfg = RunConfig::load(config, &all)?;
        planned.push((name, combo, cfg));
    }
    let monitor = Monitor::for_checkpoints(&base_cfg);
    let mut trials = Vec::with_capacity(planned.len());
    let n = planned.len();
    for (k, (name, overrides, cfg)) in planned.into_iter().enumerate() {
        tracing::info!("sweep trial {}/{n}: {name}", k + 1);
        let result = fit(cfg, None).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!("{name}: {e}");
        }
        trials.push(Trial {
            name,
            overrides,
            result,
        });
    }
    Ok((trials, monitor, base_cfg.name))
}

/// The trials as a Markdown table, best first by `monitor` (failed and
/// unscored trials last).
pub fn render_table(
    trials: &[Trial],
    axes: &[GridAxis],
    monitor: &Monitor,
    command: &str,
) -> String {
    let score = |t: &Trial| t.result.as_ref().ok().and_then(|s| s.best_score);
    let mut order: Vec<&Trial> = trials.iter().collect();
    order.sort_by(|a, b| match (score(a), score(b)) {
        (Some(x), Some(y)) if monitor.better(x, y) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) if monitor.better(y, x) => std::cmp::Ordering::Greater,
        (Some(_), Some(_)) => std::cmp::Ordering::Equal,
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let mut s = format!(
        "# Sweep, ranked by {} ({})\n\n`{command}`\n\n| rank | trial |",
        monitor.metric,
        if monitor.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        }
    );
    for a in axes {
        s += &format!(" {} |", a.key);
    }
    s += &format!(
        " {} | best epoch | epochs | wall s | samples/s | run |\n|---|---|",
        monitor.metric
    );
    s += &"---|".repeat(axes.len() + 6);
    s.push('\n');
    for (rank, t) in order.iter().enumerate() {
        s += &format!("| {} | {} |", rank + 1, t.name);
        for a in axes {
            let v = t
                .overrides
                .iter()
                .find(|o| o.key == a.key)
                .map_or("", |o| o.value.as_str());
            s += &format!(" {v} |");
        }
        match &t.result {
            Ok(sum) => {
                s += &format!(
                    " {} | {} | {} | {:.0} | {:.1} | {} |\n",
                    sum.best_score.map_or("-".into(), |v| format!("{v:.4}")),
                    sum.best_epoch.map_or("-".into(), |e| e.to_string()),
                    sum.epochs,
                    sum.wall_seconds,
                    sum.train_samples_per_sec,
                    sum.run_dir
                        .as_deref()
                        .map_or(String::new(), |p| p.display().to_string())
                );
            }
            Err(e) => {
                s += &format!(
                    " failed: {} | | | | | |\n",
                    e.replace('|', "/").replace('\n', " ")
                )
            }
        }
    }
    s
}

/// Writes `text` to `<runs_dir>/sweep-<name>.md` and returns the path.
pub fn write_table(runs_dir: &Path, name: &str, text: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(runs_dir).map_err(|e| Error::io(runs_dir, e))?;
    let path = runs_dir.join(format!("sweep-{}.md", crate::run::safe_name(name)));
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_values_split_outside_brackets() {
        let a = GridAxis::parse("data.augment.degrees=[0,0],[-1,1]").unwrap();
        assert_eq!(a.values, ["[0,0]", "[-1,1]"]);
        let b = GridAxis::parse("--trainer.optimizer.lr=1e-3, 3e-4").unwrap();
        assert_eq!(
            (b.key.as_str(), b.values.len()),
            ("trainer.optimizer.lr", 2)
        );
        assert!(GridAxis::parse("lr").is_err());
        assert!(GridAxis::parse("lr=").is_err());
    }

    #[test]
    fn combinations_are_the_product_or_a_seeded_subset() {
        let axes = [
            GridAxis::parse("a=1,2,3").unwrap(),
            GridAxis::parse("b=x,y").unwrap(),
        ];
        let all = combinations(&axes, None, 0);
        assert_eq!(all.len(), 6);
        assert_eq!(
            (all[1][0].value.as_str(), all[1][1].value.as_str()),
            ("1", "y")
        );
        let some = combinations(&axes, Some(3), 7);
        assert_eq!(some.len(), 3);
        assert_eq!(some, combinations(&axes, Some(3), 7));
        assert!(some.iter().all(|c| all.contains(c)));
        assert_eq!(combinations(&axes, Some(99), 7).len(), 6);
    }
}
