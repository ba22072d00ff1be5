//! ALTO v2 (no namespace), v3 (prefix `alto:`) and v4 (default namespace)
//! fixtures: text joining, boxes, polygons in both point forms, both
//! BASELINE forms, tags, units, reading order, and every skip and error.

mod layout_common;

use layout_common::{page_image, save, write};
use tr_data::layout::{read_page, LayoutError, LayoutFormat, ReadOptions, SkipReason};
use tr_data::Error;

const V2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<alto>
  <Description>
    <MeasurementUnit>pixel</MeasurementUnit>
    <sourceImageInformation><fileName>img/page.png</fileName></sourceImageInformation>
  </Description>
  <Layout>
    <Page ID="p1" WIDTH="200" HEIGHT="100">
      <PrintSpace HPOS="0" VPOS="0" WIDTH="200" HEIGHT="100">
        <TextBlock ID="b1" HPOS="10" VPOS="10" WIDTH="180" HEIGHT="80">
          <TextLine ID="l1" HPOS="10" VPOS="10" WIDTH="180" HEIGHT="30" BASELINE="35">
            <String CONTENT="Tom" HPOS="10" VPOS="10" WIDTH="40" HEIGHT="30"/><SP/>
            <String CONTENT="&amp;"/><SP WIDTH="5"/><String CONTENT="&quot;Jerry&#x27;s&quot;"/>
          </TextLine>
          <TextLine ID="l2" HPOS="10" VPOS="50" WIDTH="180" HEIGHT="30">
            <String CONTENT="words"/><String CONTENT="without"/><String CONTENT="SP exam"/><HYP CONTENT="-"/>
          </TextLine>
          <TextLine ID="empty" HPOS="10" VPOS="80" WIDTH="100" HEIGHT="10"><String CONTENT="  "/></TextLine>
        </TextBlock>
      </PrintSpace>
    </Page>
  </Layout>
</alto>
"#;

