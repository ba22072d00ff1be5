//! IAM form XML, read as the course's rewrite reads it, on synthetic forms
//! that reproduce what is tricky about the forms it names (the texts are
//! made up; no IAM data is used): p02-109 (extra text before the prompt),
//! the all-caps forms (g07-000a), r02-060 (a descender reaching into the next
//! line), and the rewrite's "tricky ids" h04-082, p02-155, j07-005, h06-089,
//! a01-072x, g03-004.

mod layout_common;

use layout_common::{iam_form_xml, page_image, save, write, HandLine};
use tr_data::layout::{
    crop_line, load_page_image, read_page, CropOptions, LayoutError, LayoutFormat, ReadOptions,
    SkipReason,
};
use tr_data::layout::{read_iam_form, IamForm, LINE_PADDING, MAX_LINE_HEIGHT};

fn line<'a>(id: &'a str, text: &'a str, y: i64) -> HandLine<'a> {
    HandLine {
        id,
        text,
        segmentation: "ok",
        cmps: vec![(400, y, 300, 60), (720, y + 5, 200, 50)],
    }
}

fn form(dir: &std::path::Path, id: &str, prompt: &[&str], lines: &[HandLine]) -> IamForm {
    let xml = write(
        dir,
        &format!("xml/{id}.xml"),
        &iam_form_xml(id, 2479, 3542, prompt, lines),
    );
    read_iam_form(&xml).unwrap()
}

fn texts(f: &IamForm) -> Vec<&str> {
    f.page.lines().map(|l| l.text.as_str()).collect()
}

fn skipped(f: &IamForm) -> Vec<(&str, SkipReason)> {
    f.page
        .skipped
        .iter()
        .map(|s| (s.id.as_str(), s.reason))
        .collect()
}

#[test]
fn p02_109_lines_before_the_prompt_fall_out() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = [
        "The lantern swung over the quay while the",
        "boats came in one by one.",
    ];
    let f = form(
        dir.path(),
        "p02-109",
        &prompt,
        &[
            line("p02-109-00", "Sentence Database P02-109", 600),
            line("p02-109-01", "----------------------------", 700),
            line(
                "p02-109-02",
                "The lantern swung over the quay while the",
                800,
            ),
            line("p02-109-03", "boats came in one by one.", 900),
        ],
    );
    assert_eq!(texts(&f), prompt);
    assert_eq!(
        skipped(&f),
        [
            ("p02-109-00", SkipReason::NotInPrompt),
            ("p02-109-01", SkipReason::NotInPrompt)
        ]
    );
    assert_eq!(f.prompt, prompt);
    assert_eq!(f.writer_id.as_deref(), Some("000"));
    assert_eq!(f.page.format, LayoutFormat::IamForm);
}

#[test]
fn all_caps_forms_match_an_upper_cased_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = [
        "When the tide turned, the harbour",
        "emptied within the hour.",
    ];
    let lines = [
        line("l0", "WHEN THE TIDE TURNED, THE HARBOUR", 700),
        line("l1", "EMPTIED WITHIN THE HOUR.", 800),
    ];
    let caps = form(dir.path(), "g07-000a", &prompt, &lines);
    assert_eq!(
        texts(&caps),
        [
            "WHEN THE TIDE TURNED, THE HARBOUR",
            "EMPTIED WITHIN THE HOUR."
        ]
    );
    // The same form under an id not on the list matches nothing.
    let other = form(dir.path(), "g07-999", &prompt, &lines);
    assert_eq!(other.page.line_count(), 0);
    assert_eq!(
        skipped(&other),
        [
            ("l0", SkipReason::NotInPrompt),
            ("l1", SkipReason::NotInPrompt)
        ]
    );
}

#[test]
fn r02_060_a_long_descender_is_clipped_to_the_line_height() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ["eager hand inside, his fingers groping after wads"];
    let f = form(
        dir.path(),
        "r02-060",
        &prompt,
        &[
            HandLine {
                id: "r02-060-08",
                text: "eager hand inside, his fingers",
                segmentation: "err",
                // The second word's box reaches 300 px down, over the next line.
                cmps: vec![(400, 700, 100, 60), (520, 690, 80, 300)],
            },
            HandLine {
                id: "r02-060-09",
                text: "groping after wads",
                segmentation: "ok",
                cmps: vec![(400, 850, 300, 70)],
            },
        ],
    );
    let lines: Vec<_> = f.page.lines().collect();
    // Bottom = min(990, 690 + MAX_LINE_HEIGHT) = 810, + half the 40 px gap capped at PAD.
    assert_eq!(MAX_LINE_HEIGHT, 120);
    assert_eq!(
        lines[0].bbox.y1,
        (690 + MAX_LINE_HEIGHT + LINE_PADDING) as f32
    );
    assert_eq!(lines[0].bbox.y0, (690 - LINE_PADDING) as f32);
    assert!(
        lines[0].bbox.y1 < lines[1].bbox.y0,
        "{:?} vs {:?}",
        lines[0].bbox,
        lines[1].bbox
    );
    assert_eq!(lines[1].bbox.y0, (850 - LINE_PADDING) as f32);
    assert_eq!((lines[0].bbox.x0, lines[0].bbox.x1), (384.0, 616.0));
    assert_eq!(lines[0].tags, ["handwritten", "segmentation:err"]);
}

