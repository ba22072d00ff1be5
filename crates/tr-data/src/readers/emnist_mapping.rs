//! EMNIST's label mapping file, e.g. `emnist-byclass-mapping.txt`: one
//! `<label index> <ASCII code>` pair per line.

use std::path::Path;

use crate::error::{Error, Result};

/// One mapping entry: EMNIST label `index` is character `ch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MappingEntry {
    pub index: u32,
    pub ch: char,
}

/// Reads a mapping file; a bad line is an error naming the file, the line
/// number and the line.
pub fn read_emnist_mapping(path: &Path) -> Result<Vec<MappingEntry>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_emnist_mapping(&text, path)
}

/// Parses mapping text; `path` names it in errors.
pub fn parse_emnist_mapping(text: &str, path: &Path) -> Result<Vec<MappingEntry>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let bad = |why: &str| {
            Error::format(
                path,
                format!(
                    "line {}: {why}: expected `<index> <ascii code>`, found {line:?}",
                    i + 1
                ),
            )
        };
        let mut fields = trimmed.split_whitespace();
        let (Some(index), Some(code), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(bad("wrong number of fields"));
        };
        let index: u32 = index.parse().map_err(|_| bad("index is not a number"))?;
        let code: u32 = code
            .parse()
            .map_err(|_| bad("ASCII code is not a number"))?;
        let ch = char::from_u32(code)
            .filter(|c| c.is_ascii())
            .ok_or_else(|| bad("code is not an ASCII character"))?;
        if out.iter().any(|e: &MappingEntry| e.index == index) {
            return Err(bad("index appears twice"));
        }
        out.push(MappingEntry { index, ch });
    }
    if out.is_empty() {
        return Err(Error::format(path, "mapping file has no entries"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs() {
        let m = parse_emnist_mapping("0 48\n1 49\r\n10 65\n\n", Path::new("m.txt")).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[2], MappingEntry { index: 10, ch: 'A' });
    }
}
