//! What the EMNIST line datasets share: Brown text + EMNIST glyphs → three
//! splits of synthetic lines, generated once and cached.
//!
//! As the course: train and val lines draw glyphs from EMNIST's train+val
//! pool, test lines only from EMNIST's test split; the sentence generator's
//! maximum is `max_length - 2` (room for `<S>`/`<E>`). Splits use generator
//! streams 0 (train), 1 (val), 2 (test) of the seed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use super::emnist::EmnistConfig;
use super::emnist_source::EmnistSource;
use super::line_cache::{LineCache, LineSets, FORMAT_VERSION};
use super::line_synthesis::{synthesize_lines, GlyphPool, LineGeometry};
use super::sentence_generator::SentenceGenerator;
use super::synthetic_lines::LineSplit;
use crate::error::{Error, Result};
use crate::file_identity::identify;
use crate::paths::DataDir;
use crate::readers::read_brown_zip;
use crate::vocab::Vocabulary;

/// Registry/download name of the Brown corpus.
pub const BROWN: &str = "brown";
const BROWN_ZIP: &str = "brown.zip";

/// Everything that determines a synthetic line dataset.
pub struct LineRecipe {
    /// Cache sub-directory, e.g. `emnist_lines`.
    pub cache_name: &'static str,
    /// The dataset's own config, serialised (part of the cache key).
    pub config: serde_json::Value,
    pub geometry: LineGeometry,
    /// Maximum line length in characters (the generator gets `max_length - 2`).
    pub max_length: usize,
    /// Padded label length.
    pub label_len: usize,
    pub with_start_end: bool,
    /// Lines per split: train, val, test.
    pub counts: [usize; 3],
    pub seed: u64,
}

impl LineRecipe {
    /// Checks that the longest possible line fits the canvas and the labels.
    pub fn validate(&self, dataset: &str) -> Result<()> {
        let g = &self.geometry;
        if !(0.0..1.0).contains(&g.min_overlap) || !(g.min_overlap..1.0).contains(&g.max_overlap) {
            return Err(Error::invalid(
                format!("{dataset}.min_overlap/max_overlap"),
                format!(
                    "need 0 <= min_overlap <= max_overlap < 1, found {} and {}",
                    g.min_overlap, g.max_overlap
                ),
            ));
        }
        if self.max_length < 3 {
            return Err(Error::invalid(
                format!("{dataset}.max_length"),
                format!("{} is below 3", self.max_length),
            ));
        }
        let longest = self.max_length - 2;
        let max_step = 28 - (g.min_overlap * 28.0) as usize;
        let extent = g.x_start + (longest - 1) * max_step + 28;
        if extent > g.width {
            return Err(Error::invalid(
                format!("{dataset}.max_length"),
                format!(
                    "a {longest}-character line at min_overlap {} needs {extent} px, wider than the {} px image",
                    g.min_overlap, g.width
                ),
            ));
        }
        if longest + 2 * usize::from(self.with_start_end) > self.label_len {
            return Err(Error::invalid(
                format!("{dataset}.max_length"),
                format!(
                    "{} exceeds the label length {}",
                    self.max_length, self.label_len
                ),
            ));
        }
        if let Some(i) = self.counts.iter().position(|&c| c == 0) {
            let field = ["num_train", "num_val", "num_test"][i];
            return Err(Error::invalid(
                format!("{dataset}.{field}"),
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// The cache entry of this recipe with the sources found in `dir`: its
    /// key holds every parameter and the name, length and SHA-256 of every
    /// source file (EMNIST's files and `brown.zip`).
    pub fn cache_entry(&self, dir: &DataDir) -> Result<LineCache> {
        Ok(self.sources_and_cache(dir)?.2)
    }

    fn sources_and_cache(&self, dir: &DataDir) -> Result<(EmnistSource, PathBuf, LineCache)> {
        let source = EmnistSource::locate(dir)?;
        let brown = dir.require(BROWN, BROWN_ZIP)?;
        let params = json!({
            "format_version": FORMAT_VERSION,
            "dataset": self.cache_name,
            "config": self.config,
            "geometry": [self.geometry.height, self.geometry.width, self.geometry.x_start],
            "label_len": self.label_len,
            "with_start_end": self.with_start_end,
            "emnist": EmnistConfig::default(),
            "emnist_files": source.identity()?,
            "brown_file": identify(&brown)?,
        });
        let g = &self.geometry;
        let cache = LineCache::new(
            dir,
            self.cache_name,
            &params,
            (g.height, g.width, self.label_len),
        )?;
        Ok((source, brown, cache))
    }

    /// Loads the lines from the cache, or generates and caches them.
    /// Returns the splits and provenance notes.
    pub fn build(&self, dir: &DataDir) -> Result<(LineSets, Vec<String>)> {
        let (source, brown, cache) = self.sources_and_cache(dir)?;
        let (sets, cache_note) =
            cache.load_or_generate(|| self.generate(&EmnistConfig::default(), &source, &brown))?;
        let notes = vec![
            format!("glyphs: {}", source.describe()),
            format!("text: Brown corpus {}", brown.display()),
            "train/val lines use EMNIST train+val glyphs, test lines only EMNIST test glyphs"
                .to_string(),
            cache_note,
        ];
        Ok((sets, notes))
    }

    fn generate(
        &self,
        emnist_cfg: &EmnistConfig,
        source: &EmnistSource,
        brown: &Path,
    ) -> Result<LineSets> {
        let started = Instant::now();
        let emnist = emnist_cfg.load_from(source)?;
        let corpus = read_brown_zip(brown)?;
        let sentences = SentenceGenerator::from_brown(&corpus, self.max_length - 2)?;
        tracing::info!(
            secs = started.elapsed().as_secs_f64(),
            sentences = corpus.sentences.len(),
            "EMNIST and Brown loaded"
        );
        let vocab = Vocabulary::emnist();
        let trainval: Vec<usize> = emnist.train.iter().chain(&emnist.val).copied().collect();
        let trainval_pool = GlyphPool::new(&emnist.glyphs, &trainval, &vocab);
        let test_pool = GlyphPool::new(&emnist.glyphs, &emnist.test, &vocab);
        let pools = [&trainval_pool, &trainval_pool, &test_pool];
        let mut splits = Vec::with_capacity(3);
        for (split, (&n, pool)) in self.counts.iter().zip(pools).enumerate() {
            let (images, texts) =
                synthesize_lines(n, split as u64, self.seed, &sentences, pool, &self.geometry)?;
            let mut labels = Vec::with_capacity(n * self.label_len);
            for t in &texts {
                labels.extend(vocab.encode_padded(t, self.label_len, self.with_start_end)?);
            }
            let size = (self.geometry.height, self.geometry.width);
            splits.push(LineSplit::new(
                std::sync::Arc::new(images),
                0,
                size,
                labels,
                self.label_len,
                texts,
            )?);
        }
        let mut it = splits.into_iter();
        let (Some(train), Some(val), Some(test)) = (it.next(), it.next(), it.next()) else {
            unreachable!("three splits were generated")
        };
        Ok(LineSets { train, val, test })
    }
}
