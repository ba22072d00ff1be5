//! Statistics of a [`DataModule`]: split sizes, image shapes, label lengths
//! and class/symbol frequencies, with a compact text report (`htr data stats`).

use std::fmt;

use rayon::prelude::*;
use serde::Serialize;

use crate::datasets::{CropReport, DataModule, Dataset, PoolInfo, Target, TargetKind};
use crate::error::{Error, Result};
use crate::vocab::{Vocabulary, END};

/// Statistics of one split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SplitStats {
    /// `train`, `val` or `test`.
    pub split: String,
    pub samples: usize,
    /// `(height, width)` of the split's first image (`None` when empty).
    pub first_image: Option<(u32, u32)>,
    /// `label_lengths[n]`: samples whose label has `n` characters, special
    /// tokens excluded and stopping at `<E>` (as decoding does). Empty for
    /// class targets.
    pub label_lengths: Vec<usize>,
    /// Per vocabulary index: samples of that class (class targets), or
    /// occurrences of that symbol in the labels (sequences; special tokens
    /// are not counted).
    pub counts: Vec<u64>,
}

impl SplitStats {
    /// Computes the statistics of `dataset` against `vocab`; a target of
    /// the wrong kind or outside the vocabulary is an error naming the split
    /// and sample.
    pub fn compute(
        split: &str,
        dataset: &dyn Dataset,
        vocab: &Vocabulary,
        kind: TargetKind,
    ) -> Result<Self> {
        let n = dataset.len();
        let end = vocab.token_index(END);
        let counted = (0..n)
            .into_par_iter()
            .try_fold(
                || Tally::new(vocab.len()),
                |mut tally, index| {
                    let target = dataset.target(index).map_err(|e| at(split, index, e))?;
                    tally
                        .add(&target, kind, vocab, end)
                        .map_err(|e| at(split, index, e))?;
                    Ok::<_, Error>(tally)
                },
            )
            .try_reduce(|| Tally::new(vocab.len()), |a, b| Ok(a.merge(b)))?;
        let first_image = if n == 0 {
            None
        } else {
            let img = dataset.get(0, 0).map_err(|e| at(split, 0, e))?.image;
            Some((img.height(), img.width()))
        };
        Ok(Self {
            split: split.to_string(),
            samples: n,
            first_image,
            label_lengths: if kind == TargetKind::Sequence {
                counted.lengths
            } else {
                Vec::new()
            },
            counts: counted.counts,
        })
    }

    /// `(min, mean, max)` label length, `None` for class targets or no samples.
    pub fn length_summary(&self) -> Option<(usize, f64, usize)> {
        let total: usize = self.label_lengths.iter().sum();
        if total == 0 {
            return None;
        }
        let min = self.label_lengths.iter().position(|&c| c > 0)?;
        let max = self.label_lengths.iter().rposition(|&c| c > 0)?;
        let sum: usize = self
            .label_lengths
            .iter()
            .enumerate()
            .map(|(l, &c)| l * c)
            .sum();
        Some((min, sum as f64 / total as f64, max))
    }
}

/// Statistics of a whole data module.
///
/// Targets are read with [`Dataset::target`] in parallel (rayon), so
/// datasets that keep labels apart from images never decode an image here:
/// the 116k EMNIST samples or 14k synthetic lines take seconds. Only the
/// first image of each split is loaded, to check the declared input shape.
#[derive(Clone, Debug, Serialize)]
pub struct DataStats {
    pub name: String,
    pub vocab: Vocabulary,
    /// `(C, H, W)` the module declares.
    pub input_shape: [usize; 3],
    pub target_kind: TargetKind,
    pub output_len: Option<usize>,
    /// Train, val and test, in that order.
    pub splits: Vec<SplitStats>,
    /// Provenance notes of the module.
    pub notes: Vec<String>,
    /// The raw pool the splits were drawn from, when the module reports one.
    pub pool: Option<PoolInfo>,
    /// Pages, crop sizes, unknown characters and skips of datasets cut from pages.
    pub crops: Option<CropReport>,
}

