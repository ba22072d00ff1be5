//! Augmentation of real lines and paragraphs: determinism per seed and
//! sample, identity settings, the direction of brightness and contrast,
//! sizes and paper kept, the course's presets, validation and serde.

use image::{GrayImage, Luma};
use tr_data::augment::{adjust_brightness, adjust_contrast, RealLineAugmentation};

/// A line-like image: paper 0, bright strokes.
fn line(w: u32, h: u32) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| {
        let stroke = (x / 3 + y / 4) % 5 == 0 && y > h / 5 && y < h - h / 5;
        Luma([if stroke { 180 + (x % 60) as u8 } else { 0 }])
    })
}

fn mean_std(img: &GrayImage) -> (f64, f64) {
    let v: Vec<f64> = img.as_raw().iter().map(|&p| f64::from(p)).collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn only(f: impl FnOnce(&mut RealLineAugmentation)) -> RealLineAugmentation {
    let mut a = RealLineAugmentation::none();
    f(&mut a);
    a
}

#[test]
fn deterministic_per_seed_and_index_and_never_resized() {
    for aug in [
        RealLineAugmentation::course_iam_lines(),
        RealLineAugmentation::course_iam_paragraphs(),
    ] {
        for (w, h) in [(37, 28), (913, 28), (300, 140)] {
            let img = line(w, h);
            let a = aug.apply_seeded(&img, 7, 3);
            assert_eq!(a, aug.apply_seeded(&img, 7, 3));
            assert_ne!(
                a,
                aug.apply_seeded(&img, 7, 4),
                "{w}x{h}: index must matter"
            );
            assert_ne!(a, aug.apply_seeded(&img, 8, 3), "{w}x{h}: seed must matter");
            assert_eq!(a.dimensions(), (w, h));
        }
    }
}

#[test]
fn identity_settings_leave_the_image_unchanged() {
    let img = line(211, 31);
    let none = RealLineAugmentation::none();
    assert!(none.is_none());
    for seed in 0..5 {
        assert_eq!(none.apply_seeded(&img, seed, 1), img);
    }
    // Every step at its neutral value, with the draws still made.
    let neutral = only(|a| {
        a.perspective_p = 1.0;
        a.perspective_distortion = 0.0;
        a.sharpness_p = 1.0;
        a.sharpness_factor = 1.0;
    });
    assert!(!neutral.is_none());
    assert_eq!(neutral.apply_seeded(&img, 3, 0), img);
}

#[test]
fn blank_paper_stays_blank() {
    let blank = GrayImage::new(120, 40);
    for aug in [
        RealLineAugmentation::course_iam_lines(),
        RealLineAugmentation::course_iam_paragraphs(),
    ] {
        for i in 0..10 {
            assert_eq!(aug.apply_seeded(&blank, 1, i), blank);
        }
    }
}

#[test]
fn brightness_moves_the_mean_and_contrast_the_spread() {
    let img = GrayImage::from_fn(64, 32, |x, y| Luma([(40 + (x * 3 + y * 5) % 150) as u8]));
    let (m, s) = mean_std(&img);
    let (m_dark, _) = mean_std(&adjust_brightness(&img, 0.7));
    let (m_bright, _) = mean_std(&adjust_brightness(&img, 1.3));
    assert!(m_dark < m && m < m_bright, "{m_dark} {m} {m_bright}");
    let (m_flat, s_flat) = mean_std(&adjust_contrast(&img, 0.6));
    let (m_steep, s_steep) = mean_std(&adjust_contrast(&img, 1.4));
    assert!(s_flat < s && s < s_steep, "{s_flat} {s} {s_steep}");
    assert!(
        (m_flat - m).abs() < 1.0 && (m_steep - m).abs() < 1.0,
        "contrast keeps the mean"
    );

    // The same through the configurable augmentation, for every draw.
    let darker = only(|a| a.brightness = (0.6, 0.9));
    let flatter = only(|a| a.contrast = (0.5, 0.8));
    let steeper = only(|a| a.contrast = (1.2, 1.5));
    for i in 0..20 {
        assert!(mean_std(&darker.apply_seeded(&img, 2, i)).0 < m);
        assert!(mean_std(&flatter.apply_seeded(&img, 2, i)).1 < s);
        assert!(mean_std(&steeper.apply_seeded(&img, 2, i)).1 > s);
    }
}

#[test]
fn geometric_steps_change_the_image_and_keep_paper_at_the_borders() {
    let img = line(400, 40);
    for (name, aug) in [
        ("degrees", only(|a| a.degrees = (2.0, 3.0))),
        ("shear_x", only(|a| a.shear_x = (10.0, 20.0))),
        ("scale", only(|a| a.scale = (0.8, 0.9))),
        ("stretch", only(|a| a.stretch = (0.8, 0.9))),
        ("translate", only(|a| a.translate = (0.05, 0.1))),
        (
            "perspective",
            only(|a| {
                a.perspective_p = 1.0;
                a.perspective_distortion = 0.3;
            }),
        ),
        ("blur", only(|a| a.blur_sigma = (0.5, 1.0))),
        (
            "sharpness",
            only(|a| {
                a.sharpness_p = 1.0;
                a.sharpness_factor = 2.0;
            }),
        ),
    ] {
        let out = aug.apply_seeded(&img, 11, 0);
        assert_ne!(out, img, "{name} changed nothing");
        assert_eq!(out.dimensions(), img.dimensions(), "{name}");
    }
    // Shrinking brings paper (0) in from the outside.
    let shrunk = only(|a| a.scale = (0.8, 0.8)).apply_seeded(&img, 0, 0);
    assert_eq!(shrunk.get_pixel(0, 0)[0], 0);
}

#[test]
fn stretch_keeps_the_ends_of_a_tight_line() {
    // Ink in the first and last four columns, over the full height.
    let img = GrayImage::from_fn(200, 28, |x, _| {
        Luma([if !(4..196).contains(&x) { 200 } else { 0 }])
    });
    let ink_at = |img: &GrayImage, cols: std::ops::Range<u32>| {
        cols.flat_map(|x| (0..28).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y)[0] > 0)
            .count()
    };
    // Wider writing flattens instead: the ends stay where they were.
    let wide = only(|a| a.stretch = (1.1, 1.1)).apply_seeded(&img, 0, 0);
    assert!(ink_at(&wide, 0..2) > 0 && ink_at(&wide, 198..200) > 0);
    assert!(
        ink_at(&wide, 0..200) < ink_at(&img, 0..200),
        "flattened vertically"
    );
    // Narrower writing moves the ends inwards: the outermost columns become paper.
    let narrow = only(|a| a.stretch = (0.9, 0.9)).apply_seeded(&img, 0, 0);
    assert_eq!(ink_at(&narrow, 0..5), 0);
    assert_eq!(ink_at(&narrow, 195..200), 0);
}

