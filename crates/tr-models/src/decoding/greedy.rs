//! Greedy (best-path) CTC decoding: the most probable class at every time
//! step, repeats collapsed, blanks dropped.
//!
//! Greedy decoding returns the labelling of the single most probable path,
//! which is not always the most probable labelling (that is what
//! [`super::beam`] searches for), but it is exact enough for training-time
//! metrics and fast.

use candle_core::{bail, DType, Device, Result, Tensor};

use super::decoded::Decoded;
use super::frames::{argmax, check_blank, frames_from_logits, Frames};

/// Greedy-decodes one sample.
///
/// Each label's confidence is its highest probability over the run of time
/// steps that produced it and its step is where that peak is (the first on
/// ties), which is where the character sits in the image for line models.
pub fn greedy_ctc(frames: &Frames, blank: u32) -> Result<Decoded> {
    check_blank(frames, blank)?;
    let mut out = Decoded::default();
    // The class of the previous time step, and whether it opened a label we
    // pushed (so a run's peak can update it).
    let mut prev: Option<usize> = None;
    for t in 0..frames.len() {
        let row = frames.step(t);
        let k = argmax(row);
        let p = row[k].exp();
        if Some(k) == prev {
            if k != blank as usize {
                let last = out.len() - 1;
                if p > out.confidences[last] {
                    out.confidences[last] = p;
                    out.steps[last] = t;
                }
            }
        } else if k != blank as usize {
            out.push(k as u32, p, t);
        }
        prev = Some(k);
    }
    Ok(out)
}

/// Greedy-decodes `(B, C, S)` logits (softmax is applied here) into one
/// [`Decoded`] per sample.
pub fn greedy_ctc_batch(logits: &Tensor, blank: u32) -> Result<Vec<Decoded>> {
    frames_from_logits(logits)?
        .iter()
        .map(|f| greedy_ctc(f, blank))
        .collect()
}

/// Labels only, computed with an on-device argmax over the class dimension of
/// `(B, C, S)` logits or log-probabilities — the cheap path for training
/// metrics, where only the `(B, S)` argmax crosses to the host.
pub fn greedy_ctc_labels(logits: &Tensor, blank: u32) -> Result<Vec<Vec<u32>>> {
    let (_b, c, _s) = logits.dims3().map_err(|_| {
        candle_core::Error::Msg(format!(
            "CTC logits: expected (B, C, S), got shape {:?}",
            logits.dims()
        ))
    })?;
    if blank as usize >= c {
        bail!("CTC decoding: blank index {blank} is outside the {c} classes of the model output");
    }
    let best = logits
        .argmax(1)?
        .to_dtype(DType::U32)?
        .to_device(&Device::Cpu)?
        .to_vec2::<u32>()?;
    Ok(best.iter().map(|row| collapse(row, blank)).collect())
}

/// Collapses repeats and drops blanks from a best path.
pub fn collapse(path: &[u32], blank: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut prev = None;
    for &k in path {
        if Some(k) != prev && k != blank {
            out.push(k);
        }
        prev = Some(k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(rows: &[&[f32]]) -> Frames {
        Frames::from_probs(&rows.iter().map(|r| r.to_vec()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn collapses_repeats_and_drops_blanks() {
        assert_eq!(collapse(&[0, 1, 1, 0, 1, 2, 2, 0], 0), vec![1, 1, 2]);
        assert_eq!(collapse(&[0, 0, 0], 0), Vec::<u32>::new());
        assert_eq!(collapse(&[], 0), Vec::<u32>::new());
    }

    #[test]
    fn reports_peak_confidence_and_step_of_each_run() {
        // Classes: 0 = blank, 1, 2. Path: 1 1 0 2 2 1 -> labels 1 2 1.
        let f = frames(&[
            &[0.1, 0.6, 0.3],
            &[0.1, 0.8, 0.1],
            &[0.7, 0.2, 0.1],
            &[0.2, 0.1, 0.7],
            &[0.1, 0.2, 0.7],
            &[0.3, 0.5, 0.2],
        ]);
        let d = greedy_ctc(&f, 0).unwrap();
        assert_eq!(d.labels, vec![1, 2, 1]);
        assert_eq!(d.steps, vec![1, 3, 5]);
        let expected = [0.8f32, 0.7, 0.5];
        for (c, e) in d.confidences.iter().zip(expected) {
            assert!((c - e).abs() < 1e-6, "{c} vs {e}");
        }
        assert!((d.confidence() - 0.8 * 0.7 * 0.5).abs() < 1e-6);
    }

    #[test]
    fn tensor_paths_agree() {
        // (B=2, C=3, S=4) logits.
        let logits = Tensor::new(
            &[
                [
                    [5f32, 0.0, 0.0, 5.0],
                    [0.0, 5.0, 5.0, 0.0],
                    [0.0, 0.0, 0.0, 0.0],
                ],
                [
                    [0f32, 5.0, 0.0, 0.0],
                    [0.0, 0.0, 5.0, 0.0],
                    [5.0, 0.0, 0.0, 5.0],
                ],
            ],
            &Device::Cpu,
        )
        .unwrap();
        let full: Vec<Vec<u32>> = greedy_ctc_batch(&logits, 0)
            .unwrap()
            .into_iter()
            .map(|d| d.labels)
            .collect();
        assert_eq!(full, vec![vec![1], vec![2, 1, 2]]);
        assert_eq!(greedy_ctc_labels(&logits, 0).unwrap(), full);
        assert!(greedy_ctc_labels(&logits, 3).is_err());
    }
}
