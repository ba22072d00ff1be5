//! Cutting line (or region) images out of a page image.
//!
//! Pipeline, in this order:
//!
//! 1. **Clamp** the outline to the XML page (`[0, W] × [0, H]`): real files
//!    have negative points and points beyond the page. Nothing left →
//!    [`SkipReason::OutsidePage`]; a sliver under 1 px² →
//!    [`SkipReason::ZeroArea`].
//! 2. **Scale** to the image: when the image is not the XML's page size the
//!    coordinates are multiplied by `image / page` per axis (the same as
//!    resizing the page to the XML's size, without resampling a whole page).
//!    The two ratios must agree within 2% ([`LayoutError::ImageSizeMismatch`]).
//! 3. **Window**: the outline's box grown by `padding` image pixels, cut to
//!    the image.
//! 4. **Mask** ([`CropMode::Polygon`]): pixels outside the outline — grown by
//!    the same `padding`, so tight Transkribus polygons keep their ascenders —
//!    become paper: the median grey of the window ([`Paper::LocalMedian`],
//!    which follows uneven lighting) or a fixed value. [`CropMode::Box`]
//!    keeps the whole window.
//! 5. **Polarity**: pages are dark ink on light paper; the project's images
//!    are bright ink on black (`docs/architecture.md`, "Images"), so values
//!    are inverted (`255 − v`) unless [`CropOptions::invert`] is off.
//! 6. **Height**: resized (bilinear, [`super::resize`]) to [`CropOptions::target_height`]
//!    keeping the aspect ratio (width rounded, at least 1); `None` keeps the size.

use std::path::Path;

use image::GrayImage;

use super::error::LayoutError;
use super::geometry::{clamp_points, polygon_area, BBox, Point};
use super::mask::{dilate, rasterize};
use super::model::{Line, Page, SkipReason};
use super::resize::resize_triangle;
use crate::error::{Error, Result};

/// What outline a crop follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CropMode {
    /// The polygon; outside it becomes paper.
    #[default]
    Polygon,
    /// The polygon's bounding box, everything in it kept.
    Box,
}

/// The grey that replaces pixels outside the polygon (in the page's own
/// polarity, before inversion).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Paper {
    /// Median of the crop window.
    #[default]
    LocalMedian,
    /// This grey value.
    Fixed(u8),
}

/// How to cut a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CropOptions {
    pub mode: CropMode,
    /// Margin around the outline, in page-image pixels (default 8, as the
    /// course pads IAM lines).
    pub padding: u32,
    /// Output height in pixels, width scaled to keep the aspect; `None` keeps the size.
    pub target_height: Option<u32>,
    pub paper: Paper,
    /// Turn dark-on-light pages into the project's bright ink on black (default on).
    pub invert: bool,
}

impl Default for CropOptions {
    fn default() -> Self {
        CropOptions {
            mode: CropMode::Polygon,
            padding: 8,
            target_height: None,
            paper: Paper::LocalMedian,
            invert: true,
        }
    }
}

/// A decoded page image in grey, with its scale relative to the XML page.
#[derive(Clone, Debug)]
pub struct PageImage {
    pub image: GrayImage,
    /// Image pixels per XML page pixel, along x and y.
    pub sx: f32,
    pub sy: f32,
    /// The XML page's size.
    pub page_w: u32,
    pub page_h: u32,
}

/// Loads the image a page names, in grey, and checks it against the XML page size.
pub fn load_page_image(page: &Page) -> Result<PageImage> {
    let layout = |kind| Error::layout(page.xml.clone(), kind);
    let path = page
        .image
        .as_deref()
        .ok_or_else(|| layout(LayoutError::NoImage))?;
    if !path.is_file() {
        return Err(layout(LayoutError::MissingImage {
            image: path.to_path_buf(),
        }));
    }
    let image = image::open(path)
        .map_err(|e| {
            layout(LayoutError::ImageDecode {
                image: path.to_path_buf(),
                message: e.to_string(),
            })
        })?
        .into_luma8();
    page_image(image, page, path)
}

/// Wraps an already decoded grey image of `page` (e.g. from memory); `path`
/// names it in errors.
pub fn page_image(image: GrayImage, page: &Page, path: &Path) -> Result<PageImage> {
    let (iw, ih) = image.dimensions();
    let (pw, ph) = (page.width.max(1), page.height.max(1));
    let rx = f64::from(iw) / f64::from(pw);
    let ry = f64::from(ih) / f64::from(ph);
    if (rx - ry).abs() > 0.02 * rx.max(ry) {
        return Err(Error::layout(
            page.xml.clone(),
            LayoutError::ImageSizeMismatch {
                image: path.to_path_buf(),
                image_w: iw,
                image_h: ih,
                page_w: page.width,
                page_h: page.height,
                rx,
                ry,
            },
        ));
    }
    Ok(PageImage {
        image,
        sx: rx as f32,
        sy: ry as f32,
        page_w: pw,
        page_h: ph,
    })
}

/// The image of one line (polygon or box per `opts.mode`).
pub fn crop_line(
    page: &PageImage,
    line: &Line,
    opts: &CropOptions,
) -> std::result::Result<GrayImage, SkipReason> {
    let outline = if line.polygon.len() >= 3 {
        line.polygon.clone()
    } else {
        line.bbox.corners()
    };
    crop_polygon(page, &outline, opts)
}

