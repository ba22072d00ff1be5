//! Recognition end to end on tiny seeded models: the pipeline feeds the
//! model exactly what training did, and the input variations users have
//! (polarity, colour type, bit depth, orientation, width) do not change
//! the answer.

mod common;

use candle_core::Device;
use image::{DynamicImage, ImageBuffer, Luma, Rgb, Rgba};
use tr_data::images_to_tensor;
use tr_infer::artifact::{write_artifact, ArtifactSpec};
use tr_infer::{
    load_image, DecoderConfig, LineTextRecognizer, LmConfig, ParagraphTextRecognizer,
    Preprocessing, DEFAULT_MAX_PIXELS,
};
use tr_models::decoding::{greedy_ctc_batch, CharNgramLm};

fn recognizer(name: &str) -> (tempfile::TempDir, LineTextRecognizer) {
    let dir = tempfile::tempdir().unwrap();
    common::tiny_artifact(dir.path(), name);
    let r = LineTextRecognizer::from_dir(dir.path()).unwrap();
    (dir, r)
}

#[test]
fn model_sized_input_matches_the_model_itself() {
    for name in ["line-cnn", "line-cnn-lstm"] {
        let (_d, r) = recognizer(name);
        let r = r.with_preprocessing(Preprocessing::as_trained());
        let img = common::inverted(&common::scan(64, 28));
        let p = r.predict(&common::dynamic(img.clone())).unwrap();
        let model = common::reference_model(name);
        let x = images_to_tensor(&[img], &Device::Cpu).unwrap();
        let d = greedy_ctc_batch(&model.forward(&x, false).unwrap(), 0)
            .unwrap()
            .remove(0);
        let vocab = tr_data::Vocabulary::emnist();
        assert_eq!(p.text, d.text(&vocab).unwrap(), "{name}");
        assert!(
            !p.text.is_empty(),
            "{name}: an untrained model should still emit labels"
        );
        assert_eq!(p.char_confidences.len(), p.text.chars().count());
        assert_eq!(p.steps.as_ref().unwrap().len(), p.text.chars().count());
        let expect: f32 = p.char_confidences.iter().product();
        assert!((p.confidence - expect).abs() < 1e-6);
    }
}

#[test]
fn dark_ink_scan_reads_like_its_inverted_twin() {
    let (_d, r) = recognizer("line-cnn");
    let scan = common::scan(150, 40);
    let a = r.predict(&common::dynamic(scan.clone())).unwrap();
    let b = r
        .predict(&common::dynamic(common::inverted(&scan)))
        .unwrap();
    assert!(a.inverted && !b.inverted);
    assert_eq!(a.text, b.text);
    assert_eq!(a.char_confidences, b.char_confidences);
    assert_eq!(a.x, b.x);
}

#[test]
fn colour_types_and_bit_depths_agree() {
    let (_d, r) = recognizer("line-cnn");
    let grey = common::scan(90, 30);
    let rgb = ImageBuffer::from_fn(90, 30, |x, y| {
        let v = grey.get_pixel(x, y).0[0];
        Rgb([v, v, v])
    });
    let rgba = ImageBuffer::from_fn(90, 30, |x, y| {
        let v = grey.get_pixel(x, y).0[0];
        Rgba([v, v, v, 255])
    });
    let g16: ImageBuffer<Luma<u16>, Vec<u16>> = ImageBuffer::from_fn(90, 30, |x, y| {
        Luma([u16::from(grey.get_pixel(x, y).0[0]) * 257])
    });
    let want = r.predict(&common::dynamic(grey.clone())).unwrap();
    for img in [
        DynamicImage::ImageRgb8(rgb),
        DynamicImage::ImageRgba8(rgba),
        DynamicImage::ImageLuma16(g16),
    ] {
        let got = r.predict(&img).unwrap();
        assert_eq!(got.text, want.text, "{:?}", img.color());
        assert_eq!(got.char_confidences, want.char_confidences);
    }
}

#[test]
fn batches_give_the_same_answers_as_single_images() {
    let (_d, r) = recognizer("line-cnn-lstm");
    let r = r.with_batch_size(3).unwrap();
    let images: Vec<DynamicImage> = [(40, 28), (64, 28), (300, 30), (90, 56), (500, 28)]
        .iter()
        .map(|&(w, h)| common::dynamic(common::scan(w, h)))
        .collect();
    let batch = r.predict_batch(&images).unwrap();
    for (img, b) in images.iter().zip(&batch) {
        assert_eq!(&r.predict(img).unwrap(), b);
    }
    // The timed variant gives the same predictions.
    let (timed, _) = r.predict_batch_timed(&images).unwrap();
    assert_eq!(timed, batch);
}

#[test]
fn wide_lines_are_read_window_by_window() {
    let (_d, r) = recognizer("line-cnn");
    // 28 × 600: ten 64-pixel windows overlapping by 8.
    let p = r.predict(&common::dynamic(common::scan(600, 28))).unwrap();
    let steps = p.steps.unwrap();
    let x = p.x.unwrap();
    assert!(!steps.is_empty());
    assert!(steps.windows(2).all(|s| s[0] < s[1]), "{steps:?}");
    assert!(x.windows(2).all(|s| s[0] < s[1]), "{x:?}");
    assert!(x.iter().all(|&v| (0.0..600.0 + 64.0).contains(&v)), "{x:?}");
    // Characters come from the whole line, not just the first window.
    assert!(*x.last().unwrap() > 64.0, "{x:?}");
    // A 56-pixel-high version of the same line reads the same after resizing.
    let tall = image::imageops::resize(
        &common::scan(600, 28),
        1200,
        56,
        image::imageops::FilterType::Nearest,
    );
    let q = r.predict(&common::dynamic(tall)).unwrap();
    let xs = q.x.unwrap();
    assert!(xs.iter().all(|&v| v < 1200.0 + 128.0));
}

