//! From a predicted line-body mask (a segmenter's per-pixel probabilities)
//! to ordered line polygons: threshold, connected components (each
//! component big enough is one line), per-slice top/bottom envelope as the
//! classical segmenter draws its polygons, a baseline along the lower edge,
//! and the same reading order (columns left to right by gaps in the
//! horizontal coverage, lines top to bottom).

use image::GrayImage;

use super::binarize::Binary;
use super::components::label;
use super::{find_columns, SegmentedLine};
use crate::layout::geometry::{BBox, Point};

/// Lines of `mask` (grey: probability × 255, same size as the page image):
/// pixels above `threshold` are line body; components under `min_area`
/// pixels are dropped.
pub fn lines_from_mask(mask: &GrayImage, threshold: u8, min_area: usize) -> Vec<SegmentedLine> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let b = Binary {
        width: w,
        height: h,
        ink: mask.as_raw().iter().map(|&v| v > threshold).collect(),
        factor: 1,
    };
    let (labels, comps) = label(&b);
    let kept: Vec<usize> = (0..comps.len())
        .filter(|&k| comps[k].area >= min_area.max(1))
        .collect();
    if kept.is_empty() {
        return Vec::new();
    }
    let mut heights: Vec<usize> = kept.iter().map(|&k| comps[k].height()).collect();
    heights.sort_unstable();
    let lh = heights[heights.len() / 2].max(2) as f32;
    let slice = lh.max(4.0);
    // Per kept component: per-slice (top, bottom) in pixels.
    let index: Vec<Option<usize>> = {
        let mut v = vec![None; comps.len()];
        for (i, &k) in kept.iter().enumerate() {
            v[k] = Some(i);
        }
        v
    };
    let mut slices: Vec<Vec<Option<(f32, f32)>>> = kept
        .iter()
        .map(|&k| vec![None; ((comps[k].x1 - comps[k].x0 + 1) as f32 / slice).ceil() as usize + 1])
        .collect();
    let mut xprof = vec![0u32; w];
    for y in 0..h {
        for x in 0..w {
            let l = labels[y * w + x];
            if l == 0 {
                continue;
            }
            let Some(i) = index[l as usize - 1] else {
                continue;
            };
            xprof[x] += 1;
            let c = &comps[kept[i]];
            let s = ((x - c.x0) as f32 / slice) as usize;
            let (t, bt) = (y as f32, y as f32 + 1.0);
            let e = &mut slices[i][s];
            *e = Some(match *e {
                None => (t, bt),
                Some((a, b)) => (a.min(t), b.max(bt)),
            });
        }
    }
    let columns = find_columns(&xprof, 3.0 * lh);
    let mut lines: Vec<(usize, f32, SegmentedLine)> = Vec::new();
    for (i, &k) in kept.iter().enumerate() {
        let c = &comps[k];
        let (x_min, x_max) = (c.x0 as f32, c.x1 as f32 + 1.0);
        let mut upper: Vec<Point> = Vec::new();
        let mut lower: Vec<Point> = Vec::new();
        let mut bottoms = Vec::new();
        for (s, v) in slices[i].iter().enumerate() {
            let Some((t, bt)) = *v else { continue };
            let xa = (x_min + s as f32 * slice).min(x_max);
            let xb = (x_min + (s + 1) as f32 * slice).min(x_max);
            upper.push((xa, t));
            upper.push((xb, t));
            lower.push((xb, bt));
            lower.push((xa, bt));
            bottoms.push(bt);
        }
        lower.reverse();
        let mut polygon = upper;
        polygon.extend(lower);
        polygon.dedup();
        let Some(bbox) = BBox::of_points(&polygon) else {
            continue;
        };
        bottoms.sort_by(f32::total_cmp);
        let yb = bottoms[bottoms.len() / 2];
        let centre = (c.x0 + c.x1) as f32 / 2.0;
        let column = columns
            .iter()
            .position(|&(_, e)| centre < e as f32)
            .unwrap_or(columns.len() - 1);
        lines.push((
            column,
            (bbox.y0 + bbox.y1) / 2.0,
            SegmentedLine {
                polygon,
                baseline: vec![(x_min, yb), (x_max, yb)],
                bbox,
                column,
            },
        ));
    }
    lines.sort_by(|a, b| {
        (a.0, a.1)
            .partial_cmp(&(b.0, b.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    lines.into_iter().map(|(_, _, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn blobs_become_lines_in_reading_order() {
        let mut m = GrayImage::new(400, 200);
        let mut fill = |x0: u32, y0: u32, x1: u32, y1: u32| {
            for y in y0..y1 {
                for x in x0..x1 {
                    m.put_pixel(x, y, Luma([220]));
                }
            }
        };
        fill(10, 100, 150, 120); // left column, second line
        fill(10, 20, 160, 40); // left column, first line
        fill(250, 20, 390, 40); // right column
        fill(300, 150, 302, 151); // a speck
        let lines = lines_from_mask(&m, 127, 20);
        assert_eq!(lines.len(), 3);
        let tops: Vec<(usize, f32)> = lines.iter().map(|l| (l.column, l.bbox.y0)).collect();
        assert_eq!(tops, vec![(0, 20.0), (0, 100.0), (1, 20.0)]);
        assert_eq!(
            lines[0].bbox,
            BBox {
                x0: 10.0,
                y0: 20.0,
                x1: 160.0,
                y1: 40.0
            }
        );
        assert!((lines[0].baseline[0].1 - 40.0).abs() < 1e-6);
        assert!(lines_from_mask(&GrayImage::new(10, 10), 127, 1).is_empty());
    }
}
