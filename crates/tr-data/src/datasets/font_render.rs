//! Rendering one text line with a handwriting-style font: glyph outlines
//! (`ab_glyph`, TrueType/OpenType) with a random size, slant, stroke width,
//! per-glyph baseline jitter, ink strength and paper noise — bright ink on
//! black like every image of the project.
//!
//! [`Fonts`] loads every `.ttf`/`.otf` of a folder and knows which
//! characters each covers, so a text is only drawn with a font that has all
//! its glyphs (fonts lack `€`, `«»` or accents in different places) and
//! never with a caps face that would draw its lower-case letters as capitals
//! (the label would then disagree with the image).

use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec, GlyphId, PxScale, ScaleFont};
use image::GrayImage;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The fonts of a folder.
pub struct Fonts {
    fonts: Vec<(PathBuf, FontVec)>,
    /// Fonts whose lower-case letters are drawn as capitals (all-caps and
    /// small-caps faces): a line of lower-case text drawn with them would
    /// show letters its label does not have, so they only draw texts
    /// without lower-case letters.
    caps_only: Vec<bool>,
}

/// Letters without ascenders or descenders, compared with their capitals.
const X_HEIGHT_LETTERS: &str = "acemnorsuvwxz";

/// Whether `font` draws these lower-case letters (median) at least 85 % as
/// tall as their capitals — a caps face, not a handwriting hand.
fn draws_capitals(font: &FontVec) -> bool {
    let height = |c: char| {
        let id = font.glyph_id(c);
        if id == GlyphId(0) {
            return None;
        }
        let g = id.with_scale_and_position(100.0, ab_glyph::point(0.0, 0.0));
        font.outline_glyph(g).map(|o| {
            let b = o.px_bounds();
            b.max.y - b.min.y
        })
    };
    let mut ratios: Vec<f32> = X_HEIGHT_LETTERS
        .chars()
        .filter_map(|c| {
            let lower = height(c)?;
            let upper = height(c.to_ascii_uppercase())?;
            (upper > 0.0).then(|| lower / upper)
        })
        .collect();
    if ratios.is_empty() {
        return false;
    }
    ratios.sort_by(f32::total_cmp);
    ratios[ratios.len() / 2] >= 0.85
}

impl Fonts {
    /// Loads every `.ttf` and `.otf` file of `dir` (sorted by name); a file
    /// that is not a font is an error naming it.
    pub fn load(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::io(
                dir,
                std::io::Error::new(
                    e.kind(),
                    format!("{e} (data.fonts_dir must be a folder of .ttf/.otf handwriting fonts)"),
                ),
            )
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("ttf") || e.eq_ignore_ascii_case("otf"))
            })
            .collect();
        paths.sort();
        let mut fonts = Vec::with_capacity(paths.len());
        for p in paths {
            let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
            let font = FontVec::try_from_vec(bytes)
                .map_err(|e| Error::format(&p, format!("not a TrueType/OpenType font: {e}")))?;
            fonts.push((p, font));
        }
        if fonts.is_empty() {
            return Err(Error::invalid(
                "data.fonts_dir",
                format!("{} holds no .ttf or .otf font", dir.display()),
            ));
        }
        let caps_only: Vec<bool> = fonts.iter().map(|(_, f)| draws_capitals(f)).collect();
        for ((p, _), &caps) in fonts.iter().zip(&caps_only) {
            if caps {
                tracing::info!(font = %p.display(), "draws lower case as capitals: used only for texts without lower-case letters");
            }
        }
        Ok(Self { fonts, caps_only })
    }

    /// Number of fonts.
    pub fn len(&self) -> usize {
        self.fonts.len()
    }

    /// The font files, in load order.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.fonts.iter().map(|(p, _)| p.as_path())
    }

    /// Whether font `i` can draw `text` as written: a glyph for every
    /// character, and no lower-case letter when the font draws them as capitals.
    pub fn covers(&self, i: usize, text: &str) -> bool {
        let font = &self.fonts[i].1;
        if self.caps_only[i] && text.chars().any(char::is_lowercase) {
            return false;
        }
        text.chars()
            .all(|c| c.is_whitespace() || font.glyph_id(c) != GlyphId(0))
    }

    /// How many fonts draw lower case as capitals (see [`Fonts::covers`]).
    pub fn caps_only_count(&self) -> usize {
        self.caps_only.iter().filter(|&&c| c).count()
    }

    /// A font (index) covering `text`, tried in a random order; `None` when none does.
    pub fn pick(&self, text: &str, rng: &mut impl Rng) -> Option<usize> {
        let n = self.fonts.len();
        let start = rng.random_range(0..n);
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| self.covers(i, text))
    }
}

/// Ranges of the random style of a rendered line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderStyle {
    /// Font size in pixels before the line is resized to its height.
    pub size: (f32, f32),
    /// Horizontal shear (x shift per pixel of height; positive leans right).
    pub slant: (f32, f32),
    /// Stroke change in pixels: negative thins (erosion), positive thickens (dilation).
    pub stroke: (i32, i32),
    /// Vertical jitter of each glyph, as a fraction of the font size.
    pub baseline_jitter: f32,
    /// Extra letter spacing, as a fraction of the font size.
    pub spacing: (f32, f32),
    /// Ink brightness (1 = full white ink).
    pub ink: (f32, f32),
    /// Standard deviation of the paper/ink noise, in 0–255 grey levels.
    pub noise: (f32, f32),
}

