//! torchvision's `RandomAffine` on 8-bit grey images, and the resampler
//! every geometric augmentation shares.
//!
//! The warp follows torchvision's PIL path exactly in geometry:
//! [`inverse_affine_matrix`] is `_get_inverse_affine_matrix` (rotation,
//! scale and shear about the centre `(w/2, h/2)`, then translation), and
//! [`warp_affine`] samples like PIL's `Image.transform(AFFINE, BILINEAR)`:
//! output pixel `(x, y)` maps its centre `(x+0.5, y+0.5)` through the
//! inverse matrix; a source point outside the image takes the fill value,
//! otherwise the four neighbours (edge-clamped) are blended bilinearly and
//! the result truncated to `u8`.

use image::GrayImage;
use rand::Rng;

/// One draw of affine parameters (torchvision's `RandomAffine.get_params`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AffineParams {
    /// Rotation in degrees.
    pub angle: f64,
    /// Translation `(tx, ty)` in pixels.
    pub translate: (f64, f64),
    /// Isotropic scale factor.
    pub scale: f64,
    /// Shear `(x, y)` in degrees.
    pub shear: (f64, f64),
}

impl AffineParams {
    /// Parameters that leave an image unchanged.
    pub fn identity() -> Self {
        Self {
            angle: 0.0,
            translate: (0.0, 0.0),
            scale: 1.0,
            shear: (0.0, 0.0),
        }
    }
}

/// torchvision's `RandomAffine` with every range explicit.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomAffine {
    /// Rotation range in degrees.
    pub degrees: (f64, f64),
    /// Maximum translation as fractions of width and height.
    pub translate: Option<(f64, f64)>,
    /// Scale range.
    pub scale: Option<(f64, f64)>,
    /// Shear range parallel to x, in degrees.
    pub shear_x: Option<(f64, f64)>,
    /// Shear range parallel to y, in degrees.
    pub shear_y: Option<(f64, f64)>,
    /// Value of pixels mapped from outside the image.
    pub fill: u8,
}

impl RandomAffine {
    /// The course's `LineStem` warp: `RandomAffine(degrees=3,
    /// translate=(0, 0.05), scale=(0.4, 1.1), shear=(-40, 50), BILINEAR, fill=0)`.
    pub fn course_lines() -> Self {
        Self {
            degrees: (-3.0, 3.0),
            translate: Some((0.0, 0.05)),
            scale: Some((0.4, 1.1)),
            shear_x: Some((-40.0, 50.0)),
            shear_y: None,
            fill: 0,
        }
    }

    /// Draws parameters for a `width × height` image, in torchvision's order:
    /// angle, translation (rounded to whole pixels), scale, shear x, shear y.
    pub fn sample(&self, rng: &mut impl Rng, width: u32, height: u32) -> AffineParams {
        let angle = uniform(rng, self.degrees);
        let translate = match self.translate {
            Some((fx, fy)) => {
                let max_dx = fx * f64::from(width);
                let max_dy = fy * f64::from(height);
                let tx = uniform(rng, (-max_dx, max_dx)).round_ties_even();
                let ty = uniform(rng, (-max_dy, max_dy)).round_ties_even();
                (tx, ty)
            }
            None => (0.0, 0.0),
        };
        let scale = self.scale.map_or(1.0, |r| uniform(rng, r));
        let sx = self.shear_x.map_or(0.0, |r| uniform(rng, r));
        let sy = self.shear_y.map_or(0.0, |r| uniform(rng, r));
        AffineParams {
            angle,
            translate,
            scale,
            shear: (sx, sy),
        }
    }

    /// Draws parameters and warps `img` with them.
    pub fn apply(&self, img: &GrayImage, rng: &mut impl Rng) -> GrayImage {
        let params = self.sample(rng, img.width(), img.height());
        affine(img, &params, self.fill)
    }
}

/// Uniform in `[lo, hi)` (the constant `lo` when the range is empty).
pub(crate) fn uniform(rng: &mut impl Rng, (lo, hi): (f64, f64)) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// torchvision's `_get_inverse_affine_matrix`: the output → input map
/// `[a, b, c, d, e, f]` (`x_in = a x + b y + c`, `y_in = d x + e y + f`) of
/// `M = T · C · R · S · Sh · C⁻¹` about `center`.
pub fn inverse_affine_matrix(center: (f64, f64), p: &AffineParams) -> [f64; 6] {
    let rot = p.angle.to_radians();
    let sx = p.shear.0.to_radians();
    let sy = p.shear.1.to_radians();
    let (cx, cy) = center;
    let (tx, ty) = p.translate;
    // Rotation-shear matrix [a b; c d] without scaling (torchvision's names).
    let a = (rot - sy).cos() / sy.cos();
    let b = -(a * sx.tan() + rot.sin());
    let c = (rot - sy).sin() / sy.cos();
    let d = rot.cos() - c * sx.tan();
    // Inverted rotation/scale/shear, then the centre and translation terms.
    let mut m = [
        d / p.scale,
        -b / p.scale,
        0.0,
        -c / p.scale,
        a / p.scale,
        0.0,
    ];
    m[2] += cx - m[0] * (cx + tx) - m[1] * (cy + ty);
    m[5] += cy - m[3] * (cx + tx) - m[4] * (cy + ty);
    m
}

