use super::*;

fn ov(pairs: &[(&str, &str)]) -> Vec<Override> {
    pairs
        .iter()
        .map(|(k, v)| Override {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect()
}

fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let p = dir.path().join("c.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn defaults_are_line_cnn_ctc_on_emnist_lines() {
    let cfg = RunConfig::load(None, &[]).unwrap();
    assert_eq!(cfg.model.name(), "line-cnn");
    assert_eq!(cfg.data.dataset.name(), "emnist-lines");
    assert_eq!(cfg.trainer.optimizer.lr(), 1e-3);
}

#[test]
fn overrides_reach_nested_keys_and_parse_types() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "data: {dataset: emnist-lines}\nmodel: {name: line-cnn}\n",
    );
    let cfg = RunConfig::load(
        Some(&p),
        &ov(&[
            ("model.window_stride", "18"),
            ("data.max_overlap", "0.5"),
            ("trainer.max_epochs", "3"),
            ("trainer.optimizer.name", "sgd"),
            ("trainer.optimizer.momentum", "0.9"),
            ("trainer.limit_train_batches", "0.25"),
        ]),
    )
    .unwrap();
    let model = serde_json::to_value(&cfg.model).unwrap();
    assert_eq!(model["window_stride"], 18);
    let data = serde_json::to_value(&cfg.data).unwrap();
    assert_eq!(data["max_overlap"], 0.5);
    assert_eq!(cfg.trainer.max_epochs, 3);
    assert!(
        matches!(cfg.trainer.optimizer, crate::optim::OptimizerConfig::Sgd(crate::optim::SgdConfig { momentum, .. }) if momentum == 0.9)
    );
    assert_eq!(
        cfg.trainer.limit_train_batches,
        crate::trainer_config::Limit::Fraction(0.25)
    );
}

