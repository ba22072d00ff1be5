//! Classical line segmentation of a page or paragraph image: no model,
//! no training, a few milliseconds per page.
//!
//! 1. **Binarise** a reduced copy (longer side about
//!    [`SegmentOptions::work_max_side`], max filter so thin strokes
//!    survive; Otsu threshold) — `binarize`.
//! 2. **Components**: 8-connected ink components; specks of under 3 pixels
//!    are noise — `components`.
//! 3. **Deskew**: the angle within ±[`SegmentOptions::max_skew_deg`] whose
//!    horizontal projection profile has the largest variance — `deskew`.
//!    Everything below works in deskewed coordinates `(x', y')`.
//! 4. **Columns**: vertical gaps in the `x'` profile wider than
//!    [`SegmentOptions::column_gap`] line heights split the page into
//!    columns, left to right.
//! 5. **Bands**: per column, the `y'` profile cut into line bands — `bands`.
//! 6. **Refinement**: every component joins the band holding its centre;
//!    a component reaching over several bands (touching lines) is split
//!    pixel by pixel at the band boundaries. A line's polygon follows its
//!    own pixels: per slice of about one line height, the top and bottom of
//!    its ink (empty slices interpolated), so ascenders and descenders stay
//!    with their line; its baseline is the lowest row of the line's dense
//!    body.
//! 7. **Reading order**: columns left to right, lines top to bottom.
//!
//! Input: grey, **bright ink on black** (the project's polarity;
//! `tr-infer` normalises scans first). Output polygons and baselines are in
//! pixels of that image. A page without ink gives no line; a one-line
//! image gives one line.

mod bands;
mod binarize;
mod components;
mod deskew;
mod from_mask;
mod orientation;

pub use from_mask::lines_from_mask;
pub use orientation::{text_orientation, TextOrientation};

use image::GrayImage;

use super::geometry::{BBox, Point};
use bands::{find_bands, Band};

/// Settings of [`segment_lines`].
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentOptions {
    /// Largest skew searched, degrees (default 5).
    pub max_skew_deg: f32,
    /// Longer side of the working copy, pixels (default 1400): larger is
    /// slower and finer.
    pub work_max_side: u32,
    /// Minimum width of a gap between columns, in line heights (default 3).
    pub column_gap: f32,
    /// Margin added around each line polygon, in line heights (default 0.1).
    pub padding: f32,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        Self {
            max_skew_deg: 5.0,
            work_max_side: 1400,
            column_gap: 3.0,
            padding: 0.1,
        }
    }
}

/// One line found on the page, in pixels of the input image.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentedLine {
    /// Outline, clockwise from the top-left.
    pub polygon: Vec<Point>,
    /// Left-to-right baseline (two points).
    pub baseline: Vec<Point>,
    pub bbox: BBox,
    /// Column index, from the left.
    pub column: usize,
}

/// What [`segment_lines`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Segmentation {
    /// Lines in reading order.
    pub lines: Vec<SegmentedLine>,
    /// Skew of the page, degrees (positive: lines descend to the right).
    pub skew_deg: f32,
    /// Number of columns.
    pub columns: usize,
    /// Estimated line height, pixels (0 without lines).
    pub line_height: f32,
}

/// Per-line accumulation at working scale, deskewed.
struct Acc {
    column: usize,
    band: Band,
    pixels: usize,
    x_min: f32,
    x_max: f32,
    /// Per slice: (top, bottom) of the line's ink.
    slices: Vec<Option<(f32, f32)>>,
    /// Ink per `y'` row, from the band's top.
    rows: Vec<u32>,
}

