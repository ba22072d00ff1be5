//! Parameter counts of every model with its default config on its default
//! data, against counts computed here from the layer shapes (and, for the
//! LineCNN family, the course's published numbers).

mod common;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use tr_models::layers::ResNet18;
use tr_models::params::count_parameters;
use tr_models::{default_parameter_count, ModelConfig};

fn linear(i: usize, o: usize) -> usize {
    i * o + o
}

fn conv(i: usize, o: usize, kh: usize, kw: usize) -> usize {
    i * o * kh * kw + o
}

/// LineCNN on 1×28×H images: 8 conv blocks, window conv (3, 2), fc1, fc2.
fn line_cnn(outputs: usize) -> usize {
    let d = 32;
    let blocks = conv(1, d, 3, 3)
        + 3 * conv(d, d, 3, 3)
        + conv(d, 2 * d, 3, 3)
        + conv(2 * d, 2 * d, 3, 3)
        + conv(2 * d, 4 * d, 3, 3)
        + conv(4 * d, 4 * d, 3, 3);
    blocks + conv(4 * d, 512, 28 / 8, 16 / 8) + linear(512, 512) + linear(512, outputs)
}

fn cnn(classes: usize) -> usize {
    conv(1, 64, 3, 3) + conv(64, 64, 3, 3) + linear(14 * 14 * 64, 128) + linear(128, classes)
}

/// PyTorch `nn.TransformerDecoderLayer(d, nhead, ff)`.
fn decoder_layer(d: usize, ff: usize) -> usize {
    let mha = 3 * d * d + 3 * d + linear(d, d);
    2 * mha + linear(d, ff) + linear(ff, d) + 3 * 2 * d
}

/// torchvision ResNet-18 without avgpool/fc, `c` input channels (no conv bias).
fn resnet18_body(c: usize) -> usize {
    let bn = |ch: usize| 2 * ch;
    let block = |i: usize, o: usize, down: bool| {
        i * o * 9 + bn(o) + o * o * 9 + bn(o) + if down { i * o + bn(o) } else { 0 }
    };
    let mut total = c * 64 * 49 + bn(64);
    let mut i = 64;
    for (stage, o) in [64, 128, 256, 512].into_iter().enumerate() {
        total += block(i, o, stage > 0) + block(o, o, false);
        i = o;
    }
    total
}

#[test]
fn mlp_on_mnist() -> anyhow::Result<()> {
    let expected = linear(784, 1024) + linear(1024, 128) + linear(128, 10);
    assert_eq!(expected, 936_330);
    assert_eq!(default_parameter_count("mlp")?, expected);
    Ok(())
}

#[test]
fn cnn_on_emnist() -> anyhow::Result<()> {
    assert_eq!(default_parameter_count("cnn")?, cnn(83));
    assert_eq!(cnn(83), 1_654_035);
    Ok(())
}

#[test]
fn line_cnn_simple_is_the_cnn_on_one_window() -> anyhow::Result<()> {
    assert_eq!(default_parameter_count("line-cnn-simple")?, cnn(83));
    Ok(())
}

#[test]
fn line_cnn_has_the_course_count() -> anyhow::Result<()> {
    assert_eq!(line_cnn(83), 1_003_891);
    assert_eq!(default_parameter_count("line-cnn")?, 1_003_891);
    Ok(())
}

#[test]
fn line_cnn_lstm_has_the_course_count() -> anyhow::Result<()> {
    let h = 512;
    let per_direction = 4 * h * 83 + 4 * h * h + 2 * 4 * h;
    assert_eq!(line_cnn(83) + 2 * per_direction + linear(h, 83), 3_491_782);
    assert_eq!(default_parameter_count("line-cnn-lstm")?, 3_491_782);
    Ok(())
}

#[test]
fn line_cnn_transformer() -> anyhow::Result<()> {
    let d = 256;
    let expected = line_cnn(d) + 83 * d + linear(d, 83) + 4 * decoder_layer(d, 256);
    assert_eq!(expected, 3_773_043);
    assert_eq!(default_parameter_count("line-cnn-transformer")?, expected);
    Ok(())
}

#[test]
fn resnet_body_matches_torchvision() -> anyhow::Result<()> {
    // torchvision's resnet18 has 11,689,512 parameters, 513,000 of them in fc.
    assert_eq!(resnet18_body(3), 11_689_512 - 513_000);
    for c in [1, 3] {
        let varmap = VarMap::new();
        ResNet18::new(
            c,
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )?;
        assert_eq!(count_parameters(&varmap), resnet18_body(c), "{c} channels");
    }
    // The 1-channel stem saves 64·7·7·2 parameters over the course's 3-channel one.
    assert_eq!(resnet18_body(3) - resnet18_body(1), 6_272);
    Ok(())
}

#[test]
fn resnet_transformer() -> anyhow::Result<()> {
    let d = 256;
    let expected =
        resnet18_body(1) + conv(512, d, 1, 1) + 84 * d + linear(d, 84) + 4 * decoder_layer(d, 1024);
    assert_eq!(expected, 15_558_420);
    assert_eq!(default_parameter_count("resnet-transformer")?, expected);
    // The course's released paragraph model used tf_fc_dim 256.
    let mut cfg = ModelConfig::by_name("resnet-transformer")?;
    cfg.set_str("tf_fc_dim", "256")?;
    let spec = tr_models::default_spec("resnet-transformer")?;
    let small =
        resnet18_body(1) + conv(512, d, 1, 1) + 84 * d + linear(d, 84) + 4 * decoder_layer(d, 256);
    assert_eq!(tr_models::parameter_count(&cfg, &spec)?, small);
    Ok(())
}

#[test]
fn batch_norm_buffers_are_not_parameters() -> anyhow::Result<()> {
    let varmap = VarMap::new();
    ResNet18::new(
        1,
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )?;
    let all = tr_models::params::named_vars(&varmap);
    let buffers: Vec<_> = all
        .iter()
        .filter(|(n, _)| tr_models::params::is_buffer(n))
        .collect();
    // 20 batch norms (stem, 16 in blocks, 3 downsample), two buffers each.
    assert_eq!(buffers.len(), 40);
    assert!(buffers.iter().any(|(n, _)| n == "layer4.1.bn2.running_var"));
    assert_eq!(
        tr_models::params::trainable_vars(&varmap).len(),
        all.len() - 40
    );
    Ok(())
}
