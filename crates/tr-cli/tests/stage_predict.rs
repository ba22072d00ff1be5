//! Round trip: train a tiny line model for a few steps, stage its best
//! checkpoint with `htr stage`, load the artifact with tr-infer alone and
//! with `htr predict`, and read the same text the trainer's own validation
//! decoding reads on the same images.

use std::path::{Path, PathBuf};
use std::process::Command;

use image::DynamicImage;
use tr_data::tensor_to_images;
use tr_infer::{LineTextRecognizer, Preprocessing};
use tr_train::{Override, RunConfig};
use tr_train::{Session, Split};

fn htr(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_htr"))
        .args(args)
        .env("HTR_LOG", "warn")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A 28 × 64 line-cnn trained for 4 steps on fake sequence data.
fn config(runs: &Path) -> RunConfig {
    let pairs = [
        ("name", "rt"),
        ("data.dataset", "fake-images"),
        ("data.target", "sequence"),
        ("data.image_height", "28"),
        ("data.image_width", "64"),
        ("data.num_classes", "6"),
        // At least the 7 CTC steps of a 64-pixel line, so the trainer's
        // cut of predictions to this length never applies.
        ("data.sequence_length", "16"),
        ("data.num_samples", "48"),
        ("data.batch_size", "8"),
        ("data.num_workers", "0"),
        ("model.name", "line-cnn"),
        ("model.conv_dim", "4"),
        ("model.fc_dim", "16"),
        ("trainer.max_epochs", "2"),
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

/// The trainer's validation decoding of the best checkpoint: images and texts.
fn trainer_decode(config: RunConfig, ckpt: &Path) -> (Vec<DynamicImage>, Vec<String>) {
    let session = Session::build(config).unwrap();
    session.restore(ckpt).unwrap();
    let loader = session.loader(Split::Val).unwrap();
    let (mut images, mut texts) = (Vec::new(), Vec::new());
    for batch in loader.epoch(0) {
        let batch = batch.unwrap();
        let out = session
            .lit
            .step(&*session.model, &batch.images, &batch.targets, false)
            .unwrap();
        for (img, p) in tensor_to_images(&batch.images)
            .unwrap()
            .into_iter()
            .zip(&out.predictions)
        {
            images.push(DynamicImage::ImageLuma8(img));
            texts.push(session.data.vocab.decode(p).unwrap());
        }
    }
    (images, texts)
}

#[test]
fn train_stage_predict_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let cfg = config(&runs);
    let summary = tr_train::fit(cfg.clone(), None).unwrap();
    let run: PathBuf = summary.run_dir.clone().unwrap();
    let best = summary.best_checkpoint.clone().unwrap();

    // Stage with the CLI.
    let art = tmp.path().join("artifact");
    let o = htr(&[
        "stage",
        "--run",
        run.to_str().unwrap(),
        "--metric",
        "val_cer",
        "--out",
        art.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "stage failed: {}", text(&o.stderr));
    assert!(text(&o.stdout).contains("val_cer"), "{}", text(&o.stdout));
    for f in ["config.json", "model.safetensors", "README.md"] {
        assert!(art.join(f).exists(), "{f}");
    }
    let card = std::fs::read_to_string(art.join("README.md")).unwrap();
    assert!(
        card.contains("fake-images")
            && card.contains("htr fit --config")
            && card.contains("val_cer"),
        "{card}"
    );

    // tr-infer reads what the trainer reads.
    let (images, want) = trainer_decode(cfg, &best);
    assert_eq!(images.len(), 12);
    let r = LineTextRecognizer::from_dir(&art)
        .unwrap()
        .with_preprocessing(Preprocessing::as_trained());
    let got: Vec<String> = r
        .predict_batch(&images)
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert_eq!(got, want);
    assert!(
        want.iter().any(|t| !t.is_empty()),
        "every prediction is empty: {want:?}"
    );

    // And so does `htr predict`, one line per image, skipping a bad file
    // but failing the exit code.
    let mut paths = Vec::new();
    for (i, img) in images.iter().take(3).enumerate() {
        let p = tmp.path().join(format!("line{i}.png"));
        img.save(&p).unwrap();
        paths.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec![
        "predict",
        "--model",
        art.to_str().unwrap(),
        "--polarity",
        "bright-ink",
        "--no-contrast-stretch",
    ];
    args.extend(paths.iter().map(String::as_str));
    let o = htr(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines: Vec<String> = text(&o.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines, want[..3].to_vec());

    let empty = tmp.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let o = htr(&[
        "predict",
        "--model",
        art.to_str().unwrap(),
        "--polarity",
        "bright-ink",
        "--no-contrast-stretch",
        "--json",
        &paths[0],
        empty.to_str().unwrap(),
        &paths[1],
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("empty.png") && err.contains("empty"), "{err}");
    let rows: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["text"], want[0].as_str());
    assert!(rows[1]["error"].as_str().unwrap().contains("empty"));
    assert_eq!(rows[2]["text"], want[1].as_str());
    assert!(rows[0]["confidence"].as_f64().unwrap() <= 1.0);
    assert!(rows[0]["predict_ms"].as_f64().unwrap() >= 0.0);

    // Standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_htr"))
        .args([
            "predict",
            "--model",
            art.to_str().unwrap(),
            "--polarity",
            "bright-ink",
            "--no-contrast-stretch",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let bytes = std::fs::read(&paths[2]).unwrap();
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(text(&o.stdout).trim_end_matches('\n'), want[2]);

    // Staging errors name what is wrong.
    let o = htr(&[
        "stage",
        "--run",
        run.to_str().unwrap(),
        "--metric",
        "val_wer",
        "--out",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("val_cer"), "{}", text(&o.stderr));
    let o = htr(&[
        "stage",
        "--run",
        run.to_str().unwrap(),
        "--out",
        art.to_str().unwrap(),
    ]);
    assert!(text(&o.stderr).contains("--force"), "{}", text(&o.stderr));
    let o = htr(&[
        "stage",
        "--run",
        run.to_str().unwrap(),
        "--f16",
        "--force",
        "--out",
        art.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(art.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["weights"]["dtype"], "f16");
}

/// `htr evaluate` scores what `htr predict` reads: the greedy row's error
/// counts are those of the trainer's own decoding of the validation split,
/// and a staged beam + LM decoder gets a row of its own.
#[test]
fn evaluate_scores_the_split_as_the_trainer_decodes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let cfg = config(&runs);
    let summary = tr_train::fit(cfg.clone(), None).unwrap();
    let run = summary.run_dir.clone().unwrap();
    let best = summary.best_checkpoint.clone().unwrap();

    // References and the trainer's greedy texts of the validation split.
    let session = Session::build(cfg.clone()).unwrap();
    let references: Vec<String> = (0..session.data.val.len())
        .map(|i| match session.data.val.target(i).unwrap() {
            tr_data::datasets::Target::Sequence(l) => session.data.vocab.decode(&l).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    let (_, want) = trainer_decode(cfg, &best);
    assert_eq!(want.len(), references.len());
    let (mut errors, mut chars) = (0, 0);
    for (h, r) in want.iter().zip(&references) {
        let (h, r): (Vec<char>, Vec<char>) = (h.chars().collect(), r.chars().collect());
        errors += tr_lit::edit_distance(&h, &r);
        chars += r.len();
    }

    let licence = tmp.path().join("licence.md");
    std::fs::write(&licence, "## Licence\n\nCC0 test data.\n").unwrap();
    let lm_text = tmp.path().join("lm.txt");
    std::fs::write(&lm_text, references.join("\n")).unwrap();
    let art = tmp.path().join("artifact");
    let o = htr(&[
        "stage",
        "--run",
        run.to_str().unwrap(),
        "--out",
        art.to_str().unwrap(),
        "--beam",
        "4",
        "--lm-text",
        lm_text.to_str().unwrap(),
        "--lm-order",
        "3",
        "--card-append",
        licence.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let card = std::fs::read_to_string(art.join("README.md")).unwrap();
    assert!(
        card.contains("htr fit --config") && card.trim_end().ends_with("CC0 test data."),
        "{card}"
    );
    let o = htr(&[
        "stage",
        "--run",
        run.to_str().unwrap(),
        "--out",
        tmp.path().join("other").to_str().unwrap(),
        "--card-append",
        tmp.path().join("missing.md").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("missing.md"),
        "{}",
        text(&o.stderr)
    );
    assert!(!tmp.path().join("other").exists());

    let preds = tmp.path().join("preds.jsonl");
    let config_file = run.join("config.yaml");
    let o = htr(&[
        "evaluate",
        "--config",
        config_file.to_str().unwrap(),
        "--model",
        art.to_str().unwrap(),
        "--split",
        "val",
        "--json",
        "--predictions",
        preds.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let rows: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["decoder"], "greedy");
    assert_eq!(rows[1]["decoder"], "beam-4+lm");
    assert_eq!(rows[0]["lines"], references.len());
    assert_eq!(rows[0]["char_errors"], errors);
    assert_eq!(rows[0]["chars"], chars);
    let cer = rows[0]["cer"].as_f64().unwrap();
    assert!((cer - errors as f64 / chars as f64).abs() < 1e-12);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&preds)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let greedy: Vec<&str> = lines
        .iter()
        .map(|l| l["greedy"].as_str().unwrap())
        .collect();
    assert_eq!(greedy, want.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(lines.iter().all(|l| l["beam-4+lm"].is_string()));

    // Dotted overrides reach the data; bad requests name what is wrong.
    let o = htr(&[
        "evaluate",
        "--config",
        config_file.to_str().unwrap(),
        "--model",
        art.to_str().unwrap(),
        "--greedy-only",
        "--data.num_samples",
        "24",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 1);
    let o = htr(&[
        "evaluate",
        "--config",
        config_file.to_str().unwrap(),
        "--model",
        tmp.path().join("nowhere").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("nowhere"), "{}", text(&o.stderr));
}
