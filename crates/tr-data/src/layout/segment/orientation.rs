//! Is the text of a page running across or down? A page scanned or
//! photographed a quarter turn off has its lines running vertically: its
//! column profile (ink per `x`) then alternates between lines and gaps,
//! while its row profile is smooth. Each profile's **peakiness** — its
//! sum of squares over the square of its total, times the number of bins
//! between the first and last inked bin (1 for ink spread evenly) — is
//! measured at the best small skew (within ±[`SegmentOptions::max_skew_deg`],
//! the deskew search of the segmenter), after a moving sum over the
//! **stroke scale** (the median of the components' shorter sides) so that
//! letters and strokes, which can line up across a few lines, do not count
//! — only lines and the gaps between them do. The working image is the
//! segmenter's without its large components: ruled margins, page edges and the
//! binding's shadow run the length of a page and would make an upright
//! notebook page look turned (Peraire's pages do).
//!
//! Measured on every third page of the four shared collections (263
//! pages) with a replica of this rule (`bench/orientation_check.py`): no
//! upright page is called turned (the worst has columns 0.90 × as peaky as
//! rows); their quarter turns are called turned on 82 % of Hooker's, 98 %
//! of Copiste's and all of Stanford's and Peraire's pages (the others are
//! read as found).

use image::GrayImage;

use super::binarize::{binarize, Binary};
use super::components::label;
use super::deskew::{estimate_skew, ink_points, profile};
use super::SegmentOptions;

/// How much peakier the column profile must be than the row profile to
/// call the text vertical: a clear margin, since a false turn ruins a page
/// that was upright.
const VERTICAL_MARGIN: f64 = 1.3;

/// Fewer ink pixels than this (at working scale): too little text to tell.
const MIN_INK: usize = 400;

/// Components taller or wider than this fraction of the page are not
/// text: rules, edges, shadows.
const MAX_COMPONENT: f32 = 0.25;

/// `b` without its components larger than [`MAX_COMPONENT`] of the page,
/// and the stroke scale: the median shorter side of the components kept
/// (of 6 pixels or more), at least 1.
fn without_large_components(b: &Binary) -> (Binary, usize) {
    let (labels, comps) = label(b);
    let (mw, mh) = (
        MAX_COMPONENT * b.width as f32,
        MAX_COMPONENT * b.height as f32,
    );
    let keep: Vec<bool> = comps
        .iter()
        .map(|c| ((c.x1 - c.x0 + 1) as f32) <= mw && (c.height() as f32) <= mh)
        .collect();
    let mut sides: Vec<usize> = comps
        .iter()
        .zip(&keep)
        .filter(|(c, &k)| k && c.area >= 6)
        .map(|(c, _)| (c.x1 - c.x0 + 1).min(c.height()))
        .collect();
    sides.sort_unstable();
    let stroke = sides.get(sides.len() / 2).copied().unwrap_or(1).max(1);
    let kept = Binary {
        ink: labels
            .iter()
            .map(|&l| l != 0 && keep[l as usize - 1])
            .collect(),
        ..b.clone()
    };
    (kept, stroke)
}

/// What [`text_orientation`] measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextOrientation {
    /// Peakiness of the row profile (lines running across).
    pub rows: f64,
    /// Peakiness of the column profile (lines running down).
    pub columns: f64,
    /// The lines run down the page: it is a quarter turn off.
    pub vertical: bool,
}

/// Peakiness of the profile of `points` along `y' = y·cos θ − x·sin θ` at
/// the best angle within `max_deg`, after a moving sum over `smooth` bins
/// (see the module docs).
fn peakiness(
    points: &[(f32, f32)],
    width: usize,
    height: usize,
    max_deg: f32,
    smooth: usize,
) -> f64 {
    let deg = estimate_skew(points, width, height, max_deg);
    let profile: Vec<u64> = profile(points, deg.to_radians(), height, width)
        .into_iter()
        .map(u64::from)
        .collect();
    let mut window = 0u64;
    let profile: Vec<u64> = (0..profile.len() + smooth - 1)
        .map(|i| {
            if i < profile.len() {
                window += profile[i];
            }
            if i >= smooth {
                window -= profile[i - smooth];
            }
            window
        })
        .collect();
    let first = profile.iter().position(|&n| n > 0);
    let last = profile.iter().rposition(|&n| n > 0);
    let (Some(first), Some(last)) = (first, last) else {
        return 0.0;
    };
    let span = (last - first + 1) as f64;
    let total: u64 = profile.iter().sum();
    let squares: f64 = profile.iter().map(|&n| (n as f64).powi(2)).sum();
    squares * span / (total as f64).powi(2)
}

