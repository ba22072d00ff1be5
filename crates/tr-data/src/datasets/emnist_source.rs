//! Where EMNIST ByClass comes from, and reading it into raw splits.
//!
//! Sources, in priority order (each looked up with [`DataDir::find`] under
//! the dataset name `emnist`):
//!
//! 1. `matlab/emnist-byclass.mat` — the course's source (extracted from `matlab.zip`);
//! 2. `matlab.zip`, read member `matlab/emnist-byclass.mat` straight from the zip;
//! 3. the idx files `emnist-byclass-{train,test}-{images-idx3,labels-idx1}-ubyte[.gz]`
//!    with `emnist-byclass-mapping.txt` — train and test, or the test split only.
//!
//! Images stay in their stored orientation until [`RawSplit::gather_upright`]
//! copies the selected ones out upright, so only one full copy is ever held.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::file_identity::{identify_all, FileIdentity};
use crate::paths::DataDir;
use crate::readers::idx::{read_idx, transpose_one, IdxArray};
use crate::readers::mat::{read_mat, read_mat_from, take_variable, MatArray};
use crate::readers::{read_emnist_mapping, MappingEntry};

/// Registry and download name of the dataset.
pub const DATASET: &str = "emnist";
const MAT_FILE: &str = "matlab/emnist-byclass.mat";
const MAT_ZIP: &str = "matlab.zip";
const MAPPING_FILE: &str = "emnist-byclass-mapping.txt";
/// Glyph side in pixels.
pub const GLYPH: usize = 28;

/// The located EMNIST files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmnistSource {
    /// The extracted MAT file.
    Mat(PathBuf),
    /// `matlab.zip` holding the MAT file.
    MatZip(PathBuf),
    /// idx files: `[images, labels]` of train (if present) and test, plus the mapping.
    Idx {
        train: Option<[PathBuf; 2]>,
        test: [PathBuf; 2],
        mapping: PathBuf,
    },
}

/// One split as stored: images in their file's layout, 0-based class labels.
pub struct RawSplit {
    n: usize,
    pixels: Vec<u8>,
    column_major: bool,
    /// Class label (EMNIST's own index, before the special-token offset) of every sample.
    pub labels: Vec<u32>,
    /// The file the labels were read from (for error messages).
    pub labels_path: PathBuf,
}

/// Everything read from a source.
pub struct RawEmnist {
    pub train: Option<RawSplit>,
    pub test: RawSplit,
    pub mapping: Vec<MappingEntry>,
    /// The file the mapping came from (for error messages).
    pub mapping_path: PathBuf,
}

impl EmnistSource {
    /// Finds the best available source, or [`Error::MissingData`].
    pub fn locate(dir: &DataDir) -> Result<Self> {
        if let Some(p) = dir.find(DATASET, MAT_FILE) {
            return Ok(Self::Mat(p));
        }
        if let Some(p) = dir.find(DATASET, MAT_ZIP) {
            return Ok(Self::MatZip(p));
        }
        let idx = |split: &str, what: &str| {
            let base = format!("emnist-byclass-{split}-{what}-ubyte");
            dir.find(DATASET, &format!("{base}.gz"))
                .or_else(|| dir.find(DATASET, &base))
        };
        let (Some(test_images), Some(test_labels)) =
            (idx("test", "images-idx3"), idx("test", "labels-idx1"))
        else {
            return Err(dir.missing(
                DATASET,
                &[
                    MAT_FILE,
                    MAT_ZIP,
                    "emnist-byclass-test-images-idx3-ubyte.gz",
                    "emnist-byclass-test-labels-idx1-ubyte.gz",
                ],
            ));
        };
        let mapping = dir.require(DATASET, MAPPING_FILE)?;
        let train = match (idx("train", "images-idx3"), idx("train", "labels-idx1")) {
            (Some(i), Some(l)) => Some([i, l]),
            (None, None) => None,
            (Some(_), None) => {
                return Err(dir.missing(DATASET, &["emnist-byclass-train-labels-idx1-ubyte.gz"]))
            }
            (None, Some(_)) => {
                return Err(dir.missing(DATASET, &["emnist-byclass-train-images-idx3-ubyte.gz"]))
            }
        };
        Ok(Self::Idx {
            train,
            test: [test_images, test_labels],
            mapping,
        })
    }