impl Default for RenderStyle {
    fn default() -> Self {
        Self {
            size: (32.0, 48.0),
            slant: (-0.15, 0.35),
            stroke: (0, 1),
            baseline_jitter: 0.04,
            spacing: (-0.02, 0.08),
            ink: (0.6, 1.0),
            noise: (0.0, 12.0),
        }
    }
}

fn uniform(rng: &mut impl Rng, (lo, hi): (f32, f32)) -> f32 {
    if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    }
}

/// Draws `text` with font `font` of `fonts` in a random style; the result
/// is cropped to the ink with a margin of a tenth of the size (at least 2
/// px). `None` when nothing was drawn (only spaces, or empty glyphs).
pub fn render_line(
    fonts: &Fonts,
    font: usize,
    text: &str,
    style: &RenderStyle,
    rng: &mut impl Rng,
) -> Option<GrayImage> {
    let font = &fonts.fonts[font].1;
    let size = uniform(rng, style.size).max(4.0);
    let scaled = font.as_scaled(PxScale::from(size));
    let spacing = uniform(rng, style.spacing) * size;
    let slant = uniform(rng, style.slant);
    let (ascent, descent) = (scaled.ascent(), scaled.descent());
    let line_h = (ascent - descent).ceil().max(1.0);
    let margin = (size * 0.5).ceil();
    let advance: f32 = text
        .chars()
        .map(|c| scaled.h_advance(font.glyph_id(c)) + spacing)
        .sum();
    let width = (advance + 2.0 * margin + slant.abs() * line_h)
        .ceil()
        .max(1.0) as u32;
    let height = (line_h + 2.0 * margin).ceil() as u32;
    let mut canvas = vec![0f32; (width * height) as usize];
    let mut x = margin + if slant < 0.0 { -slant * line_h } else { 0.0 };
    let baseline = margin + ascent;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        let jitter = (rng.random::<f32>() * 2.0 - 1.0) * style.baseline_jitter * size;
        let glyph = id.with_scale_and_position(size, ab_glyph::point(x, baseline + jitter));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, cov| {
                let px = b.min.x as i64 + i64::from(gx);
                let py = b.min.y as i64 + i64::from(gy);
                // Slant: shift each row by its height above the baseline.
                let shifted = px as f32 + slant * (baseline - py as f32);
                let sx = shifted.round() as i64;
                if sx >= 0 && py >= 0 && (sx as u32) < width && (py as u32) < height {
                    let v = &mut canvas[(py as u32 * width + sx as u32) as usize];
                    *v = v.max(cov);
                }
            });
        }
        x += scaled.h_advance(id) + spacing;
        prev = Some(id);
    }
    let mut img = GrayImage::from_fn(width, height, |x, y| {
        image::Luma([(canvas[(y * width + x) as usize].clamp(0.0, 1.0) * 255.0) as u8])
    });
    let stroke = if style.stroke.1 > style.stroke.0 {
        rng.random_range(style.stroke.0..=style.stroke.1)
    } else {
        style.stroke.0
    };
    if stroke != 0 {
        img = morph(&img, stroke.unsigned_abs(), stroke > 0);
    }
    let ink = uniform(rng, style.ink).clamp(0.0, 1.0);
    let noise = uniform(rng, style.noise).max(0.0);
    for v in img.iter_mut() {
        let n = if noise > 0.0 { gauss(rng) * noise } else { 0.0 };
        *v = (f32::from(*v) * ink + n).round().clamp(0.0, 255.0) as u8;
    }
    crop_to_ink(&img, (size * 0.1).ceil().max(2.0) as u32)
}

/// A standard normal draw (Box–Muller).
fn gauss(rng: &mut impl Rng) -> f32 {
    let u1: f32 = rng.random::<f32>().max(1e-7);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Grey dilation (`grow`) or erosion by a square of radius `r`.
fn morph(img: &GrayImage, r: u32, grow: bool) -> GrayImage {
    let (w, h) = img.dimensions();
    let r = r as i64;
    GrayImage::from_fn(w, h, |x, y| {
        let mut v: u8 = if grow { 0 } else { 255 };
        for dy in -r..=r {
            for dx in -r..=r {
                let (sx, sy) = (x as i64 + dx, y as i64 + dy);
                let p = if sx < 0 || sy < 0 || sx >= w as i64 || sy >= h as i64 {
                    0
                } else {
                    img.get_pixel(sx as u32, sy as u32).0[0]
                };
                v = if grow { v.max(p) } else { v.min(p) };
            }
        }
        image::Luma([v])
    })
}

/// The box of pixels brighter than 64, grown by `margin`; `None` when there are none.
fn crop_to_ink(img: &GrayImage, margin: u32) -> Option<GrayImage> {
    let (w, h) = img.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if p.0[0] > 64 {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    if x1 < x0 || y1 < y0 {
        return None;
    }
    let (x0, y0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (x1, y1) = ((x1 + margin).min(w - 1), (y1 + margin).min(h - 1));
    Some(image::imageops::crop_imm(img, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image())
}
