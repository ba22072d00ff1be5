//! `htr predict` with no `--model` reads with the bundled model: the
//! README's first command, on the shipped handwriting samples.

use std::path::{Path, PathBuf};
use std::process::Command;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

#[test]
fn predict_without_a_model_reads_the_example_with_the_bundled_model() {
    let image = example("hooker-1.png");
    let out = Command::new(env!("CARGO_BIN_EXE_htr"))
        .args(["predict", image.to_str().unwrap()])
        .env("HTR_LOG", "warn")
        // No data and no network are needed: point both somewhere empty.
        .env("TR_DATA_DIR", "/nonexistent/tr-data")
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let want = tr_infer::LineTextRecognizer::bundled()
        .unwrap()
        .predict_file(&image)
        .unwrap()
        .text;
    assert_eq!(printed.trim_end_matches('\n'), want);
    assert!(!want.is_empty());

    // --json names the bundled model's decoder (beam search with its LM).
    let out = Command::new(env!("CARGO_BIN_EXE_htr"))
        .args([
            "predict",
            "--model",
            "bundled",
            "--json",
            image.to_str().unwrap(),
        ])
        .env("HTR_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"], want.as_str());
    assert!(v["decoder"].as_str().unwrap().ends_with("+lm"), "{v}");

    // --greedy: best-path decoding, what the recogniser gives with the greedy decoder.
    let out = Command::new(env!("CARGO_BIN_EXE_htr"))
        .args(["predict", "--greedy", "--json", image.to_str().unwrap()])
        .env("HTR_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decoder"], "greedy", "{v}");
    let mut greedy = tr_infer::LineTextRecognizer::bundled().unwrap();
    greedy.set_decoder(tr_infer::DecoderConfig::Greedy).unwrap();
    let want_greedy = greedy.predict_file(&image).unwrap().text;
    assert_eq!(v["text"], want_greedy.as_str());
}
