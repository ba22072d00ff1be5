//! `mixture`: several datasets trained on together, each with a weight per
//! epoch — real collections are small, and real + synthetic is how line
//! recognisers are trained.
//!
//! ```yaml
//! data:
//!   dataset: mixture
//!   parts:
//!     - { weight: 1.0, data: { dataset: page-lines, roots: [../shared/data/htr/hooker] } }
//!     - { weight: 0.3, eval: false, data: { dataset: page-lines, roots: [../shared/data/htr/copiste] } }
//! ```
//!
//! * **Epoch.** Part `k` contributes `round(weight_k · len_k)` training
//!   samples per epoch. A weight ≥ 1 repeats the part (`2.0`: every sample
//!   twice); a weight < 1 takes an evenly spaced subset whose offset moves
//!   with the sample's augmentation seed, so successive epochs see other
//!   samples of the part while each sample stays deterministic
//!   (`Dataset::target` reports the subset of seed 0, for statistics).
//! * **Evaluation.** Validation and test are the parts marked `eval` (by
//!   default every part), concatenated — the course's
//!   `IAMOriginalAndSyntheticParagraphs` trains on both and evaluates on the
//!   real paragraphs only (`eval: false` on the synthetic part).
//! * **Vocabulary.** The four special tokens, then every character symbol of
//!   every part's vocabulary sorted by code point (`\n` last when a part has
//!   it), unless `vocabulary` fixes the list; each part's labels are mapped
//!   to it symbol by symbol and padded to the longest part's label length.
//! * **Images.** Every sample is placed on the mixture's canvas (default:
//!   the first part's input size) as [`super::real_lines::fit_to_canvas`]
//!   does; parts must agree on start/end tokens (their labels are mapped,
//!   not re-encoded).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::real_lines::fit_to_canvas;
use super::registry::DatasetConfig;
use super::{DataModule, Dataset, Sample, Target, TargetKind};
use crate::error::{Error, Result};
use crate::paths::DataDir;
use crate::vocab::{Vocabulary, PAD, SPECIAL_TOKENS};

/// One part of a mixture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixturePart {
    /// The dataset, as its own `data:` section would read.
    pub data: DatasetConfig,
    /// Samples per epoch as a multiple of the part's training size.
    #[serde(default = "one")]
    pub weight: f64,
    /// Validate and test on this part.
    #[serde(default = "yes")]
    pub eval: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// Settings of `mixture`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixtureConfig {
    pub parts: Vec<MixturePart>,
    /// Canvas `[width, height]`; default: the first part's input size.
    pub canvas: Option<[u32; 2]>,
    /// A fixed symbol list; default: the union of the parts' vocabularies.
    pub vocabulary: Option<Vec<String>>,
}

/// The union vocabulary of `vocabs` (see the module docs).
pub fn union_vocabulary(vocabs: &[&Vocabulary]) -> Result<Vocabulary> {
    let mut chars: Vec<char> = vocabs
        .iter()
        .flat_map(|v| v.symbols().iter())
        .filter_map(|s| {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) if c != '\n' => Some(c),
                _ => None,
            }
        })
        .collect();
    chars.sort_unstable();
    chars.dedup();
    let newline = vocabs.iter().any(|v| v.char_index('\n').is_some());
    let mut symbols: Vec<String> = SPECIAL_TOKENS.iter().map(|s| s.to_string()).collect();
    symbols.extend(chars.into_iter().map(String::from));
    if newline {
        symbols.push("\n".to_string());
    }
    Vocabulary::from_symbols(symbols)
}

/// For every label of `from`, its label in `to`; a symbol `to` lacks is an
/// error naming it and the part.
fn label_map(from: &Vocabulary, to: &Vocabulary, part: &str) -> Result<Vec<u32>> {
    from.symbols()
        .iter()
        .map(|s| {
            let mut it = s.chars();
            let found = match (it.next(), it.next()) {
                (Some(c), None) => to.char_index(c),
                _ => to.token_index(s),
            };
            found.ok_or_else(|| {
                Error::invalid(
                    "mixture.vocabulary",
                    format!("symbol {s:?} of part {part} is not in the mixture's vocabulary"),
                )
            })
        })
        .collect()
}

/// One part as the mixture serves it.
struct Part {
    data: Arc<dyn Dataset>,
    map: Vec<u32>,
    /// Samples per epoch (training) or the part's size (evaluation).
    slots: usize,
}

/// Parts laid end to end; see the module docs for how slots map to samples.
struct Mixed {
    parts: Vec<Part>,
    label_len: usize,
    pad: u32,
    canvas: (u32, u32),
}

impl Mixed {
    fn locate(&self, mut index: usize) -> Option<(&Part, usize)> {
        for p in &self.parts {
            if index < p.slots {
                return Some((p, index));
            }
            index -= p.slots;
        }
        None
    }
}

fn local_index(slot: usize, slots: usize, len: usize, aug_seed: u64) -> usize {
    if slots >= len {
        slot % len
    } else {
        let offset = (aug_seed % len as u64) as usize;
        (slot * len / slots + offset) % len
    }
}

impl Dataset for Mixed {
    fn len(&self) -> usize {
        self.parts.iter().map(|p| p.slots).sum()
    }