    /// True when the official training split is part of the source.
    pub fn has_official_train(&self) -> bool {
        !matches!(self, Self::Idx { train: None, .. })
    }

    /// Every file the source reads.
    pub fn files(&self) -> Vec<&Path> {
        match self {
            Self::Mat(p) | Self::MatZip(p) => vec![p],
            Self::Idx {
                train,
                test,
                mapping,
            } => train
                .iter()
                .flatten()
                .chain(test.iter())
                .chain([mapping])
                .map(PathBuf::as_path)
                .collect(),
        }
    }

    /// Name, length and SHA-256 of every file read: identifies the source
    /// content for cache keys (a same-size replacement is another source).
    pub fn identity(&self) -> Result<Vec<FileIdentity>> {
        identify_all(self.files())
    }

    /// A one-line description, e.g. for [`super::DataModule::notes`].
    pub fn describe(&self) -> String {
        match self {
            Self::Mat(p) => format!("EMNIST ByClass from {}", p.display()),
            Self::MatZip(p) => format!("EMNIST ByClass from {} ({MAT_FILE})", p.display()),
            Self::Idx {
                train: Some(_),
                test,
                ..
            } => format!(
                "EMNIST ByClass official train + test idx files in {}",
                test[0].parent().unwrap_or(Path::new(".")).display()
            ),
            Self::Idx {
                train: None, test, ..
            } => format!(
                "EMNIST ByClass official test split only ({})",
                test[0].display()
            ),
        }
    }

    /// Reads the source.
    pub fn load(&self) -> Result<RawEmnist> {
        match self {
            Self::Mat(p) => from_mat(read_mat(p)?, p),
            Self::MatZip(zip_path) => {
                let file = std::fs::File::open(zip_path).map_err(|e| Error::io(zip_path, e))?;
                let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
                    Error::format(zip_path, format!("not a readable zip archive: {e}"))
                })?;
                let member = zip.by_name(MAT_FILE).map_err(|e| {
                    Error::format(
                        zip_path,
                        format!(
                            "no member {MAT_FILE} in the zip (the course's matlab.zip has it): {e}"
                        ),
                    )
                })?;
                let label = PathBuf::from(format!("{}:{MAT_FILE}", zip_path.display()));
                let vars =
                    read_mat_from(std::io::BufReader::with_capacity(1 << 20, member), &label)?;
                from_mat(vars, &label)
            }
            Self::Idx {
                train,
                test,
                mapping,
            } => Ok(RawEmnist {
                train: train.as_ref().map(|[i, l]| from_idx(i, l)).transpose()?,
                test: from_idx(&test[0], &test[1])?,
                mapping: read_emnist_mapping(mapping)?,
                mapping_path: mapping.clone(),
            }),
        }
    }
}

impl RawSplit {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Appends samples `indices` to `out` as upright 28×28 images (row-major),
    /// the orientation of the course's `reshape(-1, 28, 28).swapaxes(1, 2)`.
    pub fn gather_upright(&self, indices: &[usize], out: &mut Vec<u8>) {
        const S: usize = GLYPH * GLYPH;
        let start = out.len();
        out.resize(start + indices.len() * S, 0);
        let dst = &mut out[start..];
        if self.column_major {
            // MAT: images is n×784 column-major, element (i, j) at j·n + i, and
            // pixel (y, x) of image i is column j = x·28 + y.
            for x in 0..GLYPH {
                for y in 0..GLYPH {
                    let column = &self.pixels[(x * GLYPH + y) * self.n..][..self.n];
                    for (k, &i) in indices.iter().enumerate() {
                        dst[k * S + y * GLYPH + x] = column[i];
                    }
                }
            }
        } else {
            // idx: each glyph stored transposed.
            for (k, &i) in indices.iter().enumerate() {
                transpose_one(
                    &self.pixels[i * S..(i + 1) * S],
                    &mut dst[k * S..(k + 1) * S],
                    GLYPH,
                    GLYPH,
                );
            }
        }
    }
}

