//! `page-lines` end to end on generated collections (PAGE and ALTO XML,
//! PNG pages, split files): splits, the vocabulary from the training texts,
//! unknown characters (reported, or an error with `strict`), the crop cache
//! (reused, rebuilt when a page changes or a setting changes), bad pages
//! (counted, or an error with `strict_pages`), the seeded page split, the
//! tag filter and the canvas. Nothing here reads real data.

mod layout_common;

use std::path::{Path, PathBuf};

use layout_common::{page_image, save, write};
use tr_data::datasets::{DataModule, DatasetConfig, PageLinesConfig, Target};
use tr_data::DataDir;

/// A PAGE file with one region of `texts.len()` lines, 30 px tall each, on a 200×(40·n) page.
fn page_xml(image: &str, texts: &[&str]) -> String {
    let lines: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let y = 5 + 40 * i;
            format!(
                r#"<TextLine id="l{i}"><Coords points="5,{y} 195,{y} 195,{} 5,{}"/><TextEquiv><Unicode>{t}</Unicode></TextEquiv></TextLine>"#,
                y + 30,
                y + 30
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15">
  <Page imageFilename="{image}" imageWidth="200" imageHeight="{}">
    <TextRegion id="r0">{lines}</TextRegion>
  </Page>
</PcGts>"#,
        40 * texts.len()
    )
}

/// Ink bars where the lines are.
fn page_png(n_lines: usize) -> image::GrayImage {
    let ink: Vec<(u32, u32, u32, u32)> = (0..n_lines as u32)
        .map(|i| (20, 12 + 40 * i, 150, 28 + 40 * i))
        .collect();
    page_image(200, 40 * n_lines as u32, &ink)
}

/// A collection `root/name` with pages `(id, texts)` and optional split lists.
fn collection(
    root: &Path,
    name: &str,
    pages: &[(&str, &[&str])],
    splits: Option<[&[&str]; 3]>,
) -> PathBuf {
    let dir = root.join(name);
    for (id, texts) in pages {
        save(&dir, &format!("pages/{id}.png"), &page_png(texts.len()));
        write(
            &dir,
            &format!("xml/{id}.xml"),
            &page_xml(&format!("../pages/{id}.png"), texts),
        );
    }
    if let Some(lists) = splits {
        for (split, ids) in ["train", "val", "test"].iter().zip(lists) {
            write(
                &dir,
                &format!("splits/{split}.txt"),
                &(ids.join("\n") + "\n"),
            );
        }
    }
    dir
}

fn config(roots: &[&Path]) -> PageLinesConfig {
    PageLinesConfig {
        roots: roots.iter().map(|r| r.to_path_buf()).collect(),
        height: 16,
        width: 96,
        ..PageLinesConfig::default()
    }
}

fn texts(module: &DataModule, split: usize) -> Vec<String> {
    let ds = [&module.train, &module.val, &module.test][split];
    (0..ds.len())
        .map(|i| match ds.target(i).unwrap() {
            Target::Sequence(l) => module.vocab.decode(&l).unwrap(),
            Target::Class(_) => panic!("class target"),
        })
        .collect()
}

fn standard(root: &Path) -> PathBuf {
    collection(
        root,
        "letters",
        &[
            ("p1", &["abc", "bad cab"]),
            ("p2", &["caf\u{0065}\u{0301}  "]),
            ("p3", &["ab\u{221E}"]),
            ("p4", &["\u{2019}cab\u{2019}"]),
        ],
        Some([&["p1", "p2"], &["p3"], &["p4"]]),
    )
}

