//! From a grey page (bright ink on black) to the binary working image the
//! segmenter measures: reduced by an integer factor with a max filter (so
//! thin strokes survive), then thresholded by Otsu's method.

use image::GrayImage;

use crate::levels::{histogram, percentile};

/// A binary image at working scale, row-major; `true` = ink.
#[derive(Clone, Debug)]
pub struct Binary {
    pub width: usize,
    pub height: usize,
    pub ink: Vec<bool>,
    /// Page pixels per working pixel.
    pub factor: u32,
}

/// Grey levels above the background below which nothing counts as ink
/// (the recognisers' no-ink rule).
const MIN_CONTRAST: u8 = 16;

/// The working image of `image` (bright ink on black), its longer side
/// reduced to about `max_side` pixels.
pub fn binarize(image: &GrayImage, max_side: u32) -> Binary {
    let (w, h) = image.dimensions();
    let factor = ((w.max(h) as f32 / max_side.max(1) as f32).round() as u32).max(1);
    let (ww, wh) = (w.div_ceil(factor) as usize, h.div_ceil(factor) as usize);
    let src = image.as_raw();
    let mut small = vec![0u8; ww * wh];
    for y in 0..h as usize {
        let row = &src[y * w as usize..(y + 1) * w as usize];
        let out = &mut small[(y / factor as usize) * ww..(y / factor as usize + 1) * ww];
        for (x, &v) in row.iter().enumerate() {
            let o = &mut out[x / factor as usize];
            if v > *o {
                *o = v;
            }
        }
    }
    let hist = histogram(&small);
    let median = percentile(&hist, 0.5);
    let t = otsu(&hist).max(median.saturating_add(MIN_CONTRAST));
    Binary {
        width: ww,
        height: wh,
        ink: small.iter().map(|&v| v > t).collect(),
        factor,
    }
}

/// Otsu's threshold: the level that maximises the between-class variance.
fn otsu(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 255;
    }
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &n)| i as f64 * n as f64)
        .sum();
    let (mut w0, mut sum0) = (0f64, 0f64);
    let (mut best, mut best_t) = (-1f64, 0u8);
    for (t, &n) in hist.iter().enumerate() {
        w0 += n as f64;
        sum0 += t as f64 * n as f64;
        let w1 = total as f64 - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (sum_all - sum0) / w1);
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn thin_strokes_survive_the_reduction() {
        // A one-pixel vertical stroke on a 400 × 40 image, reduced 4×.
        let img = GrayImage::from_fn(400, 40, |x, _| Luma([if x == 201 { 230 } else { 10 }]));
        let b = binarize(&img, 100);
        assert_eq!((b.width, b.height, b.factor), (100, 10, 4));
        assert!((0..10).all(|y| b.ink[y * 100 + 50]));
        assert_eq!(b.ink.iter().filter(|&&v| v).count(), 10);
        // A flat image has no ink.
        let flat = GrayImage::from_pixel(50, 50, Luma([40]));
        assert!(!binarize(&flat, 100).ink.iter().any(|&v| v));
    }
}
