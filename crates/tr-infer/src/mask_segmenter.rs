//! A trained line segmenter: the U-Net written by `htr segment-train`
//! (`unet.safetensors` + `segmenter.json`), run on a page and turned into
//! ordered line polygons ([`tr_data::layout::lines_from_mask`]).
//!
//! The page (grey, bright ink on black) is resized so its longer side is
//! the training `max_side` and both sides are multiples of `2^depth`; the
//! line-body probabilities above 0.5 form the lines, components smaller
//! than 1/4000 of the reduced page are dropped, and the polygons are
//! scaled back to the page's pixels.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use image::imageops::{self, FilterType};
use image::GrayImage;
use serde::Deserialize;
use tr_data::layout::{lines_from_mask, BBox, SegmentedLine};
use tr_models::{UNet, UNetConfig};

use crate::error::{Error, Result};

/// The fields of `segmenter.json` inference needs (training keeps more).
#[derive(Clone, Debug, Deserialize)]
struct SegmenterFile {
    model: UNetConfig,
    max_side: u32,
}

/// A loaded U-Net line segmenter.
#[derive(Clone, Debug)]
pub struct MaskSegmenter {
    net: UNet,
    depth: usize,
    max_side: u32,
}

impl MaskSegmenter {
    /// Loads `dir/segmenter.json` and `dir/unet.safetensors`.
    pub fn load(dir: &Path) -> Result<Self> {
        let cfg_path = dir.join("segmenter.json");
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
        let cfg: SegmenterFile = serde_json::from_str(&text)
            .map_err(|e| Error::artifact(&cfg_path, format!("not a segmenter config: {e}")))?;
        let weights = dir.join("unet.safetensors");
        if !weights.is_file() {
            return Err(Error::artifact(
                &weights,
                "missing (write it with htr segment-train)",
            ));
        }
        let bytes = std::fs::read(&weights).map_err(|e| Error::io(&weights, e))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu)?;
        let net = UNet::new(&cfg.model, vb)
            .map_err(|e| Error::artifact(&weights, format!("does not fit {:?}: {e}", cfg.model)))?;
        Ok(Self {
            net,
            depth: cfg.model.depth,
            max_side: cfg.max_side,
        })
    }

    /// The lines of `grey` (bright ink on black), in reading order, in its pixels.
    pub fn segment(&self, grey: &GrayImage) -> Result<Vec<SegmentedLine>> {
        let (w, h) = grey.dimensions();
        let m = 1u32 << self.depth;
        let s = self.max_side as f32 / w.max(h).max(1) as f32;
        let tw = (((w as f32 * s) as u32) / m * m).max(m);
        let th = (((h as f32 * s) as u32) / m * m).max(m);
        let small = imageops::resize(grey, tw, th, FilterType::Triangle);
        let data: Vec<f32> = small.iter().map(|&v| f32::from(v) / 255.0).collect();
        let x = Tensor::from_vec(data, (1, 1, th as usize, tw as usize), &Device::Cpu)?;
        let p: Vec<f32> = self
            .net
            .probabilities(&x)?
            .narrow(1, 0, 1)?
            .flatten_all()?
            .to_vec1()?;
        let mask = GrayImage::from_raw(
            tw,
            th,
            p.iter().map(|&v| (v * 255.0).round() as u8).collect(),
        )
        .ok_or_else(|| Error::invalid("segmenter", "mask size"))?;
        let min_area = ((tw * th) as usize / 4000).max(4);
        let (fx, fy) = (w as f32 / tw as f32, h as f32 / th as f32);
        let scale = |p: &[(f32, f32)]| -> Vec<(f32, f32)> {
            p.iter().map(|&(x, y)| (x * fx, y * fy)).collect()
        };
        Ok(lines_from_mask(&mask, 127, min_area)
            .into_iter()
            .map(|l| SegmentedLine {
                polygon: scale(&l.polygon),
                baseline: scale(&l.baseline),
                bbox: BBox {
                    x0: l.bbox.x0 * fx,
                    y0: l.bbox.y0 * fy,
                    x1: l.bbox.x1 * fx,
                    y1: l.bbox.y1 * fy,
                },
                column: l.column,
            })
            .collect())
    }
}
