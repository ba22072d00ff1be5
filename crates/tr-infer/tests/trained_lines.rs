//! Every line-recogniser path read end to end from a tiny artifact trained
//! here: CTC (`line-cnn`, greedy and beam), positional decoding
//! (`line-cnn-simple`) and sequence-to-sequence (`line-cnn-transformer`);
//! each checks the TEXT the recogniser reads back.

mod tiny_trained;

use image::DynamicImage;
use tiny_trained::{line_image, targets, train_artifact, Recipe};
use tr_data::Vocabulary;
use tr_infer::{DecoderConfig, LineTextRecognizer, Preprocessing};
use tr_lit::Objective;
use tr_models::DataSpec;

const LINES: [&str; 4] = ["abc defg", "hello yo", "tr rocks", "cab bad"];
const WORDS: [&str; 4] = ["abcdefgh", "helloyou", "trrocks", "cabbad"];

fn read_back(dir: &std::path::Path, texts: &[&str], chars: usize, decoder: Option<DecoderConfig>) {
    let mut r = LineTextRecognizer::from_dir(dir)
        .unwrap()
        .with_preprocessing(Preprocessing::as_trained());
    if let Some(d) = decoder {
        r.set_decoder(d).unwrap();
    }
    let images: Vec<DynamicImage> = texts
        .iter()
        .map(|t| DynamicImage::ImageLuma8(line_image(t, chars, 16, 16)))
        .collect();
    let got: Vec<String> = r
        .predict_batch(&images)
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert_eq!(got, texts, "{}", r.config().model.name());
}

#[test]
fn ctc_line_model_reads_its_lines_greedy_and_beam() {
    let dir = tempfile::tempdir().unwrap();
    let vocab = Vocabulary::emnist();
    let images: Vec<_> = LINES.iter().map(|t| line_image(t, 8, 16, 16)).collect();
    let recipe = Recipe {
        name: "line-cnn",
        overrides: &[("conv_dim", "8"), ("fc_dim", "32"), ("fc_dropout", "0.0")],
        objective: None,
        max_steps: 600,
        lr: 1e-2,
    };
    train_artifact(
        dir.path(),
        &recipe,
        DataSpec::new([1, 16, 128], vocab.clone(), Some(8)),
        &images,
        &targets(&vocab, &LINES, 8, false),
        DecoderConfig::Greedy,
    );
    read_back(dir.path(), &LINES, 8, None);
    read_back(dir.path(), &LINES, 8, Some(DecoderConfig::beam(4)));
}

#[test]
fn positional_decoding_reads_fixed_length_targets() {
    let dir = tempfile::tempdir().unwrap();
    let vocab = Vocabulary::emnist();
    let images: Vec<_> = WORDS.iter().map(|t| line_image(t, 8, 16, 16)).collect();
    let recipe = Recipe {
        name: "line-cnn-simple",
        overrides: &[
            ("cnn.conv_dim", "8"),
            ("cnn.fc_dim", "32"),
            ("cnn.fc_dropout", "0.0"),
            ("window_width", "16"),
            ("window_stride", "16"),
        ],
        objective: Some(Objective::Positional),
        max_steps: 600,
        lr: 1e-2,
    };
    train_artifact(
        dir.path(),
        &recipe,
        DataSpec::new([1, 16, 128], vocab.clone(), Some(8)),
        &images,
        &targets(&vocab, &WORDS, 8, false),
        DecoderConfig::Positional,
    );
    let r = LineTextRecognizer::from_dir(dir.path()).unwrap();
    assert_eq!(r.decoder(), &DecoderConfig::Positional);
    read_back(dir.path(), &WORDS, 8, None);
}

#[test]
fn seq2seq_line_model_reads_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    let vocab = Vocabulary::emnist();
    let images: Vec<_> = LINES.iter().map(|t| line_image(t, 8, 16, 16)).collect();
    let recipe = Recipe {
        name: "line-cnn-transformer",
        overrides: &[
            ("line_cnn.conv_dim", "8"),
            ("line_cnn.fc_dim", "32"),
            ("line_cnn.fc_dropout", "0.0"),
            ("tf_dim", "32"),
            ("tf_fc_dim", "64"),
            ("tf_layers", "1"),
            ("tf_nhead", "2"),
            ("tf_dropout", "0.0"),
            ("pos_dropout", "0.0"),
        ],
        objective: None,
        max_steps: 600,
        lr: 3e-3,
    };
    train_artifact(
        dir.path(),
        &recipe,
        DataSpec::new([1, 16, 128], vocab.clone(), Some(10)),
        &images,
        &targets(&vocab, &LINES, 10, true),
        DecoderConfig::Greedy,
    );
    let r = LineTextRecognizer::from_dir(dir.path()).unwrap();
    assert_eq!(r.config().task, tr_models::Task::Seq2Seq);
    read_back(dir.path(), &LINES, 8, None);
    // Seq2seq predictions carry confidences but no image positions.
    let p = r
        .with_preprocessing(Preprocessing::as_trained())
        .predict(&DynamicImage::ImageLuma8(line_image(LINES[0], 8, 16, 16)))
        .unwrap();
    assert_eq!(p.char_confidences.len(), LINES[0].len());
    assert!(p.steps.is_none() && p.x.is_none());
}
