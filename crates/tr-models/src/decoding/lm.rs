//! [`CharNgramLm`]: a character n-gram language model for beam-search CTC
//! decoding, with interpolated Kneser–Ney smoothing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use candle_core::{bail, Result};
use serde::{Deserialize, Serialize};

/// Largest supported order: a context of 7 symbols plus the next one packs
/// into 128 bits (16 bits per symbol).
pub const MAX_ORDER: usize = 8;

const BOS: u16 = 0;
const EOS: u16 = 1;
const UNK: u16 = 2;
const FIRST_CHAR: u16 = 3;

/// The last `n − 1` symbols read, packed 16 bits each (most recent lowest);
/// obtained from [`CharNgramLm::begin`] and [`CharNgramLm::advance`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LmState(u128);

/// A character n-gram language model for beam-search CTC decoding, with
/// interpolated Kneser–Ney smoothing.
///
/// # Model
///
/// Every training line is read as `<s>`×(n−1), its characters, `</s>`.
/// The probability of a symbol `w` (a character, `</s>`, or `<unk>` for any
/// character never seen in training) after the context `h` is the
/// interpolated Kneser–Ney estimate (Chen & Goodman 1998, §3.4):
///
/// ```text
/// P_k(w | h) = max(a_k(h w) − D_k, 0) / A_k(h)  +  D_k · N_k(h) / A_k(h) · P_{k−1}(w | h⁻)
/// P_0(w)     = 1 / |V|
/// ```
///
/// where `h⁻` drops the oldest symbol of `h`, `a_n` are the raw counts of the
/// highest order, `a_k` (k < n) are *continuation* counts (how many distinct
/// symbols precede `h w`), `A_k(h) = Σ_w a_k(h w)`, `N_k(h)` is the number of
/// distinct `w` with `a_k(h w) > 0`, and an unseen context (`A_k(h) = 0`)
/// passes its lower-order estimate through unchanged. The discount of each
/// order is Ney's estimate `D_k = n₁ / (n₁ + 2 n₂)` from the numbers of
/// n-grams seen once and twice (0.75 when it cannot be estimated), clamped to
/// `[0.05, 0.95]`. `V` is the alphabet plus `</s>` and `<unk>`, so every
/// conditional distribution sums to exactly 1 over `V`.
///
/// Kneser–Ney was chosen over add-k (which gives far too much mass to unseen
/// events at character level) and Witten–Bell (whose lower orders are plain
/// frequencies): continuation counts make the backoff distributions favour
/// characters that follow many contexts, which is what matters when the
/// decoder extends a prefix the training text never contained.
///
/// # Serialisation
///
/// Only the alphabet and the highest-order counts are stored (every
/// lower-order statistic is derived from them), so the serde form is compact
/// and an inference artifact can ship the model as JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "StoredLm", into = "StoredLm")]
pub struct CharNgramLm {
    order: usize,
    alphabet: Vec<char>,
    ids: HashMap<char, u16>,
    /// Highest-order raw counts, kept for serialisation.
    top_counts: Vec<(u128, u32)>,
    /// Per order k (index k−1): `context << 16 | w` → count a_k.
    grams: Vec<FastMap<f64>>,
    /// Per order k: context → (A_k(h), N_k(h)).
    contexts: Vec<FastMap<(f64, f64)>>,
    /// Per order k: discount D_k.
    discounts: Vec<f64>,
}

/// Serialised form: order, alphabet, and highest-order n-grams as
/// `order` symbol ids each (`0` = `<s>`, `1` = `</s>`, `2` = `<unk>`,
/// `3 + i` = `alphabet[i]`) with their counts.
#[derive(Serialize, Deserialize)]
struct StoredLm {
    order: usize,
    alphabet: String,
    grams: Vec<u16>,
    counts: Vec<u32>,
}

