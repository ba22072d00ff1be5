//! The course's IAM datasets: `iam-lines`, `iam-paragraphs`,
//! `iam-synthetic-paragraphs` and `iam-original-and-synthetic-paragraphs`,
//! read from a user's copy of the IAM Handwriting Database.
//!
//! **Files.** `<data>/downloaded/iam/` (or `iam/iamdb/`, the course's
//! `iamdb.zip` layout) with `xml/<form>.xml`, `forms/<form>.{png,jpg}` and
//! the LWITLRT task files `task/{testset,validationset1,validationset2}.txt`
//! (`cargo xtask download iam`, or `--from` a local `iamdb.zip` or folder).
//! Forms are read with the course's rules ([`crate::layout::iam_forms`]:
//! prompt span, all-caps forms, line-bottom clipping, padding).
//!
//! **Splits** as the course: test = the forms of `testset.txt`, validation
//! = those of `validationset1.txt` + `validationset2.txt`, training = every
//! other form (the task files list line ids, `a01-000u-00`; a form is the id
//! without its last `-NN`).
//!
//! **Sizes** (the rewrite's defaults): lines 28 px high on a 768 px canvas;
//! paragraphs 28 px per line, up to 13 lines, on a 640 px canvas. The
//! vocabulary is the course's 83 EMNIST/IAM symbols (84 with `\n` for
//! paragraphs) unless `text.vocabulary` says otherwise; characters outside
//! it are reported, never dropped silently.
//!
//! `iam-synthetic-paragraphs` stacks random `iam-lines` lines
//! ([`super::synthetic_paragraphs`]) on the paragraphs' canvas;
//! `iam-original-and-synthetic-paragraphs` trains on both and validates and
//! tests on the real paragraphs only (a [`super::mixture`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::line_store::StoreCache;
use super::mixture::{MixtureConfig, MixturePart};
use super::page_lines::{cache_params, CropSettings};
use super::page_paragraphs::ParagraphUnits;
use super::page_source::{extract, LineUnits, PageCollection, PageFile, PageUnits};
use super::real_lines::{build_module, ModuleSpec, TextSettings};
use super::registry::DatasetConfig;
use super::synthetic_paragraphs::SyntheticParagraphsConfig;
use super::DataModule;
use crate::augment::RealLineAugmentation;
use crate::error::{Error, Result};
use crate::paths::DataDir;
use crate::vocab::Vocabulary;

/// Registry and download name.
pub const IAM: &str = "iam";

/// Where the IAM copy is and how it is split.
fn locate(dir: &DataDir, root: Option<&Path>) -> Result<PageCollection> {
    let base = root.map_or_else(|| dir.downloaded(IAM), Path::to_path_buf);
    let found = [base.clone(), base.join("iamdb")]
        .into_iter()
        .find(|d| d.join("xml").is_dir());
    let Some(root) = found else {
        return Err(dir.missing(
            IAM,
            &["xml/<form>.xml", "forms/<form>.png", "task/testset.txt"],
        ));
    };
    let task = root.join("task");
    let forms_of = |file: &str| -> Result<HashSet<String>> {
        let path = task.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::io(
                &path,
                std::io::Error::new(
                    e.kind(),
                    format!("{e} (the LWITLRT split file of IAM's task/ folder)"),
                ),
            )
        })?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| l.rsplit_once('-').map_or(l, |(form, _)| form).to_string())
            .collect())
    };
    let test = forms_of("testset.txt")?;
    let mut val = forms_of("validationset1.txt")?;
    val.extend(forms_of("validationset2.txt")?);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("xml"))
        .map_err(|e| Error::io(root.join("xml"), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml")))
        .collect();
    files.sort();
    let pages = files
        .into_iter()
        .map(|xml| {
            let id = xml
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let split = if test.contains(&id) {
                2
            } else if val.contains(&id) {
                1
            } else {
                0
            };
            PageFile { id, xml, split }
        })
        .collect();
    Ok(PageCollection {
        name: IAM.to_string(),
        root,
        pages,
        unlisted: 0,
        split_origin:
            "IAM LWITLRT: test = testset.txt, val = validationset1+2.txt, train = the other forms"
                .into(),
    })
}

/// The course's symbols, as a fixed vocabulary.
fn course_vocabulary(paragraphs: bool) -> Vec<String> {
    let v = if paragraphs {
        Vocabulary::paragraphs()
    } else {
        Vocabulary::emnist()
    };
    v.symbols().to_vec()
}

fn course_text(paragraphs: bool) -> TextSettings {
    TextSettings {
        vocabulary: Some(course_vocabulary(paragraphs)),
        ..TextSettings::default()
    }
}

fn iam_crop() -> CropSettings {
    // The reader pads its boxes already (LINE_PADDING); boxes, not polygons.
    CropSettings {
        shape: super::page_lines::CropShape::Box,
        padding: 0,
        ..CropSettings::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn build_iam(
    name: &str,
    root: Option<&Path>,
    dir: &DataDir,
    units: &dyn PageUnits,
    geometry: serde_json::Value,
    crop: &CropSettings,
    text: &TextSettings,
    canvas: (u32, u32),
    paragraphs: bool,
    augment: &RealLineAugmentation,
) -> Result<DataModule> {
    let collection = locate(dir, root)?;
    let collections = [collection];
    let params = cache_params(name, &collections, crop, geometry)?;
    let cache = StoreCache::new(dir, &name.replace('-', "_"), &params)?;
    let opts = crop.extract_options();
    let (store, note) = cache.load_or_build(|| extract(&collections, units, &opts))?;
    let c = &collections[0];
    let notes = vec![
        format!(
            "{} forms from {} ({})",
            c.pages.len(),
            c.root.display(),
            c.split_origin
        ),
        note,
    ];
    build_module(
        store,
        ModuleSpec {
            name,
            text,
            canvas,
            paragraphs,
            augment,
            notes,
        },
    )
}

/// Settings of `iam-lines`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IamLinesConfig {
    /// The IAM folder; default `<data>/downloaded/iam`.
    pub root: Option<PathBuf>,
    pub height: u32,
    pub width: u32,
    pub crop: CropSettings,
    pub text: TextSettings,
    /// Augmentation of training lines (the course's IAM lines).
    pub augment: RealLineAugmentation,
}

impl Default for IamLinesConfig {
    fn default() -> Self {
        Self {
            root: None,
            height: 28,
            width: 768,
            crop: iam_crop(),
            text: course_text(false),
            augment: RealLineAugmentation::course_iam_lines(),
        }
    }
}

impl IamLinesConfig {
    /// Builds the data module (cutting and caching the lines if needed).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        build_iam(
            "iam-lines",
            self.root.as_deref(),
            dir,
            &LineUnits(self.height),
            serde_json::json!({ "height": self.height }),
            &self.crop,
            &self.text,
            (self.width, self.height),
            false,
            &self.augment,
        )
    }
}

