//! Seeds derived from one seed: the single rule every crate uses to split a
//! run's seed into independent random streams (light core, so `tr-models`
//! and `tr-infer` share it with the datasets).

use std::borrow::Cow;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The name of a random stream derived from a seed (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stream<'a> {
    /// A path of integers; order matters, `[]` is the seed's own stream.
    Path(Cow<'a, [u64]>),
    /// A text label (its UTF-8 bytes).
    Label(Cow<'a, [u8]>),
    /// A chain of integers xored into the running hash unmixed: the batch
    /// loader's per-epoch order and augmentation seeds.
    Chain(Cow<'a, [u64]>),
}

impl<'a> Stream<'a> {
    /// [`Stream::Chain`] over `parts`.
    pub fn chain(parts: &'a [u64]) -> Self {
        Stream::Chain(Cow::Borrowed(parts))
    }
}

impl<'a> From<&'a [u64]> for Stream<'a> {
    fn from(path: &'a [u64]) -> Self {
        Stream::Path(Cow::Borrowed(path))
    }
}

impl<'a, const N: usize> From<&'a [u64; N]> for Stream<'a> {
    fn from(path: &'a [u64; N]) -> Self {
        Stream::Path(Cow::Borrowed(path))
    }
}

impl<'a> From<&'a Vec<u64>> for Stream<'a> {
    fn from(path: &'a Vec<u64>) -> Self {
        Stream::Path(Cow::Borrowed(path))
    }
}

impl<'a> From<&'a str> for Stream<'a> {
    fn from(label: &'a str) -> Self {
        Stream::Label(Cow::Borrowed(label.as_bytes()))
    }
}

impl<'a> From<&'a String> for Stream<'a> {
    fn from(label: &'a String) -> Self {
        Stream::Label(Cow::Borrowed(label.as_bytes()))
    }
}

impl From<String> for Stream<'static> {
    fn from(label: String) -> Self {
        Stream::Label(Cow::Owned(label.into_bytes()))
    }
}

/// SplitMix64's output function: a bijective 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of `stream` under `seed`.
///
/// Seeds derived from one seed: the single rule every crate uses to split a
/// run's seed into independent random streams (light core, so `tr-models`
/// and `tr-infer` share it with the datasets).
///
/// A stream is named by a **path of integers** (`[split, index]` for a
/// synthetic line, `[index]` for an augmentation), by a **text label**
/// (`"weights"`, `"data-order"`, `"dropout/{epoch}/{batch}"`, a model
/// variable's name) or by a **chain** (the batch loader's `[epoch, index]`).
/// The three namings mix differently — they were three functions once
/// (tr-data's datasets, tr-models, the loader), and data caches, split
/// permutations, initial weights, sample orders, augmentations and dropout
/// masks of existing runs depend on their exact values — so [`derive_seed`]
/// keeps every mix bit for bit; the tests pin known outputs.
///
/// Synthesis draws each item's randomness from `rng_for(seed, &[split, index])`
/// instead of one sequential generator, so the result does not depend on the
/// order (or the number of threads) in which items are produced.
///
/// The mixes:
///
/// * a path folds SplitMix64 over its parts: `mix(mix(seed) ^ mix(p0))`, …;
/// * a chain folds it over the raw parts: `mix(mix(seed) ^ p0)`, …;
/// * a label hashes its bytes with FNV-1a (stable across Rust versions,
///   unlike `DefaultHasher`), mixes the hash into the seed with the golden
///   ratio and finishes with SplitMix64's finaliser.
pub fn derive_seed<'a>(seed: u64, stream: impl Into<Stream<'a>>) -> u64 {
    match stream.into() {
        Stream::Path(parts) => parts.iter().fold(mix(seed), |h, &p| mix(h ^ mix(p))),
        Stream::Chain(parts) => parts.iter().fold(mix(seed), |h, &p| mix(h ^ p)),
        Stream::Label(label) => {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for &b in label.iter() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
            let mut z = seed ^ h.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }
}

/// A ChaCha8 generator seeded with [`derive_seed`]`(base, parts)`.
pub fn rng_for(base: u64, parts: &[u64]) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_seed(base, parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_paths_give_distinct_seeds() {
        let a = derive_seed(42, &[0, 1]);
        assert_eq!(a, derive_seed(42, &[0, 1]));
        assert_ne!(a, derive_seed(42, &[1, 0]));
        assert_ne!(a, derive_seed(43, &[0, 1]));
        assert_ne!(derive_seed(42, &[]), derive_seed(42, &[0]));
    }

    /// Values computed by tr-data's path-based `derive_seed` before the two
    /// functions were merged: dataset splits, synthetic lines and their
    /// caches depend on them.
    #[test]
    fn path_seeds_are_the_historical_values() {
        let cases: [(u64, &[u64], u64); 6] = [
            (0, &[], 0xe220_a839_7b1d_cdaf),
            (42, &[], 0xbdd7_3226_2feb_6e95),
            (42, &[0, 1], 0xdd51_368f_be0e_d322),
            (7, &[1], 0x34ca_c548_9fdc_078a),
            (1, &[2, 3, 4], 0x128b_9720_b85d_0de3),
            (u64::MAX, &[u64::MAX], 0xe220_a839_7b1d_cdaf),
        ];
        for (seed, path, want) in cases {
            assert_eq!(
                derive_seed(seed, path),
                want,
                "derive_seed({seed}, {path:?})"
            );
        }
    }

    /// Values computed by tr-models' label-based `derive_seed` before the
    /// merge: initial weights (per variable name), data order and dropout
    /// masks of a run depend on them.
    #[test]
    fn label_seeds_are_the_historical_values() {
        let cases: [(u64, &str, u64); 6] = [
            (0, "", 0x0803_5f29_acc1_08b3),
            (42, "weights", 0xcba2_138e_cfb2_1a91),
            (42, "data-order", 0x81e6_6faf_2e4f_1a12),
            (7, "dropout/0/3", 0x4300_c537_95ae_5a01),
            (
                42,
                "transformer_decoder.layers.0.linear1.weight",
                0x79dc_8aa6_22f7_77cd,
            ),
            (u64::MAX, "fc.bias", 0xd288_2026_4f1d_da62),
        ];
        for (seed, label, want) in cases {
            assert_eq!(
                derive_seed(seed, label),
                want,
                "derive_seed({seed}, {label:?})"
            );
            assert_eq!(derive_seed(seed, label.to_string()), want);
        }
    }
}
