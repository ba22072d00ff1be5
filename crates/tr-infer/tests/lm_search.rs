//! The shipped language model reaches the beam search and moves its output
//! the way a language model should: towards text the LM finds likely.
//!
//! An untrained tiny model gives nearly flat frames, so the acoustic scores
//! barely separate the labellings; an LM trained on lines of one letter,
//! weighted strongly, must then pull the beam towards that letter. With the
//! LM at weight 0 the result is exactly plain beam search.

mod common;

use tr_infer::artifact::{write_artifact, ArtifactSpec};
use tr_infer::{DecoderConfig, LineTextRecognizer, LmConfig};
use tr_models::decoding::CharNgramLm;

fn recognizer_with_lm(
    alpha: f32,
    beta: f32,
    lm: &CharNgramLm,
) -> (tempfile::TempDir, LineTextRecognizer) {
    let (model, spec, weights) = common::tiny_model("line-cnn");
    let dir = tempfile::tempdir().unwrap();
    let artifact = ArtifactSpec {
        decoder: DecoderConfig::Beam {
            width: 8,
            lm: Some(LmConfig {
                file: "lm.json".into(),
                alpha,
                beta,
                bytes: None,
                sha256: None,
            }),
        },
        lm: Some(lm.clone()),
        ..ArtifactSpec::new(model, &spec)
    };
    write_artifact(dir.path(), &artifact, &weights).unwrap();
    let r = LineTextRecognizer::from_dir(dir.path()).unwrap();
    (dir, r)
}

#[test]
fn the_language_model_steers_the_beam_towards_likely_text() {
    let lines: Vec<String> = (1..40).map(|n| "e".repeat(n % 7 + 1)).collect();
    let lm = CharNgramLm::train(3, lines.iter().map(String::as_str)).unwrap();
    let img = common::dynamic(common::scan(200, 28));

    let (_a, mut plain) = recognizer_with_lm(0.0, 0.0, &lm);
    let weight_zero = plain.predict(&img).unwrap().text;
    plain.set_decoder(DecoderConfig::beam(8)).unwrap();
    let no_lm = plain.predict(&img).unwrap().text;
    assert_eq!(weight_zero, no_lm, "an LM of weight 0 changes nothing");
    assert!(!no_lm.is_empty());

    let (_b, steered) = recognizer_with_lm(5.0, 0.0, &lm);
    assert_eq!(steered.decoder().label(), "beam-8+lm");
    let with_lm = steered.predict(&img).unwrap().text;
    assert_ne!(with_lm, no_lm, "the LM must reach the search");
    let per_char = |t: &str| lm.line_log_prob(t) / (t.chars().count() + 1) as f64;
    assert!(
        per_char(&with_lm) > per_char(&no_lm),
        "the LM's choice {with_lm:?} must be likelier under it than {no_lm:?}"
    );
    let share =
        |t: &str| t.chars().filter(|&c| c == 'e').count() as f64 / t.chars().count().max(1) as f64;
    assert!(share(&with_lm) > share(&no_lm), "{with_lm:?} vs {no_lm:?}");
}
