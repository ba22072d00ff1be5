//! Page collections on disk — folders of page images with ALTO or PAGE XML —
//! and cutting their lines (or regions) into a [`LineStore`].
//!
//! **Finding the files.** A collection root holds its XML files directly or
//! in a `xml/`, `page/` or `alto/` subfolder (the first that has any). Split
//! files `splits/{train,val,test}.txt` (or `{train,val,test}.txt` in the
//! root) list pages by id (the XML file's stem), file name or path, one per
//! line; a page named in none of them is left out and counted. Without split
//! files, pages are split at random, seeded ([`PageSplit`]), at page level so
//! that no page gives lines to two splits.
//!
//! **Identity.** [`PageCollection::digest`] hashes every XML file and every
//! image it names (name, length and bytes), so a cache keyed by it is
//! rebuilt when any page changes.
//!
//! **Cutting.** [`extract`] reads the pages in parallel, applies the line
//! filter, crops every unit with [`crate::layout::crop_polygons`] (polygon or
//! box, padding, page image scaled to the XML's page size, grey, inverted to
//! bright ink on black, resized to the target height) and, by default,
//! stretches each crop's contrast so that paper is 0 and the brightest ink
//! 255 ([`stretch_ink`]). What could not be used is counted in an
//! [`ExtractionReport`]: lines by skip reason with examples, pages that fail
//! (malformed XML, missing image…) with their error — or, with `strict`,
//! the first failing page is the error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::line_store::{LineSet, LineStore};
use crate::error::{Error, Result};
use crate::layout::filter::LineFilter;
use crate::layout::{
    crop_polygons, load_page_image, read_page, CropOptions, Line, Page, ReadOptions,
};
use crate::seeding::rng_for;

/// How pages are split when the collection has no split files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PageSplit {
    /// Fraction of pages for validation.
    pub val_fraction: f64,
    /// Fraction of pages for test.
    pub test_fraction: f64,
    /// Seed of the page shuffle.
    pub seed: u64,
}

impl Default for PageSplit {
    fn default() -> Self {
        Self {
            val_fraction: 0.1,
            test_fraction: 0.1,
            seed: 42,
        }
    }
}

/// One page of a collection: its id, XML file and split (0 train, 1 val, 2 test).
#[derive(Clone, Debug, PartialEq)]
pub struct PageFile {
    pub id: String,
    pub xml: PathBuf,
    pub split: usize,
}

/// The pages of one collection root, each assigned to a split.
#[derive(Clone, Debug, PartialEq)]
pub struct PageCollection {
    pub root: PathBuf,
    /// Short name used in sources (`<name>:<page>/<line>`): the root folder's name.
    pub name: String,
    pub pages: Vec<PageFile>,
    /// Pages named in no split file (left out).
    pub unlisted: usize,
    /// Where the split came from (for notes).
    pub split_origin: String,
}