fn from_idx(images_path: &Path, labels_path: &Path) -> Result<RawSplit> {
    let images: IdxArray = read_idx(images_path)?;
    if images.dims.len() != 3 || images.dims[1] != GLYPH || images.dims[2] != GLYPH {
        return Err(Error::format(
            images_path,
            format!(
                "expected images of shape [N, 28, 28], found {:?}",
                images.dims
            ),
        ));
    }
    let labels = read_idx(labels_path)?;
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(Error::format(
            labels_path,
            format!(
                "expected {} labels (shape [{}]) to match {}, found shape {:?}",
                images.dims[0],
                images.dims[0],
                images_path.display(),
                labels.dims
            ),
        ));
    }
    Ok(RawSplit {
        n: images.dims[0],
        pixels: images.data,
        column_major: false,
        labels: labels.data.iter().map(|&l| u32::from(l)).collect(),
        labels_path: labels_path.to_path_buf(),
    })
}

fn from_mat(vars: Vec<MatArray>, path: &Path) -> Result<RawEmnist> {
    let mut dataset = take_variable(vars, "dataset", path)?;
    let mapping = dataset
        .take_field("mapping")
        .ok_or_else(|| Error::format(path, "dataset has no field `mapping`"))?;
    let mapping = mat_mapping(&mapping, path)?;
    let mut split = |name: &str| -> Result<RawSplit> {
        let mut s = dataset
            .take_field(name)
            .ok_or_else(|| Error::format(path, format!("dataset has no field `{name}`")))?;
        mat_split(&mut s, &format!("dataset.{name}"), path)
    };
    let train = split("train")?;
    let test = split("test")?;
    Ok(RawEmnist {
        train: Some(train),
        test,
        mapping,
        mapping_path: path.to_path_buf(),
    })
}

fn mat_split(s: &mut MatArray, label: &str, path: &Path) -> Result<RawSplit> {
    let images = s
        .take_field("images")
        .ok_or_else(|| Error::format(path, format!("{label} has no field `images`")))?;
    let labels = s
        .take_field("labels")
        .ok_or_else(|| Error::format(path, format!("{label} has no field `labels`")))?;
    let n = images.dims[0];
    if images.dims.len() != 2 || images.dims[1] != GLYPH * GLYPH || images.as_u8().is_none() {
        return Err(Error::format(
            path,
            format!(
                "{label}.images: expected uint8 N×784, found {}",
                images.describe()
            ),
        ));
    }
    if labels.numel() != n {
        return Err(Error::format(
            path,
            format!(
                "{label}.labels: expected {n} labels (N×1), found {}",
                labels.describe()
            ),
        ));
    }
    let values = labels.to_f64().ok_or_else(|| {
        Error::format(
            path,
            format!(
                "{label}.labels: expected a numeric N×1 array, found {}",
                labels.describe()
            ),
        )
    })?;
    let labels = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
                Ok(v as u32)
            } else {
                Err(Error::format(
                    path,
                    format!("{label}.labels({}) is {v}: expected a class index", i + 1),
                ))
            }
        })
        .collect::<Result<Vec<u32>>>()?;
    Ok(RawSplit {
        n,
        pixels: images.into_u8().unwrap_or_default(),
        column_major: true,
        labels,
        labels_path: path.to_path_buf(),
    })
}

fn mat_mapping(m: &MatArray, path: &Path) -> Result<Vec<MappingEntry>> {
    let values = m
        .to_f64()
        .filter(|_| m.dims.len() == 2 && m.dims[1] == 2)
        .ok_or_else(|| {
            Error::format(
                path,
                format!(
                    "dataset.mapping: expected a numeric K×2 array, found {}",
                    m.describe()
                ),
            )
        })?;
    let rows = m.dims[0];
    (0..rows)
        .map(|r| {
            let (index, code) = (values[r], values[rows + r]);
            let ch = (index >= 0.0 && index.fract() == 0.0)
                .then(|| {
                    char::from_u32(code as u32).filter(|c| c.is_ascii() && code.fract() == 0.0)
                })
                .flatten()
                .ok_or_else(|| {
                    Error::format(
                        path,
                        format!(
                            "dataset.mapping row {}: ({index}, {code}) is not (index, ASCII code)",
                            r + 1
                        ),
                    )
                })?;
            Ok(MappingEntry {
                index: index as u32,
                ch,
            })
        })
        .collect()
}
