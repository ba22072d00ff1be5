//! Segmenter training targets: a page's line polygons and baselines as
//! masks, and a collection split loaded as (image, masks) at a reduced
//! size, in the project's polarity.

mod layout_common;

use layout_common::{page_image, save, write};
use tr_data::datasets::{load_page_masks, PageMaskOptions};
use tr_data::layout::{line_masks, lines_from_mask, read_page, ReadOptions};

fn page_xml(image: &str) -> String {
    format!(
        r#"<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <Page imageFilename="{image}" imageWidth="200" imageHeight="100">
    <TextRegion id="r">
      <TextLine id="a"><Coords points="10,10 190,10 190,30 10,30"/><Baseline points="10,26 190,26"/><TextEquiv><Unicode>one</Unicode></TextEquiv></TextLine>
      <TextLine id="b"><Coords points="10,60 150,60 150,80 10,80"/><TextEquiv><Unicode>two</Unicode></TextEquiv></TextLine>
    </TextRegion>
  </Page>
</PcGts>"#
    )
}

#[test]
fn masks_follow_polygons_and_baselines_at_any_scale() {
    let dir = tempfile::tempdir().unwrap();
    let xml = write(dir.path(), "p.xml", &page_xml("p.png"));
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    let (body, base) = line_masks(&page, 100, 50, 1.0);
    assert_eq!(body.dimensions(), (100, 50));
    // Line a at half scale: x 5..95, y 5..15 → 90 × 10 pixels; line b 70 × 10.
    let on = |m: &image::GrayImage| m.iter().filter(|&&v| v == 255).count();
    assert_eq!(on(&body), 90 * 10 + 70 * 10);
    assert_eq!(body.get_pixel(50, 10).0[0], 255);
    assert_eq!(body.get_pixel(50, 20).0[0], 0);
    // The baseline band of a (y = 13 at half scale, ±1 px) and none for b.
    assert_eq!(base.get_pixel(50, 13).0[0], 255);
    assert_eq!(base.get_pixel(50, 16).0[0], 0);
    assert!((0..100).all(|x| base.get_pixel(x, 35).0[0] == 0));
    // The body mask read back as lines: two, in order, with their boxes.
    let lines = lines_from_mask(&body, 127, 10);
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (
            lines[0].bbox.x0,
            lines[0].bbox.y0,
            lines[0].bbox.x1,
            lines[0].bbox.y1
        ),
        (5.0, 5.0, 95.0, 15.0)
    );
    assert_eq!(lines[1].bbox.y0, 30.0);
}

#[test]
fn a_collection_split_loads_as_images_and_masks() {
    let dir = tempfile::tempdir().unwrap();
    for id in ["p1", "p2"] {
        save(
            dir.path(),
            &format!("pages/{id}.png"),
            &page_image(200, 100, &[(12, 12, 180, 28)]),
        );
        write(
            dir.path(),
            &format!("xml/{id}.xml"),
            &page_xml(&format!("../pages/{id}.png")),
        );
    }
    write(dir.path(), "splits/train.txt", "p1\n");
    write(dir.path(), "splits/val.txt", "p2\n");
    write(dir.path(), "splits/test.txt", "");
    let opts = PageMaskOptions {
        max_side: 100,
        multiple: 8,
        ..PageMaskOptions::default()
    };
    let train = load_page_masks(dir.path(), 0, &opts).unwrap();
    assert_eq!(train.len(), 1);
    let s = &train[0];
    assert_eq!(s.id, "p1");
    // 200 × 100 → 100 × 50 → multiples of 8: 96 × 48.
    assert_eq!(s.image.dimensions(), (96, 48));
    assert_eq!(s.body.dimensions(), (96, 48));
    // Bright ink on black: inside the inked box bright, paper dark.
    assert!(s.image.get_pixel(40, 9).0[0] > 200);
    assert!(s.image.get_pixel(40, 40).0[0] < 50);
    let e = load_page_masks(dir.path(), 2, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no page in split 2"), "{e}");
}
