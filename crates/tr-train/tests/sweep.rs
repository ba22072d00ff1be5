//! `sweep` through the command layer on tiny runs (fake images, a small
//! MLP): every grid combination trains as its own experiment, the table is
//! ranked by the monitored metric and written next to the runs, `--random`
//! trains a seeded subset, and a mistyped key fails before anything trains.

use tr_train::cli::{run, ExperimentArgs, ExperimentCommand, SweepArgs};
use tr_train::Override;

fn base(runs: &std::path::Path) -> Vec<Override> {
    [
        ("data.dataset", "fake-images"),
        ("data.num_samples", "96"),
        ("data.batch_size", "16"),
        ("data.num_workers", "0"),
        ("model.name", "mlp"),
        ("trainer.max_epochs", "1"),
        ("trainer.progress_bar", "false"),
        ("trainer.test_after_fit", "false"),
        ("trainer.num_sample_images", "0"),
        ("trainer.runs_dir", &runs.display().to_string()),
        ("name", "tiny"),
    ]
    .iter()
    .map(|(k, v)| Override {
        key: k.to_string(),
        value: v.to_string(),
    })
    .collect()
}

fn sweep(grid: &[&str], random: Option<usize>) -> ExperimentCommand {
    ExperimentCommand::Sweep(SweepArgs {
        experiment: ExperimentArgs::default(),
        grid: grid.iter().map(|g| g.to_string()).collect(),
        random,
        sweep_seed: 3,
    })
}

fn runs(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
}

#[test]
fn a_grid_trains_every_combination_and_ranks_them() {
    let tmp = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let cmd = sweep(&["model.fc1=4,16", "trainer.optimizer.lr=0.01,0.001"], None);
    run(&cmd, &base(tmp.path()), &mut out).unwrap();
    let table = String::from_utf8(out).unwrap();
    assert_eq!(runs(tmp.path()), 4);
    for k in 0..4 {
        assert!(table.contains(&format!("tiny-sweep-{k:02}")), "{table}");
    }
    assert!(
        table.contains("| model.fc1 | trainer.optimizer.lr |"),
        "{table}"
    );
    // Ranked: the scores in the table's order are monotone in the monitor's direction.
    let monitor_lower = table.contains("lower is better");
    let scores: Vec<f64> = table
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("tiny-sweep-"))
        .map(|l| l.split('|').nth(5).unwrap().trim().parse::<f64>().unwrap())
        .collect();
    assert_eq!(scores.len(), 4);
    for w in scores.windows(2) {
        assert!(
            if monitor_lower {
                w[0] <= w[1]
            } else {
                w[0] >= w[1]
            },
            "{scores:?}\n{table}"
        );
    }
    assert!(tmp.path().join("sweep-tiny.md").is_file());
}

#[test]
fn random_subsets_and_bad_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    run(
        &sweep(&["model.fc1=4,8,16"], Some(2)),
        &base(tmp.path()),
        &mut out,
    )
    .unwrap();
    assert_eq!(runs(tmp.path()), 2);

    let bad = tempfile::tempdir().unwrap();
    let err = run(
        &sweep(&["model.fc9=4,8"], None),
        &base(bad.path()),
        &mut Vec::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("fc9"), "{err}");
    assert_eq!(runs(bad.path()), 0, "nothing trained");
    let err = run(
        &sweep(&["model.fc1"], None),
        &base(bad.path()),
        &mut Vec::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("KEY=V1"), "{err}");
}
