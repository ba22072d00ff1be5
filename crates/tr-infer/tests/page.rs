//! The page path of `ParagraphTextRecognizer` with a line model trained
//! here: a synthetic page of three glyph lines is segmented, cut and read
//! in reading order; the bad inputs of a page reader each get a defined
//! result or a named error (blank page, a single line, an upside-down
//! page, a transparent PNG, a 20000 × 20000 header).
//!
//! The line model memorises the page's own line crops
//! (`ParagraphTextRecognizer::line_images`), so the test checks the page
//! pipeline — segmentation, order, crops, batching, orientation — and not
//! how well a tiny model generalises.

mod tiny_trained;

use image::{imageops, DynamicImage, GrayImage, ImageBuffer, Luma, Rgba};
use tiny_trained::{draw_text, targets, train_artifact, Recipe};
use tr_data::layout::{
    parse_page, write_alto, write_page_xml, ReadOptions, SegmentOptions, WriteOptions,
};
use tr_data::Vocabulary;
use tr_infer::{DecoderConfig, Error, ParagraphTextRecognizer, Segmenter};
use tr_models::DataSpec;

const TEXTS: [&str; 3] = ["abc defg", "hello yo", "tr rocks"];
const PAPER: u8 = 225;
const INK: u8 = 30;

/// Dark glyph lines on light paper, 48 pixels apart, 24-pixel margins.
fn page(texts: &[&str]) -> GrayImage {
    let mut img = GrayImage::from_pixel(
        24 * 2 + 8 * 16,
        24 * 2 + 48 * texts.len() as u32 - 32,
        Luma([PAPER]),
    );
    for (k, t) in texts.iter().enumerate() {
        draw_text(&mut img, t, 24, 24 + 48 * k as u32, 16, 16, INK);
    }
    img
}

/// Tight polygons (no segmenter padding) so the crops do not depend on
/// the page's estimated line height.
fn segmenter() -> Segmenter {
    Segmenter {
        segment: SegmentOptions {
            padding: 0.0,
            ..SegmentOptions::default()
        },
        ..Segmenter::default()
    }
}

/// Model input: 32 × 160 (a crop is 16 + 2·8 pixels high).
const H: u32 = 32;
const W: u32 = 160;

/// A crop as the engine feeds it: resized to height `H`, padded to `W`.
fn model_input(crop: &GrayImage) -> GrayImage {
    let w = ((crop.width() as f64 * H as f64 / crop.height() as f64).round() as u32).max(1);
    let resized = if crop.height() == H {
        crop.clone()
    } else {
        imageops::resize(crop, w, H, imageops::FilterType::Triangle)
    };
    let mut canvas = GrayImage::new(W, H);
    imageops::replace(&mut canvas, &resized, 0, 0);
    canvas
}

fn recipe() -> Recipe {
    Recipe {
        name: "line-cnn",
        overrides: &[("conv_dim", "8"), ("fc_dim", "32"), ("fc_dropout", "0.0")],
        objective: None,
        max_steps: 800,
        lr: 1e-2,
    }
}

/// Trains the line model on the page's own crops; returns the recogniser.
fn trained(dir: &std::path::Path) -> ParagraphTextRecognizer {
    let vocab = Vocabulary::emnist();
    let spec = DataSpec::new([1, H as usize, W as usize], vocab.clone(), Some(8));
    // Crops do not depend on the weights: cut them with an untrained model of the same shape.
    let untrained = tempfile::tempdir().unwrap();
    {
        let mut config = tr_models::ModelConfig::by_name("line-cnn").unwrap();
        for (k, v) in recipe().overrides {
            config.set_str(k, v).unwrap();
        }
        let varmap = candle_nn::VarMap::new();
        let vb = tr_models::seeded_var_builder(
            &varmap,
            7,
            candle_core::DType::F32,
            &candle_core::Device::Cpu,
        );
        config.build(&spec, vb).unwrap();
        let weights = tr_models::params::named_vars(&varmap)
            .into_iter()
            .map(|(k, v)| (k, v.as_tensor().clone()))
            .collect();
        tr_infer::artifact::write_artifact(
            untrained.path(),
            &tr_infer::artifact::ArtifactSpec::new(config, &spec),
            &weights,
        )
        .unwrap();
    }
    let cutter = ParagraphTextRecognizer::from_dir(untrained.path())
        .unwrap()
        .with_segmenter(segmenter())
        .unwrap();
    let crops = cutter
        .line_images(&DynamicImage::ImageLuma8(page(&TEXTS)))
        .unwrap();
    assert_eq!(crops.len(), 3, "the segmenter should find the three lines");
    let inputs: Vec<GrayImage> = crops.iter().map(|(_, c)| model_input(c)).collect();
    train_artifact(
        dir,
        &recipe(),
        spec,
        &inputs,
        &targets(&vocab, &TEXTS, 8, false),
        DecoderConfig::Greedy,
    );
    ParagraphTextRecognizer::from_dir(dir)
        .unwrap()
        .with_segmenter(segmenter())
        .unwrap()
        .with_batch_size(2)
        .unwrap()
}

