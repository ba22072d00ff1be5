//! Skew by projection-profile variance: text lines tilted by `θ` give the
//! sharpest horizontal profile (peaks on lines, valleys between them) when
//! the ink is projected along `θ`. The profile's sum of squares (its
//! variance up to a constant: the total ink is the same at every angle) is
//! measured over a coarse grid of angles, then refined around the best.

use super::binarize::Binary;

/// Ink pixel coordinates at working scale, subsampled to at most `cap`.
pub fn ink_points(b: &Binary, cap: usize) -> Vec<(f32, f32)> {
    let total = b.ink.iter().filter(|&&v| v).count();
    let step = total.div_ceil(cap.max(1)).max(1);
    let mut out = Vec::with_capacity(total / step + 1);
    let mut k = 0usize;
    for (i, &v) in b.ink.iter().enumerate() {
        if v {
            if k.is_multiple_of(step) {
                out.push(((i % b.width) as f32, (i / b.width) as f32));
            }
            k += 1;
        }
    }
    out
}

/// The profile of `points` projected at `angle` radians
/// (`y' = y·cos θ − x·sin θ`, 1-pixel bins, shifted so that no bin is
/// negative).
pub fn profile(points: &[(f32, f32)], angle: f32, height: usize, width: usize) -> Vec<u32> {
    let (s, c) = angle.sin_cos();
    let offset = (width as f32 * s.abs()).ceil() as i64 + 1;
    let bins = height + 2 * offset as usize + 2;
    let mut profile = vec![0u32; bins];
    for &(x, y) in points {
        let yp = (y * c - x * s).round() as i64 + offset;
        if yp >= 0 && (yp as usize) < bins {
            profile[yp as usize] += 1;
        }
    }
    profile
}

/// Sum of squares of [`profile`].
fn score(points: &[(f32, f32)], angle: f32, height: usize, width: usize) -> f64 {
    profile(points, angle, height, width)
        .iter()
        .map(|&n| f64::from(n) * f64::from(n))
        .sum()
}

/// The skew in degrees within `±max_deg` (positive: lines descend to the
/// right, `y` grows with `x`), to a tenth of a degree.
pub fn estimate_skew(points: &[(f32, f32)], width: usize, height: usize, max_deg: f32) -> f32 {
    if points.len() < 2 || max_deg <= 0.0 {
        return 0.0;
    }
    let best_in = |from: f32, to: f32, step: f32| -> f32 {
        let mut best = (f64::MIN, 0.0f32);
        let n = ((to - from) / step).round() as i32;
        for i in 0..=n {
            let deg = from + i as f32 * step;
            let sc = score(points, deg.to_radians(), height, width);
            // Ties go to the angle nearest zero.
            if sc > best.0 || (sc == best.0 && deg.abs() < best.1.abs()) {
                best = (sc, deg);
            }
        }
        best.1
    };
    let coarse = best_in(-max_deg, max_deg, 0.5);
    let fine = best_in(coarse - 0.5, coarse + 0.5, 0.1);
    fine.clamp(-max_deg, max_deg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_tilt_of_parallel_lines() {
        // Three lines of dots rising 3° to the right... descending: y grows with x.
        let tilt = 3.0f32.to_radians().tan();
        let points: Vec<(f32, f32)> = (0..3)
            .flat_map(|k| {
                (0..300).flat_map(move |x| {
                    (0..4).map(move |dy| {
                        (
                            x as f32,
                            40.0 + 60.0 * k as f32 + dy as f32 + x as f32 * tilt,
                        )
                    })
                })
            })
            .collect();
        let deg = estimate_skew(&points, 300, 220, 5.0);
        assert!((deg - 3.0).abs() <= 0.2, "{deg}");
        let flat: Vec<(f32, f32)> = points.iter().map(|&(x, y)| (x, y - x * tilt)).collect();
        assert!(estimate_skew(&flat, 300, 220, 5.0).abs() <= 0.1);
    }
}
