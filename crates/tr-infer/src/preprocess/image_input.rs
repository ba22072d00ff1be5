//! Reading image bytes safely: the header is read first and an image above
//! the pixel limit is refused before a single pixel is decoded; decoding
//! then runs under an allocation limit; EXIF orientation is applied.
//!
//! Produces a [`DynamicImage`] of any colour type, upright as the camera
//! meant it (`W × H` after orientation).

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use crate::error::{Error, Result};

/// Default pixel limit: 64 megapixels.
pub const DEFAULT_MAX_PIXELS: u64 = 64_000_000;

/// Decodes `bytes` (PNG, JPEG, BMP, TIFF, WebP, GIF, PNM), named `name` in
/// errors, refusing images of more than `max_pixels` pixels before decoding.
pub fn load_image(bytes: &[u8], name: &str, max_pixels: u64) -> Result<DynamicImage> {
    if bytes.is_empty() {
        return Err(Error::image(
            name,
            "file is empty (0 bytes), expected an image",
        ));
    }
    let reader = guessed(bytes, name)?;
    if reader.format().is_none() {
        return Err(Error::image(
            name,
            format!(
                "not an image in a supported format (PNG, JPEG, BMP, TIFF, WebP, GIF, PNM); first bytes {:02x?}",
                &bytes[..bytes.len().min(8)]
            ),
        ));
    }
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| Error::image(name, format!("cannot read the image header: {e}")))?;
    check_size(name, width, height, max_pixels)?;

    let mut reader = guessed(bytes, name)?;
    let mut limits = Limits::default();
    // Room for the decoded image at 16-bit RGBA plus decoder state.
    limits.max_alloc = Some((max_pixels.saturating_mul(8)).max(1 << 26));
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| Error::image(name, format!("cannot decode: {e}")))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| {
        Error::image(
            name,
            format!("cannot decode (truncated or corrupt file?): {e}"),
        )
    })?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Reads `path` (or standard input for `-`) and decodes it with [`load_image`].
pub fn load_image_file(path: &Path, max_pixels: u64) -> Result<DynamicImage> {
    let name = path.display().to_string();
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut buf)
            .map_err(|e| Error::io("<stdin>", e))?;
        buf
    } else {
        std::fs::read(path).map_err(|e| Error::io(path, e))?
    };
    load_image(
        &bytes,
        if name == "-" { "<stdin>" } else { &name },
        max_pixels,
    )
}

/// Refuses zero-sized images and images above `max_pixels`.
pub fn check_size(name: &str, width: u32, height: u32, max_pixels: u64) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::image(
            name,
            format!("has no pixels ({width}x{height}); expected an image at least 1x1"),
        ));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(Error::TooLarge {
            name: name.to_string(),
            width,
            height,
            pixels,
            limit: max_pixels,
        });
    }
    Ok(())
}

fn guessed<'a>(bytes: &'a [u8], name: &str) -> Result<ImageReader<Cursor<&'a [u8]>>> {
    ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::image(name, format!("cannot read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, ImageFormat, Luma};

    fn png(img: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_and_limits() {
        let img = DynamicImage::ImageLuma8(GrayImage::from_fn(30, 10, |x, _| Luma([x as u8])));
        let bytes = png(&img);
        let back = load_image(&bytes, "a.png", 1000).unwrap();
        assert_eq!((back.width(), back.height()), (30, 10));
        assert_eq!(back.to_luma8(), img.to_luma8());
        let e = load_image(&bytes, "a.png", 299).unwrap_err().to_string();
        assert!(
            e.contains("a.png") && e.contains("30x10") && e.contains("299"),
            "{e}"
        );
    }
}
