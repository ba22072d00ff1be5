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
    let mut mid = vec![0f32; nh * w];
    for (oy, (left, weights)) in taps(h, nh).into_iter().enumerate() {
        let out = &mut mid[oy * w..(oy + 1) * w];
        for (k, &wt) in weights.iter().enumerate() {
            let row = &src[(left + k) * w..(left + k + 1) * w];
            for (o, &v) in out.iter_mut().zip(row) {
                *o += f32::from(v) * wt;
            }
        }
    }

    // Horizontal: nw values per row.
    let columns = taps(w, nw);
    let mut out = vec![0u8; nw * nh];
    for (row, dst) in mid.chunks_exact(w).zip(out.chunks_exact_mut(nw)) {
        for (d, (left, weights)) in dst.iter_mut().zip(&columns) {
            let acc: f32 = row[*left..*left + weights.len()]
                .iter()
                .zip(weights)
                .map(|(&v, &wt)| v * wt)
                .sum();
            *d = acc.round().clamp(0.0, 255.0) as u8;
        }
    }
    GrayImage::from_raw(nw as u32, nh as u32, out)
        .unwrap_or_else(|| GrayImage::new(nw as u32, nh as u32))
}

/// For each of `n_out` outputs: the first input index and the normalised weights.
fn taps(n_in: usize, n_out: usize) -> Vec<(usize, Vec<f32>)> {
    let ratio = n_in as f32 / n_out as f32;
    let sratio = ratio.max(1.0);
    let support = sratio; // the triangle's support is 1, widened when shrinking
    (0..n_out)
        .map(|o| {
            let centre = (o as f32 + 0.5) * ratio;
            let left = ((centre - support).floor() as i64).clamp(0, n_in as i64 - 1) as usize;
            let right =
                ((centre + support).ceil() as i64).clamp(left as i64 + 1, n_in as i64) as usize;
            let centre = centre - 0.5;
            let mut weights: Vec<f32> = (left..right)
                .map(|i| (1.0 - ((i as f32 - centre) / sratio).abs()).max(0.0))
                .collect();
            let sum: f32 = weights.iter().sum();
            if sum > 0.0 {
                weights.iter_mut().for_each(|x| *x /= sum);
            }
            (left, weights)
        })
        .collect()
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
