//! Shared fixtures: tiny untrained models written as artifacts.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use image::{DynamicImage, GrayImage, Luma};
use tr_data::Vocabulary;
use tr_infer::artifact::{write_artifact, ArtifactSpec};
use tr_models::seeded_var_builder;
use tr_models::{DataSpec, ModelConfig};

/// Model input of the fixtures: 28 × 64.
pub const H: usize = 28;
pub const W: usize = 64;

/// A small `name` model (line-cnn or line-cnn-lstm) with seeded weights.
pub fn tiny_model(name: &str) -> (ModelConfig, DataSpec, HashMap<String, Tensor>) {
    let mut model = ModelConfig::by_name(name).unwrap();
    match name {
        "line-cnn" => {
            model.set_str("conv_dim", "4").unwrap();
            model.set_str("fc_dim", "16").unwrap();
        }
        "line-cnn-lstm" => {
            model.set_str("line_cnn.conv_dim", "4").unwrap();
            model.set_str("line_cnn.fc_dim", "16").unwrap();
            model.set_str("lstm_dim", "8").unwrap();
        }
        _ => {}
    }
    let spec = DataSpec::new([1, H, W], Vocabulary::emnist(), Some(16));
    let varmap = VarMap::new();
    let vb = seeded_var_builder(&varmap, 7, DType::F32, &Device::Cpu);
    model.build(&spec, vb).unwrap();
    let weights = tr_models::params::named_vars(&varmap)
        .into_iter()
        .map(|(k, v)| (k, v.as_tensor().clone()))
        .collect();
    (model, spec, weights)
}

/// Writes a tiny `name` artifact into `dir`.
pub fn tiny_artifact(dir: &Path, name: &str) -> HashMap<String, Tensor> {
    let (model, spec, weights) = tiny_model(name);
    write_artifact(dir, &ArtifactSpec::new(model, &spec), &weights).unwrap();
    weights
}

/// The same model built directly (reference for the pipeline).
pub fn reference_model(name: &str) -> Box<dyn tr_models::Model> {
    let (model, spec, weights) = tiny_model(name);
    let vb = VarBuilder::from_tensors(weights, DType::F32, &Device::Cpu);
    model.build(&spec, vb).unwrap()
}

/// A scan-like line: dark strokes on light paper, `w × h`.
pub fn scan(w: u32, h: u32) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| {
        let stroke = (x / 3) % 5 == 0 && y > h / 5 && y < h - h / 5 || (x * 7 + y * 3) % 41 == 0;
        Luma([if stroke { 30 } else { 228 }])
    })
}

/// The same line with bright ink on black.
pub fn inverted(img: &GrayImage) -> GrayImage {
    let mut out = img.clone();
    out.iter_mut().for_each(|v| *v = 255 - *v);
    out
}

pub fn dynamic(img: GrayImage) -> DynamicImage {
    DynamicImage::ImageLuma8(img)
}

/// PNG bytes of an image.
pub fn png_bytes(img: &DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
