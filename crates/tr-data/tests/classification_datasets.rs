//! `emnist` and `mnist` built from fixture folders: sources, orientation,
//! label offsets, balancing, carving, notes and errors.

mod common;

use std::path::Path;

use tr_data::datasets::{Balance, DataModule, DatasetConfig, EmnistConfig, MnistConfig, Target};
use tr_data::{DataDir, Vocabulary};

/// Checks every sample of a split: label is an EMNIST class (vocab index
/// 4..66) and the glyph is upright with that class's ink on `rows`.
fn check_split(m: &DataModule, split: &str, rows: std::ops::Range<usize>) -> usize {
    let ds = match split {
        "train" => &m.train,
        "val" => &m.val,
        _ => &m.test,
    };
    for i in 0..ds.len() {
        let s = ds.get(i, 0).unwrap();
        let Target::Class(label) = s.target else {
            panic!("class target expected")
        };
        assert!((4..66).contains(&label), "label {label}");
        assert_eq!(ds.target(i).unwrap(), Target::Class(label));
        let class = label - 4;
        let px = |x: u32, y: u32| s.image.get_pixel(x, y).0[0];
        assert_eq!(s.image.dimensions(), (28, 28));
        // Upright: a horizontal band on `rows`, 20 px wide from the left.
        assert_eq!(px(19, rows.start as u32), common::ink(class), "{split} {i}");
        assert_eq!(px(20, rows.start as u32), 0, "{split} {i}");
        assert_eq!(px(0, (rows.start as u32 + 14) % 28), 0, "{split} {i}");
    }
    ds.len()
}

#[test]
fn emnist_from_test_only_idx_carves_seeded_splits_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    common::write_emnist_idx(tmp.path(), None, 10);
    let dir = DataDir::new(tmp.path());
    let cfg = EmnistConfig {
        balance: Balance::None,
        ..EmnistConfig::default()
    };
    let m = cfg.build(&dir).unwrap();
    assert_eq!(m.name, "emnist");
    assert_eq!(m.vocab, Vocabulary::emnist());
    assert_eq!(m.input_shape, [1, 28, 28]);
    let pool = m.pool.clone().unwrap();
    assert_eq!((pool.samples, pool.classes), (620, 62));
    // 620 → test round-down 20 % = 124, rest 496 → train floor(0.8·496) = 396, val 100.
    assert_eq!((m.train.len(), m.val.len(), m.test.len()), (396, 100, 124));
    for (split, n) in [("train", 396), ("val", 100), ("test", 124)] {
        assert_eq!(check_split(&m, split, 14..28), n);
    }
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("carved from the official test split")),
        "{:?}",
        m.notes
    );

    // Seeded: the same config gives the same order, another seed another one.
    let again = cfg.build(&dir).unwrap();
    let labels = |m: &DataModule| {
        (0..m.train.len())
            .map(|i| m.train.target(i).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(labels(&m), labels(&again));
    let other = EmnistConfig { seed: 7, ..cfg }.build(&dir).unwrap();
    assert_ne!(labels(&m), labels(&other));
}

#[test]
fn emnist_course_balancing_caps_classes() {
    let tmp = tempfile::tempdir().unwrap();
    common::write_emnist_idx(tmp.path(), None, 10);
    let m = EmnistConfig::default()
        .build(&DataDir::new(tmp.path()))
        .unwrap();
    let total = m.train.len() + m.val.len() + m.test.len();
    // cap = 620 / 62 = 10 draws with replacement per class of 10: ~6.5 distinct each.
    assert!(total < 620 && total > 300, "{total}");
    assert!(
        m.notes.iter().any(|n| n.contains("class balancing")),
        "{:?}",
        m.notes
    );
}

#[test]
fn emnist_mat_and_idx_give_the_same_upright_glyphs() {
    let tmp = tempfile::tempdir().unwrap();
    let idx_root = tmp.path().join("idx");
    common::write_emnist_idx(&idx_root, Some(4), 2);
    let cfg = EmnistConfig {
        balance: Balance::None,
        ..EmnistConfig::default()
    };
    let from_idx = cfg.build(&DataDir::new(&idx_root)).unwrap();
    assert!(
        from_idx.notes[0].contains("official train + test idx"),
        "{:?}",
        from_idx.notes
    );
    for compress in [false, true] {
        let mat_root = tmp.path().join(format!("mat-{compress}"));
        common::write_emnist_mat(&mat_root, 4, 2, compress);
        let from_mat = cfg.build(&DataDir::new(&mat_root)).unwrap();
        assert!(
            from_mat.notes[0].contains("emnist-byclass.mat"),
            "{:?}",
            from_mat.notes
        );
        // Official train (248) → 198 train / 50 val; official test (124) is the test set.
        assert_eq!(
            (
                from_mat.train.len(),
                from_mat.val.len(),
                from_mat.test.len()
            ),
            (198, 50, 124)
        );
        assert_eq!(from_mat.pool.as_ref().unwrap().samples, 372);
        check_split(&from_mat, "train", 0..14);
        check_split(&from_mat, "val", 0..14);
        check_split(&from_mat, "test", 14..28);
        for i in [0, 17, 123] {
            let a = from_mat.test.get(i, 0).unwrap();
            let b = from_idx.test.get(i, 0).unwrap();
            assert_eq!(a.image, b.image);
            assert_eq!(a.target, b.target);
        }
    }
}

#[test]
fn emnist_mat_inside_matlab_zip_is_read_directly() {
    let tmp = tempfile::tempdir().unwrap();
    let w = common::mat_writer::MatWriter {
        big_endian: false,
        compress: true,
    };
    let mat = w.file(&[("dataset", common::emnist_mat_value(2, 1))]);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "matlab/emnist-byclass.mat",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(&mut zip, &mat).unwrap();
    common::write(
        &tmp.path().join("emnist/matlab.zip"),
        &zip.finish().unwrap().into_inner(),
    );
    // Found through the `<root>/<name>/` fallback.
    let m = DatasetConfig::by_name("emnist")
        .unwrap()
        .build(&DataDir::new(tmp.path()))
        .unwrap();
    assert!(m.notes[0].contains("matlab.zip"), "{:?}", m.notes);
    assert_eq!(m.pool.unwrap().samples, 186);
}

#[test]
fn emnist_errors_name_files_and_fixes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::new(tmp.path());
    let err = EmnistConfig::default().build(&dir).unwrap_err().to_string();
    assert!(
        err.contains("missing data") && err.contains("cargo xtask download emnist"),
        "{err}"
    );

    common::write_emnist_idx(tmp.path(), None, 2);
    let mapping = tmp
        .path()
        .join("downloaded/emnist/emnist-byclass-mapping.txt");
    // Swap two entries: 'A' and 'B' no longer match vocabulary indices 14 and 15.
    let text = common::mapping_text().replace("10 65\n11 66\n", "10 66\n11 65\n");
    common::write(&mapping, text.as_bytes());
    let err = EmnistConfig::default().build(&dir).unwrap_err().to_string();
    assert!(err.contains("emnist-byclass-mapping.txt"), "{err}");
    assert!(
        err.contains("mapping entry 10 is 'B'") && err.contains("index 14"),
        "{err}"
    );

    // A label the mapping does not list.
    let short: String = common::mapping_text()
        .lines()
        .take(61)
        .map(|l| format!("{l}\n"))
        .collect();
    common::write(&mapping, short.as_bytes());
    let err = EmnistConfig::default().build(&dir).unwrap_err().to_string();
    assert!(
        err.contains("labels-idx1-ubyte.gz") && err.contains("label 61"),
        "{err}"
    );

    let bad = EmnistConfig {
        train_frac: 1.5,
        ..EmnistConfig::default()
    };
    let err = bad.build(&dir).unwrap_err().to_string();
    assert!(
        err.contains("emnist.train_frac") && err.contains("1.5"),
        "{err}"
    );
}

