//! Resizing grey line crops: the triangle (bilinear) filter of
//! `image::imageops::resize(.., FilterType::Triangle)` — widened by the
//! scale when shrinking, as PIL's `BILINEAR` that the course uses — in a
//! grey-only, row-major form several times faster than the generic one.
//!
//! Same taps and the same order (vertical pass, then horizontal, `f32` in
//! between) as `image`, so results agree with it to within one grey level.

use image::GrayImage;

/// `img` resized to `width × height` (each at least 1).
pub fn resize_triangle(img: &GrayImage, width: u32, height: u32) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (nw, nh) = (width.max(1) as usize, height.max(1) as usize);
    if w == 0 || h == 0 {
        return GrayImage::new(nw as u32, nh as u32);
    }
    let src = img.as_raw();

    // Vertical: nh rows of w values.
    let rows = taps(h, nh);
    let mut mid = vec![0f32; nh * w];
    for (oy, out) in mid.chunks_exact_mut(w).enumerate() {
        for (k, &wt) in rows.weights(oy).iter().enumerate() {
            let iy = rows.start[oy] + k;
            for (o, &v) in out.iter_mut().zip(&src[iy * w..(iy + 1) * w]) {
                *o += f32::from(v) * wt;
            }
        }
    }

    // Horizontal: nw values per row. Values and weights are non-negative, so
    // `+ 0.5` then truncation rounds half away from zero, as `round` does.
    let columns = taps(w, nw);
    let mut out = vec![0u8; nw * nh];
    for (row, dst) in mid.chunks_exact(w).zip(out.chunks_exact_mut(nw)) {
        for (ox, d) in dst.iter_mut().enumerate() {
            let weights = columns.weights(ox);
            let start = columns.start[ox];
            let acc: f32 = row[start..start + weights.len()]
                .iter()
                .zip(weights)
                .map(|(&v, &wt)| v * wt)
                .sum();
            *d = (acc + 0.5).min(255.0) as u8;
        }
    }
    GrayImage::from_raw(nw as u32, nh as u32, out)
        .unwrap_or_else(|| GrayImage::new(nw as u32, nh as u32))
}

/// Filter taps of every output: first input index and normalised weights,
/// flattened (`weights[offset[o]..offset[o + 1]]`).
struct Taps {
    start: Vec<usize>,
    offset: Vec<usize>,
    weights: Vec<f32>,
}

impl Taps {
    fn weights(&self, o: usize) -> &[f32] {
        &self.weights[self.offset[o]..self.offset[o + 1]]
    }
}

/// The taps of `n_out` outputs over `n_in` inputs (as `image`'s `Triangle`).
fn taps(n_in: usize, n_out: usize) -> Taps {
    let ratio = n_in as f32 / n_out as f32;
    let sratio = ratio.max(1.0);
    let support = sratio; // the triangle's support is 1, widened when shrinking
    let mut t = Taps {
        start: Vec::with_capacity(n_out),
        offset: vec![0],
        weights: Vec::new(),
    };
    for o in 0..n_out {
        let centre = (o as f32 + 0.5) * ratio;
        let left = ((centre - support).floor() as i64).clamp(0, n_in as i64 - 1) as usize;
        let right = ((centre + support).ceil() as i64).clamp(left as i64 + 1, n_in as i64) as usize;
        let centre = centre - 0.5;
        let first = t.weights.len();
        t.weights
            .extend((left..right).map(|i| (1.0 - ((i as f32 - centre) / sratio).abs()).max(0.0)));
        let sum: f32 = t.weights[first..].iter().sum();
        if sum > 0.0 {
            t.weights[first..].iter_mut().for_each(|x| *x /= sum);
        }
        t.start.push(left);
        t.offset.push(t.weights.len());
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::FilterType;

    fn pattern(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            image::Luma([((x * 37 + y * 91 + x * y) % 256) as u8])
        })
    }

    #[test]
    fn agrees_with_image_within_one_level() {
        for &(w, h, nw, nh) in &[
            (300, 70, 129, 30),
            (40, 10, 100, 28),
            (17, 50, 17, 28),
            (5, 5, 1, 1),
        ] {
            let img = pattern(w, h);
            let ours = resize_triangle(&img, nw, nh);
            let theirs = image::imageops::resize(&img, nw, nh, FilterType::Triangle);
            assert_eq!(ours.dimensions(), theirs.dimensions());
            let worst = ours
                .iter()
                .zip(theirs.iter())
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            assert!(worst <= 1, "{w}x{h} -> {nw}x{nh}: differs by {worst}");
        }
    }
}
