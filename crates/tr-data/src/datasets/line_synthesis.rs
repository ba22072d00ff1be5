//! Synthetic text lines from EMNIST glyphs, as the course's
//! `construct_image_from_string`.
//!
//! For a line of text: one overlap is drawn uniformly in
//! `[min_overlap, max_overlap)`; one glyph is sampled per *distinct*
//! character (in order of first occurrence; a character without glyphs —
//! the space — is blank); glyphs are pasted every `W - floor(overlap · W)`
//! pixels starting at `x_start`, rows centred vertically. Overlapping ink is
//! added with saturation at 255 (the course adds in `uint8` and wraps
//! around; we deliberately do not).
//!
//! Each line draws from its own generator `rng_for(seed, [split, index])`,
//! so [`synthesize_lines`] runs in parallel (rayon) and still gives the same
//! bytes for any thread count.

use std::collections::HashMap;

use rand::Rng;
use rayon::prelude::*;

use super::image_set::ImageSet;
use super::sentence_generator::SentenceGenerator;
use crate::error::{Error, Result};
use crate::seeding::rng_for;
use crate::vocab::Vocabulary;

/// The glyphs of one split grouped by the character they show.
pub struct GlyphPool<'a> {
    set: &'a ImageSet,
    by_char: HashMap<char, Vec<usize>>,
}

impl<'a> GlyphPool<'a> {
    /// Groups images `indices` of `set` by character (`set` labels index `vocab`).
    pub fn new(set: &'a ImageSet, indices: &[usize], vocab: &Vocabulary) -> Self {
        let mut by_char: HashMap<char, Vec<usize>> = HashMap::new();
        for &i in indices {
            let mut chars = vocab.symbol(set.label(i)).unwrap_or("").chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                by_char.entry(c).or_default().push(i);
            }
        }
        Self { set, by_char }
    }

    /// Glyph height in pixels.
    pub fn glyph_height(&self) -> usize {
        self.set.height()
    }

    /// Glyph width in pixels.
    pub fn glyph_width(&self) -> usize {
        self.set.width()
    }

    /// Indices (into the shared set) of the glyphs of `c`.
    pub fn glyphs_of(&self, c: char) -> &[usize] {
        self.by_char.get(&c).map_or(&[], Vec::as_slice)
    }
}

/// Canvas size and glyph placement of synthetic lines.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineGeometry {
    /// Canvas height in pixels.
    pub height: usize,
    /// Canvas width in pixels.
    pub width: usize,
    /// x of the first glyph (course: 0 for EMNISTLines, 28 for EMNISTLines2).
    pub x_start: usize,
    /// Overlap range between neighbouring glyphs, fractions of the glyph width.
    pub min_overlap: f64,
    pub max_overlap: f64,
}

/// Where one character of a line went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlacedGlyph {
    pub ch: char,
    /// Index into the shared image set, `None` for a blank (no glyphs for `ch`).
    pub glyph: Option<usize>,
    /// Left edge in pixels.
    pub x: usize,
    /// Top edge in pixels.
    pub y: usize,
}

/// Renders `text` onto `out` (`height × width` bytes, expected zeroed) and
/// returns the placement of every character.
pub fn render_line(
    text: &str,
    pool: &GlyphPool,
    geom: &LineGeometry,
    rng: &mut impl Rng,
    out: &mut [u8],
) -> Result<Vec<PlacedGlyph>> {
    let (gh, gw) = (pool.glyph_height(), pool.glyph_width());
    if out.len() != geom.height * geom.width || gh > geom.height {
        return Err(Error::invalid(
            "line canvas",
            format!(
                "{}×{} canvas cannot hold {gh}×{gw} glyphs",
                geom.height, geom.width
            ),
        ));
    }
    let overlap = geom.min_overlap + (geom.max_overlap - geom.min_overlap) * rng.random::<f64>();
    let step = gw - (overlap * gw as f64) as usize;
    let y = (geom.height - gh) / 2;
    let mut chosen: HashMap<char, Option<usize>> = HashMap::new();
    let mut placed = Vec::with_capacity(text.len());
    for (k, ch) in text.chars().enumerate() {
        let glyph = *chosen.entry(ch).or_insert_with(|| {
            let options = pool.glyphs_of(ch);
            (!options.is_empty()).then(|| options[rng.random_range(0..options.len())])
        });
        let x = geom.x_start + k * step;
        if x + gw > geom.width {
            return Err(Error::invalid(
                "line geometry",
                format!(
                    "line {text:?} needs {} px at overlap {overlap:.3} but the canvas is {} px wide",
                    x + gw,
                    geom.width
                ),
            ));
        }
        if let Some(g) = glyph {
            paste_saturating(pool.set.image(g), gh, gw, out, geom.width, x, y);
        }
        placed.push(PlacedGlyph { ch, glyph, x, y });
    }
    Ok(placed)
}

/// Adds a `gh × gw` glyph onto `canvas` (row stride `width`) at `(x, y)`, saturating at 255.
pub fn paste_saturating(
    glyph: &[u8],
    gh: usize,
    gw: usize,
    canvas: &mut [u8],
    width: usize,
    x: usize,
    y: usize,
) {
    for r in 0..gh {
        let row = &mut canvas[(y + r) * width + x..][..gw];
        for (dst, &src) in row.iter_mut().zip(&glyph[r * gw..(r + 1) * gw]) {
            *dst = dst.saturating_add(src);
        }
    }
}

/// `n` lines of split `split` (a small integer: 0 train, 1 val, 2 test):
/// `(images, texts)` with images `n × height × width` bytes, generated in
/// parallel with per-line generators.
pub fn synthesize_lines(
    n: usize,
    split: u64,
    seed: u64,
    sentences: &SentenceGenerator,
    pool: &GlyphPool,
    geom: &LineGeometry,
) -> Result<(Vec<u8>, Vec<String>)> {
    let size = geom.height * geom.width;
    let mut images = vec![0u8; n * size];
    let texts = images
        .par_chunks_mut(size.max(1))
        .enumerate()
        .map(|(i, out)| {
            let mut rng = rng_for(seed, &[split, i as u64]);
            let text = sentences.generate(&mut rng)?;
            render_line(&text, pool, geom, &mut rng, out)?;
            Ok(text)
        })
        .collect::<Result<Vec<String>>>()?;
    Ok((images, texts))
}
