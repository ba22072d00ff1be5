//! Connected components (8-connectivity) of a binary image: two passes
//! with union–find, then per-component pixel counts and boxes.

use super::binarize::Binary;

/// One connected component at working scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// Number of pixels.
    pub area: usize,
    /// Inclusive box `x0..=x1, y0..=y1`.
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Component {
    pub fn height(&self) -> usize {
        self.y1 - self.y0 + 1
    }
}

/// The label image (`0` = background, `k` = component `k − 1`) and the components.
pub fn label(b: &Binary) -> (Vec<u32>, Vec<Component>) {
    let (w, h) = (b.width, b.height);
    let mut labels = vec![0u32; w * h];
    let mut parent: Vec<u32> = vec![0];
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for y in 0..h {
        for x in 0..w {
            if !b.ink[y * w + x] {
                continue;
            }
            let mut neighbours = [0u32; 4];
            let mut n = 0;
            if x > 0 && labels[y * w + x - 1] != 0 {
                neighbours[n] = labels[y * w + x - 1];
                n += 1;
            }
            if y > 0 {
                for dx in [-1i64, 0, 1] {
                    let nx = x as i64 + dx;
                    if nx >= 0 && (nx as usize) < w {
                        let l = labels[(y - 1) * w + nx as usize];
                        if l != 0 {
                            neighbours[n] = l;
                            n += 1;
                        }
                    }
                }
            }
            if n == 0 {
                let l = parent.len() as u32;
                parent.push(l);
                labels[y * w + x] = l;
            } else {
                let mut root = find(&mut parent, neighbours[0]);
                for &other in &neighbours[1..n] {
                    let r = find(&mut parent, other);
                    if r != root {
                        let (lo, hi) = (root.min(r), root.max(r));
                        parent[hi as usize] = lo;
                        root = lo;
                    }
                }
                labels[y * w + x] = root;
            }
        }
    }
    // Compact the roots into 1..=K.
    let mut compact = vec![0u32; parent.len()];
    let mut comps: Vec<Component> = Vec::new();
    for i in 1..parent.len() {
        let r = find(&mut parent, i as u32) as usize;
        if compact[r] == 0 {
            comps.push(Component {
                area: 0,
                x0: usize::MAX,
                y0: usize::MAX,
                x1: 0,
                y1: 0,
            });
            compact[r] = comps.len() as u32;
        }
        compact[i] = compact[r];
    }
    for y in 0..h {
        for x in 0..w {
            let l = labels[y * w + x];
            if l == 0 {
                continue;
            }
            let k = compact[l as usize];
            labels[y * w + x] = k;
            let c = &mut comps[k as usize - 1];
            c.area += 1;
            c.x0 = c.x0.min(x);
            c.y0 = c.y0.min(y);
            c.x1 = c.x1.max(x);
            c.y1 = c.y1.max(y);
        }
    }
    (labels, comps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagonal_pixels_connect_and_separate_blobs_do_not() {
        let rows = ["#..#..", ".#..#.", "......", "##...#", "#....."];
        let (w, h) = (6, rows.len());
        let ink = rows
            .iter()
            .flat_map(|r| r.chars().map(|c| c == '#'))
            .collect();
        let (labels, comps) = label(&Binary {
            width: w,
            height: h,
            ink,
            factor: 1,
        });
        assert_eq!(comps.len(), 4);
        assert_eq!(labels[0], labels[w + 1]);
        assert_eq!(labels[3], labels[w + 4]);
        assert_ne!(labels[0], labels[3]);
        let areas: Vec<usize> = comps.iter().map(|c| c.area).collect();
        assert_eq!(areas, vec![2, 2, 3, 1]);
        assert_eq!(
            (comps[2].x0, comps[2].y0, comps[2].x1, comps[2].y1),
            (0, 3, 1, 4)
        );
    }
}
