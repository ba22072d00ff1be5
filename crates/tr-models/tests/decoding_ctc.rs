//! Greedy and beam-search CTC decoding, with and without a language model.

use std::collections::HashMap;

use tr_data::Vocabulary;
use tr_models::decoding::{greedy_ctc, BeamSearch, CharNgramLm, Frames, LmWeighting};

struct Lcg(u64);
impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Probability of every labelling, summed over all C^T paths.
fn labelling_probs(frames: &Frames, blank: u32) -> HashMap<Vec<u32>, f64> {
    let (t, c) = (frames.len(), frames.num_classes());
    let mut out = HashMap::new();
    let mut path = vec![0usize; t];
    loop {
        let p: f64 = path
            .iter()
            .enumerate()
            .map(|(ti, &k)| f64::from(frames.step(ti)[k]).exp())
            .product();
        *out.entry(tr_models::decoding::collapse(
            &path.iter().map(|&k| k as u32).collect::<Vec<_>>(),
            blank,
        ))
        .or_insert(0.0) += p;
        let mut i = 0;
        while i < t {
            path[i] += 1;
            if path[i] < c {
                break;
            }
            path[i] = 0;
            i += 1;
        }
        if i == t {
            return out;
        }
    }
}

/// Frames where one random class has probability `peak` at every step.
fn confident_frames(rng: &mut Lcg, t: usize, c: usize, peak: f32) -> Frames {
    let rows: Vec<Vec<f32>> = (0..t)
        .map(|_| {
            let winner = (rng.uniform() * c as f64) as usize % c;
            let rest: Vec<f64> = (0..c).map(|_| rng.uniform() + 0.01).collect();
            let others: f64 = rest
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != winner)
                .map(|(_, v)| v)
                .sum();
            (0..c)
                .map(|k| {
                    if k == winner {
                        peak
                    } else {
                        ((1.0 - f64::from(peak)) * rest[k] / others) as f32
                    }
                })
                .collect()
        })
        .collect();
    Frames::from_probs(&rows).unwrap()
}

#[test]
fn beam_of_width_one_equals_greedy_on_confident_frames() {
    let mut rng = Lcg(1);
    for case in 0..200 {
        let frames = confident_frames(&mut rng, 12, 4, 0.9);
        let greedy = greedy_ctc(&frames, 0).unwrap();
        let beam = BeamSearch::new(1, 0).decode(&frames).unwrap();
        assert_eq!(beam.labels, greedy.labels, "case {case}");
    }
}

#[test]
fn beam_finds_the_most_probable_labelling_where_greedy_does_not() {
    // Blank 0.6 / "a" 0.4 at each of 3 steps: the best path is all blanks
    // (greedy reads ""), but "a" sums 0.688 over its six alignments against 0.216.
    let frames = Frames::from_probs(&[vec![0.6, 0.4], vec![0.6, 0.4], vec![0.6, 0.4]]).unwrap();
    let probs = labelling_probs(&frames, 0);
    let (best, best_p) = probs.iter().max_by(|a, b| a.1.total_cmp(b.1)).unwrap();
    assert_eq!(best, &vec![1]);
    assert!((probs[&vec![]] - 0.216).abs() < 1e-6);
    assert!((best_p - 0.688).abs() < 1e-6);
    assert!(greedy_ctc(&frames, 0).unwrap().labels.is_empty());
    let hyp = BeamSearch::new(4, 0).decode(&frames).unwrap();
    assert_eq!(hyp.labels, vec![1]);
    // Wide enough to keep every prefix, the beam's probability is exact.
    assert!(
        (hyp.acoustic - best_p.ln()).abs() < 1e-6,
        "{} vs {}",
        hyp.acoustic,
        best_p.ln()
    );
}

#[test]
fn wide_beam_ranks_labellings_like_brute_force() {
    let mut rng = Lcg(5);
    for case in 0..30 {
        // Flat-ish random frames, T=5, C=3: 243 paths.
        let rows: Vec<Vec<f32>> = (0..5)
            .map(|_| {
                let v: Vec<f64> = (0..3).map(|_| rng.uniform() + 0.05).collect();
                let s: f64 = v.iter().sum();
                v.iter().map(|x| (x / s) as f32).collect()
            })
            .collect();
        let frames = Frames::from_probs(&rows).unwrap();
        let probs = labelling_probs(&frames, 0);
        let (best, _) = probs.iter().max_by(|a, b| a.1.total_cmp(b.1)).unwrap();
        // 64 >= 1 + 2 + 4 + 8 + 16 + 32 prefixes: nothing is ever pruned, so the search is exact.
        let n_best = BeamSearch::new(64, 0).decode_n_best(&frames).unwrap();
        assert_eq!(&n_best[0].labels, best, "case {case}");
        for h in n_best.iter().take(5) {
            let exact = probs[&h.labels].ln();
            assert!(
                (h.acoustic - exact).abs() < 1e-5,
                "case {case} {:?}: {} vs {exact}",
                h.labels,
                h.acoustic
            );
        }
    }
}

