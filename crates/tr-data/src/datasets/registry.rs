//! The dataset registry: [`DatasetConfig`], one variant per dataset, tagged
//! by `dataset` in config files:
//!
//! ```yaml
//! data:
//!   dataset: emnist-lines
//!   max_length: 32
//! ```
//!
//! Every field has the course's default; unknown fields are errors. Names,
//! defaults and dotted overrides come from the registry mechanism
//! ([`mod@crate::registry`]); each dataset module implements [`DatasetKind`].
//! Adding a dataset is its module plus one line below.

use super::emnist::EmnistConfig;
use super::emnist_lines::EmnistLinesConfig;
use super::emnist_lines2::EmnistLines2Config;
use super::fake_images::FakeImagesConfig;
use super::font_lines::FontLinesConfig;
use super::iam::{
    IamLinesConfig, IamOriginalAndSyntheticParagraphsConfig, IamParagraphsConfig,
    IamSyntheticParagraphsConfig,
};
use super::mixture::MixtureConfig;
use super::mnist::MnistConfig;
use super::page_lines::PageLinesConfig;
use super::page_paragraphs::PageParagraphsConfig;
use super::synthetic_paragraphs::SyntheticParagraphsConfig;
use super::DataModule;
use crate::error::{Error, Result};
use crate::paths::DataDir;

/// What a dataset of the registry does with its config: implemented in the
/// dataset's own module.
pub trait DatasetKind {
    /// Builds the data module, reading data under `dir` (fake images read nothing).
    fn build(&self, dir: &DataDir) -> Result<DataModule>;
}

crate::registry! {
    /// Which dataset to build, with its settings.
    #[derive(Clone, Debug, PartialEq)]
    pub enum DatasetConfig {
        kind: "dataset",
        tag: "dataset",
        each: dyn DatasetKind,
        error: Error,
        "mnist" => Mnist(MnistConfig),
        "emnist" => Emnist(EmnistConfig),
        "emnist-lines" => EmnistLines(EmnistLinesConfig),
        "emnist-lines2" => EmnistLines2(EmnistLines2Config),
        "fake-images" => FakeImages(FakeImagesConfig),
        "page-lines" => PageLines(PageLinesConfig),
        "page-paragraphs" => PageParagraphs(PageParagraphsConfig),
        "mixture" => Mixture(MixtureConfig),
        "font-lines" => FontLines(FontLinesConfig),
        "synthetic-paragraphs" => SyntheticParagraphs(SyntheticParagraphsConfig),
        "iam-lines" => IamLines(IamLinesConfig),
        "iam-paragraphs" => IamParagraphs(IamParagraphsConfig),
        "iam-synthetic-paragraphs" => IamSyntheticParagraphs(IamSyntheticParagraphsConfig),
        "iam-original-and-synthetic-paragraphs" => IamOriginalAndSyntheticParagraphs(IamOriginalAndSyntheticParagraphsConfig),
    }
}

impl Default for DatasetConfig {
    /// MNIST, the course's default `--data_class`.
    fn default() -> Self {
        Self::Mnist(MnistConfig::default())
    }
}

impl DatasetConfig {
    /// Builds the data module, reading data under `dir` (fake images read nothing).
    pub fn build(&self, dir: &DataDir) -> Result<DataModule> {
        self.kind().build(dir)
    }
}
