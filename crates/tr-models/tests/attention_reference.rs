//! The Transformer decoder against a naive host-side reference written from
//! PyTorch's post-norm `TransformerDecoderLayer` equations (loops over
//! batch, heads, queries and keys), incremental decoding against the full
//! pass, and greedy decoding with the key/value cache against the course's
//! recomputing loop.

mod common;

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use common::{det_images, det_tensor, max_abs_diff};
use tr_data::Vocabulary;
use tr_models::layers::{causal_mask, padding_mask};
use tr_models::layers::{DecoderConfig, TransformerDecoder};
use tr_models::DataSpec;
use tr_models::{LineCnnTransformer, LineCnnTransformerConfig};

type Params = HashMap<String, Vec<f32>>;

fn params(vm: &VarMap) -> anyhow::Result<Params> {
    let mut out = HashMap::new();
    for (name, var) in tr_models::params::named_vars(vm) {
        out.insert(name, var.as_tensor().flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// `x` rows × `i` times `w` (`o` × `i`, row-major) plus `b`.
fn linear(x: &[f32], w: &[f32], b: &[f32], i: usize) -> Vec<f32> {
    let o = b.len();
    let rows = x.len() / i;
    let mut y = vec![0f32; rows * o];
    for r in 0..rows {
        for c in 0..o {
            let mut acc = b[c];
            for k in 0..i {
                acc += x[r * i + k] * w[c * i + k];
            }
            y[r * o + c] = acc;
        }
    }
    y
}

fn layer_norm(x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    let d = w.len();
    x.chunks(d)
        .flat_map(|row| {
            let mean = row.iter().sum::<f32>() / d as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
            let inv = 1.0 / (var + 1e-5).sqrt();
            row.iter()
                .enumerate()
                .map(move |(j, v)| (v - mean) * inv * w[j] + b[j])
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One batch element's multi-head attention; `allowed(i, j)` says whether
/// query `i` may see key `j`.
fn mha(
    p: &Params,
    pre: &str,
    xq: &[f32],
    xkv: &[f32],
    e: usize,
    heads: usize,
    allowed: &dyn Fn(usize, usize) -> bool,
) -> Vec<f32> {
    let w = &p[&format!("{pre}.in_proj_weight")];
    let b = &p[&format!("{pre}.in_proj_bias")];
    let q = linear(xq, &w[..e * e], &b[..e], e);
    let k = linear(xkv, &w[e * e..2 * e * e], &b[e..2 * e], e);
    let v = linear(xkv, &w[2 * e * e..], &b[2 * e..], e);
    let (sq, sk, d) = (xq.len() / e, xkv.len() / e, e / heads);
    let mut out = vec![0f32; sq * e];
    for h in 0..heads {
        for i in 0..sq {
            let scores: Vec<f32> = (0..sk)
                .map(|j| {
                    if !allowed(i, j) {
                        return f32::NEG_INFINITY;
                    }
                    (0..d)
                        .map(|c| q[i * e + h * d + c] * k[j * e + h * d + c])
                        .sum::<f32>()
                        / (d as f32).sqrt()
                })
                .collect();
            let max = scores.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let exps: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
            let total: f32 = exps.iter().sum();
            for c in 0..d {
                out[i * e + h * d + c] = (0..sk)
                    .map(|j| exps[j] / total * v[j * e + h * d + c])
                    .sum();
            }
        }
    }
    linear(
        &out,
        &p[&format!("{pre}.out_proj.weight")],
        &p[&format!("{pre}.out_proj.bias")],
        e,
    )
}

fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// PyTorch's post-norm decoder layer `l` on one batch element.
#[allow(clippy::too_many_arguments)]
fn reference_layer(
    p: &Params,
    l: usize,
    x: &[f32],
    mem: &[f32],
    e: usize,
    heads: usize,
    ff: usize,
    tokens: &[u32],
    pad: u32,
) -> Vec<f32> {
    let pre = format!("layers.{l}");
    let g = |n: &str| &p[&format!("{pre}.{n}")];
    let self_allowed = |i: usize, j: usize| j <= i && tokens[j] != pad;
    let sa = mha(
        p,
        &format!("{pre}.self_attn"),
        x,
        x,
        e,
        heads,
        &self_allowed,
    );
    let x1 = layer_norm(&add(x, &sa), g("norm1.weight"), g("norm1.bias"));
    let ca = mha(
        p,
        &format!("{pre}.multihead_attn"),
        &x1,
        mem,
        e,
        heads,
        &|_, _| true,
    );
    let x2 = layer_norm(&add(&x1, &ca), g("norm2.weight"), g("norm2.bias"));
    let hidden: Vec<f32> = linear(&x2, g("linear1.weight"), g("linear1.bias"), e)
        .into_iter()
        .map(|v| v.max(0.0))
        .collect();
    let f = linear(&hidden, g("linear2.weight"), g("linear2.bias"), ff);
    layer_norm(&add(&x2, &f), g("norm3.weight"), g("norm3.bias"))
}

const PAD: u32 = 3;

fn setup() -> anyhow::Result<(VarMap, TransformerDecoder, DecoderConfig)> {
    let config = DecoderConfig {
        dim: 8,
        num_heads: 2,
        ff_dim: 12,
        num_layers: 2,
        dropout: 0.4,
    };
    let vm = VarMap::new();
    let dec = TransformerDecoder::new(config, common::vb(&vm))?;
    // Non-trivial layer norms.
    for (name, var) in tr_models::params::named_vars(&vm) {
        if name.contains("norm") {
            let shift = det_tensor(var.dims(), name.len() as u32)?;
            var.set(&(var.as_tensor() + (shift * 0.3)?)?)?;
        }
    }
    Ok((vm, dec, config))
}

#[test]
fn decoder_matches_naive_reference() -> anyhow::Result<()> {
    let (vm, dec, c) = setup()?;
    let (b, s, sx, e) = (2, 5, 4, c.dim);
    let x = det_tensor(&[b, s, e], 1)?;
    let mem = det_tensor(&[b, sx, e], 2)?;
    let tokens = vec![vec![1u32, 7, 8, 9, 2], vec![1, 7, 2, PAD, PAD]];
    let tok = Tensor::new(tokens.clone(), &Device::Cpu)?;
    let mask = causal_mask(s, s, 0, &Device::Cpu)?.broadcast_add(&padding_mask(&tok, PAD)?)?;
    // Evaluation mode: dropout off.
    let ours = dec
        .forward(&x, &mem, Some(&mask), false)?
        .to_vec3::<f32>()?;
    let p = params(&vm)?;
    for bi in 0..b {
        let mut xr: Vec<f32> = x.get(bi)?.flatten_all()?.to_vec1()?;
        let mr: Vec<f32> = mem.get(bi)?.flatten_all()?.to_vec1()?;
        for l in 0..c.num_layers {
            xr = reference_layer(&p, l, &xr, &mr, e, c.num_heads, c.ff_dim, &tokens[bi], PAD);
        }
        let got: Vec<f32> = ours[bi].iter().flatten().copied().collect();
        let diff = got
            .iter()
            .zip(&xr)
            .map(|(a, r)| (a - r).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-4, "batch {bi}: max difference {diff}");
    }
    // Training mode uses dropout: different, still finite.
    let train = dec.forward(&x, &mem, Some(&mask), true)?;
    assert!(train
        .flatten_all()?
        .to_vec1::<f32>()?
        .iter()
        .all(|v| v.is_finite()));
    Ok(())
}

#[test]
fn incremental_steps_equal_the_full_pass() -> anyhow::Result<()> {
    let (_, dec, c) = setup()?;
    let (b, s, sx, e) = (2, 6, 3, c.dim);
    let x = det_tensor(&[b, s, e], 3)?;
    let mem = det_tensor(&[b, sx, e], 4)?;
    let tok = Tensor::new(
        &[[1u32, 9, 9, 2, PAD, PAD], [1, PAD, 5, 6, 7, 8]],
        &Device::Cpu,
    )?;
    let mask = causal_mask(s, s, 0, &Device::Cpu)?.broadcast_add(&padding_mask(&tok, PAD)?)?;
    let full = dec.forward(&x, &mem, Some(&mask), false)?;
    // Room for 4 of the 6 positions: the cache must grow on the way.
    let mut cache = dec.start(&mem, 4)?;
    for t in 0..s {
        let key_mask = padding_mask(&tok.narrow(1, 0, t + 1)?, PAD)?;
        let step = dec.step(&x.narrow(1, t, 1)?, &mut cache, &key_mask)?;
        let d = max_abs_diff(&step, &full.narrow(1, t, 1)?)?;
        assert!(d < 1e-5, "position {t}: difference {d}");
    }
    Ok(())
}

#[test]
fn greedy_with_cache_equals_recomputation() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 16, 96], Vocabulary::emnist(), Some(12));
    let cfg = LineCnnTransformerConfig {
        line_cnn: tr_models::LineCnnConfig {
            conv_dim: 4,
            fc_dim: 16,
            ..Default::default()
        },
        tf_dim: 16,
        tf_fc_dim: 32,
        tf_layers: 2,
        tf_nhead: 2,
        ..Default::default()
    };
    let vm = VarMap::new();
    let model = LineCnnTransformer::new(&cfg, &spec, common::vb(&vm))?;
    let x = det_images(&[4, 1, 16, 96], 9)?;
    let cached = model.decode_greedy(&x)?;
    let recomputed = model.decode_greedy_recompute(&x)?;
    assert_eq!(
        cached.tokens.to_vec2::<u32>()?,
        recomputed.tokens.to_vec2::<u32>()?
    );
    assert!(max_abs_diff(&cached.probs, &recomputed.probs)? < 1e-5);
    // The probabilities are the softmax of the teacher-forced logits on the decoded prefix.
    let tokens = cached.tokens.to_vec2::<u32>()?;
    let probs = cached.probs.to_vec2::<f32>()?;
    let logits = model.forward_teacher(&x, &cached.tokens.narrow(1, 0, 11)?, false)?; // (B, C, 11)
    let sm = candle_nn::ops::softmax(&logits, 1)?;
    for (row, toks) in tokens.iter().enumerate() {
        let stop = toks.iter().position(|&t| t == 2 || t == PAD).unwrap_or(12);
        for t in 1..stop.min(12) {
            let expected = sm
                .get(row)?
                .get(toks[t] as usize)?
                .get(t - 1)?
                .to_scalar::<f32>()?;
            assert!(
                (probs[row][t] - expected).abs() < 1e-4,
                "row {row} step {t}"
            );
        }
    }
    Ok(())
}
