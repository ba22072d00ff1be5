//! Polygon masks for line crops: which pixels of a window lie inside a
//! polygon, and that set grown by a margin.
//!
//! A pixel `(i, j)` of the window is inside when its centre
//! `(x0 + i + 0.5, y0 + j + 0.5)` is inside the polygon by the even-odd rule
//! (self-intersecting outlines, which Transkribus sometimes writes, fill the
//! way SVG's `fill-rule: evenodd` does). Growing uses a square neighbourhood
//! (Chebyshev distance), two separable passes of a sliding count, both over
//! rows: `O(w·h)` whatever the margin.

use super::geometry::Point;

/// A `width × height` boolean mask, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    pub width: usize,
    pub height: usize,
    pub data: Vec<bool>,
}

impl Mask {
    /// Whether pixel `(x, y)` is set.
    #[cfg(test)]
    pub fn get(&self, x: usize, y: usize) -> bool {
        self.data[y * self.width + x]
    }

    /// Number of set pixels.
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&b| b).count()
    }
}

/// Rasterises `polygon` (pixels of the image the window is cut from) into the
/// window whose top-left pixel is `(x0, y0)` and size `width × height`.
pub fn rasterize(polygon: &[Point], x0: u32, y0: u32, width: usize, height: usize) -> Mask {
    let mut data = vec![false; width * height];
    let mut xs: Vec<f32> = Vec::with_capacity(8);
    let n = polygon.len();
    if n >= 3 {
        for j in 0..height {
            let yc = y0 as f32 + j as f32 + 0.5;
            xs.clear();
            for k in 0..n {
                let (xa, ya) = polygon[k];
                let (xb, yb) = polygon[(k + 1) % n];
                if (ya <= yc && yc < yb) || (yb <= yc && yc < ya) {
                    xs.push(xa + (yc - ya) * (xb - xa) / (yb - ya));
                }
            }
            xs.sort_by(f32::total_cmp);
            let row = &mut data[j * width..(j + 1) * width];
            for pair in xs.chunks_exact(2) {
                // Pixels whose centre x0 + i + 0.5 lies in [pair[0], pair[1]).
                let from = (pair[0] - 0.5 - x0 as f32).ceil().max(0.0) as usize;
                let to = ((pair[1] - 0.5 - x0 as f32).ceil().max(0.0) as usize).min(width);
                if from < to {
                    row[from..to].fill(true);
                }
            }
        }
    }
    Mask {
        width,
        height,
        data,
    }
}

/// The mask grown by `margin` pixels in every direction (square neighbourhood).
pub fn dilate(mask: &Mask, margin: usize) -> Mask {
    if margin == 0 {
        return mask.clone();
    }
    let (w, h) = (mask.width, mask.height);
    // Horizontal pass: a sliding count of set pixels in [x - margin, x + margin].
    let mut horizontal = vec![false; w * h];
    for y in 0..h {
        let row = &mask.data[y * w..(y + 1) * w];
        let out = &mut horizontal[y * w..(y + 1) * w];
        let mut count = row[..(margin + 1).min(w)].iter().filter(|&&b| b).count();
        for x in 0..w {
            out[x] = count > 0;
            if x + margin + 1 < w && row[x + margin + 1] {
                count += 1;
            }
            if x >= margin && row[x - margin] {
                count -= 1;
            }
        }
    }
    // Vertical pass, row-major: per-column counts over rows [y - margin, y + margin].
    let mut counts = vec![0u32; w];
    for row in horizontal.chunks_exact(w).take(margin + 1) {
        for (c, &b) in counts.iter_mut().zip(row) {
            *c += u32::from(b);
        }
    }
    let mut data = vec![false; w * h];
    for y in 0..h {
        for (o, &c) in data[y * w..(y + 1) * w].iter_mut().zip(&counts) {
            *o = c > 0;
        }
        if y + margin + 1 < h {
            let add = &horizontal[(y + margin + 1) * w..(y + margin + 2) * w];
            for (c, &b) in counts.iter_mut().zip(add) {
                *c += u32::from(b);
            }
        }
        if y >= margin {
            let sub = &horizontal[(y - margin) * w..(y - margin + 1) * w];
            for (c, &b) in counts.iter_mut().zip(sub) {
                *c -= u32::from(b);
            }
        }
    }
    Mask {
        width: w,
        height: h,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rectangle_fills_its_pixels() {
        let rect = [(2.0, 1.0), (6.0, 1.0), (6.0, 3.0), (2.0, 3.0)];
        let m = rasterize(&rect, 0, 0, 8, 5);
        assert_eq!(m.count(), 4 * 2);
        assert!(m.get(2, 1) && m.get(5, 2) && !m.get(6, 1) && !m.get(1, 1) && !m.get(2, 3));
        // The same polygon seen through a window offset by (2, 1).
        let w = rasterize(&rect, 2, 1, 4, 2);
        assert_eq!(w.count(), 8);
    }

    #[test]
    fn a_triangle_and_a_bow_tie() {
        let tri = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)];
        let m = rasterize(&tri, 0, 0, 10, 10);
        // About half of the 100 pixels.
        assert!((40..=60).contains(&m.count()), "{}", m.count());
        // Even-odd: a self-crossing outline fills both lobes.
        let bow = [(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0)];
        let b = rasterize(&bow, 0, 0, 10, 10);
        assert!(b.get(1, 5) && b.get(8, 5) && !b.get(5, 1) && !b.get(5, 8));
    }

    #[test]
    fn dilation_grows_by_the_margin() {
        let mut m = Mask {
            width: 7,
            height: 7,
            data: vec![false; 49],
        };
        m.data[3 * 7 + 3] = true;
        let d = dilate(&m, 2);
        assert_eq!(d.count(), 25);
        assert!(d.get(1, 1) && d.get(5, 5) && !d.get(0, 3));
        assert_eq!(dilate(&m, 0), m);
    }
}