impl CharNgramLm {
    /// Trains an order-`order` model (1 ≤ order ≤ 8) on text lines.
    pub fn train<'a>(order: usize, lines: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        check_order(order)?;
        let lines: Vec<&str> = lines.into_iter().collect();
        let mut alphabet: Vec<char> = lines.iter().flat_map(|l| l.chars()).collect();
        alphabet.sort_unstable();
        alphabet.dedup();
        if alphabet.len() > (u16::MAX - FIRST_CHAR) as usize {
            bail!(
                "char n-gram LM: {} distinct characters, at most {} supported",
                alphabet.len(),
                u16::MAX - FIRST_CHAR
            );
        }
        let ids = alphabet_ids(&alphabet);
        let mut counts: FastMap<u32> = FastMap::default();
        for line in &lines {
            let mut state = LmState(0);
            let symbols = line.chars().map(|c| ids[&c]).chain(std::iter::once(EOS));
            for w in symbols {
                *counts.entry(gram_key(state, order, w)).or_insert(0) += 1;
                state = push(state, order, w);
            }
        }
        if counts.is_empty() {
            bail!("char n-gram LM: no training lines were given");
        }
        let mut top_counts: Vec<(u128, u32)> = counts.into_iter().collect();
        top_counts.sort_unstable();
        Ok(Self::from_counts(order, alphabet, top_counts))
    }

    fn from_counts(order: usize, alphabet: Vec<char>, top_counts: Vec<(u128, u32)>) -> Self {
        let ids = alphabet_ids(&alphabet);
        let mut grams: Vec<FastMap<f64>> = vec![FastMap::default(); order];
        grams[order - 1] = top_counts.iter().map(|&(k, c)| (k, f64::from(c))).collect();
        // Continuation counts: a_k(h w) = number of distinct v with a_{k+1}(v h w) > 0.
        for k in (1..order).rev() {
            let mask = slots_mask(k);
            let mut lower: FastMap<f64> = FastMap::default();
            for &key in grams[k].keys() {
                *lower.entry(key & mask).or_insert(0.0) += 1.0;
            }
            grams[k - 1] = lower;
        }
        let mut contexts = Vec::with_capacity(order);
        let mut discounts = Vec::with_capacity(order);
        for g in &grams {
            let mut ctx: FastMap<(f64, f64)> = FastMap::default();
            let (mut n1, mut n2) = (0.0f64, 0.0f64);
            for (&key, &a) in g {
                let e = ctx.entry(key >> 16).or_insert((0.0, 0.0));
                e.0 += a;
                e.1 += 1.0;
                if a == 1.0 {
                    n1 += 1.0;
                } else if a == 2.0 {
                    n2 += 1.0;
                }
            }
            let d: f64 = if n1 > 0.0 && n2 > 0.0 {
                n1 / (n1 + 2.0 * n2)
            } else {
                0.75
            };
            discounts.push(d.clamp(0.05, 0.95));
            contexts.push(ctx);
        }
        Self {
            order,
            alphabet,
            ids,
            top_counts,
            grams,
            contexts,
            discounts,
        }
    }

    /// The order n.
    pub fn order(&self) -> usize {
        self.order
    }

    /// Characters seen in training, sorted.
    pub fn alphabet(&self) -> &[char] {
        &self.alphabet
    }

    /// Per-order discounts `D_1 … D_n`.
    pub fn discounts(&self) -> &[f64] {
        &self.discounts
    }

    /// The state at the start of a line (`<s>` context).
    pub fn begin(&self) -> LmState {
        LmState(0)
    }

    /// Natural-log probability of `c` after `state`, and the state after it.
    pub fn advance(&self, state: LmState, c: char) -> (f32, LmState) {
        let w = self.symbol(c);
        (
            self.log_prob_symbol(state, w) as f32,
            push(state, self.order, w),
        )
    }

    /// Natural-log probability of the line ending after `state`.
    pub fn end_log_prob(&self, state: LmState) -> f32 {
        self.log_prob_symbol(state, EOS) as f32
    }

    /// Natural-log probability of `next` (`None` = end of line) after the
    /// line prefix `prefix`.
    pub fn log_prob(&self, prefix: &str, next: Option<char>) -> f64 {
        let state = self.state_after(prefix);
        let w = next.map_or(EOS, |c| self.symbol(c));
        self.log_prob_symbol(state, w)
    }

    /// The state after reading `prefix` from the start of a line.
    pub fn state_after(&self, prefix: &str) -> LmState {
        prefix
            .chars()
            .fold(self.begin(), |s, c| push(s, self.order, self.symbol(c)))
    }

    /// Natural-log probability of a whole line, `</s>` included.
    pub fn line_log_prob(&self, line: &str) -> f64 {
        let mut state = self.begin();
        let mut total = 0.0;
        for c in line.chars() {
            let w = self.symbol(c);
            total += self.log_prob_symbol(state, w);
            state = push(state, self.order, w);
        }
        total + self.log_prob_symbol(state, EOS)
    }

    /// Per-symbol perplexity of lines (each line's `</s>` counts as a symbol).
    pub fn perplexity<'a>(&self, lines: impl IntoIterator<Item = &'a str>) -> f64 {
        let (mut log_p, mut n) = (0.0, 0usize);
        for line in lines {
            log_p += self.line_log_prob(line);
            n += line.chars().count() + 1;
        }
        (-log_p / n.max(1) as f64).exp()
    }

    fn symbol(&self, c: char) -> u16 {
        self.ids.get(&c).copied().unwrap_or(UNK)
    }

    /// Size of the predicted vocabulary |V| (alphabet + `</s>` + `<unk>`).
    fn predicted_len(&self) -> usize {
        self.alphabet.len() + 2
    }

    fn log_prob_symbol(&self, state: LmState, w: u16) -> f64 {
        let mut p = 1.0 / self.predicted_len() as f64;
        for k in 1..=self.order {
            let ctx = state.0 & slots_mask(k - 1);
            let Some(&(total, distinct)) = self.contexts[k - 1].get(&ctx) else {
                // A longer context ending in this one is unseen as well.
                break;
            };
            let d = self.discounts[k - 1];
            let a = self.grams[k - 1]
                .get(&(ctx << 16 | u128::from(w)))
                .copied()
                .unwrap_or(0.0);
            p = (a - d).max(0.0) / total + d * distinct / total * p;
        }
        p.ln()
    }
}