#[test]
fn lines_vocabulary_labels_and_unknown_characters() {
    let tmp = tempfile::tempdir().unwrap();
    let root = standard(tmp.path());
    let dir = DataDir::new(tmp.path().join("data"));
    let module = config(&[&root]).build(&dir).unwrap();

    assert_eq!(module.name, "page-lines");
    assert_eq!(module.input_shape, [1, 16, 96]);
    let symbols: Vec<&str> = module.vocab.symbols().iter().map(String::as_str).collect();
    // NFC turned e + U+0301 into é; the trailing spaces were trimmed.
    assert_eq!(
        symbols,
        ["<B>", "<S>", "<E>", "<P>", " ", "a", "b", "c", "d", "f", "é"]
    );
    assert_eq!(texts(&module, 0), ["abc", "bad cab", "café"]);
    // ∞ is not in the training texts: left out of the label, and reported.
    assert_eq!(texts(&module, 1), ["ab"]);
    // Curly quotes became straight ones, which the vocabulary lacks too.
    assert_eq!(texts(&module, 2), ["cab"]);
    assert_eq!(module.output_len, Some(7));

    let report = module.crops.as_deref().expect("a crop report");
    assert_eq!(report.splits[0].pages, 2);
    assert_eq!(report.splits[0].lines, 3);
    let val = &report.splits[1].unknown;
    assert_eq!(val.chars[&'\u{221E}'].count, 1);
    assert_eq!(val.chars[&'\u{221E}'].examples, ["letters:p3/l0"]);
    assert_eq!(report.splits[2].unknown.chars[&'\''].count, 2);
    assert_eq!(report.normalised, 2);
    for s in &report.splits {
        assert_eq!((s.height.min, s.height.max), (16, 16), "{s:?}");
    }

    let sample = module.train.get(0, 0).unwrap();
    assert_eq!(sample.image.dimensions(), (96, 16));
    // Bright ink on black: the ink bar is bright, paper (and canvas padding) 0.
    assert!(sample.image.get_pixel(20, 8).0[0] > 200);
    assert_eq!(sample.image.get_pixel(95, 0).0[0], 0);

    let stats = tr_data::DataStats::compute(&module).unwrap().to_string();
    assert!(
        stats.contains("characters not in the vocabulary"),
        "{stats}"
    );
    assert!(stats.contains("'∞' ×1 (letters:p3/l0)"), "{stats}");

    let mut strict = config(&[&root]);
    strict.text.strict = true;
    let err = strict.build(&dir).unwrap_err().to_string();
    assert!(
        err.contains("val text of letters:p3/l0") && err.contains("U+221E"),
        "{err}"
    );

    // A fixed vocabulary that has every character: nothing unknown.
    let mut fixed = config(&[&root]);
    fixed.text.vocabulary = Some(
        [
            "<B>", "<S>", "<E>", "<P>", " ", "'", "a", "b", "c", "d", "f", "é", "∞",
        ]
        .map(String::from)
        .to_vec(),
    );
    let m = fixed.build(&dir).unwrap();
    assert_eq!(texts(&m, 1), ["ab∞"]);
    assert_eq!(texts(&m, 2), ["'cab'"]);
}

fn cache_files(dir: &DataDir) -> usize {
    std::fs::read_dir(dir.processed().join("page_lines"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "safetensors")
            })
            .count()
        })
        .unwrap_or(0)
}

fn cache_note(m: &DataModule) -> String {
    m.notes
        .iter()
        .find(|n| n.contains("line crops"))
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_cache_is_reused_and_never_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let root = standard(tmp.path());
    let dir = DataDir::new(tmp.path().join("data"));
    let first = config(&[&root]).build(&dir).unwrap();
    assert!(
        cache_note(&first).contains("extracted"),
        "{:?}",
        first.notes
    );
    let again = config(&[&root]).build(&dir).unwrap();
    assert!(cache_note(&again).contains("loaded"), "{:?}", again.notes);
    assert_eq!(cache_files(&dir), 1);

    // Text settings change labels only: same cache entry.
    let mut text = config(&[&root]);
    text.text.with_start_end_tokens = true;
    assert!(cache_note(&text.build(&dir).unwrap()).contains("loaded"));

    // A page image replaced by another of the same size: rebuilt.
    let img = root.join("pages/p1.png");
    let len = std::fs::metadata(&img).unwrap().len();
    let mut other = page_png(2);
    other.put_pixel(190, 70, image::Luma([0]));
    other.save(&img).unwrap();
    let changed = config(&[&root]).build(&dir).unwrap();
    assert!(
        cache_note(&changed).contains("extracted"),
        "{:?} ({len} bytes before)",
        changed.notes
    );

    // Every crop setting is in the key: a new entry.
    let mut padded = config(&[&root]);
    padded.crop.padding = 2;
    assert!(cache_note(&padded.build(&dir).unwrap()).contains("extracted"));
    let mut taller = config(&[&root]);
    taller.height = 20;
    let t = taller.build(&dir).unwrap();
    assert!(cache_note(&t).contains("extracted"));
    assert_eq!(t.input_shape, [1, 20, 96]);
    assert_eq!(cache_files(&dir), 4);

    // A corrupt cache file is rebuilt, not used.
    for e in std::fs::read_dir(dir.processed().join("page_lines")).unwrap() {
        let p = e.unwrap().path();
        let mut b = std::fs::read(&p).unwrap();
        let n = b.len();
        b[n - 3] ^= 0x55;
        std::fs::write(&p, b).unwrap();
    }
    let rebuilt = config(&[&root]).build(&dir).unwrap();
    assert!(
        cache_note(&rebuilt).contains("unusable"),
        "{:?}",
        rebuilt.notes
    );
}

