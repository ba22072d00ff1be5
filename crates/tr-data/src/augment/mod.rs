//! Image augmentation on 8-bit grey images (ink bright on black), seeded
//! and deterministic per sample.
//!
//! Two families, both the course's:
//!
//! * [`LineAugmentation`]: the synthetic-line stem (`LineStem(augment=True)`)
//!   of `emnist-lines2`, brightness jitter then [`RandomAffine::course_lines`];
//! * [`RealLineAugmentation`]: real handwriting lines and paragraphs as the
//!   course's IAM stems augment them (brightness and contrast jitter,
//!   aspect stretch, small rotation, shear, scale, perspective, blur,
//!   sharpness), serde-configurable with the course's presets.
//!
//! | module | what |
//! |---|---|
//! | `affine` | torchvision's `RandomAffine`, its inverse matrix and PIL's bilinear resampler |
//! | `color` | `ColorJitter`: PIL's brightness and contrast blends |
//! | `perspective` | `RandomPerspective`: corner draws, homography, resampling |
//! | `filter` | 3×3 Gaussian blur and PIL's sharpness |
//! | `real` | [`RealLineAugmentation`] and its presets |
//!
//! Datasets draw each sample's randomness from `rng_for(aug_seed, [index])`
//! ([`crate::seeding::rng_for`]), so a sample depends only on its index and
//! the loader's seed, never on threads or order.

mod affine;
mod color;
mod filter;
mod perspective;
mod real;

use image::GrayImage;
use rand::Rng;

pub use affine::{affine, inverse_affine_matrix, warp_affine, AffineParams, RandomAffine};
pub use color::{adjust_brightness, adjust_contrast, ColorJitter};
pub use filter::{adjust_sharpness, gaussian_blur3};
pub use perspective::{
    image_corners, perspective_coeffs, random_perspective, sample_corners, warp_perspective,
    Corners,
};
pub use real::RealLineAugmentation;

use affine::uniform;

/// The course's line augmentation (`LineStem(augment=True)`):
/// `ColorJitter(brightness=(0.5, 1))` then [`RandomAffine::course_lines`].
#[derive(Clone, Debug, PartialEq)]
pub struct LineAugmentation {
    /// Brightness factor range.
    pub brightness: (f64, f64),
    pub affine: RandomAffine,
}

impl Default for LineAugmentation {
    fn default() -> Self {
        Self {
            brightness: (0.5, 1.0),
            affine: RandomAffine::course_lines(),
        }
    }
}

impl LineAugmentation {
    /// Augments `img` with randomness from `rng` (brightness first, as the course).
    pub fn apply(&self, img: &GrayImage, rng: &mut impl Rng) -> GrayImage {
        let factor = uniform(rng, self.brightness);
        let bright = adjust_brightness(img, factor);
        self.affine.apply(&bright, rng)
    }
}
