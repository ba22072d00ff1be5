//! The Brown corpus as NLTK distributes it (`brown.zip`).
//!
//! Members `brown/ca01` … `brown/cr09` hold one sentence per line, tokens
//! written `word/tag` (split at the last `/`, as NLTK's `str2tuple`); blank
//! lines separate paragraphs. `README`, `CONTENTS`, `cats.txt` are ignored.
//!
//! Cleaning follows the course (`sentence_generator.brown_text`): drop every
//! character outside `[0-9A-Za-z ]` (the course strips ASCII punctuation from
//! ASCII text, which is the same), collapse runs of spaces.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The corpus: sentences as lists of words (tags removed), in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrownCorpus {
    /// Number of `brown/cXNN` members read.
    pub files: usize,
    /// Every sentence, each a list of words.
    pub sentences: Vec<Vec<String>>,
}

impl BrownCorpus {
    /// Every sentence cleaned with [`clean_text`] (empty ones dropped).
    pub fn clean_sentences(&self) -> Vec<String> {
        self.sentences
            .iter()
            .map(|s| clean_text(&s.join(" ")))
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The course's corpus text: all words joined by one space, cleaned,
    /// runs of spaces collapsed — but not trimmed, exactly as
    /// `brown_text()` (a trailing punctuation token leaves a trailing space).
    pub fn text(&self) -> String {
        let words: Vec<&str> = self
            .sentences
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let joined = words.join(" ");
        collapse_spaces(&keep_alphanumeric(&joined))
    }
}

/// Reads `brown.zip`; a zip without any `brown/cXNN` member is an error
/// naming the zip and what it should contain.
pub fn read_brown_zip(path: &Path) -> Result<BrownCorpus> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| Error::format(path, format!("not a readable zip archive: {e}")))?;
    let mut names = Vec::new();
    for name in zip.file_names() {
        let name = name.map_err(|e| Error::format(path, format!("unreadable member name: {e}")))?;
        if is_corpus_member(&name) {
            names.push(name.into_owned());
        }
    }
    if names.is_empty() {
        return Err(Error::format(
            path,
            "no Brown corpus member in the zip: expected files named brown/ca01 … brown/cr09 (NLTK's corpora/brown.zip)",
        ));
    }
    names.sort();
    let mut corpus = BrownCorpus {
        files: names.len(),
        sentences: Vec::new(),
    };
    let mut bytes = Vec::new();
    for name in &names {
        bytes.clear();
        zip.by_name(name)
            .and_then(|mut m| m.read_to_end(&mut bytes).map_err(Into::into))
            .map_err(|e| Error::format(path, format!("cannot read member {name}: {e}")))?;
        // The corpus is ASCII; Latin-1 decoding never fails and cleaning
        // drops anything else anyway.
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        corpus.sentences.extend(parse_tagged_sentences(&text));
    }
    Ok(corpus)
}

/// True for `brown/c` + lowercase letter + two digits (NLTK's `c[a-z]\d\d`).
fn is_corpus_member(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("brown/c") else {
        return false;
    };
    let b = rest.as_bytes();
    b.len() == 3 && b[0].is_ascii_lowercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

/// Splits tagged text into sentences (one per non-blank line) of words.
pub fn parse_tagged_sentences(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            line.split_whitespace()
                .map(|tok| match tok.rfind('/') {
                    Some(i) => tok[..i].to_string(),
                    None => tok.to_string(),
                })
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Keeps `[0-9A-Za-z ]`, collapses runs of spaces and trims.
pub fn clean_text(text: &str) -> String {
    collapse_spaces(&keep_alphanumeric(text)).trim().to_string()
}

fn keep_alphanumeric(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect()
}

fn collapse_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev_space = false;
    for c in text.chars() {
        if c == ' ' && prev_space {
            continue;
        }
        prev_space = c == ' ';
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        assert!(is_corpus_member("brown/ca01"));
        assert!(is_corpus_member("brown/cr09"));
        assert!(!is_corpus_member("brown/README"));
        assert!(!is_corpus_member("brown/cats.txt"));
        assert!(!is_corpus_member("brown/CONTENTS"));
        assert!(!is_corpus_member("brown/"));
    }
}
