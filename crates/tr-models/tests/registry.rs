//! The registry: names, defaults, building, `set` overrides and their
//! errors, serde round trips, and config/spec validation messages.

mod common;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use serde_json::json;
use tr_data::registry::ConfigError;
use tr_data::Vocabulary;
use tr_models::{default_spec, DataSpec, Error, ModelConfig, Task};

#[test]
fn every_name_builds_on_its_default_data() -> anyhow::Result<()> {
    assert_eq!(
        ModelConfig::names(),
        &[
            "mlp",
            "cnn",
            "line-cnn-simple",
            "line-cnn",
            "line-cnn-lstm",
            "line-cnn-transformer",
            "resnet-transformer",
            "crnn"
        ]
    );
    for name in ModelConfig::names() {
        let cfg = ModelConfig::by_name(name)?;
        assert_eq!(cfg.name(), *name);
        let spec = default_spec(name)?;
        // Zero weights are enough to check construction.
        let model = cfg.build(&spec, VarBuilder::zeros(DType::F32, &Device::Cpu))?;
        assert_eq!(model.name(), *name);
        assert_eq!(model.task(), cfg.task());
        assert!(!cfg.description().is_empty());
    }
    Ok(())
}

#[test]
fn default_specs_are_the_course_data() -> anyhow::Result<()> {
    let mlp = default_spec("mlp")?;
    assert_eq!(
        (mlp.input_shape, mlp.num_classes(), mlp.output_len),
        ([1, 28, 28], 10, None)
    );
    let cnn = default_spec("cnn")?;
    assert_eq!(
        (cnn.input_shape, cnn.num_classes(), cnn.output_len),
        ([1, 28, 28], 83, None)
    );
    for name in [
        "line-cnn-simple",
        "line-cnn",
        "line-cnn-lstm",
        "line-cnn-transformer",
    ] {
        let s = default_spec(name)?;
        assert_eq!(
            (s.input_shape, s.num_classes(), s.output_len),
            ([1, 28, 896], 83, Some(32)),
            "{name}"
        );
    }
    let p = default_spec("resnet-transformer")?;
    assert_eq!(
        (p.input_shape, p.num_classes(), p.output_len),
        ([1, 576, 640], 84, Some(682))
    );
    assert_eq!(
        ModelConfig::by_name("resnet-transformer")?.task(),
        Task::Seq2Seq
    );
    Ok(())
}

#[test]
fn unknown_model_lists_the_valid_names() {
    let err = ModelConfig::by_name("lenet").unwrap_err();
    assert!(matches!(
        err,
        Error::Config(ConfigError::UnknownName { kind: "model", .. })
    ));
    let msg = err.to_string();
    assert!(
        msg.contains("\"lenet\"")
            && msg.contains("line-cnn-lstm")
            && msg.contains("resnet-transformer"),
        "{msg}"
    );
    assert!(default_spec("lenet").is_err());
}

#[test]
fn set_overrides_flat_and_nested_keys() -> anyhow::Result<()> {
    let mut cfg = ModelConfig::by_name("line-cnn-lstm")?;
    cfg.set("lstm_dim", json!(256))?;
    cfg.set_str("line_cnn.window_width", "24")?;
    cfg.set_str("line_cnn.limit_output_length", "true")?;
    cfg.set_str("lstm_dropout", "0.5")?;
    let ModelConfig::LineCnnLstm(c) = &cfg else {
        panic!("variant changed")
    };
    assert_eq!(c.lstm_dim, 256);
    assert_eq!(c.line_cnn.window_width, 24);
    assert!(c.line_cnn.limit_output_length);
    assert_eq!(c.lstm_dropout, 0.5);
    assert_eq!(
        c.line_cnn.conv_dim, 32,
        "untouched keys keep their defaults"
    );
    let mut keys = cfg.keys();
    keys.sort();
    assert!(
        keys.contains(&"line_cnn.fc_dim".to_string()) && keys.contains(&"lstm_layers".to_string())
    );
    Ok(())
}

#[test]
fn set_unknown_key_lists_valid_keys() -> anyhow::Result<()> {
    let mut cfg = ModelConfig::by_name("cnn")?;
    let before = cfg.clone();
    let err = cfg.set_str("conv_dims", "8").unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, Error::Config(ConfigError::UnknownKey { .. })),
        "{msg}"
    );
    assert!(
        msg.contains("\"conv_dims\"") && msg.contains("conv_dim, ") && msg.contains("fc_dropout"),
        "{msg}"
    );
    assert!(
        cfg.set_str("conv_dim.x", "8").is_err(),
        "not a nested config"
    );
    assert!(ModelConfig::by_name("line-cnn-lstm")?
        .set_str("line_cnn.nope", "1")
        .is_err());
    let name_err = cfg.set_str("name", "mlp").unwrap_err().to_string();
    assert!(name_err.contains("name"), "{name_err}");
    assert_eq!(cfg, before, "failed sets leave the config unchanged");
    Ok(())
}

