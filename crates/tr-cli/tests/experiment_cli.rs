//! `htr fit | validate | test | stage` through the binary, on tiny MNIST and
//! EMNIST + Brown folders written by the test: `--data-dir` and `--runs-dir`
//! on every experiment command, `test_after_fit`, `--ckpt best|last`, and
//! staging after the training data is gone (checkpoints carry what the model
//! needs).

use std::path::Path;
use std::process::{Command, Output};

fn htr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_htr"))
        .args(args)
        .env("HTR_LOG", "warn")
        .env_remove("TR_DATA_DIR")
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

/// An idx file: magic (unsigned bytes, `dims.len()` dimensions), big-endian sizes, data.
fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

/// EMNIST's test split (6 glyphs of each of the 62 classes, class k a bar in
/// its own rows and columns, stored transposed) and a one-file Brown corpus.
fn write_emnist_and_brown(root: &Path) {
    let dir = root.join("downloaded/emnist");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for _ in 0..6 {
        for k in 0..62u8 {
            let mut g = [0u8; 784];
            for i in 0..28 {
                g[i * 28 + (k as usize % 28)] = 255;
                g[(k as usize / 3) * 28 + i] = 180;
            }
            pixels.extend_from_slice(&g);
            labels.push(k);
        }
    }
    let n = labels.len() as u32;
    std::fs::write(
        dir.join("emnist-byclass-test-images-idx3-ubyte"),
        idx(&[n, 28, 28], &pixels),
    )
    .unwrap();
    std::fs::write(
        dir.join("emnist-byclass-test-labels-idx1-ubyte"),
        idx(&[n], &labels),
    )
    .unwrap();
    let mapping: String = ('0'..='9')
        .chain('A'..='Z')
        .chain('a'..='z')
        .enumerate()
        .map(|(i, c)| format!("{i} {}\n", c as u32))
        .collect();
    std::fs::write(dir.join("emnist-byclass-mapping.txt"), mapping).unwrap();

    let brown = root.join("downloaded/brown");
    std::fs::create_dir_all(&brown).unwrap();
    let mut text = String::new();
    for i in 0..60 {
        text.push_str(&format!(
            "\n\tThe/at jury/nn said/vbd {i}/cd things/nns about/in Atlanta/np ./.\n"
        ));
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("brown/ca01", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, text.as_bytes()).unwrap();
    std::fs::write(brown.join("brown.zip"), zip.finish().unwrap().into_inner()).unwrap();
}

/// 200 28×28 "digits": class k is a bright bar in row band k.
fn write_mnist(root: &Path) {
    let dir = root.join("downloaded/mnist");
    std::fs::create_dir_all(&dir).unwrap();
    let n = 200u32;
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let mut pixels = vec![0u8; (n * 28 * 28) as usize];
    for (i, &l) in labels.iter().enumerate() {
        for r in (2 + 2 * l as usize)..(4 + 2 * l as usize) {
            for c in 4..24 {
                pixels[i * 784 + r * 28 + c] = 200 + (i % 50) as u8;
            }
        }
    }
    std::fs::write(
        dir.join("t10k-images-idx3-ubyte"),
        idx(&[n, 28, 28], &pixels),
    )
    .unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx(&[n], &labels)).unwrap();
}

const CONFIG: &str = "\
name: tiny-mnist
seed: 3
data: { dataset: mnist, batch_size: 16, num_workers: 0 }
model: { name: mlp, fc1: 32, fc2: 16 }
trainer: { max_epochs: 2, progress_bar: false, num_sample_images: 0, test_after_fit: true }
";

#[test]
fn fit_validate_test_and_stage_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let runs = tmp.path().join("runs");
    write_mnist(&data);
    let cfg = tmp.path().join("tiny.yaml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let (cfg, data_s, runs_s) = (
        cfg.to_str().unwrap(),
        data.to_str().unwrap(),
        runs.to_str().unwrap(),
    );
    let common = ["--config", cfg, "--data-dir", data_s, "--runs-dir", runs_s];

    // fit with test_after_fit: the summary carries the best checkpoint's test figures.
    let out = ok(&htr(&[&["fit"][..], &common].concat()));
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    let test_acc = summary["test"]["test_acc"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&test_acc), "{summary}");
    let run = summary["run_dir"].as_str().unwrap().to_string();
    assert!(run.starts_with(runs_s), "{run}");

    // validate / test a checkpoint found by name under --runs-dir.
    let val = ok(&htr(
        &[&["validate", "--ckpt", "best"][..], &common].concat()
    ));
    assert!(
        val.contains("val_acc=") && val.contains("val_loss="),
        "{val}"
    );
    let test = ok(&htr(&[&["test", "--ckpt", "best"][..], &common].concat()));
    assert!(
        test.contains(&format!("test_acc={test_acc:.4}")),
        "{test} vs {test_acc}"
    );
    let last = ok(&htr(&[&["test", "--ckpt", "last"][..], &common].concat()));
    assert!(last.contains("test_acc="), "{last}");

    // Without --data-dir the data is looked up in ./data, and the error says
    // which files and which command fetches them.
    let o = htr(&[
        "test",
        "--config",
        cfg,
        "--runs-dir",
        runs_s,
        "--ckpt",
        "best",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("t10k-images-idx3-ubyte") && err.contains("xtask download"),
        "{err}"
    );
}

const LINES: &str = "\
name: tiny-lines
seed: 5
data: { dataset: emnist-lines, max_length: 8, num_train: 32, num_val: 16, num_test: 16, batch_size: 8, num_workers: 0 }
model: { name: line-cnn, conv_dim: 4, fc_dim: 8 }
trainer: { max_epochs: 1, progress_bar: false, num_sample_images: 0, test_after_fit: false }
";

#[test]
fn staging_reads_no_training_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write_emnist_and_brown(&data);
    let cfg = tmp.path().join("lines.yaml");
    std::fs::write(&cfg, LINES).unwrap();
    let runs = tmp.path().join("runs");
    let out = ok(&htr(&[
        "fit",
        "--config",
        cfg.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--runs-dir",
        runs.to_str().unwrap(),
    ]));
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    let run = summary["run_dir"].as_str().unwrap().to_string();

    // The data (and its line cache under data/processed) is gone.
    std::fs::remove_dir_all(&data).unwrap();
    let art = tmp.path().join("artifact");
    let staged = ok(&htr(&[
        "stage",
        "--run",
        &run,
        "--out",
        art.to_str().unwrap(),
    ]));
    assert!(staged.contains("val_cer"), "{staged}");
    let card = std::fs::read_to_string(art.join("README.md")).unwrap();
    assert!(
        card.contains("emnist-lines") && card.contains("32 train"),
        "{card}"
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(art.join("config.json")).unwrap()).unwrap();
    let shape = &config["input_shape"];
    assert_eq!(
        (shape[0].as_u64(), shape[1].as_u64()),
        (Some(1), Some(28)),
        "{config}"
    );
}
