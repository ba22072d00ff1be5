//! Artifact verification: every way an artifact can be wrong is a clear
//! error naming the file and, for tensors, the tensor.

mod common;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde_json::Value;
use tr_data::tensor_file;
use tr_infer::artifact::{write_artifact, ArtifactSpec, WeightsDType, CONFIG_FILE, WEIGHTS_FILE};
use tr_infer::{Artifact, LineTextRecognizer, Preprocessing};

fn load_err(dir: &Path) -> String {
    Artifact::load(dir).unwrap_err().to_string()
}

fn edit_config(dir: &Path, f: impl FnOnce(&mut Value)) {
    let p = dir.join(CONFIG_FILE);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Rewrites the weights file with `tensors` and the original metadata, and
/// drops the recorded size/hash so the tensor checks are reached.
fn rewrite_weights(dir: &Path, tensors: &HashMap<String, Tensor>) {
    let p = dir.join(WEIGHTS_FILE);
    let meta = tensor_file::read(&p, &Device::Cpu).unwrap().metadata;
    tensor_file::write_atomic(&p, tensors, meta).unwrap();
    edit_config(dir, |v| {
        let w = v["weights"].as_object_mut().unwrap();
        w.remove("bytes");
        w.remove("sha256");
    });
}

#[test]
fn written_artifact_loads_with_its_files_and_card() {
    let dir = tempfile::tempdir().unwrap();
    common::tiny_artifact(dir.path(), "line-cnn");
    let a = Artifact::load(dir.path()).unwrap();
    assert_eq!(a.config.model.name(), "line-cnn");
    assert_eq!(a.config.input_shape, [1, 28, 64]);
    assert_eq!(a.config.vocabulary.len(), 83);
    assert_eq!(
        a.config.weights.bytes,
        Some(
            std::fs::metadata(dir.path().join(WEIGHTS_FILE))
                .unwrap()
                .len()
        )
    );
    let card = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    assert!(
        card.contains("`line-cnn`") && card.contains("## Metrics"),
        "{card}"
    );
}

#[test]
fn missing_extra_and_misshapen_tensors_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let weights = common::tiny_artifact(dir.path(), "line-cnn");
    let name = "fc2.weight";
    assert!(
        weights.contains_key(name),
        "{:?}",
        weights.keys().collect::<Vec<_>>()
    );

    let mut missing = weights.clone();
    missing.remove(name);
    rewrite_weights(dir.path(), &missing);
    let e = load_err(dir.path());
    assert!(
        e.contains("model.safetensors") && e.contains("\"fc2.weight\" of line-cnn is missing"),
        "{e}"
    );

    let mut extra = weights.clone();
    extra.insert(
        "head.bias".into(),
        Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
    );
    rewrite_weights(dir.path(), &extra);
    let e = load_err(dir.path());
    assert!(e.contains("\"head.bias\" is not part of line-cnn"), "{e}");

    let mut shape = weights.clone();
    shape.insert(
        name.into(),
        Tensor::zeros((83, 3), DType::F32, &Device::Cpu).unwrap(),
    );
    rewrite_weights(dir.path(), &shape);
    let e = load_err(dir.path());
    assert!(e.contains("\"fc2.weight\" has shape [83, 3]"), "{e}");
}

#[test]
fn vocabulary_mismatch_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    common::tiny_artifact(dir.path(), "line-cnn");
    // Same size, two symbols swapped: shapes would load, the labels would lie.
    edit_config(dir.path(), |v| {
        let voc = v["vocabulary"].as_array_mut().unwrap();
        voc.swap(4, 5);
    });
    let e = load_err(dir.path());
    assert!(
        e.contains("config.json") && e.contains("vocabulary does not match the weights"),
        "{e}"
    );
    assert!(e.contains("symbol 4 is \"1\" here but \"0\""), "{e}");
    // Fewer symbols.
    edit_config(dir.path(), |v| {
        let voc = v["vocabulary"].as_array_mut().unwrap();
        voc.swap(4, 5);
        voc.pop();
    });
    let e = load_err(dir.path());
    assert!(e.contains("82 symbols here but 83"), "{e}");
}