#[test]
fn bad_pages_are_counted_or_strict_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = standard(tmp.path());
    write(
        &root,
        "xml/broken.xml",
        "<PcGts><Page imageFilename=\"x.png\"",
    );
    write(
        &root,
        "xml/noimage.xml",
        &page_xml("../pages/nowhere.png", &["abc"]),
    );
    write(
        &root,
        "xml/bomb.xml",
        "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><PcGts/>",
    );
    write(&root, "splits/train.txt", "p1\np2\nbroken\nnoimage\nbomb\n");
    let dir = DataDir::new(tmp.path().join("data"));
    let module = config(&[&root]).build(&dir).unwrap();
    let report = &module.crops.as_deref().unwrap().extraction;
    assert_eq!(report.failed_pages.len(), 3, "{report:?}");
    let all = report.failed_pages.join("\n");
    assert!(
        all.contains("broken.xml") && all.contains("noimage.xml") && all.contains("bomb.xml"),
        "{all}"
    );
    assert!(all.contains("nowhere.png"), "{all}");
    assert_eq!(module.train.len(), 3);

    let mut strict = config(&[&root]);
    strict.crop.strict_pages = true;
    let err = strict
        .build(&DataDir::new(tmp.path().join("data2")))
        .unwrap_err();
    assert!(err.to_string().contains(".xml"), "{err}");
}

#[test]
fn unlisted_pages_are_counted_and_missing_roots_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = standard(tmp.path());
    write(
        &root,
        "xml/extra.xml",
        &page_xml("../pages/p1.png", &["abc", "abc"]),
    );
    let dir = DataDir::new(tmp.path().join("data"));
    let module = config(&[&root]).build(&dir).unwrap();
    assert_eq!(
        module.crops.as_deref().unwrap().extraction.unlisted_pages,
        1
    );

    let err = config(&[]).build(&dir).unwrap_err().to_string();
    assert!(err.contains("data.roots"), "{err}");
    let err = config(&[&tmp.path().join("nope")])
        .build(&dir)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nope") && err.contains("not a folder"),
        "{err}"
    );
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = config(&[&empty]).build(&dir).unwrap_err().to_string();
    assert!(err.contains("no .xml files"), "{err}");
}

#[test]
fn without_split_files_pages_split_by_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let pages: Vec<(String, Vec<&str>)> =
        (0..20).map(|i| (format!("q{i:02}"), vec!["ab"])).collect();
    let refs: Vec<(&str, &[&str])> = pages
        .iter()
        .map(|(id, t)| (id.as_str(), t.as_slice()))
        .collect();
    let root = collection(tmp.path(), "loose", &refs, None);
    let dir = DataDir::new(tmp.path().join("data"));
    let sources = |seed: u64| {
        let mut c = config(&[&root]);
        c.split.seed = seed;
        let m = c.build(&dir).unwrap();
        let r = m.crops.as_deref().unwrap();
        let lens = [m.train.len(), m.val.len(), m.test.len()];
        (
            lens,
            r.splits.iter().map(|s| s.pages).collect::<Vec<_>>(),
            m.notes.join(" "),
        )
    };
    let (lens, pages_per_split, notes) = sources(1);
    assert_eq!(lens, [16, 2, 2]);
    assert_eq!(pages_per_split, [16, 2, 2]);
    assert!(notes.contains("split at random (seed 1"), "{notes}");
    assert_eq!(sources(1).0, lens);
    // Another seed: same sizes, and (almost surely) other pages — seen in the cache key.
    let before = cache_files(&dir);
    sources(2);
    assert_eq!(cache_files(&dir), before + 1);
}

