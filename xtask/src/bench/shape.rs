//! The shape each model is benchmarked at: its training input, number of
//! classes, batch and label lengths — the same as `bench/torch_bench.py`'s
//! `MODELS`.
//!
//! `crnn`, the shipped line model, runs as it is trained on real lines
//! (`configs/real/*_crnn.yaml`): batch 16 of 1×48×768 lines, 86 classes (the
//! size of the Hooker vocabulary; which symbols they are does not matter for
//! timing), labels of 16–48 symbols (Hooker's lines have 30 on average,
//! median 32). Every other model runs at its course data
//! ([`tr_models::default_spec`]: line-cnn and line-cnn-lstm on 1×28×896
//! EMNIST lines, 83 classes, labels of 16–32) with batch 32.
//!
//! The sequence-to-sequence models are trained with teacher forcing on
//! `<S>` + label + `<E>` targets padded with `<P>` to the data's
//! `output_len`, so their labels are two shorter: `line-cnn-transformer`
//! (lab 4) on EMNIST lines with batch 32, labels of 16–30;
//! `resnet-transformer` on its 1×576×640 IAM paragraphs, 682 tokens, with
//! batch [`PARAGRAPH_BATCH`] (a CPU cannot train it at the course's batch).

use anyhow::{bail, Result};
use tr_data::registry::Variant;
use tr_data::Vocabulary;
use tr_models::{default_spec, CrnnConfig, DataSpec, ModelConfig, Task};

/// Registry name of the shipped line model.
pub const CRNN: &str = <CrnnConfig as Variant<ModelConfig>>::NAME;

/// Batch of the models other than `crnn`.
pub const DEFAULT_BATCH: usize = 32;
/// Training batch of `crnn` (`configs/real/*_crnn.yaml`).
pub const CRNN_BATCH: usize = 16;
/// Default batch of `resnet-transformer` (paragraph images).
pub const PARAGRAPH_BATCH: usize = 2;
/// Shortest label of a batch; the longest is [`BenchShape::label_len`].
pub const MIN_LABEL: usize = 16;

/// What one model is benchmarked on.
#[derive(Debug, Clone)]
pub struct BenchShape {
    /// Input shape and vocabulary (its size is the number of classes).
    pub spec: DataSpec,
    /// Training batch.
    pub batch: usize,
    /// Longest label; labels are `MIN_LABEL..=label_len` symbols long.
    pub label_len: usize,
    /// Teacher-forced cross-entropy (`<S>`/`<E>` targets) instead of CTC.
    pub seq2seq: bool,
}

impl BenchShape {
    /// The shape of `model`; `batch` overrides the model's batch.
    pub fn of(model: &str, batch: Option<usize>) -> Result<Self> {
        let seq2seq = ModelConfig::by_name(model)?.kind().task() == Task::Seq2Seq;
        let (spec, default_batch, label_len) = if model == CRNN {
            let mut symbols = Vocabulary::emnist().symbols().to_vec();
            symbols.extend(["£", "é", "§"].map(String::from));
            let vocab = Vocabulary::from_symbols(symbols)?;
            (DataSpec::new([1, 48, 768], vocab, Some(48)), CRNN_BATCH, 48)
        } else {
            let spec = default_spec(model)?;
            let output_len = spec.output_len.unwrap_or(32);
            // `<S>` and `<E>` take two of a seq2seq target's positions.
            let label_len = if seq2seq {
                output_len.saturating_sub(2)
            } else {
                output_len
            };
            let batch = if spec.reads_paragraphs() {
                PARAGRAPH_BATCH
            } else {
                DEFAULT_BATCH
            };
            (spec, batch, label_len)
        };
        if label_len < MIN_LABEL {
            bail!("{model}: labels of at most {label_len} symbols, the benchmark needs {MIN_LABEL}")
        }
        Ok(Self {
            spec,
            batch: batch.unwrap_or(default_batch),
            label_len,
            seq2seq,
        })
    }

    /// Label length of each item of the batch: `MIN_LABEL..=label_len`.
    pub fn target_lengths(&self) -> Vec<usize> {
        let span = self.label_len - MIN_LABEL + 1;
        (0..self.batch)
            .map(|i| MIN_LABEL + (i * 7) % span)
            .collect()
    }

