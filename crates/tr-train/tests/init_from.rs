//! Fine-tuning with `trainer.init_from`: a new run starts from an earlier
//! run's weights (with settings that have no weights changed) and a fresh
//! optimizer and step count; a checkpoint of another shape, or no file at
//! all, is refused with the key and the file named. A staged artifact
//! directory (f16 weights) is a starting point too.

use std::path::{Path, PathBuf};

use candle_core::Device;
use tr_infer::artifact::WeightsDType;
use tr_train::{fit, stage, Checkpoint, Override, RunConfig, StageOptions};

/// A tiny classifier on fake images.
const MLP: &[(&str, &str)] = &[
    ("data.dataset", "fake-images"),
    ("data.num_samples", "64"),
    ("data.batch_size", "8"),
    ("model.name", "mlp"),
    ("model.fc1", "32"),
    ("model.fc2", "16"),
];

/// A tiny CTC line model on fake 28 × 64 lines (what `htr stage` can stage).
const LINE: &[(&str, &str)] = &[
    ("data.dataset", "fake-images"),
    ("data.target", "sequence"),
    ("data.image_height", "28"),
    ("data.image_width", "64"),
    ("data.num_classes", "6"),
    ("data.sequence_length", "16"),
    ("data.num_samples", "48"),
    ("data.batch_size", "8"),
    ("data.num_workers", "0"),
    ("model.name", "line-cnn"),
    ("model.conv_dim", "4"),
    ("model.fc_dim", "16"),
];

/// The tiny classifier, `steps` optimizer steps, a checkpoint after each.
fn config(runs: &Path, steps: u64, extra: &[(&str, &str)]) -> RunConfig {
    build(MLP, runs, steps, extra)
}

/// `model` + `steps` optimizer steps, a checkpoint after each, then `extra`.
fn build(model: &[(&str, &str)], runs: &Path, steps: u64, extra: &[(&str, &str)]) -> RunConfig {
    let base = [
        ("trainer.checkpoint.every_n_train_steps", "1"),
        ("trainer.progress_bar", "false"),
        ("trainer.test_after_fit", "false"),
        ("trainer.num_sample_images", "0"),
        ("trainer.optimizer.name", "adam"),
    ];
    let steps = steps.to_string();
    let runs = runs.display().to_string();
    let ov: Vec<Override> = model
        .iter()
        .chain(base.iter())
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

#[test]
fn a_staged_artifact_is_a_starting_point_too() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a");
    fit(build(LINE, &first, 3, &[]), None).unwrap();
    let start = only_last(&first);
    let run = start.parent().unwrap().parent().unwrap().to_path_buf();
    let artifact = dir.path().join("artifact");
    stage(&StageOptions {
        run,
        metric: None,
        out: artifact.clone(),
        force: false,
        weights_dtype: WeightsDType::F16,
        beam: None,
        lm: None,
    })
    .unwrap();
    let artifact_s = artifact.display().to_string();
    let second = dir.path().join("b");
    fit(
        build(
            LINE,
            &second,
            1,
            &[
                ("trainer.init_from", &artifact_s),
                ("trainer.optimizer.lr", "0"),
            ],
        ),
        None,
    )
    .unwrap();
    // The staged checkpoint is the best one, not necessarily the last: compare
    // with every checkpoint of the first run rounded to f16.
    let got = weights(&only_last(&second));
    let ckpts = std::fs::read_dir(start.parent().unwrap()).unwrap();
    let rounded = |w: Vec<(String, Vec<f32>)>| -> Vec<(String, Vec<f32>)> {
        w.into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.iter().map(|x| half::f16::from_f32(*x).to_f32()).collect(),
                )
            })
            .collect()
    };
    let matches = ckpts
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .any(|p| rounded(weights(&p)) == got);
    assert!(matches, "starts from the artifact's (f16) weights");

    // An artifact of another shape is refused, naming the weights file and both shapes.
    let err = fit(
        build(
            LINE,
            &dir.path().join("c"),
            1,
            &[("trainer.init_from", &artifact_s), ("model.fc_dim", "24")],
        ),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("trainer.init_from")
            && err.contains("model.safetensors")
            && err.contains("16")
            && err.contains("24"),
        "{err}"
    );
}

#[test]
fn another_vocabulary_is_refused_unless_mapped_symbol_by_symbol() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a");
    // Classes "0".."5"; the fine-tuning data has "0".."7".
    fit(config(&first, 2, &[("data.num_classes", "6")]), None).unwrap();
    let start = only_last(&first);
    let start_s = start.display().to_string();
    let wider = |runs: &Path, extra: &[(&str, &str)]| {
        let mut all = vec![
            ("data.num_classes", "8"),
            ("trainer.init_from", start_s.as_str()),
            ("trainer.optimizer.lr", "0"),
        ];
        all.extend_from_slice(extra);
        config(runs, 1, &all)
    };
    let err = fit(wider(&dir.path().join("b"), &[]), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("trainer.init_from")
            && err.contains("vocabulary")
            && err.contains("init_vocabulary: map"),
        "{err}"
    );

    let mapped = dir.path().join("c");
    fit(wider(&mapped, &[("trainer.init_vocabulary", "map")]), None).unwrap();
    let old: std::collections::HashMap<_, _> = weights(&start).into_iter().collect();
    let new: std::collections::HashMap<_, _> = weights(&only_last(&mapped)).into_iter().collect();
    // Tensors not indexed by the vocabulary are carried over unchanged.
    for name in ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"] {
        assert_eq!(old[name], new[name], "{name}");
    }
    // The output layer: rows of the 6 shared classes copied, 2 fresh rows.
    let (w_old, w_new) = (&old["fc3.weight"], &new["fc3.weight"]);
    let width = w_old.len() / 6;
    assert_eq!(w_new.len(), 8 * width);
    assert_eq!(w_new[..6 * width], w_old[..]);
    assert!(
        w_new[6 * width..].iter().any(|v| *v != 0.0),
        "fresh rows are initialised"
    );
    assert_eq!(new["fc3.bias"][..6], old["fc3.bias"][..]);
    assert_eq!(new["fc3.bias"].len(), 8);

    // Mapping to the same vocabulary changes nothing.
    let same = dir.path().join("d");
    fit(
        config(
            &same,
            1,
            &[
                ("data.num_classes", "6"),
                ("trainer.init_from", &start_s),
                ("trainer.init_vocabulary", "map"),
                ("trainer.optimizer.lr", "0"),
            ],
        ),
        None,
    )
    .unwrap();
    assert_eq!(weights(&only_last(&same)), weights(&start));
}