/// Finds the text lines of `image` (bright ink on black); see the module docs.
pub fn segment_lines(image: &GrayImage, opts: &SegmentOptions) -> Segmentation {
    let empty = |skew| Segmentation {
        lines: Vec::new(),
        skew_deg: skew,
        columns: 0,
        line_height: 0.0,
    };
    let b = binarize::binarize(image, opts.work_max_side);
    let (labels, comps) = components::label(&b);
    let keep: Vec<bool> = comps.iter().map(|c| c.area >= 3).collect();
    let mut heights: Vec<usize> = comps
        .iter()
        .zip(&keep)
        .filter(|(c, &k)| k && c.area >= 6)
        .map(|(c, _)| c.height())
        .collect();
    if heights.is_empty() {
        return empty(0.0);
    }
    heights.sort_unstable();
    let lh = (heights[heights.len() / 2] as f32).max(2.0);

    let points = deskew::ink_points(&b, 200_000);
    let skew = deskew::estimate_skew(&points, b.width, b.height, opts.max_skew_deg);
    let (s, c) = skew.to_radians().sin_cos();
    let (w, h) = (b.width, b.height);
    // Deskewed coordinates, shifted to start at 0.
    let corners = [
        (0.0, 0.0),
        (w as f32, 0.0),
        (0.0, h as f32),
        (w as f32, h as f32),
    ];
    let xp_min = corners
        .iter()
        .map(|&(x, y)| x * c + y * s)
        .fold(f32::MAX, f32::min);
    let yp_min = corners
        .iter()
        .map(|&(x, y)| y * c - x * s)
        .fold(f32::MAX, f32::min);
    let xp_len = corners
        .iter()
        .map(|&(x, y)| x * c + y * s)
        .fold(f32::MIN, f32::max)
        - xp_min;
    let yp_len = corners
        .iter()
        .map(|&(x, y)| y * c - x * s)
        .fold(f32::MIN, f32::max)
        - yp_min;
    let to_d = |x: usize, y: usize| -> (f32, f32) {
        let (x, y) = (x as f32 + 0.5, y as f32 + 0.5);
        (x * c + y * s - xp_min, y * c - x * s - yp_min)
    };
    let (nx, ny) = (xp_len.ceil() as usize + 1, yp_len.ceil() as usize + 1);

    // Columns from the x' profile.
    let mut xprof = vec![0u32; nx];
    for y in 0..h {
        for x in 0..w {
            let l = labels[y * w + x];
            if l != 0 && keep[l as usize - 1] {
                let (xp, _) = to_d(x, y);
                xprof[(xp as usize).min(nx - 1)] += 1;
            }
        }
    }
    let columns = find_columns(&xprof, (opts.column_gap * lh).max(0.03 * nx as f32));

    // Bands per column from the y' profiles.
    let col_of = |xp: f32| -> usize {
        columns
            .iter()
            .position(|&(_, b)| xp < b as f32)
            .unwrap_or(columns.len() - 1)
    };
    let mut yprof = vec![vec![0f32; ny]; columns.len()];
    for y in 0..h {
        for x in 0..w {
            let l = labels[y * w + x];
            if l != 0 && keep[l as usize - 1] {
                let (xp, yp) = to_d(x, y);
                yprof[col_of(xp)][(yp as usize).min(ny - 1)] += 1.0;
            }
        }
    }
    let bands: Vec<Vec<Band>> = yprof.iter().map(|p| find_bands(p, lh)).collect();
    if bands.iter().all(Vec::is_empty) {
        return empty(skew);
    }

    // Component centres → (column, band); components over several bands split per pixel.
    let ncomp = comps.len();
    let mut sum_x = vec![0f32; ncomp];
    let mut sum_y = vec![0f32; ncomp];
    let mut y_lo = vec![f32::MAX; ncomp];
    let mut y_hi = vec![f32::MIN; ncomp];
    for y in 0..h {
        for x in 0..w {
            let l = labels[y * w + x] as usize;
            if l != 0 {
                let (xp, yp) = to_d(x, y);
                sum_x[l - 1] += xp;
                sum_y[l - 1] += yp;
                y_lo[l - 1] = y_lo[l - 1].min(yp);
                y_hi[l - 1] = y_hi[l - 1].max(yp);
            }
        }
    }
    let mut line_ids: Vec<Vec<usize>> = Vec::new();
    let mut accs: Vec<Acc> = Vec::new();
    let slice_w = lh.max(4.0);
    for (ci, bs) in bands.iter().enumerate() {
        let (x0, x1) = columns[ci];
        let n_slices = ((x1 - x0) as f32 / slice_w).ceil() as usize + 1;
        let mut ids = Vec::new();
        for band in bs {
            ids.push(accs.len());
            accs.push(Acc {
                column: ci,
                band: *band,
                pixels: 0,
                x_min: f32::MAX,
                x_max: f32::MIN,
                slices: vec![None; n_slices],
                rows: vec![0; band.height() * 3 + 2],
            });
        }
        line_ids.push(ids);
    }
    // Which band of column `ci` a y' belongs to: the one containing it, else the nearest.
    let band_at = |ci: usize, yp: f32| -> Option<usize> {
        let bs = &bands[ci];
        if bs.is_empty() {
            return None;
        }
        let i = bs
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| band_distance(a, yp).total_cmp(&band_distance(b, yp)))
            .map(|(i, _)| i)?;
        Some(line_ids[ci][i])
    };
    let mut comp_line: Vec<Option<usize>> = vec![None; ncomp];
    let mut comp_split = vec![false; ncomp];
    let mut comp_col = vec![0usize; ncomp];
    for k in 0..ncomp {
        if !keep[k] {
            continue;
        }
        let n = comps[k].area as f32;
        let ci = col_of(sum_x[k] / n);
        comp_col[k] = ci;
        comp_line[k] = band_at(ci, sum_y[k] / n);
        let spans = bands[ci]
            .iter()
            .filter(|b| y_lo[k] < b.centre() && b.centre() < y_hi[k])
            .count();
        comp_split[k] = spans >= 2;
    }
    for y in 0..h {
        for x in 0..w {
            let l = labels[y * w + x] as usize;
            if l == 0 || !keep[l - 1] {
                continue;
            }
            let (xp, yp) = to_d(x, y);
            let line = if comp_split[l - 1] {
                band_at(comp_col[l - 1], yp)
            } else {
                comp_line[l - 1]
            };
            let Some(li) = line else { continue };
            let a = &mut accs[li];
            let (x0, _) = columns[a.column];
            a.pixels += 1;
            a.x_min = a.x_min.min(xp - 0.5);
            a.x_max = a.x_max.max(xp + 0.5);
            let si = (((xp - x0 as f32) / slice_w).max(0.0) as usize).min(a.slices.len() - 1);
            let (t, bt) = (yp - 0.5, yp + 0.5);
            a.slices[si] = Some(match a.slices[si] {
                None => (t, bt),
                Some((t0, b0)) => (t0.min(t), b0.max(bt)),
            });
            let off = yp as i64 - a.band.top as i64 + a.band.height() as i64;
            if off >= 0 && (off as usize) < a.rows.len() {
                a.rows[off as usize] += 1;
            }
        }
    }

    let mut px: Vec<usize> = accs
        .iter()
        .filter(|a| a.pixels > 0)
        .map(|a| a.pixels)
        .collect();
    px.sort_unstable();
    let median_px = px.get(px.len() / 2).copied().unwrap_or(0);
    let f = b.factor as f32;
    let (iw, ih) = (image.width() as f32, image.height() as f32);
    let back = |xp: f32, yp: f32| -> Point {
        let (xp, yp) = (xp + xp_min, yp + yp_min);
        let x = (xp * c - yp * s) * f;
        let y = (xp * s + yp * c) * f;
        (x.clamp(0.0, iw), y.clamp(0.0, ih))
    };
    let pad = opts.padding * lh;
    let mut lines = Vec::new();
    for a in &accs {
        // Specks that formed a band of their own are not lines.
        if a.pixels == 0 || (a.pixels as f32) < 0.02 * median_px as f32 {
            continue;
        }
        let (x0, _) = columns[a.column];
        let occupied: Vec<(usize, (f32, f32))> = a
            .slices
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|v| (i, v)))
            .collect();
        let (Some(&(first, _)), Some(&(last, _))) = (occupied.first(), occupied.last()) else {
            continue;
        };
        // Top/bottom per slice, interpolated over empty slices.
        let mut tb: Vec<(f32, f32)> = Vec::with_capacity(last - first + 1);
        let mut k = 0;
        for i in first..=last {
            while k + 1 < occupied.len() && occupied[k + 1].0 <= i {
                k += 1;
            }
            let (ia, (ta, ba)) = occupied[k];
            let v = if ia == i || k + 1 >= occupied.len() {
                (ta, ba)
            } else {
                let (ib, (tb_, bb)) = occupied[k + 1];
                let u = (i - ia) as f32 / (ib - ia) as f32;
                (ta + u * (tb_ - ta), ba + u * (bb - ba))
            };
            tb.push(v);
        }
        let left = a.x_min - pad;
        let right = a.x_max + pad;
        let edge = |i: usize| (x0 as f32 + i as f32 * slice_w).clamp(left, right);
        let mut upper = Vec::new();
        let mut lower = Vec::new();
        for (j, &(t, bt)) in tb.iter().enumerate() {
            let i = first + j;
            let (xa, xb) = (edge(i), edge(i + 1));
            upper.push(back(xa, t - pad));
            upper.push(back(xb, t - pad));
            lower.push(back(xb, bt + pad));
            lower.push(back(xa, bt + pad));
        }
        lower.reverse();
        let mut polygon = upper;
        polygon.extend(lower);
        polygon.dedup();
        let Some(bbox) = BBox::of_points(&polygon) else {
            continue;
        };
        // Baseline: the lowest row of the dense body (≥ 40% of the densest row).
        let peak = a.rows.iter().copied().max().unwrap_or(0);
        let body = a
            .rows
            .iter()
            .rposition(|&n| n as f32 >= 0.4 * peak as f32)
            .unwrap_or(0);
        let yb = a.band.top as f32 - a.band.height() as f32 + body as f32 + 1.0;
        let baseline = vec![back(a.x_min, yb), back(a.x_max, yb)];
        lines.push((
            a.column,
            a.band.top,
            SegmentedLine {
                polygon,
                baseline,
                bbox,
                column: a.column,
            },
        ));
    }
    lines.sort_by_key(|l| (l.0, l.1));
    // Number the columns that kept lines.
    let mut used: Vec<usize> = lines.iter().map(|l| l.0).collect();
    used.dedup();
    let lines: Vec<SegmentedLine> = lines
        .into_iter()
        .map(|(ci, _, mut l)| {
            l.column = used.iter().position(|&u| u == ci).unwrap_or(0);
            l
        })
        .collect();
    Segmentation {
        columns: used.len(),
        skew_deg: skew,
        line_height: lh * f,
        lines,
    }
}