fn line_frames(vocab: &Vocabulary, steps: &[Vec<(char, f32)>]) -> Frames {
    // Each entry is one time step: listed characters get their probability,
    // the blank gets what remains; a blank step follows each character step.
    let c = vocab.len();
    let mut rows = Vec::new();
    for step in steps {
        let mut row = vec![1e-4f32; c];
        let mut used = 0.0;
        for &(ch, p) in step {
            row[vocab.char_index(ch).unwrap() as usize] = p;
            used += p;
        }
        row[0] = 1.0 - used - 1e-4 * (c - 1 - step.len()) as f32;
        rows.push(row.clone());
        let mut blank = vec![1e-4f32; c];
        blank[0] = 1.0 - 1e-4 * (c - 1) as f32;
        rows.push(blank);
    }
    Frames::from_probs(&rows).unwrap()
}

#[test]
fn language_model_fixes_what_greedy_gets_wrong() {
    let vocab = Vocabulary::emnist();
    let corpus = [
        "the cat sat on the mat",
        "a cat and a hat",
        "the cat ate",
        "that cat is fat",
        "my cat",
        "the rat ran",
    ];
    let lm = CharNgramLm::train(3, corpus).unwrap();
    // "cat" where the acoustic model slightly prefers "o" over "a".
    let steps: Vec<Vec<(char, f32)>> = vec![
        vec![('c', 0.95)],
        vec![('o', 0.5), ('a', 0.45)],
        vec![('t', 0.95)],
    ];
    let frames = line_frames(&vocab, &steps);
    let greedy = greedy_ctc(&frames, 0).unwrap();
    assert_eq!(greedy.text(&vocab).unwrap(), "cot");
    let plain = BeamSearch::new(8, 0).decode(&frames).unwrap();
    assert_eq!(vocab.decode(&plain.labels).unwrap(), "cot");
    let with_lm = BeamSearch::new(8, 0)
        .with_lm(LmWeighting {
            lm: &lm,
            vocab: &vocab,
            alpha: 1.0,
            beta: 0.0,
        })
        .decode(&frames)
        .unwrap();
    assert_eq!(vocab.decode(&with_lm.labels).unwrap(), "cat");
    // The score splits into the acoustic part and alpha * LM log-probability.
    let lm_part = lm.line_log_prob("cat");
    assert!(
        (with_lm.lm - lm_part).abs() < 1e-4,
        "{} vs {lm_part}",
        with_lm.lm
    );
    assert!((with_lm.score - with_lm.acoustic - with_lm.lm).abs() < 1e-9);
}

#[test]
fn insertion_bonus_counts_characters() {
    let vocab = Vocabulary::emnist();
    let lm = CharNgramLm::train(2, ["ab", "ba"]).unwrap();
    let frames = line_frames(&vocab, &[vec![('a', 0.9)], vec![('b', 0.9)]]);
    let run = |beta| {
        BeamSearch::new(4, 0)
            .with_lm(LmWeighting {
                lm: &lm,
                vocab: &vocab,
                alpha: 0.0,
                beta,
            })
            .decode(&frames)
            .unwrap()
    };
    let (a, b) = (run(0.0), run(0.7));
    assert_eq!(a.labels, b.labels);
    assert!(
        (b.lm - a.lm - 2.0 * 0.7).abs() < 1e-6,
        "{} vs {}",
        b.lm,
        a.lm
    );
}

#[test]
fn bad_settings_are_errors() {
    let frames = Frames::from_probs(&[vec![0.5, 0.5]]).unwrap();
    assert!(BeamSearch::new(0, 0)
        .decode(&frames)
        .unwrap_err()
        .to_string()
        .contains("width"));
    assert!(BeamSearch::new(2, 5)
        .decode(&frames)
        .unwrap_err()
        .to_string()
        .contains("blank index 5"));
    let vocab = Vocabulary::emnist();
    let lm = CharNgramLm::train(2, ["ab"]).unwrap();
    let err = BeamSearch::new(2, 0)
        .with_lm(LmWeighting {
            lm: &lm,
            vocab: &vocab,
            alpha: 1.0,
            beta: 0.0,
        })
        .decode(&frames)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("83 symbols") && err.contains("2 classes"),
        "{err}"
    );
}
