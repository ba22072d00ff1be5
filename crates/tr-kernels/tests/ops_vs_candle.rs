//! The kernels against candle's own ops, without any layer in between:
//! convolution (im2col and Winograd paths), max-pooling and the LSTM
//! recurrence, outputs and the gradients of every input. (The layers of
//! `tr-models` have their own such tests, `tests/cpu_kernels.rs`, including
//! per-axis strides and padded pooling, which candle's ops cannot express
//! directly.)

use candle_core::{DType, Device, Result, Tensor, Var, D};
use tr_kernels::{conv2d, lstm_recurrence, max_pool2d, ConvGeometry};

/// A deterministic pseudo-random `f32` tensor in `[-1, 1]` (no RNG needed).
fn det(shape: &[usize], seed: u32) -> Result<Var> {
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n)
        .map(|i| ((i as f32 + 1.0) * 12.9898 + seed as f32 * 78.233).sin())
        .collect();
    Var::from_tensor(&Tensor::from_vec(data, shape, &Device::Cpu)?)
}

/// `Σ y ⊙ r` with fixed pseudo-random `r`, so every output gets a distinct gradient.
fn weighted_sum(y: &Tensor, seed: u32) -> Result<Tensor> {
    (y * det(y.dims(), seed)?.as_tensor())?.sum_all()
}

/// Asserts `|fast − reference| ≤ 2e-5 · max(1, max |reference|)` element-wise.
fn assert_close(what: &str, fast: &Tensor, reference: &Tensor) -> Result<()> {
    assert_eq!(fast.dims(), reference.dims(), "{what}: shapes differ");
    let scale = reference
        .abs()?
        .flatten_all()?
        .max(0)?
        .to_scalar::<f32>()?
        .max(1.0);
    let diff = (fast - reference)?
        .abs()?
        .flatten_all()?
        .max(D::Minus1)?
        .to_scalar::<f32>()?;
    assert!(
        diff <= 2e-5 * scale,
        "{what}: max |fast − reference| = {diff} (scale {scale})"
    );
    Ok(())
}

/// Runs `f` on `inputs` and returns the output and the gradient of each input.
fn with_grads(
    inputs: &[&Var],
    seed: u32,
    f: impl Fn() -> Result<Tensor>,
) -> Result<(Tensor, Vec<Tensor>)> {
    let y = f()?;
    let store = weighted_sum(&y, seed)?.backward()?;
    let grads = inputs
        .iter()
        .map(|v| store.get(v.as_tensor()).expect("gradient").clone())
        .collect();
    Ok((y, grads))
}

/// Convolution `(b, c, h, w)` with `o` square `k`-kernels, one stride and padding.
fn check_conv(
    (b, c, h, w): (usize, usize, usize, usize),
    (o, k, stride, padding): (usize, usize, usize, usize),
    bias: bool,
    relu: bool,
) -> Result<()> {
    let x = det(&[b, c, h, w], 3)?;
    let wt = (det(&[o, c, k, k], 4)?.as_tensor() * 0.3)?;
    let wt = Var::from_tensor(&wt)?;
    let bs = det(&[o], 6)?;
    let geom = ConvGeometry {
        kernel: (k, k),
        stride: (stride, stride),
        padding: (padding, padding),
    };
    let inputs = [&x, &wt, &bs];
    let n = if bias { 3 } else { 2 };
    let fast = with_grads(&inputs[..n], 5, || {
        let b = bias.then_some(bs.as_tensor());
        conv2d(x.as_tensor(), wt.as_tensor(), b, geom, relu)
    })?;
    let reference = with_grads(&inputs[..n], 5, || {
        let mut y = x
            .as_tensor()
            .conv2d(wt.as_tensor(), padding, stride, 1, 1)?;
        if bias {
            y = y.broadcast_add(&bs.as_tensor().reshape((1, o, 1, 1))?)?;
        }
        if relu {
            y = y.relu()?;
        }
        Ok(y)
    })?;
    let case =
        format!("conv {b}x{c}x{h}x{w}, {o} {k}x{k} s{stride} p{padding}, bias {bias}, relu {relu}");
    assert_close(&format!("{case}: output"), &fast.0, &reference.0)?;
    for (name, (gf, gr)) in ["x", "weight", "bias"]
        .iter()
        .zip(fast.1.iter().zip(&reference.1))
    {
        assert_close(&format!("{case}: gradient of {name}"), gf, gr)?;
    }
    Ok(())
}

#[test]
fn conv_im2col_matches_candle() -> Result<()> {
    check_conv((1, 1, 7, 9), (3, 3, 1, 1), true, true)?;
    check_conv((2, 3, 9, 11), (5, 3, 2, 1), true, true)?;
    check_conv((5, 3, 7, 13), (4, 3, 2, 1), false, false)?;
    // ResNet's stem and 1×1 downsample.
    check_conv((2, 1, 13, 13), (4, 7, 2, 3), false, false)?;
    check_conv((2, 3, 8, 8), (6, 1, 2, 0), false, false)?;
    Ok(())
}