    fn get(&self, index: usize, aug_seed: u64) -> Result<Sample> {
        let (part, slot) = self.locate(index).ok_or_else(|| {
            Error::invalid(
                "sample index",
                format!(
                    "{index} is out of range for a mixture of {} samples",
                    self.len()
                ),
            )
        })?;
        let local = local_index(slot, part.slots, part.data.len(), aug_seed);
        let s = part.data.get(local, aug_seed)?;
        let image = if s.image.dimensions() == self.canvas {
            s.image
        } else {
            fit_to_canvas(&s.image, self.canvas)
        };
        Ok(Sample {
            image,
            target: self.map_target(part, s.target)?,
        })
    }

    fn target(&self, index: usize) -> Result<Target> {
        let (part, slot) = self.locate(index).ok_or_else(|| {
            Error::invalid(
                "sample index",
                format!(
                    "{index} is out of range for a mixture of {} samples",
                    self.len()
                ),
            )
        })?;
        let local = local_index(slot, part.slots, part.data.len(), 0);
        self.map_target(part, part.data.target(local)?)
    }
}

impl Mixed {
    fn map_target(&self, part: &Part, target: Target) -> Result<Target> {
        let Target::Sequence(labels) = target else {
            return Err(Error::invalid(
                "mixture",
                "parts must have sequence targets",
            ));
        };
        let mut out: Vec<u32> = labels
            .iter()
            .map(|&l| part.map.get(l as usize).copied().unwrap_or(self.pad))
            .collect();
        out.resize(self.label_len, self.pad);
        Ok(Target::Sequence(out))
    }
}

impl MixtureConfig {
    /// Builds every part and the mixture over them.
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        if self.parts.is_empty() {
            return Err(Error::invalid(
                "mixture.parts",
                "a mixture needs at least one part: parts: [{ weight: 1.0, data: { dataset: … } }]",
            ));
        }
        let mut modules = Vec::with_capacity(self.parts.len());
        for (i, p) in self.parts.iter().enumerate() {
            if !(p.weight.is_finite() && p.weight >= 0.0) {
                return Err(Error::invalid(
                    format!("mixture.parts[{i}].weight"),
                    format!("{} is not a non-negative number", p.weight),
                ));
            }
            let m = p.data.build(dir)?;
            if m.target_kind != TargetKind::Sequence {
                return Err(Error::invalid(
                    format!("mixture.parts[{i}]"),
                    format!(
                        "{} has class targets; a mixture mixes line or paragraph datasets",
                        m.name
                    ),
                ));
            }
            modules.push(m);
        }
        let vocab = match &self.vocabulary {
            Some(symbols) => Vocabulary::from_symbols(symbols.clone())?,
            None => union_vocabulary(&modules.iter().map(|m| &m.vocab).collect::<Vec<_>>())?,
        };
        let canvas = match self.canvas {
            Some([w, h]) => (w, h),
            None => {
                let [_, h, w] = modules[0].input_shape;
                (w as u32, h as u32)
            }
        };
        let label_len = modules
            .iter()
            .filter_map(|m| m.output_len)
            .max()
            .unwrap_or(0);
        let pad = vocab.require_token(PAD)?;
        let any_eval = self.parts.iter().any(|p| p.eval);
        let mut train = Vec::new();
        let (mut val, mut test) = (Vec::new(), Vec::new());
        let mut notes = Vec::new();
        for (i, (p, m)) in self.parts.iter().zip(&modules).enumerate() {
            let map = label_map(&m.vocab, &vocab, &format!("{i} ({})", m.name))?;
            let slots = (p.weight * m.train.len() as f64).round() as usize;
            let eval = p.eval || !any_eval;
            notes.push(format!(
                "part {i}: {} — {} of its {} training samples per epoch (weight {}){}",
                m.name,
                slots,
                m.train.len(),
                p.weight,
                if eval {
                    ", validated and tested on"
                } else {
                    ", training only"
                }
            ));
            notes.extend(m.notes.iter().map(|n| format!("part {i}: {n}")));
            if slots > 0 && !m.train.is_empty() {
                train.push(Part {
                    data: m.train.clone(),
                    map: map.clone(),
                    slots,
                });
            }
            if eval {
                val.push(Part {
                    data: m.val.clone(),
                    map: map.clone(),
                    slots: m.val.len(),
                });
                test.push(Part {
                    data: m.test.clone(),
                    map,
                    slots: m.test.len(),
                });
            }
        }
        let mixed = |parts| -> Arc<dyn Dataset> {
            Arc::new(Mixed {
                parts,
                label_len,
                pad,
                canvas,
            })
        };
        Ok(DataModule {
            name: "mixture".to_string(),
            vocab,
            input_shape: [1, canvas.1 as usize, canvas.0 as usize],
            target_kind: TargetKind::Sequence,
            output_len: Some(label_len),
            train: mixed(train),
            val: mixed(val),
            test: mixed(test),
            notes,
            pool: None,
            crops: None,
        })
    }
}

impl super::registry::DatasetKind for MixtureConfig {
    fn build(&self, dir: &DataDir) -> Result<DataModule> {
        MixtureConfig::build(self, dir)
    }
}
