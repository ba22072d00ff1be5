//! Augmentation of real handwriting — line and paragraph crops of any size —
//! as the course's IAM stems do it, configurable and seeded per sample.
//!
//! The course (lab 7) augments IAM lines with `IAMLineStem(augment=True)`:
//! a random horizontal stretch `U(0.9, 1.1)` while the crop is embedded,
//! `ColorJitter(brightness=(0.8, 1.6))`, then `RandomAffine(degrees=1,
//! shear=(−30, 20), BILINEAR, fill=0)`; and paragraphs with `ParagraphStem`:
//! `ColorJitter(brightness=0.4, contrast=0.4)`, `RandomCrop` to the fixed
//! canvas, `RandomAffine(degrees=3, shear=6, scale=(0.95, 1))`,
//! `RandomPerspective(0.2, p=0.5)`, `GaussianBlur(3, sigma=(0.1, 1))` and
//! `RandomAdjustSharpness(2, p=0.5)`. [`RealLineAugmentation`] holds every
//! one of these ranges; [`RealLineAugmentation::course_iam_lines`] and
//! [`RealLineAugmentation::course_iam_paragraphs`] are those settings and
//! [`RealLineAugmentation::none`] changes nothing.
//!
//! Images are grey with the paper 0 (ink bright on black, the project's
//! polarity), so everything brought in from outside the image is paper. The
//! output always has the input's size:
//!
//! * the **stretch** is an aspect-ratio jitter: a factor `s < 1` narrows the
//!   writing to `s` of its width, `s > 1` flattens it to `1/s` of its height
//!   (both about the centre) — the same change of aspect as the course's wider
//!   or narrower resize, without pushing ink out of a tightly cropped line;
//! * it is folded into the affine warp, so a sample is resampled once;
//! * the course's `RandomCrop` places a paragraph at a random position of its
//!   fixed canvas: that is the data module's job when it pads to a canvas, not
//!   a change of the image; `translate` moves the writing inside its own frame.
//!
//! Rotation and shear keep the frame, so ink near the ends of a line may leave
//! it (as in the course): crop lines with some padding.
//!
//! The order of operations and of the random draws is fixed: stretch, colour
//! jitter (order, brightness, contrast), affine (angle, translation, scale,
//! shear), perspective (coin, corners), blur (sigma), sharpness (coin).

use image::GrayImage;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::affine::{
    inverse_affine_matrix, then, uniform, warp_affine, AffineParams, RandomAffine,
};
use super::color::ColorJitter;
use super::filter::{adjust_sharpness, gaussian_blur3};
use super::perspective::random_perspective;
use crate::error::{Error, Result};
use crate::seeding::rng_for;

/// Augmentation of real line and paragraph images (defaults: the course's
/// IAM lines, [`RealLineAugmentation::course_iam_lines`]). A range `(lo, hi)`
/// draws uniformly from `[lo, hi)`; `(1, 1)` (factors) or `(0, 0)` (angles,
/// offsets) switches that step off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealLineAugmentation {
    /// Brightness factor range (ColorJitter; PIL `ImageEnhance.Brightness`).
    pub brightness: (f64, f64),
    /// Contrast factor range (ColorJitter; PIL `ImageEnhance.Contrast`).
    pub contrast: (f64, f64),
    /// Aspect-ratio factor range: `< 1` narrower, `> 1` wider writing.
    pub stretch: (f64, f64),
    /// Rotation range in degrees (counter-clockwise, torchvision's sign).
    pub degrees: (f64, f64),
    /// Shear range parallel to x, in degrees.
    pub shear_x: (f64, f64),
    /// Isotropic scale range about the centre.
    pub scale: (f64, f64),
    /// Largest shift as fractions of `(width, height)`, drawn in `±` that, whole pixels.
    pub translate: (f64, f64),
    /// Probability of a random perspective distortion.
    pub perspective_p: f64,
    /// How far corners may move, as a fraction of half the width / height.
    pub perspective_distortion: f64,
    /// Gaussian blur (3×3) sigma range; `(0, 0)` is off.
    pub blur_sigma: (f64, f64),
    /// Probability of the sharpness adjustment.
    pub sharpness_p: f64,
    /// Sharpness factor (PIL `ImageEnhance.Sharpness`; 2 sharpens).
    pub sharpness_factor: f64,
}

impl Default for RealLineAugmentation {
    fn default() -> Self {
        Self::course_iam_lines()
    }
}

impl RealLineAugmentation {
    /// Changes nothing.
    pub fn none() -> Self {
        Self {
            brightness: (1.0, 1.0),
            contrast: (1.0, 1.0),
            stretch: (1.0, 1.0),
            degrees: (0.0, 0.0),
            shear_x: (0.0, 0.0),
            scale: (1.0, 1.0),
            translate: (0.0, 0.0),
            perspective_p: 0.0,
            perspective_distortion: 0.0,
            blur_sigma: (0.0, 0.0),
            sharpness_p: 0.0,
            sharpness_factor: 1.0,
        }
    }

    /// The course's `IAMLineStem(augment=True)`: stretch `U(0.9, 1.1)`,
    /// brightness `(0.8, 1.6)`, rotation ±1°, x-shear `(−30, 20)`.
    pub fn course_iam_lines() -> Self {
        Self {
            brightness: (0.8, 1.6),
            stretch: (0.9, 1.1),
            degrees: (-1.0, 1.0),
            shear_x: (-30.0, 20.0),
            ..Self::none()
        }
    }

