//! A minimal MAT v5 writer for test fixtures: uint8/double/char arrays and
//! 1×1 structs, optionally zlib-compressed, either byte order.

use std::io::Write;

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_DOUBLE: u32 = 9;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UINT16: u32 = 4;

/// A value to write.
pub enum MatValue {
    /// uint8 array: dims and column-major data.
    U8(Vec<usize>, Vec<u8>),
    /// double array stored as miDOUBLE.
    F64(Vec<usize>, Vec<f64>),
    /// double array stored compactly as miUINT8 (as MATLAB does for small integers).
    F64AsU8(Vec<usize>, Vec<f64>),
    /// 1×N char array.
    Char(String),
    /// 1×1 struct with named fields.
    Struct(Vec<(String, MatValue)>),
}

pub struct MatWriter {
    pub big_endian: bool,
    pub compress: bool,
}

impl MatWriter {
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// One data element, small format when 1..=4 bytes.
    fn element(&self, ty: u32, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if !data.is_empty() && data.len() <= 4 {
            out.extend(self.u32(((data.len() as u32) << 16) | ty));
            out.extend(data);
            out.resize(8, 0);
            return out;
        }
        out.extend(self.u32(ty));
        out.extend(self.u32(data.len() as u32));
        out.extend(data);
        while out.len() % 8 != 0 {
            out.push(0);
        }
        out
    }

    fn matrix(&self, name: &str, v: &MatValue) -> Vec<u8> {
        let (class, dims): (u32, Vec<usize>) = match v {
            MatValue::U8(d, _) => (9, d.clone()),
            MatValue::F64(d, _) | MatValue::F64AsU8(d, _) => (6, d.clone()),
            MatValue::Char(s) => (4, vec![1, s.chars().count()]),
            MatValue::Struct(_) => (2, vec![1, 1]),
        };
        let mut body = Vec::new();
        let mut flags = Vec::new();
        flags.extend(self.u32(class));
        flags.extend(self.u32(0));
        body.extend(self.element(MI_UINT32, &flags));
        let dim_bytes: Vec<u8> = dims.iter().flat_map(|&d| self.u32(d as u32)).collect();
        body.extend(self.element(MI_INT32, &dim_bytes));
        body.extend(self.element(MI_INT8, name.as_bytes()));
        match v {
            MatValue::U8(_, data) => body.extend(self.element(MI_UINT8, data)),
            MatValue::F64(_, data) => {
                let bytes: Vec<u8> = data
                    .iter()
                    .flat_map(|x| {
                        if self.big_endian {
                            x.to_be_bytes()
                        } else {
                            x.to_le_bytes()
                        }
                    })
                    .collect();
                body.extend(self.element(MI_DOUBLE, &bytes));
            }
            MatValue::F64AsU8(_, data) => {
                let bytes: Vec<u8> = data.iter().map(|&x| x as u8).collect();
                body.extend(self.element(MI_UINT8, &bytes));
            }
            MatValue::Char(s) => {
                let bytes: Vec<u8> = s
                    .encode_utf16()
                    .flat_map(|u| {
                        if self.big_endian {
                            u.to_be_bytes()
                        } else {
                            u.to_le_bytes()
                        }
                    })
                    .collect();
                body.extend(self.element(MI_UINT16, &bytes));
            }
            MatValue::Struct(fields) => {
                body.extend(self.element(MI_INT32, &self.u32(32)));
                let mut names = Vec::new();
                for (f, _) in fields {
                    let mut n = f.as_bytes().to_vec();
                    n.resize(32, 0);
                    names.extend(n);
                }
                body.extend(self.element(MI_INT8, &names));
                for (_, fv) in fields {
                    body.extend(self.matrix("", fv));
                }
            }
        }
        let mut out = Vec::new();
        out.extend(self.u32(MI_MATRIX));
        out.extend(self.u32(body.len() as u32));
        out.extend(body);
        out
    }

    /// The complete file bytes.
    pub fn file(&self, vars: &[(&str, MatValue)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut text = b"MATLAB 5.0 MAT-file, written by the tr-data test writer".to_vec();
        text.resize(116, b' ');
        out.extend(text);
        out.extend([0u8; 8]);
        if self.big_endian {
            out.extend([0x01, 0x00]);
            out.extend(b"MI");
        } else {
            out.extend([0x00, 0x01]);
            out.extend(b"IM");
        }
        for (name, v) in vars {
            let m = self.matrix(name, v);
            if self.compress {
                let mut z =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                z.write_all(&m).unwrap();
                let packed = z.finish().unwrap();
                out.extend(self.u32(MI_COMPRESSED));
                out.extend(self.u32(packed.len() as u32));
                out.extend(packed);
            } else {
                out.extend(m);
            }
        }
        out
    }
}
