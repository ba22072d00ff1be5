//! Building blocks against naive references: convolution with per-axis
//! stride/padding, max-pooling on both code paths (values and gradients),
//! the positional encodings' formulas, batch norm's train/eval behaviour.

mod common;

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use common::{det_tensor, max_abs_diff};
use tr_models::layers::{image_table, sinusoid_table};
use tr_models::layers::{max_pool2d, BatchNorm2d, Conv2d, Conv2dSpec, LayerInit};

/// Direct convolution on the host: `x` (B, I, H, W), `w` (O, I, kh, kw).
fn naive_conv(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    stride: (usize, usize),
    pad: (usize, usize),
) -> anyhow::Result<Tensor> {
    let (bn, ci, h, wd) = x.dims4()?;
    let (co, _, kh, kw) = w.dims4()?;
    let xs = x.flatten_all()?.to_vec1::<f32>()?;
    let ws = w.flatten_all()?.to_vec1::<f32>()?;
    let bs = b.to_vec1::<f32>()?;
    let ho = (h + 2 * pad.0 - kh) / stride.0 + 1;
    let wo = (wd + 2 * pad.1 - kw) / stride.1 + 1;
    let mut out = vec![0f32; bn * co * ho * wo];
    for n in 0..bn {
        for o in 0..co {
            for i in 0..ho {
                for j in 0..wo {
                    let mut acc = bs[o];
                    for c in 0..ci {
                        for a in 0..kh {
                            for e in 0..kw {
                                let (y, xx) = (
                                    (i * stride.0 + a) as isize - pad.0 as isize,
                                    (j * stride.1 + e) as isize - pad.1 as isize,
                                );
                                if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < wd {
                                    acc += xs[((n * ci + c) * h + y as usize) * wd + xx as usize]
                                        * ws[((o * ci + c) * kh + a) * kw + e];
                                }
                            }
                        }
                    }
                    out[((n * co + o) * ho + i) * wo + j] = acc;
                }
            }
        }
    }
    Ok(Tensor::from_vec(out, (bn, co, ho, wo), &Device::Cpu)?)
}

fn conv_case(
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    hw: (usize, usize),
) -> anyhow::Result<()> {
    let spec = Conv2dSpec {
        in_channels: 3,
        out_channels: 4,
        kernel,
        stride,
        padding,
    };
    let vm = VarMap::new();
    let conv = Conv2d::new(spec, LayerInit::KaimingFanOut, common::vb(&vm))?;
    let x_var = candle_core::Var::from_tensor(&det_tensor(&[2, 3, hw.0, hw.1], 1)?)?;
    let x = x_var.as_tensor().clone();
    let ours = conv.forward(&x)?;
    let bias = vm.data().lock().unwrap()["bias"].as_tensor().clone();
    let reference = naive_conv(&x, conv.weight(), &bias, stride, padding)?;
    assert_eq!(ours.dims(), reference.dims(), "{spec:?}");
    assert_eq!(
        Some((ours.dim(2)?, ours.dim(3)?)),
        spec.output_size(hw.0, hw.1)
    );
    assert!(max_abs_diff(&ours, &reference)? < 1e-4, "{spec:?}");
    // Gradients: compare with the gradient of the naive conv written as tensor ops
    // would be heavy; instead check the weight gradient by finite differences.
    let wgt = det_tensor(ours.dims(), 2)?;
    let loss = |c: &Conv2d| -> anyhow::Result<f32> {
        Ok((c.forward(&x)? * &wgt)?.sum_all()?.to_scalar::<f32>()?)
    };
    let grads = (ours * &wgt)?.sum_all()?.backward()?;
    let gw = grads
        .get(conv.weight())
        .expect("weight gradient")
        .flatten_all()?
        .to_vec1::<f32>()?;
    let var = vm.data().lock().unwrap()["weight"].clone();
    let base = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
    for idx in [0, 7, base.len() - 1] {
        let eps = 1e-2;
        let mut plus = base.clone();
        plus[idx] += eps;
        var.set(&Tensor::from_vec(plus, var.shape(), &Device::Cpu)?)?;
        let lp = loss(&conv)?;
        let mut minus = base.clone();
        minus[idx] -= eps;
        var.set(&Tensor::from_vec(minus, var.shape(), &Device::Cpu)?)?;
        let lm = loss(&conv)?;
        var.set(&Tensor::from_vec(base.clone(), var.shape(), &Device::Cpu)?)?;
        let fd = (lp - lm) / (2.0 * eps);
        assert!(
            (fd - gw[idx]).abs() < 1e-2 * (1.0 + fd.abs()),
            "{spec:?} weight {idx}: {fd} vs {}",
            gw[idx]
        );
    }
    // Input gradient (the conv is linear in x: exact finite differences).
    let gx = grads
        .get(&x)
        .expect("input gradient")
        .flatten_all()?
        .to_vec1::<f32>()?;
    let xs = x.flatten_all()?.to_vec1::<f32>()?;
    for idx in [0, xs.len() / 2, xs.len() - 1] {
        let mut bumped = xs.clone();
        bumped[idx] += 1.0;
        let xb = Tensor::from_vec(bumped, x.shape(), &Device::Cpu)?;
        let fd = (conv.forward(&xb)? * &wgt)?.sum_all()?.to_scalar::<f32>()? - loss(&conv)?;
        assert!(
            (fd - gx[idx]).abs() < 1e-2 * (1.0 + fd.abs()),
            "{spec:?} input {idx}: {fd} vs {}",
            gx[idx]
        );
    }
    Ok(())
}