    /// The course's `ParagraphStem(augment=True)` (its `RandomCrop` placement
    /// aside, see the module docs): brightness and contrast `(0.6, 1.4)`,
    /// rotation ±3°, x-shear ±6°, scale `(0.95, 1)`, perspective 0.2 with
    /// p = 0.5, blur sigma `(0.1, 1)`, sharpness 2 with p = 0.5.
    pub fn course_iam_paragraphs() -> Self {
        Self {
            brightness: (0.6, 1.4),
            contrast: (0.6, 1.4),
            degrees: (-3.0, 3.0),
            shear_x: (-6.0, 6.0),
            scale: (0.95, 1.0),
            perspective_p: 0.5,
            perspective_distortion: 0.2,
            blur_sigma: (0.1, 1.0),
            sharpness_p: 0.5,
            sharpness_factor: 2.0,
            ..Self::none()
        }
    }

    /// True when [`apply`](Self::apply) returns its input unchanged.
    pub fn is_none(&self) -> bool {
        *self == Self::none()
    }

    /// Checks every range; `field` prefixes the names in errors (e.g. `data.augment`).
    pub fn validate(&self, field: &str) -> Result<()> {
        let bad =
            |name: &str, message: String| Err(Error::invalid(format!("{field}.{name}"), message));
        let ranges = [
            ("brightness", self.brightness, 0.0, f64::INFINITY),
            ("contrast", self.contrast, 0.0, f64::INFINITY),
            ("stretch", self.stretch, f64::MIN_POSITIVE, f64::INFINITY),
            ("degrees", self.degrees, -180.0, 180.0),
            ("shear_x", self.shear_x, -89.0, 89.0),
            ("scale", self.scale, f64::MIN_POSITIVE, f64::INFINITY),
            ("translate", self.translate, 0.0, 1.0),
            ("blur_sigma", self.blur_sigma, 0.0, f64::INFINITY),
        ];
        for (name, (lo, hi), min, max) in ranges {
            let ordered = name == "translate" || lo <= hi;
            if !(lo.is_finite() && hi.is_finite() && ordered && lo >= min && hi <= max) {
                return bad(
                    name,
                    format!("({lo}, {hi}) is not an ordered range within [{min}, {max}]"),
                );
            }
        }
        if self.blur_sigma.0 == 0.0 && self.blur_sigma.1 != 0.0 {
            return bad(
                "blur_sigma",
                format!(
                    "{:?}: sigma must be above 0, or (0, 0) for no blur",
                    self.blur_sigma
                ),
            );
        }
        for (name, v) in [
            ("perspective_p", self.perspective_p),
            ("perspective_distortion", self.perspective_distortion),
            ("sharpness_p", self.sharpness_p),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(name, format!("{v} is not between 0 and 1"));
            }
        }
        if !(self.sharpness_factor >= 0.0 && self.sharpness_factor.is_finite()) {
            return bad(
                "sharpness_factor",
                format!("{} is not a factor of 0 or more", self.sharpness_factor),
            );
        }
        Ok(())
    }

    /// Augments sample `index` with the generator the datasets use for it,
    /// `rng_for(aug_seed, [index])`: the same `(aug_seed, index)` always gives
    /// the same image.
    pub fn apply_seeded(&self, img: &GrayImage, aug_seed: u64, index: usize) -> GrayImage {
        self.apply(img, &mut rng_for(aug_seed, &[index as u64]))
    }

    /// Augments `img` with randomness from `rng`; the size never changes.
    pub fn apply(&self, img: &GrayImage, rng: &mut impl Rng) -> GrayImage {
        if self.is_none() || img.width() == 0 || img.height() == 0 {
            return img.clone();
        }
        let stretch = uniform(rng, self.stretch);
        let jitter = ColorJitter {
            brightness: Some(self.brightness),
            contrast: Some(self.contrast),
        };
        let mut out = jitter.apply(img, rng);
        let params = self.affine().sample(rng, img.width(), img.height());
        if params != AffineParams::identity() || stretch != 1.0 {
            let (w, h) = (f64::from(img.width()), f64::from(img.height()));
            let centre = (w * 0.5, h * 0.5);
            let warp = inverse_affine_matrix(centre, &params);
            let (ax, ay) = (stretch.min(1.0), (1.0 / stretch).min(1.0));
            // Inverse of the aspect change about the centre, applied after the warp's inverse.
            let aspect = [
                1.0 / ax,
                0.0,
                centre.0 * (1.0 - 1.0 / ax),
                0.0,
                1.0 / ay,
                centre.1 * (1.0 - 1.0 / ay),
            ];
            out = warp_affine(&out, &then(&warp, &aspect), 0);
        }
        if self.perspective_p > 0.0 {
            out = random_perspective(&out, self.perspective_distortion, self.perspective_p, rng);
        }
        if self.blur_sigma != (0.0, 0.0) {
            out = gaussian_blur3(&out, uniform(rng, self.blur_sigma));
        }
        if self.sharpness_p > 0.0 && rng.random::<f64>() < self.sharpness_p {
            out = adjust_sharpness(&out, self.sharpness_factor);
        }
        out
    }

    fn affine(&self) -> RandomAffine {
        RandomAffine {
            degrees: self.degrees,
            translate: (self.translate != (0.0, 0.0)).then_some(self.translate),
            scale: Some(self.scale),
            shear_x: Some(self.shear_x),
            shear_y: None,
            fill: 0,
        }
    }
}