#[test]
fn g03_004_a_hyphenated_line_matches_without_its_hyphen() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ["When at last the ovens were fixed the tremendously hard work began."];
    let f = form(
        dir.path(),
        "g03-004",
        &prompt,
        &[
            line(
                "g03-004-00",
                "When at last the ovens were fixed the tremen-",
                700,
            ),
            line("g03-004-01", "dously hard work began.", 800),
        ],
    );
    assert_eq!(texts(&f).len(), 2);
    assert!(f.page.skipped.is_empty());
}

#[test]
fn h04_082_escapes_are_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = [
        "Food \"costs\" rose & fell (average 4.64) in the",
        "last year's households.",
    ];
    let mut xml = iam_form_xml(
        "h04-082",
        2479,
        3542,
        &prompt,
        &[
            line(
                "h04-082-00",
                "Food \"costs\" rose & fell (average 4.64) in the",
                700,
            ),
            line("h04-082-01", "DOUBLE", 800),
            line("h04-082-02", "last year's households.", 900),
        ],
    );
    // A doubly escaped quote and a character reference, as some files have.
    xml = xml.replace(
        "text=\"DOUBLE\"",
        "text=\"&amp;quot;as&amp;quot; &lt;said&gt;\"",
    );
    xml = xml.replace("last year's", "last year&#39;s");
    let path = write(dir.path(), "xml/h04-082.xml", &xml);
    let f = read_iam_form(&path).unwrap();
    assert_eq!(
        texts(&f),
        [
            "Food \"costs\" rose & fell (average 4.64) in the",
            "\"as\" <said>",
            "last year's households."
        ]
    );
}

#[test]
fn p02_155_a_two_line_form_ending_in_one_word() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ["\"I made it myself,\" she tried to speak normally."];
    let f = form(
        dir.path(),
        "p02-155",
        &prompt,
        &[
            line(
                "p02-155-00",
                "\"I made it myself,\" she tried to speak",
                700,
            ),
            HandLine {
                id: "p02-155-01",
                text: "normally.",
                segmentation: "ok",
                cmps: vec![(400, 820, 180, 60)],
            },
        ],
    );
    assert_eq!(
        texts(&f),
        ["\"I made it myself,\" she tried to speak", "normally."]
    );
    let lines: Vec<_> = f.page.lines().collect();
    assert_eq!(lines[1].bbox.x1, (580 + LINE_PADDING) as f32);
    // The paragraph region holds both lines.
    let region = &f.page.regions[0];
    let outline = region.polygon.as_ref().unwrap();
    assert_eq!(outline[0], (lines[0].bbox.x0, lines[0].bbox.y0));
    assert_eq!(outline[2], (lines[0].bbox.x1, lines[1].bbox.y1));
}

#[test]
fn j07_005_lines_between_matches_are_kept_and_trailing_ones_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ["The air passages were packed with foil bonded to the plates to provide surface area for heat transfer."];
    let mut changed = line("j07-005-01", "corrugated foil bonded to the plates to", 800);
    changed.segmentation = "err";
    let f = form(
        dir.path(),
        "j07-005",
        &prompt,
        &[
            line("j07-005-00", "The air passages were packed with", 700),
            changed,
            line("j07-005-02", "provide surface area for heat transfer.", 900),
            line("j07-005-03", "signed, the writer", 1000),
        ],
    );
    assert_eq!(texts(&f).len(), 3);
    assert_eq!(f.page.lines().nth(1).unwrap().tags[1], "segmentation:err");
    assert_eq!(skipped(&f), [("j07-005-03", SkipReason::NotInPrompt)]);
}