/// Settings of `iam-paragraphs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IamParagraphsConfig {
    pub root: Option<PathBuf>,
    pub line_height: u32,
    pub max_lines: usize,
    pub width: u32,
    pub crop: CropSettings,
    pub text: TextSettings,
    /// Augmentation of training paragraphs (the course's IAM paragraphs).
    pub augment: RealLineAugmentation,
}

impl Default for IamParagraphsConfig {
    fn default() -> Self {
        Self {
            root: None,
            line_height: 28,
            max_lines: 13,
            width: 640,
            crop: iam_crop(),
            text: course_text(true),
            augment: RealLineAugmentation::course_iam_paragraphs(),
        }
    }
}

impl IamParagraphsConfig {
    /// Builds the data module (cutting and caching the paragraphs if needed).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        build_iam(
            "iam-paragraphs",
            self.root.as_deref(),
            dir,
            &ParagraphUnits {
                line_height: self.line_height,
                max_lines: self.max_lines,
            },
            serde_json::json!({ "line_height": self.line_height, "max_lines": self.max_lines }),
            &self.crop,
            &self.text,
            (self.width, self.line_height * self.max_lines as u32),
            true,
            &self.augment,
        )
    }

    fn synthetic(&self, num_train: usize, seed: u64) -> SyntheticParagraphsConfig {
        let mut text = self.text.clone();
        text.vocabulary = Some(course_vocabulary(false));
        SyntheticParagraphsConfig {
            lines: Box::new(DatasetConfig::IamLines(IamLinesConfig {
                root: self.root.clone(),
                height: self.line_height,
                width: self.width,
                crop: self.crop.clone(),
                text,
                augment: RealLineAugmentation::course_iam_lines(),
            })),
            min_lines: 1,
            max_lines: self.max_lines,
            width: Some(self.width),
            num_train,
            num_val: 0,
            num_test: 0,
            seed,
            ..SyntheticParagraphsConfig::default()
        }
    }
}

/// Settings of `iam-synthetic-paragraphs`: the real paragraphs' geometry
/// and `num_train` stacked paragraphs (training only, as the course).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IamSyntheticParagraphsConfig {
    pub paragraphs: IamParagraphsConfig,
    pub num_train: usize,
    pub seed: u64,
}

impl Default for IamSyntheticParagraphsConfig {
    fn default() -> Self {
        Self {
            paragraphs: IamParagraphsConfig::default(),
            num_train: 10_000,
            seed: 42,
        }
    }
}

impl IamSyntheticParagraphsConfig {
    /// Builds `iam-lines` and stacks its training lines.
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        let mut m = self
            .paragraphs
            .synthetic(self.num_train, self.seed)
            .build(dir)?;
        m.name = "iam-synthetic-paragraphs".to_string();
        Ok(m)
    }
}

/// Settings of `iam-original-and-synthetic-paragraphs`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IamOriginalAndSyntheticParagraphsConfig {
    pub synthetic: IamSyntheticParagraphsConfig,
}

impl IamOriginalAndSyntheticParagraphsConfig {
    /// Real paragraphs (train, val, test) + synthetic ones (train only).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        let real = &self.synthetic.paragraphs;
        let mix = MixtureConfig {
            parts: vec![
                MixturePart {
                    data: DatasetConfig::IamParagraphs(real.clone()),
                    weight: 1.0,
                    eval: true,
                },
                MixturePart {
                    data: DatasetConfig::IamSyntheticParagraphs(self.synthetic.clone()),
                    weight: 1.0,
                    eval: false,
                },
            ],
            canvas: Some([real.width, real.line_height * real.max_lines as u32]),
            vocabulary: Some(course_vocabulary(true)),
        };
        let mut m = mix.build(dir)?;
        m.name = "iam-original-and-synthetic-paragraphs".to_string();
        Ok(m)
    }
}

macro_rules! kind {
    ($($t:ty),*) => {$(
        impl super::registry::DatasetKind for $t {
            fn build(&self, dir: &DataDir) -> Result<DataModule> {
                <$t>::build(self, dir)
            }
        }
    )*};
}

kind!(
    IamLinesConfig,
    IamParagraphsConfig,
    IamSyntheticParagraphsConfig,
    IamOriginalAndSyntheticParagraphsConfig
);