    /// `crnn: batch 16, 1x48x768 lines, 86 classes, labels 16-48`.
    /// `(B, output_len)` teacher-forcing targets of a seq2seq model: `<S>`,
    /// the row's [`Self::target_lengths`] labels (from `labels`, row-major
    /// `(B, label_len)`), `<E>`, then `<P>` to the data's `output_len`.
    pub fn seq2seq_targets(&self, labels: &[u32]) -> Result<Vec<u32>> {
        let vocab = &self.spec.vocab;
        let (start, end, pad) = (vocab.start()?, vocab.end()?, vocab.pad()?);
        let len = self.label_len + 2;
        if labels.len() != self.batch * self.label_len {
            bail!(
                "{} labels for a batch of {} labels of {}",
                labels.len(),
                self.batch,
                self.label_len
            )
        }
        let mut out = Vec::with_capacity(self.batch * len);
        for (row, n) in labels.chunks(self.label_len).zip(self.target_lengths()) {
            out.push(start);
            out.extend_from_slice(&row[..n]);
            out.push(end);
            out.extend(std::iter::repeat_n(pad, len - n - 2));
        }
        Ok(out)
    }

    pub fn describe(&self, model: &str) -> String {
        let [c, h, w] = self.spec.input_shape;
        let what = if self.spec.reads_paragraphs() {
            "paragraphs"
        } else {
            "lines"
        };
        let objective = if self.seq2seq {
            ", teacher-forced cross-entropy, latency = cached greedy decoding"
        } else {
            ""
        };
        format!(
            "{model}: batch {}, {c}x{h}x{w} {what}, {} classes, labels {MIN_LABEL}-{}{objective}",
            self.batch,
            self.spec.num_classes(),
            self.label_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crnn_runs_at_its_training_shape() {
        let s = BenchShape::of("crnn", None).unwrap();
        assert_eq!(s.spec.input_shape, [1, 48, 768]);
        assert_eq!(s.spec.num_classes(), 86);
        assert_eq!(s.batch, 16);
        let lengths = s.target_lengths();
        assert_eq!(lengths.len(), 16);
        assert!(lengths.iter().all(|&l| (16..=48).contains(&l)));
        assert_eq!(lengths.iter().max(), Some(&48));
        assert_eq!(
            s.describe("crnn"),
            "crnn: batch 16, 1x48x768 lines, 86 classes, labels 16-48"
        );
    }

    #[test]
    fn course_models_keep_their_shape_and_batch_overrides() {
        for model in ["line-cnn", "line-cnn-lstm"] {
            let s = BenchShape::of(model, None).unwrap();
            assert_eq!(s.spec.input_shape, [1, 28, 896]);
            assert_eq!(s.spec.num_classes(), 83);
            assert_eq!((s.batch, s.label_len), (32, 32));
            // The lengths of the original benchmark: 16 + (i * 7) % 17.
            let old: Vec<usize> = (0..32).map(|i| 16 + (i * 7) % 17).collect();
            assert_eq!(s.target_lengths(), old);
        }
        assert_eq!(BenchShape::of("crnn", Some(4)).unwrap().batch, 4);
        assert!(BenchShape::of("no-such-model", None).is_err());
    }

    #[test]
    fn seq2seq_models_get_start_end_padded_targets() {
        let s = BenchShape::of("line-cnn-transformer", None).unwrap();
        assert!(s.seq2seq);
        assert_eq!((s.batch, s.label_len), (32, 30));
        let labels: Vec<u32> = (0..32 * 30).map(|i| 4 + (i % 70) as u32).collect();
        let t = s.seq2seq_targets(&labels).unwrap();
        assert_eq!(t.len(), 32 * 32);
        let v = &s.spec.vocab;
        let (start, end, pad) = (v.start().unwrap(), v.end().unwrap(), v.pad().unwrap());
        for (row, n) in t.chunks(32).zip(s.target_lengths()) {
            assert_eq!(row[0], start);
            assert!(row[1..=n].iter().all(|&l| l >= 4));
            assert_eq!(row[n + 1], end);
            assert!(row[n + 2..].iter().all(|&l| l == pad));
        }
        assert!(s.seq2seq_targets(&labels[1..]).is_err());
        let p = BenchShape::of("resnet-transformer", None).unwrap();
        assert_eq!((p.batch, p.label_len), (PARAGRAPH_BATCH, 680));
        assert!(p
            .describe("resnet-transformer")
            .contains("1x576x640 paragraphs"));
        assert!(!BenchShape::of("crnn", None).unwrap().seq2seq);
    }
}
