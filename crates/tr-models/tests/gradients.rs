//! Every parameter of every model receives a finite, non-zero gradient from
//! one backward pass in training mode (dropout 0 for determinism), on small
//! configs that take the same code paths as the defaults.
//!
//! Weights come from the seeded initialiser, so the outcome is fixed. The
//! LineCNN keeps 16 channels: with the course's init (biases drawn with a
//! negative mean) a LineCNN only a few channels wide can start with a layer
//! whose ReLUs are all off, which would zero the gradients below it.

mod common;

use candle_core::{Device, Tensor};
use common::{build, det_images, weighted_log_softmax_loss};
use tr_data::Vocabulary;
use tr_models::params::trainable_vars;
use tr_models::{DataSpec, ModelConfig, Task};

/// Builds `name` with the overrides, runs one training-mode loss and checks
/// every trainable variable's gradient.
fn check(
    name: &str,
    overrides: &[(&str, &str)],
    spec: DataSpec,
    batch: usize,
) -> anyhow::Result<()> {
    let mut cfg = ModelConfig::by_name(name)?;
    for (k, v) in overrides {
        cfg.set_str(k, v)?;
    }
    let (varmap, model) = build(&cfg, &spec)?;
    let [c, h, w] = spec.input_shape;
    let x = det_images(&[batch, c, h, w], 11)?;
    let loss = match model.task() {
        Task::Classify => weighted_log_softmax_loss(&model.forward(&x, true)?, 1)?,
        Task::Ctc => weighted_log_softmax_loss(&model.forward(&x, true)?, 1)?,
        Task::Seq2Seq => {
            let len = spec.output_len.unwrap_or(4) - 1;
            // <S>, characters, <E>, then padding in the second row.
            let mut rows = Vec::new();
            for b in 0..batch {
                let mut row = vec![1u32];
                for i in 1..len {
                    row.push(if b == 1 && i >= len - 2 {
                        if i == len - 2 {
                            2
                        } else {
                            3
                        }
                    } else {
                        4 + ((i * 7 + b) % 60) as u32
                    });
                }
                rows.extend(row);
            }
            let y = Tensor::from_vec(rows, (batch, len), &Device::Cpu)?;
            weighted_log_softmax_loss(&model.forward_teacher(&x, &y, true)?, 1)?
        }
    };
    let grads = loss.backward()?;
    let vars = trainable_vars(&varmap);
    assert!(!vars.is_empty());
    let mut bad = Vec::new();
    for (var_name, var) in &vars {
        let Some(g) = grads.get(var.as_tensor()) else {
            bad.push(format!("{var_name} (no gradient)"));
            continue;
        };
        let g = g.flatten_all()?.to_vec1::<f32>()?;
        if !g.iter().all(|v| v.is_finite()) {
            bad.push(format!("{var_name} (non-finite)"));
        } else if g.iter().all(|v| *v == 0.0) {
            bad.push(format!("{var_name} (all zero)"));
        }
    }
    assert!(
        bad.is_empty(),
        "{name}: bad gradients for {} of {} variables: {}",
        bad.len(),
        vars.len(),
        bad.join(", ")
    );
    Ok(())
}

#[test]
fn mlp() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 8, 8], Vocabulary::digits(), None);
    check(
        "mlp",
        &[("fc1", "16"), ("fc2", "8"), ("fc_dropout", "0")],
        spec,
        3,
    )
}

#[test]
fn cnn() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 8, 8], Vocabulary::emnist(), None);
    check(
        "cnn",
        &[("conv_dim", "4"), ("fc_dim", "8"), ("fc_dropout", "0")],
        spec,
        3,
    )
}

#[test]
fn line_cnn_simple() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 8, 40], Vocabulary::emnist(), Some(4));
    let o = [
        ("cnn", r#"{"conv_dim": 16, "fc_dim": 32, "fc_dropout": 0}"#),
        ("window_width", "8"),
        ("window_stride", "8"),
        ("limit_output_length", "true"),
    ];
    check("line-cnn-simple", &o, spec, 2)
}

#[test]
fn line_cnn() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 16, 64], Vocabulary::emnist(), Some(5));
    check(
        "line-cnn",
        &[("conv_dim", "4"), ("fc_dim", "8"), ("fc_dropout", "0")],
        spec,
        2,
    )
}

#[test]
fn crnn_two_layers() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 32, 40], Vocabulary::emnist(), Some(5));
    let o = [
        ("channels", "[4, 6, 8, 8]"),
        ("lstm_dim", "6"),
        ("lstm_layers", "2"),
        ("dropout", "0"),
    ];
    check("crnn", &o, spec, 2)
}

#[test]
fn line_cnn_lstm_two_layers() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 16, 64], Vocabulary::emnist(), Some(5));
    let o = [
        (
            "line_cnn",
            r#"{"conv_dim": 16, "fc_dim": 32, "fc_dropout": 0}"#,
        ),
        ("lstm_dim", "6"),
        ("lstm_layers", "2"),
        ("lstm_dropout", "0"),
    ];
    check("line-cnn-lstm", &o, spec, 2)
}

#[test]
fn line_cnn_transformer() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 16, 64], Vocabulary::emnist(), Some(7));
    let o = [
        (
            "line_cnn",
            r#"{"conv_dim": 16, "fc_dim": 32, "fc_dropout": 0}"#,
        ),
        ("tf_dim", "8"),
        ("tf_fc_dim", "16"),
        ("tf_layers", "2"),
        ("tf_nhead", "2"),
        ("tf_dropout", "0"),
        ("pos_dropout", "0"),
    ];
    check("line-cnn-transformer", &o, spec, 2)
}

#[test]
fn resnet_transformer() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 64, 64], Vocabulary::paragraphs(), Some(7));
    let o = [
        ("tf_dim", "8"),
        ("tf_fc_dim", "16"),
        ("tf_layers", "2"),
        ("tf_nhead", "2"),
        ("tf_dropout", "0"),
        ("pos_dropout", "0"),
    ];
    check("resnet-transformer", &o, spec, 2)
}

#[test]
fn line_cnn_lstm_on_course_sized_lines() -> anyhow::Result<()> {
    // 28×896 takes the strided-conv shapes candle's own backward gets wrong
    // (7×224 → 4×112); narrow layers keep it fast.
    let spec = DataSpec::new([1, 28, 896], Vocabulary::emnist(), Some(32));
    let o = [
        (
            "line_cnn",
            r#"{"conv_dim": 16, "fc_dim": 32, "fc_dropout": 0}"#,
        ),
        ("lstm_dim", "4"),
    ];
    check("line-cnn-lstm", &o, spec, 1)
}
