//! Output shapes of every model on the course's input sizes.

mod common;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use common::{build, det_images};
use tr_data::Vocabulary;
use tr_models::{default_spec, DataSpec, ModelConfig, Task};
use tr_models::{LineCnn, LineCnnConfig};
use tr_models::{ResnetTransformer, ResnetTransformerConfig};

#[test]
fn classifiers_give_batch_by_classes() -> anyhow::Result<()> {
    for (name, classes) in [("mlp", 10), ("cnn", 83)] {
        let spec = default_spec(name)?;
        let (_, model) = build(&ModelConfig::by_name(name)?, &spec)?;
        assert_eq!(model.task(), Task::Classify);
        let y = model.forward(&det_images(&[3, 1, 28, 28], 1)?, false)?;
        assert_eq!(y.dims(), &[3, classes], "{name}");
    }
    Ok(())
}

#[test]
fn line_cnn_simple_gives_32_steps() -> anyhow::Result<()> {
    let spec = default_spec("line-cnn-simple")?;
    let (_, model) = build(&ModelConfig::by_name("line-cnn-simple")?, &spec)?;
    let y = model.forward(&det_images(&[2, 1, 28, 896], 2)?, false)?;
    assert_eq!(y.dims(), &[2, 83, 32]);
    Ok(())
}

#[test]
fn line_cnn_simple_overlapping_windows_match_the_cnn_per_window() -> anyhow::Result<()> {
    // Windows 28 wide every 14 pixels: 7 windows on 112 pixels; each step must
    // equal the CNN applied to that window alone.
    let spec = DataSpec::new([1, 28, 112], Vocabulary::emnist(), Some(8));
    let mut cfg = ModelConfig::by_name("line-cnn-simple")?;
    cfg.set_str("window_stride", "14")?;
    cfg.set_str("cnn.conv_dim", "4")?;
    let varmap = VarMap::new();
    let vb = common::vb(&varmap);
    let model = cfg.build(&spec, vb.clone())?;
    let x = det_images(&[2, 1, 28, 112], 3)?;
    let y = model.forward(&x, false)?;
    assert_eq!(y.dims(), &[2, 83, 7]);
    let ModelConfig::LineCnnSimple(c) = &cfg else {
        unreachable!()
    };
    let cnn_spec = DataSpec::new([1, 28, 28], Vocabulary::emnist(), None);
    let cnn = tr_models::Cnn::new(&c.cnn, &cnn_spec, vb.pp("cnn"))?;
    for s in [0, 3, 6] {
        let single = cnn.forward(&x.narrow(3, s * 14, 28)?, false)?;
        let step = y.narrow(2, s, 1)?.squeeze(2)?;
        assert!(common::max_abs_diff(&single, &step)? < 1e-5, "window {s}");
    }
    Ok(())
}

#[test]
fn line_cnn_gives_111_steps_and_limits_to_output_len() -> anyhow::Result<()> {
    let spec = default_spec("line-cnn")?;
    let varmap = VarMap::new();
    let vb = common::vb(&varmap);
    let model = LineCnn::new(&LineCnnConfig::default(), &spec, vb)?;
    assert_eq!(model.output_steps(896), 111);
    let y = model.forward(&det_images(&[2, 1, 28, 896], 4)?, false)?;
    assert_eq!(y.dims(), &[2, 83, 111]);
    let cfg = LineCnnConfig {
        limit_output_length: true,
        ..Default::default()
    };
    let limited = LineCnn::new(&cfg, &spec, common::vb(&varmap))?;
    let y32 = limited.forward(&det_images(&[2, 1, 28, 896], 4)?, false)?;
    assert_eq!(y32.dims(), &[2, 83, 32]);
    // Same weights (same VarMap): the limited output is the first 32 steps.
    assert!(common::max_abs_diff(&y32, &y.narrow(2, 0, 32)?)? < 1e-6);
    Ok(())
}

#[test]
fn line_cnn_lstm_gives_111_steps() -> anyhow::Result<()> {
    let spec = default_spec("line-cnn-lstm")?;
    let (_, model) = build(&ModelConfig::by_name("line-cnn-lstm")?, &spec)?;
    let y = model.forward(&det_images(&[2, 1, 28, 896], 5)?, false)?;
    assert_eq!(y.dims(), &[2, 83, 111]);
    Ok(())
}

#[test]
fn line_cnn_transformer_teacher_and_greedy() -> anyhow::Result<()> {
    let spec = default_spec("line-cnn-transformer")?;
    let (_, model) = build(&ModelConfig::by_name("line-cnn-transformer")?, &spec)?;
    assert_eq!(model.task(), Task::Seq2Seq);
    let x = det_images(&[2, 1, 28, 896], 6)?;
    let y = Tensor::new(
        &[[1u32, 20, 45, 66, 50, 2, 3, 3], [1, 30, 31, 2, 3, 3, 3, 3]],
        &Device::Cpu,
    )?;
    let logits = model.forward_teacher(&x, &y, false)?;
    assert_eq!(logits.dims(), &[2, 83, 8]);
    let decoded = model.decode_greedy(&x)?;
    assert_eq!(decoded.tokens.dims(), &[2, 32]);
    assert_eq!(decoded.probs.dims(), &[2, 32]);
    assert_eq!(decoded.tokens.dtype(), DType::U32);
    let tokens = decoded.tokens.to_vec2::<u32>()?;
    assert!(tokens.iter().all(|row| row[0] == 1), "rows start with <S>");
    let probs = decoded.probs.to_vec2::<f32>()?;
    assert!(probs.iter().flatten().all(|p| *p > 0.0 && *p <= 1.0));
    assert_eq!(model.forward(&x, false)?.to_vec2::<u32>()?, tokens);
    Ok(())
}

#[test]
fn resnet_transformer_on_paragraph_sized_input() -> anyhow::Result<()> {
    let spec = default_spec("resnet-transformer")?;
    assert_eq!(spec.input_shape, [1, 576, 640]);
    let varmap = VarMap::new();
    // Shapes only: candle's (unseeded) initialiser is faster for 15.5M weights.
    let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = ResnetTransformer::new(&ResnetTransformerConfig::default(), &spec, vb)?;
    let x = det_images(&[1, 1, 576, 640], 7)?;
    let y = Tensor::new(&[[1u32, 20, 83, 45, 2]], &Device::Cpu)?;
    let logits = model.forward_teacher(&x, &y, false)?;
    assert_eq!(logits.dims(), &[1, 84, 5]);
    Ok(())
}

#[test]
fn resnet_transformer_greedy_on_small_pages() -> anyhow::Result<()> {
    let spec = DataSpec::new([1, 64, 96], Vocabulary::paragraphs(), Some(12));
    let mut cfg = ModelConfig::by_name("resnet-transformer")?;
    cfg.set_str("tf_dim", "32")?;
    cfg.set_str("tf_fc_dim", "64")?;
    let varmap = VarMap::new();
    let ModelConfig::ResnetTransformer(c) = &cfg else {
        unreachable!()
    };
    let model = ResnetTransformer::new(c, &spec, common::vb(&varmap))?;
    let x = det_images(&[3, 1, 64, 96], 8)?;
    // 64×96 pages give a 2×3 feature map: 6 memory positions.
    assert_eq!(model.encode(&x, false)?.dims(), &[3, 6, 32]);
    let decoded = model.decode_greedy(&x)?;
    assert_eq!(decoded.tokens.dims(), &[3, 12]);
    assert_eq!(decoded.probs.dims(), &[3, 12]);
    Ok(())
}
