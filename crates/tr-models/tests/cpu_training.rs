//! Training with the fast CPU kernels follows the same trajectory as with
//! candle's reference ops: from the same seed, a few AdamW steps of `cnn`
//! (convolutions + max-pooling) and `line-cnn-lstm` (strided and window
//! convolutions + bidirectional LSTM) and `crnn` (convolutions with batch
//! normalisation and ReLU fused, stacked LSTM) give the same losses and the
//! same final accuracy. (A CTC run lives in `cargo xtask bench --check-training`,
//! tr-models cannot depend on tr-lit's CTC loss.)
//!
//! This binary holds a single test because it flips the process-wide
//! [`tr_kernels::set_reference_ops`] switch.

mod common;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use common::{build, det_images};
use tr_data::Vocabulary;
use tr_models::{DataSpec, ModelConfig};

/// Fixed pseudo-random labels in `4..classes`.
fn labels(n: usize, classes: usize, seed: u64) -> Vec<u32> {
    (0..n as u64)
        .map(|i| 4 + ((i * 2_654_435_761 + seed * 40_503) % (classes as u64 - 4)) as u32)
        .collect()
}

/// Mean cross-entropy of `(B, C)` or `(B, C, S)` logits against labels of
/// the same layout without `C`, and the fraction of correct argmaxes.
fn loss_and_accuracy(logits: &Tensor, target: &Tensor) -> candle_core::Result<(Tensor, f32)> {
    let logits = if logits.rank() == 3 {
        let (b, c, s) = logits.dims3()?;
        logits.transpose(1, 2)?.reshape((b * s, c))?
    } else {
        logits.clone()
    };
    let target = target.flatten_all()?;
    let log_p = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
    let picked = log_p.gather(&target.unsqueeze(1)?, 1)?;
    let loss = picked.mean_all()?.neg()?;
    let correct = logits
        .argmax(D::Minus1)?
        .eq(&target)?
        .to_dtype(DType::F32)?
        .mean_all()?
        .to_scalar::<f32>()?;
    Ok((loss, correct))
}

/// Losses of `steps` AdamW steps and the final training accuracy.
fn train(
    name: &str,
    overrides: &[(&str, &str)],
    spec: &DataSpec,
    reference: bool,
) -> anyhow::Result<(Vec<f32>, f32)> {
    tr_kernels::set_reference_ops(reference);
    let mut cfg = ModelConfig::by_name(name)?;
    for (k, v) in overrides {
        cfg.set_str(k, v)?;
    }
    let (varmap, model) = build(&cfg, spec)?;
    let [c, h, w] = spec.input_shape;
    let batch = 6;
    let x = det_images(&[batch, c, h, w], 21)?;
    let probe = model.forward(&x, false)?;
    let classes = spec.num_classes();
    let target = match probe.dims() {
        [_, _, s] => Tensor::from_vec(labels(batch * s, classes, 3), (batch, *s), &Device::Cpu)?,
        _ => Tensor::from_vec(labels(batch, classes, 3), batch, &Device::Cpu)?,
    };
    let mut opt = AdamW::new(
        varmap.all_vars(),
        ParamsAdamW {
            lr: 3e-3,
            ..Default::default()
        },
    )?;
    let mut losses = Vec::new();
    for _ in 0..12 {
        let (loss, _) = loss_and_accuracy(&model.forward(&x, true)?, &target)?;
        losses.push(loss.to_scalar::<f32>()?);
        opt.backward_step(&loss)?;
    }
    let (_, acc) = loss_and_accuracy(&model.forward(&x, false)?, &target)?;
    Ok((losses, acc))
}

fn check(name: &str, overrides: &[(&str, &str)], spec: DataSpec) -> anyhow::Result<()> {
    let (fast, fast_acc) = train(name, overrides, &spec, false)?;
    let (reference, ref_acc) = train(name, overrides, &spec, true)?;
    tr_kernels::set_reference_ops(false);
    assert!(
        fast[fast.len() - 1] < fast[0] - 0.1,
        "{name}: did not learn: {fast:?}"
    );
    for (step, (a, b)) in fast.iter().zip(&reference).enumerate() {
        assert!(
            (a - b).abs() <= 1e-3 * b.abs().max(1.0),
            "{name}: step {step} loss {a} (fast) vs {b} (reference)\n{fast:?}\n{reference:?}"
        );
    }
    assert_eq!(fast_acc, ref_acc, "{name}: final accuracy differs");
    Ok(())
}

#[test]
fn fast_kernels_train_like_reference_ops() -> anyhow::Result<()> {
    check(
        "cnn",
        &[("conv_dim", "8"), ("fc_dim", "16"), ("fc_dropout", "0")],
        DataSpec::new([1, 12, 12], Vocabulary::emnist(), None),
    )?;
    check(
        "line-cnn-lstm",
        &[
            (
                "line_cnn",
                r#"{"conv_dim": 16, "fc_dim": 32, "fc_dropout": 0}"#,
            ),
            ("lstm_dim", "12"),
        ],
        DataSpec::new([1, 16, 64], Vocabulary::emnist(), Some(7)),
    )?;
    // Batch normalisation (fused with ReLU) in training and evaluation mode.
    check(
        "crnn",
        &[
            ("channels", "[4, 6, 8, 8]"),
            ("lstm_dim", "8"),
            ("lstm_layers", "2"),
            ("dropout", "0"),
        ],
        DataSpec::new([1, 16, 32], Vocabulary::emnist(), Some(8)),
    )?;
    Ok(())
}