impl PageCollection {
    /// Finds the XML files and splits of `root`.
    pub fn discover(root: &Path, split: &PageSplit) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::invalid(
                "data.roots",
                format!(
                    "{} is not a folder (expected a folder of page images and ALTO/PAGE XML files)",
                    root.display()
                ),
            ));
        }
        let xml_dir = ["xml", "page", "alto", ""]
            .iter()
            .map(|sub| root.join(sub))
            .find(|d| !xml_files(d).is_empty())
            .ok_or_else(|| {
                Error::invalid(
                    "data.roots",
                    format!(
                        "{} holds no .xml files (looked in it and in its xml/, page/ and alto/ folders)",
                        root.display()
                    ),
                )
            })?;
        let files = xml_files(&xml_dir);
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pages".to_string());
        let lists = read_split_files(root)?;
        let (pages, unlisted, split_origin) = match lists {
            Some((lists, origin)) => {
                let mut pages = Vec::new();
                let mut unlisted = 0;
                for xml in files {
                    let id = stem(&xml);
                    match lists.iter().position(|l| l.contains(&id)) {
                        Some(split) => pages.push(PageFile { id, xml, split }),
                        None => unlisted += 1,
                    }
                }
                (pages, unlisted, origin)
            }
            None => (seeded_split(files, split)?, 0, seeded_origin(split)),
        };
        Ok(Self {
            root: root.to_path_buf(),
            name,
            pages,
            unlisted,
            split_origin,
        })
    }

    /// Digest of every XML file and every image they name (order-independent
    /// of the file system: pages sorted by id).
    pub fn digest(&self, opts: &ReadOptions) -> Result<String> {
        let mut pages: Vec<&PageFile> = self.pages.iter().collect();
        pages.sort_by(|a, b| a.id.cmp(&b.id));
        let parts: Vec<Vec<u8>> = pages
            .par_iter()
            .map(|p| {
                let mut h = Sha256::new();
                hash_file(&mut h, &p.id, &p.xml)?;
                // An unreadable XML is reported by extraction; here its bytes count.
                if let Ok(page) = read_page(&p.xml, opts) {
                    if let Some(img) = page.image.as_deref().filter(|i| i.is_file()) {
                        hash_file(&mut h, "image", img)?;
                    }
                }
                h.update([p.split as u8]);
                Ok(h.finalize().to_vec())
            })
            .collect::<Result<_>>()?;
        let mut all = Sha256::new();
        for p in parts {
            all.update(p);
        }
        Ok(hex::encode(all.finalize()))
    }
}

fn seeded_origin(split: &PageSplit) -> String {
    format!(
        "pages split at random (seed {}, val {:.0}%, test {:.0}%): no split files",
        split.seed,
        split.val_fraction * 100.0,
        split.test_fraction * 100.0
    )
}

fn hash_file(h: &mut Sha256, name: &str, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    h.update(name.as_bytes());
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(&bytes);
    Ok(())
}

/// The `.xml` files of `dir`, sorted (none when it is not a folder).
fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml")))
        .collect();
    files.sort();
    files
}

/// The page id a split-file entry names: its file name without a known
/// XML or image extension (ids may contain dots: `B.1.intro-eurasie_0005`).
fn page_id(entry: &str) -> String {
    let name = Path::new(entry)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| entry.to_string());
    const KNOWN: [&str; 8] = ["xml", "png", "jpg", "jpeg", "tif", "tiff", "webp", "bmp"];
    match name.rsplit_once('.') {
        Some((id, ext)) if KNOWN.iter().any(|k| ext.eq_ignore_ascii_case(k)) => id.to_string(),
        _ => name,
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `splits/{train,val,test}.txt` or `{train,val,test}.txt`: page ids per split.
#[allow(clippy::type_complexity)]
fn read_split_files(root: &Path) -> Result<Option<([Vec<String>; 3], String)>> {
    for dir in [root.join("splits"), root.to_path_buf()] {
        let paths = ["train", "val", "test"].map(|s| dir.join(format!("{s}.txt")));
        if !paths.iter().any(|p| p.is_file()) {
            continue;
        }
        let mut lists: [Vec<String>; 3] = Default::default();
        for (list, path) in lists.iter_mut().zip(&paths) {
            if !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            *list = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(page_id)
                .collect();
        }
        return Ok(Some((lists, format!("split files in {}", dir.display()))));
    }
    Ok(None)
}

fn seeded_split(files: Vec<PathBuf>, split: &PageSplit) -> Result<Vec<PageFile>> {
    let ok = |f: f64| (0.0..1.0).contains(&f);
    if !ok(split.val_fraction)
        || !ok(split.test_fraction)
        || split.val_fraction + split.test_fraction >= 1.0
    {
        return Err(Error::invalid(
            "data.split",
            format!(
                "val_fraction {} and test_fraction {} must be in [0, 1) and leave pages for training",
                split.val_fraction, split.test_fraction
            ),
        ));
    }
    let n = files.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng_for(split.seed, &[0x7061_6765])); // "page"
    let n_val = (n as f64 * split.val_fraction).round() as usize;
    let n_test = (n as f64 * split.test_fraction).round() as usize;
    let mut assigned = vec![0usize; n];
    for (rank, &i) in order.iter().enumerate() {
        assigned[i] = if rank < n_val {
            1
        } else if rank < n_val + n_test {
            2
        } else {
            0
        };
    }
    Ok(files
        .into_iter()
        .zip(assigned)
        .map(|(xml, split)| PageFile {
            id: stem(&xml),
            xml,
            split,
        })
        .collect())
}

