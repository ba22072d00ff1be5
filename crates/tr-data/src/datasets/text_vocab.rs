//! The vocabulary of real data, built from its training transcriptions, and
//! the labels of every split encoded against it.
//!
//! The EMNIST 83 symbols cannot hold `é à ç « » œ €` or a Victorian letter's
//! `£`, so a real dataset's vocabulary is the four special tokens followed by
//! every character of the (normalised) training texts, sorted by code point
//! ([`vocabulary_from_texts`]), or a fixed list from the config (to match a
//! model trained before, or several datasets mixed).
//!
//! A character of a validation or test text that the vocabulary lacks cannot
//! be predicted by any model trained on it. It is **never dropped
//! silently**: [`encode_split`] counts it per character with example sources
//! ([`UnknownChars`], shown by `htr data stats` and logged), leaves it out of
//! the label, and with `strict` makes it an error naming the split, the line
//! and the character. A text longer than the label length is likewise an
//! error with `strict` and otherwise left out and counted.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::vocab::{Vocabulary, SPECIAL_TOKENS};

/// `<B> <S> <E> <P>`, the characters of `texts` and `extra` sorted by code
/// point, and `\n` when `newline` (paragraphs).
pub fn vocabulary_from_texts<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    extra: &str,
    newline: bool,
) -> Result<Vocabulary> {
    let mut chars: BTreeSet<char> = texts.into_iter().flat_map(str::chars).collect();
    chars.extend(extra.chars());
    chars.remove(&'\n');
    let mut symbols: Vec<String> = SPECIAL_TOKENS.iter().map(|s| s.to_string()).collect();
    symbols.extend(chars.into_iter().map(String::from));
    if newline {
        symbols.push("\n".to_string());
    }
    Vocabulary::from_symbols(symbols)
}

/// One character missing from the vocabulary: how often, and where.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unknown {
    pub count: usize,
    /// Up to three sources (`collection:page/line`) where it occurs.
    pub examples: Vec<String>,
}

/// Characters of one split that the vocabulary lacks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownChars {
    pub chars: BTreeMap<char, Unknown>,
    /// Lines holding at least one of them.
    pub lines: usize,
}

impl UnknownChars {
    /// Total occurrences.
    pub fn total(&self) -> usize {
        self.chars.values().map(|u| u.count).sum()
    }

    /// `é ×2 (hooker:p1/l3), ∞ ×1 (…)`, or `none`.
    pub fn summary(&self) -> String {
        if self.chars.is_empty() {
            return "none".to_string();
        }
        self.chars
            .iter()
            .map(|(c, u)| format!("{c:?} ×{} ({})", u.count, u.examples.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// How labels are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelPolicy {
    /// Padded label length.
    pub label_len: usize,
    /// Wrap each text in `<S>` … `<E>`.
    pub with_start_end: bool,
    /// Unknown characters and too-long texts are errors.
    pub strict: bool,
}

/// One split's labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EncodedSplit {
    /// `kept.len() × label_len` labels.
    pub labels: Vec<u32>,
    /// Indices (into the split's texts) of the lines kept.
    pub kept: Vec<usize>,
    pub unknown: UnknownChars,
    /// Lines left out because their labels exceed the label length.
    pub too_long: usize,
}

/// Encodes `texts` (normalised) of split `split`; see the module docs.
pub fn encode_split(
    split: &str,
    texts: &[String],
    sources: &[String],
    vocab: &Vocabulary,
    policy: LabelPolicy,
) -> Result<EncodedSplit> {
    let pad = vocab.pad()?;
    let (start, end) = if policy.with_start_end {
        (Some(vocab.start()?), Some(vocab.end()?))
    } else {
        (None, None)
    };
    let mut out = EncodedSplit::default();
    for (i, text) in texts.iter().enumerate() {
        let source = sources.get(i).map(String::as_str).unwrap_or("?");
        let mut labels: Vec<u32> = start.into_iter().collect();
        let mut missing = false;
        for ch in text.chars() {
            match vocab.char_index(ch) {
                Some(l) => labels.push(l),
                None => {
                    if policy.strict {
                        return Err(Error::invalid(
                            format!("{split} text of {source}"),
                            format!(
                                "character {ch:?} (U+{:04X}) in {text:?} is not in the {}-symbol vocabulary (strict: true)",
                                ch as u32,
                                vocab.len()
                            ),
                        ));
                    }
                    missing = true;
                    let u = out.unknown.chars.entry(ch).or_default();
                    u.count += 1;
                    if u.examples.len() < 3 {
                        u.examples.push(source.to_string());
                    }
                }
            }
        }
        labels.extend(end);
        out.unknown.lines += usize::from(missing);
        if labels.len() > policy.label_len {
            if policy.strict {
                return Err(Error::invalid(
                    format!("{split} text of {source}"),
                    format!(
                        "{text:?} needs {} labels but the label length is {} (strict: true)",
                        labels.len(),
                        policy.label_len
                    ),
                ));
            }
            out.too_long += 1;
            continue;
        }
        labels.resize(policy.label_len, pad);
        out.labels.extend(labels);
        out.kept.push(i);
    }
    if !out.unknown.chars.is_empty() {
        tracing::warn!(
            split,
            lines = out.unknown.lines,
            chars = %out.unknown.summary(),
            "characters outside the vocabulary are left out of the labels (strict: true makes this an error)"
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn vocabulary_sorted_after_specials() {
        let v = vocabulary_from_texts(["ba é", "a\nc"], "£", true).unwrap();
        let syms: Vec<&str> = v.symbols().iter().map(String::as_str).collect();
        assert_eq!(
            syms,
            ["<B>", "<S>", "<E>", "<P>", " ", "a", "b", "c", "£", "é", "\n"]
        );
    }

    #[test]
    fn unknown_reported_dropped_or_strict() {
        let v = vocabulary_from_texts(["abc"], "", false).unwrap();
        let policy = LabelPolicy {
            label_len: 5,
            with_start_end: true,
            strict: false,
        };
        let texts = s(&["ab", "aéb", "abcabc"]);
        let sources = s(&["p/1", "p/2", "p/3"]);
        let enc = encode_split("val", &texts, &sources, &v, policy).unwrap();
        assert_eq!(enc.kept, [0, 1]);
        assert_eq!(enc.too_long, 1);
        assert_eq!(enc.unknown.lines, 1);
        assert_eq!(enc.unknown.chars[&'é'].count, 1);
        assert_eq!(enc.unknown.chars[&'é'].examples, ["p/2"]);
        let (a, b, st, e, p) = (4, 5, 1, 2, 3);
        assert_eq!(enc.labels, [st, a, b, e, p, st, a, b, e, p]);
        assert!(enc.unknown.summary().contains("'é' ×1 (p/2)"));

        let strict = LabelPolicy {
            strict: true,
            ..policy
        };
        let err = encode_split("val", &texts, &sources, &v, strict)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("val text of p/2") && err.contains("U+00E9"),
            "{err}"
        );
    }
}
