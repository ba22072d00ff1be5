//! Seeded splitting and class balancing of sample pools.
//!
//! * [`random_split`] is `torch.utils.data.random_split` with two parts: a
//!   seeded permutation, the first `floor(frac · n)` items to the first part
//!   (the course's `split_dataset(fraction=0.8, seed=42)`).
//! * [`balance`] caps samples per class like the course's
//!   `_sample_to_balance` (see [`Balance`]).

use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::seeding::rng_for;

/// Generator streams of one seed: splitting and balancing draw independently.
const SPLIT_STREAM: u64 = 1;
const BALANCE_STREAM: u64 = 2;

/// How classes are balanced before splitting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Balance {
    /// The course's `_sample_to_balance`: `cap = floor(n / (max label + 1))`
    /// (the mean count over the label range); for every class draw `cap`
    /// indices *with replacement* and keep the distinct ones. Every class
    /// ends with at most `cap` samples, but also large classes lose some and
    /// small ones keep only ~`1 - e^(-cap/count)` of theirs.
    #[default]
    Course,
    /// Same `cap`, drawn *without* replacement: classes above it keep exactly
    /// `cap` distinct samples, smaller classes keep all of theirs.
    Cap,
    /// Keep every sample.
    None,
}

/// Splits `items` into `(first, rest)` by a permutation seeded with `seed`;
/// `first` gets `floor(first_frac · n)` items.
pub fn random_split(items: &[usize], first_frac: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let n_first = (first_frac * items.len() as f64).floor() as usize;
    random_split_n(items, n_first, seed)
}

/// Splits `items` into `(first, rest)` by a permutation seeded with `seed`;
/// `first` gets `n_first` items (at most all).
pub fn random_split_n(items: &[usize], n_first: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut perm = items.to_vec();
    perm.shuffle(&mut rng_for(seed, &[SPLIT_STREAM]));
    let rest = perm.split_off(n_first.min(items.len()));
    (perm, rest)
}

/// Indices of the samples kept by `mode` for class labels `labels`
/// (0-based class ids), grouped by class in ascending order, ascending
/// within a class (as the course's `np.unique`).
pub fn balance(labels: &[u32], mode: Balance, seed: u64) -> Vec<usize> {
    if mode == Balance::None || labels.is_empty() {
        return (0..labels.len()).collect();
    }
    let max_label = labels.iter().copied().max().unwrap_or(0) as usize;
    let cap = labels.len() / (max_label + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); max_label + 1];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    // One generator for the whole call, consumed class by class as numpy's
    // global state is after `np.random.seed(42)`.
    let mut rng = rng_for(seed, &[BALANCE_STREAM]);
    let mut kept = Vec::with_capacity(labels.len().min(cap * by_class.len()));
    for inds in by_class.iter().filter(|v| !v.is_empty()) {
        match mode {
            Balance::Course => {
                let mut picked: Vec<usize> = (0..cap)
                    .map(|_| inds[rng.random_range(0..inds.len())])
                    .collect();
                picked.sort_unstable();
                picked.dedup();
                kept.extend(picked);
            }
            Balance::Cap => {
                if inds.len() <= cap {
                    kept.extend(inds);
                } else {
                    let mut picked: Vec<usize> =
                        inds.choose_multiple(&mut rng, cap).copied().collect();
                    picked.sort_unstable();
                    kept.extend(picked);
                }
            }
            Balance::None => unreachable!("handled above"),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sizes_follow_floor_and_partition() {
        let items: Vec<usize> = (0..11).collect();
        let (a, b) = random_split(&items, 0.8, 42);
        assert_eq!((a.len(), b.len()), (8, 3));
        let mut all: Vec<usize> = a.iter().chain(&b).copied().collect();
        all.sort_unstable();
        assert_eq!(all, items);
        assert_eq!(random_split(&items, 0.8, 42), (a, b));
    }

    #[test]
    fn course_balance_caps_every_class() {
        // Class 0: 90 samples, class 1: 10 samples -> cap 50.
        let labels: Vec<u32> = (0..100).map(|i| u32::from(i >= 90)).collect();
        let kept = balance(&labels, Balance::Course, 42);
        let n0 = kept.iter().filter(|&&i| labels[i] == 0).count();
        let n1 = kept.iter().filter(|&&i| labels[i] == 1).count();
        assert!(n0 <= 50 && n0 > 25, "{n0}");
        // 50 draws with replacement from 10 keep (almost surely) all 10.
        assert!((8..=10).contains(&n1), "{n1}");
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        let capped = balance(&labels, Balance::Cap, 42);
        assert_eq!(capped.iter().filter(|&&i| labels[i] == 0).count(), 50);
        assert_eq!(capped.iter().filter(|&&i| labels[i] == 1).count(), 10);
        assert_eq!(balance(&labels, Balance::None, 42).len(), 100);
    }
}
