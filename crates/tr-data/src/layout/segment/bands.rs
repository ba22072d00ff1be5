//! Line bands of one column: the horizontal projection profile (deskewed
//! `y'`), smoothed, cut where it falls below a fraction of its typical
//! level; bands much taller than the median are split at their deepest
//! valley (touching lines), bands much thinner are merged into the nearer
//! neighbour (dots, accents, stray descenders).

/// A band `[top, bottom)` of profile bins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Band {
    pub top: usize,
    pub bottom: usize,
}

impl Band {
    pub fn height(&self) -> usize {
        self.bottom - self.top
    }
    pub fn centre(&self) -> f32 {
        (self.top + self.bottom) as f32 / 2.0
    }
}

/// Box smoothing of radius `r`.
fn smooth(profile: &[f32], r: usize) -> Vec<f32> {
    let n = profile.len();
    let mut prefix = vec![0f32; n + 1];
    for (i, &v) in profile.iter().enumerate() {
        prefix[i + 1] = prefix[i] + v;
    }
    (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(r), (i + r + 1).min(n));
            (prefix[b] - prefix[a]) / (b - a) as f32
        })
        .collect()
}

/// The bands of `profile` (ink per `y'` bin); `line_height` is the
/// estimated height of a line's body in bins.
pub fn find_bands(profile: &[f32], line_height: f32) -> Vec<Band> {
    let p = smooth(profile, (line_height / 4.0).round().max(1.0) as usize);
    let nonzero: Vec<f32> = p.iter().copied().filter(|&v| v > 0.0).collect();
    if nonzero.is_empty() {
        return Vec::new();
    }
    let mean = nonzero.iter().sum::<f32>() / nonzero.len() as f32;
    let t = 0.25 * mean;
    let mut bands = Vec::new();
    let mut start = None;
    for (i, &v) in p.iter().enumerate() {
        match (v > t, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                bands.push(Band { top: s, bottom: i });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        bands.push(Band {
            top: s,
            bottom: p.len(),
        });
    }
    let bands = split_tall(bands, &p);
    merge_thin(bands)
}

fn median_height(bands: &[Band]) -> f32 {
    let mut h: Vec<usize> = bands.iter().map(Band::height).collect();
    h.sort_unstable();
    h.get(h.len() / 2).copied().unwrap_or(1) as f32
}

/// Splits bands taller than 1.7× the median at the profile's minimum in
/// their middle 60%, repeatedly.
fn split_tall(bands: Vec<Band>, p: &[f32]) -> Vec<Band> {
    if bands.len() < 2 {
        // One band: its height is the only reference; still split if it
        // clearly holds several lines (two strong peaks), below.
        return bands.into_iter().flat_map(|b| split_peaks(b, p)).collect();
    }
    let mh = median_height(&bands);
    let mut out = Vec::new();
    let mut work: Vec<Band> = bands.into_iter().rev().collect();
    while let Some(b) = work.pop() {
        if (b.height() as f32) <= 1.7 * mh || b.height() < 6 {
            out.push(b);
            continue;
        }
        let lo = b.top + b.height() / 5;
        let hi = b.bottom - b.height() / 5;
        let cut = (lo..hi)
            .min_by(|&a, &c| p[a].total_cmp(&p[c]))
            .unwrap_or((b.top + b.bottom) / 2);
        work.push(Band {
            top: cut,
            bottom: b.bottom,
        });
        work.push(Band {
            top: b.top,
            bottom: cut,
        });
    }
    out
}

/// A lone band with two clear peaks (valley below half the lower peak) is two lines.
fn split_peaks(b: Band, p: &[f32]) -> Vec<Band> {
    let seg = &p[b.top..b.bottom];
    if seg.len() < 8 {
        return vec![b];
    }
    let third = seg.len() / 3;
    let (a_i, a) = max_in(seg, 0, third);
    let (c_i, c) = max_in(seg, seg.len() - third, seg.len());
    let (v_i, v) = (a_i..=c_i)
        .map(|i| (i, seg[i]))
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap_or((0, f32::MAX));
    if v < 0.5 * a.min(c) {
        let cut = b.top + v_i;
        let mut out = split_peaks(
            Band {
                top: b.top,
                bottom: cut,
            },
            p,
        );
        out.extend(split_peaks(
            Band {
                top: cut,
                bottom: b.bottom,
            },
            p,
        ));
        out
    } else {
        vec![b]
    }
}

fn max_in(seg: &[f32], from: usize, to: usize) -> (usize, f32) {
    (from..to)
        .map(|i| (i, seg[i]))
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap_or((from, 0.0))
}

/// Bands thinner than 0.35× the median join the nearer neighbour.
fn merge_thin(mut bands: Vec<Band>) -> Vec<Band> {
    while bands.len() > 1 {
        let mh = median_height(&bands);
        let Some(i) = (0..bands.len())
            .filter(|&i| (bands[i].height() as f32) < 0.35 * mh)
            .min_by_key(|&i| bands[i].height())
        else {
            break;
        };
        let gap = |j: usize| -> f32 {
            let (a, b) = (bands[i.min(j)], bands[i.max(j)]);
            b.top as f32 - a.bottom as f32
        };
        let j = match (i.checked_sub(1), (i + 1 < bands.len()).then_some(i + 1)) {
            (Some(a), Some(b)) => {
                if gap(a) <= gap(b) {
                    a
                } else {
                    b
                }
            }
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        let merged = Band {
            top: bands[i].top.min(bands[j].top),
            bottom: bands[i].bottom.max(bands[j].bottom),
        };
        bands[j] = merged;
        bands.remove(i);
    }
    bands
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of ink `h` bins tall every `pitch` bins, with sparse descenders.
    fn profile(lines: usize, h: usize, pitch: usize) -> Vec<f32> {
        let mut p = vec![0f32; lines * pitch + pitch];
        for k in 0..lines {
            for i in 0..h {
                p[pitch / 2 + k * pitch + i] = 100.0;
            }
            for i in h..h + 4 {
                p[pitch / 2 + k * pitch + i] = 5.0;
            }
        }
        p
    }

    #[test]
    fn separate_lines_give_one_band_each() {
        let bands = find_bands(&profile(4, 12, 30), 12.0);
        assert_eq!(bands.len(), 4, "{bands:?}");
        assert!(bands.windows(2).all(|w| w[0].bottom <= w[1].top));
    }

    #[test]
    fn touching_lines_are_split_and_dots_merged() {
        let mut p = profile(4, 12, 30);
        // Lines 2 and 3 touch: fill the gap between them at a low level.
        for v in &mut p[15 + 30 + 12..15 + 60] {
            *v = 20.0;
        }
        // A row of dots above line 0.
        p[8] = 40.0;
        let bands = find_bands(&p, 12.0);
        assert_eq!(bands.len(), 4, "{bands:?}");
    }

    #[test]
    fn empty_profile_has_no_band() {
        assert!(find_bands(&[0.0; 50], 10.0).is_empty());
    }
}
