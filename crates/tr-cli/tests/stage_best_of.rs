//! `htr stage --best-of runs/ --metric val_cer [--dataset NAME]`: three
//! tiny runs (two datasets) trained here, the best checkpoint across the
//! runs of a dataset staged.

use std::path::Path;
use std::process::Command;

use tr_train::run::{Monitor, RunDir};
use tr_train::{Override, RunConfig};

fn htr(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_htr"))
        .args(args)
        .env("HTR_LOG", "warn")
        .output()
        .unwrap()
}

/// A tiny line-cnn on fake sequence data; `lr` and `epochs` vary the outcome.
fn config(runs: &Path, name: &str, classes: &str, lr: &str, epochs: &str) -> RunConfig {
    let pairs = [
        ("name", name),
        ("data.dataset", "fake-images"),
        ("data.target", "sequence"),
        ("data.image_height", "28"),
        ("data.image_width", "64"),
        ("data.num_classes", classes),
        ("data.sequence_length", "16"),
        ("data.num_samples", "32"),
        ("data.batch_size", "8"),
        ("data.num_workers", "0"),
        ("model.name", "line-cnn"),
        ("model.conv_dim", "4"),
        ("model.fc_dim", "16"),
        ("trainer.optimizer.lr", lr),
        ("trainer.max_epochs", epochs),
        ("trainer.limit_train_batches", "2"),
        ("trainer.progress_bar", "false"),
        ("trainer.test_after_fit", "false"),
        ("trainer.num_sample_images", "0"),
        ("trainer.runs_dir", runs.to_str().unwrap()),
    ];
    let overrides: Vec<Override> = pairs
        .iter()
        .map(|(k, v)| Override {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect();
    RunConfig::load(None, &overrides).unwrap()
}

#[test]
fn best_of_stages_the_best_run_of_the_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let mut scored = Vec::new();
    for (name, lr, epochs) in [("a", "0.0001", "1"), ("b", "0.003", "2")] {
        let s = tr_train::fit(config(&runs, name, "6", lr, epochs), None).unwrap();
        let run = s.run_dir.unwrap();
        let sel = RunDir::existing(&run)
            .unwrap()
            .best_checkpoint(&Monitor::new("val_cer", None))
            .unwrap();
        scored.push((run, sel));
    }
    // A folder that is not a run is passed over.
    std::fs::create_dir_all(runs.join("notes")).unwrap();
    let best = scored
        .iter()
        .min_by(|a, b| a.1.score.total_cmp(&b.1.score))
        .unwrap();

    let art = tmp.path().join("artifact");
    let o = htr(&[
        "stage",
        "--best-of",
        runs.to_str().unwrap(),
        "--metric",
        "val_cer",
        "--dataset",
        "fake-images",
        "--out",
        art.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout.matches("candidate ").count(), 2, "{stdout}");
    let staged = stdout.lines().last().unwrap();
    assert!(
        staged.contains(&best.1.path.display().to_string()),
        "{staged} should be {}",
        best.1.path.display()
    );
    assert!(art.join("config.json").exists());

    // Another dataset: nothing to stage, and the message says why.
    let o = htr(&[
        "stage",
        "--best-of",
        runs.to_str().unwrap(),
        "--dataset",
        "page-lines",
        "--out",
        tmp.path().join("none").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("page-lines") && err.contains("trained on fake-images"),
        "{err}"
    );
    // --run and --best-of exclude each other.
    let o = htr(&["stage", "--run", "x", "--best-of", "y", "--out", "z"]);
    assert!(!o.status.success());
}
