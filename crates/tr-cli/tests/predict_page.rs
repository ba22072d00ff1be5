//! `htr predict` on a page: the segmenter decides line or page, and each
//! output format carries the page's lines — PAGE and ALTO documents that
//! our readers read back with the text printed as plain text, JSON with
//! polygons, hOCR, and the `--png` overlay.

use std::path::Path;
use std::process::Command;

use image::{GrayImage, Luma};
use tr_data::layout::{read_page, ReadOptions};

fn htr(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_htr"))
        .args(args)
        .env("HTR_LOG", "warn")
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Dark text-like strokes on light paper: `lines` lines 90 px apart.
fn page(path: &Path, lines: u32) {
    let mut img = GrayImage::from_pixel(700, 60 + 90 * lines, Luma([235]));
    for k in 0..lines {
        let y0 = 40 + 90 * k;
        for x in 40..600 {
            if (x / 40) % 4 == 3 {
                continue; // word gaps
            }
            for y in y0..y0 + 30 {
                if x % 7 < 2 || y == y0 + 29 {
                    img.put_pixel(x, y, Luma([30]));
                }
            }
        }
    }
    img.save(path).unwrap();
}

#[test]
fn page_formats_carry_the_segmented_lines() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("page.png");
    page(&img, 3);
    let p = img.to_str().unwrap();

    let text = stdout(&htr(&["predict", p]));
    let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
    assert_eq!(lines.len(), 3, "{text:?}");

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&htr(&["predict", "--json", p]))).unwrap();
    assert_eq!(json["layout"], "page");
    assert_eq!(json["text"], text.trim_end_matches('\n'));
    let found = json["regions"][0]["lines"].as_array().unwrap();
    assert_eq!(found.len(), 3);
    for l in found {
        assert!(l["polygon"].as_array().unwrap().len() >= 4);
        assert!(l["confidence"].as_f64().unwrap() <= 1.0);
    }

    for (format, name) in [("page-xml", "page.xml"), ("alto", "alto.xml")] {
        let doc = stdout(&htr(&["predict", "--format", format, p]));
        let xml = dir.path().join(name);
        std::fs::write(&xml, doc).unwrap();
        let back = read_page(
            &xml,
            &ReadOptions {
                keep_empty_text: true,
                ..ReadOptions::default()
            },
        )
        .unwrap();
        let texts: Vec<&str> = back.lines().map(|l| l.text.as_str()).collect();
        assert_eq!(texts.join("\n"), text.trim_end_matches('\n'), "{format}");
        assert_eq!(back.image.as_deref(), Some(img.as_path()), "{format}");
    }
    let hocr = stdout(&htr(&["predict", "--format", "hocr", p]));
    assert_eq!(hocr.matches("class=\"ocr_line\"").count(), 3);

    // --png: the overlay is the image's size and not the image itself.
    let png = dir.path().join("overlay.png");
    stdout(&htr(&["predict", "--png", png.to_str().unwrap(), p]));
    let over = image::open(&png).unwrap().to_rgb8();
    assert_eq!(over.dimensions(), (700, 330));
    assert!(over
        .pixels()
        .any(|px| px.0[0] != px.0[1] || px.0[1] != px.0[2]));

    // Several images and a document format: --out-dir is required, then one file each.
    let two = dir.path().join("two.png");
    page(&two, 2);
    let o = htr(&["predict", "--format", "alto", p, two.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--out-dir"));
    let out = dir.path().join("out");
    stdout(&htr(&[
        "predict",
        "--format",
        "alto",
        "--out-dir",
        out.to_str().unwrap(),
        p,
        two.to_str().unwrap(),
    ]));
    let back = read_page(
        &out.join("two.xml"),
        &ReadOptions {
            keep_empty_text: true,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(back.line_count(), 2);

    // --layout line reads the whole page as one line; --json and --format conflict.
    let one = stdout(&htr(&["predict", "--layout", "line", "--json", p]));
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["layout"], "line");
    let o = htr(&["predict", "--json", "--format", "alto", p]);
    assert!(!o.status.success());
}
