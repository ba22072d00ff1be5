//! Positional decoding: the reading of fixed-length outputs (the course's
//! `line-cnn-simple` trained with per-position cross-entropy), where output
//! position `t` predicts label `t` of the padded target.
//!
//! Each position's label is its arg-max (the first maximum on ties, as
//! `torch.argmax`), and the labels are read as text by the content rule of
//! [`tr_data::ContentRule`]: `<S>` skipped, reading stops at the first `<E>` or
//! `<P>` (a fixed-length reader marks the end of the line with padding),
//! other special tokens skipped. The training step (`tr-lit`) reads the
//! arg-max of the logits on their device with [`positional_labels`];
//! inference (`tr-infer`) reads host log-probabilities with
//! [`decode_positional`], which also keeps each label's confidence and
//! position. Log-softmax does not move the arg-max, so both read the same
//! labels.

use candle_core::{DType, Device, Result, Tensor};
use tr_data::ContentRule;

use super::decoded::Decoded;
use super::frames::{argmax, Frames};

/// The text labels of one sample's `(T, C)` frames, with confidences
/// (`exp` of the chosen log-probability) and output positions as steps.
pub fn decode_positional(frames: &Frames, rule: &ContentRule) -> Decoded {
    let best: Vec<u32> = (0..frames.len())
        .map(|t| argmax(frames.step(t)) as u32)
        .collect();
    let mut out = Decoded::default();
    for t in rule.positions(&best) {
        let k = best[t];
        out.push(k, frames.step(t)[k as usize].exp(), t);
    }
    out
}

/// The text labels of each sample of `(B, C, S)` logits (arg-max over `C`
/// on the logits' device, then the content rule).
pub fn positional_labels(logits: &Tensor, rule: &ContentRule) -> Result<Vec<Vec<u32>>> {
    let best = logits
        .argmax(1)?
        .to_dtype(DType::U32)?
        .to_device(&Device::Cpu)?
        .to_vec2::<u32>()?;
    Ok(best.iter().map(|row| rule.content(row)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tr_data::Vocabulary;

    /// `(1, C, T)` logits whose arg-max at step `t` is `path[t]`.
    fn logits(path: &[u32], classes: usize) -> Tensor {
        let mut data = vec![0f32; classes * path.len()];
        for (t, &k) in path.iter().enumerate() {
            data[k as usize * path.len() + t] = 5.0;
        }
        Tensor::from_vec(data, (1, classes, path.len()), &Device::Cpu).unwrap()
    }

    #[test]
    fn training_and_inference_read_the_same_text() {
        let v = Vocabulary::emnist();
        let rule = ContentRule::of(&v);
        let (a, b) = (v.char_index('a').unwrap(), v.char_index('b').unwrap());
        // <S> a <B> b <P> a <E>: "ab" on both sides (the blank is not text).
        let path = [1, a, 0, b, 3, a, 2];
        let l = logits(&path, v.len());
        let train = positional_labels(&l, &rule).unwrap();
        let frames = super::super::frames_from_logits(&l).unwrap();
        let infer = decode_positional(&frames[0], &rule);
        assert_eq!(train, vec![vec![a, b]]);
        assert_eq!(infer.labels, vec![a, b]);
        assert_eq!(infer.steps, vec![1, 3]);
        assert_eq!(infer.text(&v).unwrap(), "ab");
        assert!(infer.confidences.iter().all(|&c| c > 0.5 && c <= 1.0));
    }
}
