//! The two 3×3 filters of the course's paragraph augmentation: torchvision's
//! `GaussianBlur(kernel_size=3, sigma)` and PIL's `ImageEnhance.Sharpness`
//! (what `RandomAdjustSharpness` calls on PIL images).
//!
//! * **Blur**: the kernel is torchvision's (`exp(−x²/2σ²)` at `x = −1, 0, 1`,
//!   normalised, outer product), borders mirror-padded (`reflect`), the sum
//!   in `f32` rounded half to even, as torchvision does for `uint8` images.
//! * **Sharpness**: PIL blends a smoothed copy with the input,
//!   `out = s + f·(p − s)` clamped and truncated; the smoothed copy is PIL's
//!   `SMOOTH` filter (`[1 1 1; 1 5 1; 1 1 1] / 13`, rounded to the nearest
//!   level) with the one-pixel border copied unchanged, so a factor above 1
//!   sharpens and the border stays as it was.

use image::GrayImage;

/// torchvision's `gaussian_blur(img, [3, 3], [sigma, sigma])` on a grey image.
pub fn gaussian_blur3(img: &GrayImage, sigma: f64) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 || sigma <= 0.0 {
        return img.clone();
    }
    let side = (-0.5 / (sigma * sigma)).exp() as f32;
    let total = 1.0 + 2.0 * side;
    let k = [side / total, 1.0 / total, side / total];
    let reflect = |i: isize, n: usize| -> usize {
        let n = n as isize;
        let r = if i < 0 {
            -i
        } else if i >= n {
            2 * n - 2 - i
        } else {
            i
        };
        r.clamp(0, n - 1) as usize
    };
    let src = img.as_raw();
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0f32;
            for (dy, ky) in k.iter().enumerate() {
                let row = reflect(y as isize + dy as isize - 1, h) * w;
                for (dx, kx) in k.iter().enumerate() {
                    let col = reflect(x as isize + dx as isize - 1, w);
                    acc += ky * kx * f32::from(src[row + col]);
                }
            }
            out[y * w + x] = acc.round_ties_even().clamp(0.0, 255.0) as u8;
        }
    }
    GrayImage::from_raw(img.width(), img.height(), out).expect("buffer matches the image size")
}

/// PIL's `ImageEnhance.Sharpness(img).enhance(factor)`.
pub fn adjust_sharpness(img: &GrayImage, factor: f64) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.as_raw();
    let mut smooth = src.clone();
    if w >= 3 && h >= 3 {
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let mut sum = 4 * u32::from(src[y * w + x]);
                for r in y - 1..=y + 1 {
                    for c in x - 1..=x + 1 {
                        sum += u32::from(src[r * w + c]);
                    }
                }
                smooth[y * w + x] = ((f64::from(sum) / 13.0) + 0.5).min(255.0) as u8;
            }
        }
    }
    let out = src
        .iter()
        .zip(&smooth)
        .map(|(&p, &s)| {
            let (p, s) = (f64::from(p), f64::from(s));
            (s + factor * (p - s)).clamp(0.0, 255.0) as u8
        })
        .collect();
    GrayImage::from_raw(img.width(), img.height(), out).expect("buffer matches the image size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_keeps_flat_images_and_spreads_a_point() {
        let flat = GrayImage::from_pixel(5, 4, image::Luma([77]));
        assert_eq!(gaussian_blur3(&flat, 0.8), flat);
        let mut dot = GrayImage::new(5, 5);
        dot.put_pixel(2, 2, image::Luma([255]));
        let out = gaussian_blur3(&dot, 1.0);
        let (c, edge, corner) = (
            out.get_pixel(2, 2)[0],
            out.get_pixel(1, 2)[0],
            out.get_pixel(1, 1)[0],
        );
        assert!(
            c < 255 && edge < c && corner < edge && corner > 0,
            "{c} {edge} {corner}"
        );
        assert_eq!(out.get_pixel(0, 0)[0], 0);
    }

    #[test]
    fn sharpness_one_is_identity_and_two_raises_local_contrast() {
        let img = GrayImage::from_fn(6, 5, |x, y| {
            image::Luma([if (x + y) % 3 == 0 { 200 } else { 40 }])
        });
        assert_eq!(adjust_sharpness(&img, 1.0), img);
        let sharp = adjust_sharpness(&img, 2.0);
        // The border is untouched; inside, bright pixels get brighter, dark darker.
        assert_eq!(sharp.get_pixel(0, 0), img.get_pixel(0, 0));
        assert!(sharp.get_pixel(3, 3)[0] >= 200 && sharp.get_pixel(2, 2)[0] <= 40);
    }
}
