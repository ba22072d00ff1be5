//! The run owner over real (tiny) runs: `--ckpt last|best` among runs whose
//! names share a prefix, early stopping with its own monitor and across a
//! resume, the best-k files of a run, and checkpoint names when `max_steps`
//! stops inside the first epoch.

use std::path::{Path, PathBuf};

use tr_train::run::{read_records, resolve_checkpoint, Monitor, RunDir};
use tr_train::CheckpointHeader;
use tr_train::{fit, Override, RunConfig, Summary};

/// A tiny classifier on fake images: 9 training batches per epoch.
fn config(runs: &Path, name: &str, extra: &[(&str, &str)]) -> RunConfig {
    let base = [
        ("data.dataset", "fake-images"),
        ("data.num_samples", "144"),
        ("data.batch_size", "8"),
        ("data.num_workers", "0"),
        ("model.name", "mlp"),
        ("model.fc1", "32"),
        ("model.fc2", "16"),
        ("trainer.max_epochs", "2"),
        ("trainer.progress_bar", "false"),
        ("trainer.test_after_fit", "false"),
        ("trainer.num_sample_images", "0"),
    ];
    let mut ov: Vec<Override> = base
        .iter()
        .chain(extra)
        .map(|(k, v)| Override {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect();
    ov.push(Override {
        key: "name".into(),
        value: name.into(),
    });
    ov.push(Override {
        key: "trainer.runs_dir".into(),
        value: runs.display().to_string(),
    });
    RunConfig::load(None, &ov).unwrap()
}

fn run_of(s: &Summary) -> PathBuf {
    s.run_dir.clone().unwrap()
}

fn resolve(spec: &str, runs: &Path, cfg: &RunConfig) -> PathBuf {
    resolve_checkpoint(spec, runs, &cfg.name, &Monitor::for_checkpoints(cfg)).unwrap()
}

#[test]
fn ckpt_last_and_best_pick_the_newest_run_of_exactly_this_experiment() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path();
    let exp = config(runs, "line-cnn-ctc", &[]);
    let longer = config(runs, "line-cnn-ctc-var-overlap", &[]);
    let first = run_of(&fit(exp.clone(), None).unwrap());
    let other = run_of(&fit(longer.clone(), None).unwrap());
    // Two runs of the same experiment in the same second: `-2` suffix.
    let second = run_of(&fit(exp.clone(), None).unwrap());
    let third = run_of(&fit(exp.clone(), None).unwrap());
    assert!(third > second && second > first);

    assert!(resolve("last", runs, &exp).starts_with(&third));
    assert!(resolve("best", runs, &exp).starts_with(&third));
    assert!(resolve("last", runs, &longer).starts_with(&other));
    // A run without checkpoints is passed over for the newest one that has them.
    std::fs::remove_dir_all(third.join("checkpoints")).unwrap();
    assert!(resolve("last", runs, &exp).starts_with(&second));
    let best = resolve("best", runs, &exp);
    assert!(best.starts_with(&second), "{}", best.display());
    assert!(best
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("best-"));

    let none = config(runs, "line-cnn", &[]);
    let e = resolve_checkpoint("last", runs, "line-cnn", &Monitor::for_checkpoints(&none))
        .unwrap_err()
        .to_string();
    assert!(e.contains("line-cnn") && e.contains("0 runs"), "{e}");
}

#[test]
fn best_k_files_are_the_best_validation_rounds() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        tmp.path(),
        "topk",
        &[
            ("trainer.max_epochs", "5"),
            ("trainer.checkpoint.save_top_k", "2"),
            ("trainer.checkpoint.monitor", "val_loss"),
        ],
    );
    let summary = fit(cfg, None).unwrap();
    let run = RunDir::existing(&run_of(&summary)).unwrap();
    let mut val: Vec<(u64, f64)> = read_records(&run.metrics_jsonl())
        .unwrap()
        .into_iter()
        .filter(|r| r.phase == "val")
        .map(|r| (r.step, r.metrics["val_loss"]))
        .collect();
    assert_eq!(val.len(), 5);
    val.sort_by(|a, b| a.1.total_cmp(&b.1));
    let files = run.checkpoint_files().unwrap();
    let mut best_steps: Vec<u64> = files
        .iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("best-")
        })
        .map(|p| CheckpointHeader::read(p).unwrap().state.global_step)
        .collect();
    best_steps.sort();
    let mut want: Vec<u64> = val[..2].iter().map(|v| v.0).collect();
    want.sort();
    assert_eq!(best_steps, want);
    let sel = run
        .best_checkpoint(&Monitor::new("val_loss", None))
        .unwrap();
    assert_eq!((sel.step, sel.score), val[0]);
    assert_eq!(Some(sel.path), summary.best_checkpoint);
    // The same run judged by another logged metric: a checkpoint that logged it.
    let acc = run.best_checkpoint(&Monitor::new("val_acc", None)).unwrap();
    assert!(val.iter().any(|v| v.0 == acc.step));
}

#[test]
fn early_stopping_follows_its_own_monitor_and_counts_across_a_resume() {
    let tmp = tempfile::tempdir().unwrap();
    // lr 0: every validation round gives the same figures, so nothing improves.
    let frozen = [
        ("trainer.optimizer.lr", "0"),
        ("trainer.early_stopping.enabled", "true"),
        ("trainer.early_stopping.patience", "2"),
        ("trainer.early_stopping.monitor", "val_loss"),
        ("trainer.max_epochs", "10"),
    ];
    let straight = fit(config(&tmp.path().join("a"), "es", &frozen), None).unwrap();
    assert!(straight.stopped_early);
    assert_eq!(
        straight.epochs, 3,
        "round 1 sets the best, 2 and 3 do not improve"
    );

    // The same run stopped after one epoch and resumed: the counter carries over.
    let runs = tmp.path().join("b");
    let mut one = frozen.to_vec();
    one.push(("trainer.max_epochs", "1"));
    let first = fit(config(&runs, "es", &one), None).unwrap();
    assert!(!first.stopped_early);
    let last = run_of(&first).join("checkpoints/last.safetensors");
    let state = CheckpointHeader::read(&last).unwrap().state;
    assert_eq!(state.epochs_without_improvement, 0);
    assert!(state.early_stopping_best.is_some());
    let resumed = fit(config(&runs, "es", &frozen), Some(&last)).unwrap();
    assert!(resumed.stopped_early);
    assert_eq!(resumed.epochs, 3);

    // Its own monitor, not the checkpoint's: watching a metric that is never
    // computed, it never counts a round, although the checkpoint monitor
    // (val_acc, frozen too) has not improved for 4 rounds.
    let mut blind = frozen.to_vec();
    blind.push(("trainer.early_stopping.monitor", "val_wer"));
    blind.push(("trainer.max_epochs", "5"));
    let s = fit(config(&tmp.path().join("c"), "es", &blind), None).unwrap();
    assert!(!s.stopped_early);
    assert_eq!(s.epochs, 5);
}

#[test]
fn max_steps_inside_the_first_epoch_names_checkpoints_by_epoch_0() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(
        tmp.path(),
        "short",
        &[
            ("trainer.max_steps", "4"),
            ("trainer.limit_val_batches", "2"),
        ],
    );
    let s = fit(cfg, None).unwrap();
    assert_eq!(s.global_steps, 4);
    let names: Vec<String> = RunDir::existing(&run_of(&s))
        .unwrap()
        .checkpoint_files()
        .unwrap()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("best-epoch=000-val_acc=")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("18446744073709551615")));
    assert_eq!(s.best_epoch, Some(0));
}
