//! Sample sheets: a grid of images with their labels written under them,
//! as an RGB picture.
//!
//! Used by `htr data show` (image + decoded label, see [`Tile::labelled`])
//! and by the trainer's validation sheets (image + `pred:` / `true:`, the
//! prediction in red and the tile framed in red when it is wrong, see
//! [`Tile::prediction`]). Text uses the public-domain 8×8 bitmap font of the
//! `font8x8` crate, scaled up ([`GridOptions::text_scale`], 2× by default);
//! small images are scaled up too, so 28×28 characters, 28×896 lines and
//! 56×1024 lines all come out legible. By default images are inverted to
//! dark ink on the white sheet (the data itself is ink-bright-on-black).

use std::path::Path;

use font8x8::{UnicodeFonts, BASIC_FONTS, LATIN_FONTS};
use image::{GrayImage, Rgb, RgbImage};

use crate::error::{Error, Result};

/// Sheet background.
pub const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
/// Ordinary text.
pub const INK: Rgb<u8> = Rgb([20, 20, 20]);
/// A correct prediction.
pub const CORRECT: Rgb<u8> = Rgb([0, 120, 0]);
/// A wrong prediction and its frame.
pub const WRONG: Rgb<u8> = Rgb([210, 20, 20]);
/// The thin frame around every image, marking its extent on the sheet.
const IMAGE_FRAME: Rgb<u8> = Rgb([190, 190, 190]);
/// Sheets above this many pixels are refused (about 300 MB of RGB).
const MAX_PIXELS: u64 = 100_000_000;

/// One line of text under an image (`\n` starts a new line; long lines wrap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caption {
    pub text: String,
    pub color: Rgb<u8>,
}

impl Caption {
    /// Text in the ordinary ink colour.
    pub fn plain(text: impl Into<String>) -> Self {
        Self::colored(text, INK)
    }

    /// Text in `color`.
    pub fn colored(text: impl Into<String>, color: Rgb<u8>) -> Self {
        Self {
            text: text.into(),
            color,
        }
    }
}

/// One cell of the grid: an image (ink bright on black), its captions and an
/// optional coloured frame around the whole cell.
#[derive(Clone, Debug)]
pub struct Tile {
    pub image: GrayImage,
    pub captions: Vec<Caption>,
    pub frame: Option<Rgb<u8>>,
}

impl Tile {
    /// An image with its label.
    pub fn labelled(image: GrayImage, label: &str) -> Self {
        Self {
            image,
            captions: vec![Caption::plain(label)],
            frame: None,
        }
    }

    /// An image with a model's prediction and the truth: `pred:` in green
    /// when it equals the truth, otherwise in red with a red frame.
    pub fn prediction(image: GrayImage, predicted: &str, truth: &str) -> Self {
        let right = predicted == truth;
        Self {
            image,
            captions: vec![
                Caption::colored(
                    format!("pred: {predicted}"),
                    if right { CORRECT } else { WRONG },
                ),
                Caption::plain(format!("true: {truth}")),
            ],
            frame: (!right).then_some(WRONG),
        }
    }
}

/// How [`render_grid`] lays the tiles out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridOptions {
    /// Tiles per row; `None`: about as many rows as columns in pixels.
    pub columns: Option<usize>,
    /// Integer upscaling of images; `None`: 2× for images whose larger
    /// side is at most 32 px, 1× otherwise.
    pub image_scale: Option<u32>,
    /// Integer upscaling of the 8×8 font (2 → 16 px glyphs).
    pub text_scale: u32,
    /// Draw images dark-on-white (`true`) or as stored, bright-on-black.
    pub invert: bool,
    /// Captions wrap at this many characters (or the image width, if wider).
    pub wrap_chars: usize,
    /// Pixels around and between cells.
    pub padding: u32,
}

impl Default for GridOptions {
    fn default() -> Self {
        Self {
            columns: None,
            image_scale: None,
            text_scale: 2,
            invert: true,
            wrap_chars: 48,
            padding: 8,
        }
    }
}