fn band_distance(b: &Band, yp: f32) -> f32 {
    if yp < b.top as f32 {
        b.top as f32 - yp
    } else if yp >= b.bottom as f32 {
        yp - b.bottom as f32 + 1.0
    } else {
        0.0
    }
}

/// Column intervals `[x0, x1)` of the `x'` profile: cut at empty runs of
/// at least `min_gap` bins; columns with under 3% of the ink join the gap.
fn find_columns(profile: &[u32], min_gap: f32) -> Vec<(usize, usize)> {
    let total: u64 = profile.iter().map(|&v| u64::from(v)).sum();
    let (Some(first), Some(last)) = (
        profile.iter().position(|&v| v > 0),
        profile.iter().rposition(|&v| v > 0),
    ) else {
        return vec![(0, profile.len())];
    };
    let mut cols = Vec::new();
    let mut start = first;
    let mut run = 0usize;
    for (i, &v) in profile.iter().enumerate().take(last + 1).skip(first) {
        if v == 0 {
            run += 1;
        } else {
            if run as f32 >= min_gap {
                cols.push((start, i - run));
                start = i;
            }
            run = 0;
        }
    }
    cols.push((start, last + 1));
    // Too little ink to be a column: merge into the nearer neighbour.
    let ink = |c: &(usize, usize)| -> u64 { profile[c.0..c.1].iter().map(|&v| u64::from(v)).sum() };
    while cols.len() > 1 {
        let Some(i) = (0..cols.len()).find(|&i| (ink(&cols[i]) as f64) < 0.03 * total as f64)
        else {
            break;
        };
        let nearer_left = i + 1 == cols.len()
            || (i > 0 && cols[i].0 - cols[i - 1].1 <= cols[i + 1].0 - cols[i].1);
        let j = if i > 0 && nearer_left { i - 1 } else { i + 1 };
        let merged = (cols[i].0.min(cols[j].0), cols[i].1.max(cols[j].1));
        cols[j] = merged;
        cols.remove(i);
    }
    // Columns own the whole axis between their neighbours' midpoints.
    let n = cols.len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let a = if i == 0 {
            0
        } else {
            (cols[i - 1].1 + cols[i].0) / 2
        };
        let b = if i + 1 == n {
            profile.len()
        } else {
            (cols[i].1 + cols[i + 1].0) / 2
        };
        out.push((a, b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_split_at_wide_gaps_only() {
        let mut p = vec![0u32; 300];
        for v in &mut p[10..100] {
            *v = 5;
        }
        for v in &mut p[105..130] {
            *v = 5; // a word gap of 5: same column
        }
        for v in &mut p[200..290] {
            *v = 5;
        }
        let cols = find_columns(&p, 30.0);
        assert_eq!(cols, vec![(0, 165), (165, 300)]);
        assert_eq!(find_columns(&[0; 10], 3.0), vec![(0, 10)]);
    }
}
