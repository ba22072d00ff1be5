//! Fine-tuning with `trainer.init_from`: a new run starts from an earlier
//! run's weights (with settings that have no weights changed) and a fresh
//! optimizer and step count; a checkpoint of another shape, or no file at
//! all, is refused with the key and the file named.

use std::path::{Path, PathBuf};

use candle_core::Device;
use tr_train::{fit, Checkpoint, Override, RunConfig};

/// A tiny classifier on fake images, `steps` optimizer steps, a checkpoint after each.
fn config(runs: &Path, steps: u64, extra: &[(&str, &str)]) -> RunConfig {
    let base = [
        ("data.dataset", "fake-images"),
        ("data.num_samples", "64"),
        ("data.batch_size", "8"),
        ("model.name", "mlp"),
        ("model.fc1", "32"),
        ("model.fc2", "16"),
        ("trainer.checkpoint.every_n_train_steps", "1"),
        ("trainer.progress_bar", "false"),
        ("trainer.test_after_fit", "false"),
        ("trainer.num_sample_images", "0"),
        ("trainer.optimizer.name", "adam"),
    ];
    let steps = steps.to_string();
    let runs = runs.display().to_string();
    let ov: Vec<Override> = base
        .iter()
        .copied()
        .chain([
            ("trainer.max_steps", steps.as_str()),
            ("trainer.runs_dir", runs.as_str()),
        ])
        .chain(extra.iter().copied())
        .map(|(k, v)| Override {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect();
    RunConfig::load(None, &ov).unwrap()
}

fn only_last(runs: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap().join("checkpoints/last.safetensors")
}

fn weights(path: &Path) -> Vec<(String, Vec<f32>)> {
    let ckpt = Checkpoint::load(path, &Device::Cpu).unwrap();
    let mut w: Vec<(String, Vec<f32>)> = ckpt
        .weights
        .iter()
        .map(|(k, t)| (k.clone(), t.flatten_all().unwrap().to_vec1().unwrap()))
        .collect();
    w.sort_by(|a, b| a.0.cmp(&b.0));
    w
}

#[test]
fn a_new_run_starts_from_the_given_weights_with_a_fresh_state() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("a"), dir.path().join("b"));
    fit(config(&first, 3, &[]), None).unwrap();
    let start = only_last(&first);
    let start_s = start.display().to_string();
    // lr 0: the weights stay exactly where they started, so the second run's
    // checkpoint shows what it started from; dropout differs (no weights).
    fit(
        config(
            &second,
            2,
            &[
                ("trainer.init_from", &start_s),
                ("trainer.optimizer.lr", "0"),
                ("model.fc_dropout", "0.1"),
            ],
        ),
        None,
    )
    .unwrap();
    let end = only_last(&second);
    assert_eq!(weights(&end), weights(&start));
    let ckpt = Checkpoint::load(&end, &Device::Cpu).unwrap();
    assert_eq!(
        ckpt.header.state.global_step, 2,
        "the step count starts afresh"
    );

    // Without init_from the same seed starts elsewhere.
    let third = dir.path().join("c");
    fit(config(&third, 2, &[("trainer.optimizer.lr", "0")]), None).unwrap();
    assert_ne!(weights(&only_last(&third)), weights(&start));
}

#[test]
fn another_shape_or_a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a");
    fit(config(&first, 1, &[]), None).unwrap();
    let start = only_last(&first).display().to_string();
    let err = fit(
        config(
            &dir.path().join("b"),
            1,
            &[("trainer.init_from", &start), ("model.fc1", "48")],
        ),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("trainer.init_from") && err.contains(&start),
        "{err}"
    );
    assert!(
        err.contains("32") && err.contains("48"),
        "names both shapes: {err}"
    );

    let missing = dir.path().join("nope.safetensors").display().to_string();
    let err = fit(
        config(&dir.path().join("c"), 1, &[("trainer.init_from", &missing)]),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("trainer.init_from") && err.contains("nope.safetensors"),
        "{err}"
    );
}
