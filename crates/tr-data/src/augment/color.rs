//! torchvision's `ColorJitter` on 8-bit grey images: brightness and contrast
//! (saturation and hue do nothing to grey), each PIL's `ImageEnhance` blend.
//!
//! PIL blends a *degenerate* image with the input: `out = d + f·(p − d)`,
//! clamped to `[0, 255]` and truncated. Brightness blends with black
//! (`d = 0`, so `out = f·p`); contrast with a flat image of the input's mean
//! rounded to a whole grey level. torchvision applies the enabled
//! adjustments in a random order, drawn per sample.

use image::GrayImage;
use rand::Rng;

use super::affine::uniform;

/// PIL's `ImageEnhance.Brightness(img).enhance(factor)`: every pixel times
/// `factor`, clamped to `[0, 255]` and truncated.
pub fn adjust_brightness(img: &GrayImage, factor: f64) -> GrayImage {
    let mut out = img.clone();
    for p in out.iter_mut() {
        *p = (f64::from(*p) * factor).clamp(0.0, 255.0) as u8;
    }
    out
}

/// PIL's `ImageEnhance.Contrast(img).enhance(factor)`: every pixel moved
/// away from (factor > 1) or towards (factor < 1) the image's mean grey
/// level, `mean + factor·(p − mean)`, clamped to `[0, 255]` and truncated.
pub fn adjust_contrast(img: &GrayImage, factor: f64) -> GrayImage {
    let n = img.as_raw().len().max(1) as f64;
    let sum: u64 = img.as_raw().iter().map(|&p| u64::from(p)).sum();
    // PIL: int(ImageStat.Stat(img).mean[0] + 0.5).
    let mean = (sum as f64 / n + 0.5).floor();
    let mut out = img.clone();
    for p in out.iter_mut() {
        *p = (mean + factor * (f64::from(*p) - mean)).clamp(0.0, 255.0) as u8;
    }
    out
}

/// torchvision's `ColorJitter(brightness, contrast)` with explicit factor
/// ranges; `None` leaves that property alone.
#[derive(Clone, Debug, PartialEq)]
pub struct ColorJitter {
    /// Brightness factor range (`ColorJitter(brightness=b)` is `(max(0, 1 − b), 1 + b)`).
    pub brightness: Option<(f64, f64)>,
    /// Contrast factor range, as brightness.
    pub contrast: Option<(f64, f64)>,
}

impl ColorJitter {
    /// Draws the order and the factors (torchvision's `get_params`: the
    /// order first, then brightness, then contrast) and applies them.
    pub fn apply(&self, img: &GrayImage, rng: &mut impl Rng) -> GrayImage {
        let contrast_first = rng.random::<bool>();
        let b = self.brightness.map(|r| uniform(rng, r));
        let c = self.contrast.map(|r| uniform(rng, r));
        let bright = |i: &GrayImage| match b {
            Some(f) if f != 1.0 => adjust_brightness(i, f),
            _ => i.clone(),
        };
        let contrast = |i: &GrayImage| match c {
            Some(f) if f != 1.0 => adjust_contrast(i, f),
            _ => i.clone(),
        };
        if contrast_first {
            bright(&contrast(img))
        } else {
            contrast(&bright(img))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_blends_with_the_rounded_mean() {
        // Mean (10 + 20 + 31) / 3 = 20.33 → 20.
        let img = GrayImage::from_raw(3, 1, vec![10, 20, 31]).unwrap();
        assert_eq!(adjust_contrast(&img, 1.0).into_raw(), vec![10, 20, 31]);
        assert_eq!(adjust_contrast(&img, 0.0).into_raw(), vec![20, 20, 20]);
        // 20 + 0.5·(10 − 20) = 15; 20 + 0.5·11 = 25.5 → 25.
        assert_eq!(adjust_contrast(&img, 0.5).into_raw(), vec![15, 20, 25]);
        // 20 + 3·(−10) = −10 → 0; 20 + 3·11 = 53.
        assert_eq!(adjust_contrast(&img, 3.0).into_raw(), vec![0, 20, 53]);
    }
}
