//! CTC forced alignment (Viterbi): which time step each label of a given
//! labelling came from. Beam search returns labels only; aligning them to
//! the frames gives each character the same confidence and time step that
//! greedy decoding reports (its peak probability over the steps the best
//! alignment assigns to it).
//!
//! States are the labelling with blanks around every label,
//! `z = [b, l₁, b, l₂, …, lₙ, b]`; a path moves from state `s` to `s`,
//! `s + 1`, or `s + 2` when `z[s + 2]` is a label different from `z[s]`.

use candle_core::{bail, Result};
use tr_models::decoding::{Decoded, Frames};

/// Aligns `labels` (no blanks) to `frames`; returns them with confidences
/// and steps. An impossible alignment (more labels than time steps allow)
/// is an error.
pub fn align(frames: &Frames, labels: &[u32], blank: u32) -> Result<Decoded> {
    let t_len = frames.len();
    if labels.is_empty() {
        return Ok(Decoded::default());
    }
    let z: Vec<u32> = std::iter::once(blank)
        .chain(labels.iter().flat_map(|&l| [l, blank]))
        .collect();
    let n = z.len();
    const NEG: f32 = f32::NEG_INFINITY;
    let mut score = vec![NEG; n];
    let mut back = vec![0u8; t_len * n]; // how far back each state came from: 0, 1 or 2
    if t_len == 0 {
        bail!(
            "alignment: {} labels cannot be aligned to 0 time steps",
            labels.len()
        );
    }
    let row0 = frames.step(0);
    score[0] = row0[blank as usize];
    score[1] = row0[z[1] as usize];
    for t in 1..t_len {
        let row = frames.step(t);
        let prev = score.clone();
        for s in 0..n {
            let mut best = prev[s];
            let mut from = 0u8;
            if s >= 1 && prev[s - 1] > best {
                best = prev[s - 1];
                from = 1;
            }
            if s >= 2 && z[s] != blank && z[s] != z[s - 2] && prev[s - 2] > best {
                best = prev[s - 2];
                from = 2;
            }
            score[s] = if best == NEG {
                NEG
            } else {
                best + row[z[s] as usize]
            };
            back[t * n + s] = from;
        }
    }
    let mut s = if score[n - 1] >= score[n - 2] {
        n - 1
    } else {
        n - 2
    };
    if score[s] == NEG {
        bail!(
            "alignment: {} labels cannot be aligned to {t_len} time steps",
            labels.len()
        );
    }
    // Walk back, remembering each label's best step.
    let mut best: Vec<(f32, usize)> = vec![(NEG, 0); labels.len()];
    for t in (0..t_len).rev() {
        if s % 2 == 1 {
            let i = s / 2;
            let lp = frames.step(t)[z[s] as usize];
            if lp >= best[i].0 {
                best[i] = (lp, t);
            }
        }
        s -= back[t * n + s] as usize;
    }
    let mut out = Decoded::default();
    for (&l, &(lp, t)) in labels.iter().zip(&best) {
        out.labels.push(l);
        out.confidences.push(lp.exp());
        out.steps.push(t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tr_models::decoding::greedy_ctc;

    #[test]
    fn agrees_with_greedy_on_its_own_path() {
        let f = Frames::from_probs(&[
            vec![0.1, 0.6, 0.3],
            vec![0.1, 0.8, 0.1],
            vec![0.7, 0.2, 0.1],
            vec![0.2, 0.1, 0.7],
            vec![0.1, 0.2, 0.7],
            vec![0.3, 0.5, 0.2],
        ])
        .unwrap();
        let g = greedy_ctc(&f, 0).unwrap();
        let a = align(&f, &g.labels, 0).unwrap();
        assert_eq!(a.labels, g.labels);
        assert_eq!(a.steps, g.steps);
        for (x, y) in a.confidences.iter().zip(&g.confidences) {
            assert!((x - y).abs() < 1e-6);
        }
    }

    #[test]
    fn repeated_labels_need_a_blank_between() {
        let f = Frames::from_probs(&[vec![0.1, 0.9], vec![0.1, 0.9]]).unwrap();
        assert!(align(&f, &[1, 1], 0).is_err());
        let f3 = Frames::from_probs(&[vec![0.1, 0.9], vec![0.8, 0.2], vec![0.1, 0.9]]).unwrap();
        let a = align(&f3, &[1, 1], 0).unwrap();
        assert_eq!(a.steps, vec![0, 2]);
    }
}
