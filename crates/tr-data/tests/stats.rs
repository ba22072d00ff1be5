//! Data module statistics on tiny in-memory datasets.
#![cfg(feature = "full")]

use std::sync::Arc;

use image::GrayImage;
use tr_data::datasets::{DataModule, Dataset, PoolInfo, Sample, Target, TargetKind};
use tr_data::{DataStats, SplitStats};
use tr_data::{Result, Vocabulary};

/// Fixed targets with 4x2 images. `get` only works for sample 0, so the
/// statistics must read every other target through `target`.
struct Fixed(Vec<Target>);

impl Dataset for Fixed {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, index: usize, _aug_seed: u64) -> Result<Sample> {
        assert_eq!(index, 0, "stats decoded an image beyond the first");
        Ok(Sample {
            image: GrayImage::new(4, 2),
            target: self.0[0].clone(),
        })
    }

    fn target(&self, index: usize) -> Result<Target> {
        Ok(self.0[index].clone())
    }
}

fn module(kind: TargetKind, vocab: Vocabulary, splits: [Vec<Target>; 3]) -> DataModule {
    let [train, val, test] = splits;
    DataModule {
        name: "tiny".into(),
        vocab,
        input_shape: [1, 2, 4],
        target_kind: kind,
        output_len: (kind == TargetKind::Sequence).then_some(6),
        train: Arc::new(Fixed(train)),
        val: Arc::new(Fixed(val)),
        test: Arc::new(Fixed(test)),
        notes: vec!["carved from somewhere".into()],
        pool: None,
        crops: None,
    }
}

#[test]
fn class_counts_per_split() {
    let c = |v: &[u32]| v.iter().map(|&x| Target::Class(x)).collect::<Vec<_>>();
    let mut m = module(
        TargetKind::Class,
        Vocabulary::digits(),
        [c(&[0, 1, 1, 2, 1]), c(&[2, 9]), vec![]],
    );
    m.pool = Some(PoolInfo {
        source: "a test pool".into(),
        samples: 12_345,
        classes: 4,
    });
    let s = DataStats::compute(&m).unwrap();
    let sizes: Vec<_> = s
        .splits
        .iter()
        .map(|s| (s.split.as_str(), s.samples))
        .collect();
    assert_eq!(sizes, vec![("train", 5), ("val", 2), ("test", 0)]);
    assert_eq!(s.splits[0].counts, vec![1, 3, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(s.splits[1].counts, vec![0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(s.total_counts(), vec![1, 3, 2, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(s.splits[0].first_image, Some((2, 4)));
    assert_eq!(s.splits[2].first_image, None);
    assert!(s.splits[0].label_lengths.is_empty());
    assert_eq!(s.total_samples(), 7);

    let report = s.to_string();
    assert!(
        report.contains("tiny: class targets, 10-symbol vocabulary, input (C, H, W) = (1, 2, 4)"),
        "{report}"
    );
    assert!(report.contains("note: carved from somewhere"), "{report}");
    assert!(
        report.contains("pool: 12,345 samples in 4 classes (a test pool)"),
        "{report}"
    );
    assert_eq!(s.pool.as_ref().unwrap().samples, 12_345);
    assert!(report.contains("train           5  2x4"), "{report}");
    // Class '1': 3 in train, 0 in val and test, 3 in total, the longest bar.
    let line = report.lines().find(|l| l.starts_with("'1'")).unwrap();
    assert_eq!(
        line.split_whitespace().take(5).collect::<Vec<_>>(),
        vec!["'1'", "3", "0", "0", "3"]
    );
    assert_eq!(line.chars().filter(|&c| c == '█').count(), 32);
}

#[test]
fn sequence_lengths_and_symbol_frequencies() {
    let v = Vocabulary::emnist();
    let seq = |t: &str| Target::Sequence(v.encode_padded(t, 6, true).unwrap());
    let m = module(
        TargetKind::Sequence,
        v.clone(),
        [
            vec![seq("ab"), seq("abba"), seq("")],
            vec![seq("a b")],
            vec![seq("zz")],
        ],
    );
    let s = DataStats::compute(&m).unwrap();
    assert_eq!(s.splits[0].label_lengths, vec![1, 0, 1, 0, 1]);
    assert_eq!(s.splits[0].length_summary(), Some((0, 2.0, 4)));
    assert_eq!(s.splits[1].label_lengths, vec![0, 0, 0, 1]);
    let total = s.total_counts();
    let at = |c: char| total[v.char_index(c).unwrap() as usize];
    assert_eq!(
        (at('a'), at('b'), at(' '), at('z'), at('c')),
        (4, 4, 1, 2, 0)
    );
    // Special tokens are never counted.
    assert_eq!(&total[..4], &[0, 0, 0, 0]);

    let report = s.to_string();
    assert!(report.contains("sequence targets of length 6"), "{report}");
    assert!(report.contains("train  min 0, mean 2.0, max 4"), "{report}");
    let a = report.lines().find(|l| l.starts_with("'a'")).unwrap();
    assert_eq!(
        a.split_whitespace().take(3).collect::<Vec<_>>(),
        vec!["'a'", "4", "36.4%"]
    );
    assert!(
        report.contains("never used:") && report.contains("'c'"),
        "{report}"
    );
}

#[test]
fn bad_targets_name_split_and_sample() {
    let v = Vocabulary::digits();
    let m = module(
        TargetKind::Class,
        v.clone(),
        [vec![Target::Class(1), Target::Class(12)], vec![], vec![]],
    );
    let err = DataStats::compute(&m).unwrap_err().to_string();
    assert!(
        err.contains("sample 1") && err.contains("train split") && err.contains("label 12"),
        "{err}"
    );
    let ds = Fixed(vec![Target::Class(0), Target::Sequence(vec![1])]);
    let err = SplitStats::compute("val", &ds, &v, TargetKind::Class)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sample 1") && err.contains("val split") && err.contains("Class"),
        "{err}"
    );
}

#[test]
fn large_splits_are_counted_exactly_in_parallel() {
    let targets: Vec<Target> = (0..50_000u32).map(|i| Target::Class(i % 7)).collect();
    let v = Vocabulary::from_symbols((0..7).map(|i| i.to_string())).unwrap();
    let s = SplitStats::compute("train", &Fixed(targets), &v, TargetKind::Class).unwrap();
    assert_eq!(s.counts, vec![7143, 7143, 7143, 7143, 7143, 7143, 7142]);
}