impl TryFrom<StoredLm> for CharNgramLm {
    type Error = String;
    fn try_from(s: StoredLm) -> std::result::Result<Self, String> {
        check_order(s.order).map_err(|e| e.to_string())?;
        let alphabet: Vec<char> = s.alphabet.chars().collect();
        if alphabet.windows(2).any(|w| w[0] >= w[1]) {
            return Err("char n-gram LM: `alphabet` must be sorted without duplicates".into());
        }
        if s.grams.len() != s.counts.len() * s.order {
            return Err(format!(
                "char n-gram LM: `grams` holds {} ids but {} counts of order {} need {}",
                s.grams.len(),
                s.counts.len(),
                s.order,
                s.counts.len() * s.order
            ));
        }
        let max_id = FIRST_CHAR as usize + alphabet.len();
        let mut top = Vec::with_capacity(s.counts.len());
        for (gram, &count) in s.grams.chunks(s.order).zip(&s.counts) {
            if let Some(bad) = gram.iter().find(|&&id| id as usize >= max_id) {
                return Err(format!("char n-gram LM: symbol id {bad} in `grams` is outside the alphabet (< {max_id})"));
            }
            let key = gram.iter().fold(0u128, |k, &id| k << 16 | u128::from(id));
            top.push((key, count));
        }
        if top.is_empty() {
            return Err("char n-gram LM: no n-grams stored".into());
        }
        Ok(Self::from_counts(s.order, alphabet, top))
    }
}

impl From<CharNgramLm> for StoredLm {
    fn from(lm: CharNgramLm) -> Self {
        let mut grams = Vec::with_capacity(lm.top_counts.len() * lm.order);
        for &(key, _) in &lm.top_counts {
            for slot in (0..lm.order).rev() {
                grams.push((key >> (16 * slot)) as u16);
            }
        }
        Self {
            order: lm.order,
            alphabet: lm.alphabet.iter().collect(),
            grams,
            counts: lm.top_counts.iter().map(|&(_, c)| c).collect(),
        }
    }
}

fn check_order(order: usize) -> Result<()> {
    if !(1..=MAX_ORDER).contains(&order) {
        bail!("char n-gram LM: order must be between 1 and {MAX_ORDER}, got {order}");
    }
    Ok(())
}

fn alphabet_ids(alphabet: &[char]) -> HashMap<char, u16> {
    alphabet
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, FIRST_CHAR + i as u16))
        .collect()
}

/// Mask of the `slots` most recent 16-bit symbol slots.
fn slots_mask(slots: usize) -> u128 {
    if slots >= 8 {
        u128::MAX
    } else {
        (1u128 << (16 * slots)) - 1
    }
}

/// Key of the highest-order n-gram (context of `state`, then `w`).
fn gram_key(state: LmState, order: usize, w: u16) -> u128 {
    (state.0 & slots_mask(order - 1)) << 16 | u128::from(w)
}

/// The state after reading `w`: keeps the `order − 1` most recent symbols.
fn push(state: LmState, order: usize, w: u16) -> LmState {
    LmState((state.0 << 16 | u128::from(w)) & slots_mask(order - 1))
}

// `<s>` is id 0, so an all-zero state is the start-of-line context.
const _: () = assert!(BOS == 0);

/// A multiply-xorshift hasher for the packed `u128` keys (SipHash is several
/// times slower and collision resistance is irrelevant here).
#[derive(Default, Clone, Copy)]
struct PackedKeyHasher(u64);

impl Hasher for PackedKeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u128(&mut self, v: u128) {
        self.write_u64(v as u64);
        self.write_u64((v >> 64) as u64);
        self.0 ^= self.0 >> 29;
    }
}

type FastMap<V> = HashMap<u128, V, BuildHasherDefault<PackedKeyHasher>>;