/// Warps `img` by `params` about its centre `(w/2, h/2)` (torchvision on PIL images).
pub fn affine(img: &GrayImage, params: &AffineParams, fill: u8) -> GrayImage {
    let center = (f64::from(img.width()) * 0.5, f64::from(img.height()) * 0.5);
    warp_affine(img, &inverse_affine_matrix(center, params), fill)
}

/// Resamples `img` through the output → input matrix `m` with PIL's bilinear rule.
pub fn warp_affine(img: &GrayImage, m: &[f64; 6], fill: u8) -> GrayImage {
    warp(img, fill, |xc, yc| {
        (m[0] * xc + m[1] * yc + m[2], m[3] * xc + m[4] * yc + m[5])
    })
}

/// Resamples `img` through `map` (output pixel centre `(x+0.5, y+0.5)` →
/// input point) with PIL's bilinear rule; points outside the image take `fill`.
pub(crate) fn warp(img: &GrayImage, fill: u8, map: impl Fn(f64, f64) -> (f64, f64)) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.as_raw();
    let mut out = vec![fill; w * h];
    if w == 0 || h == 0 {
        return img.clone();
    }
    let (wf, hf) = (w as f64, h as f64);
    for y in 0..h {
        let yc = y as f64 + 0.5;
        for x in 0..w {
            let (xin, yin) = map(x as f64 + 0.5, yc);
            if !(0.0..wf).contains(&xin) || !(0.0..hf).contains(&yin) {
                continue;
            }
            let (xs, ys) = (xin - 0.5, yin - 0.5);
            let (x0, y0) = (xs.floor(), ys.floor());
            let (dx, dy) = (xs - x0, ys - y0);
            let clip_x = |v: f64| v.clamp(0.0, wf - 1.0) as usize;
            let (xa, xb) = (clip_x(x0), clip_x(x0 + 1.0));
            let row = |r: usize| {
                let p0 = f64::from(src[r * w + xa]);
                let p1 = f64::from(src[r * w + xb]);
                p0 + (p1 - p0) * dx
            };
            let v1 = row(y0.clamp(0.0, hf - 1.0) as usize);
            let v2 = if y0 + 1.0 >= 0.0 && y0 + 1.0 < hf {
                row((y0 + 1.0) as usize)
            } else {
                v1
            };
            out[y * w + x] = (v1 + (v2 - v1) * dy).clamp(0.0, 255.0) as u8;
        }
    }
    GrayImage::from_raw(img.width(), img.height(), out).expect("buffer matches the image size")
}

/// The matrix of "first `inner`, then `outer`" for output → input matrices:
/// `x_in = inner(outer(x_out))`.
pub(crate) fn then(outer: &[f64; 6], inner: &[f64; 6]) -> [f64; 6] {
    let [a, b, c, d, e, f] = *inner;
    let [p, q, r, s, t, u] = *outer;
    [
        a * p + b * s,
        a * q + b * t,
        a * r + b * u + c,
        d * p + e * s,
        d * q + e * t,
        d * r + e * u + f,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_matrix_for_identity_params() {
        let m = inverse_affine_matrix((10.0, 5.0), &AffineParams::identity());
        let want = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        for (a, b) in m.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{m:?}");
        }
    }

    #[test]
    fn translation_moves_pixels() {
        let mut img = GrayImage::new(8, 6);
        img.put_pixel(2, 3, image::Luma([200]));
        let p = AffineParams {
            translate: (3.0, -1.0),
            ..AffineParams::identity()
        };
        let out = affine(&img, &p, 0);
        assert_eq!(out.get_pixel(5, 2).0[0], 200);
        assert_eq!(out.iter().map(|&v| u32::from(v)).sum::<u32>(), 200);
    }

    #[test]
    fn scale_half_shrinks_about_centre() {
        // A full white image scaled by 0.5 covers the central half, rest is fill.
        let img = GrayImage::from_pixel(8, 8, image::Luma([255]));
        let p = AffineParams {
            scale: 0.5,
            ..AffineParams::identity()
        };
        let out = affine(&img, &p, 7);
        assert_eq!(out.get_pixel(0, 0).0[0], 7);
        assert_eq!(out.get_pixel(4, 4).0[0], 255);
        assert_eq!(out.get_pixel(2, 2).0[0], 255);
        assert_eq!(out.get_pixel(1, 1).0[0], 7);
    }
    #[test]
    fn composed_matrices_apply_inner_after_outer() {
        let shift = [1.0, 0.0, 3.0, 0.0, 1.0, -2.0];
        let double = [2.0, 0.0, 0.0, 0.0, 2.0, 0.0];
        // x_in = double(shift(x)) = 2 (x + 3).
        let m = then(&shift, &double);
        assert_eq!(m, [2.0, 0.0, 6.0, 0.0, 2.0, -4.0]);
    }
}