#[test]
fn truncated_foreign_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    common::tiny_artifact(dir.path(), "line-cnn");
    let wp = dir.path().join(WEIGHTS_FILE);
    let bytes = std::fs::read(&wp).unwrap();

    // Truncated, with the size recorded in config.json.
    std::fs::write(&wp, &bytes[..bytes.len() / 2]).unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("model.safetensors: truncated"), "{e}");

    // Same size, different content.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0xff;
    std::fs::write(&wp, &flipped).unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("SHA-256"), "{e}");

    // Without recorded size: the safetensors reader reports truncation itself.
    edit_config(dir.path(), |v| {
        let w = v["weights"].as_object_mut().unwrap();
        w.remove("bytes");
        w.remove("sha256");
    });
    std::fs::write(&wp, &bytes[..bytes.len() - 10]).unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("truncated safetensors file"), "{e}");

    // A PNG named model.safetensors.
    std::fs::write(&wp, common::png_bytes(&common::dynamic(common::scan(8, 8)))).unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("not a safetensors file"), "{e}");

    // Valid safetensors without our metadata (someone else's weights).
    let mut t = HashMap::new();
    t.insert(
        "w".to_string(),
        Tensor::ones(2, DType::F32, &Device::Cpu).unwrap(),
    );
    tensor_file::write_atomic(&wp, &t, HashMap::new()).unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("not the weights of a tr model artifact"), "{e}");

    std::fs::remove_file(&wp).unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("model.safetensors: not found"), "{e}");

    edit_config(dir.path(), |v| v["format"] = Value::from("tr-artifact/99"));
    assert!(load_err(dir.path()).contains("not supported"));
    std::fs::remove_file(dir.path().join(CONFIG_FILE)).unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("config.json: not found"), "{e}");
}

#[test]
fn f16_weights_predict_like_f32() {
    let (model, spec, weights) = common::tiny_model("line-cnn");
    let d32 = tempfile::tempdir().unwrap();
    let d16 = tempfile::tempdir().unwrap();
    write_artifact(
        d32.path(),
        &ArtifactSpec::new(model.clone(), &spec),
        &weights,
    )
    .unwrap();
    let half = ArtifactSpec {
        weights_dtype: WeightsDType::F16,
        ..ArtifactSpec::new(model, &spec)
    };
    write_artifact(d16.path(), &half, &weights).unwrap();
    let s32 = std::fs::metadata(d32.path().join(WEIGHTS_FILE))
        .unwrap()
        .len();
    let s16 = std::fs::metadata(d16.path().join(WEIGHTS_FILE))
        .unwrap()
        .len();
    assert!(s16 * 10 < s32 * 6, "f16 {s16} vs f32 {s32}");
    let r32 = LineTextRecognizer::from_dir(d32.path())
        .unwrap()
        .with_preprocessing(Preprocessing::as_trained());
    let r16 = LineTextRecognizer::from_dir(d16.path())
        .unwrap()
        .with_preprocessing(Preprocessing::as_trained());
    let img = common::dynamic(common::inverted(&common::scan(64, 28)));
    let (a, b) = (r32.predict(&img).unwrap(), r16.predict(&img).unwrap());
    assert_eq!(a.text, b.text);
    for (x, y) in a.char_confidences.iter().zip(&b.char_confidences) {
        assert!((x - y).abs() < 0.02, "{x} vs {y}");
    }
}

#[test]
fn writing_refuses_weights_that_do_not_fit() {
    let (model, spec, mut weights) = common::tiny_model("line-cnn");
    weights.remove("fc1.bias");
    let dir = tempfile::tempdir().unwrap();
    let e = write_artifact(dir.path(), &ArtifactSpec::new(model, &spec), &weights)
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"fc1.bias\" of line-cnn is missing"), "{e}");
    assert!(!dir.path().join(CONFIG_FILE).exists());
}