#[test]
fn exif_orientation_is_applied() {
    // A 60 × 20 JPEG tagged "rotate 90° clockwise to display" (orientation 6).
    let img = common::dynamic(common::scan(60, 20));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend([0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend(&tiff);
    let mut tagged = jpeg[..2].to_vec();
    tagged.extend([0xff, 0xe1]);
    tagged.extend(((app1.len() + 2) as u16).to_be_bytes());
    tagged.extend(&app1);
    tagged.extend(&jpeg[2..]);
    let plain = load_image(&jpeg, "plain.jpg", DEFAULT_MAX_PIXELS).unwrap();
    let turned = load_image(&tagged, "turned.jpg", DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!((plain.width(), plain.height()), (60, 20));
    assert_eq!((turned.width(), turned.height()), (20, 60));
    assert_eq!(turned.to_luma8(), plain.rotate90().to_luma8());
}

#[test]
fn beam_search_with_the_shipped_language_model() {
    let (model, spec, weights) = common::tiny_model("line-cnn");
    let lm = CharNgramLm::train(3, ["the cat", "the hat", "a cat sat"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let with_lm = ArtifactSpec {
        decoder: DecoderConfig::Beam {
            width: 4,
            lm: Some(LmConfig {
                file: "ignored.json".into(),
                alpha: 0.7,
                beta: 0.5,
                bytes: None,
                sha256: None,
            }),
        },
        lm: Some(lm),
        ..ArtifactSpec::new(model, &spec)
    };
    let config = write_artifact(dir.path(), &with_lm, &weights).unwrap();
    let DecoderConfig::Beam { lm: Some(lmc), .. } = &config.decoder else {
        panic!("{:?}", config.decoder)
    };
    assert_eq!(
        (lmc.file.as_str(), lmc.alpha, lmc.beta),
        ("lm.json", 0.7, 0.5)
    );
    assert!(dir.path().join("lm.json").exists());

    let mut r = LineTextRecognizer::from_dir(dir.path()).unwrap();
    assert_eq!(r.decoder().label(), "beam-4+lm");
    let img = common::dynamic(common::scan(200, 28));
    let beam = r.predict(&img).unwrap();
    assert_eq!(beam.char_confidences.len(), beam.text.chars().count());
    // Without the LM, a wide beam finds at least the greedy path's labelling quality.
    r.set_decoder(DecoderConfig::beam(1)).unwrap();
    let narrow = r.predict(&img).unwrap();
    r.set_decoder(DecoderConfig::Greedy).unwrap();
    let greedy = r.predict(&img).unwrap();
    assert_eq!(narrow.text.is_empty(), greedy.text.is_empty());
    // The artifact's LM is kept by beam_decoder.
    assert_eq!(r.beam_decoder(6).label(), "beam-6+lm");
    r.set_decoder(r.beam_decoder(6)).unwrap();
    assert!(r.predict(&img).is_ok());

    // A tampered LM file is refused.
    std::fs::write(dir.path().join("lm.json"), b"{}").unwrap();
    let e = LineTextRecognizer::from_dir(dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("lm.json"), "{e}");
}

#[test]
fn a_line_model_reads_pages_through_the_segmenter() {
    // ParagraphTextRecognizer takes line models too: it segments pages
    // into lines (tests/page.rs reads a page with a trained one).
    let dir = tempfile::tempdir().unwrap();
    common::tiny_artifact(dir.path(), "line-cnn");
    let r = ParagraphTextRecognizer::from_dir(dir.path()).unwrap();
    assert!(r.segments_lines() && r.segmenter().is_some());
    let blank = common::dynamic(image::GrayImage::from_pixel(300, 200, Luma([230])));
    assert!(r.segment(&blank).unwrap().lines.is_empty());
    assert_eq!(r.predict(&blank).unwrap().text, "");
}

#[test]
fn a_vocabulary_with_line_breaks_makes_a_paragraph_model() {
    // The layout follows the vocabulary (DataSpec::reads_paragraphs), not the
    // model's name: a line-cnn trained on paragraph labels reads pages.
    let (model, line_spec, _) = common::tiny_model("line-cnn");
    let mut spec = line_spec.clone();
    spec.vocab = tr_data::Vocabulary::paragraphs();
    assert!(spec.reads_paragraphs() && !line_spec.reads_paragraphs());
    let varmap = candle_nn::VarMap::new();
    let vb = tr_models::seeded_var_builder(&varmap, 7, candle_core::DType::F32, &Device::Cpu);
    model.build(&spec, vb).unwrap();
    let weights: std::collections::HashMap<_, _> = tr_models::params::named_vars(&varmap)
        .into_iter()
        .map(|(k, v)| (k, v.as_tensor().clone()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    write_artifact(dir.path(), &ArtifactSpec::new(model, &spec), &weights).unwrap();
    let e = LineTextRecognizer::from_dir(dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("reads paragraphs") && e.contains("ParagraphTextRecognizer"),
        "{e}"
    );
    let r = ParagraphTextRecognizer::from_dir(dir.path()).unwrap();
    assert!(!r.segments_lines());
    let page = common::dynamic(common::inverted(&common::scan(64, 28)));
    let p = r.predict_page(&page).unwrap();
    assert_eq!(r.predict(&page).unwrap().text, p.text);
    assert_eq!(
        p.lines.len(),
        p.text.split('\n').filter(|_| !p.text.is_empty()).count()
    );
    let e = r.segment(&page).unwrap_err().to_string();
    assert!(e.contains("reads whole paragraphs"), "{e}");
    assert!(r.predict_line_batch(std::slice::from_ref(&page)).is_err());
}
