//! IAM's `ascii/lines.txt`: one text line of the handwriting database per row.
//!
//! Format (after `#` comment lines):
//! `id status graylevel components x y w h word|word|...` — `status` is
//! `ok` or `err` (word segmentation result), the bounding box is in pixels
//! of the form image, and `|` separates the words of the transcription
//! (a word may itself contain spaces, e.g. `M Ps`). Used as a real-text
//! corpus (language models, synthetic lines).

use std::path::Path;

use crate::error::{Error, Result};

/// Word segmentation result of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentationStatus {
    Ok,
    Err,
}

/// One line of `lines.txt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamLine {
    /// Line id, e.g. `a01-000u-00`.
    pub id: String,
    pub status: SegmentationStatus,
    /// Grey level used to binarise the line.
    pub graylevel: u32,
    /// Number of connected components.
    pub components: u32,
    /// Bounding box `[x, y, w, h]` in form-image pixels.
    pub bbox: [u32; 4],
    /// Words of the transcription, in order.
    pub words: Vec<String>,
}

impl IamLine {
    /// The transcription with words separated by one space (IAM's tokenisation:
    /// punctuation is its own word, e.g. `Gaitskell , M P`).
    pub fn text(&self) -> String {
        self.words.join(" ")
    }
}

/// Reads `lines.txt`; a malformed row is an error naming the file, the line
/// number and the row.
pub fn read_iam_lines(path: &Path) -> Result<Vec<IamLine>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| Error::format(path, format!("not UTF-8 text: {e}")))?;
    parse_iam_lines(&text, path)
}

/// Parses `lines.txt` text; `path` names it in errors.
pub fn parse_iam_lines(text: &str, path: &Path) -> Result<Vec<IamLine>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        out.push(parse_row(line).map_err(|why| {
            Error::format(
                path,
                format!(
                    "line {}: {why}: expected `id ok|err graylevel components x y w h word|word|...`, found {line:?}",
                    i + 1
                ),
            )
        })?);
    }
    Ok(out)
}

fn parse_row(line: &str) -> std::result::Result<IamLine, String> {
    let mut rest = line;
    let mut fields = Vec::with_capacity(8);
    for _ in 0..8 {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if end == 0 {
            return Err(format!("only {} of 9 fields", fields.len()));
        }
        fields.push(&rest[..end]);
        rest = &rest[end..];
    }
    let transcription = rest.trim();
    if transcription.is_empty() {
        return Err("no transcription".to_string());
    }
    let status = match fields[1] {
        "ok" => SegmentationStatus::Ok,
        "err" => SegmentationStatus::Err,
        other => return Err(format!("status {other:?} is neither ok nor err")),
    };
    let num = |k: usize, name: &str| -> std::result::Result<u32, String> {
        fields[k]
            .parse()
            .map_err(|_| format!("{name} {:?} is not a non-negative integer", fields[k]))
    };
    Ok(IamLine {
        id: fields[0].to_string(),
        status,
        graylevel: num(2, "graylevel")?,
        components: num(3, "components")?,
        bbox: [num(4, "x")?, num(5, "y")?, num(6, "w")?, num(7, "h")?],
        words: transcription.split('|').map(str::to_string).collect(),
    })
}
