//! The symbol vocabulary: characters and special tokens ⇄ label indices.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::content::ContentRule;
use crate::error::{Error, Result};

/// CTC blank token.
pub const BLANK: &str = "<B>";
/// Start-of-sequence token.
pub const START: &str = "<S>";
/// End-of-sequence token.
pub const END: &str = "<E>";
/// Padding token.
pub const PAD: &str = "<P>";

/// The four special tokens, in the order they occupy indices 0–3.
pub const SPECIAL_TOKENS: [&str; 4] = [BLANK, START, END, PAD];

/// Characters the IAM handwriting database adds to EMNIST's 62 classes.
pub const IAM_EXTRA_CHARS: &str = " !\"#&'()*+,-./:;?";

/// An ordered list of symbols; a symbol's position is its label index.
///
/// The course's line vocabulary has 83 symbols, in this order (index = label):
///
/// | index | symbols |
/// |---|---|
/// | 0–3 | `<B>` (CTC blank), `<S>` (start), `<E>` (end), `<P>` (padding) |
/// | 4–13 | `0`–`9` |
/// | 14–39 | `A`–`Z` |
/// | 40–65 | `a`–`z` |
/// | 66–82 | space and `!"#&'()*+,-./:;?` |
///
/// [`Vocabulary::paragraphs`] appends `\n` (index 83) for paragraph models.
/// A vocabulary travels inside every checkpoint and model artifact (as its
/// list of symbols, see [`Vocabulary::symbols`]) so that a model is never
/// decoded with the wrong mapping.
///
/// Symbols are either one character or a special token written `<X>`.
/// Serialises as the plain list of symbols.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Vocabulary {
    symbols: Vec<String>,
    chars: HashMap<char, u32>,
    specials: HashMap<String, u32>,
}

impl Vocabulary {
    /// Builds a vocabulary from symbols; duplicates and multi-character
    /// symbols that are not `<...>` tokens are rejected.
    pub fn from_symbols<S: Into<String>>(symbols: impl IntoIterator<Item = S>) -> Result<Self> {
        let symbols: Vec<String> = symbols.into_iter().map(Into::into).collect();
        let mut chars = HashMap::new();
        let mut specials = HashMap::new();
        for (i, s) in symbols.iter().enumerate() {
            let idx =
                u32::try_from(i).map_err(|_| Error::invalid("vocabulary", "too many symbols"))?;
            let mut it = s.chars();
            let fresh = match (it.next(), it.next()) {
                (Some(c), None) => chars.insert(c, idx).is_none(),
                _ if s.len() > 2 && s.starts_with('<') && s.ends_with('>') => {
                    specials.insert(s.clone(), idx).is_none()
                }
                _ => {
                    return Err(Error::invalid(
                        "vocabulary",
                        format!("symbol {i} is {s:?}: expected one character or a <TOKEN>"),
                    ))
                }
            };
            if !fresh {
                return Err(Error::invalid(
                    "vocabulary",
                    format!("symbol {s:?} appears twice (second time at index {i})"),
                ));
            }
        }
        Ok(Self {
            symbols,
            chars,
            specials,
        })
    }

    /// The course's 83-symbol line vocabulary (see the module docs).
    pub fn emnist() -> Self {
        let symbols = SPECIAL_TOKENS
            .iter()
            .map(|s| s.to_string())
            .chain(emnist_chars().map(String::from))
            .chain(IAM_EXTRA_CHARS.chars().map(String::from));
        Self::from_symbols(symbols).expect("the built-in vocabulary is valid")
    }

    /// The 84-symbol paragraph vocabulary: [`Vocabulary::emnist`] plus `\n`.
    pub fn paragraphs() -> Self {
        let mut symbols = Self::emnist().symbols;
        symbols.push("\n".to_string());
        Self::from_symbols(symbols).expect("the built-in vocabulary is valid")
    }

    /// The ten digit classes of MNIST, without special tokens.
    pub fn digits() -> Self {
        Self::from_symbols(('0'..='9').map(String::from)).expect("digits are a valid vocabulary")
    }

    /// Number of symbols (= number of output classes of a model).
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when there are no symbols.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// All symbols, index order.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// The symbol of a label index, if in range.
    pub fn symbol(&self, index: u32) -> Option<&str> {
        self.symbols.get(index as usize).map(String::as_str)
    }

    /// Index of a single character.
    pub fn char_index(&self, c: char) -> Option<u32> {
        self.chars.get(&c).copied()
    }

    /// Index of a special token such as `"<B>"`.
    pub fn token_index(&self, token: &str) -> Option<u32> {
        self.specials.get(token).copied()
    }

