//! idx, mapping, Brown and IAM readers on fixtures, including corrupt inputs:
//! every error is one line naming the file and the problem.

mod common;

use std::path::Path;

use common::{gzip, idx_bytes, write, zip_bytes};
use tr_data::readers::{clean_text, read_brown_zip};
use tr_data::readers::{
    read_emnist_mapping, read_iam_lines, read_idx, transpose_images, SegmentationStatus,
};

fn one_line(err: &tr_data::Error) -> String {
    let s = err.to_string();
    assert!(!s.contains('\n'), "multi-line error: {s}");
    s
}

#[test]
fn idx_plain_and_gzip_read_the_same_array() {
    let tmp = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
    let raw = idx_bytes(&[2, 3, 4], &data);
    // Names deliberately misleading: gzip is detected by magic bytes.
    let plain = tmp.path().join("images.gz");
    let packed = tmp.path().join("images-idx3-ubyte");
    write(&plain, &raw);
    write(&packed, &gzip(&raw));
    for p in [&plain, &packed] {
        let a = read_idx(p).unwrap();
        assert_eq!(a.dims, vec![2, 3, 4]);
        assert_eq!(a.data, data);
        assert_eq!((a.len(), a.item_len()), (2, 12));
    }
}

#[test]
fn truncated_idx_gz_reports_expected_and_found_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = vec![7u8; 10 * 28 * 28];
    let full = gzip(&idx_bytes(&[10, 28, 28], &data));
    // Cut the compressed stream: decompression ends early.
    let path = tmp.path().join("emnist-byclass-test-images-idx3-ubyte.gz");
    write(&path, &full[..full.len() / 2]);
    let err = read_idx(&path).unwrap_err();
    let msg = one_line(&err);
    assert!(
        msg.contains("emnist-byclass-test-images-idx3-ubyte.gz"),
        "{msg}"
    );
    assert!(msg.contains("7840"), "expected byte count missing: {msg}");
    assert!(
        msg.contains("truncated") || msg.contains("corrupt gzip"),
        "{msg}"
    );

    // A plain idx file missing its last 5 bytes: exact counts.
    let plain = tmp.path().join("labels-idx1-ubyte");
    let mut raw = idx_bytes(&[10, 28, 28], &data);
    raw.truncate(raw.len() - 5);
    write(&plain, &raw);
    let msg = one_line(&read_idx(&plain).unwrap_err());
    assert!(msg.contains("need 7840 data bytes, found 7835"), "{msg}");
    assert!(msg.contains("labels-idx1-ubyte"), "{msg}");
}

#[test]
fn trailing_data_and_wrong_magic_and_type_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("a.idx");
    let mut raw = idx_bytes(&[3], &[1, 2, 3]);
    raw.push(9);
    write(&p, &raw);
    let msg = one_line(&read_idx(&p).unwrap_err());
    assert!(
        msg.contains("trailing data") && msg.contains("a.idx"),
        "{msg}"
    );

    write(&p, &[0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 5]);
    let msg = one_line(&read_idx(&p).unwrap_err());
    assert!(msg.contains("wrong magic number 12 34 08 01"), "{msg}");

    write(&p, &[0, 0, 0x0d, 0x01, 0, 0, 0, 1, 0, 0, 0, 0]);
    let msg = one_line(&read_idx(&p).unwrap_err());
    assert!(
        msg.contains("0x0d (f32) is not supported") && msg.contains("0x08"),
        "{msg}"
    );

    write(&p, &[0, 0]);
    let msg = one_line(&read_idx(&p).unwrap_err());
    assert!(msg.contains("expected 4 magic bytes, found 2"), "{msg}");
}

#[test]
fn transposition_turns_emnist_glyphs_upright() {
    let upright = common::upright_glyph(5, 0..3);
    let stored = common::transpose(&upright);
    assert_ne!(stored, upright);
    assert_eq!(transpose_images(&stored, 28, 28), upright);
}

