//! Caches never serve stale data: the synthetic-line cache key changes with a
//! same-size replacement of any source file, with the seed and with every
//! other content parameter; a corrupt or foreign cache file is regenerated.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use tr_data::datasets::{DataModule, DatasetConfig, EmnistLinesConfig, LineRecipe, Target};
use tr_data::DataDir;

fn fixture_root(root: &Path) -> DataDir {
    common::write_emnist_idx(root, Some(3), 2);
    common::write_brown(root);
    DataDir::new(root).with_cache_dir(root.join("cache"))
}

fn small() -> EmnistLinesConfig {
    EmnistLinesConfig {
        num_train: 12,
        num_val: 4,
        num_test: 6,
        ..EmnistLinesConfig::default()
    }
}

fn recipe(cfg: &DatasetConfig) -> LineRecipe {
    match cfg {
        DatasetConfig::EmnistLines(c) => c.recipe().unwrap(),
        DatasetConfig::EmnistLines2(c) => c.recipe().unwrap(),
        other => panic!("not a line dataset: {other:?}"),
    }
}

fn key(cfg: &DatasetConfig, dir: &DataDir) -> String {
    recipe(cfg).cache_entry(dir).unwrap().key().to_string()
}

fn noted(m: &DataModule, what: &str) -> bool {
    m.notes.iter().any(|n| n.contains(what))
}

/// Texts of all three splits.
fn texts(m: &DataModule) -> Vec<String> {
    [&m.train, &m.val, &m.test]
        .iter()
        .flat_map(|ds| (0..ds.len()).map(move |i| ds.target(i).unwrap()))
        .map(|t| match t {
            Target::Sequence(l) => m.vocab.decode(&l).unwrap(),
            Target::Class(_) => panic!("sequence expected"),
        })
        .collect()
}

