//! Fixtures generated in code: idx files, EMNIST/MNIST folders, MAT files,
//! Brown corpus zips. Nothing here reads real data.
#![allow(dead_code)]

pub mod mat_writer;

use std::io::Write;
use std::ops::Range;
use std::path::Path;

use mat_writer::{MatValue, MatWriter};

/// The 62 EMNIST ByClass characters in label order.
pub fn emnist_chars() -> Vec<char> {
    ('0'..='9').chain('A'..='Z').chain('a'..='z').collect()
}

/// idx bytes of unsigned-byte data.
pub fn idx_bytes(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend((d as u32).to_be_bytes());
    }
    out.extend(data);
    out
}

/// Gzip-compresses `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// Writes `bytes` to `path`, creating parent directories.
pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Ink value of class `c` in fixture glyphs.
pub fn ink(class: u32) -> u8 {
    50 + 3 * class as u8
}

/// An upright fixture glyph of `class`: ink on rows `rows`, columns 0..20.
pub fn upright_glyph(class: u32, rows: Range<usize>) -> Vec<u8> {
    let mut g = vec![0u8; 784];
    for y in rows {
        for x in 0..20 {
            g[y * 28 + x] = ink(class);
        }
    }
    g
}

/// Transposes one 28×28 glyph (EMNIST's stored orientation).
pub fn transpose(g: &[u8]) -> Vec<u8> {
    let mut t = vec![0u8; 784];
    for y in 0..28 {
        for x in 0..28 {
            t[x * 28 + y] = g[y * 28 + x];
        }
    }
    t
}

/// One EMNIST split as stored: `per_class` samples of each of the 62 classes
/// (class-interleaved), glyphs transposed, ink on `rows`.
pub fn emnist_split(per_class: usize, rows: Range<usize>) -> (Vec<u8>, Vec<u8>) {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..per_class {
        for c in 0..62u32 {
            images.extend(transpose(&upright_glyph(c, rows.clone())));
            labels.push(c as u8);
        }
    }
    (images, labels)
}

/// The official mapping file text.
pub fn mapping_text() -> String {
    emnist_chars()
        .iter()
        .enumerate()
        .map(|(i, &c)| format!("{i} {}\n", c as u32))
        .collect()
}

/// Writes EMNIST idx.gz files under `<root>/downloaded/emnist/`: train
/// (ink rows 0..14) when `train_per_class` is given, test (ink rows 14..28).
pub fn write_emnist_idx(root: &Path, train_per_class: Option<usize>, test_per_class: usize) {
    let dir = root.join("downloaded/emnist");
    let mut splits = vec![("test", test_per_class, 14..28)];
    if let Some(n) = train_per_class {
        splits.push(("train", n, 0..14));
    }
    for (split, n, rows) in splits {
        let (images, labels) = emnist_split(n, rows);
        let count = labels.len();
        write(
            &dir.join(format!("emnist-byclass-{split}-images-idx3-ubyte.gz")),
            &gzip(&idx_bytes(&[count, 28, 28], &images)),
        );
        write(
            &dir.join(format!("emnist-byclass-{split}-labels-idx1-ubyte.gz")),
            &gzip(&idx_bytes(&[count], &labels)),
        );
    }
    write(
        &dir.join("emnist-byclass-mapping.txt"),
        mapping_text().as_bytes(),
    );
}

/// The `dataset` struct of an EMNIST MAT file with the same content as
/// [`write_emnist_idx`] with train and test.
pub fn emnist_mat_value(train_per_class: usize, test_per_class: usize) -> MatValue {
    let split = |per_class: usize, rows: Range<usize>| {
        let (images, labels) = emnist_split(per_class, rows);
        let n = labels.len();
        // The MAT file stores the N×784 matrix column-major: element (i, j) at j·N + i.
        let mut colmajor = vec![0u8; n * 784];
        for i in 0..n {
            for j in 0..784 {
                colmajor[j * n + i] = images[i * 784 + j];
            }
        }
        MatValue::Struct(vec![
            ("images".to_string(), MatValue::U8(vec![n, 784], colmajor)),
            (
                "labels".to_string(),
                MatValue::F64AsU8(vec![n, 1], labels.iter().map(|&l| f64::from(l)).collect()),
            ),
            (
                "writers".to_string(),
                MatValue::F64(vec![n, 1], vec![7.0; n]),
            ),
        ])
    };
    let chars = emnist_chars();
    let mut mapping: Vec<f64> = (0..62).map(f64::from).collect();
    mapping.extend(chars.iter().map(|&c| f64::from(c as u32)));
    MatValue::Struct(vec![
        ("train".to_string(), split(train_per_class, 0..14)),
        ("test".to_string(), split(test_per_class, 14..28)),
        ("mapping".to_string(), MatValue::F64(vec![62, 2], mapping)),
    ])
}

/// Writes `<root>/downloaded/emnist/matlab/emnist-byclass.mat`.
pub fn write_emnist_mat(
    root: &Path,
    train_per_class: usize,
    test_per_class: usize,
    compress: bool,
) {
    let w = MatWriter {
        big_endian: false,
        compress,
    };
    let bytes = w.file(&[("dataset", emnist_mat_value(train_per_class, test_per_class))]);
    write(
        &root.join("downloaded/emnist/matlab/emnist-byclass.mat"),
        &bytes,
    );
}

/// A zip archive of `(name, content)` members.
pub fn zip_bytes(members: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in members {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A Brown-style tagged file of `sentences` sentences drawn from a small
/// word list (with punctuation tokens), deterministic in `seed`.
pub fn brown_member(seed: u64, sentences: usize) -> String {
    const WORDS: [&str; 16] = [
        "The/at",
        "jury/nn",
        "said/vbd",
        "Friday/nr",
        "an/at",
        "investigation/nn",
        "of/in",
        "Atlanta's/np$",
        "recent/jj",
        "primary/nn",
        "election/nn",
        "produced/vbd",
        "no/at",
        "evidence/nn",
        "1913/cd",
        "3/4/cd",
    ];
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    };
    let mut text = String::from("\n\n");
    for _ in 0..sentences {
        let len = 4 + next(8);
        let words: Vec<&str> = (0..len).map(|_| WORDS[next(WORDS.len())]).collect();
        text.push('\t');
        text.push_str(&words.join(" "));
        text.push_str(" ,/, ``/`` ./.\n\n");
    }
    text
}

/// Writes `<root>/downloaded/brown/brown.zip` with three corpus members and a README.
pub fn write_brown(root: &Path) {
    let a = brown_member(1, 40);
    let b = brown_member(2, 40);
    let c = brown_member(3, 40);
    let bytes = zip_bytes(&[
        ("brown/", ""),
        ("brown/ca01", &a),
        ("brown/ca02", &b),
        ("brown/cb01", &c),
        ("brown/README", "not/a corpus/file"),
        ("brown/cats.txt", "ca01 news"),
    ]);
    write(&root.join("downloaded/brown/brown.zip"), &bytes);
}
