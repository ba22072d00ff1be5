//! PAGE 2013 (default namespace), 2019 (prefix `pc:`) and 2010-style
//! `Point` coordinates: lines' own TextEquiv, reading order, nested regions,
//! `custom` tags, and every skip and error.

mod layout_common;

use layout_common::write;
use tr_data::layout::{read_page, LayoutError, LayoutFormat, ReadOptions, SkipReason};

const PAGE_2013: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Metadata><Creator>test</Creator><Created>2020-06-11T20:32:25</Created><LastChange>2020-06-11T20:32:25</LastChange></Metadata>
  <Page imageFilename="../pages/JDH (1).jpg" imageWidth="400" imageHeight="300">
    <ReadingOrder>
      <OrderedGroup id="ro" caption="Regions reading order">
        <RegionRefIndexed index="1" regionRef="r1"/>
        <RegionRefIndexed index="0" regionRef="r2"/>
      </OrderedGroup>
    </ReadingOrder>
    <TextRegion id="r1" type="paragraph" custom="readingOrder {index:1;}">
      <Coords points="0,0 400,0 400,150 0,150"/>
      <TextLine id="r1l2" custom="readingOrder {index:1;}">
        <Coords points="10,60 390,60 390,100 10,100"/>
        <Baseline points="10,95 390,95"/>
        <Word id="w1"><Coords points="10,60 50,60 50,100 10,100"/><TextEquiv><Unicode>WORD</Unicode></TextEquiv></Word>
        <TextEquiv index="2"><Unicode>second choice</Unicode></TextEquiv>
        <TextEquiv index="1"><Unicode>Kew &amp; &#x27;Dyer&#x27; £5</Unicode></TextEquiv>
      </TextLine>
      <TextLine id="r1l1" custom="readingOrder {index:0;} structure {type:heading;}">
        <Coords points="10,10 390,10 390,50 10,50"/>
        <TextEquiv><Unicode> Dear Dyer </Unicode></TextEquiv>
      </TextLine>
      <TextLine id="r1l3" custom="readingOrder {index:2;}">
        <Coords points="10,110 390,110 390,140 10,140"/>
        <TextEquiv><Unicode></Unicode></TextEquiv>
      </TextLine>
      <TextEquiv><Unicode>an older region text</Unicode></TextEquiv>
    </TextRegion>
    <TextRegion id="r2" custom="structure {type:marginalia;}">
      <Coords points="0,150 400,150 400,300 0,300"/>
      <TextLine id="r2l1"><Coords points="-5,160 120,160 120,200 -5,200"/><TextEquiv><Unicode>clamped later</Unicode></TextEquiv></TextLine>
      <TextLine id="nocoords"><TextEquiv><Unicode>no coords</Unicode></TextEquiv></TextLine>
      <TextLine id="badcoords"><Coords points="1,2 3"/><TextEquiv><Unicode>bad</Unicode></TextEquiv></TextLine>
      <TextLine id="twopoints"><Coords points="1,2 300,2"/><TextEquiv><Unicode>degenerate</Unicode></TextEquiv></TextLine>
      <TextLine id="outside"><Coords points="500,500 600,500 600,550 500,550"/><TextEquiv><Unicode>far away</Unicode></TextEquiv></TextLine>
      <TableRegion id="t1">
        <TextRegion id="nested"><Coords points="200,200 300,200 300,250 200,250"/>
          <TextLine id="n1"><Coords points="200,200 300,200 300,250 200,250"/><TextEquiv><Unicode>in a table</Unicode></TextEquiv></TextLine>
        </TextRegion>
      </TableRegion>
    </TextRegion>
  </Page>
</PcGts>
"#;

#[test]
fn page_2013_lines_order_and_skips() {
    let dir = tempfile::tempdir().unwrap();
    let xml = write(dir.path(), "xml/p.xml", PAGE_2013);
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    assert_eq!(
        page.format,
        LayoutFormat::Page(Some(
            "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15".into()
        ))
    );
    assert_eq!((page.width, page.height), (400, 300));
    assert_eq!(
        page.image.as_deref(),
        Some(dir.path().join("xml/../pages/JDH (1).jpg").as_path())
    );
    // r2 has index 0; the nested region is unreferenced and comes last.
    let ids: Vec<&str> = page.regions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r2", "r1", "nested"]);
    assert_eq!(page.regions[0].kind.as_deref(), Some("marginalia"));
    assert_eq!(page.regions[1].kind.as_deref(), Some("paragraph"));

    let r1 = &page.regions[1];
    let ids: Vec<&str> = r1.lines.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["r1l1", "r1l2"], "sorted by custom readingOrder");
    // Text exactly as written (no trimming), from the line's own TextEquiv.
    assert_eq!(r1.lines[0].text, " Dear Dyer ");
    assert_eq!(r1.lines[0].tags, vec!["heading".to_string()]);
    // The lowest @index wins over document order; words' text is ignored.
    assert_eq!(r1.lines[1].text, "Kew & 'Dyer' £5");
    assert_eq!(
        r1.lines[1].baseline,
        Some(vec![(10.0, 95.0), (390.0, 95.0)])
    );
    assert_eq!(r1.lines[1].bbox.y0, 60.0);
    assert_eq!(page.regions[2].lines[0].text, "in a table");
    assert_eq!(page.regions[0].lines[0].polygon[0], (-5.0, 160.0));

    let reasons: Vec<(&str, SkipReason)> = page
        .skipped
        .iter()
        .map(|s| (s.id.as_str(), s.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("r1l3", SkipReason::EmptyText),
            ("nocoords", SkipReason::NoGeometry),
            ("badcoords", SkipReason::BadCoordinates),
            ("twopoints", SkipReason::ZeroArea),
            ("outside", SkipReason::OutsidePage),
        ]
    );
}