#[test]
fn mapping_reads_pairs_and_names_bad_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("emnist-byclass-mapping.txt");
    write(&p, common::mapping_text().as_bytes());
    let m = read_emnist_mapping(&p).unwrap();
    assert_eq!(m.len(), 62);
    assert_eq!((m[10].index, m[10].ch), (10, 'A'));
    assert_eq!((m[61].index, m[61].ch), (61, 'z'));

    write(&p, b"0 48\n1 49\n2 fifty\n3 51\n");
    let msg = one_line(&read_emnist_mapping(&p).unwrap_err());
    assert!(msg.contains("emnist-byclass-mapping.txt"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains("\"2 fifty\""), "{msg}");

    write(&p, b"0 48 12\n");
    let msg = one_line(&read_emnist_mapping(&p).unwrap_err());
    assert!(
        msg.contains("line 1") && msg.contains("wrong number of fields"),
        "{msg}"
    );
}

#[test]
fn brown_zip_sentences_split_at_last_slash_and_clean_as_the_course() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("brown.zip");
    let ca01 = "\n\n\tThe/at Fulton/np-tl said/vbd ``/`` 3/4/cd o'clock/rb ./.\n\n\tIt/pps ran/vbd ,/, fast/rb ./.\n";
    let cr09 = "\tLast/ap line/nn !/.\n";
    write(
        &p,
        &zip_bytes(&[
            ("brown/README", "x/y"),
            ("brown/cr09", cr09),
            ("brown/ca01", ca01),
            ("brown/cats.txt", "ca01 news"),
        ]),
    );
    let corpus = read_brown_zip(&p).unwrap();
    assert_eq!(corpus.files, 2);
    assert_eq!(corpus.sentences.len(), 3);
    // Split at the LAST '/': "3/4/cd" is the word "3/4"; members in name order.
    assert_eq!(
        corpus.sentences[0],
        vec!["The", "Fulton", "said", "``", "3/4", "o'clock", "."]
    );
    assert_eq!(corpus.sentences[2], vec!["Last", "line", "!"]);
    assert_eq!(
        corpus.clean_sentences(),
        vec!["The Fulton said 34 oclock", "It ran fast", "Last line"]
    );
    // The course's text: words joined, punctuation dropped, spaces collapsed, not trimmed.
    assert_eq!(
        corpus.text(),
        "The Fulton said 34 oclock It ran fast Last line "
    );
    assert_eq!(clean_text("  a -- b\t c  "), "a b c");
}

#[test]
fn zip_without_brown_members_is_an_error_naming_zip_and_expectation() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("other.zip");
    write(
        &p,
        &zip_bytes(&[("brown/README", "hello"), ("corpus/ca01", "a/b")]),
    );
    let msg = one_line(&read_brown_zip(&p).unwrap_err());
    assert!(msg.contains("other.zip"), "{msg}");
    assert!(msg.contains("brown/ca01"), "{msg}");

    write(&p, b"this is not a zip");
    let msg = one_line(&read_brown_zip(&p).unwrap_err());
    assert!(
        msg.contains("other.zip") && msg.contains("not a readable zip"),
        "{msg}"
    );

    let msg = one_line(&read_brown_zip(Path::new("/nonexistent/brown.zip")).unwrap_err());
    assert!(msg.contains("/nonexistent/brown.zip"), "{msg}");
}

#[test]
fn iam_lines_parse_status_box_and_words() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("lines.txt");
    let text = "#--- lines.txt ---\r\n# comment\r\n\
        a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from\r\n\
        a01-000u-03 err 156 23 430 1290 1883 70 M Ps|tomorrow|.\r\n";
    write(&p, text.as_bytes());
    let lines = read_iam_lines(&p).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].id, "a01-000u-00");
    assert_eq!(lines[0].status, SegmentationStatus::Ok);
    assert_eq!((lines[0].graylevel, lines[0].components), (154, 19));
    assert_eq!(lines[0].bbox, [408, 746, 1661, 89]);
    assert_eq!(lines[0].text(), "A MOVE to stop Mr. Gaitskell from");
    assert_eq!(lines[1].status, SegmentationStatus::Err);
    assert_eq!(lines[1].words, vec!["M Ps", "tomorrow", "."]);

    write(&p, b"# c\na01-000u-00 maybe 154 19 408 746 1661 89 A|b\n");
    let msg = one_line(&read_iam_lines(&p).unwrap_err());
    assert!(
        msg.contains("lines.txt") && msg.contains("line 2") && msg.contains("\"maybe\""),
        "{msg}"
    );
    write(&p, b"a01-000u-00 ok 154 19 408\n");
    let msg = one_line(&read_iam_lines(&p).unwrap_err());
    assert!(
        msg.contains("line 1") && msg.contains("only 5 of 9 fields"),
        "{msg}"
    );
}