#[test]
fn alto_tags_filter_and_wide_lines_are_squeezed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mixed");
    save(
        &root,
        "pages/a.png",
        &page_image(400, 80, &[(10, 15, 390, 25), (10, 55, 100, 65)]),
    );
    write(
        &root,
        "a.xml",
        r#"<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
  <Description><MeasurementUnit>pixel</MeasurementUnit>
    <sourceImageInformation><fileName>pages/a.png</fileName></sourceImageInformation></Description>
  <Tags><OtherTag ID="H" LABEL="DefaultLine:Handwritten"/><OtherTag ID="P" LABEL="DefaultLine:Print"/></Tags>
  <Layout><Page WIDTH="400" HEIGHT="80"><PrintSpace>
    <TextBlock ID="b">
      <TextLine ID="long" TAGREFS="H" HPOS="5" VPOS="5" WIDTH="390" HEIGHT="30"><String CONTENT="a long hand line"/></TextLine>
      <TextLine ID="typed" TAGREFS="P" HPOS="5" VPOS="45" WIDTH="100" HEIGHT="30"><String CONTENT="typed"/></TextLine>
    </TextBlock>
  </PrintSpace></Page></Layout>
</alto>"#,
    );
    write(&root, "train.txt", "a\n");
    let dir = DataDir::new(tmp.path().join("data"));
    let mut c = config(&[&root]);
    c.crop.tags = vec!["handwritten".into()];
    c.crop.padding = 0;
    let m = c.build(&dir).unwrap();
    assert_eq!(texts(&m, 0), ["a long hand line"]);
    let r = m.crops.as_deref().unwrap();
    assert_eq!(r.extraction.skipped.get("tag not wanted"), Some(&1));
    // 390×30 at height 16 is 208 px wide: squeezed into the 96 px canvas.
    assert_eq!(r.splits[0].width.max, 208);
    assert_eq!(r.splits[0].over_width, 1);
    let img = m.train.get(0, 0).unwrap().image;
    assert_eq!(img.dimensions(), (96, 16));
    assert!(
        img.get_pixel(94, 8).0[0] > 150,
        "ink reaches the right edge after squeezing"
    );

    // Through the registry, as a config file or `--data.*` overrides would.
    let mut cfg = DatasetConfig::by_name("page-lines").unwrap();
    cfg.set_str("roots", &format!("[{}]", root.display()))
        .unwrap();
    cfg.set_str("height", "16").unwrap();
    cfg.set_str("crop.tags", "[handwritten]").unwrap();
    let m2 = cfg.build(&dir).unwrap();
    assert_eq!(texts(&m2, 0), ["a long hand line"]);
}

#[test]
fn mixtures_weight_parts_unite_vocabularies_and_evaluate_on_marked_parts() {
    use tr_data::datasets::{MixtureConfig, MixturePart};
    let tmp = tempfile::tempdir().unwrap();
    let a = standard(tmp.path());
    let b = collection(
        tmp.path(),
        "other",
        &[
            ("o1", &["xyz", "zz", "yy", "x"]),
            ("o2", &["w"]),
            ("o3", &["v"]),
        ],
        Some([&["o1"], &["o2"], &["o3"]]),
    );
    let dir = DataDir::new(tmp.path().join("data"));
    let part = |root: &Path, weight: f64, eval: bool, width: u32| MixturePart {
        data: DatasetConfig::PageLines(PageLinesConfig {
            width,
            ..config(&[root])
        }),
        weight,
        eval,
    };
    let mix = MixtureConfig {
        parts: vec![part(&a, 2.0, true, 96), part(&b, 0.5, false, 64)],
        ..MixtureConfig::default()
    };
    let m = mix.build(&dir).unwrap();
    let symbols: String = m.vocab.symbols()[4..].concat();
    assert_eq!(symbols, " abcdfxyzé");
    // 3 lines × 2 + 4 lines × 0.5.
    assert_eq!(m.train.len(), 8);
    // Validation and test from the first part only.
    assert_eq!((m.val.len(), m.test.len()), (1, 1));
    assert_eq!(m.input_shape, [1, 16, 96]);
    let decoded = |i: usize, seed: u64| match m.train.get(i, seed).unwrap().target {
        Target::Sequence(l) => m.vocab.decode(&l).unwrap(),
        Target::Class(_) => unreachable!(),
    };
    assert_eq!(decoded(0, 0), "abc");
    assert_eq!(decoded(3, 0), "abc", "weight 2 repeats the part");
    assert_eq!(decoded(2, 0), "café");
    // The half of the second part moves with the augmentation seed.
    let picks: std::collections::BTreeSet<String> = (0..8).map(|s| decoded(6, s)).collect();
    assert!(picks.len() > 1, "{picks:?}");
    for i in 0..8 {
        assert_eq!(m.train.get(i, 3).unwrap().image.dimensions(), (96, 16));
    }
    let err = MixtureConfig::default()
        .build(&dir)
        .unwrap_err()
        .to_string();
    assert!(err.contains("mixture.parts"), "{err}");
}

