//! Grey-level histograms of 8-bit images and their percentiles, shared by
//! the page binarisation (`layout::segment`) and tr-infer's polarity step.

/// Pixel count per grey level.
pub fn histogram(pixels: &[u8]) -> [u64; 256] {
    let mut h = [0u64; 256];
    for &v in pixels {
        h[v as usize] += 1;
    }
    h
}

/// Smallest level with at least fraction `q` of the pixels at or below it.
pub fn percentile(hist: &[u64; 256], q: f64) -> u8 {
    let total: u64 = hist.iter().sum();
    let want = ((total as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (level, &n) in hist.iter().enumerate() {
        seen += n;
        if seen >= want {
            return level as u8;
        }
    }
    255
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_extremes() {
        let h = histogram(&[0, 10, 10, 200]);
        assert_eq!(percentile(&h, 0.5), 10);
        assert_eq!(percentile(&h, 0.0), 0);
        assert_eq!(percentile(&h, 1.0), 200);
    }
}
