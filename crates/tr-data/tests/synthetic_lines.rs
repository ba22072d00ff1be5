//! Synthetic lines: sentence generator bounds, glyph geometry, saturation,
//! split hygiene, caching (hit, key changes, corruption) and determinism.

mod common;

use std::path::Path;
use std::sync::Arc;

use tr_data::datasets::ImageSet;
use tr_data::datasets::SentenceGenerator;
use tr_data::datasets::{render_line, synthesize_lines, GlyphPool, LineGeometry};
use tr_data::datasets::{DataModule, DatasetConfig, EmnistLines2Config, EmnistLinesConfig, Target};
use tr_data::readers::read_brown_zip;
use tr_data::rng_for;
use tr_data::{DataDir, Vocabulary};

/// A data root with EMNIST (train ink rows 0..14, test ink rows 14..28) and Brown.
fn fixture_root(root: &Path) -> DataDir {
    common::write_emnist_idx(root, Some(3), 2);
    common::write_brown(root);
    DataDir::new(root).with_cache_dir(root.join("cache"))
}

fn small_lines() -> EmnistLinesConfig {
    EmnistLinesConfig {
        num_train: 24,
        num_val: 6,
        num_test: 8,
        ..EmnistLinesConfig::default()
    }
}

fn texts(m: &DataModule, split: &str) -> Vec<String> {
    let ds = match split {
        "train" => &m.train,
        "val" => &m.val,
        _ => &m.test,
    };
    (0..ds.len())
        .map(|i| match ds.target(i).unwrap() {
            Target::Sequence(l) => m.vocab.decode(&l).unwrap(),
            Target::Class(_) => panic!("sequence expected"),
        })
        .collect()
}

#[test]
fn sentence_generator_respects_bounds_and_word_boundaries() {
    let tmp = tempfile::tempdir().unwrap();
    common::write_brown(tmp.path());
    let corpus = read_brown_zip(&tmp.path().join("downloaded/brown/brown.zip")).unwrap();
    let text = corpus.text();
    let g = SentenceGenerator::new(text.clone(), 30).unwrap();
    let mut rng = rng_for(3, &[]);
    for _ in 0..500 {
        let s = g.generate(&mut rng).unwrap();
        assert!(!s.is_empty() && s.len() <= 29, "{s:?}");
        assert_eq!(s.trim(), s);
        assert!(!s.contains("  "));
        let at = text.match_indices(&s).map(|(i, _)| i).find(|&i| {
            (i == 0 || text.as_bytes()[i - 1] == b' ')
                && text.as_bytes().get(i + s.len()).is_none_or(|&b| b == b' ')
        });
        assert!(at.is_some(), "{s:?} is not a word-aligned slice");
    }
}

#[test]
fn glyph_positions_saturation_and_one_glyph_per_distinct_char() {
    let vocab = Vocabulary::emnist();
    let a = vocab.char_index('a').unwrap();
    let b = vocab.char_index('b').unwrap();
    // Three 'a' glyphs (ink 200, 201, 202) and one 'b' (ink 100), full 28×28 blocks.
    let labels = vec![a, a, a, b];
    let pixels: Vec<u8> = [200u8, 201, 202, 100]
        .iter()
        .flat_map(|&v| vec![v; 784])
        .collect();
    let set = ImageSet::new(28, 28, pixels, labels).unwrap();
    let pool = GlyphPool::new(&set, &[0, 1, 2, 3], &vocab);
    let geom = LineGeometry {
        height: 28,
        width: 28 * 8,
        x_start: 0,
        min_overlap: 0.25,
        max_overlap: 0.25,
    };
    let mut canvas = vec![0u8; 28 * 28 * 8];
    let placed = render_line("ab a ba", &pool, &geom, &mut rng_for(9, &[]), &mut canvas).unwrap();
    // Step = 28 - floor(0.25 · 28) = 21 px.
    let xs: Vec<usize> = placed.iter().map(|p| p.x).collect();
    assert_eq!(xs, vec![0, 21, 42, 63, 84, 105, 126]);
    let a_glyphs: Vec<_> = placed
        .iter()
        .filter(|p| p.ch == 'a')
        .map(|p| p.glyph)
        .collect();
    assert!(
        a_glyphs.iter().all(|g| *g == a_glyphs[0] && g.is_some()),
        "{a_glyphs:?}"
    );
    assert!(placed
        .iter()
        .filter(|p| p.ch == ' ')
        .all(|p| p.glyph.is_none()));
    let a_ink = 200 + a_glyphs[0].unwrap() as u8;
    let px = |x: usize, y: usize| canvas[y * 28 * 8 + x];
    assert_eq!(px(5, 10), a_ink);
    // 'a' (≥ 200) + 'b' (100) overlap on x 21..28: saturates at 255 instead of wrapping.
    assert_eq!(px(24, 3), 255);
    assert_eq!(px(30, 3), 100);
    // The space at x 42 pastes nothing: between 'b' (ends 49) and 'a' at 63 only 'b' ink.
    assert_eq!(px(55, 0), 0);
    assert_eq!(px(28 * 8 - 1, 0), 0);
}