#[test]
fn page_paragraphs_join_kept_lines_and_split_long_regions() {
    use tr_data::datasets::PageParagraphsConfig;
    let tmp = tempfile::tempdir().unwrap();
    let root = collection(
        tmp.path(),
        "paras",
        &[
            ("a", &["one", "two", "three"]),
            ("b", &["four"]),
            ("c", &["five", "six"]),
        ],
        Some([&["a"], &["b"], &["c"]]),
    );
    let dir = DataDir::new(tmp.path().join("data"));
    let cfg = PageParagraphsConfig {
        roots: vec![root.clone()],
        line_height: 8,
        max_lines: 2,
        width: 64,
        ..PageParagraphsConfig::default()
    };
    let m = cfg.build(&dir).unwrap();
    assert_eq!(m.name, "page-paragraphs");
    assert_eq!(m.input_shape, [1, 16, 64]);
    assert_eq!(m.vocab.symbols().last().map(String::as_str), Some("\n"));
    // Three lines with max_lines 2: two paragraphs, no text lost.
    assert_eq!(texts(&m, 0), ["one\ntwo", "three"]);
    let r = m.crops.as_deref().unwrap();
    assert_eq!((r.splits[0].height.min, r.splits[0].height.max), (8, 16));
    let img = m.train.get(0, 0).unwrap().image;
    assert_eq!(img.dimensions(), (64, 16));
    assert!(
        cache_files(&dir) == 0,
        "paragraphs have their own cache folder"
    );
}

#[test]
fn synthetic_paragraphs_stack_lines_deterministically() {
    use tr_data::datasets::SyntheticParagraphsConfig;
    let tmp = tempfile::tempdir().unwrap();
    let root = standard(tmp.path());
    let dir = DataDir::new(tmp.path().join("data"));
    let cfg = SyntheticParagraphsConfig {
        lines: Box::new(DatasetConfig::PageLines(config(&[&root]))),
        min_lines: 2,
        max_lines: 3,
        line_gap: 2,
        num_train: 6,
        num_val: 2,
        num_test: 2,
        ..SyntheticParagraphsConfig::default()
    };
    let m = cfg.build(&dir).unwrap();
    assert_eq!(m.input_shape, [1, 3 * 18, 96]);
    assert_eq!(m.train.len(), 6);
    let lines = ["abc", "bad cab", "café"];
    for i in 0..6 {
        let s = m.train.get(i, 9).unwrap();
        assert_eq!(s.image.dimensions(), (96, 54));
        let Target::Sequence(l) = s.target else {
            panic!()
        };
        let text = m.vocab.decode(&l).unwrap();
        let parts: Vec<&str> = text.split('\n').collect();
        assert!((2..=3).contains(&parts.len()), "{text:?}");
        assert!(parts.iter().all(|p| lines.contains(p)), "{text:?}");
        // The same paragraph every time; target() agrees with get().
        assert_eq!(m.train.get(i, 9).unwrap().image, s.image);
        assert_eq!(m.train.target(i).unwrap(), Target::Sequence(l));
    }
    let bad = SyntheticParagraphsConfig {
        min_lines: 4,
        max_lines: 3,
        ..cfg
    };
    assert!(bad
        .build(&dir)
        .unwrap_err()
        .to_string()
        .contains("min_lines"));
}

#[test]
fn training_lines_are_augmented_per_seed_and_evaluation_lines_never() {
    use tr_data::augment::RealLineAugmentation;
    let tmp = tempfile::tempdir().unwrap();
    let root = standard(tmp.path());
    let dir = DataDir::new(tmp.path().join("data"));
    let m = config(&[&root]).build(&dir).unwrap();
    let img =
        |ds: &std::sync::Arc<dyn tr_data::datasets::Dataset>, seed| ds.get(0, seed).unwrap().image;
    assert_ne!(img(&m.train, 1), img(&m.train, 2));
    assert_eq!(img(&m.train, 1), img(&m.train, 1));
    assert_eq!(img(&m.val, 1), img(&m.val, 2));
    let plain = PageLinesConfig {
        augment: RealLineAugmentation::none(),
        ..config(&[&root])
    }
    .build(&dir)
    .unwrap();
    assert_eq!(img(&plain.train, 1), img(&plain.train, 2));
    let mut bad = config(&[&root]);
    bad.augment.brightness = (2.0, 1.0);
    let err = bad.build(&dir).unwrap_err().to_string();
    assert!(err.contains("data.augment.brightness"), "{err}");
}
