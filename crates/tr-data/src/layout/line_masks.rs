//! Training targets of a line segmenter: a page's lines rasterised as masks
//! at any scale — the **line body** (inside each line polygon) and the
//! **baseline** (each baseline drawn `radius` pixels thick) — as kraken
//! trains its baseline segmenter.
//!
//! Masks are grey images, 255 inside and 0 outside, `width × height`
//! pixels; page coordinates are scaled by `width / page.width` and
//! `height / page.height`. Lines without a baseline contribute none (PAGE
//! files from older tools often lack them); the body mask still has them.

use image::{GrayImage, Luma};

use super::geometry::Point;
use super::mask::rasterize;
use super::model::Page;

/// `(body, baseline)` masks of `page` at `width × height` pixels.
pub fn line_masks(page: &Page, width: u32, height: u32, radius: f32) -> (GrayImage, GrayImage) {
    let sx = width as f32 / page.width.max(1) as f32;
    let sy = height as f32 / page.height.max(1) as f32;
    let mut body = GrayImage::new(width, height);
    let mut base = GrayImage::new(width, height);
    let scale = |p: &[Point]| -> Vec<Point> { p.iter().map(|&(x, y)| (x * sx, y * sy)).collect() };
    for line in page.lines() {
        let outline = if line.polygon.len() >= 3 {
            scale(&line.polygon)
        } else {
            scale(&line.bbox.corners())
        };
        paint(&mut body, &outline);
        if let Some(b) = line.baseline.as_deref().filter(|b| b.len() >= 2) {
            let b = scale(b);
            for seg in b.windows(2) {
                paint(&mut base, &thick_segment(seg[0], seg[1], radius.max(0.5)));
            }
        }
    }
    (body, base)
}

/// The quadrilateral around segment `a`–`b`, `r` pixels to each side and
/// past each end.
fn thick_segment(a: Point, b: Point, r: f32) -> Vec<Point> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-6);
    let (ux, uy) = (dx / len * r, dy / len * r);
    let (nx, ny) = (-uy, ux);
    vec![
        (a.0 - ux + nx, a.1 - uy + ny),
        (b.0 + ux + nx, b.1 + uy + ny),
        (b.0 + ux - nx, b.1 + uy - ny),
        (a.0 - ux - nx, a.1 - uy - ny),
    ]
}

/// Sets the pixels inside `polygon` to 255 (window limited to its box).
fn paint(img: &mut GrayImage, polygon: &[Point]) {
    let (w, h) = img.dimensions();
    let Some(b) = super::geometry::BBox::of_points(polygon) else {
        return;
    };
    let b = b.clamp(w as f32, h as f32);
    let (x0, y0) = (b.x0.floor() as u32, b.y0.floor() as u32);
    let (x1, y1) = (b.x1.ceil() as u32, b.y1.ceil() as u32);
    if x1 <= x0 || y1 <= y0 {
        return;
    }
    let m = rasterize(polygon, x0, y0, (x1 - x0) as usize, (y1 - y0) as usize);
    for j in 0..m.height {
        for i in 0..m.width {
            if m.data[j * m.width + i] {
                img.put_pixel(x0 + i as u32, y0 + j as u32, Luma([255]));
            }
        }
    }
}
