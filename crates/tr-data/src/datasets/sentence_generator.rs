//! The course's `SentenceGenerator`: random word-aligned snippets of a corpus.
//!
//! Port of `sentence_generator.py`: word start offsets are 0 and every
//! position after a space; a snippet starts at a random word start (any but
//! the last), its end is drawn uniformly among the later word starts within
//! `max_length` characters, and the slice is trimmed. Up to 11 draws are
//! tried before giving up (the course retries while no end candidate fits).

use rand::Rng;

use crate::error::{Error, Result};
use crate::readers::BrownCorpus;

/// Draws text snippets of at most `max_length` characters from a corpus text.
#[derive(Clone, Debug)]
pub struct SentenceGenerator {
    text: String,
    word_starts: Vec<usize>,
    max_length: usize,
}

impl SentenceGenerator {
    /// A generator over `text` (ASCII, words separated by single spaces).
    pub fn new(text: String, max_length: usize) -> Result<Self> {
        if !text.is_ascii() {
            return Err(Error::invalid(
                "sentence generator text",
                "must be ASCII (one byte per character)",
            ));
        }
        let word_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices(' ').map(|(i, _)| i + 1))
            .collect();
        if word_starts.len() < 2 {
            return Err(Error::invalid(
                "sentence generator text",
                format!("needs at least two words, found {:?}", truncate(&text)),
            ));
        }
        if max_length == 0 {
            return Err(Error::invalid(
                "max_length",
                "the sentence generator needs max_length >= 1",
            ));
        }
        Ok(Self {
            text,
            word_starts,
            max_length,
        })
    }

    /// A generator over the course's Brown corpus text ([`BrownCorpus::text`]).
    pub fn from_brown(corpus: &BrownCorpus, max_length: usize) -> Result<Self> {
        Self::new(corpus.text(), max_length)
    }

    /// Maximum snippet length in characters.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The corpus text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Draws one snippet: non-empty, at most `max_length` characters,
    /// starting and ending at word boundaries.
    pub fn generate(&self, rng: &mut impl Rng) -> Result<String> {
        let n = self.word_starts.len();
        for _ in 0..=10 {
            // np.random.randint(0, n - 1): the last word start is never a start.
            let first = rng.random_range(0..n - 1);
            let start = self.word_starts[first];
            let candidates = self.end_candidates(first, start);
            if candidates.is_empty() {
                continue;
            }
            let end = candidates[rng.random_range(0..candidates.len())];
            let snippet = self.text[start..end].trim();
            if !snippet.is_empty() {
                return Ok(snippet.to_string());
            }
        }
        Err(Error::invalid(
            "sentence generator",
            format!(
                "no snippet of at most {} characters found in 11 tries (words are too long)",
                self.max_length
            ),
        ))
    }

    /// Word starts after `first` within `max_length` characters of `start`.
    fn end_candidates(&self, first: usize, start: usize) -> &[usize] {
        let rest = &self.word_starts[first + 1..];
        let k = rest
            .iter()
            .take_while(|&&s| s - start <= self.max_length)
            .count();
        &rest[..k]
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeding::rng_for;

    #[test]
    fn word_starts_follow_spaces() {
        let g = SentenceGenerator::new("ab cde f ".to_string(), 5).unwrap();
        assert_eq!(g.word_starts, vec![0, 3, 7, 9]);
        // From "cde" (start 3) the ends within 5 chars are 7 only (9 - 3 = 6 > 5).
        assert_eq!(g.end_candidates(1, 3), &[7]);
    }

    #[test]
    fn too_long_words_fail_cleanly() {
        let g = SentenceGenerator::new("abcdefgh ijklmnop".to_string(), 3).unwrap();
        let err = g.generate(&mut rng_for(1, &[])).unwrap_err();
        assert!(err.to_string().contains("11 tries"), "{err}");
    }
}
