//! Page images with line masks, for training a line segmenter (`UNet` in
//! tr-models): every page of a collection split (the shared collections'
//! `splits/*.txt`, else a seeded split, as `page-lines` finds them), its
//! image reduced so the longer side is at most `max_side` and both sides
//! are multiples of `multiple` (the U-Net's `2^depth`), in the project's
//! polarity (bright ink on black), with the line-body and baseline masks
//! of its XML at the same size ([`crate::layout::line_masks`]).
//!
//! Not a registry dataset: its targets are masks, not label sequences.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::GrayImage;

use super::page_source::{PageCollection, PageSplit};
use crate::error::{Error, Result};
use crate::layout::{line_masks, load_page_image, read_page, ReadOptions};

/// One page ready for a segmenter.
#[derive(Clone, Debug)]
pub struct PageMaskSample {
    /// Page id (the XML file's stem).
    pub id: String,
    /// Grey, bright ink on black.
    pub image: GrayImage,
    /// 255 inside line polygons.
    pub body: GrayImage,
    /// 255 along baselines (`baseline_radius` pixels each side).
    pub baseline: GrayImage,
}

/// Settings of [`load_page_masks`].
#[derive(Clone, Debug, PartialEq)]
pub struct PageMaskOptions {
    /// Longer side at most (default 512).
    pub max_side: u32,
    /// Both sides rounded down to a multiple of this (default 8).
    pub multiple: u32,
    /// Half-thickness of the baseline band, pixels at the reduced size (default 1.5).
    pub baseline_radius: f32,
    pub split: PageSplit,
}

impl Default for PageMaskOptions {
    fn default() -> Self {
        Self {
            max_side: 512,
            multiple: 8,
            baseline_radius: 1.5,
            split: PageSplit::default(),
        }
    }
}

/// The pages of `split` (0 train, 1 val, 2 test) of the collection at `root`.
pub fn load_page_masks(
    root: &Path,
    split: usize,
    opts: &PageMaskOptions,
) -> Result<Vec<PageMaskSample>> {
    let coll = PageCollection::discover(root, &opts.split)?;
    let mut out = Vec::new();
    for file in coll.pages.iter().filter(|p| p.split == split) {
        let page = read_page(&file.xml, &ReadOptions::default())?;
        let img = load_page_image(&page)?;
        let (w, h) = img.image.dimensions();
        let s = (opts.max_side as f32 / w.max(h) as f32).min(1.0);
        let m = opts.multiple.max(1);
        let tw = (((w as f32 * s) as u32) / m * m).max(m);
        let th = (((h as f32 * s) as u32) / m * m).max(m);
        let mut small = imageops::resize(&img.image, tw, th, FilterType::Triangle);
        // Pages are dark ink on light paper: the project's polarity is the inverse.
        small.iter_mut().for_each(|v| *v = 255 - *v);
        let (body, baseline) = line_masks(&page, tw, th, opts.baseline_radius);
        out.push(PageMaskSample {
            id: file.id.clone(),
            image: small,
            body,
            baseline,
        });
    }
    if out.is_empty() {
        return Err(Error::invalid(
            "split",
            format!("{}: no page in split {split}", root.display()),
        ));
    }
    Ok(out)
}
