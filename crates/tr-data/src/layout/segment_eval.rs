//! Line detection scores: predicted line polygons against ground-truth
//! ones, matched one to one at an IoU threshold (0.5 is the usual one),
//! giving precision, recall and F1.
//!
//! IoU is measured on pixels: both polygons are rasterised (even-odd,
//! pixel centres, as the cropper does) over their joint box, each axis
//! reduced to at most 512 samples (IoU is unchanged by an axis scaling). Matching is greedy by descending IoU
//! — each prediction and each truth used at most once — which is exact
//! whenever IoU ≥ 0.5 (a polygon cannot overlap two disjoint-ish lines that
//! much each) and is what detection benchmarks do.

use super::geometry::{BBox, Point};
use super::mask::rasterize;

/// Intersection over union of two polygons (0 when either has no area).
pub fn polygon_iou(a: &[Point], b: &[Point]) -> f32 {
    let (Some(ba), Some(bb)) = (BBox::of_points(a), BBox::of_points(b)) else {
        return 0.0;
    };
    let inter = BBox {
        x0: ba.x0.max(bb.x0),
        y0: ba.y0.max(bb.y0),
        x1: ba.x1.min(bb.x1),
        y1: ba.y1.min(bb.y1),
    };
    if inter.width() <= 0.0 || inter.height() <= 0.0 {
        return 0.0;
    }
    let u = ba.union(&bb);
    // Each axis on its own: area ratios (so IoU) survive an axis scaling.
    let sx = (512.0 / u.width().max(1.0)).min(1.0);
    let sy = (512.0 / u.height().max(1.0)).min(1.0);
    let map = |p: &[Point]| -> Vec<Point> {
        p.iter()
            .map(|&(x, y)| ((x - u.x0) * sx, (y - u.y0) * sy))
            .collect()
    };
    let w = (u.width() * sx).ceil() as usize + 1;
    let h = (u.height() * sy).ceil() as usize + 1;
    let ma = rasterize(&map(a), 0, 0, w, h);
    let mb = rasterize(&map(b), 0, 0, w, h);
    let (mut i, mut n) = (0usize, 0usize);
    for (&x, &y) in ma.data.iter().zip(&mb.data) {
        i += usize::from(x && y);
        n += usize::from(x || y);
    }
    if n == 0 {
        0.0
    } else {
        i as f32 / n as f32
    }
}

/// One matched pair: indices into the predictions and the truths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineMatch {
    pub predicted: usize,
    pub truth: usize,
    pub iou: f32,
}

/// Counts of one page or a whole set (they add up).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DetectionScores {
    pub predicted: usize,
    pub truth: usize,
    pub matched: usize,
}

impl DetectionScores {
    /// Matched / predicted (1 when nothing was predicted and nothing was there).
    pub fn precision(&self) -> f64 {
        ratio(self.matched, self.predicted, self.truth == 0)
    }
    /// Matched / truth.
    pub fn recall(&self) -> f64 {
        ratio(self.matched, self.truth, self.predicted == 0)
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    /// Both counts summed.
    pub fn add(&mut self, other: &DetectionScores) {
        self.predicted += other.predicted;
        self.truth += other.truth;
        self.matched += other.matched;
    }
}

fn ratio(a: usize, b: usize, empty_ok: bool) -> f64 {
    if b == 0 {
        if empty_ok {
            1.0
        } else {
            0.0
        }
    } else {
        a as f64 / b as f64
    }
}

/// Matches `predicted` to `truth` polygons one to one, greedily by IoU,
/// keeping pairs with IoU ≥ `threshold`; returns the pairs and the counts.
pub fn match_lines(
    predicted: &[Vec<Point>],
    truth: &[Vec<Point>],
    threshold: f32,
) -> (Vec<LineMatch>, DetectionScores) {
    let mut pairs = Vec::new();
    for (i, p) in predicted.iter().enumerate() {
        for (j, t) in truth.iter().enumerate() {
            let iou = polygon_iou(p, t);
            if iou >= threshold && iou > 0.0 {
                pairs.push(LineMatch {
                    predicted: i,
                    truth: j,
                    iou,
                });
            }
        }
    }
    pairs.sort_by(|a, b| b.iou.total_cmp(&a.iou));
    let mut used_p = vec![false; predicted.len()];
    let mut used_t = vec![false; truth.len()];
    let mut out = Vec::new();
    for m in pairs {
        if !used_p[m.predicted] && !used_t[m.truth] {
            used_p[m.predicted] = true;
            used_t[m.truth] = true;
            out.push(m);
        }
    }
    let scores = DetectionScores {
        predicted: predicted.len(),
        truth: truth.len(),
        matched: out.len(),
    };
    (out, scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Vec<Point> {
        BBox { x0, y0, x1, y1 }.corners()
    }

    #[test]
    fn iou_of_rectangles() {
        let a = rect(0.0, 0.0, 100.0, 20.0);
        assert!((polygon_iou(&a, &a) - 1.0).abs() < 1e-6);
        // Half overlap: 50·20 / (150·20) = 1/3.
        let b = rect(50.0, 0.0, 150.0, 20.0);
        assert!((polygon_iou(&a, &b) - 1.0 / 3.0).abs() < 0.01);
        assert_eq!(polygon_iou(&a, &rect(0.0, 30.0, 10.0, 40.0)), 0.0);
        // Large polygons are measured at reduced resolution, still close.
        let big = rect(0.0, 0.0, 2000.0, 60.0);
        let big2 = rect(0.0, 30.0, 2000.0, 90.0);
        assert!((polygon_iou(&big, &big2) - 1.0 / 3.0).abs() < 0.02);
    }

    #[test]
    fn matching_is_one_to_one() {
        let truth = vec![rect(0.0, 0.0, 100.0, 20.0), rect(0.0, 30.0, 100.0, 50.0)];
        // One good prediction, one covering both lines, one duplicate.
        let pred = vec![
            rect(0.0, 1.0, 100.0, 21.0),
            rect(0.0, 0.0, 100.0, 50.0),
            rect(0.0, 0.0, 100.0, 20.0),
        ];
        let (m, s) = match_lines(&pred, &truth, 0.5);
        assert_eq!(s.matched, 1);
        assert_eq!(m[0].predicted, 2);
        assert!((s.precision() - 1.0 / 3.0).abs() < 1e-9);
        assert!((s.recall() - 0.5).abs() < 1e-9);
        assert!((s.f1() - 0.4).abs() < 1e-9);
        let (_, none) = match_lines(&[], &[], 0.5);
        assert_eq!(none.f1(), 1.0);
    }
}
