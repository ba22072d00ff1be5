//! Affine augmentation: identity, known warps against torchvision's matrix,
//! determinism per seed, brightness.

use image::{GrayImage, Luma};
use tr_data::augment::{
    adjust_brightness, affine, inverse_affine_matrix, AffineParams, LineAugmentation, RandomAffine,
};
use tr_data::rng_for;

fn pattern(w: u32, h: u32) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| Luma([((x * 37 + y * 11) % 256) as u8]))
}

#[test]
fn identity_params_give_the_input_back() {
    let img = pattern(61, 23);
    assert_eq!(affine(&img, &AffineParams::identity(), 0), img);
    // A zero-width draw range is the identity too.
    let none = RandomAffine {
        degrees: (0.0, 0.0),
        translate: None,
        scale: None,
        shear_x: None,
        shear_y: None,
        fill: 9,
    };
    assert_eq!(none.apply(&img, &mut rng_for(1, &[])), img);
}

#[test]
fn matrix_matches_torchvision_for_rotation_and_shear() {
    // torchvision._get_inverse_affine_matrix([0, 0], 90, [0, 0], 1, [0, 0]):
    // [cos, sin, 0, -sin, cos, 0] at 90° = [0, 1, 0, -1, 0, 0].
    let rot = AffineParams {
        angle: 90.0,
        ..AffineParams::identity()
    };
    let m = inverse_affine_matrix((0.0, 0.0), &rot);
    for (a, b) in m.iter().zip([0.0, 1.0, 0.0, -1.0, 0.0, 0.0]) {
        assert!((a - b).abs() < 1e-12, "{m:?}");
    }
    // Pure x-shear of 45°: forward x' = x - y·tan(45°)... inverse adds it back.
    let shear = AffineParams {
        shear: (45.0, 0.0),
        ..AffineParams::identity()
    };
    let m = inverse_affine_matrix((0.0, 0.0), &shear);
    for (a, b) in m.iter().zip([1.0, 1.0, 0.0, 0.0, 1.0, 0.0]) {
        assert!((a - b).abs() < 1e-12, "{m:?}");
    }
    // Rotation about the centre keeps the centre pixel of an odd image
    // (±1: cos 90° is 6e-17 in floating point and the result is truncated).
    let img = pattern(9, 9);
    let out = affine(
        &img,
        &AffineParams {
            angle: 90.0,
            ..AffineParams::identity()
        },
        0,
    );
    let centre = (i32::from(out.get_pixel(4, 4).0[0]) - i32::from(img.get_pixel(4, 4).0[0])).abs();
    assert!(centre <= 1, "{centre}");
    // Output (8, 0) samples input (0, 0): x_in = y + 0.5, y_in = 9 - (x + 0.5).
    assert_eq!(out.get_pixel(8, 0), img.get_pixel(0, 0));
    assert_eq!(out.get_pixel(0, 0), img.get_pixel(0, 8));
}

#[test]
fn course_augmentation_is_deterministic_per_seed_and_bounded() {
    let img = pattern(1024, 56);
    let aug = LineAugmentation::default();
    let a = aug.apply(&img, &mut rng_for(5, &[]));
    let b = aug.apply(&img, &mut rng_for(5, &[]));
    let c = aug.apply(&img, &mut rng_for(6, &[]));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.dimensions(), img.dimensions());
    let ra = RandomAffine::course_lines();
    for s in 0..200 {
        let p = ra.sample(&mut rng_for(s, &[]), 1024, 56);
        assert!((-3.0..3.0).contains(&p.angle));
        assert_eq!(p.translate.0, 0.0);
        assert!(
            p.translate.1.abs() <= 3.0 && p.translate.1.fract() == 0.0,
            "{p:?}"
        );
        assert!((0.4..1.1).contains(&p.scale));
        assert!((-40.0..50.0).contains(&p.shear.0) && p.shear.1 == 0.0);
    }
}

#[test]
fn brightness_scales_and_truncates() {
    let img = GrayImage::from_raw(3, 1, vec![0, 101, 255]).unwrap();
    assert_eq!(adjust_brightness(&img, 0.5).into_raw(), vec![0, 50, 127]);
    assert_eq!(adjust_brightness(&img, 1.0).into_raw(), vec![0, 101, 255]);
}