/// What extraction left out, by split and reason, with examples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtractionReport {
    /// Pages that gave at least one crop, per split (train, val, test).
    pub pages: [usize; 3],
    /// Lines left out, by reason (`SkipReason::describe`), over all splits.
    pub skipped: BTreeMap<String, usize>,
    /// Up to 20 skipped lines as `collection:page/line: reason (detail)`.
    pub skipped_examples: Vec<String>,
    /// Pages that could not be used at all, with the error.
    pub failed_pages: Vec<String>,
    /// Pages named in no split file.
    pub unlisted_pages: usize,
}

/// How [`extract`] cuts and what it keeps.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    pub read: ReadOptions,
    pub filter: LineFilter,
    pub crop: CropOptions,
    /// Stretch contrast so that paper is 0 and ink reaches 255.
    pub stretch: bool,
    /// A page that fails is an error instead of a counted skip.
    pub strict: bool,
}

/// One thing to cut out of a page: its outlines in XML page pixels (one
/// for a line, its lines' for a paragraph), its text, its id and the height
/// its crop is resized to.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    pub outlines: Vec<Vec<(f32, f32)>>,
    pub text: String,
    pub id: String,
    pub height: u32,
}

/// What to cut out of a page: its lines, or its regions as paragraphs.
pub trait PageUnits: Sync {
    /// The units of `page`, after the line filter ran.
    fn units(&self, page: &Page) -> Vec<Unit>;
}

/// Every kept line is a unit, resized to this height.
pub struct LineUnits(pub u32);

impl PageUnits for LineUnits {
    fn units(&self, page: &Page) -> Vec<Unit> {
        page.lines()
            .map(|l| Unit {
                outlines: vec![outline(l)],
                text: l.text.trim().to_string(),
                id: l.id.clone(),
                height: self.0,
            })
            .collect()
    }
}

/// A line's outline: its polygon, else its box.
pub fn outline(line: &Line) -> Vec<(f32, f32)> {
    if line.polygon.len() >= 3 {
        line.polygon.clone()
    } else {
        line.bbox.corners()
    }
}

/// Cuts every unit of every page of `collections` into a store of crops.
pub fn extract(
    collections: &[PageCollection],
    units: &dyn PageUnits,
    opts: &ExtractOptions,
) -> Result<LineStore<ExtractionReport>> {
    let jobs: Vec<(&PageCollection, &PageFile)> = collections
        .iter()
        .flat_map(|c| c.pages.iter().map(move |p| (c, p)))
        .collect();
    let done: Vec<PageResult> = jobs
        .par_iter()
        .map(|(c, p)| cut_page(c, p, units, opts))
        .collect();
    let mut report = ExtractionReport {
        unlisted_pages: collections.iter().map(|c| c.unlisted).sum(),
        ..ExtractionReport::default()
    };
    let mut sets = [LineSet::new(), LineSet::new(), LineSet::new()];
    for ((_, page), result) in jobs.iter().zip(done) {
        match result {
            Err(e) => {
                if opts.strict {
                    return Err(e);
                }
                tracing::warn!(page = %page.xml.display(), error = %e, "page left out");
                report.failed_pages.push(e.to_string());
            }
            Ok((set, skipped)) => {
                if !set.is_empty() {
                    report.pages[page.split] += 1;
                }
                for (reason, example) in skipped {
                    *report.skipped.entry(reason).or_insert(0) += 1;
                    if report.skipped_examples.len() < 20 {
                        report.skipped_examples.push(example);
                    }
                }
                sets[page.split].extend(set);
            }
        }
    }
    if sets.iter().all(LineSet::is_empty) {
        return Err(Error::invalid(
            "data.roots",
            format!(
                "no usable line in {} pages ({} failed{}, {} named in no split file); check the roots, the split files, the tag filter and the XML",
                jobs.len(),
                report.failed_pages.len(),
                report
                    .failed_pages
                    .first()
                    .map(|f| format!(", first: {f}"))
                    .unwrap_or_default(),
                report.unlisted_pages
            ),
        ));
    }
    let [train, val, test] = sets;
    Ok(LineStore {
        train,
        val,
        test,
        report,
    })
}