#[test]
fn conv_matches_naive_reference() -> anyhow::Result<()> {
    conv_case((3, 3), (1, 1), (1, 1), (7, 9))?;
    conv_case((3, 3), (2, 2), (1, 1), (7, 10))?;
    // The LineCNN window conv: kernel (H/8, WW/8), stride (H/8, WS/8), on a 4×112-like map.
    conv_case((3, 2), (3, 1), (0, 0), (4, 12))?;
    conv_case((2, 3), (1, 2), (0, 1), (5, 11))?;
    conv_case((3, 2), (2, 3), (1, 0), (9, 14))?;
    Ok(())
}

/// Host max-pool with −∞ padding, floor mode.
fn naive_pool(x: &Tensor, k: usize, s: usize, p: usize) -> anyhow::Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let xs = x.flatten_all()?.to_vec1::<f32>()?;
    let (ho, wo) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
    let mut out = vec![f32::NEG_INFINITY; b * c * ho * wo];
    for n in 0..b * c {
        for i in 0..ho {
            for j in 0..wo {
                for a in 0..k {
                    for e in 0..k {
                        let (y, xx) = (
                            (i * s + a) as isize - p as isize,
                            (j * s + e) as isize - p as isize,
                        );
                        if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                            let v = xs[(n * h + y as usize) * w + xx as usize];
                            let o = &mut out[(n * ho + i) * wo + j];
                            *o = o.max(v);
                        }
                    }
                }
            }
        }
    }
    Ok(Tensor::from_vec(out, (b, c, ho, wo), &Device::Cpu)?)
}

#[test]
fn max_pool_matches_naive_reference_on_both_paths() -> anyhow::Result<()> {
    for (k, s, p, h, w) in [
        (2, 2, 0, 8, 8),
        (2, 2, 0, 7, 9),
        (3, 2, 1, 9, 8),
        (3, 2, 1, 10, 7),
        (3, 1, 1, 5, 6),
        (2, 1, 0, 5, 4),
    ] {
        let x = det_tensor(&[2, 3, h, w], (k * 10 + h) as u32)?;
        let ours = max_pool2d(&x, k, s, p)?;
        let reference = naive_pool(&x, k, s, p)?;
        assert_eq!(ours.dims(), reference.dims(), "k{k} s{s} p{p} {h}x{w}");
        assert!(
            max_abs_diff(&ours, &reference)? == 0.0,
            "k{k} s{s} p{p} {h}x{w}"
        );
        // Gradient: each output's weight lands on its arg-max input (values are distinct).
        let x_var = candle_core::Var::from_tensor(&x)?;
        let wgt = det_tensor(ours.dims(), 3)?;
        let grads = (max_pool2d(x_var.as_tensor(), k, s, p)? * &wgt)?
            .sum_all()?
            .backward()?;
        let g = grads
            .get(x_var.as_tensor())
            .expect("input gradient")
            .flatten_all()?
            .to_vec1::<f32>()?;
        let xs = x.flatten_all()?.to_vec1::<f32>()?;
        let ws = wgt.flatten_all()?.to_vec1::<f32>()?;
        let (ho, wo) = (ours.dim(2)?, ours.dim(3)?);
        let mut expected = vec![0f32; xs.len()];
        for n in 0..6 {
            for i in 0..ho {
                for j in 0..wo {
                    let mut best = (usize::MAX, f32::NEG_INFINITY);
                    for a in 0..k {
                        for e in 0..k {
                            let (y, xx) = (
                                (i * s + a) as isize - p as isize,
                                (j * s + e) as isize - p as isize,
                            );
                            if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                                let idx = (n * h + y as usize) * w + xx as usize;
                                if xs[idx] > best.1 {
                                    best = (idx, xs[idx]);
                                }
                            }
                        }
                    }
                    expected[best.0] += ws[(n * ho + i) * wo + j];
                }
            }
        }
        let diff = g
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-5, "gradient k{k} s{s} p{p} {h}x{w}: {diff}");
    }
    Ok(())
}