fn png(img: &DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn a_page_reads_line_by_line_and_every_bad_input_is_defined() {
    let dir = tempfile::tempdir().unwrap();
    let r = trained(dir.path());
    assert!(r.segments_lines());
    let want = TEXTS.join("\n");

    // The page: three lines in reading order, with polygons and confidences.
    let upright = DynamicImage::ImageLuma8(page(&TEXTS));
    let p = r.predict_page(&upright).unwrap();
    assert_eq!(p.text, want);
    assert_eq!(p.rotation, 0);
    assert!(p.inverted);
    assert_eq!(p.lines.len(), 3);
    for (k, l) in p.lines.iter().enumerate() {
        let top = 24.0 + 48.0 * k as f32;
        assert!(
            l.bbox[1] >= top - 3.0 && l.bbox[3] <= top + 16.0 + 3.0,
            "line {k}: {:?}",
            l.bbox
        );
        assert_eq!(l.prediction.char_confidences.len(), TEXTS[k].len());
        assert!(l.prediction.confidence > 0.0 && l.prediction.confidence <= 1.0);
    }
    // predict() is the same text as one Prediction, one confidence per character.
    let flat = r.predict(&upright).unwrap();
    assert_eq!(flat.text, want);
    assert_eq!(flat.char_confidences.len(), want.chars().count());

    // What it writes as PAGE/ALTO reads back with the same text.
    let layout = p.to_page(Some("page.png".into()));
    for xml in [
        write_page_xml(&layout, &WriteOptions::default()),
        write_alto(&layout, &WriteOptions::default()),
    ] {
        let back = parse_page(
            xml.as_bytes(),
            std::path::Path::new("p.xml"),
            &ReadOptions::default(),
        )
        .unwrap();
        let text: Vec<String> = back.lines().map(|l| l.text.clone()).collect();
        assert_eq!(text.join("\n"), want);
    }

    // Upside down: detected, read the right way, polygons in the input's coordinates.
    let turned = DynamicImage::ImageLuma8(imageops::rotate180(&page(&TEXTS)));
    let q = r.predict_page(&turned).unwrap();
    assert_eq!(q.rotation, 180);
    assert_eq!(q.text, want);
    let (w, h) = (upright.width() as f32, upright.height() as f32);
    for (a, b) in p.lines.iter().zip(&q.lines) {
        let flipped = [w - b.bbox[2], h - b.bbox[3], w - b.bbox[0], h - b.bbox[1]];
        for (x, y) in a.bbox.iter().zip(flipped) {
            assert!((x - y).abs() <= 2.0, "{:?} vs {:?}", a.bbox, b.bbox);
        }
    }

    // A quarter turn either way: turned back, read, polygons in the input's
    // coordinates (the input is `h` wide and `w` high).
    for (rotation, img) in [
        (90, imageops::rotate270(&page(&TEXTS))),
        (270, imageops::rotate90(&page(&TEXTS))),
    ] {
        let s = r.predict_page(&DynamicImage::ImageLuma8(img)).unwrap();
        assert_eq!(s.rotation, rotation);
        assert_eq!(s.text, want, "turned by {rotation}");
        for (a, b) in p.lines.iter().zip(&s.lines) {
            // Where the upright line's box lands on the turned input.
            let back = if rotation == 90 {
                // rotate270: (x, y) -> (y, w - x)
                [a.bbox[1], w - a.bbox[2], a.bbox[3], w - a.bbox[0]]
            } else {
                // rotate90: (x, y) -> (h - y, x)
                [h - a.bbox[3], a.bbox[0], h - a.bbox[1], a.bbox[2]]
            };
            for (x, y) in b.bbox.iter().zip(back) {
                assert!((x - y).abs() <= 2.0, "{rotation}: {:?} vs {back:?}", b.bbox);
            }
        }
    }

    // A blank page: no line, empty text.
    let blank = DynamicImage::ImageLuma8(GrayImage::from_pixel(200, 300, Luma([PAPER])));
    let e = r.predict_page(&blank).unwrap();
    assert!(e.lines.is_empty() && e.text.is_empty());
    assert_eq!(r.predict(&blank).unwrap().text, "");

    // A single line handed to the page path: one line.
    let single = DynamicImage::ImageLuma8(page(&TEXTS[1..2]));
    let s = r.predict_page(&single).unwrap();
    assert_eq!(s.lines.len(), 1);
    assert_eq!(s.text, TEXTS[1]);

    // A transparent PNG (ink opaque, paper transparent): composited on white.
    let grey = page(&TEXTS);
    let rgba = ImageBuffer::from_fn(grey.width(), grey.height(), |x, y| {
        if grey.get_pixel(x, y).0[0] == INK {
            Rgba([0u8, 0, 0, 255])
        } else {
            Rgba([0u8, 0, 0, 0])
        }
    });
    let file = dir.path().join("transparent.png");
    std::fs::write(&file, png(&DynamicImage::ImageRgba8(rgba))).unwrap();
    let t = r.predict_page_file(&file).unwrap();
    assert_eq!(t.text, want);

    // 20000 × 20000 declared in the header: refused before decoding.
    let huge = dir.path().join("huge.png");
    std::fs::write(&huge, png_header(20_000, 20_000)).unwrap();
    match r.predict_page_file(&huge) {
        Err(Error::TooLarge { width, height, .. }) => assert_eq!((width, height), (20_000, 20_000)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

/// CRC-32 (PNG chunks), bitwise.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A PNG declaring `w × h` 8-bit grey with no image data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[]);
    chunk(b"IEND", &[]);
    out
}
