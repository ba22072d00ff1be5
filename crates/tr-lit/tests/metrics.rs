//! CER (corpus and per-line mean), accuracies, with ignored tokens.

use tr_data::Vocabulary;
use tr_lit::{edit_distance, Accuracy, CharAccuracy, CharErrorRate};

fn enc(v: &Vocabulary, s: &str) -> Vec<u32> {
    v.encode(s).unwrap()
}

#[test]
fn cer_corpus_and_mean_differ_as_defined() {
    let v = Vocabulary::emnist();
    let mut cer = CharErrorRate::for_vocab(&v);
    // kitten -> sitting: 3 edits over 7 reference chars; "ab" vs "ab": 0 over 2.
    cer.update(
        &[enc(&v, "kitten"), enc(&v, "ab")],
        &[enc(&v, "sitting"), enc(&v, "ab")],
    );
    assert_eq!(cer.counts(), (3, 9));
    assert!((cer.corpus() - 3.0 / 9.0).abs() < 1e-12);
    assert!((cer.mean() - (3.0 / 7.0 + 0.0) / 2.0).abs() < 1e-12);
    // Accumulates across batches.
    cer.update(&[enc(&v, "")], &[enc(&v, "xyz")]);
    assert_eq!(cer.counts(), (6, 12));
    assert_eq!(cer.lines(), 3);
    assert!((cer.corpus() - 0.5).abs() < 1e-12);
    assert!((cer.mean() - (3.0 / 7.0 + 0.0 + 1.0) / 3.0).abs() < 1e-12);
    cer.reset();
    assert_eq!(
        (cer.counts(), cer.lines(), cer.corpus(), cer.mean()),
        ((0, 0), 0, 0.0, 0.0)
    );
}

#[test]
fn cer_ignores_start_end_padding_and_blank() {
    let v = Vocabulary::emnist();
    let (b, s, e, p) = (0u32, 1u32, 2u32, 3u32);
    let h = enc(&v, "cat");
    let reference = [vec![s], h.clone(), vec![e, p, p]].concat();
    let hypothesis = [vec![b, h[0], b, b], h[1..].to_vec(), vec![p]].concat();
    let mut cer = CharErrorRate::for_vocab(&v);
    cer.update_line(&hypothesis, &reference);
    assert_eq!(cer.counts(), (0, 3));
    // Without ignoring, the special tokens would count.
    let mut raw = CharErrorRate::new([]);
    raw.update_line(&hypothesis, &reference);
    assert!(raw.counts().0 > 0);
}

#[test]
fn empty_references() {
    let mut cer = CharErrorRate::new([]);
    cer.update_line(&[], &[]);
    assert_eq!((cer.corpus(), cer.mean()), (0.0, 0.0));
    cer.update_line(&[5, 6], &[]);
    // Per line: 2 edits over max(0, 1); corpus: no reference characters at all.
    assert!((cer.mean() - 1.0).abs() < 1e-12);
    assert_eq!(cer.corpus(), 2.0);
}

#[test]
fn edit_distance_examples() {
    assert_eq!(edit_distance(&[1, 2, 3], &[1, 3]), 1);
    assert_eq!(edit_distance(&[1, 2, 3], &[3, 2, 1]), 2);
    assert_eq!(edit_distance::<u32>(&[], &[]), 0);
}

#[test]
fn accuracies() {
    let v = Vocabulary::emnist();
    let mut classes = Accuracy::default();
    classes.update_classes(&[1, 2, 3, 4], &[1, 2, 0, 4]);
    assert_eq!(classes.counts(), (3, 4));
    assert!((classes.compute() - 0.75).abs() < 1e-12);
    classes.reset();
    assert_eq!(classes.compute(), 0.0);

    let mut seq = Accuracy::for_vocab(&v);
    let target = [vec![1], enc(&v, "ab"), vec![2, 3]].concat();
    seq.update(&[enc(&v, "ab"), enc(&v, "ac")], &[target.clone(), target]);
    assert_eq!(seq.counts(), (1, 2));

    let mut chars = CharAccuracy::for_vocab(&v);
    assert_eq!(chars.compute(), 0.0);
    // "abcd" vs "abxd": 3 of 4; "ab" vs "abc": 2 of 3 (missing position counts).
    chars.update(
        &[enc(&v, "abcd"), enc(&v, "ab")],
        &[enc(&v, "abxd"), enc(&v, "abc")],
    );
    assert!((chars.compute() - 5.0 / 7.0).abs() < 1e-12);
    chars.reset();
    chars.update(&[vec![]], &[vec![3, 3]]);
    assert_eq!(chars.compute(), 1.0);
}

#[test]
fn metrics_read_the_text_inference_returns() {
    // A hypothesis "a <P> b" is the text "a" for `htr predict`; the metrics
    // used to skip the <P> and score "ab".
    let v = Vocabulary::emnist();
    let (a, b, e, p) = (enc(&v, "a")[0], enc(&v, "b")[0], 2u32, 3u32);
    assert_eq!(v.decode(&[a, p, b]).unwrap(), "a");
    let mut cer = CharErrorRate::for_vocab(&v);
    cer.update_line(&[a, p, b], &[1, a, e, p]);
    cer.update_line(&[a, e, b], &[1, a, e, p]);
    assert_eq!(cer.counts(), (0, 2));
    let mut seq = Accuracy::for_vocab(&v);
    seq.update(&[vec![a, p, b]], &[vec![a]]);
    assert_eq!(seq.counts(), (1, 1));
}
