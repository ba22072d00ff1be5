//! The fast CPU kernels of `tr_models::cpu` against candle's reference ops
//! (the layers' `forward_reference`): outputs and the gradients of every
//! input and parameter, on odd sizes, stride 1/2, per-axis strides (the
//! LineCNN window conv), padding 0/1/3, 1×1 kernels, batch 1 and batches
//! larger than the thread count.

mod common;

use candle_core::{Device, Tensor, Var};
use candle_nn::VarMap;
use common::{det_tensor, max_abs_diff, vb};
use tr_models::layers::max_pool2d_reference;
use tr_models::layers::{max_pool2d, Conv2d, Conv2dSpec, LayerInit, Lstm, LstmConfig};

/// Absolute tolerance relative to the magnitude of `reference`.
fn assert_close(what: &str, fast: &Tensor, reference: &Tensor) -> anyhow::Result<()> {
    assert_eq!(fast.dims(), reference.dims(), "{what}: shapes differ");
    let scale = reference
        .abs()?
        .flatten_all()?
        .max(0)?
        .to_scalar::<f32>()?
        .max(1.0);
    let diff = max_abs_diff(fast, reference)?;
    assert!(
        diff <= 2e-5 * scale,
        "{what}: max |fast − reference| = {diff} (scale {scale})"
    );
    Ok(())
}

/// `Σ y ⊙ r` with fixed pseudo-random `r`, so every output gets a distinct gradient.
fn weighted_sum(y: &Tensor, seed: u32) -> candle_core::Result<Tensor> {
    (y * det_tensor(y.dims(), seed)?)?.sum_all()
}

/// Gradients of `loss` for `x` and every variable of `map`, sorted by name.
fn grads(loss: &Tensor, x: &Var, map: &VarMap) -> anyhow::Result<Vec<(String, Tensor)>> {
    let store = loss.backward()?;
    let mut out = vec![(
        "input".to_string(),
        store.get(x.as_tensor()).expect("input gradient").clone(),
    )];
    let data = map.data().lock().expect("varmap lock");
    let mut names: Vec<_> = data.keys().cloned().collect();
    names.sort();
    for name in names {
        let g = store
            .get(data[&name].as_tensor())
            .expect("parameter gradient")
            .clone();
        out.push((name, g));
    }
    Ok(out)
}

/// One convolution case: input `(b, spec.in, h, w)`.
fn check_conv(
    spec: Conv2dSpec,
    init: LayerInit,
    (b, h, w): (usize, usize, usize),
    relu: bool,
) -> anyhow::Result<()> {
    tr_kernels::set_reference_ops(false);
    let map = VarMap::new();
    let conv = Conv2d::new(spec, init, vb(&map))?;
    let x = Var::from_tensor(&det_tensor(&[b, spec.in_channels, h, w], 3)?)?;
    let run = |fast: bool| -> anyhow::Result<(Tensor, Vec<(String, Tensor)>)> {
        let y = match (fast, relu) {
            (true, true) => conv.forward_relu(x.as_tensor())?,
            (true, false) => conv.forward(x.as_tensor())?,
            (false, true) => conv.forward_reference(x.as_tensor())?.relu()?,
            (false, false) => conv.forward_reference(x.as_tensor())?,
        };
        let g = grads(&weighted_sum(&y, 5)?, &x, &map)?;
        Ok((y, g))
    };
    let (y_fast, g_fast) = run(true)?;
    let (y_ref, g_ref) = run(false)?;
    let case = format!("{spec:?} on {b}x{h}x{w}, relu {relu}");
    assert_close(&format!("{case}: output"), &y_fast, &y_ref)?;
    assert_eq!(g_fast.len(), g_ref.len());
    for ((name, gf), (_, gr)) in g_fast.iter().zip(&g_ref) {
        assert_close(&format!("{case}: gradient of {name}"), gf, gr)?;
    }
    Ok(())
}