/// Draws `tiles` in a grid on a white RGB sheet (see the module docs).
pub fn render_grid(tiles: &[Tile], opts: &GridOptions) -> Result<RgbImage> {
    if tiles.is_empty() {
        return Err(Error::invalid("sample grid", "no samples to draw"));
    }
    if opts.text_scale == 0 || opts.image_scale == Some(0) || opts.columns == Some(0) {
        return Err(Error::invalid(
            "sample grid",
            "columns, image scale and text scale must be at least 1",
        ));
    }
    let glyph = 8 * opts.text_scale;
    let line_h = 10 * opts.text_scale;
    let max_side = tiles
        .iter()
        .map(|t| t.image.width().max(t.image.height()))
        .max()
        .unwrap_or(1);
    let scale = opts
        .image_scale
        .unwrap_or(if max_side <= 32 { 2 } else { 1 });
    // Images get a 1 px frame on each side.
    let max_img_w = tiles
        .iter()
        .map(|t| t.image.width() * scale + 2)
        .max()
        .unwrap_or(0);
    let wrap_w = max_img_w.max(opts.wrap_chars as u32 * glyph).max(glyph);
    let wrap_at = (wrap_w / glyph) as usize;

    let laid: Vec<Vec<(String, Rgb<u8>)>> = tiles
        .iter()
        .map(|t| {
            t.captions
                .iter()
                .flat_map(|c| {
                    wrap(&c.text, wrap_at)
                        .into_iter()
                        .map(move |l| (l, c.color))
                })
                .collect()
        })
        .collect();
    let text_w = laid
        .iter()
        .flatten()
        .map(|(l, _)| l.chars().count() as u32 * glyph)
        .max()
        .unwrap_or(0);
    let cell_w = max_img_w.max(text_w);
    let gap = opts.text_scale * 2;
    let cell_h: Vec<u32> = tiles
        .iter()
        .zip(&laid)
        .map(|(t, lines)| t.image.height() * scale + 2 + gap + lines.len() as u32 * line_h)
        .collect();

    let n = tiles.len();
    let columns = opts.columns.unwrap_or_else(|| {
        let mean_h = cell_h.iter().map(|&h| f64::from(h)).sum::<f64>() / n as f64;
        let c = (n as f64 * mean_h / f64::from(cell_w.max(1)))
            .sqrt()
            .round() as usize;
        c.clamp(1, n)
    });
    let row_h: Vec<u32> = cell_h
        .chunks(columns)
        .map(|r| r.iter().copied().max().unwrap_or(0))
        .collect();
    let pad = opts.padding;
    let width = u64::from(pad) + columns.min(n) as u64 * u64::from(cell_w + pad);
    let height = u64::from(pad) + row_h.iter().map(|&h| u64::from(h + pad)).sum::<u64>();
    if width * height > MAX_PIXELS {
        return Err(Error::invalid(
            "sample grid",
            format!("a {width}x{height} sheet is too large; draw fewer or smaller samples"),
        ));
    }
    let mut sheet = RgbImage::from_pixel(width as u32, height as u32, BACKGROUND);

    let mut y = pad;
    for (r, (row_tiles, row_lines)) in tiles.chunks(columns).zip(laid.chunks(columns)).enumerate() {
        for (c, (tile, lines)) in row_tiles.iter().zip(row_lines).enumerate() {
            let x = pad + c as u32 * (cell_w + pad);
            if let Some(color) = tile.frame {
                // The frame sits in the padding around the cell.
                let half = (pad / 2).max(1);
                frame(
                    &mut sheet,
                    x.saturating_sub(half),
                    y.saturating_sub(half),
                    cell_w + 2 * half,
                    row_h[r] + 2 * half,
                    color,
                    2,
                );
            }
            let (iw, ih) = (tile.image.width() * scale, tile.image.height() * scale);
            frame(&mut sheet, x, y, iw + 2, ih + 2, IMAGE_FRAME, 1);
            blit(&mut sheet, &tile.image, x + 1, y + 1, scale, opts.invert);
            let mut ty = y + ih + 2 + gap;
            for (line, color) in lines {
                draw_text(&mut sheet, x, ty, line, opts.text_scale, *color);
                ty += line_h;
            }
        }
        y += row_h[r] + pad;
    }
    Ok(sheet)
}