/// gzip with stored (uncompressed) blocks: the size depends only on the input length.
fn gzip_stored(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// A zip of stored members: the size depends only on names and content lengths.
fn zip_stored(members: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    for (name, content) in members {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn test_images(root: &Path) -> PathBuf {
    root.join("downloaded/emnist/emnist-byclass-test-images-idx3-ubyte.gz")
}

/// The test split's idx image bytes with every ink pixel set to `ink`.
fn test_idx(ink: Option<u8>) -> Vec<u8> {
    let (mut images, labels) = common::emnist_split(2, 14..28);
    if let Some(v) = ink {
        images.iter_mut().filter(|p| **p > 0).for_each(|p| *p = v);
    }
    common::idx_bytes(&[labels.len(), 28, 28], &images)
}

#[test]
fn same_size_replacement_of_an_emnist_file_is_a_new_key_and_new_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_root(tmp.path());
    let cfg = DatasetConfig::EmnistLines(small());
    let file = test_images(tmp.path());
    std::fs::write(&file, gzip_stored(&test_idx(None))).unwrap();
    let key_a = key(&cfg, &dir);
    let a = cfg.build(&dir).unwrap();
    assert!(noted(&a, "generated"), "{:?}", a.notes);
    assert!(noted(&cfg.build(&dir).unwrap(), "loaded from cache"));

    let replacement = gzip_stored(&test_idx(Some(250)));
    assert_eq!(
        replacement.len() as u64,
        std::fs::metadata(&file).unwrap().len(),
        "the replacement must have the same size"
    );
    std::fs::write(&file, &replacement).unwrap();
    let key_b = key(&cfg, &dir);
    assert_ne!(key_a, key_b, "a same-size replacement must change the key");
    let b = cfg.build(&dir).unwrap();
    assert!(noted(&b, "generated"), "{:?}", b.notes);
    // Test lines use only the test glyphs, whose ink is now 250 everywhere.
    let ink: Vec<u8> = (0..b.test.len())
        .flat_map(|i| b.test.get(i, 0).unwrap().image.into_raw())
        .filter(|&p| p > 0)
        .collect();
    assert!(
        !ink.is_empty() && ink.iter().all(|&p| p >= 250),
        "stale glyphs"
    );
    assert_ne!(
        a.test.get(0, 0).unwrap().image,
        b.test.get(0, 0).unwrap().image
    );
}

#[test]
fn same_size_replacement_of_brown_is_a_new_key_and_new_text() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_root(tmp.path());
    let cfg = DatasetConfig::EmnistLines(small());
    let brown = tmp.path().join("downloaded/brown/brown.zip");
    let corpus = |word: &str| {
        let text = common::brown_member(1, 60).replace("jury/nn", &format!("{word}/nn"));
        zip_stored(&[("brown/ca01", &text), ("brown/cats.txt", "ca01 news")])
    };
    std::fs::write(&brown, corpus("jury")).unwrap();
    let key_a = key(&cfg, &dir);
    let a = cfg.build(&dir).unwrap();
    let other = corpus("fury");
    assert_eq!(other.len() as u64, std::fs::metadata(&brown).unwrap().len());
    std::fs::write(&brown, &other).unwrap();
    assert_ne!(key(&cfg, &dir), key_a);
    let b = cfg.build(&dir).unwrap();
    assert!(noted(&b, "generated"), "{:?}", b.notes);
    let (ta, tb) = (texts(&a).join(" "), texts(&b).join(" "));
    assert!(
        !tb.contains("jury") && !ta.contains("fury"),
        "{ta:?} / {tb:?}"
    );
    assert_ne!(ta, tb);
}

#[test]
fn every_parameter_and_the_seed_change_the_key_but_augment_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_root(tmp.path());
    // (key, another valid value) for every leaf of each line dataset.
    let changes: [(&str, &[(&str, &str)]); 2] = [
        (
            "emnist-lines",
            &[
                ("max_length", "30"),
                ("min_overlap", "0.1"),
                ("max_overlap", "0.3"),
                ("num_train", "11"),
                ("num_val", "3"),
                ("num_test", "5"),
                ("with_start_end_tokens", "true"),
                ("seed", "43"),
            ],
        ),
        (
            "emnist-lines2",
            &[
                ("max_length", "40"),
                ("min_overlap", "0.25"),
                ("max_overlap", "0.45"),
                ("num_train", "11"),
                ("num_val", "3"),
                ("num_test", "5"),
                ("seed", "7"),
            ],
        ),
    ];
    let mut all_keys = Vec::new();
    for (name, fields) in changes {
        let mut base = DatasetConfig::by_name(name).unwrap();
        for (k, v) in [("num_train", "12"), ("num_val", "4"), ("num_test", "6")] {
            base.set_str(k, v).unwrap();
        }
        let base_key = key(&base, &dir);
        all_keys.push(base_key.clone());
        let mut covered: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        for (field, value) in fields {
            let mut changed = base.clone();
            changed.set_str(field, value).unwrap();
            let k = key(&changed, &dir);
            assert_ne!(k, base_key, "{name}.{field} = {value} must change the key");
            all_keys.push(k);
        }
        if name == "emnist-lines2" {
            let mut plain = base.clone();
            plain.set_str("augment", "false").unwrap();
            assert_eq!(
                key(&plain, &dir),
                base_key,
                "augmenting happens after the cache"
            );
            covered.push("augment");
        }
        let mut leaves = base.keys();
        leaves.sort();
        covered.sort();
        assert_eq!(leaves, covered, "{name}: a parameter without a key test");
    }
    let distinct: std::collections::BTreeSet<_> = all_keys.iter().collect();
    assert_eq!(distinct.len(), all_keys.len(), "{all_keys:?}");
}

#[test]
fn foreign_or_garbage_cache_files_are_regenerated_not_used() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_root(tmp.path());
    let a = DatasetConfig::EmnistLines(small());
    let mut seeded = small();
    seeded.seed = 5;
    let b = DatasetConfig::EmnistLines(seeded);
    let ma = a.build(&dir).unwrap();
    let mb = b.build(&dir).unwrap();
    assert_ne!(texts(&ma), texts(&mb), "the seed changes the lines");
    let path_a = recipe(&a).cache_entry(&dir).unwrap().path().to_path_buf();
    let path_b = recipe(&b).cache_entry(&dir).unwrap().path().to_path_buf();

    // B's valid file under A's name: written for other parameters.
    std::fs::copy(&path_b, &path_a).unwrap();
    let again = a.build(&dir).unwrap();
    assert!(noted(&again, "other parameters"), "{:?}", again.notes);
    assert_eq!(texts(&again), texts(&ma));

    // Garbage of any kind.
    for junk in [&b""[..], b"not a safetensors file", &[0xff; 64][..]] {
        std::fs::write(&path_a, junk).unwrap();
        let again = a.build(&dir).unwrap();
        assert!(noted(&again, "unusable"), "{:?}", again.notes);
        assert_eq!(texts(&again), texts(&ma));
    }
    assert!(noted(&a.build(&dir).unwrap(), "loaded from cache"));
}
