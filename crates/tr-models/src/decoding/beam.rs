//! Prefix beam search for CTC (Graves 2006 §3.2; Hannun et al. 2014,
//! "First-pass large vocabulary continuous speech recognition using
//! bi-directional recurrent DNNs", Algorithm 1), in log space, with an
//! optional character n-gram language model.
//!
//! For every kept prefix `ℓ` the search tracks `p_b(ℓ)` and `p_nb(ℓ)`, the
//! probability of all paths up to time `t` that collapse to `ℓ` and end in a
//! blank / in `ℓ`'s last label. At each step a prefix stays (`ℓ` via blank,
//! or via repeating its last label) or grows by one label `c`:
//!
//! ```text
//! p_b'(ℓ)   += (p_b(ℓ) + p_nb(ℓ)) · y_t(blank)
//! p_nb'(ℓ)  += p_nb(ℓ) · y_t(last(ℓ))
//! p_nb'(ℓc) += (c == last(ℓ) ? p_b(ℓ) : p_b(ℓ) + p_nb(ℓ)) · y_t(c) · LM(c | ℓ)^α · e^β
//! ```
//!
//! and the `width` prefixes with the largest `p_b + p_nb` survive. With a
//! language model, `LM(c | ℓ)` is its probability of the character of label
//! `c` after the text of `ℓ` (labels whose symbol is not a single character,
//! such as special tokens, get no LM factor and no bonus), and the final
//! ranking multiplies in the LM probability of the line ending, `LM(</s> | ℓ)^α`.
//!
//! Prefixes are nodes of a trie, so extending or comparing them costs O(1).

use std::collections::HashMap;

use candle_core::{bail, Result};
use tr_data::Vocabulary;

use super::frames::{check_blank, Frames};
use super::lm::{CharNgramLm, LmState};

/// A language model with its weight `alpha` (on natural-log LM
/// probabilities) and per-character insertion bonus `beta` (nats).
#[derive(Clone, Copy, Debug)]
pub struct LmWeighting<'a> {
    pub lm: &'a CharNgramLm,
    /// Maps labels to the characters the LM reads.
    pub vocab: &'a Vocabulary,
    pub alpha: f32,
    pub beta: f32,
}

/// Prefix beam search settings.
#[derive(Clone, Copy, Debug)]
pub struct BeamSearch<'a> {
    /// Number of prefixes kept per time step (≥ 1).
    pub width: usize,
    /// Index of the CTC blank.
    pub blank: u32,
    /// Classes whose log-probability at a time step is below this are not
    /// used to extend prefixes there (`f32::NEG_INFINITY` = use all).
    pub prune_log_prob: f32,
    /// Optional language model.
    pub lm: Option<LmWeighting<'a>>,
}

/// One result of the search.
#[derive(Clone, Debug, PartialEq)]
pub struct Hypothesis {
    /// Labels without blanks.
    pub labels: Vec<u32>,
    /// Ranking score (nats): `acoustic + lm`.
    pub score: f64,
    /// `log(p_b + p_nb)`: log-probability of the labelling under the model,
    /// summed over the alignments the beam kept (a lower bound of the exact value).
    pub acoustic: f64,
    /// Language model part: `α · log LM(ℓ </s>) + β · |ℓ|` (0 without an LM).
    pub lm: f64,
}

struct Node {
    parent: usize,
    label: Option<u32>,
    /// LM state after this prefix, and the LM score collected up to here.
    lm_state: Option<LmState>,
    lm_score: f64,
}

#[derive(Clone, Copy)]
struct Probs {
    blank: f64,
    non_blank: f64,
}

impl Probs {
    const ZERO: Probs = Probs {
        blank: f64::NEG_INFINITY,
        non_blank: f64::NEG_INFINITY,
    };
    fn total(self) -> f64 {
        log_add(self.blank, self.non_blank)
    }
}

impl<'a> BeamSearch<'a> {
    /// A search of the given width without language model or pruning.
    pub fn new(width: usize, blank: u32) -> Self {
        Self {
            width,
            blank,
            prune_log_prob: f32::NEG_INFINITY,
            lm: None,
        }
    }

    /// Adds a language model.
    pub fn with_lm(mut self, lm: LmWeighting<'a>) -> Self {
        self.lm = Some(lm);
        self
    }

    /// The best labelling of one sample.
    pub fn decode(&self, frames: &Frames) -> Result<Hypothesis> {
        let mut all = self.decode_n_best(frames)?;
        Ok(all.swap_remove(0))
    }

