//! The dataset registry: names, defaults, serde round trips, `set` errors,
//! and the fake-images dataset (which needs no files).

use tr_data::datasets::{
    Balance, DatasetConfig, EmnistConfig, EmnistLines2Config, EmnistLinesConfig, FakeImagesConfig,
    FakeTarget, Target, TargetKind,
};
use tr_data::DataDir;

#[test]
fn names_round_trip_through_by_name() {
    assert_eq!(
        DatasetConfig::names(),
        &[
            "mnist",
            "emnist",
            "emnist-lines",
            "emnist-lines2",
            "fake-images",
            "page-lines",
            "page-paragraphs",
            "mixture",
            "font-lines",
            "synthetic-paragraphs",
            "iam-lines",
            "iam-paragraphs",
            "iam-synthetic-paragraphs",
            "iam-original-and-synthetic-paragraphs"
        ]
    );
    for &name in DatasetConfig::names() {
        let cfg = DatasetConfig::by_name(name).unwrap();
        assert_eq!(cfg.name(), name);
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(json["dataset"], name);
        let back: DatasetConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, cfg);
    }
    let err = DatasetConfig::by_name("emnist_lines")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"emnist_lines\"")
            && err.contains("mnist, emnist, emnist-lines, emnist-lines2, fake-images, page-lines"),
        "{err}"
    );
}

#[test]
fn defaults_are_the_course_values() {
    let l = EmnistLinesConfig::default();
    assert_eq!(
        (l.max_length, l.min_overlap, l.max_overlap),
        (32, 0.0, 0.33)
    );
    assert_eq!((l.num_train, l.num_val, l.num_test), (10_000, 2_000, 2_000));
    assert!(!l.with_start_end_tokens);
    let l2 = EmnistLines2Config::default();
    assert_eq!(
        (l2.max_length, l2.min_overlap, l2.max_overlap, l2.augment),
        (43, 0.2, 0.5, true)
    );
    let e = EmnistConfig::default();
    assert_eq!(
        (e.balance, e.train_frac, e.seed),
        (Balance::Course, 0.8, 42)
    );
    let f = FakeImagesConfig::default();
    assert_eq!(
        (f.num_samples, f.image_height, f.image_width, f.num_classes),
        (512, 28, 28, 10)
    );
}

#[test]
fn yaml_configs_fill_defaults_and_reject_unknown_fields() {
    let cfg: DatasetConfig =
        serde_yaml::from_str("dataset: emnist-lines\nmax_length: 20\n").unwrap();
    let DatasetConfig::EmnistLines(l) = &cfg else {
        panic!("{cfg:?}")
    };
    assert_eq!(l.max_length, 20);
    assert_eq!(l.max_overlap, 0.33);
    let err = serde_yaml::from_str::<DatasetConfig>("dataset: emnist\nbalanse: cap\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("balanse"), "{err}");
    let err = serde_yaml::from_str::<DatasetConfig>("dataset: imagenet\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("imagenet"), "{err}");
}

#[test]
fn set_parses_values_and_explains_mistakes() {
    let mut cfg = DatasetConfig::by_name("emnist-lines").unwrap();
    cfg.set_str("max_overlap", "0.25").unwrap();
    cfg.set_str("with_start_end_tokens", "true").unwrap();
    cfg.set_str("min_overlap", "0").unwrap();
    let DatasetConfig::EmnistLines(l) = &cfg else {
        panic!()
    };
    assert_eq!(
        (l.max_overlap, l.min_overlap, l.with_start_end_tokens),
        (0.25, 0.0, true)
    );

    let err = cfg.set_str("max_lenght", "3").unwrap_err().to_string();
    assert!(
        err.contains("emnist-lines.max_lenght") && err.contains("unknown key"),
        "{err}"
    );
    assert!(
        err.contains("max_length") && err.contains("num_train") && err.contains("seed"),
        "{err}"
    );

    let err = cfg.set_str("max_length", "long").unwrap_err().to_string();
    assert!(err.contains("emnist-lines.max_length"), "{err}");
    assert!(
        err.contains("expected a non-negative integer") && err.contains("\"long\""),
        "{err}"
    );
    let err = cfg
        .set_str("with_start_end_tokens", "yes")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected true or false") && err.contains("\"yes\""),
        "{err}"
    );
    assert!(cfg.set_str("dataset", "mnist").is_err());

    let mut e = DatasetConfig::by_name("emnist").unwrap();
    e.set_str("balance", "cap").unwrap();
    assert_eq!(
        e,
        DatasetConfig::Emnist(EmnistConfig {
            balance: Balance::Cap,
            ..EmnistConfig::default()
        })
    );
    let err = e.set_str("balance", "half").unwrap_err().to_string();
    assert!(
        err.contains("emnist.balance") && err.contains("\"half\"") && err.contains("course"),
        "{err}"
    );
    assert_eq!(
        e.keys(),
        vec!["balance", "carve_test_frac", "seed", "train_frac"]
    );
}

#[test]
fn fake_images_are_seeded_with_course_split_sizes() {
    let dir = DataDir::new("/nonexistent");
    let m = DatasetConfig::by_name("fake-images")
        .unwrap()
        .build(&dir)
        .unwrap();
    assert_eq!((m.train.len(), m.val.len(), m.test.len()), (256, 128, 128));
    assert_eq!(m.target_kind, TargetKind::Class);
    assert_eq!(m.vocab.len(), 10);
    let a = m.train.get(3, 0).unwrap();
    let b = m.train.get(3, 99).unwrap();
    assert_eq!(a.image, b.image);
    assert_eq!(a.target, b.target);
    assert_ne!(a.image, m.train.get(4, 0).unwrap().image);
    let Target::Class(c) = a.target else { panic!() };
    assert!(c < 10);
    assert!(m.test.get(128, 0).is_err());

    let seq = FakeImagesConfig {
        target: FakeTarget::Sequence,
        num_classes: 5,
        sequence_length: 8,
        image_width: 64,
        ..FakeImagesConfig::default()
    }
    .build()
    .unwrap();
    assert_eq!(seq.input_shape, [1, 28, 64]);
    assert_eq!(seq.output_len, Some(8));
    for i in 0..20 {
        let Target::Sequence(l) = seq.val.get(i, 0).unwrap().target else {
            panic!()
        };
        assert_eq!(l.len(), 8);
        assert_eq!(l[0], seq.vocab.start().unwrap());
        let text = seq.vocab.decode(&l).unwrap();
        assert!(
            !text.is_empty() && text.len() <= 6 && text.chars().all(|c| ('0'..='4').contains(&c)),
            "{text}"
        );
    }
    let err = FakeImagesConfig {
        num_samples: 3,
        ..FakeImagesConfig::default()
    }
    .build()
    .unwrap_err()
    .to_string();
    assert!(err.contains("fake-images.num_samples"), "{err}");
}
