//! Tiny models trained in the test (seconds): synthetic glyph lines, a few
//! hundred AdamW steps until the batch is memorised, written as artifacts.
//!
//! Each character is a fixed random 8×8 bit pattern (upscaled), as in
//! tr-lit's overfit tests; ink bright on black.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use image::{GrayImage, Luma};
use tr_data::Vocabulary;
use tr_infer::artifact::{write_artifact, ArtifactSpec};
use tr_infer::DecoderConfig;
use tr_lit::{CharErrorRate, LitConfig, LitModel, Objective};
use tr_models::params::{named_vars, trainable_vars};
use tr_models::seeded_var_builder;
use tr_models::{DataSpec, ModelConfig};

/// A `(gh, gw)` glyph as 0/1 values; space is blank.
pub fn glyph(c: char, gh: usize, gw: usize) -> Vec<u8> {
    let mut state = u64::from(c as u32).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut bits = [false; 64];
    for b in bits.iter_mut() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *b = c != ' ' && (state >> 33) % 2 == 0;
    }
    let mut out = vec![0u8; gh * gw];
    for y in 0..gh {
        for x in 0..gw {
            out[y * gw + x] = u8::from(bits[(y * 8 / gh) * 8 + x * 8 / gw]);
        }
    }
    out
}

/// Draws `text` with its top-left glyph corner at `(x0, y0)`, `ink` on the
/// image's existing background.
pub fn draw_text(img: &mut GrayImage, text: &str, x0: u32, y0: u32, gh: usize, gw: usize, ink: u8) {
    for (k, c) in text.chars().enumerate() {
        let g = glyph(c, gh, gw);
        for y in 0..gh {
            for x in 0..gw {
                if g[y * gw + x] == 1 {
                    img.put_pixel(x0 + (k * gw + x) as u32, y0 + y as u32, Luma([ink]));
                }
            }
        }
    }
}

/// `text` as a `(n·gw) × gh` line, bright ink on black, padded with spaces to `n`.
pub fn line_image(text: &str, n: usize, gh: usize, gw: usize) -> GrayImage {
    let mut img = GrayImage::new((n * gw) as u32, gh as u32);
    draw_text(&mut img, text, 0, 0, gh, gw, 255);
    img
}

/// What to train.
pub struct Recipe {
    pub name: &'static str,
    pub overrides: &'static [(&'static str, &'static str)],
    pub objective: Option<Objective>,
    pub max_steps: usize,
    pub lr: f64,
}

/// Trains `recipe` on `images` (model-sized, bright ink on black) until
/// the batch decodes with CER 0, and writes the artifact into `dir`.
pub fn train_artifact(
    dir: &Path,
    recipe: &Recipe,
    spec: DataSpec,
    images: &[GrayImage],
    targets: &Tensor,
    decoder: DecoderConfig,
) {
    let mut config = ModelConfig::by_name(recipe.name).unwrap();
    for (k, v) in recipe.overrides {
        config.set_str(k, v).unwrap();
    }
    let varmap = VarMap::new();
    let vb = seeded_var_builder(&varmap, 7, DType::F32, &Device::Cpu);
    let model = config.build(&spec, vb).unwrap();
    let lit = LitModel::new(
        &LitConfig {
            objective: recipe.objective,
            ..LitConfig::default()
        },
        model.task(),
        &spec.vocab,
    )
    .unwrap();
    let x = tr_data::images_to_tensor(images, &Device::Cpu).unwrap();
    let vars = trainable_vars(&varmap)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: recipe.lr,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )
    .unwrap();
    let mut done = false;
    for step in 1..=recipe.max_steps {
        let out = lit.step(model.as_ref(), &x, targets, true).unwrap();
        opt.backward_step(&out.loss).unwrap();
        if step % 10 == 0 {
            let eval = lit.step(model.as_ref(), &x, targets, false).unwrap();
            let mut cer = CharErrorRate::for_vocab(&spec.vocab);
            cer.update(&eval.predictions, &eval.targets);
            if cer.corpus() == 0.0 {
                done = true;
                break;
            }
        }
    }
    assert!(
        done,
        "{} did not memorise its batch in {} steps",
        recipe.name, recipe.max_steps
    );
    let weights: HashMap<String, Tensor> = named_vars(&varmap)
        .into_iter()
        .map(|(k, v)| (k, v.as_tensor().clone()))
        .collect();
    let art = ArtifactSpec {
        decoder,
        ..ArtifactSpec::new(config, &spec)
    };
    write_artifact(dir, &art, &weights).unwrap();
}

/// Targets of `texts` for `vocab`.
pub fn targets(vocab: &Vocabulary, texts: &[&str], len: usize, start_end: bool) -> Tensor {
    vocab
        .encode_batch(texts, len, start_end, &Device::Cpu)
        .unwrap()
}