#[test]
fn unknown_keys_name_the_key_and_list_valid_ones() {
    let e = RunConfig::load(None, &ov(&[("data.max_overlapp", "0.3")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("data.max_overlapp") && e.contains("max_overlap") && e.contains("batch_size"),
        "{e}"
    );
    let e = RunConfig::load(None, &ov(&[("trainer.max_epoch", "3")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("trainer.max_epoch") && e.contains("max_epochs"),
        "{e}"
    );
    let e = RunConfig::load(None, &ov(&[("modle.x", "3")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("modle") && e.contains("top level"), "{e}");
    let e = RunConfig::load(None, &ov(&[("trainer.optimizer.name", "adamx")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("adamw") && e.contains("sgd"), "{e}");
}

#[test]
fn wrong_types_name_the_key() {
    let e = RunConfig::load(None, &ov(&[("trainer.max_epochs", "ten")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("trainer.max_epochs"), "{e}");
    let e = RunConfig::load(None, &ov(&[("trainer.limit_train_batches", "2.5")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("trainer.limit_train_batches"), "{e}");
}

#[test]
fn seq2seq_models_turn_on_start_end_tokens() {
    let cfg = RunConfig::load(None, &ov(&[("model.name", "line-cnn-transformer")])).unwrap();
    let data = serde_json::to_value(&cfg.data).unwrap();
    assert_eq!(data["with_start_end_tokens"], true);
    let e = RunConfig::load(
        None,
        &ov(&[
            ("model.name", "line-cnn-transformer"),
            ("data.dataset", "mnist"),
        ]),
    );
    assert!(e.is_err());
}

#[test]
fn resolved_yaml_round_trips() {
    let cfg = RunConfig::load(None, &ov(&[("trainer.gradient_clip_val", "1.0")])).unwrap();
    let yaml = cfg.to_yaml().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, &yaml);
    assert_eq!(RunConfig::load(Some(&p), &[]).unwrap(), cfg);
}

#[test]
fn override_args_parse() {
    let args: Vec<String> = ["--a.b", "1", "--c=x"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        Override::parse_args(&args).unwrap(),
        ov(&[("a.b", "1"), ("c", "x")])
    );
    assert!(Override::parse_args(&["--a".to_string()]).is_err());
    assert!(Override::parse_args(&["a".to_string(), "1".to_string()]).is_err());
}

#[test]
fn every_lab_config_in_the_repo_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut n = 0;
    for lab in std::fs::read_dir(&root).unwrap() {
        let lab = lab.unwrap().path();
        if !lab.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&lab).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "yaml") {
                // configs/segmenter/ holds segmenter configs (`htr segment-train`).
                if lab.file_name().is_some_and(|n| n == "segmenter") {
                    crate::SegmenterConfig::load(&f)
                        .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                } else {
                    RunConfig::load(Some(&f), &[])
                        .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                }
                n += 1;
            }
        }
    }
    assert!(n >= 10, "only {n} lab configs found");
}

#[test]
fn optimizer_settings_without_a_name_use_the_default_optimizer() {
    let path = std::env::temp_dir().join(format!("tr-opt-{}.yaml", std::process::id()));
    std::fs::write(&path, "name: x\n").unwrap();
    let cfg = RunConfig::load(Some(&path), &ov(&[("trainer.optimizer.lr", "0.003")])).unwrap();
    assert_eq!(cfg.trainer.optimizer.lr(), 0.003);
    let cfg = RunConfig::load(
        None,
        &ov(&[
            ("trainer.optimizer.name", "sgd"),
            ("trainer.scheduler.name", "one-cycle"),
            ("trainer.scheduler.max_lr", "0.01"),
        ]),
    )
    .unwrap();
    let yaml = cfg.to_yaml().unwrap();
    assert!(
        yaml.contains("name: sgd") && yaml.contains("max_lr: 0.01"),
        "{yaml}"
    );
    std::fs::remove_file(path).ok();
}

/// Each variant's registry default (the reference of valid keys) is what serde
/// fills in for a section giving only the name and the fields without a default.
fn check_registry_defaults<R: tr_data::registry::Registry + PartialEq + std::fmt::Debug>() {
    for name in R::NAMES {
        let full = R::reference(name).unwrap();
        let mut minimal = full.clone();
        for key in full.as_object().unwrap().keys() {
            let mut without = minimal.clone();
            without.as_object_mut().unwrap().remove(key);
            if serde_json::from_value::<R>(without.clone()).is_ok() {
                minimal = without;
            }
        }
        let parsed: R = serde_json::from_value(minimal).unwrap();
        assert_eq!(parsed, R::by_name(name).unwrap(), "{name}");
    }
}

#[test]
fn registry_defaults_are_the_serde_defaults() {
    check_registry_defaults::<crate::optim::OptimizerConfig>();
    check_registry_defaults::<crate::schedule::SchedulerConfig>();
    check_registry_defaults::<DatasetConfig>();
    check_registry_defaults::<ModelConfig>();
}

#[test]
fn scheduler_keys_come_from_the_chosen_variant_and_required_fields_stay_required() {
    let e = RunConfig::load(None, &ov(&[("trainer.scheduler.name", "one-cycle")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("trainer.scheduler") && e.contains("max_lr"),
        "{e}"
    );
    let e = RunConfig::load(
        None,
        &ov(&[
            ("trainer.scheduler.name", "cosine"),
            ("trainer.scheduler.total_steps", "10"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("warmup_steps"), "{e}");
    let e = RunConfig::load(
        None,
        &ov(&[
            ("trainer.scheduler.name", "one-cycle"),
            ("trainer.scheduler.max_lrr", "0.1"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("trainer.scheduler.max_lrr")
            && e.contains(
                "div_factor, final_div_factor, interval, max_lr, name, pct_start, total_steps"
            ),
        "{e}"
    );
    let e = RunConfig::load(None, &ov(&[("trainer.optimizer.nesterov", "true")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("trainer.optimizer.nesterov")
            && e.contains("betas, eps, lr, name, weight_decay"),
        "{e}"
    );
}

#[test]
fn seq2seq_models_switch_on_nested_and_mixture_start_end_tokens() {
    let dir = tempfile::tempdir().unwrap();
    // The course's paragraph data: the flag sits under synthetic.paragraphs.text.
    let p = write(
        &dir,
        "data: {dataset: iam-original-and-synthetic-paragraphs}\nmodel: {name: resnet-transformer}\n",
    );
    let cfg = RunConfig::load(Some(&p), &[]).unwrap();
    let data = serde_json::to_value(&cfg.data).unwrap();
    assert_eq!(
        data["synthetic"]["paragraphs"]["text"]["with_start_end_tokens"],
        true
    );
    // A mixture of page paragraphs and synthetic paragraphs: each part's
    // shallowest flag, not the synthetic part's line dataset.
    let p = write(
        &dir,
        "data:\n  dataset: mixture\n  parts:\n    - {weight: 1.0, data: {dataset: page-paragraphs}}\n    - {weight: 1.0, eval: false, data: {dataset: synthetic-paragraphs, lines: {dataset: page-lines}}}\nmodel: {name: resnet-transformer}\n",
    );
    let cfg = RunConfig::load(Some(&p), &[]).unwrap();
    let data = serde_json::to_value(&cfg.data).unwrap();
    assert_eq!(
        data["parts"][0]["data"]["text"]["with_start_end_tokens"],
        true
    );
    assert_eq!(data["parts"][1]["data"]["with_start_end_tokens"], true);
    assert_eq!(
        data["parts"][1]["data"]["lines"]["text"]["with_start_end_tokens"],
        false
    );
    // A dataset with no such flag is still refused.
    let p = write(
        &dir,
        "data: {dataset: mnist}\nmodel: {name: resnet-transformer}\n",
    );
    let e = RunConfig::load(Some(&p), &[]).unwrap_err().to_string();
    assert!(e.contains("no start/end tokens"), "{e}");
}
