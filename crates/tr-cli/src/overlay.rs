//! `htr predict --png`: a page's line polygons and recognised text drawn
//! over its image, for people to check a reading at a glance.
//!
//! Each line's polygon is outlined (2 px, alternating blue and green so
//! neighbours stand apart) and its text written in red just above the
//! polygon's top-left corner, in the 8×8 bitmap font of
//! `tr_data::render` scaled to about a third of the line's height.

use image::{DynamicImage, Rgb, RgbImage};
use tr_data::render::draw_text;
use tr_infer::PagePrediction;

const COLOURS: [Rgb<u8>; 2] = [Rgb([30, 90, 230]), Rgb([20, 160, 60])];
const TEXT: Rgb<u8> = Rgb([210, 20, 20]);

/// The image (as RGB) with the page's lines drawn over it.
pub fn draw_page(image: &DynamicImage, page: &PagePrediction) -> RgbImage {
    let mut canvas = image.to_rgb8();
    for (i, line) in page.lines.iter().enumerate() {
        let colour = COLOURS[i % 2];
        let n = line.polygon.len();
        for k in 0..n {
            let a = line.polygon[k];
            let b = line.polygon[(k + 1) % n];
            segment(&mut canvas, a, b, colour);
        }
        let [x0, y0, _, y1] = line.bbox;
        let scale = (((y1 - y0) / 3.0 / 8.0).round() as u32).clamp(1, 6);
        let ty = (y0 - 8.0 * scale as f32 - 2.0).max(0.0) as u32;
        draw_text(
            &mut canvas,
            x0.max(0.0) as u32,
            ty,
            &line.prediction.text,
            scale,
            TEXT,
        );
    }
    canvas
}

/// A 2-pixel line from `a` to `b`, clipped to the image.
fn segment(img: &mut RgbImage, a: (f32, f32), b: (f32, f32), colour: Rgb<u8>) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil().max(1.0) as i64;
    for s in 0..=steps {
        let t = s as f32 / steps as f32;
        let x = (a.0 + t * (b.0 - a.0)).round() as i64;
        let y = (a.1 + t * (b.1 - a.1)).round() as i64;
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let (px, py) = (x + dx, y + dy);
            if px >= 0 && py >= 0 && px < w && py < h {
                img.put_pixel(px as u32, py as u32, colour);
            }
        }
    }
}