#[test]
fn generation_is_deterministic_and_independent_of_thread_count() {
    let vocab = Vocabulary::emnist();
    let chars: Vec<char> = "abcdefgh".chars().collect();
    let labels: Vec<u32> = chars
        .iter()
        .cycle()
        .take(40)
        .map(|&c| vocab.char_index(c).unwrap())
        .collect();
    let pixels: Vec<u8> = (0..40 * 784).map(|i| (i * 7 % 251) as u8).collect();
    let set = ImageSet::new(28, 28, pixels, labels).unwrap();
    let idx: Vec<usize> = (0..40).collect();
    let pool = GlyphPool::new(&set, &idx, &vocab);
    let sentences =
        SentenceGenerator::new("ab cd ef gh abc def gha bcd efg hab cde fgh ".repeat(5), 20)
            .unwrap();
    let geom = LineGeometry {
        height: 28,
        width: 28 * 22,
        x_start: 0,
        min_overlap: 0.0,
        max_overlap: 0.33,
    };
    let run = |threads: usize| {
        let pool_threads = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool_threads.install(|| synthesize_lines(50, 1, 42, &sentences, &pool, &geom).unwrap())
    };
    let one = run(1);
    let three = run(3);
    assert_eq!(one, three);
    assert_ne!(
        one.0,
        synthesize_lines(50, 1, 43, &sentences, &pool, &geom)
            .unwrap()
            .0
    );
    assert_ne!(
        one.0,
        synthesize_lines(50, 2, 42, &sentences, &pool, &geom)
            .unwrap()
            .0
    );
}

#[test]
fn emnist_lines_build_cache_hit_and_split_hygiene() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_root(tmp.path());
    let cfg = small_lines();
    let m = cfg.build(&dir).unwrap();
    assert_eq!(m.name, "emnist-lines");
    assert_eq!(m.input_shape, [1, 28, 896]);
    assert_eq!(m.output_len, Some(32));
    assert_eq!((m.train.len(), m.val.len(), m.test.len()), (24, 6, 8));
    assert!(
        m.notes.iter().any(|n| n.contains("generated")),
        "{:?}",
        m.notes
    );

    for split in ["train", "val", "test"] {
        for t in texts(&m, split) {
            assert!(!t.is_empty() && t.len() <= 29, "{t:?}");
            assert!(
                t.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '),
                "{t:?}"
            );
        }
    }
    // Train/val glyphs have ink on rows 0..14 only, test glyphs on rows 14..28 only.
    let ink_rows = |img: &image::GrayImage| -> (bool, bool) {
        let top = img.enumerate_pixels().any(|(_, y, p)| y < 14 && p.0[0] > 0);
        let bottom = img
            .enumerate_pixels()
            .any(|(_, y, p)| y >= 14 && p.0[0] > 0);
        (top, bottom)
    };
    for i in 0..m.test.len() {
        assert_eq!(
            ink_rows(&m.test.get(i, 0).unwrap().image),
            (false, true),
            "test line {i}"
        );
    }
    for i in 0..m.train.len() {
        assert_eq!(
            ink_rows(&m.train.get(i, 0).unwrap().image),
            (true, false),
            "train line {i}"
        );
    }
    for i in 0..m.val.len() {
        assert!(!ink_rows(&m.val.get(i, 0).unwrap().image).1, "val line {i}");
    }
    // Labels: no start/end tokens by default, padded with <P> to 32.
    let Target::Sequence(l) = m.train.get(0, 0).unwrap().target else {
        panic!()
    };
    assert_eq!(l.len(), 32);
    assert_ne!(l[0], m.vocab.start().unwrap());
    assert_eq!(*l.last().unwrap(), m.vocab.pad().unwrap());

    // Second build: same bytes, from the cache.
    let again = cfg.build(&dir).unwrap();
    assert!(
        again.notes.iter().any(|n| n.contains("loaded from cache")),
        "{:?}",
        again.notes
    );
    for i in [0, 5, 23] {
        assert_eq!(
            m.train.get(i, 0).unwrap().image,
            again.train.get(i, 0).unwrap().image
        );
    }
    assert_eq!(texts(&m, "test"), texts(&again, "test"));
    let cache_files = |dir: &Path| {
        std::fs::read_dir(dir.join("cache/emnist_lines"))
            .unwrap()
            .count()
    };
    assert_eq!(cache_files(tmp.path()), 1);

    // Any content parameter changes the key.
    let mut other = cfg.clone();
    other.max_overlap = 0.3;
    let m2 = other.build(&dir).unwrap();
    assert!(
        m2.notes.iter().any(|n| n.contains("generated")),
        "{:?}",
        m2.notes
    );
    assert_eq!(cache_files(tmp.path()), 2);
    let mut tokens = cfg.clone();
    tokens.with_start_end_tokens = true;
    let m3 = tokens.build(&dir).unwrap();
    assert_eq!(cache_files(tmp.path()), 3);
    let Target::Sequence(l) = m3.train.get(0, 0).unwrap().target else {
        panic!()
    };
    assert_eq!(l[0], m3.vocab.start().unwrap());
    assert_eq!(texts(&m3, "train"), texts(&m, "train"));
}