impl DataStats {
    /// Computes the statistics of every split of `module`.
    pub fn compute(module: &DataModule) -> Result<Self> {
        let splits = [
            ("train", &module.train),
            ("val", &module.val),
            ("test", &module.test),
        ]
        .into_iter()
        .map(|(name, ds)| SplitStats::compute(name, &**ds, &module.vocab, module.target_kind))
        .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            name: module.name.clone(),
            vocab: module.vocab.clone(),
            input_shape: module.input_shape,
            target_kind: module.target_kind,
            output_len: module.output_len,
            splits,
            notes: module.notes.clone(),
            pool: module.pool.clone(),
            crops: module.crops.as_deref().cloned(),
        })
    }

    /// Samples over all splits.
    pub fn total_samples(&self) -> usize {
        self.splits.iter().map(|s| s.samples).sum()
    }

    /// Per vocabulary index, the counts summed over all splits.
    pub fn total_counts(&self) -> Vec<u64> {
        let mut total = vec![0u64; self.vocab.len()];
        for s in &self.splits {
            for (t, c) in total.iter_mut().zip(&s.counts) {
                *t += c;
            }
        }
        total
    }
}

fn at(split: &str, index: usize, e: Error) -> Error {
    Error::Sample {
        index,
        source: Box::new(Error::invalid(format!("{split} split"), e.to_string())),
    }
}

/// Partial counts of one rayon job.
struct Tally {
    lengths: Vec<usize>,
    counts: Vec<u64>,
}

impl Tally {
    fn new(vocab_len: usize) -> Self {
        Self {
            lengths: Vec::new(),
            counts: vec![0; vocab_len],
        }
    }

    fn add(
        &mut self,
        target: &Target,
        kind: TargetKind,
        vocab: &Vocabulary,
        end: Option<u32>,
    ) -> Result<()> {
        let out_of_range = |l: u32| {
            Error::invalid(
                "target",
                format!("label {l} is outside the {}-symbol vocabulary", vocab.len()),
            )
        };
        match (target, kind) {
            (Target::Class(c), TargetKind::Class) => {
                *self
                    .counts
                    .get_mut(*c as usize)
                    .ok_or_else(|| out_of_range(*c))? += 1;
            }
            (Target::Sequence(seq), TargetKind::Sequence) => {
                let mut len = 0;
                for &l in seq {
                    if Some(l) == end {
                        break;
                    }
                    let slot = self
                        .counts
                        .get_mut(l as usize)
                        .ok_or_else(|| out_of_range(l))?;
                    if !vocab.is_special(l) {
                        *slot += 1;
                        len += 1;
                    }
                }
                if self.lengths.len() <= len {
                    self.lengths.resize(len + 1, 0);
                }
                self.lengths[len] += 1;
            }
            (t, k) => {
                return Err(Error::invalid(
                    "target",
                    format!("the module declares {k:?} targets but this sample has {t:?}"),
                ))
            }
        }
        Ok(())
    }

