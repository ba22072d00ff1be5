//! Preprocessing: from what users have to what the model was trained on,
//! one step per module (see [`Preprocessing`] for the steps).

pub(crate) mod geometry;
pub(crate) mod grey;
pub(crate) mod image_input;
pub(crate) mod polarity;

use serde::{Deserialize, Serialize};

pub use image_input::{load_image, load_image_file, DEFAULT_MAX_PIXELS};
pub use polarity::Polarity;

/// Preprocessing settings of a recogniser.
///
/// From what users have (files or [`image::DynamicImage`]s of any size and
/// colour type) to what the model was trained on (`(B, 1, H, W)` `f32` in
/// `[0, 1]`, bright ink on black):
///
/// | step | produces |
/// |---|---|
/// | decode (pixel limit checked on the header first), EXIF orientation ([`load_image`]) | `DynamicImage`, `W × H` upright |
/// | colour / 16-bit / alpha → grey | `GrayImage` `W × H` `u8` |
/// | polarity detection, inversion, contrast stretch ([`Polarity`]) | `GrayImage` `W × H`, bright ink on black |
/// | resize to model height, pad or cut into windows; or fit a page | `GrayImage`s of exactly `W_m × H_m` |
/// | to tensor (`tr_data::images_to_tensor`) | `(B, 1, H_m, W_m)` `f32` in `[0, 1]` |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preprocessing {
    /// Images with more pixels are refused (by [`load_image`] before
    /// decoding, by the recognisers before any work). Default 64 megapixels.
    pub max_pixels: u64,
    /// Ink polarity: detected by default.
    pub polarity: Polarity,
    /// Stretch background to 0 and ink to 255 (see [`Polarity`]).
    pub stretch_contrast: bool,
    /// Overlap of the windows a very wide line is cut into, in pixels at
    /// model height; `None` = 1/8 of the model width.
    pub window_overlap: Option<u32>,
}

impl Default for Preprocessing {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
            polarity: Polarity::Auto,
            stretch_contrast: true,
            window_overlap: None,
        }
    }
}

impl Preprocessing {
    /// No polarity detection and no contrast stretch: for images already in
    /// the training polarity (e.g. the training data itself).
    pub fn as_trained() -> Self {
        Self {
            polarity: Polarity::BrightInk,
            stretch_contrast: false,
            ..Self::default()
        }
    }
}