#[test]
fn alto_v2_without_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let xml = write(dir.path(), "xml/p.xml", V2);
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    assert_eq!(page.format, LayoutFormat::Alto(None));
    assert_eq!((page.width, page.height), (200, 100));
    // Resolved relative to the XML file's folder, as kraken does.
    assert_eq!(
        page.image.as_deref(),
        Some(dir.path().join("xml/img/page.png").as_path())
    );
    let lines: Vec<_> = page.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].text, "Tom & \"Jerry's\"");
    assert_eq!(lines[1].text, "words without SP exam-");
    // The old single-number BASELINE: a horizontal line across the line box.
    assert_eq!(lines[0].baseline, Some(vec![(10.0, 35.0), (190.0, 35.0)]));
    // No Shape: the polygon is the box.
    assert_eq!(
        lines[0].polygon,
        vec![(10.0, 10.0), (190.0, 10.0), (190.0, 40.0), (10.0, 40.0)]
    );
    assert_eq!(page.skip_counts().get(&SkipReason::EmptyText), Some(&1));

    let kept = read_page(
        &xml,
        &ReadOptions {
            keep_empty_text: true,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(kept.line_count(), 3);
    assert!(kept.skipped.is_empty());
}

const V3: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<alto:alto xmlns:alto="http://www.loc.gov/standards/alto/ns-v3#">
  <alto:Description>
    <alto:MeasurementUnit>mm10</alto:MeasurementUnit>
    <alto:sourceImageInformation><alto:fileName>page.png</alto:fileName></alto:sourceImageInformation>
  </alto:Description>
  <alto:Tags>
    <alto:LayoutTag ID="LAY1" LABEL="handwritten"/>
    <alto:OtherTag ID="OT2" TYPE="marginal"/>
  </alto:Tags>
  <alto:Layout>
    <alto:Page ID="p" WIDTH="400" HEIGHT="200">
      <alto:PrintSpace>
        <alto:ComposedBlock ID="cb">
          <alto:TextBlock ID="b1" TAGREFS="OT2">
            <alto:TextLine ID="l1" HPOS="20" VPOS="20" WIDTH="200" HEIGHT="40" TAGREFS="LAY1 UNKNOWN">
              <alto:Shape><alto:Polygon POINTS="20,20 220,20 220,60 20,60"/></alto:Shape>
              <alto:String CONTENT="inside a composed block"/>
            </alto:TextLine>
          </alto:TextBlock>
        </alto:ComposedBlock>
      </alto:PrintSpace>
    </alto:Page>
  </alto:Layout>
</alto:alto>
"#;

#[test]
fn alto_v3_with_prefix_in_mm10() {
    let dir = tempfile::tempdir().unwrap();
    let xml = write(dir.path(), "p.xml", V3);
    // 127 dpi: one mm10 unit is 127/254 = 0.5 px.
    let page = read_page(
        &xml,
        &ReadOptions {
            dpi: Some(127.0),
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        page.format,
        LayoutFormat::Alto(Some("http://www.loc.gov/standards/alto/ns-v3#".into()))
    );
    assert_eq!((page.width, page.height), (200, 100));
    let region = &page.regions[0];
    assert_eq!(region.kind.as_deref(), Some("marginal"));
    let line = &region.lines[0];
    assert_eq!(line.text, "inside a composed block");
    assert_eq!(
        line.tags,
        vec!["handwritten".to_string(), "UNKNOWN".to_string()]
    );
    assert_eq!(line.polygon[2], (110.0, 30.0));
    assert_eq!((line.bbox.x0, line.bbox.y1), (10.0, 30.0));

    // Without a DPI: the image is 800x400 for a page of 400x200 mm10 → 2 px per unit.
    save(dir.path(), "page.png", &page_image(800, 400, &[]));
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    assert_eq!((page.width, page.height), (800, 400));
    assert_eq!(page.lines().next().unwrap().polygon[2], (440.0, 120.0));

    // Neither a DPI nor a readable image: a named error.
    std::fs::remove_file(dir.path().join("page.png")).unwrap();
    let err = read_page(&xml, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(err.layout_kind(), Some(LayoutError::UnitNeedsResolution { unit, .. }) if unit == "mm10"),
        "{err}"
    );
    assert!(err.to_string().contains("p.xml"), "{err}");
}

#[test]
fn alto_inch1200_with_dpi() {
    let dir = tempfile::tempdir().unwrap();
    let doc = V3.replace("mm10", "inch1200");
    let xml = write(dir.path(), "p.xml", &doc);
    let page = read_page(
        &xml,
        &ReadOptions {
            dpi: Some(300.0),
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!((page.width, page.height), (100, 50));
}

const V4: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Description>
    <MeasurementUnit>pixel</MeasurementUnit>
    <sourceImageInformation><fileName>../pages/p.jpg</fileName></sourceImageInformation>
  </Description>
  <Tags>
    <OtherTag ID="LT1" LABEL="DefaultLine:Handwritten" DESCRIPTION="line type"/><OtherTag ID="LT2" LABEL="DefaultLine:Print"/>
    <OtherTag ID="BT1" LABEL="MainZone"/>
  </Tags>
  <ReadingOrder>
    <OrderedGroup ID="ro"><ElementRef ID="e1" REF="second"/><ElementRef ID="e2" REF="first"/></OrderedGroup>
  </ReadingOrder>
  <Layout>
    <Page WIDTH="300.0" HEIGHT="200.0" PHYSICAL_IMG_NR="0" ID="eSc_dummypage_">
      <PrintSpace HPOS="0" VPOS="0" WIDTH="300" HEIGHT="200">
        <TextBlock ID="first" TAGREFS="BT1" HPOS="0" VPOS="0" WIDTH="300" HEIGHT="100">
          <Shape><Polygon POINTS="0 0 300 0 300 100 0 100"/></Shape>
          <TextLine ID="hand" TAGREFS="LT1" BASELINE="10 40 150 42 290 40" HPOS="10" VPOS="10" WIDTH="280" HEIGHT="40">
            <Shape><Polygon POINTS="10 10 290 10 290 50 10 50"/></Shape>
            <String CONTENT="two  spaces kept"/>
          </TextLine>
          <TextLine ID="printed" TAGREFS="LT2" BASELINE="10,90 290,90" HPOS="10" VPOS="60" WIDTH="280" HEIGHT="30">
            <Shape><Polygon POINTS="10,60 290,60 290,90 10,90"/></Shape>
            <String CONTENT="printed"/>
          </TextLine>
          <TextLine ID="nogeom"><String CONTENT="no geometry"/></TextLine>
          <TextLine ID="badnum" HPOS="x" VPOS="1" WIDTH="1" HEIGHT="1"><String CONTENT="bad"/></TextLine>
          <TextLine ID="badpoly"><Shape><Polygon POINTS="1 2 3"/></Shape><String CONTENT="bad"/></TextLine>
          <TextLine ID="flat"><Shape><Polygon POINTS="10 10 50 10 90 10"/></Shape><String CONTENT="flat"/></TextLine>
          <TextLine ID="away" HPOS="400" VPOS="300" WIDTH="50" HEIGHT="20"><String CONTENT="off the page"/></TextLine>
          <TextLine ID="partly" HPOS="-20" VPOS="150" WIDTH="100" HEIGHT="80"><String CONTENT="partly off"/></TextLine>
        </TextBlock>
        <TextBlock ID="second">
          <TextLine ID="s1" HPOS="10" VPOS="110" WIDTH="50" HEIGHT="20"><String CONTENT="read first"/></TextLine>
        </TextBlock>
      </PrintSpace>
    </Page>
  </Layout>
</alto>
"#;

#[test]
fn alto_v4_default_namespace_tags_order_and_skips() {
    let dir = tempfile::tempdir().unwrap();
    let xml = write(dir.path(), "xml/p.xml", V4);
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    assert_eq!(
        page.format,
        LayoutFormat::Alto(Some("http://www.loc.gov/standards/alto/ns-v4#".into()))
    );
    assert_eq!(
        page.image.as_deref(),
        Some(dir.path().join("xml/../pages/p.jpg").as_path())
    );
    // ReadingOrder puts the second block first; the dummy block has no outline.
    let ids: Vec<&str> = page.regions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["second", "first"]);
    assert!(page.regions[0].polygon.is_none());
    assert_eq!(page.regions[1].kind.as_deref(), Some("MainZone"));

    let first = &page.regions[1];
    let ids: Vec<&str> = first.lines.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["hand", "printed", "partly"]);
    let hand = &first.lines[0];
    assert_eq!(hand.text, "two  spaces kept");
    assert_eq!(hand.tags, vec!["DefaultLine:Handwritten".to_string()]);
    assert_eq!(
        hand.baseline,
        Some(vec![(10.0, 40.0), (150.0, 42.0), (290.0, 40.0)])
    );
    assert_eq!(
        first.lines[1].baseline,
        Some(vec![(10.0, 90.0), (290.0, 90.0)])
    );
    // Kept unclamped: clamping is the cropper's job.
    assert_eq!(first.lines[2].bbox.x0, -20.0);

    let reasons: Vec<(&str, SkipReason)> = page
        .skipped
        .iter()
        .map(|s| (s.id.as_str(), s.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("nogeom", SkipReason::NoGeometry),
            ("badnum", SkipReason::BadCoordinates),
            ("badpoly", SkipReason::BadCoordinates),
            ("flat", SkipReason::ZeroArea),
            ("away", SkipReason::OutsidePage),
        ]
    );
    assert!(
        page.skipped[1].detail.contains("HPOS"),
        "{}",
        page.skipped[1].detail
    );
}

#[test]
fn alto_errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let two_pages = V2.replace(
        "</Page>",
        "</Page><Page ID=\"p2\" WIDTH=\"1\" HEIGHT=\"1\"></Page>",
    );
    let cases = [
        (two_pages, "2 Page elements"),
        (
            V2.replace(" WIDTH=\"200\" HEIGHT=\"100\"", " HEIGHT=\"100\""),
            "has no WIDTH",
        ),
        (
            V2.replace(
                "WIDTH=\"200\" HEIGHT=\"100\"",
                "WIDTH=\"wide\" HEIGHT=\"100\"",
            ),
            "expected a positive number",
        ),
        (
            V2.replace("<MeasurementUnit>pixel", "<MeasurementUnit>furlong"),
            "pixel, mm10 or inch1200",
        ),
        (
            "<alto><Description/></alto>".to_string(),
            "no <Layout> element in <alto>",
        ),
        ("<html><body/></html>".to_string(), "root element <html>"),
    ];
    for (i, (doc, expected)) in cases.iter().enumerate() {
        let xml = write(dir.path(), &format!("bad{i}.xml"), doc);
        let err = read_page(&xml, &ReadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("bad{i}.xml")) && msg.contains(expected),
            "case {i}: {msg}"
        );
        assert!(matches!(err, Error::Layout { .. }), "case {i}: {err:?}");
    }
}
