//! The idx format of MNIST and EMNIST, plain or gzip-compressed.
//!
//! Layout: two zero bytes, a type byte (`0x08` = unsigned byte, the only one
//! these datasets use), the number of dimensions, then each dimension as a
//! big-endian `u32`, then the data in row-major order. Gzip is recognised by
//! its magic bytes `1f 8b`, never by the file name.
//!
//! EMNIST's image files store every image transposed (as NIST's original
//! files do); [`transpose_images`] turns them upright.

use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{Error, Result};

/// Type byte of unsigned 8-bit data.
pub const IDX_U8: u8 = 0x08;

/// An idx array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first, e.g. `[N, 28, 28]` for images, `[N]` for labels.
    pub dims: Vec<usize>,
    /// Row-major data, `dims.iter().product()` bytes.
    pub data: Vec<u8>,
}

impl IdxArray {
    /// Number of items along the first dimension.
    pub fn len(&self) -> usize {
        self.dims.first().copied().unwrap_or(0)
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per item (product of the inner dimensions).
    pub fn item_len(&self) -> usize {
        self.dims.iter().skip(1).product()
    }
}

/// Reads an idx or idx.gz file of unsigned bytes.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let head = {
        use std::io::BufRead;
        reader.fill_buf().map_err(|e| Error::io(path, e))?.to_vec()
    };
    if head.starts_with(&[0x1f, 0x8b]) {
        read_idx_from(GzDecoder::new(reader), path, true)
    } else {
        read_idx_from(reader, path, false)
    }
}

/// Reads an idx array from an (already decompressed) stream; `path` names it in errors.
pub fn read_idx_from(mut reader: impl Read, path: &Path, gzipped: bool) -> Result<IdxArray> {
    let what = if gzipped { "idx.gz" } else { "idx" };
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut reader, &mut magic, path, gzipped)?;
    if got < 4 {
        return Err(Error::format(
            path,
            format!("truncated {what} header: expected 4 magic bytes, found {got}"),
        ));
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(Error::format(
            path,
            format!(
                "wrong magic number {:02x} {:02x} {:02x} {:02x}: an idx file starts with 00 00 <type> <ndims>",
                magic[0], magic[1], magic[2], magic[3]
            ),
        ));
    }
    if magic[2] != IDX_U8 {
        return Err(Error::format(
            path,
            format!(
                "idx element type 0x{:02x} ({}) is not supported: expected 0x08 (unsigned byte)",
                magic[2],
                type_name(magic[2])
            ),
        ));
    }
    let ndims = magic[3] as usize;
    if ndims == 0 {
        return Err(Error::format(path, "idx header declares 0 dimensions"));
    }
    let mut dim_bytes = vec![0u8; 4 * ndims];
    let got = read_up_to(&mut reader, &mut dim_bytes, path, gzipped)?;
    if got < dim_bytes.len() {
        return Err(Error::format(
            path,
            format!(
                "truncated {what} header: expected {} bytes of dimensions, found {got}",
                dim_bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::format(path, format!("idx dimensions {dims:?} overflow")))?;
    // Read one byte past the expected end to detect trailing data.
    let mut data = Vec::with_capacity(expected.saturating_add(1).min(u32::MAX as usize));
    let found = read_all_up_to(&mut reader, &mut data, expected as u64 + 1, path, gzipped)?;
    if found < expected {
        return Err(Error::format(
            path,
            format!("truncated {what} file: dimensions {dims:?} need {expected} data bytes, found {found}"),
        ));
    }
    if found > expected {
        return Err(Error::format(
            path,
            format!("trailing data in {what} file: dimensions {dims:?} need {expected} data bytes, found more"),
        ));
    }
    Ok(IdxArray { dims, data })
}

/// Transposes every `h × w` image of a contiguous block of images (returns
/// a new buffer of `w × h` images).
///
/// EMNIST stores glyphs column-major; `transpose_images(data, n, 28, 28)`
/// makes them upright (`out[i][y][x] = in[i][x][y]`).
pub fn transpose_images(data: &[u8], h: usize, w: usize) -> Vec<u8> {
    let size = h * w;
    let mut out = vec![0u8; data.len()];
    for (src, dst) in data.chunks_exact(size).zip(out.chunks_exact_mut(size)) {
        transpose_one(src, dst, h, w);
    }
    out
}

/// Writes the transpose of one `h × w` row-major image into `dst` (`w × h`).
pub fn transpose_one(src: &[u8], dst: &mut [u8], h: usize, w: usize) {
    for r in 0..h {
        for c in 0..w {
            dst[c * h + r] = src[r * w + c];
        }
    }
}

fn type_name(t: u8) -> &'static str {
    match t {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0b => "i16",
        0x0c => "i32",
        0x0d => "f32",
        0x0e => "f64",
        _ => "unknown",
    }
}

/// Fills `buf` as far as the stream allows; returns the bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8], path: &Path, gzipped: bool) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(stream_error(path, e, gzipped, got as u64)),
        }
    }
    Ok(got)
}

/// Appends at most `limit` bytes to `out`; returns how many were read.
fn read_all_up_to(
    reader: &mut impl Read,
    out: &mut Vec<u8>,
    limit: u64,
    path: &Path,
    gzipped: bool,
) -> Result<usize> {
    let start = out.len();
    match reader.take(limit).read_to_end(out) {
        Ok(_) => Ok(out.len() - start),
        // A truncated gzip stream ends with an error, not with EOF: report the
        // data bytes recovered before it as "found".
        Err(e) if gzipped && e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(out.len() - start),
        Err(e) => Err(stream_error(path, e, gzipped, (out.len() - start) as u64)),
    }
}

fn stream_error(path: &Path, e: std::io::Error, gzipped: bool, after: u64) -> Error {
    if gzipped {
        Error::format(
            path,
            format!("corrupt gzip stream after {after} decompressed bytes: {e}"),
        )
    } else {
        Error::io(path, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_each_image() {
        // Two 2×3 images.
        let data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        let t = transpose_images(&data, 2, 3);
        assert_eq!(t, vec![1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12]);
    }
}
