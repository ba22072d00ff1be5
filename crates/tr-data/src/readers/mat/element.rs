//! MAT v5 data elements: header, tags, numeric payloads and `miMATRIX` parsing.
//!
//! Every element is an 8-byte tag (`type: u32`, `nbytes: u32`) followed by
//! its data padded to 8 bytes, or — in the small format, when the upper 16
//! bits of the first tag word are non-zero — type and size packed in one word
//! and up to 4 data bytes in the second. `miCOMPRESSED` elements hold one
//! zlib-compressed element and are not padded.

use std::io::{self, Read};
use std::path::Path;

use flate2::read::ZlibDecoder;

use super::{MatArray, MatClass, MatData};
use crate::error::{Error, Result};

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UTF8: u32 = 16;
const MI_UTF16: u32 = 17;

const FLAG_COMPLEX: u32 = 0x0800;

/// What every parse step needs: the file (for errors) and its byte order.
pub(super) struct Ctx<'a> {
    pub path: &'a Path,
    pub little_endian: bool,
}

impl Ctx<'_> {
    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.little_endian {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    }

    fn err(&self, message: impl Into<String>) -> Error {
        Error::format(self.path, message.into())
    }

    /// An I/O failure while reading `what`, as a one-line format error.
    fn io(&self, e: io::Error, what: &str) -> Error {
        match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                self.err(format!("truncated MAT file: it ends inside {what}"))
            }
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
                self.err(format!("corrupt compressed data in {what}: {e}"))
            }
            _ => Error::io(self.path, e),
        }
    }
}

/// One element tag; `small` holds the payload of a small-format element.
struct Tag {
    mi_type: u32,
    nbytes: usize,
    small: Option<[u8; 4]>,
}

