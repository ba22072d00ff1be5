//! The subset of MATLAB's MAT v5 format needed for the course's
//! `matlab/emnist-byclass.mat` (from `matlab.zip`), plus what is cheap
//! beyond it.
//!
//! Supported: the 128-byte header in either byte order, data elements in
//! normal and small ("packed") format, `miCOMPRESSED` (zlib) elements, and
//! `miMATRIX` arrays of class double, single, (u)int8/16/32/64 (real only),
//! char, struct and cell. Data is kept in MATLAB's column-major order.
//! uint8 arrays keep their bytes ([`MatData::Uint8`]); every other numeric
//! class is widened to `f64` ([`MatData::Numeric`]; 64-bit integers above
//! 2^53 lose precision). Not supported (clear errors): MAT v4 and v7.3
//! (HDF5) files, complex, sparse and object arrays.
//!
//! The reader is streaming: a compressed variable is decoded while it is
//! parsed, so only the arrays themselves are held in memory — which matters
//! for EMNIST ByClass (697,932 × 784 bytes of training images).

mod element;

use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// MATLAB array class (`mxCLASS_ID`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatClass {
    Cell,
    Struct,
    Char,
    Double,
    Single,
    Int8,
    Uint8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Uint64,
}

/// The values of a [`MatArray`], column-major.
#[derive(Clone, Debug, PartialEq)]
pub enum MatData {
    /// A uint8 array (also logical arrays), bytes as stored.
    Uint8(Vec<u8>),
    /// Any other numeric class, widened to `f64`.
    Numeric(Vec<f64>),
    /// A char array as text (column-major characters).
    Char(String),
    /// A struct array: `elements[i][f]` is field `field_names[f]` of element `i`.
    Struct {
        field_names: Vec<String>,
        elements: Vec<Vec<MatArray>>,
    },
    /// A cell array, one array per cell.
    Cell(Vec<MatArray>),
}

/// One MATLAB array (a top-level variable, a struct field or a cell).
#[derive(Clone, Debug, PartialEq)]
pub struct MatArray {
    /// Variable name (empty for struct fields and cells).
    pub name: String,
    pub class: MatClass,
    /// Dimensions, at least two (`[rows, cols, ...]`).
    pub dims: Vec<usize>,
    pub data: MatData,
}

impl MatArray {
    /// Number of elements (product of the dimensions).
    pub fn numel(&self) -> usize {
        self.dims.iter().product()
    }

    /// Field `name` of the first element of a struct array.
    pub fn field(&self, name: &str) -> Option<&MatArray> {
        match &self.data {
            MatData::Struct {
                field_names,
                elements,
            } => {
                let f = field_names.iter().position(|n| n == name)?;
                elements.first().map(|e| &e[f])
            }
            _ => None,
        }
    }

    /// The bytes of a uint8 array.
    pub fn as_u8(&self) -> Option<&[u8]> {
        match &self.data {
            MatData::Uint8(v) => Some(v),
            _ => None,
        }
    }

    /// The values of any numeric array as `f64`.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        match &self.data {
            MatData::Uint8(v) => Some(v.iter().map(|&b| f64::from(b)).collect()),
            MatData::Numeric(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// Moves the bytes out of a uint8 array (avoids copying large images).
    pub fn into_u8(self) -> Option<Vec<u8>> {
        match self.data {
            MatData::Uint8(v) => Some(v),
            _ => None,
        }
    }

    /// Moves field `name` of a 1×1 struct out of it.
    pub fn take_field(&mut self, name: &str) -> Option<MatArray> {
        match &mut self.data {
            MatData::Struct {
                field_names,
                elements,
            } => {
                let f = field_names.iter().position(|n| n == name)?;
                let element = elements.first_mut()?;
                let placeholder = MatArray {
                    name: String::new(),
                    class: MatClass::Double,
                    dims: vec![0, 0],
                    data: MatData::Numeric(Vec::new()),
                };
                Some(std::mem::replace(&mut element[f], placeholder))
            }
            _ => None,
        }
    }

    /// A short description such as `uint8 10×784` for error messages.
    pub fn describe(&self) -> String {
        let dims: Vec<String> = self.dims.iter().map(usize::to_string).collect();
        format!("{} {}", self.class.name(), dims.join("×"))
    }
}

impl MatClass {
    /// MATLAB's name of the class.
    pub fn name(self) -> &'static str {
        match self {
            MatClass::Cell => "cell",
            MatClass::Struct => "struct",
            MatClass::Char => "char",
            MatClass::Double => "double",
            MatClass::Single => "single",
            MatClass::Int8 => "int8",
            MatClass::Uint8 => "uint8",
            MatClass::Int16 => "int16",
            MatClass::Uint16 => "uint16",
            MatClass::Int32 => "int32",
            MatClass::Uint32 => "uint32",
            MatClass::Int64 => "int64",
            MatClass::Uint64 => "uint64",
        }
    }
}

/// Reads every variable of a MAT v5 file.
pub fn read_mat(path: &Path) -> Result<Vec<MatArray>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_mat_from(BufReader::with_capacity(1 << 20, file), path)
}

/// Reads every variable of a MAT v5 stream (e.g. a zip member); `path`
/// names it in errors.
pub fn read_mat_from(mut reader: impl Read, path: &Path) -> Result<Vec<MatArray>> {
    let little_endian = element::read_header(&mut reader, path)?;
    let ctx = element::Ctx {
        path,
        little_endian,
    };
    let mut out = Vec::new();
    while let Some(array) = element::read_top_level(&mut reader, &ctx)? {
        out.push(array);
    }
    Ok(out)
}

/// Finds variable `name` among `vars`, or an error listing what the file has.
pub fn take_variable(vars: Vec<MatArray>, name: &str, path: &Path) -> Result<MatArray> {
    let names: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
    vars.into_iter().find(|v| v.name == name).ok_or_else(|| {
        Error::format(
            path,
            format!(
                "no variable {name:?} in the MAT file (it has: {})",
                names.join(", ")
            ),
        )
    })
}