    /// Index of a symbol as [`Self::symbols`] lists it: one character or a
    /// special token.
    pub fn symbol_index(&self, symbol: &str) -> Option<u32> {
        let mut it = symbol.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => self.char_index(c),
            _ => self.token_index(symbol),
        }
    }

    /// Index of a special token, or an error naming it when the vocabulary lacks it.
    pub fn require_token(&self, token: &str) -> Result<u32> {
        self.token_index(token).ok_or_else(|| {
            Error::invalid(
                "vocabulary",
                format!("this {}-symbol vocabulary has no {token} token", self.len()),
            )
        })
    }

    /// Index of the CTC blank `<B>`.
    pub fn blank(&self) -> Result<u32> {
        self.require_token(BLANK)
    }

    /// Index of the start token `<S>`.
    pub fn start(&self) -> Result<u32> {
        self.require_token(START)
    }

    /// Index of the end token `<E>`.
    pub fn end(&self) -> Result<u32> {
        self.require_token(END)
    }

    /// Index of the padding token `<P>`.
    pub fn pad(&self) -> Result<u32> {
        self.require_token(PAD)
    }

    /// True for indices of special tokens (`<B>`, `<S>`, `<E>`, `<P>`, ...).
    pub fn is_special(&self, index: u32) -> bool {
        self.symbol(index)
            .is_some_and(|s| s.len() > 2 && s.starts_with('<') && s.ends_with('>'))
    }

    /// Encodes every character of `text`; an unknown character is an error
    /// naming it and its (character) position.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        text.chars()
            .enumerate()
            .map(|(position, ch)| {
                self.char_index(ch).ok_or_else(|| Error::UnknownCharacter {
                    ch,
                    position,
                    text: text.to_string(),
                    vocab_len: self.len(),
                })
            })
            .collect()
    }

    /// Encodes `text` into exactly `length` labels: optional `<S>`/`<E>`
    /// around it, then `<P>` up to `length`. Too long a text is an error.
    pub fn encode_padded(
        &self,
        text: &str,
        length: usize,
        with_start_end: bool,
    ) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(length);
        if with_start_end {
            out.push(self.start()?);
        }
        out.extend(self.encode(text)?);
        if with_start_end {
            out.push(self.end()?);
        }
        if out.len() > length {
            return Err(Error::invalid(
                "text length",
                format!(
                    "{text:?} needs {} labels{} but the target length is {length}",
                    out.len(),
                    if with_start_end { " with <S>/<E>" } else { "" }
                ),
            ));
        }
        out.resize(length, self.pad()?);
        Ok(out)
    }

    /// Encodes a batch of texts as a `(B, length)` `u32` tensor (see [`Self::encode_padded`]).
    pub fn encode_batch(
        &self,
        texts: &[impl AsRef<str>],
        length: usize,
        with_start_end: bool,
        device: &Device,
    ) -> Result<Tensor> {
        let mut flat = Vec::with_capacity(texts.len() * length);
        for t in texts {
            flat.extend(self.encode_padded(t.as_ref(), length, with_start_end)?);
        }
        Ok(Tensor::from_vec(flat, (texts.len(), length), device)?)
    }

    /// Decodes labels to text by the content rule ([`crate::ContentRule`]):
    /// `<S>` and other special tokens are skipped, reading stops at the
    /// first `<E>` or `<P>` (what follows is padding by definition).
    /// Out-of-range indices in the text are an error naming their position.
    pub fn decode(&self, labels: &[u32]) -> Result<String> {
        let rule = ContentRule::of(self);
        let mut s = String::with_capacity(labels.len());
        for pos in rule.positions(labels) {
            let l = labels[pos];
            let sym = self.symbol(l).ok_or_else(|| {
                Error::invalid(
                    "label",
                    format!(
                        "label {l} at position {pos} is outside the {}-symbol vocabulary",
                        self.len()
                    ),
                )
            })?;
            s.push_str(sym);
        }
        Ok(s)
    }

    /// Decodes a `(B, L)` integer tensor row by row with [`Self::decode`].
    pub fn decode_batch(&self, labels: &Tensor) -> Result<Vec<String>> {
        let rows = labels.to_dtype(candle_core::DType::U32)?.to_vec2::<u32>()?;
        rows.iter().map(|r| self.decode(r)).collect()
    }

    /// Checks that `other` is this vocabulary, naming the first difference.
    pub fn ensure_same(&self, other: &Vocabulary, what: &str) -> Result<()> {
        if self == other {
            return Ok(());
        }
        let first = self
            .symbols
            .iter()
            .zip(&other.symbols)
            .position(|(a, b)| a != b);
        let detail = match first {
            Some(i) => format!(
                "symbol {i} is {:?} here but {:?} in {what}",
                self.symbols[i], other.symbols[i]
            ),
            None => format!("{} symbols here but {} in {what}", self.len(), other.len()),
        };
        Err(Error::invalid(
            "vocabulary",
            format!("mismatch with {what}: {detail}"),
        ))
    }
}