#[test]
fn corrupt_or_truncated_cache_is_regenerated_not_used() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_root(tmp.path());
    let cfg = small_lines();
    let m = cfg.build(&dir).unwrap();
    let cache_dir = tmp.path().join("cache/emnist_lines");
    let file = std::fs::read_dir(&cache_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let good = std::fs::read(&file).unwrap();

    // One flipped pixel byte near the end (inside the image data).
    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n - 100] ^= 0xff;
    std::fs::write(&file, &flipped).unwrap();
    let again = cfg.build(&dir).unwrap();
    assert!(
        again
            .notes
            .iter()
            .any(|n| n.contains("unusable") && n.contains("digest mismatch")),
        "{:?}",
        again.notes
    );
    // The regenerated file is valid again (its header's key order may differ from the first).
    let reloaded = cfg.build(&dir).unwrap();
    assert!(
        reloaded
            .notes
            .iter()
            .any(|n| n.contains("loaded from cache")),
        "{:?}",
        reloaded.notes
    );
    for i in 0..m.test.len() {
        assert_eq!(
            m.test.get(i, 0).unwrap().image,
            again.test.get(i, 0).unwrap().image
        );
    }

    std::fs::write(&file, &good[..good.len() / 2]).unwrap();
    let third = cfg.build(&dir).unwrap();
    assert!(
        third.notes.iter().any(|n| n.contains("unusable")),
        "{:?}",
        third.notes
    );
    assert_eq!(texts(&third, "train"), texts(&m, "train"));
    assert_eq!(std::fs::read(&file).unwrap().len(), good.len());
}

#[test]
fn emnist_lines2_geometry_tokens_and_train_only_augmentation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture_root(tmp.path());
    let mut cfg = DatasetConfig::by_name("emnist-lines2").unwrap();
    for (k, v) in [("num_train", "6"), ("num_val", "4"), ("num_test", "4")] {
        cfg.set_str(k, v).unwrap();
    }
    let m = cfg.build(&dir).unwrap();
    assert_eq!(m.input_shape, [1, 56, 1024]);
    assert_eq!(m.output_len, Some(89));
    let v = &m.vocab;
    for i in 0..m.val.len() {
        let s = m.val.get(i, 0).unwrap();
        assert_eq!(s.image.dimensions(), (1024, 56));
        // Train glyph ink rows 0..14 land on canvas rows 14..28 (centred); 28 px left padding.
        for (x, y, p) in s.image.enumerate_pixels() {
            if p.0[0] > 0 {
                assert!((14..28).contains(&y) && x >= 28, "ink at ({x}, {y})");
            }
        }
        let Target::Sequence(l) = s.target else {
            panic!()
        };
        assert_eq!(l.len(), 89);
        assert_eq!(l[0], v.start().unwrap());
        let text = v.decode(&l).unwrap();
        assert_eq!(l[text.len() + 1], v.end().unwrap());
        // Validation is not augmented: any aug_seed gives the stored image.
        assert_eq!(m.val.get(i, 12345).unwrap().image, s.image);
    }
    // Training images are augmented, deterministically per aug_seed.
    let a = m.train.get(2, 7).unwrap().image;
    assert_eq!(a, m.train.get(2, 7).unwrap().image);
    assert_ne!(a, m.train.get(2, 8).unwrap().image);
    let mut plain = cfg.clone();
    plain.set_str("augment", "false").unwrap();
    let unaug = plain.build(&dir).unwrap();
    assert!(
        unaug.notes.iter().any(|n| n.contains("loaded from cache")),
        "augment must not change the cache key"
    );
    assert_eq!(
        unaug.train.get(2, 7).unwrap().image,
        unaug.train.get(2, 8).unwrap().image
    );
    assert_ne!(unaug.train.get(2, 7).unwrap().image, a);
    let _: Arc<_> = m.train.clone();
}

#[test]
fn invalid_line_configs_are_errors_before_any_work() {
    let dir = DataDir::new("/nonexistent");
    let mut c = EmnistLines2Config {
        min_overlap: 0.0,
        ..EmnistLines2Config::default()
    };
    let err = c.build(&dir).unwrap_err().to_string();
    assert!(
        err.contains("emnist-lines2.max_length") && err.contains("1024 px"),
        "{err}"
    );
    c.min_overlap = 0.6;
    let err = c.build(&dir).unwrap_err().to_string();
    assert!(err.contains("min_overlap <= max_overlap"), "{err}");
    let err = EmnistLinesConfig {
        num_val: 0,
        ..EmnistLinesConfig::default()
    }
    .build(&dir)
    .unwrap_err()
    .to_string();
    assert!(err.contains("emnist-lines.num_val"), "{err}");
    // Valid config, missing data: the fetch command.
    let err = EmnistLinesConfig::default()
        .build(&dir)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cargo xtask download emnist"), "{err}");
}
