//! torchvision's `RandomPerspective(distortion_scale, p)` on grey images:
//! each corner moved inwards by a random whole number of pixels, up to
//! `distortion_scale` of half the width / height, and the image resampled
//! through the homography that maps the moved corners back to the original
//! ones (PIL's `Image.transform(PERSPECTIVE, BILINEAR)`, fill 0).

use image::GrayImage;
use rand::Rng;

use super::affine::warp;

/// One draw: the four corners `[top-left, top-right, bottom-right, bottom-left]`
/// of the image after distortion, in pixels.
pub type Corners = [(f64, f64); 4];

/// torchvision's `RandomPerspective.get_params(width, height, distortion_scale)`.
pub fn sample_corners(rng: &mut impl Rng, width: u32, height: u32, distortion: f64) -> Corners {
    let (w, h) = (i64::from(width), i64::from(height));
    let dw = (distortion * (w / 2) as f64) as i64;
    let dh = (distortion * (h / 2) as f64) as i64;
    // torch.randint(lo, hi) draws from [lo, hi).
    let mut int = |lo: i64, hi: i64| -> f64 {
        if hi <= lo {
            lo as f64
        } else {
            rng.random_range(lo..hi) as f64
        }
    };
    let tl = (int(0, dw + 1), int(0, dh + 1));
    let tr = (int(w - dw - 1, w), int(0, dh + 1));
    let br = (int(w - dw - 1, w), int(h - dh - 1, h));
    let bl = (int(0, dw + 1), int(h - dh - 1, h));
    [tl, tr, br, bl]
}

/// The image corners torchvision maps from: `(0, 0)`, `(w−1, 0)`, `(w−1, h−1)`, `(0, h−1)`.
pub fn image_corners(width: u32, height: u32) -> Corners {
    let (w, h) = (f64::from(width) - 1.0, f64::from(height) - 1.0);
    [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
}

/// torchvision's `_get_perspective_coeffs(startpoints, endpoints)`: the eight
/// coefficients of the output → input map that sends `end[i]` to `start[i]`
/// (`None` when the corners are degenerate).
pub fn perspective_coeffs(start: &Corners, end: &Corners) -> Option<[f64; 8]> {
    let mut a = [[0.0f64; 9]; 8];
    for (i, (&(x, y), &(u, v))) in end.iter().zip(start).enumerate() {
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gauss–Jordan with partial pivoting on the augmented 8×9 system.
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let p = a[col][col];
        a[col].iter_mut().for_each(|v| *v /= p);
        for row in 0..8 {
            if row != col {
                let f = a[row][col];
                if f != 0.0 {
                    let pivot_row = a[col];
                    a[row]
                        .iter_mut()
                        .zip(pivot_row)
                        .for_each(|(v, pv)| *v -= f * pv);
                }
            }
        }
    }
    let mut c = [0.0; 8];
    for (ci, row) in c.iter_mut().zip(&a) {
        *ci = row[8];
    }
    Some(c)
}

/// Resamples `img` through the perspective coefficients `c` (output → input).
pub fn warp_perspective(img: &GrayImage, c: &[f64; 8], fill: u8) -> GrayImage {
    warp(img, fill, |x, y| {
        let d = c[6] * x + c[7] * y + 1.0;
        (
            (c[0] * x + c[1] * y + c[2]) / d,
            (c[3] * x + c[4] * y + c[5]) / d,
        )
    })
}

/// With probability `p`, distorts `img` by a random perspective (torchvision
/// draws the coin first, then the corners).
pub fn random_perspective(
    img: &GrayImage,
    distortion: f64,
    p: f64,
    rng: &mut impl Rng,
) -> GrayImage {
    if rng.random::<f64>() >= p {
        return img.clone();
    }
    let (w, h) = img.dimensions();
    let (start, end) = (image_corners(w, h), sample_corners(rng, w, h, distortion));
    if start == end {
        return img.clone();
    }
    match perspective_coeffs(&start, &end) {
        Some(c) => warp_perspective(img, &c, 0),
        None => img.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmoved_corners_are_the_identity() {
        let start = image_corners(40, 20);
        let c = perspective_coeffs(&start, &start).unwrap();
        for (a, b) in c.iter().zip([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]) {
            assert!((a - b).abs() < 1e-9, "{c:?}");
        }
        let img = GrayImage::from_fn(40, 20, |x, y| image::Luma([(x * 5 + y) as u8]));
        assert_eq!(warp_perspective(&img, &c, 0), img);
    }

    #[test]
    fn the_map_sends_moved_corners_back() {
        let start = image_corners(100, 50);
        let end = [(5.0, 3.0), (96.0, 1.0), (90.0, 47.0), (2.0, 45.0)];
        let c = perspective_coeffs(&start, &end).unwrap();
        for (&(x, y), &(u, v)) in end.iter().zip(&start) {
            let d = c[6] * x + c[7] * y + 1.0;
            let (xu, yv) = (
                (c[0] * x + c[1] * y + c[2]) / d,
                (c[3] * x + c[4] * y + c[5]) / d,
            );
            assert!((xu - u).abs() < 1e-9 && (yv - v).abs() < 1e-9);
        }
    }

    #[test]
    fn corners_stay_within_the_distortion() {
        let mut rng = crate::seeding::rng_for(3, &[]);
        for _ in 0..100 {
            let [tl, tr, br, bl] = sample_corners(&mut rng, 200, 60, 0.2);
            assert!((0.0..=20.0).contains(&tl.0) && (0.0..=6.0).contains(&tl.1));
            assert!((179.0..200.0).contains(&tr.0) && (0.0..=6.0).contains(&tr.1));
            assert!((179.0..200.0).contains(&br.0) && (53.0..60.0).contains(&br.1));
            assert!((0.0..=20.0).contains(&bl.0) && (53.0..60.0).contains(&bl.1));
        }
    }
}
