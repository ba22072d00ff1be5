//! Exact resume: a run killed with SIGKILL in the middle of an epoch and
//! resumed from its `last` checkpoint ends with the same weights (bit for bit)
//! and the same validation metrics as an uninterrupted run with the same seed;
//! so does a run stopped by `max_steps` mid-epoch and continued in-process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use candle_core::Device;
use tr_train::Checkpoint;
use tr_train::{fit, Override, RunConfig};

/// A tiny classifier with dropout (so dropout seeding is exercised) on fake
/// images: 9 training batches per epoch, a checkpoint after every step.
fn args(runs: &Path, max_epochs: u64) -> Vec<(String, String)> {
    [
        ("data.dataset", "fake-images"),
        ("data.num_samples", "144"),
        ("data.batch_size", "8"),
        ("data.num_workers", "2"),
        ("model.name", "mlp"),
        ("model.fc1", "64"),
        ("model.fc2", "32"),
        ("trainer.checkpoint.every_n_train_steps", "1"),
        ("trainer.progress_bar", "false"),
        ("trainer.test_after_fit", "false"),
        ("trainer.num_sample_images", "0"),
        ("trainer.optimizer.name", "adamw"),
        ("trainer.scheduler.name", "cosine"),
        ("trainer.scheduler.warmup_steps", "5"),
        ("trainer.scheduler.total_steps", "60"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([
        ("trainer.runs_dir".to_string(), runs.display().to_string()),
        ("trainer.max_epochs".to_string(), max_epochs.to_string()),
    ])
    .collect()
}

fn config(runs: &Path, max_epochs: u64, extra: &[(&str, &str)]) -> RunConfig {
    let mut ov: Vec<Override> = args(runs, max_epochs)
        .into_iter()
        .map(|(key, value)| Override { key, value })
        .collect();
    ov.extend(extra.iter().map(|(k, v)| Override {
        key: k.to_string(),
        value: v.to_string(),
    }));
    RunConfig::load(None, &ov).unwrap()
}

fn last_checkpoint(runs: &Path) -> Option<PathBuf> {
    let run = std::fs::read_dir(runs).ok()?.next()?.ok()?.path();
    Some(run.join("checkpoints/last.safetensors")).filter(|p| p.exists())
}

fn assert_same_weights(a: &Path, b: &Path) {
    let a = Checkpoint::load(a, &Device::Cpu).unwrap();
    let b = Checkpoint::load(b, &Device::Cpu).unwrap();
    assert_eq!(a.header.state.global_step, b.header.state.global_step);
    assert!(!a.weights.is_empty());
    for (name, ta) in &a.weights {
        let ta: Vec<f32> = ta.flatten_all().unwrap().to_vec1().unwrap();
        let tb: Vec<f32> = b.weights[name].flatten_all().unwrap().to_vec1().unwrap();
        let same = ta.iter().zip(&tb).all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "parameter {name} differs after resume");
    }
    for (name, ta) in &a.optimizer {
        let ta: Vec<f32> = ta.flatten_all().unwrap().to_vec1().unwrap();
        let tb: Vec<f32> = b.optimizer[name].flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(ta, tb, "optimizer buffer {name} differs after resume");
    }
}

#[test]
fn killed_mid_epoch_and_resumed_equals_uninterrupted() {
    let dir = tempfile::tempdir().unwrap();
    let (straight, killed) = (dir.path().join("straight"), dir.path().join("killed"));
    let epochs = 12;
    let reference = fit(config(&straight, epochs, &[]), None).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_tr-train"))
        .arg("fit")
        .args(
            args(&killed, epochs)
                .into_iter()
                .flat_map(|(k, v)| [format!("--{k}"), v]),
        )
        .env("HTR_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as a checkpoint from the middle of an epoch exists.
    let deadline = Instant::now() + Duration::from_secs(120);
    let ckpt = loop {
        if let Some(p) = last_checkpoint(&killed) {
            if let Ok(c) = Checkpoint::load(&p, &Device::Cpu) {
                let in_epoch = c.header.state.batch_in_epoch;
                let step = c.header.state.global_step;
                if in_epoch > 0 && step > 9 {
                    child.kill().unwrap();
                    break p;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no mid-epoch checkpoint appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    child.wait().unwrap();
    let interrupted = Checkpoint::load(&ckpt, &Device::Cpu).unwrap();
    assert!(interrupted.header.state.global_step < reference.global_steps);

    let resumed = fit(config(&killed, epochs, &[]), Some(&ckpt)).unwrap();
    assert_eq!(resumed.global_steps, reference.global_steps);
    assert_eq!(resumed.val, reference.val);
    assert_same_weights(
        &last_checkpoint(&straight).unwrap(),
        &last_checkpoint(&killed).unwrap(),
    );
}

#[test]
fn stopped_by_max_steps_and_continued_equals_uninterrupted() {
    let dir = tempfile::tempdir().unwrap();
    let (straight, split) = (dir.path().join("straight"), dir.path().join("split"));
    let reference = fit(config(&straight, 3, &[]), None).unwrap();
    // 13 steps = one epoch of 9 batches and 4 batches into the second.
    let first = fit(config(&split, 3, &[("trainer.max_steps", "13")]), None).unwrap();
    assert_eq!(first.global_steps, 13);
    let ckpt = last_checkpoint(&split).unwrap();
    let resumed = fit(config(&split, 3, &[]), Some(&ckpt)).unwrap();
    assert_eq!(resumed.global_steps, reference.global_steps);
    assert_eq!(resumed.val, reference.val);
    assert_same_weights(
        &last_checkpoint(&straight).unwrap(),
        &last_checkpoint(&split).unwrap(),
    );
}

#[test]
fn same_seed_same_weights_different_seed_different_weights() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    fit(config(&a, 1, &[]), None).unwrap();
    fit(config(&b, 1, &[("data.num_workers", "0")]), None).unwrap();
    assert_same_weights(&last_checkpoint(&a).unwrap(), &last_checkpoint(&b).unwrap());
    let mut cfg = config(&c, 1, &[]);
    cfg.seed += 1;
    fit(cfg, None).unwrap();
    let wa = Checkpoint::load(&last_checkpoint(&a).unwrap(), &Device::Cpu).unwrap();
    let wc = Checkpoint::load(&last_checkpoint(&c).unwrap(), &Device::Cpu).unwrap();
    let name = wa.weights.keys().next().unwrap();
    let x: Vec<f32> = wa.weights[name].flatten_all().unwrap().to_vec1().unwrap();
    let y: Vec<f32> = wc.weights[name].flatten_all().unwrap().to_vec1().unwrap();
    assert_ne!(x, y);
}
