//! Page outputs: what we write as PAGE 2019 and ALTO v4, our readers read
//! back (same polygons, baselines, text, confidences); hOCR and JSON carry
//! the same lines.

use std::path::{Path, PathBuf};

use tr_data::layout::{
    page_json, parse_page, write_alto, write_hocr, write_page_xml, BBox, LayoutFormat, Line, Page,
    ReadOptions, Region, WriteOptions,
};

fn line(id: &str, text: &str, y: f32, conf: Option<f32>, chars: Vec<f32>) -> Line {
    let polygon = vec![
        (10.0, y),
        (200.0, y + 3.0),
        (201.0, y + 40.0),
        (105.0, y + 44.0),
        (9.0, y + 41.0),
    ];
    Line {
        id: id.into(),
        bbox: BBox::of_points(&polygon).unwrap(),
        polygon,
        baseline: Some(vec![(12.0, y + 30.0), (199.0, y + 33.0)]),
        text: text.into(),
        tags: Vec::new(),
        confidence: conf,
        char_confidences: chars,
    }
}

fn sample() -> Page {
    Page {
        xml: PathBuf::from("out.xml"),
        format: LayoutFormat::Page(None),
        image: Some(PathBuf::from("page.png")),
        width: 400,
        height: 300,
        regions: vec![
            Region {
                id: "r0".into(),
                kind: None,
                tags: Vec::new(),
                polygon: Some(vec![(5.0, 5.0), (250.0, 5.0), (250.0, 150.0), (5.0, 150.0)]),
                lines: vec![
                    line(
                        "l0",
                        "Dear  Sir, <&> \"quoted\"",
                        10.0,
                        Some(0.5),
                        Vec::new(),
                    ),
                    line(
                        "l1",
                        "ab c",
                        60.0,
                        Some(0.9 * 0.8 * 0.7),
                        vec![0.9, 0.8, 1.0, 0.7],
                    ),
                ],
            },
            Region {
                // Not a valid XML id: the writers substitute one.
                id: "1 bad".into(),
                kind: None,
                tags: Vec::new(),
                polygon: None,
                lines: vec![line("", "ünïcode ſ", 200.0, None, Vec::new())],
            },
        ],
        skipped: Vec::new(),
    }
}

fn opts() -> WriteOptions {
    WriteOptions {
        created: Some("2026-01-02T03:04:05Z".into()),
        ..WriteOptions::default()
    }
}

fn read_back(xml: &str, name: &str) -> Page {
    parse_page(xml.as_bytes(), Path::new(name), &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{xml}"))
}

fn round(p: &[(f32, f32)]) -> Vec<(f32, f32)> {
    p.iter().map(|&(x, y)| (x.round(), y.round())).collect()
}

fn same_lines(a: &Page, b: &Page) {
    let (la, lb): (Vec<&Line>, Vec<&Line>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(la.len(), lb.len());
    for (x, y) in la.iter().zip(&lb) {
        assert_eq!(x.text, y.text);
        assert_eq!(round(&x.polygon), y.polygon);
        assert_eq!(
            x.baseline.as_deref().map(round),
            y.baseline.clone(),
            "{}",
            x.text
        );
    }
    assert_eq!((a.width, a.height), (b.width, b.height));
    assert_eq!(a.regions.len(), b.regions.len());
}

#[test]
fn page_xml_round_trips() {
    let page = sample();
    let xml = write_page_xml(&page, &opts());
    assert!(xml.contains("pagecontent/2019-07-15"), "{xml}");
    assert!(xml.contains("<Created>2026-01-02T03:04:05Z</Created>"));
    let back = read_back(&xml, "dir/out.xml");
    assert_eq!(back.format.name(), "page");
    assert_eq!(back.image, Some(PathBuf::from("dir/page.png")));
    same_lines(&page, &back);
    let confs: Vec<Option<f32>> = back.lines().map(|l| l.confidence).collect();
    assert_eq!(confs[0], Some(0.5));
    assert!((confs[1].unwrap() - 0.504).abs() < 1e-4);
    assert_eq!(confs[2], None);
    assert_eq!(back.regions[0].id, "r0");
    assert_eq!(back.regions[1].id, "r1");
    assert_eq!(back.regions[0].lines[0].id, "l0");
    assert_eq!(back.regions[1].lines[0].id, "l1_0");
}

#[test]
fn alto_round_trips() {
    let page = sample();
    let xml = write_alto(&page, &opts());
    assert!(xml.contains("alto/ns-v4#"), "{xml}");
    let back = read_back(&xml, "out.xml");
    assert_eq!(back.format.name(), "alto");
    same_lines(&page, &back);
    let lines: Vec<&Line> = back.lines().collect();
    // Runs of spaces survive as SP elements.
    assert_eq!(lines[0].text, "Dear  Sir, <&> \"quoted\"");
    // Line confidence spread over the words, multiplied back.
    assert!((lines[0].confidence.unwrap() - 0.5).abs() < 1e-3);
    // Per-character confidences to tenths; spaces (SP) carry none and read as 1.
    let cc = &lines[1].char_confidences;
    assert_eq!(cc.len(), 4);
    for (got, want) in cc.iter().zip([0.9, 0.8, 1.0, 0.7]) {
        assert!((got - want).abs() < 1e-6, "{cc:?}");
    }
    assert!((lines[1].confidence.unwrap() - 0.504).abs() < 1e-3);
    assert_eq!(lines[2].confidence, None);
    assert!(lines[2].char_confidences.is_empty());
}

#[test]
fn an_empty_page_writes_valid_documents() {
    let page = Page {
        regions: Vec::new(),
        ..sample()
    };
    for xml in [write_page_xml(&page, &opts()), write_alto(&page, &opts())] {
        let back = read_back(&xml, "e.xml");
        assert_eq!(back.line_count(), 0);
        assert_eq!((back.width, back.height), (400, 300));
    }
    assert_eq!(page_json(&page, &opts())["text"], "");
}

#[test]
fn hocr_and_json_carry_the_lines() {
    let page = sample();
    let html = write_hocr(&page, &opts());
    assert!(html.contains(r#"class="ocr_page""#) && html.contains("bbox 0 0 400 300"));
    assert_eq!(html.matches(r#"class="ocr_line""#).count(), 3);
    assert!(
        html.contains("Dear  Sir, &lt;&amp;&gt; &quot;quoted&quot;"),
        "{html}"
    );
    assert!(html.contains("x_wconf 50"), "{html}");
    assert!(
        html.contains("poly 10 10 200 13 201 50 105 54 9 51"),
        "{html}"
    );
    // Baseline: slope 3/187, y at the box's left edge (x = 9) relative to its bottom (54).
    assert!(html.contains("baseline 0.0160 -14"), "{html}");
    // The writer's output is well-formed XML (our parser reads it).
    let root = tr_data::layout::parse_document(html.as_bytes()).unwrap();
    assert_eq!(root.name, "html");

    let v = page_json(&page, &opts());
    assert_eq!(v["text"], "Dear  Sir, <&> \"quoted\"\nab c\nünïcode ſ");
    assert_eq!(v["image"], "page.png");
    let l1 = &v["regions"][0]["lines"][1];
    assert_eq!(l1["char_confidences"].as_array().unwrap().len(), 4);
    assert_eq!(l1["polygon"][1], serde_json::json!([200.0, 63.0]));
    assert_eq!(l1["baseline"][0], serde_json::json!([12.0, 90.0]));
    assert_eq!(
        v["regions"][1]["lines"][0]["confidence"],
        serde_json::Value::Null
    );
}
