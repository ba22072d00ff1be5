//! Images users should not be able to crash or fool the recogniser with.

mod common;

use image::{DynamicImage, GrayImage, Luma};
use tr_infer::{load_image, Error, LineTextRecognizer, DEFAULT_MAX_PIXELS};

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

fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
    let mut body = kind.to_vec();
    body.extend(data);
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
}

/// A PNG declaring `w × h` 8-bit grey whose image data is one empty IDAT
/// chunk: 57 bytes that would decode to `w · h` bytes.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[]);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn empty_non_image_and_truncated_files() {
    let e = load_image(b"", "empty.png", DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("empty.png") && e.contains("empty"), "{e}");

    let e = load_image(b"hello, this is text", "notes.txt", DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("notes.txt") && e.contains("not an image"), "{e}");

    let png = common::png_bytes(&common::dynamic(common::scan(120, 40)));
    let cut = &png[..png.len() / 2];
    let e = load_image(cut, "cut.png", DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cut.png") && e.contains("cannot decode"), "{e}");
    // Only the header survives.
    let e = load_image(&png[..40], "head.png", DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("head.png"), "{e}");
}

#[test]
fn huge_header_is_refused_before_decoding() {
    let bytes = png_header(100_000, 100_000);
    assert_eq!(bytes.len(), 57);
    match load_image(&bytes, "huge.png", DEFAULT_MAX_PIXELS) {
        Err(Error::TooLarge {
            width,
            height,
            pixels,
            limit,
            ..
        }) => {
            assert_eq!((width, height), (100_000, 100_000));
            assert_eq!(pixels, 10_000_000_000);
            assert_eq!(limit, 64_000_000);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let e = load_image(&bytes, "huge.png", DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("100000x100000") && e.contains("above the limit"),
        "{e}"
    );
    // Cut after IHDR: refused as unreadable, still without decoding.
    let e = load_image(&bytes[..33], "cut.png", DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cut.png") && e.contains("header"), "{e}");
    // A header within the limit gets as far as decoding (and fails there: no data).
    let e = load_image(&png_header(100, 10), "small.png", DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot decode"), "{e}");
}

#[test]
fn zero_sized_images_are_refused() {
    let e = load_image(&png_header(0, 10), "zero.png", DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("zero.png"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    common::tiny_artifact(dir.path(), "line-cnn");
    let r = LineTextRecognizer::from_dir(dir.path()).unwrap();
    let e = r
        .predict(&DynamicImage::new_luma8(0, 10))
        .unwrap_err()
        .to_string();
    assert!(e.contains("has no pixels (0x10)"), "{e}");
    // In a batch the failing image is named by its index.
    let ok = DynamicImage::ImageLuma8(GrayImage::from_pixel(30, 28, Luma([0])));
    let e = r
        .predict_batch(&[ok.clone(), DynamicImage::new_luma8(5, 0)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("image 1"), "{e}");
    assert_eq!(r.predict_batch(&[ok]).unwrap().len(), 1);
}

#[test]
fn pixel_limit_applies_to_in_memory_images_too() {
    let dir = tempfile::tempdir().unwrap();
    common::tiny_artifact(dir.path(), "line-cnn");
    let r = LineTextRecognizer::from_dir(dir.path())
        .unwrap()
        .with_preprocessing(tr_infer::Preprocessing {
            max_pixels: 1000,
            ..Default::default()
        });
    let e = r
        .predict(&common::dynamic(common::scan(100, 20)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("2000 pixels") && e.contains("1000"), "{e}");
}
