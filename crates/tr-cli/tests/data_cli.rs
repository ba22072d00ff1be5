//! `htr data stats|show|text` end to end, on the file-less `fake-images` dataset.

use std::path::Path;
use std::process::{Command, Output};

fn htr(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_htr"))
        .args(args)
        .env("TR_DATA_DIR", data_dir)
        .env("TR_CACHE_DIR", data_dir.join("cache"))
        .env("HTR_LOG", "warn")
        .output()
        .expect("the htr binary runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "htr failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failure(out: &Output) -> String {
    assert!(!out.status.success(), "htr unexpectedly succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn stats_of_fake_images() {
    let tmp = tempfile::tempdir().unwrap();
    let report = ok(&htr(&["data", "stats", "fake-images"], tmp.path()));
    assert!(
        report.contains(
            "fake-images: class targets, 10-symbol vocabulary, input (C, H, W) = (1, 28, 28)"
        ),
        "{report}"
    );
    for (split, n) in [
        ("train", "256"),
        ("val", "128"),
        ("test", "128"),
        ("total", "512"),
    ] {
        let line = report.lines().find(|l| l.starts_with(split)).unwrap();
        assert_eq!(line.split_whitespace().nth(1), Some(n), "{line}");
    }
    // Ten class rows whose totals add up to every sample.
    let totals: Vec<u64> = report
        .lines()
        .filter(|l| l.starts_with('\''))
        .map(|l| l.split_whitespace().nth(4).unwrap().parse().unwrap())
        .collect();
    assert_eq!(totals.len(), 10);
    assert_eq!(totals.iter().sum::<u64>(), 512);
}

#[test]
fn stats_with_overrides() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "data",
        "stats",
        "fake-images",
        "--set",
        "num_samples=40",
        "--set",
        "target=sequence",
        "--set",
        "sequence_length=8",
    ];
    let report = ok(&htr(&args, tmp.path()));
    assert!(report.contains("sequence targets of length 8"), "{report}");
    assert!(report.contains("label length"), "{report}");
    let total = report.lines().find(|l| l.starts_with("total")).unwrap();
    assert_eq!(total.split_whitespace().nth(1), Some("40"));
}

#[test]
fn show_writes_a_grid_and_lists_its_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("grid.png");
    let args = [
        "data",
        "show",
        "fake-images",
        "--out",
        out.to_str().unwrap(),
        "--count",
        "6",
        "--seed",
        "3",
    ];
    let listing = ok(&htr(&args, tmp.path()));
    // Six 28x28 images doubled to 56 px (+2 frame), 16 px captions: 3 columns x 2 rows.
    let img = image::open(&out).unwrap().to_rgb8();
    assert_eq!(
        img.dimensions(),
        (8 + 3 * (58 + 8), 8 + 2 * (58 + 4 + 20 + 8))
    );
    assert!(
        listing.contains("6 train samples of fake-images"),
        "{listing}"
    );
    let rows: Vec<&str> = listing.lines().skip(2).collect();
    assert_eq!(rows.len(), 6, "{listing}");
    // Indices are distinct training indices; the same seed picks the same samples.
    let mut idx: Vec<usize> = rows
        .iter()
        .map(|r| r.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(idx.iter().all(|&i| i < 256));
    idx.dedup();
    assert_eq!(idx.len(), 6);
    assert_eq!(ok(&htr(&args, tmp.path())), listing);
    let other_seed = [
        "data",
        "show",
        "fake-images",
        "--out",
        out.to_str().unwrap(),
        "--count",
        "6",
        "--seed",
        "4",
    ];
    assert_ne!(ok(&htr(&other_seed, tmp.path())), listing);

    let val = [
        "data",
        "show",
        "fake-images",
        "--out",
        out.to_str().unwrap(),
        "--split",
        "val",
        "--count",
        "500",
    ];
    let listing = ok(&htr(&val, tmp.path()));
    assert!(listing.contains("128 val samples"), "{listing}");
}

#[test]
fn bad_requests_explain_themselves() {
    let tmp = tempfile::tempdir().unwrap();
    let err = failure(&htr(&["data", "stats", "nope"], tmp.path()));
    assert!(
        err.contains("unknown dataset \"nope\"") && err.contains("emnist-lines"),
        "{err}"
    );
    let err = failure(&htr(
        &["data", "stats", "fake-images", "--set", "colour=red"],
        tmp.path(),
    ));
    assert!(
        err.contains("colour") && err.contains("num_samples"),
        "{err}"
    );
    let err = failure(&htr(
        &["data", "stats", "fake-images", "--set", "num_samples"],
        tmp.path(),
    ));
    assert!(err.contains("KEY=VALUE"), "{err}");
    let err = failure(&htr(&["data", "stats", "mnist"], tmp.path()));
    assert!(err.contains("cargo xtask download mnist"), "{err}");
    let err = failure(&htr(
        &[
            "data",
            "show",
            "fake-images",
            "--out",
            "x.png",
            "--count",
            "0",
        ],
        tmp.path(),
    ));
    assert!(err.contains("--count"), "{err}");
    let bad_out = tmp.path().join("no/such/dir/grid.png");
    let err = failure(&htr(
        &[
            "data",
            "show",
            "fake-images",
            "--out",
            bad_out.to_str().unwrap(),
        ],
        tmp.path(),
    ));
    assert!(err.contains("no/such/dir/grid.png"), "{err}");
}

#[test]
fn text_writes_one_label_per_sample_of_the_split() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("train.txt");
    let base = [
        "data",
        "text",
        "fake-images",
        "--set",
        "num_samples=40",
        "--set",
        "target=sequence",
        "--set",
        "sequence_length=5",
        "--set",
        "num_classes=4",
    ];
    let mut args = base.to_vec();
    args.extend(["--out", out.to_str().unwrap()]);
    ok(&htr(&args, tmp.path()));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut stats_args = vec!["data", "stats"];
    stats_args.extend(&base[2..]);
    let stats = ok(&htr(&stats_args, tmp.path()));
    let train = stats
        .lines()
        .find(|l| l.starts_with("train"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap();
    assert_eq!(text.lines().count(), train, "{text}");
    assert!(text.lines().any(|l| !l.is_empty()), "{text}");
    // Labels hold the vocabulary's symbols only, never padding markers.
    assert!(!text.contains('<'), "{text}");

    // The test split to standard output.
    let mut args = base.to_vec();
    args.extend(["--split", "test", "--out", "-"]);
    let stdout = ok(&htr(&args, tmp.path()));
    assert!(stdout.lines().count() > 0);

    // A classification dataset has no label text.
    let err = failure(&htr(
        &[
            "data",
            "text",
            "fake-images",
            "--out",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    ));
    assert!(err.contains("classification"), "{err}");
}