#[test]
fn presets_are_the_courses() {
    let l = RealLineAugmentation::course_iam_lines();
    assert_eq!(l, RealLineAugmentation::default());
    assert_eq!((l.brightness, l.contrast), ((0.8, 1.6), (1.0, 1.0)));
    assert_eq!(
        (l.degrees, l.shear_x, l.stretch),
        ((-1.0, 1.0), (-30.0, 20.0), (0.9, 1.1))
    );
    let p = RealLineAugmentation::course_iam_paragraphs();
    assert_eq!((p.brightness, p.contrast), ((0.6, 1.4), (0.6, 1.4)));
    assert_eq!(
        (p.degrees, p.shear_x, p.scale),
        ((-3.0, 3.0), (-6.0, 6.0), (0.95, 1.0))
    );
    assert_eq!((p.perspective_p, p.perspective_distortion), (0.5, 0.2));
    assert_eq!(
        (p.blur_sigma, p.sharpness_p, p.sharpness_factor),
        ((0.1, 1.0), 0.5, 2.0)
    );
    for a in [l, p, RealLineAugmentation::none()] {
        a.validate("augment").unwrap();
    }
}

#[test]
fn bad_settings_are_named_errors() {
    let cases: [(RealLineAugmentation, &str); 5] = [
        (only(|a| a.brightness = (1.2, 0.8)), "augment.brightness"),
        (only(|a| a.stretch = (0.0, 1.1)), "augment.stretch"),
        (only(|a| a.shear_x = (-95.0, 0.0)), "augment.shear_x"),
        (only(|a| a.perspective_p = 1.5), "augment.perspective_p"),
        (only(|a| a.blur_sigma = (0.0, 1.0)), "augment.blur_sigma"),
    ];
    for (aug, field) in cases {
        let err = aug.validate("augment").unwrap_err().to_string();
        assert!(err.contains(field), "{err}");
    }
}

#[test]
fn serde_fills_missing_fields_and_rejects_unknown_ones() {
    let a: RealLineAugmentation = serde_yaml::from_str("contrast: [0.7, 1.3]\n").unwrap();
    assert_eq!(a.contrast, (0.7, 1.3));
    assert_eq!(
        a.brightness,
        RealLineAugmentation::course_iam_lines().brightness
    );
    let p = RealLineAugmentation::course_iam_paragraphs();
    let back: RealLineAugmentation =
        serde_yaml::from_str(&serde_yaml::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
    let err = serde_yaml::from_str::<RealLineAugmentation>("brightnes: [1, 2]\n").unwrap_err();
    assert!(err.to_string().contains("brightnes"), "{err}");
}