#[test]
fn positional_tables_follow_the_course_formulas() -> anyhow::Result<()> {
    let d = 8;
    let t = sinusoid_table(6, d, &Device::Cpu)?.to_vec2::<f32>()?;
    for (p, row) in t.iter().enumerate() {
        for i in 0..d / 2 {
            let div = (-(10000f64.ln()) * (2 * i) as f64 / d as f64).exp();
            assert!((row[2 * i] as f64 - (p as f64 * div).sin()).abs() < 1e-6);
            assert!((row[2 * i + 1] as f64 - (p as f64 * div).cos()).abs() < 1e-6);
        }
    }
    // 2-D: first half of the channels encode the row, second half the column.
    let img = image_table(d, 3, 5, &Device::Cpu)?;
    let half = sinusoid_table(5, d / 2, &Device::Cpu)?;
    for y in 0..3 {
        for x in 0..5 {
            let at = img
                .narrow(1, y, 1)?
                .narrow(2, x, 1)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            let row = half.get(y)?.to_vec1::<f32>()?;
            let col = half.get(x)?.to_vec1::<f32>()?;
            assert_eq!(&at[..d / 2], &row[..], "rows at ({y}, {x})");
            assert_eq!(&at[d / 2..], &col[..], "columns at ({y}, {x})");
        }
    }
    assert!(sinusoid_table(3, 7, &Device::Cpu).is_err());
    assert!(image_table(6, 3, 3, &Device::Cpu).is_err());
    Ok(())
}

#[test]
fn batch_norm_uses_batch_statistics_in_training_and_running_ones_in_eval() -> anyhow::Result<()> {
    let vm = VarMap::new();
    let bn = BatchNorm2d::new(2, common::vb(&vm))?;
    let x = ((det_tensor(&[4, 2, 3, 3], 1)? * 3.0)? + 5.0)?;
    let y = bn.forward(&x, true)?;
    // Normalised per channel: mean 0, biased variance 1.
    for c in 0..2 {
        let v = y.narrow(1, c, 1)?.flatten_all()?.to_vec1::<f32>()?;
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let var = v.iter().map(|a| (a - mean) * (a - mean)).sum::<f32>() / v.len() as f32;
        assert!(
            mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3,
            "channel {c}: {mean} {var}"
        );
    }
    // Running stats moved 10% towards the batch's mean and unbiased variance.
    let xc = x.narrow(1, 0, 1)?.flatten_all()?.to_vec1::<f32>()?;
    let n = xc.len() as f32;
    let mean = xc.iter().sum::<f32>() / n;
    let unbiased = xc.iter().map(|a| (a - mean) * (a - mean)).sum::<f32>() / (n - 1.0);
    let rm = bn.running_mean().to_vec1::<f32>()?;
    let rv = bn.running_var().to_vec1::<f32>()?;
    assert!(
        (rm[0] - 0.1 * mean).abs() < 1e-4,
        "{} vs {}",
        rm[0],
        0.1 * mean
    );
    assert!((rv[0] - (0.9 + 0.1 * unbiased)).abs() < 1e-3);
    // The VarMap sees the update (it is saved with the weights).
    let stored = vm.data().lock().unwrap()["running_mean"]
        .as_tensor()
        .to_vec1::<f32>()?;
    assert_eq!(stored, rm);
    // Eval mode: (x - running_mean) / sqrt(running_var + eps).
    let e = bn.forward(&x, false)?;
    let expected = ((x.narrow(1, 0, 1)? - rm[0] as f64)? / ((rv[0] as f64) + 1e-5).sqrt())?;
    assert!(max_abs_diff(&e.narrow(1, 0, 1)?, &expected)? < 1e-4);
    // Gradients reach weight and bias through the batch statistics.
    let grads = (bn.forward(&x, true)? * det_tensor(&[4, 2, 3, 3], 2)?)?
        .sum_all()?
        .backward()?;
    for name in ["weight", "bias"] {
        let t = vm.data().lock().unwrap()[name].as_tensor().clone();
        let g = grads
            .get(&t)
            .expect("gradient")
            .abs()?
            .sum_all()?
            .to_scalar::<f32>()?;
        assert!(g > 0.0 && g.is_finite(), "{name}");
    }
    assert!(
        bn.forward(&det_tensor(&[1, 2, 1, 1], 1)?, true).is_err(),
        "one value per channel"
    );
    Ok(())
}
