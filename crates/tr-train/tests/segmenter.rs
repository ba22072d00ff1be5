//! `train_segmenter` on a two-page fixture collection: the loss falls, the
//! files it writes load as a `tr_infer::MaskSegmenter`, and that segmenter
//! reads the page it memorised into its lines.

use image::{GrayImage, Luma};
use tr_infer::MaskSegmenter;
use tr_models::UNetConfig;
use tr_train::{train_segmenter, SegmenterConfig};

const XML: &str = r#"<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <Page imageFilename="../pages/IMAGE.png" imageWidth="128" imageHeight="64">
    <TextRegion id="r">
      <TextLine id="a"><Coords points="8,6 120,6 120,22 8,22"/><Baseline points="8,20 120,20"/><TextEquiv><Unicode>one</Unicode></TextEquiv></TextLine>
      <TextLine id="b"><Coords points="8,38 100,38 100,54 8,54"/><Baseline points="8,52 100,52"/><TextEquiv><Unicode>two</Unicode></TextEquiv></TextLine>
    </TextRegion>
  </Page>
</PcGts>"#;

/// Dark strokes inside the two line boxes on light paper.
fn page() -> GrayImage {
    GrayImage::from_fn(128, 64, |x, y| {
        let in_a = (8..120).contains(&x) && (8..20).contains(&y);
        let in_b = (8..100).contains(&x) && (40..52).contains(&y);
        Luma([if (in_a || in_b) && x % 4 != 0 {
            25
        } else {
            230
        }])
    })
}

#[test]
fn the_segmenter_trains_saves_and_reads_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("coll");
    for sub in ["pages", "xml", "splits"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    for id in ["p1", "p2"] {
        page().save(root.join(format!("pages/{id}.png"))).unwrap();
        std::fs::write(root.join(format!("xml/{id}.xml")), XML.replace("IMAGE", id)).unwrap();
    }
    std::fs::write(root.join("splits/train.txt"), "p1\n").unwrap();
    std::fs::write(root.join("splits/val.txt"), "p2\n").unwrap();
    std::fs::write(root.join("splits/test.txt"), "").unwrap();
    let cfg = SegmenterConfig {
        roots: vec![root],
        max_side: 128,
        model: UNetConfig {
            base: 4,
            depth: 2,
            out_channels: 2,
            batch_norm: true,
        },
        steps: 300,
        lr: 1e-2,
        val_every: 100,
        ..SegmenterConfig::default()
    };
    let out = dir.path().join("seg");
    let s = train_segmenter(&cfg, &out).unwrap();
    assert_eq!((s.train_pages, s.val_pages), (1, 1));
    assert!(s.last_loss < s.first_loss, "{s:?}");
    // The validation page is the same picture: its body IoU is high.
    assert!(s.val_iou > 0.8, "{s:?}");

    let seg = MaskSegmenter::load(&out).unwrap();
    let mut bright = page();
    bright.iter_mut().for_each(|v| *v = 255 - *v);
    let lines = seg.segment(&bright).unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].bbox.y1 <= 30.0 && lines[1].bbox.y0 >= 30.0,
        "{lines:?}"
    );

    // A config naming no collection is refused.
    let e = train_segmenter(&SegmenterConfig::default(), &out)
        .unwrap_err()
        .to_string();
    assert!(e.contains("roots"), "{e}");
}
