//! Classical line segmentation on synthetic pages: lines of "words" made
//! of strokes (bright ink on black), straight or skewed, one or two
//! columns; polygons checked against the drawn lines by IoU, and the
//! reading order.

use image::{GrayImage, Luma};
use tr_data::layout::{match_lines, segment_lines, BBox, Point, SegmentOptions};

/// Draws a text-like line: words of vertical strokes with an x-height body,
/// a few ascenders and descenders, from `(x0, y0)` (body top) over `width`,
/// descending by `tilt` pixels per pixel. Returns its outline (body +
/// ascenders/descenders) as drawn.
fn draw_line(
    img: &mut GrayImage,
    x0: u32,
    y0: u32,
    width: u32,
    body: u32,
    tilt: f32,
) -> Vec<Point> {
    let mut x = x0;
    let mut k = 0u32;
    while x < x0 + width {
        let word = 30 + (k * 37) % 60;
        for dx in 0..word.min(x0 + width - x) {
            let xx = x + dx;
            let shift = ((xx - x0) as f32 * tilt).round() as i64;
            let stroke = dx % 6 < 2;
            let (top, bottom) = if dx % 23 == 0 {
                (y0 as i64 - body as i64 / 2, y0 as i64 + body as i64) // ascender
            } else if dx % 29 == 0 {
                (y0 as i64, y0 as i64 + body as i64 * 3 / 2) // descender
            } else {
                (y0 as i64, y0 as i64 + body as i64)
            };
            for y in top..bottom {
                let yy = y + shift;
                let on = stroke || y == y0 as i64 || y == y0 as i64 + body as i64 - 1;
                if on && yy >= 0 && (yy as u32) < img.height() && xx < img.width() {
                    img.put_pixel(xx, yy as u32, Luma([230]));
                }
            }
        }
        x += word + 15;
        k += 1;
    }
    let dy = width as f32 * tilt;
    vec![
        (x0 as f32, y0 as f32 - body as f32 / 2.0),
        ((x0 + width) as f32, y0 as f32 - body as f32 / 2.0 + dy),
        ((x0 + width) as f32, (y0 + body * 3 / 2) as f32 + dy),
        (x0 as f32, (y0 + body * 3 / 2) as f32),
    ]
}

fn centre_y(p: &[Point]) -> f32 {
    let b = BBox::of_points(p).unwrap();
    (b.y0 + b.y1) / 2.0
}

#[test]
fn straight_lines_are_found_in_order() {
    let mut img = GrayImage::new(900, 700);
    let truth: Vec<Vec<Point>> = (0..6)
        .map(|k| draw_line(&mut img, 60, 60 + k * 100, 700 - (k % 3) * 150, 30, 0.0))
        .collect();
    let seg = segment_lines(&img, &SegmentOptions::default());
    assert_eq!(
        seg.lines.len(),
        6,
        "{:?}",
        seg.lines.iter().map(|l| l.bbox).collect::<Vec<_>>()
    );
    assert!(seg.skew_deg.abs() <= 0.2, "{}", seg.skew_deg);
    assert_eq!(seg.columns, 1);
    let polys: Vec<Vec<Point>> = seg.lines.iter().map(|l| l.polygon.clone()).collect();
    let (_, s) = match_lines(&polys, &truth, 0.5);
    assert_eq!(s.matched, 6, "{s:?}");
    assert!(polys.windows(2).all(|w| centre_y(&w[0]) < centre_y(&w[1])));
    // Baselines lie at the bottom of the body (y0 + 30), not of the descenders.
    for (l, k) in seg.lines.iter().zip(0..) {
        let want = 60.0 + k as f32 * 100.0 + 30.0;
        for &(_, y) in &l.baseline {
            assert!((y - want).abs() <= 6.0, "line {k}: baseline {y} vs {want}");
        }
    }
}

#[test]
fn skewed_page_is_deskewed() {
    let tilt = 2.5f32.to_radians().tan();
    let mut img = GrayImage::new(1000, 800);
    let truth: Vec<Vec<Point>> = (0..5)
        .map(|k| draw_line(&mut img, 50, 60 + k * 120, 850, 32, tilt))
        .collect();
    let seg = segment_lines(&img, &SegmentOptions::default());
    assert!((seg.skew_deg - 2.5).abs() <= 0.5, "{}", seg.skew_deg);
    let polys: Vec<Vec<Point>> = seg.lines.iter().map(|l| l.polygon.clone()).collect();
    let (m, s) = match_lines(&polys, &truth, 0.5);
    assert_eq!((s.predicted, s.matched), (5, 5), "{m:?}");
    // Reading order: the k-th line found is the k-th drawn.
    assert!(m.iter().all(|p| p.predicted == p.truth), "{m:?}");
}

#[test]
fn two_columns_read_left_then_right() {
    let mut img = GrayImage::new(1200, 600);
    let mut truth = Vec::new();
    for col in 0..2 {
        for k in 0..4 {
            truth.push(draw_line(
                &mut img,
                40 + col * 620,
                60 + k * 120,
                480,
                30,
                0.0,
            ));
        }
    }
    let seg = segment_lines(&img, &SegmentOptions::default());
    assert_eq!(seg.columns, 2);
    let polys: Vec<Vec<Point>> = seg.lines.iter().map(|l| l.polygon.clone()).collect();
    let (m, s) = match_lines(&polys, &truth, 0.5);
    assert_eq!((s.predicted, s.matched), (8, 8), "{m:?}");
    assert!(m.iter().all(|p| p.predicted == p.truth), "{m:?}");
    assert_eq!(
        seg.lines.iter().map(|l| l.column).collect::<Vec<_>>(),
        vec![0, 0, 0, 0, 1, 1, 1, 1]
    );
}

#[test]
fn blank_page_and_single_line() {
    let blank = GrayImage::new(500, 700);
    assert!(segment_lines(&blank, &SegmentOptions::default())
        .lines
        .is_empty());
    // Paper noise only: specks are not lines.
    let mut specks = GrayImage::new(500, 700);
    for i in 0..40 {
        specks.put_pixel((i * 97) % 500, (i * 61) % 700, Luma([200]));
    }
    assert!(segment_lines(&specks, &SegmentOptions::default())
        .lines
        .is_empty());
    let mut one = GrayImage::new(600, 70);
    let truth = draw_line(&mut one, 10, 20, 560, 30, 0.0);
    let seg = segment_lines(&one, &SegmentOptions::default());
    assert_eq!(seg.lines.len(), 1);
    let (_, s) = match_lines(&[seg.lines[0].polygon.clone()], &[truth], 0.5);
    assert_eq!(s.matched, 1);
}
