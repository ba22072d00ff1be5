//! Any colour type → one grey `u8` channel.
//!
//! `W × H` in, `W × H` [`GrayImage`] out. Colour is reduced to luma
//! (Rec. 709 weights, as `image` does); 16-bit and float images are scaled
//! to `0..=255`; transparent pixels are composited over white, the way a
//! viewer shows them (a transparent background behind dark ink becomes
//! paper, which [`super::polarity`] then handles).

use image::{DynamicImage, GrayImage, Luma};

/// Grey version of `image` (see the module docs).
pub fn to_grey(image: &DynamicImage) -> GrayImage {
    if !image.color().has_alpha() {
        return image.to_luma8();
    }
    let rgba = image.to_rgba32f();
    GrayImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let v = luma * a + (1.0 - a);
        Luma([(v.clamp(0.0, 1.0) * 255.0).round() as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgba};

    #[test]
    fn sixteen_bit_and_alpha() {
        let g16: ImageBuffer<Luma<u16>, Vec<u16>> =
            ImageBuffer::from_fn(2, 1, |x, _| Luma([if x == 0 { 0 } else { 65535 }]));
        let g = to_grey(&DynamicImage::ImageLuma16(g16));
        assert_eq!(g.as_raw(), &vec![0, 255]);
        // Black ink on a transparent background: ink stays black, background turns white.
        let rgba = ImageBuffer::from_fn(2, 1, |x, _| {
            if x == 0 {
                Rgba([0u8, 0, 0, 255])
            } else {
                Rgba([0u8, 0, 0, 0])
            }
        });
        let g = to_grey(&DynamicImage::ImageRgba8(rgba));
        assert_eq!(g.as_raw(), &vec![0, 255]);
    }
}