/// Reads and checks the 128-byte header; returns true for little-endian files.
pub(super) fn read_header(r: &mut impl Read, path: &Path) -> Result<bool> {
    let mut header = [0u8; 128];
    let got = read_up_to(r, &mut header).map_err(|e| Error::io(path, e))?;
    if got < 128 {
        return Err(Error::format(
            path,
            format!("not a MAT v5 file: {got} bytes, shorter than the 128-byte header"),
        ));
    }
    if header.starts_with(b"MATLAB 7.3") {
        return Err(Error::format(
            path,
            "MAT v7.3 (HDF5) files are not supported: expected a MAT v5 file (save with -v7)",
        ));
    }
    match &header[126..128] {
        b"IM" => Ok(true),
        b"MI" => Ok(false),
        other => Err(Error::format(
            path,
            format!(
                "not a MAT v5 file: endian indicator is {:?}, expected \"IM\" or \"MI\" (MAT v4 files are not supported)",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

/// Reads the next top-level variable; `None` at the end of the file.
/// Top-level elements other than arrays are skipped.
pub(super) fn read_top_level(r: &mut dyn Read, ctx: &Ctx) -> Result<Option<MatArray>> {
    loop {
        let Some(tag) = read_tag(r, ctx, "a top-level element", true)? else {
            return Ok(None);
        };
        match tag.mi_type {
            MI_MATRIX => {
                let array = read_matrix(r, tag.nbytes, ctx, "a top-level variable")?;
                skip(r, padding(tag.nbytes), ctx, "padding")?;
                return Ok(Some(array));
            }
            MI_COMPRESSED => {
                let mut z = ZlibDecoder::new((&mut *r).take(tag.nbytes as u64));
                let inner = read_tag(&mut z, ctx, "a compressed element", false)?
                    .ok_or_else(|| ctx.err("empty compressed element"))?;
                if inner.mi_type != MI_MATRIX {
                    return Err(ctx.err(format!(
                        "compressed element holds data type {}, expected miMATRIX (14)",
                        inner.mi_type
                    )));
                }
                let array = read_matrix(&mut z, inner.nbytes, ctx, "a compressed variable")?;
                // Skip what is left (zlib trailer) so the next element starts right.
                let mut rest = z.into_inner();
                io::copy(&mut rest, &mut io::sink())
                    .map_err(|e| ctx.io(e, "a compressed element"))?;
                return Ok(Some(array));
            }
            _ => {
                if tag.small.is_none() {
                    skip(r, tag.nbytes + padding(tag.nbytes), ctx, "an element")?;
                }
            }
        }
    }
}

/// Parses the body (`nbytes` bytes) of an `miMATRIX` element; `what` names it in errors.
fn read_matrix(r: &mut dyn Read, nbytes: usize, ctx: &Ctx, what: &str) -> Result<MatArray> {
    if nbytes == 0 {
        // MATLAB writes empty struct fields and cells as empty elements.
        return Ok(MatArray {
            name: String::new(),
            class: MatClass::Double,
            dims: vec![0, 0],
            data: MatData::Numeric(Vec::new()),
        });
    }
    let mut sub = (&mut *r).take(nbytes as u64);
    let flags = read_element(&mut sub, ctx, &format!("the array flags of {what}"))?;
    if flags.0 != MI_UINT32 || flags.1.len() != 8 {
        return Err(ctx.err(format!("{what}: array flags are not 8 bytes of miUINT32")));
    }
    let flag_word = ctx.u32(&flags.1[0..4]);
    let class_id = flag_word & 0xff;
    let dims_el = read_element(&mut sub, ctx, &format!("the dimensions of {what}"))?;
    if dims_el.0 != MI_INT32 || dims_el.1.len() < 8 || dims_el.1.len() % 4 != 0 {
        return Err(ctx.err(format!(
            "{what}: dimensions must be at least two miINT32 values"
        )));
    }
    let dims: Vec<usize> = dims_el
        .1
        .chunks_exact(4)
        .map(|c| ctx.u32(c) as usize)
        .collect();
    let numel = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| ctx.err(format!("{what}: dimensions {dims:?} overflow")))?;
    let name_el = read_element(&mut sub, ctx, &format!("the name of {what}"))?;
    let name = String::from_utf8_lossy(&name_el.1)
        .trim_end_matches('\0')
        .to_string();
    let label = if name.is_empty() {
        what.to_string()
    } else {
        name.clone()
    };
    if flag_word & FLAG_COMPLEX != 0 {
        return Err(ctx.err(format!("{label}: complex arrays are not supported")));
    }
    let (class, data) = match class_id {
        1 => (MatClass::Cell, read_cell(&mut sub, numel, ctx, &label)?),
        2 => (MatClass::Struct, read_struct(&mut sub, numel, ctx, &label)?),
        4 => (MatClass::Char, read_char(&mut sub, numel, ctx, &label)?),
        6..=15 => {
            let class = numeric_class(class_id);
            let (mi_type, bytes) = read_element(&mut sub, ctx, &format!("the data of {label}"))?;
            (
                class,
                numeric_data(class, mi_type, bytes, numel, ctx, &label)?,
            )
        }
        3 => return Err(ctx.err(format!("{label}: MATLAB objects are not supported"))),
        5 => return Err(ctx.err(format!("{label}: sparse arrays are not supported"))),
        other => return Err(ctx.err(format!("{label}: unknown array class {other}"))),
    };
    io::copy(&mut sub, &mut io::sink()).map_err(|e| ctx.io(e, &label))?;
    Ok(MatArray {
        name,
        class,
        dims,
        data,
    })
}

fn read_struct(r: &mut dyn Read, numel: usize, ctx: &Ctx, label: &str) -> Result<MatData> {
    let len_el = read_element(r, ctx, &format!("the field name length of {label}"))?;
    if len_el.0 != MI_INT32 || len_el.1.len() != 4 {
        return Err(ctx.err(format!("{label}: field name length must be one miINT32")));
    }
    let name_len = ctx.u32(&len_el.1) as usize;
    let names_el = read_element(r, ctx, &format!("the field names of {label}"))?;
    if name_len == 0 || names_el.1.len() % name_len != 0 {
        return Err(ctx.err(format!(
            "{label}: {} bytes of field names are not a multiple of the name length {name_len}",
            names_el.1.len()
        )));
    }
    let field_names: Vec<String> = names_el
        .1
        .chunks_exact(name_len)
        .map(|c| {
            String::from_utf8_lossy(c)
                .trim_end_matches('\0')
                .to_string()
        })
        .collect();
    let mut elements = Vec::with_capacity(numel.min(1 << 16));
    for _ in 0..numel {
        let mut fields = Vec::with_capacity(field_names.len());
        for f in &field_names {
            let field_label = format!("{label}.{f}");
            fields.push(read_nested_matrix(r, ctx, &field_label)?);
        }
        elements.push(fields);
    }
    Ok(MatData::Struct {
        field_names,
        elements,
    })
}

fn read_cell(r: &mut dyn Read, numel: usize, ctx: &Ctx, label: &str) -> Result<MatData> {
    let mut cells = Vec::with_capacity(numel.min(1 << 16));
    for i in 0..numel {
        cells.push(read_nested_matrix(
            r,
            ctx,
            &format!("{label}{{{}}}", i + 1),
        )?);
    }
    Ok(MatData::Cell(cells))
}

fn read_nested_matrix(r: &mut dyn Read, ctx: &Ctx, label: &str) -> Result<MatArray> {
    let tag =
        read_tag(r, ctx, label, false)?.ok_or_else(|| ctx.err(format!("{label} is missing")))?;
    if tag.mi_type != MI_MATRIX {
        return Err(ctx.err(format!(
            "{label}: expected an miMATRIX element, found data type {}",
            tag.mi_type
        )));
    }
    let array = read_matrix(r, tag.nbytes, ctx, label)?;
    skip(r, padding(tag.nbytes), ctx, "padding")?;
    Ok(array)
}

fn read_char(r: &mut dyn Read, numel: usize, ctx: &Ctx, label: &str) -> Result<MatData> {
    let (mi_type, bytes) = read_element(r, ctx, &format!("the characters of {label}"))?;
    let text = match mi_type {
        MI_UINT16 | MI_UTF16 => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| {
                    if ctx.little_endian {
                        u16::from_le_bytes([c[0], c[1]])
                    } else {
                        u16::from_be_bytes([c[0], c[1]])
                    }
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        MI_UTF8 | MI_UINT8 | MI_INT8 => String::from_utf8_lossy(&bytes).into_owned(),
        other => {
            return Err(ctx.err(format!(
                "{label}: char data of type {other} is not supported"
            )))
        }
    };
    if text.chars().count() != numel && mi_type != MI_UTF8 {
        return Err(ctx.err(format!(
            "{label}: {} characters for {numel} elements",
            text.chars().count()
        )));
    }
    Ok(MatData::Char(text))
}

fn numeric_class(class_id: u32) -> MatClass {
    match class_id {
        6 => MatClass::Double,
        7 => MatClass::Single,
        8 => MatClass::Int8,
        9 => MatClass::Uint8,
        10 => MatClass::Int16,
        11 => MatClass::Uint16,
        12 => MatClass::Int32,
        13 => MatClass::Uint32,
        14 => MatClass::Int64,
        _ => MatClass::Uint64,
    }
}

/// Converts a numeric payload stored as `mi_type` to the array's class.
fn numeric_data(
    class: MatClass,
    mi_type: u32,
    bytes: Vec<u8>,
    numel: usize,
    ctx: &Ctx,
    label: &str,
) -> Result<MatData> {
    let size = match mi_type {
        MI_INT8 | MI_UINT8 => 1,
        MI_INT16 | MI_UINT16 => 2,
        MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
        MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
        other => {
            return Err(ctx.err(format!(
                "{label}: numeric data of type {other} is not supported"
            )))
        }
    };
    if bytes.len() != numel * size {
        return Err(ctx.err(format!(
            "{label}: {numel} elements need {} data bytes, found {}",
            numel * size,
            bytes.len()
        )));
    }
    if class == MatClass::Uint8 && mi_type == MI_UINT8 {
        return Ok(MatData::Uint8(bytes));
    }
    let le = ctx.little_endian;
    let get = |c: &[u8]| -> f64 {
        let mut a = [0u8; 8];
        a[..c.len()].copy_from_slice(c);
        if !le {
            a[..c.len()].reverse();
        }
        match mi_type {
            MI_INT8 => f64::from(a[0] as i8),
            MI_UINT8 => f64::from(a[0]),
            MI_INT16 => f64::from(i16::from_le_bytes([a[0], a[1]])),
            MI_UINT16 => f64::from(u16::from_le_bytes([a[0], a[1]])),
            MI_INT32 => f64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            MI_UINT32 => f64::from(u32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            MI_SINGLE => f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            MI_DOUBLE => f64::from_le_bytes(a),
            MI_INT64 => i64::from_le_bytes(a) as f64,
            _ => u64::from_le_bytes(a) as f64,
        }
    };
    let values: Vec<f64> = bytes.chunks_exact(size).map(get).collect();
    if class == MatClass::Uint8 {
        let bytes = values
            .iter()
            .map(|&v| {
                if (0.0..=255.0).contains(&v) && v.fract() == 0.0 {
                    Ok(v as u8)
                } else {
                    Err(ctx.err(format!("{label}: uint8 array holds the value {v}")))
                }
            })
            .collect::<Result<Vec<u8>>>()?;
        return Ok(MatData::Uint8(bytes));
    }
    Ok(MatData::Numeric(values))
}

/// Reads one tag; `None` only when `eof_ok` and the stream ends cleanly before it.
fn read_tag(r: &mut dyn Read, ctx: &Ctx, what: &str, eof_ok: bool) -> Result<Option<Tag>> {
    let mut b = [0u8; 8];
    let got = read_up_to(r, &mut b).map_err(|e| ctx.io(e, what))?;
    if got == 0 && eof_ok {
        return Ok(None);
    }
    if got < 8 {
        return Err(ctx.err(format!(
            "truncated MAT file: it ends inside the tag of {what}"
        )));
    }
    let word = ctx.u32(&b[0..4]);
    if word >> 16 != 0 {
        let nbytes = (word >> 16) as usize;
        if nbytes > 4 {
            return Err(ctx.err(format!(
                "{what}: small element claims {nbytes} bytes (at most 4)"
            )));
        }
        return Ok(Some(Tag {
            mi_type: word & 0xffff,
            nbytes,
            small: Some([b[4], b[5], b[6], b[7]]),
        }));
    }
    Ok(Some(Tag {
        mi_type: word,
        nbytes: ctx.u32(&b[4..8]) as usize,
        small: None,
    }))
}

/// Reads one complete (non-matrix) element: its type and payload bytes, padding skipped.
fn read_element(r: &mut dyn Read, ctx: &Ctx, what: &str) -> Result<(u32, Vec<u8>)> {
    let tag =
        read_tag(r, ctx, what, false)?.ok_or_else(|| ctx.err(format!("{what} is missing")))?;
    if let Some(small) = tag.small {
        return Ok((tag.mi_type, small[..tag.nbytes].to_vec()));
    }
    // Exact reservation: untouched capacity costs nothing even if a corrupt
    // tag overstates the size, and large arrays are not grown by doubling.
    let mut bytes = Vec::with_capacity(tag.nbytes);
    (&mut *r)
        .take(tag.nbytes as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| ctx.io(e, what))?;
    if bytes.len() < tag.nbytes {
        return Err(ctx.err(format!(
            "truncated MAT file: {what} needs {} bytes, found {}",
            tag.nbytes,
            bytes.len()
        )));
    }
    skip(r, padding(tag.nbytes), ctx, "padding")?;
    Ok((tag.mi_type, bytes))
}

fn padding(nbytes: usize) -> usize {
    (8 - nbytes % 8) % 8
}

/// Skips up to `n` bytes; a stream that ends early is fine (last padding may be absent).
fn skip(r: &mut dyn Read, n: usize, ctx: &Ctx, what: &str) -> Result<()> {
    if n > 0 {
        io::copy(&mut (&mut *r).take(n as u64), &mut io::sink()).map_err(|e| ctx.io(e, what))?;
    }
    Ok(())
}

fn read_up_to(r: &mut (impl Read + ?Sized), buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