fn spec(
    c: usize,
    o: usize,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> Conv2dSpec {
    Conv2dSpec {
        in_channels: c,
        out_channels: o,
        kernel,
        stride,
        padding,
    }
}

#[test]
fn conv_square_kernels_match_reference() -> anyhow::Result<()> {
    // 3×3 padding 1, stride 1 and 2 on odd sizes, batch 1 and batch 5.
    check_conv(
        Conv2dSpec::square(1, 3, 3, 1, 1),
        LayerInit::KaimingFanOut,
        (1, 7, 9),
        true,
    )?;
    check_conv(
        Conv2dSpec::square(3, 5, 3, 2, 1),
        LayerInit::Torch,
        (2, 8, 11),
        true,
    )?;
    check_conv(
        Conv2dSpec::square(3, 5, 3, 2, 1),
        LayerInit::Torch,
        (5, 7, 13),
        false,
    )?;
    check_conv(
        Conv2dSpec::square(2, 4, 3, 2, 0),
        LayerInit::Torch,
        (3, 7, 10),
        false,
    )?;
    check_conv(
        Conv2dSpec::square(2, 4, 3, 1, 0),
        LayerInit::Torch,
        (1, 5, 6),
        true,
    )?;
    Ok(())
}

#[test]
fn conv_large_images_split_into_several_tiles_match_reference() -> anyhow::Result<()> {
    // K·Wo = 288·100 floats per output row: the im2col tiles hold 9 of the 20 rows.
    check_conv(
        Conv2dSpec::square(32, 4, 3, 1, 1),
        LayerInit::Torch,
        (2, 20, 100),
        true,
    )?;
    check_conv(
        Conv2dSpec::square(32, 3, 3, 2, 1),
        LayerInit::Torch,
        (1, 41, 190),
        false,
    )?;
    Ok(())
}

#[test]
fn conv_winograd_shapes_match_reference() -> anyhow::Result<()> {
    // 3×3 stride-1 convolutions with 8–32 input channels take the Winograd
    // forward pass: odd heights and widths (partial 2×2 tiles), padding 0
    // and 1, batch 1 and more images than threads.
    check_conv(
        Conv2dSpec::square(8, 5, 3, 1, 0),
        LayerInit::Torch,
        (3, 9, 40),
        true,
    )?;
    check_conv(
        Conv2dSpec::square(16, 6, 3, 1, 1),
        LayerInit::KaimingFanOut,
        (1, 7, 33),
        false,
    )?;
    check_conv(
        Conv2dSpec::square(32, 32, 3, 1, 1),
        LayerInit::KaimingFanOut,
        (2, 6, 301),
        true,
    )?;
    Ok(())
}

#[test]
fn conv_resnet_shapes_match_reference() -> anyhow::Result<()> {
    // ResNet stem 7×7 stride 2 padding 3 and 1×1 stride 2 downsample, no bias.
    check_conv(
        Conv2dSpec::square(1, 4, 7, 2, 3),
        LayerInit::KaimingNoBias,
        (2, 13, 11),
        false,
    )?;
    check_conv(
        Conv2dSpec::square(3, 6, 1, 2, 0),
        LayerInit::KaimingNoBias,
        (2, 7, 8),
        false,
    )?;
    // 1×1 stride 1: the image is its own im2col matrix.
    check_conv(
        Conv2dSpec::square(5, 6, 1, 1, 0),
        LayerInit::Torch,
        (3, 3, 4),
        true,
    )?;
    Ok(())
}

#[test]
fn conv_per_axis_strides_match_reference() -> anyhow::Result<()> {
    // LineCNN's window conv: kernel (H/8, WW/8), stride (H/8, WS/8).
    check_conv(
        spec(6, 7, (3, 2), (3, 1), (0, 0)),
        LayerInit::KaimingFanOut,
        (2, 4, 13),
        true,
    )?;
    check_conv(
        spec(4, 5, (4, 4), (4, 2), (0, 0)),
        LayerInit::Torch,
        (1, 4, 15),
        true,
    )?;
    // Different remainders along the two axes (candle's own backward fails here).
    check_conv(
        Conv2dSpec::square(2, 3, 3, 2, 1),
        LayerInit::Torch,
        (2, 7, 224 / 16),
        false,
    )?;
    check_conv(
        spec(2, 3, (2, 3), (2, 1), (1, 0)),
        LayerInit::Torch,
        (3, 6, 9),
        false,
    )?;
    // The CRNN's height halving: 3×3, stride (2, 1), padding 1.
    check_conv(
        spec(4, 6, (3, 3), (2, 1), (1, 1)),
        LayerInit::Torch,
        (2, 6, 11),
        true,
    )?;
    Ok(())
}

#[test]
fn conv_kernel_wider_than_stride_sees_padding_on_both_sides() -> anyhow::Result<()> {
    check_conv(
        spec(2, 3, (5, 3), (1, 2), (2, 1)),
        LayerInit::Torch,
        (2, 6, 7),
        true,
    )?;
    Ok(())
}

fn check_pool(shape: [usize; 4], k: usize, s: usize, p: usize) -> anyhow::Result<()> {
    tr_kernels::set_reference_ops(false);
    let x = Var::from_tensor(&det_tensor(&shape, 7)?)?;
    let fast = max_pool2d(x.as_tensor(), k, s, p)?;
    let reference = max_pool2d_reference(x.as_tensor(), k, s, p)?;
    let case = format!("pool {k}/{s}/{p} on {shape:?}");
    assert_close(&format!("{case}: output"), &fast, &reference)?;
    let g_fast = weighted_sum(&fast, 2)?.backward()?;
    let g_ref = weighted_sum(&reference, 2)?.backward()?;
    let (gf, gr) = (
        g_fast.get(&x).expect("fast grad"),
        g_ref.get(&x).expect("ref grad"),
    );
    assert_close(&format!("{case}: gradient"), gf, gr)?;
    Ok(())
}

#[test]
fn max_pool_matches_reference() -> anyhow::Result<()> {
    check_pool([2, 3, 7, 9], 2, 2, 0)?;
    check_pool([1, 2, 8, 8], 2, 2, 0)?;
    check_pool([2, 2, 9, 7], 3, 2, 1)?;
    check_pool([3, 1, 5, 6], 3, 1, 1)?;
    check_pool([1, 1, 5, 5], 3, 3, 0)?;
    Ok(())
}

#[test]
fn max_pool_passes_the_whole_gradient_to_the_first_maximum_of_a_tie() -> anyhow::Result<()> {
    tr_kernels::set_reference_ops(false);
    let x = Var::from_tensor(&Tensor::new(&[[[[1f32, 3.0], [3.0, 0.0]]]], &Device::Cpu)?)?;
    let y = max_pool2d(x.as_tensor(), 2, 2, 0)?;
    assert_eq!(y.flatten_all()?.to_vec1::<f32>()?, vec![3.0]);
    let g = y.sum_all()?.backward()?;
    let g = g
        .get(&x)
        .expect("gradient")
        .flatten_all()?
        .to_vec1::<f32>()?;
    assert_eq!(g, vec![0.0, 1.0, 0.0, 0.0]);
    Ok(())
}

fn check_lstm(config: LstmConfig, (s, b): (usize, usize)) -> anyhow::Result<()> {
    tr_kernels::set_reference_ops(false);
    let map = VarMap::new();
    let lstm = Lstm::new(config, vb(&map))?;
    let x = Var::from_tensor(&det_tensor(&[s, b, config.input_size], 9)?)?;
    let run = |fast: bool| -> anyhow::Result<(Tensor, Vec<(String, Tensor)>)> {
        let y = if fast {
            lstm.forward(x.as_tensor(), true)?
        } else {
            lstm.forward_reference(x.as_tensor(), true)?
        };
        let g = grads(&weighted_sum(&y, 4)?, &x, &map)?;
        Ok((y, g))
    };
    let (y_fast, g_fast) = run(true)?;
    let (y_ref, g_ref) = run(false)?;
    let case = format!("{config:?} on S={s} B={b}");
    assert_close(&format!("{case}: output"), &y_fast, &y_ref)?;
    assert_eq!(g_fast.len(), g_ref.len());
    for ((name, gf), (_, gr)) in g_fast.iter().zip(&g_ref) {
        assert_close(&format!("{case}: gradient of {name}"), gf, gr)?;
    }
    Ok(())
}

fn lstm_config(
    input_size: usize,
    hidden_size: usize,
    num_layers: usize,
    bidirectional: bool,
) -> LstmConfig {
    LstmConfig {
        input_size,
        hidden_size,
        num_layers,
        bidirectional,
        dropout: 0.0,
    }
}

#[test]
fn bidirectional_lstm_matches_reference() -> anyhow::Result<()> {
    check_lstm(lstm_config(5, 7, 1, true), (6, 3))?;
    check_lstm(lstm_config(4, 3, 2, true), (5, 1))?;
    check_lstm(lstm_config(3, 5, 1, true), (1, 2))?;
    Ok(())
}

#[test]
fn unidirectional_lstm_matches_reference() -> anyhow::Result<()> {
    check_lstm(lstm_config(6, 4, 1, false), (7, 2))?;
    check_lstm(lstm_config(2, 9, 2, false), (3, 4))?;
    Ok(())
}

/// Output, named gradients, running mean and running variance of one pass.
type BatchNormRun = (Tensor, Vec<(String, Tensor)>, Vec<f32>, Vec<f32>);

/// One batch-norm case: fast kernel against candle-nn on twin layers
/// (outputs, gradients of input, weight and bias, running statistics).
fn check_batch_norm(shape: [usize; 4], train: bool, relu: bool) -> anyhow::Result<()> {
    use tr_models::layers::BatchNorm2d;
    tr_kernels::set_reference_ops(false);
    let x = Var::from_tensor(&(det_tensor(&shape, 11)? * 3.0)?.affine(1.0, 0.5)?)?;
    let run = |fast: bool| -> anyhow::Result<BatchNormRun> {
        let map = VarMap::new();
        let bn = BatchNorm2d::new(shape[1], vb(&map))?;
        // Non-trivial affine parameters and running statistics.
        for (name, seed, offset) in [
            ("weight", 1, 1.0),
            ("bias", 2, 0.0),
            ("running_mean", 3, 0.0),
            ("running_var", 4, 1.5),
        ] {
            let data = map.data().lock().expect("varmap lock");
            let v = &data[name];
            v.set(&(det_tensor(v.dims(), seed)? + offset)?)?;
        }
        let y = match (fast, relu) {
            (true, true) => bn.forward_relu(x.as_tensor(), train)?,
            (true, false) => bn.forward(x.as_tensor(), train)?,
            (false, true) => bn.forward_reference(x.as_tensor(), train)?.relu()?,
            (false, false) => bn.forward_reference(x.as_tensor(), train)?,
        };
        let store = weighted_sum(&y, 5)?.backward()?;
        let data = map.data().lock().expect("varmap lock");
        let mut g = vec![(
            "input".to_string(),
            store.get(x.as_tensor()).expect("input gradient").clone(),
        )];
        for name in ["bias", "weight"] {
            g.push((
                name.to_string(),
                store
                    .get(data[name].as_tensor())
                    .expect("parameter gradient")
                    .clone(),
            ));
        }
        for name in ["running_mean", "running_var"] {
            assert!(
                store.get(data[name].as_tensor()).is_none(),
                "{name} is a buffer"
            );
        }
        let (rm, rv) = (bn.running_mean().to_vec1()?, bn.running_var().to_vec1()?);
        // The update lands in the VarMap (what checkpoints save).
        assert_eq!(data["running_mean"].as_tensor().to_vec1::<f32>()?, rm);
        assert_eq!(data["running_var"].as_tensor().to_vec1::<f32>()?, rv);
        Ok((y, g, rm, rv))
    };
    let (y_fast, g_fast, rm_fast, rv_fast) = run(true)?;
    let (y_ref, g_ref, rm_ref, rv_ref) = run(false)?;
    let case = format!("batch-norm on {shape:?}, train {train}, relu {relu}");
    assert_close(&format!("{case}: output"), &y_fast, &y_ref)?;
    assert_eq!(g_fast.len(), g_ref.len());
    for ((name, gf), (_, gr)) in g_fast.iter().zip(&g_ref) {
        assert_close(&format!("{case}: gradient of {name}"), gf, gr)?;
    }
    for (what, f, r) in [
        ("running mean", &rm_fast, &rm_ref),
        ("running var", &rv_fast, &rv_ref),
    ] {
        for (a, b) in f.iter().zip(r.iter()) {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{case}: {what} {f:?} vs {r:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn batch_norm_matches_reference_in_both_modes_with_and_without_relu() -> anyhow::Result<()> {
    for train in [true, false] {
        for relu in [false, true] {
            check_batch_norm([2, 3, 5, 7], train, relu)?;
            check_batch_norm([1, 4, 3, 11], train, relu)?;
            check_batch_norm([5, 2, 1, 1], train, relu)?;
        }
    }
    Ok(())
}
