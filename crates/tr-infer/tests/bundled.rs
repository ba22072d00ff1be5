//! The model embedded in the crate (feature `bundled`): it loads with no
//! files around, reads the real handwriting samples shipped in `examples/`,
//! and gives a defined answer to images that are not a line of handwriting.
#![cfg(feature = "bundled")]

use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, Luma};
use tr_infer::{LineTextRecognizer, Prediction, BUNDLED_CARD};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn cer(hypothesis: &str, reference: &str) -> f64 {
    let h: Vec<char> = hypothesis.chars().collect();
    let r: Vec<char> = reference.chars().collect();
    tr_lit::edit_distance(&h, &r) as f64 / r.len().max(1) as f64
}

fn blank(w: u32, h: u32, level: u8) -> DynamicImage {
    DynamicImage::ImageLuma8(GrayImage::from_pixel(w, h, Luma([level])))
}

fn assert_defined(p: &Prediction) {
    assert!(p.confidence.is_finite() && (0.0..=1.0).contains(&p.confidence));
    assert_eq!(p.char_confidences.len(), p.text.chars().count());
}

#[test]
fn the_bundled_model_loads_and_describes_itself() {
    let r = LineTextRecognizer::bundled().unwrap();
    let cfg = r.config();
    assert_eq!(cfg.model.name(), "crnn");
    assert_eq!(cfg.input_shape[1], 48);
    assert!(cfg.vocabulary.char_index('a').is_some());
    for needle in ["CC BY-SA 4.0", "Hooker", "htr fit", "CER"] {
        assert!(BUNDLED_CARD.contains(needle), "model card lacks {needle:?}");
    }
}

#[test]
fn the_bundled_model_reads_the_shipped_handwriting_samples() {
    let r = LineTextRecognizer::bundled().unwrap();
    let mut images = Vec::new();
    let mut total = (0.0, 0usize);
    for entry in std::fs::read_dir(examples()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("png") {
            continue;
        }
        let truth = std::fs::read_to_string(path.with_extension("txt")).unwrap();
        let p = r.predict_file(&path).unwrap();
        assert_defined(&p);
        assert!(
            p.inverted,
            "{}: dark ink on paper is detected",
            path.display()
        );
        let e = cer(&p.text, truth.trim());
        eprintln!("{}: {:?} (CER {e:.3})", path.display(), p.text);
        total = (total.0 + e, total.1 + 1);
        images.push(path);
    }
    assert!(images.len() >= 2, "examples/ ships at least two lines");
    let mean = total.0 / total.1 as f64;
    assert!(mean <= MAX_EXAMPLE_CER, "mean CER {mean:.3} on examples/");
}

/// The bar the shipped samples must clear (the model card gives the test-split CER).
const MAX_EXAMPLE_CER: f64 = 0.25;

#[test]
fn images_without_a_line_of_handwriting_get_defined_answers() {
    let r = LineTextRecognizer::bundled().unwrap();
    // Blank paper, black paper: no ink, so no text.
    for level in [255u8, 0, 128] {
        let p = r.predict(&blank(600, 48, level)).unwrap();
        assert_defined(&p);
        assert_eq!(p.text, "", "uniform image of grey {level}");
    }
    // Far taller than a line, far wider, a single pixel: an answer, not a panic.
    for (w, h) in [(60, 2000), (3000, 40), (1, 1), (3, 500)] {
        let img = DynamicImage::ImageLuma8(GrayImage::from_fn(w, h, |x, y| {
            Luma([if (x / 7 + y / 5) % 3 == 0 { 30 } else { 230 }])
        }));
        match r.predict(&img) {
            Ok(p) => assert_defined(&p),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}