    /// Up to `width` labellings, best first.
    pub fn decode_n_best(&self, frames: &Frames) -> Result<Vec<Hypothesis>> {
        if self.width == 0 {
            bail!("beam search: width must be at least 1, got 0");
        }
        check_blank(frames, self.blank)?;
        if let Some(lm) = &self.lm {
            if lm.vocab.len() != frames.num_classes() {
                bail!(
                    "beam search: the LM's vocabulary has {} symbols but the model outputs {} classes",
                    lm.vocab.len(),
                    frames.num_classes()
                );
            }
        }
        let chars = self.label_chars(frames.num_classes());
        let mut nodes = vec![Node {
            parent: 0,
            label: None,
            lm_state: self.lm.map(|l| l.lm.begin()),
            lm_score: 0.0,
        }];
        let mut children: HashMap<(usize, u32), usize> = HashMap::new();
        let mut beam: Vec<(usize, Probs)> = vec![(
            0,
            Probs {
                blank: 0.0,
                non_blank: f64::NEG_INFINITY,
            },
        )];
        let mut next: HashMap<usize, Probs> = HashMap::new();
        let blank = self.blank as usize;
        for t in 0..frames.len() {
            let row = frames.step(t);
            next.clear();
            for &(node, probs) in &beam {
                let total = probs.total();
                let last = nodes[node].label;
                // Stay: blank, or a repeat of the last label.
                let stay = next.entry(node).or_insert(Probs::ZERO);
                stay.blank = log_add(stay.blank, total + f64::from(row[blank]));
                if let Some(l) = last {
                    stay.non_blank =
                        log_add(stay.non_blank, probs.non_blank + f64::from(row[l as usize]));
                }
                // Grow by one label.
                for (c, &lp) in row.iter().enumerate() {
                    if c == blank || lp < self.prune_log_prob || lp == f32::NEG_INFINITY {
                        continue;
                    }
                    let c = c as u32;
                    let child = match children.get(&(node, c)) {
                        Some(&id) => id,
                        None => {
                            let id = nodes.len();
                            nodes.push(self.child(&nodes[node], node, c, chars[c as usize]));
                            children.insert((node, c), id);
                            id
                        }
                    };
                    let from = if Some(c) == last { probs.blank } else { total };
                    let bonus = nodes[child].lm_score - nodes[node].lm_score;
                    let e = next.entry(child).or_insert(Probs::ZERO);
                    e.non_blank = log_add(e.non_blank, from + f64::from(lp) + bonus);
                }
            }
            beam = next.iter().map(|(&n, &p)| (n, p)).collect();
            beam.sort_unstable_by(|a, b| b.1.total().total_cmp(&a.1.total()).then(a.0.cmp(&b.0)));
            beam.truncate(self.width);
        }
        let mut out: Vec<Hypothesis> = beam
            .iter()
            .map(|&(node, probs)| {
                let end = match (&self.lm, nodes[node].lm_state) {
                    (Some(l), Some(state)) => {
                        f64::from(l.alpha) * f64::from(l.lm.end_log_prob(state))
                    }
                    _ => 0.0,
                };
                let lm = nodes[node].lm_score + end;
                let score = probs.total() + end;
                Hypothesis {
                    labels: labels_of(&nodes, node),
                    score,
                    acoustic: score - lm,
                    lm,
                }
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(out)
    }

    /// The character each label stands for, when the LM should score it.
    fn label_chars(&self, num_classes: usize) -> Vec<Option<char>> {
        (0..num_classes as u32)
            .map(|l| {
                let lm = self.lm.as_ref()?;
                let mut chars = lm.vocab.symbol(l)?.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some(c),
                    _ => None,
                }
            })
            .collect()
    }

    fn child(&self, parent: &Node, parent_id: usize, label: u32, ch: Option<char>) -> Node {
        let (lm_state, lm_score) = match (&self.lm, parent.lm_state, ch) {
            (Some(l), Some(state), Some(c)) => {
                let (log_p, next) = l.lm.advance(state, c);
                let bonus = f64::from(l.alpha) * f64::from(log_p) + f64::from(l.beta);
                (Some(next), parent.lm_score + bonus)
            }
            _ => (parent.lm_state, parent.lm_score),
        };
        Node {
            parent: parent_id,
            label: Some(label),
            lm_state,
            lm_score,
        }
    }
}

fn labels_of(nodes: &[Node], mut node: usize) -> Vec<u32> {
    let mut out = Vec::new();
    while let Some(l) = nodes[node].label {
        out.push(l);
        node = nodes[node].parent;
    }
    out.reverse();
    out
}

/// `log(exp(a) + exp(b))`, exact for infinite arguments.
pub(crate) fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}
