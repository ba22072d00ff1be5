//! The character n-gram language model: proper distributions, sensible
//! preferences, serialisation.

use tr_models::decoding::CharNgramLm;

const CORPUS: [&str; 5] = [
    "the quick brown fox jumps over the lazy dog",
    "the dog sleeps",
    "a fox is quick",
    "the lazy cat",
    "",
];

fn total_probability(lm: &CharNgramLm, prefix: &str) -> f64 {
    // Every alphabet character, one character never seen (<unk>), and </s>.
    let mut total: f64 = lm
        .alphabet()
        .iter()
        .map(|&c| lm.log_prob(prefix, Some(c)).exp())
        .sum();
    total += lm.log_prob(prefix, Some('§')).exp();
    total + lm.log_prob(prefix, None).exp()
}

#[test]
fn every_conditional_distribution_sums_to_one() {
    for order in 1..=5 {
        let lm = CharNgramLm::train(order, CORPUS).unwrap();
        for prefix in ["", "t", "th", "the ", "the q", "zzz", "§§", "dog sl"] {
            let total = total_probability(&lm, prefix);
            assert!(
                (total - 1.0).abs() < 1e-9,
                "order {order}, prefix {prefix:?}: {total}"
            );
        }
    }
}

#[test]
fn prefers_what_it_was_trained_on() {
    let lm = CharNgramLm::train(4, CORPUS).unwrap();
    assert!(lm.log_prob("the qui", Some('c')) > lm.log_prob("the qui", Some('x')));
    assert!(lm.log_prob("th", Some('e')) > lm.log_prob("th", Some('o')));
    assert!(lm.line_log_prob("the lazy dog") > lm.line_log_prob("eht yzal god"));
    let train_ppl = lm.perplexity(CORPUS);
    let shuffled_ppl = lm.perplexity(["god yzal eht revo spmuj xof"]);
    assert!(
        train_ppl < 3.0 && shuffled_ppl > 2.0 * train_ppl,
        "{train_ppl} vs {shuffled_ppl}"
    );
    // Unknown characters get the smallest share, but a share.
    let unk = lm.log_prob("the", Some('§'));
    assert!(unk.is_finite() && unk < lm.log_prob("the", Some('z')));
    for d in lm.discounts() {
        assert!((0.05..=0.95).contains(d));
    }
}

#[test]
fn higher_orders_fit_training_text_better() {
    let ppl: Vec<f64> = (1..=4)
        .map(|n| CharNgramLm::train(n, CORPUS).unwrap().perplexity(CORPUS))
        .collect();
    assert!(ppl.windows(2).all(|w| w[1] < w[0]), "{ppl:?}");
}

#[test]
fn unigram_kneser_ney_matches_hand_computation() {
    // Order 1 = absolutely discounted unigram over V = {a, b, </s>, <unk>}.
    // Counts: a 3, b 1, </s> 2 (two lines); n1 = 1 (b), n2 = 1 (</s>) ->
    // D = 1 / (1 + 2) = 1/3; A = 6, N = 3.
    let lm = CharNgramLm::train(1, ["aab", "a"]).unwrap();
    let d = 1.0 / 3.0;
    let backoff = d * 3.0 / 6.0 * 0.25;
    let expect_a = (3.0 - d) / 6.0 + backoff;
    assert!((lm.log_prob("", Some('a')).exp() - expect_a).abs() < 1e-12);
    assert!((lm.log_prob("", Some('?')).exp() - backoff).abs() < 1e-12);
}

#[test]
fn serde_round_trip_preserves_every_probability() {
    let lm = CharNgramLm::train(3, CORPUS).unwrap();
    let json = serde_json::to_string(&lm).unwrap();
    let back: CharNgramLm = serde_json::from_str(&json).unwrap();
    assert_eq!(back.order(), 3);
    for prefix in ["", "th", "lazy", "x"] {
        for c in ['a', 'e', ' ', 'q', '§'] {
            assert_eq!(lm.log_prob(prefix, Some(c)), back.log_prob(prefix, Some(c)));
        }
        assert_eq!(lm.log_prob(prefix, None), back.log_prob(prefix, None));
    }
}

#[test]
fn bad_inputs_are_errors() {
    assert!(CharNgramLm::train(0, CORPUS)
        .unwrap_err()
        .to_string()
        .contains("order"));
    assert!(CharNgramLm::train(9, CORPUS)
        .unwrap_err()
        .to_string()
        .contains("between 1 and 8"));
    assert!(CharNgramLm::train(3, std::iter::empty()).is_err());
    let bad = r#"{"order":2,"alphabet":"ab","grams":[0,7],"counts":[1]}"#;
    let err = serde_json::from_str::<CharNgramLm>(bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("symbol id 7"), "{err}");
    let bad = r#"{"order":2,"alphabet":"ab","grams":[0],"counts":[1]}"#;
    assert!(serde_json::from_str::<CharNgramLm>(bad)
        .unwrap_err()
        .to_string()
        .contains("grams"));
}

#[test]
fn state_api_agrees_with_string_api() {
    let lm = CharNgramLm::train(3, CORPUS).unwrap();
    let mut state = lm.begin();
    let mut total = 0.0f64;
    for c in "the dog".chars() {
        let (lp, next) = lm.advance(state, c);
        total += f64::from(lp);
        state = next;
    }
    total += f64::from(lm.end_log_prob(state));
    assert!((total - lm.line_log_prob("the dog")).abs() < 1e-4);
    assert_eq!(state, lm.state_after("the dog"));
}