/// Measures whether the text of `image` (grey, bright ink on black) runs
/// across or down; see the module docs. A page with too little ink to
/// tell is taken as upright.
pub fn text_orientation(image: &GrayImage, opts: &SegmentOptions) -> TextOrientation {
    let (b, stroke) = without_large_components(&binarize(image, opts.work_max_side));
    let points = ink_points(&b, 200_000);
    if points.len() < MIN_INK {
        return TextOrientation {
            rows: 0.0,
            columns: 0.0,
            vertical: false,
        };
    }
    let rows = peakiness(&points, b.width, b.height, opts.max_skew_deg, stroke);
    let swapped: Vec<(f32, f32)> = points.iter().map(|&(x, y)| (y, x)).collect();
    let columns = peakiness(&swapped, b.height, b.width, opts.max_skew_deg, stroke);
    TextOrientation {
        rows,
        columns,
        vertical: columns > rows * VERTICAL_MARGIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{imageops, Luma};

    /// Five lines of "words" (blocks of strokes with gaps), bright on
    /// black; as in handwriting, the words and strokes of one line do not
    /// line up with those of the next.
    fn page() -> GrayImage {
        // A small hash standing in for the hand's irregularity.
        let noise = |line: u32, x: u32| {
            let mut h = (line * 7919 + x).wrapping_mul(2_654_435_761);
            h ^= h >> 13;
            h.wrapping_mul(2_246_822_519) >> 16
        };
        let mut img = GrayImage::new(600, 400);
        for line in 0..5u32 {
            let y0 = 40 + line * 70;
            for x in 30..570u32 {
                let in_word = ((x + 29 * line) / (37 + 4 * line)) % 4 != 3;
                if in_word && noise(line, x) % 3 != 0 {
                    for y in y0 + noise(line + 9, x) % 9..y0 + 28 {
                        img.put_pixel(x, y, Luma([230]));
                    }
                }
            }
        }
        img
    }

    #[test]
    fn an_upright_page_runs_across_and_a_quarter_turn_runs_down() {
        let opts = SegmentOptions::default();
        let upright = text_orientation(&page(), &opts);
        assert!(!upright.vertical, "{upright:?}");
        assert!(upright.rows > 1.5 * upright.columns, "{upright:?}");
        for turned in [imageops::rotate90(&page()), imageops::rotate270(&page())] {
            let o = text_orientation(&turned, &opts);
            assert!(o.vertical, "{o:?}");
            assert!(
                (o.columns - upright.rows).abs() < 0.05 * upright.rows,
                "{o:?}"
            );
        }
        // Upside down is still across (the recogniser tells 0 from 180).
        assert!(!text_orientation(&imageops::rotate180(&page()), &opts).vertical);
    }

    #[test]
    fn strokes_lined_up_across_two_lines_do_not_turn_a_page() {
        // Two lines of words made of evenly spaced strokes, the same in both lines.
        let mut img = GrayImage::new(700, 240);
        for k in 0..2u32 {
            let y0 = 40 + 90 * k;
            for x in (40..600u32).filter(|x| (x / 40) % 4 != 3) {
                for y in y0..y0 + 30 {
                    if x % 7 < 2 || y == y0 + 29 {
                        img.put_pixel(x, y, Luma([230]));
                    }
                }
            }
        }
        let o = text_orientation(&img, &SegmentOptions::default());
        assert!(!o.vertical, "{o:?}");
    }

    #[test]
    fn ruled_margins_and_page_edges_do_not_turn_a_page() {
        let mut img = page();
        // Two ruled margin lines and a bright binding edge, top to bottom.
        for y in 0..400 {
            for x in [20u32, 24, 580] {
                img.put_pixel(x, y, Luma([240]));
            }
            for x in 590..600 {
                img.put_pixel(x, y, Luma([200]));
            }
        }
        let o = text_orientation(&img, &SegmentOptions::default());
        assert!(!o.vertical, "{o:?}");
    }

    #[test]
    fn too_little_ink_is_upright() {
        let mut img = GrayImage::new(200, 200);
        for x in 0..10 {
            img.put_pixel(100, 50 + x, Luma([255]));
        }
        let o = text_orientation(&img, &SegmentOptions::default());
        assert!(!o.vertical);
        assert_eq!(o.rows, 0.0);
    }
}