#[test]
fn h06_089_close_lines_pad_by_half_their_gap() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ["one two three four five six"];
    let f = form(
        dir.path(),
        "h06-089",
        &prompt,
        &[
            HandLine {
                id: "a",
                text: "one two",
                segmentation: "ok",
                cmps: vec![(400, 700, 300, 50)],
            },
            HandLine {
                id: "b",
                text: "three four",
                segmentation: "ok",
                cmps: vec![(400, 760, 300, 50)],
            },
            HandLine {
                id: "c",
                text: "five six",
                segmentation: "ok",
                cmps: vec![(400, 820, 300, 50)],
            },
        ],
    );
    let b: Vec<_> = f.page.lines().map(|l| (l.bbox.y0, l.bbox.y1)).collect();
    // Gaps of 10 px: 5 px each way between lines, the full padding at the ends.
    assert_eq!(b, [(684.0, 755.0), (755.0, 815.0), (815.0, 886.0)]);
}

#[test]
fn a01_072x_image_lookup_scale_and_size_disagreement() {
    let dir = tempfile::tempdir().unwrap();
    // A small form (800×600) with a half-size image, as the course's downsampled forms.
    let xml = iam_form_xml(
        "a01-072x",
        800,
        600,
        &["These support costs are a big drain."],
        &[HandLine {
            id: "a01-072x-00",
            text: "These support costs are a big drain.",
            segmentation: "ok",
            cmps: vec![(100, 200, 400, 60)],
        }],
    );
    let path = write(dir.path(), "xml/a01-072x.xml", &xml);
    save(
        dir.path(),
        "forms/a01-072x.png",
        &page_image(400, 300, &[(60, 110, 240, 120)]),
    );
    // read_page knows the format by its root element.
    let page = read_page(&path, &ReadOptions::default()).unwrap();
    assert_eq!(
        page.image.as_deref(),
        Some(dir.path().join("forms/a01-072x.png").as_path())
    );
    let img = load_page_image(&page).unwrap();
    assert_eq!((img.sx, img.sy), (0.5, 0.5));
    let opts = CropOptions {
        padding: 0,
        ..CropOptions::default()
    };
    let crop = crop_line(&img, page.lines().next().unwrap(), &opts).unwrap();
    // Box (84..516, 184..276) in form pixels → half: 216×46 image pixels.
    assert_eq!(crop.dimensions(), (216, 46));
    // Bright ink (inverted) where the image has ink.
    assert_eq!(crop.get_pixel(30, 20).0[0], 235);

    // An image that is not the form at any one scale.
    save(dir.path(), "forms/a01-072x.png", &page_image(400, 400, &[]));
    let err = load_page_image(&page).unwrap_err();
    assert!(
        matches!(
            err.layout_kind(),
            Some(LayoutError::ImageSizeMismatch { .. })
        ),
        "{err}"
    );
    // No image at all: named when cropping, not when reading.
    std::fs::remove_file(dir.path().join("forms/a01-072x.png")).unwrap();
    let page = read_page(&path, &ReadOptions::default()).unwrap();
    let err = load_page_image(&page).unwrap_err();
    assert!(
        matches!(err.layout_kind(), Some(LayoutError::MissingImage { .. })),
        "{err}"
    );
}

#[test]
fn bad_lines_are_counted_and_bad_forms_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let prompt = ["alpha beta gamma delta"];
    let lines = [
        line("l0", "alpha", 700),
        HandLine {
            id: "nocmp",
            text: "beta",
            segmentation: "ok",
            cmps: vec![],
        },
        line("badcmp", "gamma", 900),
        line("l3", "delta", 1000),
    ];
    let xml =
        iam_form_xml("z01-000", 2479, 3542, &prompt, &lines).replacen("y=\"905\"", "y=\"9x5\"", 1);
    let path = write(dir.path(), "xml/z01-000.xml", &xml);
    let f = read_iam_form(&path).unwrap();
    assert_eq!(texts(&f), ["alpha", "delta"]);
    assert_eq!(
        skipped(&f),
        [
            ("nocmp", SkipReason::NoGeometry),
            ("badcmp", SkipReason::BadCoordinates)
        ]
    );

    let cases = [
        (
            xml.replace(" width=\"2479\"", ""),
            "<form> has no width attribute",
        ),
        (
            xml.replace("height=\"3542\"", "height=\"tall\""),
            "expected a positive whole number",
        ),
        (
            "<form id=\"x\" width=\"1\" height=\"1\"><machine-printed-part/></form>".to_string(),
            "no <handwritten-part> element in <form>",
        ),
        ("<alto/>".to_string(), "<form> (IAM form XML)"),
    ];
    for (i, (doc, expected)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("xml/bad{i}.xml"), doc);
        let msg = read_iam_form(&path).unwrap_err().to_string();
        assert!(
            msg.contains(&format!("bad{i}.xml")) && msg.contains(expected),
            "case {i}: {msg}"
        );
    }
}
