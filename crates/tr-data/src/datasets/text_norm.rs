//! Transcription normalisation, applied to every line text before a
//! vocabulary sees it: Unicode NFC, a replacement table, white space.
//!
//! Real ground truth mixes typographic variants of the same sign (curly and
//! straight quotes, several dashes, no-break spaces) and sometimes
//! decomposed accents (`e` + U+0301). A model should learn one symbol for
//! each, so by default:
//!
//! 1. the text is put in Unicode NFC (`é` is one code point);
//! 2. every key of [`TextNormalization::table`] is replaced by its value —
//!    the default table ([`default_table`]) maps curly quotes to straight
//!    ones, the dashes `‐ ‑ ‒ – — −` to `-`, `…` to `...`, the no-break and
//!    thin spaces to a space, and the `ﬁ ﬂ` ligatures to their letters; it
//!    does **not** touch letters of other languages (`é à ç œ « » £` stay);
//! 3. leading and trailing white space is removed and inner runs of white
//!    space (tabs included) become one space.
//!
//! Every step can be switched off or the table replaced in the config
//! (`data.normalization`); the settings are part of a dataset's config, so
//! a checkpoint records how its vocabulary's texts were normalised.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// How line texts are normalised (defaults described in the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextNormalization {
    /// Compose to Unicode NFC first (and again after the table).
    pub nfc: bool,
    /// Replacements, applied longest key first; an empty value deletes.
    pub table: BTreeMap<String, String>,
    /// Trim and collapse runs of white space into one space.
    pub collapse_whitespace: bool,
}

impl Default for TextNormalization {
    fn default() -> Self {
        Self {
            nfc: true,
            table: default_table(),
            collapse_whitespace: true,
        }
    }
}

/// The default replacement table (see the module docs).
pub fn default_table() -> BTreeMap<String, String> {
    const PAIRS: &[(&str, &str)] = &[
        ("\u{2018}", "'"),   // ‘
        ("\u{2019}", "'"),   // ’
        ("\u{201A}", "'"),   // ‚
        ("\u{201B}", "'"),   // ‛
        ("\u{2032}", "'"),   // ′
        ("\u{201C}", "\""),  // “
        ("\u{201D}", "\""),  // ”
        ("\u{201E}", "\""),  // „
        ("\u{201F}", "\""),  // ‟
        ("\u{2033}", "\""),  // ″
        ("\u{2010}", "-"),   // ‐
        ("\u{2011}", "-"),   // ‑
        ("\u{2012}", "-"),   // ‒
        ("\u{2013}", "-"),   // –
        ("\u{2014}", "-"),   // —
        ("\u{2212}", "-"),   // −
        ("\u{2026}", "..."), // …
        ("\u{00A0}", " "),   // no-break space
        ("\u{2009}", " "),   // thin space
        ("\u{202F}", " "),   // narrow no-break space
        ("\u{FB01}", "fi"),
        ("\u{FB02}", "fl"),
    ];
    PAIRS
        .iter()
        .map(|&(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl TextNormalization {
    /// No change at all (texts exactly as the files give them).
    pub fn none() -> Self {
        Self {
            nfc: false,
            table: BTreeMap::new(),
            collapse_whitespace: false,
        }
    }

    /// The normalised form of `text`.
    pub fn apply(&self, text: &str) -> String {
        let mut s: String = if self.nfc {
            text.nfc().collect()
        } else {
            text.to_string()
        };
        if !self.table.is_empty() {
            s = self.replace(&s);
            if self.nfc {
                s = s.nfc().collect();
            }
        }
        if self.collapse_whitespace {
            s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        s
    }

    /// One left-to-right pass: at each position the longest matching key wins.
    fn replace(&self, s: &str) -> String {
        let mut keys: Vec<(&str, &str)> = self
            .table
            .iter()
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        keys.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        'outer: while let Some(c) = rest.chars().next() {
            for (k, v) in &keys {
                if let Some(after) = rest.strip_prefix(k) {
                    out.push_str(v);
                    rest = after;
                    continue 'outer;
                }
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fold_typography_and_keep_letters() {
        let n = TextNormalization::default();
        assert_eq!(
            n.apply("  \u{201C}Qu\u{2019}il\u{00A0}vienne\u{201D} \u{2014} d\u{00E9}j\u{00E0}\u{2026}\t"),
            "\"Qu'il vienne\" - déjà..."
        );
        assert_eq!(n.apply("« œuvre » £5 ç"), "« œuvre » £5 ç");
    }

    #[test]
    fn nfc_composes_accents() {
        let n = TextNormalization::default();
        let decomposed = "e\u{0301}te\u{0301}";
        assert_eq!(n.apply(decomposed), "été");
        assert_eq!(n.apply(decomposed).chars().count(), 3);
        assert_eq!(TextNormalization::none().apply(decomposed), decomposed);
    }

    #[test]
    fn longest_key_wins_and_empty_value_deletes() {
        let mut n = TextNormalization::none();
        n.table.insert("ab".into(), "X".into());
        n.table.insert("a".into(), "Y".into());
        n.table.insert("#".into(), String::new());
        assert_eq!(n.apply("aab#a"), "YXY");
    }

    #[test]
    fn whitespace_collapses_only_when_asked() {
        let mut n = TextNormalization::none();
        assert_eq!(n.apply(" a  b "), " a  b ");
        n.collapse_whitespace = true;
        assert_eq!(n.apply(" a \t b "), "a b");
    }
}
