//! The IAM datasets on a generated IAM copy (three small forms, the LWITLRT
//! task files naming one test and one validation form): splits, the course's
//! vocabulary, lines, paragraphs, synthetic paragraphs and the
//! original-and-synthetic mixture; a missing copy names the download command.
//! No IAM data is used.

mod layout_common;

use std::path::Path;

use layout_common::{iam_form_xml, page_image, save, write, HandLine};
use tr_data::datasets::{
    DataModule, IamLinesConfig, IamOriginalAndSyntheticParagraphsConfig, IamParagraphsConfig,
    IamSyntheticParagraphsConfig, Target,
};
use tr_data::DataDir;

fn line<'a>(id: &'a str, text: &'a str, y: i64) -> HandLine<'a> {
    HandLine {
        id,
        text,
        segmentation: "ok",
        cmps: vec![(100, y, 200, 40), (320, y + 5, 150, 35)],
    }
}

/// A form `id` of 600×400 px whose handwriting repeats its prompt.
fn form(root: &Path, id: &str, texts: &[&str]) {
    let lines: Vec<String> = (0..texts.len()).map(|i| format!("{id}-{i:02}")).collect();
    let hand: Vec<HandLine> = texts
        .iter()
        .zip(&lines)
        .enumerate()
        .map(|(i, (t, l))| line(l, t, 60 + 80 * i as i64))
        .collect();
    write(
        root,
        &format!("xml/{id}.xml"),
        &iam_form_xml(id, 600, 400, texts, &hand),
    );
    let ink: Vec<(u32, u32, u32, u32)> = (0..texts.len() as u32)
        .map(|i| (110, 70 + 80 * i, 460, 90 + 80 * i))
        .collect();
    save(
        root,
        &format!("forms/{id}.png"),
        &page_image(600, 400, &ink),
    );
}

fn iam_copy(data: &Path) {
    let root = data.join("downloaded/iam");
    form(&root, "a01-000u", &["A MOVE to stop", "Mr. Gaitskell"]);
    form(&root, "a01-003", &["Labour peers", "are to meet"]);
    form(&root, "b02-100", &["Tories say"]);
    write(&root, "task/testset.txt", "b02-100-00\n");
    write(&root, "task/validationset1.txt", "a01-003-00\na01-003-01\n");
    write(&root, "task/validationset2.txt", "");
}

fn texts(m: &DataModule, split: usize) -> Vec<String> {
    let ds = [&m.train, &m.val, &m.test][split];
    (0..ds.len())
        .map(|i| match ds.target(i).unwrap() {
            Target::Sequence(l) => m.vocab.decode(&l).unwrap(),
            Target::Class(_) => panic!("class target"),
        })
        .collect()
}

#[test]
fn iam_lines_and_paragraphs_with_the_course_splits() {
    let tmp = tempfile::tempdir().unwrap();
    iam_copy(tmp.path());
    let dir = DataDir::new(tmp.path());
    let lines = IamLinesConfig::default().build(&dir).unwrap();
    assert_eq!(lines.input_shape, [1, 28, 768]);
    assert_eq!(lines.vocab.len(), 83, "the course's vocabulary");
    assert_eq!(texts(&lines, 0), ["A MOVE to stop", "Mr. Gaitskell"]);
    assert_eq!(texts(&lines, 1), ["Labour peers", "are to meet"]);
    assert_eq!(texts(&lines, 2), ["Tories say"]);
    let sample = lines.train.get(0, 0).unwrap();
    assert_eq!(sample.image.dimensions(), (768, 28));
    assert!(sample.image.iter().any(|&v| v > 200), "ink is bright");

    let paras = IamParagraphsConfig::default().build(&dir).unwrap();
    assert_eq!(paras.input_shape, [1, 13 * 28, 640]);
    assert_eq!(paras.vocab.len(), 84);
    assert_eq!(texts(&paras, 0), ["A MOVE to stop\nMr. Gaitskell"]);
    assert_eq!(texts(&paras, 2), ["Tories say"]);
    let r = paras.crops.as_deref().unwrap();
    assert_eq!((r.splits[0].height.min, r.splits[0].height.max), (56, 56));
}

#[test]
fn synthetic_and_mixed_paragraphs_evaluate_on_real_ones() {
    let tmp = tempfile::tempdir().unwrap();
    iam_copy(tmp.path());
    let dir = DataDir::new(tmp.path());
    let synth = IamSyntheticParagraphsConfig {
        num_train: 5,
        ..IamSyntheticParagraphsConfig::default()
    };
    let s = synth.build(&dir).unwrap();
    assert_eq!(s.name, "iam-synthetic-paragraphs");
    assert_eq!((s.train.len(), s.val.len(), s.test.len()), (5, 0, 0));
    assert_eq!(s.input_shape, [1, 13 * 28, 640]);
    for t in texts(&s, 0) {
        assert!(
            t.split('\n')
                .all(|l| l == "A MOVE to stop" || l == "Mr. Gaitskell"),
            "{t:?}"
        );
    }

    let mixed = IamOriginalAndSyntheticParagraphsConfig { synthetic: synth }
        .build(&dir)
        .unwrap();
    assert_eq!(mixed.name, "iam-original-and-synthetic-paragraphs");
    assert_eq!(mixed.train.len(), 1 + 5);
    assert_eq!(texts(&mixed, 1), ["Labour peers\nare to meet"]);
    assert_eq!(texts(&mixed, 2), ["Tories say"]);
    assert_eq!(
        mixed.train.get(3, 0).unwrap().image.dimensions(),
        (640, 364)
    );
}

#[test]
fn a_missing_copy_names_the_download() {
    let tmp = tempfile::tempdir().unwrap();
    let err = IamLinesConfig::default()
        .build(&DataDir::new(tmp.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("xtask download iam"), "{err}");
    iam_copy(tmp.path());
    std::fs::remove_file(tmp.path().join("downloaded/iam/task/testset.txt")).unwrap();
    let err = IamLinesConfig::default()
        .build(&DataDir::new(tmp.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("testset.txt"), "{err}");
}