type PageResult = Result<(LineSet, Vec<(String, String)>)>;

fn cut_page(
    c: &PageCollection,
    p: &PageFile,
    units: &dyn PageUnits,
    opts: &ExtractOptions,
) -> PageResult {
    let mut page = read_page(&p.xml, &opts.read)?;
    opts.filter.apply(&mut page);
    let source = |id: &str| format!("{}:{}/{}", c.name, p.id, id);
    let mut skipped: Vec<(String, String)> = page
        .skipped
        .iter()
        .map(|s| {
            let why = s.reason.describe().to_string();
            let example = format!("{}: {why} ({})", source(&s.id), s.detail);
            (why, example)
        })
        .collect();
    let found = units.units(&page);
    let mut set = LineSet::new();
    if found.is_empty() {
        return Ok((set, skipped));
    }
    let image = load_page_image(&page)?;
    for unit in found {
        let crop_opts = CropOptions {
            target_height: Some(unit.height),
            ..opts.crop
        };
        match crop_polygons(&image, &unit.outlines, &crop_opts) {
            Ok(mut crop) => {
                if opts.stretch {
                    stretch_ink(&mut crop);
                }
                set.push(&crop, unit.text, source(&unit.id))?;
            }
            Err(reason) => {
                let why = reason.describe().to_string();
                let example = format!("{}: {why} (when cropping)", source(&unit.id));
                skipped.push((why, example));
            }
        }
    }
    Ok((set, skipped))
}

/// Contrast stretch of a bright-ink-on-black crop: the 30th percentile
/// (paper: ink covers well under 70 % of a line crop) goes to 0, the 99.5th
/// percentile (ink) to 255, linearly, clamped. A crop with almost no
/// contrast (< 24 grey levels) is only shifted.
pub fn stretch_ink(img: &mut image::GrayImage) {
    let n = img.as_raw().len();
    if n == 0 {
        return;
    }
    let mut hist = [0usize; 256];
    for &v in img.iter() {
        hist[usize::from(v)] += 1;
    }
    let quantile = |q: f64| {
        let want = ((n as f64) * q).ceil().max(1.0) as usize;
        let mut seen = 0;
        for (v, &c) in hist.iter().enumerate() {
            seen += c;
            if seen >= want {
                return v as i32;
            }
        }
        255
    };
    let (lo, hi) = (quantile(0.3), quantile(0.995));
    let range = (hi - lo).max(24) as f32;
    for v in img.iter_mut() {
        let x = (f32::from(*v) - lo as f32) * 255.0 / range;
        *v = x.round().clamp(0.0, 255.0) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_entries_name_pages_with_dots() {
        assert_eq!(page_id("B.1.intro-eurasie_0005"), "B.1.intro-eurasie_0005");
        assert_eq!(
            page_id("xml/B.1.intro-eurasie_0005.xml"),
            "B.1.intro-eurasie_0005"
        );
        assert_eq!(page_id("JDH_2_16_180_004 (1).jpg"), "JDH_2_16_180_004 (1)");
        assert_eq!(page_id("p1"), "p1");
    }

    #[test]
    fn stretch_maps_paper_to_zero_and_ink_to_full() {
        let mut img =
            image::GrayImage::from_fn(10, 10, |x, _| image::Luma([if x < 2 { 120 } else { 40 }]));
        stretch_ink(&mut img);
        assert_eq!(img.get_pixel(5, 5).0[0], 0);
        assert_eq!(img.get_pixel(0, 0).0[0], 255);
    }
}
