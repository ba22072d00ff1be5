//! Ink polarity and contrast: the models are trained on bright ink (255) on
//! a black (0) background; scans and photos are dark ink on light paper.
//!
//! `W × H` grey in, `W × H` grey out:
//!
//! 1. **Detect** ([`Polarity::Auto`]): handwriting covers a minority of the
//!    pixels, so the median grey level is the background. A median above
//!    127 means light paper: the image is inverted (`v → 255 − v`).
//! 2. **Stretch** (when enabled): the background level (median) is mapped to
//!    0 and the ink level (99.5th percentile) to 255, linearly, clamping —
//!    grey paper and faded ink become the black/white contrast of the
//!    training data. Images whose ink level is within 16 grey levels of the
//!    background (blank or flat) are left as they are.

use image::GrayImage;
use serde::{Deserialize, Serialize};
use tr_data::levels::{histogram, percentile};

/// Which way round the ink is.
///
/// The models are trained on bright ink (255) on a black (0) background;
/// scans and photos are dark ink on light paper. `W × H` grey in, `W × H`
/// grey out:
///
/// 1. **Detect** ([`Polarity::Auto`]): handwriting covers a minority of the
///    pixels, so the median grey level is the background. A median above
///    127 means light paper: the image is inverted (`v → 255 − v`).
/// 2. **Stretch** (when [`Preprocessing::stretch_contrast`](crate::Preprocessing::stretch_contrast)):
///    the background level (median) is mapped to 0 and the ink level (99.5th
///    percentile) to 255, linearly, clamping — grey paper and faded ink
///    become the black/white contrast of the training data. Images whose
///    ink level is within 16 grey levels of the background (blank or flat)
///    are left as they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Polarity {
    /// Detect from the median grey level.
    #[default]
    Auto,
    /// Bright ink on a dark background (the training polarity): kept.
    BrightInk,
    /// Dark ink on a light background: inverted.
    DarkInk,
}

/// What [`normalise`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolarityReport {
    /// The image was inverted.
    pub inverted: bool,
    /// Background and ink levels used by the stretch (after inversion), if it was applied.
    pub stretched: Option<(u8, u8)>,
    /// No pixel is more than [`NO_INK_LEVELS`] grey levels brighter than the
    /// background (after inversion: the median when the polarity is
    /// detected, the darkest level when it is declared): blank paper, a
    /// uniform image. Recognisers read such an image as empty text.
    pub no_ink: bool,
}

/// Grey levels above the background below which nothing counts as ink.
pub const NO_INK_LEVELS: u8 = 16;

/// True when `image` looks like dark ink on light paper.
pub fn is_dark_ink(image: &GrayImage) -> bool {
    percentile(&histogram(image.as_raw()), 0.5) > 127
}

/// Brings `image` to the training polarity and, if `stretch`, contrast.
pub fn normalise(
    image: &GrayImage,
    polarity: Polarity,
    stretch: bool,
) -> (GrayImage, PolarityReport) {
    let invert = match polarity {
        Polarity::Auto => is_dark_ink(image),
        Polarity::BrightInk => false,
        Polarity::DarkInk => true,
    };
    let mut out = image.clone();
    if invert {
        out.iter_mut().for_each(|v| *v = 255 - *v);
    }
    let hist = histogram(out.as_raw());
    let bg = percentile(&hist, 0.5);
    let brightest = hist.iter().rposition(|&n| n > 0).unwrap_or(0) as u8;
    // With a declared polarity the background is the dark end, whatever
    // share of the image the ink covers (a tight crop of bold writing can
    // be more than half ink, making the median the ink level).
    let paper = match polarity {
        Polarity::Auto => bg,
        Polarity::BrightInk | Polarity::DarkInk => {
            hist.iter().position(|&n| n > 0).unwrap_or(0) as u8
        }
    };
    let mut report = PolarityReport {
        inverted: invert,
        stretched: None,
        no_ink: brightest <= paper.saturating_add(NO_INK_LEVELS),
    };
    if stretch {
        let ink = percentile(&hist, 0.995);
        if ink > bg.saturating_add(16) && !(bg == 0 && ink == 255) {
            let (lo, span) = (f32::from(bg), f32::from(ink - bg));
            out.iter_mut().for_each(|v| {
                *v = ((f32::from(*v) - lo) * 255.0 / span)
                    .round()
                    .clamp(0.0, 255.0) as u8;
            });
            report.stretched = Some((bg, ink));
        }
    }
    (out, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// A stroke of `ink` on `paper` covering a fifth of the image.
    fn page(paper: u8, ink: u8) -> GrayImage {
        GrayImage::from_fn(20, 10, |x, _| Luma([if x % 5 == 0 { ink } else { paper }]))
    }

    #[test]
    fn dark_ink_is_inverted_and_stretched() {
        let (out, r) = normalise(&page(220, 40), Polarity::Auto, true);
        assert!(r.inverted);
        assert_eq!(r.stretched, Some((35, 215)));
        assert_eq!(out.get_pixel(0, 0).0[0], 255);
        assert_eq!(out.get_pixel(1, 0).0[0], 0);
    }

    #[test]
    fn training_polarity_is_untouched() {
        let img = page(0, 255);
        let (out, r) = normalise(&img, Polarity::Auto, true);
        assert_eq!(out, img);
        assert_eq!(
            r,
            PolarityReport {
                inverted: false,
                stretched: None,
                no_ink: false,
            }
        );
        // A scan and its inverted twin normalise to the same image.
        let (a, _) = normalise(&page(230, 30), Polarity::Auto, true);
        let (b, _) = normalise(&page(25, 225), Polarity::Auto, true);
        assert_eq!(a, b);
    }

    #[test]
    fn forced_polarity_and_flat_images() {
        let (out, r) = normalise(&page(0, 255), Polarity::DarkInk, false);
        assert!(r.inverted);
        assert_eq!(out.get_pixel(1, 0).0[0], 255);
        let flat = GrayImage::from_pixel(4, 4, Luma([10]));
        let (out, r) = normalise(&flat, Polarity::Auto, true);
        assert_eq!(out, flat);
        assert_eq!(r.stretched, None);
        assert!(r.no_ink);
    }

    #[test]
    fn no_ink_means_nothing_brighter_than_the_background_after_polarity() {
        // Faint paper noise: no ink, either polarity.
        let noise = GrayImage::from_fn(40, 10, |x, y| Luma([200 + ((x * 7 + y) % 9) as u8]));
        assert!(normalise(&noise, Polarity::Auto, true).1.no_ink);
        // One dot of ink among 400 pixels is ink (a comma on a line).
        let mut dot = GrayImage::from_pixel(40, 10, Luma([230]));
        dot.put_pixel(3, 4, Luma([40]));
        let (_, r) = normalise(&dot, Polarity::Auto, true);
        assert!(r.inverted && !r.no_ink);
        // Declared bright ink on black, and the image is all black: no ink.
        let black = GrayImage::from_pixel(8, 8, Luma([0]));
        assert!(normalise(&black, Polarity::BrightInk, false).1.no_ink);
        // Declared bright ink covering most of the image is still ink.
        let dense = GrayImage::from_fn(10, 4, |x, _| Luma([if x < 3 { 0 } else { 255 }]));
        assert!(!normalise(&dense, Polarity::BrightInk, false).1.no_ink);
        // Detected polarity reads the majority as paper: inverted, three columns of ink.
        let (_, r) = normalise(&dense, Polarity::Auto, false);
        assert!(r.inverted && !r.no_ink);
    }
}