    fn merge(mut self, other: Tally) -> Self {
        if self.lengths.len() < other.lengths.len() {
            self.lengths.resize(other.lengths.len(), 0);
        }
        for (a, b) in self.lengths.iter_mut().zip(&other.lengths) {
            *a += b;
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self
    }
}

const BAR_WIDTH: usize = 32;
/// Length histograms are grouped into about this many bins.
const LENGTH_BINS: usize = 16;

impl fmt::Display for DataStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [c, h, w] = self.input_shape;
        let kind = match (self.target_kind, self.output_len) {
            (TargetKind::Class, _) => "class targets".to_string(),
            (TargetKind::Sequence, Some(l)) => format!("sequence targets of length {l}"),
            (TargetKind::Sequence, None) => "sequence targets".to_string(),
        };
        writeln!(
            f,
            "{}: {kind}, {}-symbol vocabulary, input (C, H, W) = ({c}, {h}, {w})",
            self.name,
            self.vocab.len()
        )?;
        if let Some(pool) = &self.pool {
            writeln!(
                f,
                "  pool: {} samples in {} classes ({})",
                thousands(pool.samples as u64),
                pool.classes,
                pool.source
            )?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        writeln!(f)?;
        writeln!(f, "{:<6} {:>10}  first image (HxW)", "split", "samples")?;
        for s in &self.splits {
            let shape = match s.first_image {
                None => "-".to_string(),
                Some((ih, iw)) if (ih as usize, iw as usize) == (h, w) && c == 1 => {
                    format!("{ih}x{iw}")
                }
                Some((ih, iw)) => {
                    format!("{ih}x{iw}  MISMATCH: the module declares {h}x{w} with {c} channel(s)")
                }
            };
            writeln!(
                f,
                "{:<6} {:>10}  {shape}",
                s.split,
                thousands(s.samples as u64)
            )?;
        }
        writeln!(
            f,
            "{:<6} {:>10}",
            "total",
            thousands(self.total_samples() as u64)
        )?;
        if let Some(crops) = &self.crops {
            fmt_crops(f, crops)?;
        }
        match self.target_kind {
            TargetKind::Class => self.fmt_classes(f),
            TargetKind::Sequence => {
                self.fmt_lengths(f)?;
                self.fmt_symbols(f)
            }
        }
    }
}

/// Pages, crops, sizes, unknown characters and skips of a page dataset.
fn fmt_crops(f: &mut fmt::Formatter<'_>, r: &CropReport) -> fmt::Result {
    writeln!(
        f,
        "\ncrops on a {}x{} canvas (W x H):",
        r.canvas.0, r.canvas.1
    )?;
    writeln!(
        f,
        "{:<6} {:>6} {:>8} {:>9} {:>9} {:>9}",
        "split", "pages", "crops", "chars", "too wide", "too long"
    )?;
    for s in &r.splits {
        writeln!(
            f,
            "{:<6} {:>6} {:>8} {:>9} {:>9} {:>9}",
            s.split,
            thousands(s.pages as u64),
            thousands(s.lines as u64),
            thousands(s.chars as u64),
            thousands(s.over_width as u64),
            thousands(s.too_long as u64)
        )?;
    }
    for s in &r.splits {
        writeln!(f, "  {} width:  {}", s.split, s.width)?;
        writeln!(f, "  {} height: {}", s.split, s.height)?;
    }
    for s in &r.splits {
        writeln!(
            f,
            "  {} characters not in the vocabulary ({} lines, left out of the labels): {}",
            s.split,
            s.unknown.lines,
            s.unknown.summary()
        )?;
    }
    let x = &r.extraction;
    if r.normalised > 0 {
        writeln!(
            f,
            "  texts changed by normalisation: {}",
            thousands(r.normalised as u64)
        )?;
    }
    if x.unlisted_pages > 0 {
        writeln!(
            f,
            "  pages in no split file (left out): {}",
            x.unlisted_pages
        )?;
    }
    for (reason, n) in &x.skipped {
        writeln!(f, "  lines skipped, {reason}: {}", thousands(*n as u64))?;
    }
    for e in x.skipped_examples.iter().take(5) {
        writeln!(f, "    e.g. {e}")?;
    }
    for p in &x.failed_pages {
        writeln!(f, "  page left out: {p}")?;
    }
    Ok(())
}

impl DataStats {
    fn split_header(&self, f: &mut fmt::Formatter<'_>, first: &str) -> fmt::Result {
        write!(f, "{first:<8}")?;
        for s in &self.splits {
            write!(f, " {:>9}", s.split)?;
        }
        writeln!(f, " {:>9}", "total")
    }