#[test]
fn set_wrong_type_names_key_expected_and_value() -> anyhow::Result<()> {
    let mut cfg = ModelConfig::by_name("line-cnn")?;
    let before = cfg.clone();
    let msg = cfg.set_str("conv_dim", "wide").unwrap_err().to_string();
    assert!(
        msg.contains("\"conv_dim\"")
            && msg.contains("non-negative integer")
            && msg.contains("\"wide\""),
        "{msg}"
    );
    let msg = cfg.set_str("conv_dim", "-3").unwrap_err().to_string();
    assert!(msg.contains("-3"), "{msg}");
    let msg = cfg
        .set_str("limit_output_length", "yes")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("true or false") && msg.contains("\"yes\""),
        "{msg}"
    );
    let msg = cfg.set_str("fc_dropout", "[1]").unwrap_err().to_string();
    assert!(msg.contains("a number") && msg.contains("[1]"), "{msg}");
    assert_eq!(cfg, before);
    Ok(())
}

#[test]
fn serde_fills_defaults_and_rejects_unknown_fields() -> anyhow::Result<()> {
    let cfg: ModelConfig =
        serde_json::from_value(json!({"name": "resnet-transformer", "tf_layers": 2}))?;
    let ModelConfig::ResnetTransformer(c) = &cfg else {
        panic!("wrong variant")
    };
    assert_eq!(
        (c.tf_layers, c.tf_dim, c.tf_fc_dim, c.tf_nhead),
        (2, 256, 1024, 4)
    );
    assert_eq!((c.tf_dropout, c.pos_dropout), (0.4, 0.1));
    let back: ModelConfig = serde_json::from_value(cfg.to_json())?;
    assert_eq!(back, cfg);
    let err = serde_json::from_value::<ModelConfig>(json!({"name": "mlp", "fc3": 1})).unwrap_err();
    assert!(err.to_string().contains("fc3"), "{err}");
    let err = serde_json::from_value::<ModelConfig>(
        json!({"name": "line-cnn-transformer", "line_cnn": {"bogus": 1}}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("bogus"), "{err}");
    // The course defaults.
    let ModelConfig::LineCnn(lc) = ModelConfig::by_name("line-cnn")? else {
        panic!()
    };
    assert_eq!(
        (
            lc.conv_dim,
            lc.fc_dim,
            lc.window_width,
            lc.window_stride,
            lc.fc_dropout
        ),
        (32, 512, 16, 8, 0.2)
    );
    let ModelConfig::LineCnnTransformer(t) = ModelConfig::by_name("line-cnn-transformer")? else {
        panic!()
    };
    assert_eq!(
        (t.tf_dim, t.tf_fc_dim, t.tf_layers, t.tf_nhead, t.tf_dropout),
        (256, 256, 4, 4, 0.4)
    );
    let ModelConfig::Mlp(m) = ModelConfig::by_name("mlp")? else {
        panic!()
    };
    assert_eq!((m.fc1, m.fc2, m.fc_dropout), (1024, 128, 0.5));
    let ModelConfig::Cnn(c) = ModelConfig::by_name("cnn")? else {
        panic!()
    };
    assert_eq!((c.conv_dim, c.fc_dim, c.fc_dropout), (64, 128, 0.25));
    Ok(())
}

fn build_err(name: &str, overrides: &[(&str, &str)], spec: DataSpec) -> String {
    let mut cfg = ModelConfig::by_name(name).expect("known name");
    for (k, v) in overrides {
        cfg.set_str(k, v).expect("valid override");
    }
    match cfg.build(&spec, VarBuilder::zeros(DType::F32, &Device::Cpu)) {
        Ok(_) => panic!("{name} {overrides:?} built on {:?}", spec.input_shape),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_configs_and_specs_are_named() {
    let lines = |h: usize, w: usize, len: Option<usize>| {
        DataSpec::new([1, h, w], Vocabulary::emnist(), len)
    };
    let msg = build_err("line-cnn", &[], lines(4, 896, Some(32)));
    assert!(
        msg.contains("line-cnn") && msg.contains("input_shape") && msg.contains("height 4"),
        "{msg}"
    );
    let msg = build_err(
        "line-cnn",
        &[("window_width", "4")],
        lines(28, 896, Some(32)),
    );
    assert!(msg.contains("window_width") && msg.contains('4'), "{msg}");
    let msg = build_err("line-cnn", &[], lines(28, 8, Some(32)));
    assert!(msg.contains("28x8") && msg.contains("window"), "{msg}");
    let msg = build_err(
        "line-cnn",
        &[("limit_output_length", "true")],
        lines(28, 896, None),
    );
    assert!(
        msg.contains("output_len") && msg.contains("limit_output_length"),
        "{msg}"
    );
    let msg = build_err(
        "line-cnn-simple",
        &[("window_width", "1000")],
        lines(28, 896, Some(32)),
    );
    assert!(
        msg.contains("window_width") && msg.contains("1000") && msg.contains("896"),
        "{msg}"
    );
    let msg = build_err(
        "line-cnn-transformer",
        &[("tf_dim", "250"), ("tf_nhead", "4")],
        lines(28, 896, Some(32)),
    );
    assert!(
        msg.contains("tf_dim") && msg.contains("250") && msg.contains("tf_nhead"),
        "{msg}"
    );
    let msg = build_err(
        "line-cnn-transformer",
        &[("tf_dim", "9"), ("tf_nhead", "3")],
        lines(28, 896, Some(32)),
    );
    assert!(msg.contains("tf_dim") && msg.contains("odd"), "{msg}");
    let msg = build_err(
        "resnet-transformer",
        &[("tf_dim", "6"), ("tf_nhead", "2")],
        lines(64, 64, Some(8)),
    );
    assert!(
        msg.contains("tf_dim") && msg.contains("divisible by 4"),
        "{msg}"
    );
    let msg = build_err("line-cnn-transformer", &[], lines(28, 896, None));
    assert!(msg.contains("output_len"), "{msg}");
    let msg = build_err(
        "line-cnn-transformer",
        &[],
        DataSpec::new([1, 28, 896], Vocabulary::digits(), Some(32)),
    );
    assert!(msg.contains("<S>") && msg.contains("10-symbol"), "{msg}");
    let msg = build_err(
        "mlp",
        &[("fc_dropout", "1.0")],
        DataSpec::new([1, 28, 28], Vocabulary::digits(), None),
    );
    assert!(msg.contains("fc_dropout") && msg.contains('1'), "{msg}");
    let msg = build_err(
        "line-cnn-lstm",
        &[("lstm_layers", "0")],
        lines(28, 896, Some(32)),
    );
    assert!(msg.contains("lstm_layers"), "{msg}");
}

#[test]
fn forward_rejects_inputs_of_the_wrong_shape() -> anyhow::Result<()> {
    let spec = default_spec("mlp")?;
    let (_, model) = common::build(&ModelConfig::by_name("mlp")?, &spec)?;
    let msg = model
        .forward(&common::det_images(&[2, 1, 28, 27], 1)?, false)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("mlp") && msg.contains("(B, 1, 28, 28)"),
        "{msg}"
    );
    let spec = DataSpec::new([1, 16, 64], Vocabulary::emnist(), Some(5));
    let mut cfg = ModelConfig::by_name("line-cnn")?;
    cfg.set_str("conv_dim", "2")?;
    let (_, model) = common::build(&cfg, &spec)?;
    // Any width works for line models, the height must match.
    assert_eq!(
        model
            .forward(&common::det_images(&[1, 1, 16, 96], 1)?, false)?
            .dims(),
        &[1, 83, 11]
    );
    assert!(model
        .forward(&common::det_images(&[1, 1, 17, 64], 1)?, false)
        .is_err());
    assert!(
        model
            .decode_greedy(&common::det_images(&[1, 1, 16, 64], 1)?)
            .is_err(),
        "not seq2seq"
    );
    Ok(())
}

#[test]
fn crnn_frames_heights_and_errors() -> anyhow::Result<()> {
    let mut cfg = ModelConfig::by_name("crnn")?;
    cfg.set_str("channels", "[4, 4, 8, 8]")?;
    cfg.set_str("lstm_dim", "8")?;
    cfg.set_str("lstm_layers", "1")?;
    let spec = DataSpec::new([1, 32, 64], Vocabulary::emnist(), Some(8));
    let model = cfg.build(&spec, VarBuilder::zeros(DType::F32, &Device::Cpu))?;
    // One frame per 4 px, whatever the width at run time.
    for w in [64, 100] {
        let x = candle_core::Tensor::zeros((2, 1, 32, w), DType::F32, &Device::Cpu)?;
        assert_eq!(model.forward(&x, false)?.dims(), &[2, 83, w / 4]);
    }
    let bad = DataSpec::new([1, 40, 64], Vocabulary::emnist(), Some(8));
    let err = cfg
        .build(&bad, VarBuilder::zeros(DType::F32, &Device::Cpu))
        .err()
        .expect("40 px is not a multiple of 16")
        .to_string();
    assert!(
        err.contains("multiple of 16") && err.contains("40x64"),
        "{err}"
    );
    Ok(())
}