fn write_mnist(root: &Path, train: Option<usize>, test: usize) {
    let dir = root.join("mnist");
    let mut splits = vec![("t10k", test)];
    if let Some(n) = train {
        splits.push(("train", n));
    }
    for (name, n) in splits {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images: Vec<u8> = labels.iter().flat_map(|&l| vec![l * 20 + 1; 784]).collect();
        common::write(
            &dir.join(format!("{name}-images-idx3-ubyte.gz")),
            &common::gzip(&common::idx_bytes(&[n, 28, 28], &images)),
        );
        common::write(
            &dir.join(format!("{name}-labels-idx1-ubyte")),
            &common::idx_bytes(&[n], &labels),
        );
    }
}

#[test]
fn mnist_official_and_carved_splits() {
    let tmp = tempfile::tempdir().unwrap();
    write_mnist(tmp.path(), None, 100);
    let dir = DataDir::new(tmp.path());
    let m = MnistConfig::default().build(&dir).unwrap();
    assert_eq!((m.train.len(), m.val.len(), m.test.len()), (70, 10, 20));
    assert_eq!(m.vocab, Vocabulary::digits());
    assert!(m.notes[0].contains("carved from t10k"), "{:?}", m.notes);
    for i in 0..m.train.len() {
        let s = m.train.get(i, 0).unwrap();
        let Target::Class(l) = s.target else { panic!() };
        assert_eq!(s.image.get_pixel(3, 5).0[0], l as u8 * 20 + 1);
    }

    write_mnist(tmp.path(), Some(60), 100);
    let cfg = MnistConfig {
        val_size: 6,
        ..MnistConfig::default()
    };
    let m = cfg.build(&dir).unwrap();
    assert_eq!((m.train.len(), m.val.len(), m.test.len()), (54, 6, 100));
    assert_eq!(m.pool.unwrap().samples, 160);
    let err = MnistConfig::default().build(&dir).unwrap_err().to_string();
    assert!(
        err.contains("mnist.val_size") && err.contains("5000"),
        "{err}"
    );
}