    fn fmt_classes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.total_counts();
        let max = total.iter().copied().max().unwrap_or(0);
        writeln!(f, "\nsamples per class:")?;
        self.split_header(f, "class")?;
        for (i, &t) in total.iter().enumerate() {
            write!(f, "{:<8}", symbol_name(&self.vocab, i))?;
            for s in &self.splits {
                write!(f, " {:>9}", thousands(s.counts[i]))?;
            }
            writeln!(f, " {:>9} {}", thousands(t), bar(t, max))?;
        }
        Ok(())
    }

    fn fmt_lengths(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nlabel length (characters, special tokens excluded):")?;
        for s in &self.splits {
            if let Some((min, mean, max)) = s.length_summary() {
                writeln!(f, "  {:<6} min {min}, mean {mean:.1}, max {max}", s.split)?;
            }
        }
        let longest = self
            .splits
            .iter()
            .map(|s| s.label_lengths.len())
            .max()
            .unwrap_or(0);
        if longest == 0 {
            return Ok(());
        }
        let bin = longest.div_ceil(LENGTH_BINS).max(1);
        let binned = |s: &SplitStats, lo: usize| -> u64 {
            s.label_lengths
                .iter()
                .skip(lo)
                .take(bin)
                .map(|&c| c as u64)
                .sum()
        };
        let rows: Vec<(usize, Vec<u64>)> = (0..longest)
            .step_by(bin)
            .map(|lo| (lo, self.splits.iter().map(|s| binned(s, lo)).collect()))
            .collect();
        let max = rows
            .iter()
            .map(|(_, v)| v.iter().sum::<u64>())
            .max()
            .unwrap_or(0);
        self.split_header(f, "length")?;
        for (lo, counts) in rows {
            let label = if bin == 1 {
                lo.to_string()
            } else {
                format!("{lo}-{}", lo + bin - 1)
            };
            write!(f, "{label:<8}")?;
            for c in &counts {
                write!(f, " {:>9}", thousands(*c))?;
            }
            let t: u64 = counts.iter().sum();
            writeln!(f, " {:>9} {}", thousands(t), bar(t, max))?;
        }
        Ok(())
    }

    fn fmt_symbols(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.total_counts();
        let all: u64 = total.iter().sum();
        let mut order: Vec<usize> = (0..total.len()).filter(|&i| total[i] > 0).collect();
        order.sort_by(|&a, &b| total[b].cmp(&total[a]).then(a.cmp(&b)));
        let max = order.first().map_or(0, |&i| total[i]);
        writeln!(f, "\nsymbol frequency (all splits, most frequent first):")?;
        writeln!(f, "{:<8} {:>10} {:>6}", "symbol", "count", "share")?;
        for i in order {
            let share = 100.0 * total[i] as f64 / all as f64;
            writeln!(
                f,
                "{:<8} {:>10} {share:>5.1}% {}",
                symbol_name(&self.vocab, i),
                thousands(total[i]),
                bar(total[i], max)
            )?;
        }
        let unseen: Vec<String> = (0..total.len())
            .filter(|&i| total[i] == 0 && !self.vocab.is_special(i as u32))
            .map(|i| symbol_name(&self.vocab, i))
            .collect();
        if !unseen.is_empty() {
            writeln!(f, "never used: {}", unseen.join(" "))?;
        }
        Ok(())
    }
}

/// `'a'`, `' '`, `'\n'` or `<B>`.
fn symbol_name(vocab: &Vocabulary, index: usize) -> String {
    let s = vocab.symbol(index as u32).unwrap_or("?");
    if vocab.is_special(index as u32) {
        s.to_string()
    } else {
        let printable = s
            .chars()
            .all(|c| !c.is_control() && (c == ' ' || !c.is_whitespace()));
        if printable {
            format!("'{s}'")
        } else {
            format!("'{}'", s.escape_default())
        }
    }
}

fn bar(count: u64, max: u64) -> String {
    if max == 0 || count == 0 {
        return String::new();
    }
    let n = ((count as f64 / max as f64) * BAR_WIDTH as f64)
        .round()
        .max(1.0) as usize;
    "█".repeat(n)
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(116_323), "116,323");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn bars_scale_to_the_maximum() {
        assert_eq!(bar(10, 10).chars().count(), BAR_WIDTH);
        assert_eq!(bar(5, 10).chars().count(), BAR_WIDTH / 2);
        assert_eq!(bar(1, 1000).chars().count(), 1);
        assert_eq!(bar(0, 10), "");
    }
}