#[test]
fn conv_winograd_matches_candle() -> Result<()> {
    // 3×3 stride 1 with 8–32 input channels: odd sizes (partial 2×2 tiles),
    // padding 0 and 1, batch 1 and more images than threads.
    check_conv((3, 8, 9, 40), (5, 3, 1, 0), true, true)?;
    check_conv((1, 16, 7, 33), (6, 3, 1, 1), true, false)?;
    check_conv((2, 32, 6, 31), (32, 3, 1, 1), true, true)?;
    Ok(())
}

/// Max-pooling without padding as the element-wise maximum of the `k²`
/// strided shifts of `x` (candle's own `max_pool2d` backward pass scales
/// the gradient by `1/k²` in candle 0.11, so it cannot be the reference).
fn pool_reference(x: &Tensor, k: usize, s: usize) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let (ho, wo) = ((h - k) / s + 1, (w - k) / s + 1);
    let rows = |start: usize, n: usize| -> Result<Tensor> {
        let idx: Vec<u32> = (0..n).map(|r| (start + r * s) as u32).collect();
        Tensor::new(idx.as_slice(), x.device())
    };
    let mut out: Option<Tensor> = None;
    for i in 0..k {
        for j in 0..k {
            let shifted = x
                .index_select(&rows(i, ho)?, 2)?
                .index_select(&rows(j, wo)?, 3)?;
            out = Some(match out {
                None => shifted,
                Some(m) => m.maximum(&shifted)?,
            });
        }
    }
    out.ok_or_else(|| candle_core::Error::msg("kernel must be positive"))
}

#[test]
fn max_pool_matches_candle() -> Result<()> {
    for (shape, k, s) in [
        ([2, 3, 7, 9], 2, 2),
        ([1, 2, 8, 8], 2, 2),
        ([2, 2, 9, 7], 3, 2),
        ([3, 1, 5, 6], 3, 1),
        ([1, 1, 5, 5], 3, 3),
    ] {
        let x = det(&shape, 7)?;
        let fast = with_grads(&[&x], 2, || max_pool2d(x.as_tensor(), k, s, 0))?;
        let reference = with_grads(&[&x], 2, || pool_reference(x.as_tensor(), k, s))?;
        let case = format!("pool {k}/{s} on {shape:?}");
        assert_close(&format!("{case}: output"), &fast.0, &reference.0)?;
        assert_close(&format!("{case}: gradient"), &fast.1[0], &reference.1[0])?;
    }
    Ok(())
}

/// The recurrence with candle ops, step by step: `xw` `(S, B, D·4H)`,
/// `w_hh` `(D, 4H, H)` → `(S, B, D·H)`, the backward direction from the
/// last step to the first.
fn lstm_reference(xw: &Tensor, w_hh: &Tensor) -> Result<Tensor> {
    let (s, b, _) = xw.dims3()?;
    let (dirs, _, h) = w_hh.dims3()?;
    let mut per_dir = Vec::with_capacity(dirs);
    for d in 0..dirs {
        let w = w_hh.get(d)?.t()?;
        let mut hs = Tensor::zeros((b, h), DType::F32, xw.device())?;
        let mut cs = hs.clone();
        let mut out = vec![hs.clone(); s];
        let steps: Vec<usize> = if d == 0 {
            (0..s).collect()
        } else {
            (0..s).rev().collect()
        };
        for t in steps {
            let a = (xw.get(t)?.narrow(1, d * 4 * h, 4 * h)? + hs.matmul(&w)?)?;
            let gate = |i: usize| a.narrow(1, i * h, h);
            let (i, f) = (sigmoid(&gate(0)?)?, sigmoid(&gate(1)?)?);
            let (g, o) = (gate(2)?.tanh()?, sigmoid(&gate(3)?)?);
            cs = ((f * &cs)? + (i * g)?)?;
            hs = (o * cs.tanh()?)?;
            out[t] = hs.clone();
        }
        per_dir.push(Tensor::stack(&out, 0)?);
    }
    Tensor::cat(&per_dir, 2)
}

/// `σ(x) = 1 / (1 + e^(−x))` with differentiable candle ops.
fn sigmoid(x: &Tensor) -> Result<Tensor> {
    (x.neg()?.exp()? + 1.0)?.recip()
}

#[test]
fn lstm_recurrence_matches_candle() -> Result<()> {
    for (s, b, h, dirs) in [(6, 3, 7, 2), (5, 1, 3, 2), (7, 2, 4, 1), (1, 2, 5, 2)] {
        let xw = det(&[s, b, dirs * 4 * h], 9)?;
        let w_hh = Var::from_tensor(&(det(&[dirs, 4 * h, h], 10)?.as_tensor() * 0.5)?)?;
        let inputs = [&xw, &w_hh];
        let fast = with_grads(&inputs, 4, || {
            lstm_recurrence(xw.as_tensor(), w_hh.as_tensor())
        })?;
        let reference = with_grads(&inputs, 4, || {
            lstm_reference(xw.as_tensor(), w_hh.as_tensor())
        })?;
        let case = format!("lstm S={s} B={b} H={h} D={dirs}");
        assert_close(&format!("{case}: output"), &fast.0, &reference.0)?;
        for (name, (gf, gr)) in ["xw", "w_hh"].iter().zip(fast.1.iter().zip(&reference.1)) {
            assert_close(&format!("{case}: gradient of {name}"), gf, gr)?;
        }
    }
    Ok(())
}
