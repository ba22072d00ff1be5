//! `cargo xtask bench --check-training`: a short CTC training run with the
//! fast CPU kernels and the same run with candle's reference ops, from the
//! same seed, on a synthetic line task; reports both loss curves and both
//! validation CERs.
//!
//! Task: ten "characters", each a fixed random 16×16 binary glyph; a line is
//! six random characters side by side (16×96) plus noise, labelled with
//! their classes (4..14 of the 83-symbol EMNIST vocabulary, blank 0). The
//! models are small versions of `line-cnn` and `line-cnn-lstm` (window 16,
//! stride 8: 11 CTC steps per line) and of `crnn` (channels 8/8/16/16, two
//! BiLSTM layers of 32: 24 CTC steps per line), trained with AdamW on fresh
//! lines every step and evaluated by greedy CTC decoding on 128 held-out
//! lines.

use anyhow::Result;
use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use tr_data::Vocabulary;
use tr_lit::CtcLoss;
use tr_models::decoding::greedy_ctc_batch;
use tr_models::{DataSpec, ModelConfig};

const GLYPH: usize = 16;
const CHARS: usize = 6;
const SYMBOLS: u32 = 10;
const FIRST_LABEL: u32 = 4;

/// SplitMix64 stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `(B, 1, 16, 96)` images and `(B, 6)` labels of batch `seed`.
fn batch(glyphs: &[Vec<f32>], b: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let mut rng = Rng(seed);
    let width = GLYPH * CHARS;
    let mut img = vec![0f32; b * GLYPH * width];
    let mut labels = Vec::with_capacity(b * CHARS);
    for i in 0..b {
        for ch in 0..CHARS {
            let k = (rng.next() % u64::from(SYMBOLS)) as usize;
            labels.push(FIRST_LABEL + k as u32);
            for y in 0..GLYPH {
                for x in 0..GLYPH {
                    let noise = 0.3 * rng.unit();
                    img[(i * GLYPH + y) * width + ch * GLYPH + x] =
                        glyphs[k][y * GLYPH + x] * 0.7 + noise;
                }
            }
        }
    }
    let dev = Device::Cpu;
    Ok((
        Tensor::from_vec(img, (b, 1, GLYPH, width), &dev)?,
        Tensor::from_vec(labels, (b, CHARS), &dev)?,
    ))
}

/// Levenshtein distance.
fn edit_distance(a: &[u32], b: &[u32]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Losses every 25 steps and the final validation CER (%) of one run.
fn run(
    name: &str,
    overrides: &[(&str, &str)],
    steps: usize,
    reference: bool,
) -> Result<(Vec<f32>, f64)> {
    tr_kernels::set_reference_ops(reference);
    let mut rng = Rng(7);
    let glyphs: Vec<Vec<f32>> = (0..SYMBOLS)
        .map(|_| {
            (0..GLYPH * GLYPH)
                .map(|_| if rng.unit() < 0.5 { 1.0 } else { 0.0 })
                .collect()
        })
        .collect();
    let spec = DataSpec::new([1, GLYPH, GLYPH * CHARS], Vocabulary::emnist(), Some(CHARS));
    let mut cfg = ModelConfig::by_name(name)?;
    for (k, v) in overrides {
        cfg.set_str(k, v)?;
    }
    let varmap = VarMap::new();
    let vb = tr_models::seeded_var_builder(&varmap, 0, DType::F32, &Device::Cpu);
    let model = cfg.build(&spec, vb)?;
    let mut opt = AdamW::new(
        varmap.all_vars(),
        ParamsAdamW {
            lr: 3e-3,
            ..Default::default()
        },
    )?;
    let ctc = CtcLoss::default();
    let b = 16;
    let mut losses = Vec::new();
    for step in 0..steps {
        tr_models::reseed_dropout(step as u64);
        let (x, y) = batch(&glyphs, b, 1000 + step as u64)?;
        let logits = model.forward(&x, true)?;
        let s = logits.dim(2)?;
        let loss = ctc.forward_logits(&logits, &y, &vec![s; b], &vec![CHARS; b])?;
        if step % 25 == 0 || step + 1 == steps {
            losses.push(loss.to_scalar::<f32>()?);
        }
        opt.backward_step(&loss)?;
    }
    let (x, y) = batch(&glyphs, 128, 99)?;
    let decoded = greedy_ctc_batch(&model.forward(&x, false)?, 0)?;
    let truth = y.to_vec2::<u32>()?;
    let errors: usize = decoded
        .iter()
        .zip(&truth)
        .map(|(d, t)| edit_distance(&d.labels, t))
        .sum();
    Ok((losses, 100.0 * errors as f64 / (truth.len() * CHARS) as f64))
}

/// The small models of the check: name and config overrides.
fn cases() -> [(&'static str, Vec<(&'static str, &'static str)>); 3] {
    let cnn = r#"{"conv_dim": 8, "fc_dim": 64, "fc_dropout": 0.2, "window_width": 16, "window_stride": 8}"#;
    [
        (
            "line-cnn",
            vec![("conv_dim", "8"), ("fc_dim", "64"), ("fc_dropout", "0.2")],
        ),
        ("line-cnn-lstm", vec![("line_cnn", cnn), ("lstm_dim", "32")]),
        (
            "crnn",
            vec![
                ("channels", "[8, 8, 16, 16]"),
                ("lstm_dim", "32"),
                ("lstm_layers", "2"),
                ("dropout", "0.2"),
            ],
        ),
    ]
}

/// Runs the models with both op sets and returns the report text.
pub fn check_training(steps: usize) -> Result<String> {
    let cases = cases();
    let mut out = vec![format!(
        "# {steps} AdamW steps, batch 16, synthetic 16x96 lines, seed 0"
    )];
    for (name, overrides) in &cases {
        let (fast, fast_cer) = run(name, overrides, steps, false)?;
        let (reference, ref_cer) = run(name, overrides, steps, true)?;
        tr_kernels::set_reference_ops(false);
        let fmt = |v: &[f32]| {
            v.iter()
                .map(|l| format!("{l:.4}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.push(format!(
            "{name}: loss every 25 steps, fast kernels: {}",
            fmt(&fast)
        ));
        out.push(format!(
            "{name}: loss every 25 steps, reference:    {}",
            fmt(&reference)
        ));
        out.push(format!(
            "{name}: val CER fast {fast_cer:.2}%  reference {ref_cer:.2}%  difference {:.2} points",
            (fast_cer - ref_cer).abs()
        ));
    }
    Ok(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few steps of every small model with both op sets: finite losses
    /// and a CER (the full check is `--check-training STEPS`).
    #[test]
    fn every_small_model_trains_with_both_op_sets() {
        for (name, overrides) in &cases() {
            for reference in [false, true] {
                let (losses, cer) = run(name, overrides, 2, reference).unwrap();
                assert_eq!(losses.len(), 2, "{name}");
                assert!(losses.iter().all(|l| l.is_finite()), "{name}: {losses:?}");
                assert!(cer.is_finite() && cer >= 0.0, "{name}: CER {cer}");
            }
        }
        tr_kernels::set_reference_ops(false);
    }
}