/// Writes `sheet` as a PNG file.
pub fn save_png(sheet: &RgbImage, path: &Path) -> Result<()> {
    sheet
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| match e {
            image::ImageError::IoError(io) => Error::io(path, io),
            other => Error::format(path, format!("cannot write PNG: {other}")),
        })
}

/// Pixel size `(width, height)` of one line of `text` drawn by [`draw_text`].
pub fn text_size(text: &str, scale: u32) -> (u32, u32) {
    (text.chars().count() as u32 * 8 * scale, 8 * scale)
}

/// Draws one line of `text` with its top-left corner at `(x, y)`, each font
/// pixel a `scale`×`scale` square; pixels outside the image are skipped.
/// Characters the font lacks are drawn as an outlined box.
pub fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, scale: u32, color: Rgb<u8>) {
    for (k, ch) in text.chars().enumerate() {
        let rows = glyph(ch);
        let gx = x + k as u32 * 8 * scale;
        for (row, bits) in rows.iter().enumerate() {
            for col in 0..8u32 {
                // font8x8 stores the leftmost pixel in the lowest bit.
                if bits & (1 << col) != 0 {
                    fill(
                        img,
                        gx + col * scale,
                        y + row as u32 * scale,
                        scale,
                        scale,
                        color,
                    );
                }
            }
        }
    }
}

fn glyph(ch: char) -> [u8; 8] {
    if ch == ' ' {
        return [0; 8];
    }
    BASIC_FONTS
        .get(ch)
        .filter(|g| !ch.is_control() && g.iter().any(|&b| b != 0))
        .or_else(|| LATIN_FONTS.get(ch))
        .unwrap_or([0x7e, 0x42, 0x42, 0x42, 0x42, 0x42, 0x7e, 0x00])
}

/// Splits at `\n` and wraps every line at `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    text.split('\n')
        .flat_map(|line| {
            let chars: Vec<char> = line.chars().collect();
            if chars.is_empty() {
                vec![String::new()]
            } else {
                chars.chunks(width).map(|c| c.iter().collect()).collect()
            }
        })
        .collect()
}

fn blit(sheet: &mut RgbImage, img: &GrayImage, x0: u32, y0: u32, scale: u32, invert: bool) {
    for (x, y, p) in img.enumerate_pixels() {
        let v = if invert { 255 - p.0[0] } else { p.0[0] };
        fill(
            sheet,
            x0 + x * scale,
            y0 + y * scale,
            scale,
            scale,
            Rgb([v, v, v]),
        );
    }
}

fn fill(img: &mut RgbImage, x0: u32, y0: u32, w: u32, h: u32, color: Rgb<u8>) {
    let (x1, y1) = ((x0 + w).min(img.width()), (y0 + h).min(img.height()));
    for y in y0..y1 {
        for x in x0..x1 {
            img.put_pixel(x, y, color);
        }
    }
}

/// An outline of `thickness` px just inside the `w`×`h` box at `(x, y)`.
fn frame(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: Rgb<u8>, thickness: u32) {
    let t = thickness.min(w).min(h);
    fill(img, x, y, w, t, color);
    fill(img, x, (y + h).saturating_sub(t), w, t, color);
    fill(img, x, y, t, h, color);
    fill(img, (x + w).saturating_sub(t), y, t, h, color);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_width_and_newlines() {
        assert_eq!(wrap("abcdefg", 3), vec!["abc", "def", "g"]);
        assert_eq!(wrap("ab\n\ncd", 5), vec!["ab", "", "cd"]);
        assert_eq!(wrap("", 5), vec![""]);
    }

    #[test]
    fn glyphs_exist_for_the_vocabulary() {
        for ch in crate::vocab::emnist_chars().chain(crate::vocab::IAM_EXTRA_CHARS.chars()) {
            if ch != ' ' {
                assert!(
                    glyph(ch).iter().any(|&b| b != 0),
                    "{ch:?} has an empty glyph"
                );
            }
        }
        assert_eq!(glyph('€')[0], 0x7e);
    }
}