impl TryFrom<Vec<String>> for Vocabulary {
    type Error = Error;
    fn try_from(symbols: Vec<String>) -> Result<Self> {
        Self::from_symbols(symbols)
    }
}

impl From<Vocabulary> for Vec<String> {
    fn from(v: Vocabulary) -> Self {
        v.symbols
    }
}

/// The 62 EMNIST ByClass characters in label order: digits, upper, lower.
pub fn emnist_chars() -> impl Iterator<Item = char> {
    ('0'..='9').chain('A'..='Z').chain('a'..='z')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emnist_vocabulary_has_course_layout() {
        let v = Vocabulary::emnist();
        assert_eq!(v.len(), 83);
        assert_eq!(v.blank().unwrap(), 0);
        assert_eq!(v.start().unwrap(), 1);
        assert_eq!(v.end().unwrap(), 2);
        assert_eq!(v.pad().unwrap(), 3);
        assert_eq!(v.char_index('0'), Some(4));
        assert_eq!(v.char_index('A'), Some(14));
        assert_eq!(v.char_index('a'), Some(40));
        assert_eq!(v.char_index(' '), Some(66));
        assert_eq!(v.char_index('?'), Some(82));
        assert_eq!(Vocabulary::paragraphs().char_index('\n'), Some(83));
    }

    #[test]
    fn symbol_index_finds_characters_and_tokens_as_listed() {
        let v = Vocabulary::emnist();
        for (i, s) in v.symbols().iter().enumerate() {
            assert_eq!(v.symbol_index(s), Some(i as u32), "{s:?}");
        }
        assert_eq!(v.symbol_index("é"), None);
        assert_eq!(v.symbol_index("<X>"), None);
        assert_eq!(v.symbol_index(""), None);
    }

    #[test]
    fn round_trip_with_padding_and_tokens() {
        let v = Vocabulary::emnist();
        let ids = v.encode_padded("Hi 2", 8, true).unwrap();
        assert_eq!(ids, vec![1, 14 + 7, 40 + 8, 66, 6, 2, 3, 3]);
        assert_eq!(v.decode(&ids).unwrap(), "Hi 2");
        let t = v
            .encode_batch(&["ab", "c"], 4, false, &Device::Cpu)
            .unwrap();
        assert_eq!(t.dims(), &[2, 4]);
        assert_eq!(v.decode_batch(&t).unwrap(), vec!["ab", "c"]);
    }

    #[test]
    fn decoding_stops_at_padding_as_training_does() {
        // `a <P> b` used to decode as "ab" while the training metrics read "a".
        let v = Vocabulary::emnist();
        let (a, b) = (v.char_index('a').unwrap(), v.char_index('b').unwrap());
        assert_eq!(v.decode(&[a, 3, b]).unwrap(), "a");
        assert_eq!(v.decode(&[1, a, 0, b, 2, a]).unwrap(), "ab");
        let err = v.decode(&[1, a, 200]).unwrap_err().to_string();
        assert!(err.contains("label 200 at position 2"), "{err}");
    }

    #[test]
    fn unknown_character_names_char_and_position() {
        let err = Vocabulary::emnist().encode("ab€c").unwrap_err().to_string();
        assert!(err.contains("'€'"), "{err}");
        assert!(err.contains("position 2"), "{err}");
    }

    #[test]
    fn too_long_text_is_an_error() {
        let err = Vocabulary::emnist()
            .encode_padded("abcd", 5, true)
            .unwrap_err();
        assert!(err.to_string().contains("needs 6 labels"), "{err}");
    }

    #[test]
    fn serde_round_trip_and_mismatch() {
        let v = Vocabulary::paragraphs();
        let json = serde_json::to_string(&v).unwrap();
        let back: Vocabulary = serde_json::from_str(&json).unwrap();
        assert_eq!(v, back);
        let err = Vocabulary::emnist()
            .ensure_same(&v, "model.safetensors")
            .unwrap_err();
        assert!(err.to_string().contains("83 symbols here but 84"), "{err}");
        assert!(serde_json::from_str::<Vocabulary>(r#"["a","a"]"#).is_err());
        assert!(serde_json::from_str::<Vocabulary>(r#"["ab"]"#).is_err());
    }
}