/// The image of any outline given in XML page pixels (a line, a region…).
pub fn crop_polygon(
    page: &PageImage,
    outline: &[Point],
    opts: &CropOptions,
) -> std::result::Result<GrayImage, SkipReason> {
    crop_polygons(page, std::slice::from_ref(&outline.to_vec()), opts)
}

/// The image of the union of several outlines (a paragraph made of its
/// lines): the window spans all of them, and in polygon mode only pixels
/// inside one of them (dilated by the padding) keep the page's ink.
/// Outlines outside the page or without area are left out; none left is
/// the skip reason of the first.
pub fn crop_polygons(
    page: &PageImage,
    outlines: &[Vec<Point>],
    opts: &CropOptions,
) -> std::result::Result<GrayImage, SkipReason> {
    let (pw, ph) = (page.page_w as f32, page.page_h as f32);
    let mut first_reason = None;
    let mut scaled: Vec<Vec<Point>> = Vec::with_capacity(outlines.len());
    for outline in outlines {
        match scaled_outline(page, outline, pw, ph) {
            Ok(s) => scaled.push(s),
            Err(r) => {
                first_reason.get_or_insert(r);
            }
        }
    }
    if scaled.is_empty() {
        return Err(first_reason.unwrap_or(SkipReason::NoGeometry));
    }
    let b = scaled
        .iter()
        .filter_map(|s| BBox::of_points(s))
        .reduce(|a, b| a.union(&b))
        .ok_or(SkipReason::NoGeometry)?;
    let (iw, ih) = page.image.dimensions();
    let pad = opts.padding as f32;
    let x0 = (b.x0 - pad).floor().clamp(0.0, iw as f32) as u32;
    let y0 = (b.y0 - pad).floor().clamp(0.0, ih as f32) as u32;
    let x1 = (b.x1 + pad).ceil().clamp(0.0, iw as f32) as u32;
    let y1 = (b.y1 + pad).ceil().clamp(0.0, ih as f32) as u32;
    if x1 <= x0 || y1 <= y0 {
        return Err(SkipReason::ZeroArea);
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let mut crop = window(&page.image, x0, y0, w, h);

    if opts.mode == CropMode::Polygon {
        let mut inside = rasterize(&scaled[0], x0, y0, w as usize, h as usize);
        for s in &scaled[1..] {
            let more = rasterize(s, x0, y0, w as usize, h as usize);
            for (a, b) in inside.data.iter_mut().zip(more.data) {
                *a |= b;
            }
        }
        // A polygon thinner than a pixel row covers no pixel centre: keep its box.
        if inside.count() > 0 {
            let keep = dilate(&inside, opts.padding as usize);
            let paper = match opts.paper {
                Paper::Fixed(v) => v,
                Paper::LocalMedian => median(&crop),
            };
            for (v, &k) in crop.iter_mut().zip(&keep.data) {
                if !k {
                    *v = paper;
                }
            }
        }
    }
    if opts.invert {
        for v in crop.iter_mut() {
            *v = 255 - *v;
        }
    }
    Ok(match opts.target_height {
        Some(th) if th > 0 && th != h => {
            let tw = ((f64::from(w) * f64::from(th) / f64::from(h)).round() as u32).max(1);
            resize_triangle(&crop, tw, th)
        }
        _ => crop,
    })
}

/// `outline` clamped to the `pw × ph` page and scaled to image pixels, or why it cannot be cut.
fn scaled_outline(
    page: &PageImage,
    outline: &[Point],
    pw: f32,
    ph: f32,
) -> std::result::Result<Vec<Point>, SkipReason> {
    let raw_box = BBox::of_points(outline).ok_or(SkipReason::NoGeometry)?;
    if raw_box.clamp(pw, ph).area() <= 0.0 && raw_box.area() > 0.0 {
        return Err(SkipReason::OutsidePage);
    }
    let clamped = clamp_points(outline, pw, ph);
    let area = if clamped.len() >= 3 {
        polygon_area(&clamped)
    } else {
        0.0
    };
    if area < 1.0 {
        return Err(SkipReason::ZeroArea);
    }
    Ok(clamped
        .iter()
        .map(|&(x, y)| (x * page.sx, y * page.sy))
        .collect())
}

/// The `w × h` window at `(x0, y0)` (inside the image), copied row by row.
fn window(img: &GrayImage, x0: u32, y0: u32, w: u32, h: u32) -> GrayImage {
    let stride = img.width() as usize;
    let (x0, y0, w, h) = (x0 as usize, y0 as usize, w as usize, h as usize);
    let src = img.as_raw();
    let mut data = Vec::with_capacity(w * h);
    for y in y0..y0 + h {
        data.extend_from_slice(&src[y * stride + x0..y * stride + x0 + w]);
    }
    GrayImage::from_raw(w as u32, h as u32, data)
        .unwrap_or_else(|| GrayImage::new(w as u32, h as u32))
}

/// Median grey value of an image (histogram, `O(pixels)`).
fn median(img: &GrayImage) -> u8 {
    let mut hist = [0usize; 256];
    for &v in img.iter() {
        hist[usize::from(v)] += 1;
    }
    let half = img.as_raw().len().div_ceil(2);
    let mut seen = 0;
    for (v, &n) in hist.iter().enumerate() {
        seen += n;
        if seen >= half {
            return v as u8;
        }
    }
    255
}
