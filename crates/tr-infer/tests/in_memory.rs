//! Artifacts held in memory (`Artifact::from_bytes`, what the bundled model
//! uses) load exactly like their directory and are verified the same way.

mod common;

use std::path::Path;

use candle_core::Device;
use tr_infer::artifact::{write_artifact, ArtifactSpec, CONFIG_FILE, LM_FILE, WEIGHTS_FILE};
use tr_infer::{Artifact, ArtifactBytes, DecoderConfig, LineTextRecognizer, LmConfig};
use tr_models::decoding::CharNgramLm;

/// A tiny line-cnn artifact with a beam + LM decoder, written to `dir`.
fn artifact_with_lm(dir: &Path) {
    let (model, spec, weights) = common::tiny_model("line-cnn");
    let lines = ["abc", "abd", "bcd", "cab"];
    let lm = CharNgramLm::train(3, lines.iter().copied()).unwrap();
    let spec = ArtifactSpec {
        decoder: DecoderConfig::Beam {
            width: 4,
            lm: Some(LmConfig {
                file: LM_FILE.into(),
                alpha: 2.0,
                beta: 0.0,
                bytes: None,
                sha256: None,
            }),
        },
        lm: Some(lm),
        ..ArtifactSpec::new(model, &spec)
    };
    write_artifact(dir, &spec, &weights).unwrap();
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap()
}

#[test]
fn bytes_load_and_read_like_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    artifact_with_lm(tmp.path());
    let config = String::from_utf8(read(tmp.path(), CONFIG_FILE)).unwrap();
    let weights = read(tmp.path(), WEIGHTS_FILE);
    let lm = String::from_utf8(read(tmp.path(), LM_FILE)).unwrap();
    let files = ArtifactBytes {
        label: Path::new("embedded"),
        config: &config,
        weights: &weights,
        lm: Some(&lm),
    };
    let from_bytes = Artifact::from_bytes(&files, &Device::Cpu).unwrap();
    assert!(from_bytes.lm.is_some());
    let mut a = LineTextRecognizer::from_artifact(from_bytes).unwrap();
    let b = LineTextRecognizer::from_dir(tmp.path()).unwrap();
    assert_eq!(a.decoder().label(), "beam-4+lm");
    let img = common::dynamic(common::scan(180, 28));
    let (pa, pb) = (a.predict(&img).unwrap(), b.predict(&img).unwrap());
    assert_eq!(pa.text, pb.text);
    assert_eq!(pa.char_confidences, pb.char_confidences);

    // Another beam width keeps the in-memory LM (there is no file to reread).
    a.set_decoder(a.beam_decoder(2)).unwrap();
    assert_eq!(a.decoder().label(), "beam-2+lm");
    a.predict(&img).unwrap();
}

#[test]
fn wrong_bytes_are_named_like_wrong_files() {
    let tmp = tempfile::tempdir().unwrap();
    artifact_with_lm(tmp.path());
    let config = String::from_utf8(read(tmp.path(), CONFIG_FILE)).unwrap();
    let weights = read(tmp.path(), WEIGHTS_FILE);
    let lm = String::from_utf8(read(tmp.path(), LM_FILE)).unwrap();
    let label = Path::new("embedded");
    let load = |config: &str, weights: &[u8], lm: Option<&str>| {
        Artifact::from_bytes(
            &ArtifactBytes {
                label,
                config,
                weights,
                lm,
            },
            &Device::Cpu,
        )
        .unwrap_err()
        .to_string()
    };

    let err = load(&config, &weights[..weights.len() - 10], Some(&lm));
    assert!(
        err.contains("embedded/model.safetensors") && err.contains("bytes"),
        "{err}"
    );
    let mut flipped = weights.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let err = load(&config, &flipped, Some(&lm));
    assert!(err.contains("SHA-256"), "{err}");
    let err = load(&config, &weights, None);
    assert!(
        err.contains("embedded/lm.json") && err.contains("language model"),
        "{err}"
    );
    let err = load(&config, &weights, Some("{}x"));
    assert!(err.contains("lm.json"), "{err}");
    let err = load("{\"format\": \"other/9\"}", &weights, Some(&lm));
    assert!(
        err.contains("embedded/config.json") && err.contains("other/9"),
        "{err}"
    );
    let err = load("not json", &weights, Some(&lm));
    assert!(err.contains("not valid JSON"), "{err}");
}
