//! Geometry: from a grey image of any size to model inputs of exactly the
//! model's `H × W`.
//!
//! * Lines ([`line_windows`]): resized to height `H` keeping the aspect
//!   ratio (an image already `H` high is not resampled), giving `W' × H`.
//!   If `W' ≤ W` it is padded on the right with background (0) to `W × H`,
//!   as the training lines were; otherwise it is cut into windows of
//!   `W × H` that overlap by `overlap` pixels (the last one padded), whose
//!   outputs the recogniser stitches back together.
//! * Pages and lines for models that cannot stitch ([`fit_into`]): scaled
//!   by `min(H / h, W / w)` so the whole image fits, then padded on the
//!   right and bottom to `W × H`.

use image::imageops::{self, FilterType};
use image::GrayImage;

use crate::error::{Error, Result};

/// The model inputs made from one line.
#[derive(Clone, Debug)]
pub struct LineWindows {
    /// `H × W` images, left to right.
    pub windows: Vec<GrayImage>,
    /// x offset of each window in the resized line.
    pub starts: Vec<u32>,
    /// Width `W'` of the line after resizing to height `H` (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub resized_width: u32,
    /// Overlap between consecutive windows (pixels of the resized line).
    pub overlap: u32,
    /// Original-image pixels per resized pixel, horizontally.
    pub scale_x: f32,
}

/// Resizes `image` to height `h`, keeping its aspect ratio (width ≥ 1);
/// returns it unchanged when it already is `h` high.
pub fn resize_to_height(image: &GrayImage, h: u32) -> GrayImage {
    if image.height() == h {
        return image.clone();
    }
    let w = ((f64::from(image.width()) * f64::from(h) / f64::from(image.height())).round() as u32)
        .max(1);
    imageops::resize(image, w, h, FilterType::Triangle)
}

/// Pastes `image` at the top left of a black `w × h` canvas (cropping
/// nothing: `image` must fit).
pub fn pad_to(image: &GrayImage, w: u32, h: u32) -> GrayImage {
    if image.dimensions() == (w, h) {
        return image.clone();
    }
    let mut canvas = GrayImage::new(w, h);
    imageops::replace(&mut canvas, image, 0, 0);
    canvas
}

/// Lays a line out as model inputs of `w × h` (see the module docs).
/// `overlap` must be below `w`.
pub fn line_windows(image: &GrayImage, h: u32, w: u32, overlap: u32) -> Result<LineWindows> {
    if overlap >= w {
        return Err(Error::invalid(
            "window_overlap",
            format!("{overlap} pixels must be below the model width {w}"),
        ));
    }
    let line = resize_to_height(image, h);
    let resized_width = line.width();
    let scale_x = image.width() as f32 / resized_width as f32;
    let mut windows = Vec::new();
    let mut starts = Vec::new();
    if resized_width <= w {
        windows.push(pad_to(&line, w, h));
        starts.push(0);
    } else {
        let stride = w - overlap;
        let mut start = 0u32;
        loop {
            let width = w.min(resized_width - start);
            let crop = imageops::crop_imm(&line, start, 0, width, h).to_image();
            windows.push(pad_to(&crop, w, h));
            starts.push(start);
            if start + w >= resized_width {
                break;
            }
            start += stride;
        }
    }
    let overlap = if starts.len() > 1 { overlap } else { 0 };
    Ok(LineWindows {
        windows,
        starts,
        resized_width,
        overlap,
        scale_x,
    })
}

/// Scales `image` to fit inside `w × h` keeping its aspect ratio, then pads
/// it to `w × h`; returns the input and the scale (original pixels per
/// input pixel).
pub fn fit_into(image: &GrayImage, h: u32, w: u32) -> (GrayImage, f32) {
    let (iw, ih) = image.dimensions();
    if (iw, ih) == (w, h) {
        return (image.clone(), 1.0);
    }
    if ih == h && iw <= w {
        return (pad_to(image, w, h), 1.0);
    }
    let s = (f64::from(h) / f64::from(ih)).min(f64::from(w) / f64::from(iw));
    let nw = ((f64::from(iw) * s).round() as u32).clamp(1, w);
    let nh = ((f64::from(ih) * s).round() as u32).clamp(1, h);
    let resized = imageops::resize(image, nw, nh, FilterType::Triangle);
    (pad_to(&resized, w, h), (1.0 / s) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn ramp(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, _| Luma([(x % 251) as u8]))
    }

    #[test]
    fn short_lines_are_padded_not_resampled() {
        let img = ramp(50, 28);
        let l = line_windows(&img, 28, 128, 16).unwrap();
        assert_eq!(l.windows.len(), 1);
        assert_eq!(l.windows[0].dimensions(), (128, 28));
        assert_eq!(l.windows[0].get_pixel(49, 3).0[0], 49);
        assert_eq!(l.windows[0].get_pixel(50, 3).0[0], 0);
        assert_eq!(l.scale_x, 1.0);
    }

    #[test]
    fn tall_images_are_resized_keeping_aspect() {
        let img = ramp(300, 56);
        let l = line_windows(&img, 28, 200, 20).unwrap();
        assert_eq!(l.resized_width, 150);
        assert_eq!(l.windows.len(), 1);
        assert!((l.scale_x - 2.0).abs() < 1e-6);
    }

    #[test]
    fn wide_lines_become_overlapping_windows() {
        let img = ramp(500, 28);
        let l = line_windows(&img, 28, 200, 40).unwrap();
        // Stride 160: windows at 0, 160, 320 (the last one reaches 520 > 500).
        assert_eq!(l.starts, vec![0, 160, 320]);
        assert!(l.windows.iter().all(|w| w.dimensions() == (200, 28)));
        assert_eq!(l.windows[1].get_pixel(0, 0).0[0], 160);
        assert_eq!(l.windows[2].get_pixel(179, 0).0[0], (499 % 251) as u8);
        assert_eq!(l.windows[2].get_pixel(180, 0).0[0], 0);
        assert!(line_windows(&img, 28, 200, 200).is_err());
    }

    #[test]
    fn pages_fit_inside() {
        let img = ramp(400, 100);
        let (out, s) = fit_into(&img, 50, 100);
        assert_eq!(out.dimensions(), (100, 50));
        assert!((s - 4.0).abs() < 1e-6);
        // 400x100 scaled by 1/4 → 100x25, padded below.
        assert_eq!(out.get_pixel(10, 40).0[0], 0);
    }
}