const PAGE_2019: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<pc:PcGts xmlns:pc="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <pc:Metadata><pc:Creator>x</pc:Creator></pc:Metadata>
  <pc:Page imageFilename="page.png" imageWidth="100" imageHeight="50">
    <pc:ReadingOrder>
      <pc:OrderedGroup id="g">
        <pc:OrderedGroupIndexed id="g2" index="1" regionRef="a">
          <pc:RegionRefIndexed index="0" regionRef="c"/>
        </pc:OrderedGroupIndexed>
        <pc:UnorderedGroupIndexed id="g1" index="0">
          <pc:RegionRef regionRef="b"/>
        </pc:UnorderedGroupIndexed>
      </pc:OrderedGroup>
    </pc:ReadingOrder>
    <pc:TextRegion id="a"><pc:Coords points="0,0 100,0 100,10 0,10"/>
      <pc:TextLine id="a1" type="handwritten"><pc:Coords points="0,0 100,0 100,10 0,10"/><pc:TextEquiv conf="0.9"><pc:PlainText>plain only</pc:PlainText></pc:TextEquiv></pc:TextLine>
    </pc:TextRegion>
    <pc:TextRegion id="b"><pc:Coords points="0,10 100,10 100,20 0,20"/>
      <pc:TextLine id="b1"><pc:Coords points="0,10 100,10 100,20 0,20"/><pc:TextEquiv><pc:Unicode>b</pc:Unicode></pc:TextEquiv></pc:TextLine>
    </pc:TextRegion>
    <pc:TextRegion id="c"><pc:Coords points="0,20 100,20 100,30 0,30"/>
      <pc:TextLine id="c1"><pc:Coords points="0,20 100,20 100,30 0,30"/><pc:TextEquiv><pc:Unicode>c</pc:Unicode></pc:TextEquiv></pc:TextLine>
    </pc:TextRegion>
  </pc:Page>
</pc:PcGts>
"#;

#[test]
fn page_2019_with_prefix_and_nested_groups() {
    let dir = tempfile::tempdir().unwrap();
    let xml = write(dir.path(), "p.xml", PAGE_2019);
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    assert_eq!(
        page.format,
        LayoutFormat::Page(Some(
            "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15".into()
        ))
    );
    // Group index 0 (b), then group index 1: its own region a, then its child c.
    let ids: Vec<&str> = page.regions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["b", "a", "c"]);
    let a1 = &page.regions[1].lines[0];
    assert_eq!(a1.text, "plain only");
    assert_eq!(a1.tags, vec!["handwritten".to_string()]);
    assert_eq!(a1.baseline, None);
}

#[test]
fn page_2010_point_children() {
    let dir = tempfile::tempdir().unwrap();
    let doc = r#"<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2010-03-19">
  <Page imageFilename="p.png" imageWidth="50" imageHeight="50">
    <TextRegion id="r"><Coords><Point x="0" y="0"/><Point x="50" y="0"/><Point x="50" y="50"/></Coords>
      <TextLine id="l"><Coords><Point x="1" y="1"/><Point x="40" y="1"/><Point x="40" y="20"/><Point x="1" y="20"/></Coords>
        <TextEquiv><Unicode>old style</Unicode></TextEquiv></TextLine>
      <TextLine id="bad"><Coords><Point x="1"/></Coords><TextEquiv><Unicode>x</Unicode></TextEquiv></TextLine>
    </TextRegion>
  </Page>
</PcGts>"#;
    let xml = write(dir.path(), "p.xml", doc);
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    let line = page.lines().next().unwrap();
    assert_eq!(line.polygon.len(), 4);
    assert_eq!((line.bbox.x1, line.bbox.y1), (40.0, 20.0));
    assert_eq!(page.regions[0].polygon.as_ref().map(Vec::len), Some(3));
    assert_eq!(page.skipped[0].reason, SkipReason::BadCoordinates);
}

#[test]
fn page_errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            PAGE_2013.replace(" imageWidth=\"400\"", ""),
            "line 4: <Page> has no imageWidth attribute",
        ),
        (
            PAGE_2013.replace("imageHeight=\"300\"", "imageHeight=\"-3\""),
            "expected a positive number of pixels",
        ),
        (
            "<PcGts><Metadata/></PcGts>".to_string(),
            "no <Page> element in <PcGts>",
        ),
    ];
    for (i, (doc, expected)) in cases.iter().enumerate() {
        let xml = write(dir.path(), &format!("bad{i}.xml"), doc);
        let err = read_page(&xml, &ReadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("bad{i}.xml")) && msg.contains(expected),
            "case {i}: {msg}"
        );
        assert!(
            matches!(
                err.layout_kind(),
                Some(
                    LayoutError::MissingAttribute { .. }
                        | LayoutError::BadAttribute { .. }
                        | LayoutError::MissingElement { .. }
                )
            ),
            "case {i}"
        );
    }
}
