//! Line crops on generated pages: polygon masking, boxes, padding, the
//! page image at another scale than the XML, clamping, polarity, target
//! height, and the bad cases (missing image, sizes that disagree, outlines
//! outside the page or of zero area).

mod layout_common;

use layout_common::{page_image, save, write};
use tr_data::layout::{
    crop_line, crop_polygon, load_page_image, read_page, CropMode, CropOptions, LayoutError, Page,
    Paper, ReadOptions, SkipReason,
};

/// A 100×60 PAGE page with a triangle line and a line reaching off the page.
fn page_xml(image: &str) -> String {
    format!(
        r#"<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <Page imageFilename="{image}" imageWidth="100" imageHeight="60">
    <TextRegion id="r">
      <TextLine id="tri"><Coords points="10,10 50,10 10,40"/><TextEquiv><Unicode>triangle</Unicode></TextEquiv></TextLine>
      <TextLine id="edge"><Coords points="80,40 130,40 130,70 80,70"/><TextEquiv><Unicode>off the edge</Unicode></TextEquiv></TextLine>
    </TextRegion>
  </Page>
</PcGts>"#
    )
}

fn setup(image_w: u32, image_h: u32, ink: &[(u32, u32, u32, u32)]) -> (tempfile::TempDir, Page) {
    let dir = tempfile::tempdir().unwrap();
    save(dir.path(), "page.png", &page_image(image_w, image_h, ink));
    let xml = write(dir.path(), "p.xml", &page_xml("page.png"));
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    (dir, page)
}

fn no_pad() -> CropOptions {
    CropOptions {
        padding: 0,
        ..CropOptions::default()
    }
}

#[test]
fn polygon_crop_masks_outside_with_paper_and_inverts() {
    // Ink everywhere in the triangle's box, so masking shows.
    let (_d, page) = setup(100, 60, &[(10, 10, 50, 40)]);
    let img = load_page_image(&page).unwrap();
    let tri = page.lines().next().unwrap();
    let crop = crop_line(&img, tri, &no_pad()).unwrap();
    assert_eq!(crop.dimensions(), (40, 30));
    // Inside the triangle: ink, bright after inversion (255 - 20).
    assert_eq!(crop.get_pixel(2, 2).0[0], 235);
    // Bottom-right corner is outside the triangle: paper, the window's
    // median (ink here, since the window is all ink) — fixed paper shows it.
    let fixed = CropOptions {
        paper: Paper::Fixed(255),
        ..no_pad()
    };
    let crop = crop_line(&img, tri, &fixed).unwrap();
    assert_eq!(crop.get_pixel(38, 28).0[0], 0);
    assert_eq!(crop.get_pixel(2, 2).0[0], 235);

    // Box mode keeps the whole window.
    let boxed = CropOptions {
        mode: CropMode::Box,
        ..fixed
    };
    let crop = crop_line(&img, tri, &boxed).unwrap();
    assert_eq!(crop.get_pixel(38, 28).0[0], 235);

    // Without inversion the page's own polarity is kept.
    let raw = CropOptions {
        invert: false,
        ..fixed
    };
    assert_eq!(crop_line(&img, tri, &raw).unwrap().get_pixel(2, 2).0[0], 20);
}

#[test]
fn local_median_paper_follows_the_page() {
    // A little ink on a light page: outside the polygon becomes the light
    // paper, i.e. dark after inversion.
    let (_d, page) = setup(100, 60, &[(12, 12, 20, 20), (40, 35, 50, 40)]);
    let img = load_page_image(&page).unwrap();
    let crop = crop_line(&img, page.lines().next().unwrap(), &no_pad()).unwrap();
    // (45, 37) in the page = (35, 27) in the crop: ink, but outside the triangle.
    assert_eq!(crop.get_pixel(35, 27).0[0], 255 - 230);
    assert_eq!(crop.get_pixel(4, 4).0[0], 235);
}

#[test]
fn padding_grows_the_window_and_the_mask() {
    let (_d, page) = setup(100, 60, &[(0, 0, 100, 60)]);
    let img = load_page_image(&page).unwrap();
    let tri = page.lines().next().unwrap();
    let opts = CropOptions {
        padding: 4,
        paper: Paper::Fixed(255),
        ..CropOptions::default()
    };
    let crop = crop_line(&img, tri, &opts).unwrap();
    assert_eq!(crop.dimensions(), (48, 38));
    // 2 px left of the polygon's left edge: inside the grown mask.
    assert_eq!(crop.get_pixel(2, 20).0[0], 235);
    // Far corner, beyond the hypotenuse by more than the padding: paper.
    assert_eq!(crop.get_pixel(46, 36).0[0], 0);
}

#[test]
fn coordinates_scale_with_the_image_and_clamp_to_the_page() {
    // The image is twice the XML's page size.
    let (_d, page) = setup(200, 120, &[]);
    let img = load_page_image(&page).unwrap();
    assert_eq!((img.sx, img.sy), (2.0, 2.0));
    let mut lines = page.lines();
    let tri = lines.next().unwrap();
    assert_eq!(
        crop_line(&img, tri, &no_pad()).unwrap().dimensions(),
        (80, 60)
    );
    // (80..130, 40..70) on a 100×60 page → (80..100, 40..60) → ×2.
    let edge = lines.next().unwrap();
    assert_eq!(
        crop_line(&img, edge, &no_pad()).unwrap().dimensions(),
        (40, 40)
    );
}

#[test]
fn target_height_keeps_the_aspect() {
    let (_d, page) = setup(100, 60, &[]);
    let img = load_page_image(&page).unwrap();
    let opts = CropOptions {
        target_height: Some(15),
        ..no_pad()
    };
    let crop = crop_line(&img, page.lines().next().unwrap(), &opts).unwrap();
    assert_eq!(crop.dimensions(), (20, 15));
}

#[test]
fn outlines_outside_or_without_area_are_skips() {
    let (_d, page) = setup(100, 60, &[]);
    let img = load_page_image(&page).unwrap();
    let opts = CropOptions::default();
    let away = [(120.0, 70.0), (150.0, 70.0), (150.0, 90.0)];
    assert_eq!(
        crop_polygon(&img, &away, &opts),
        Err(SkipReason::OutsidePage)
    );
    let negative = [(-50.0, -50.0), (-10.0, -50.0), (-10.0, -10.0)];
    assert_eq!(
        crop_polygon(&img, &negative, &opts),
        Err(SkipReason::OutsidePage)
    );
    let flat = [(10.0, 10.0), (20.0, 10.0), (30.0, 10.0)];
    assert_eq!(crop_polygon(&img, &flat, &opts), Err(SkipReason::ZeroArea));
    assert_eq!(crop_polygon(&img, &[], &opts), Err(SkipReason::NoGeometry));
    // Under 1 px² is no line; a sliver thinner than a pixel row but longer is
    // cropped as its box (no pixel centre lies inside it).
    let speck = [(10.0, 10.2), (11.0, 10.2), (11.0, 10.4), (10.0, 10.4)];
    assert_eq!(crop_polygon(&img, &speck, &opts), Err(SkipReason::ZeroArea));
    let sliver = [(10.0, 10.2), (60.0, 10.2), (60.0, 10.4), (10.0, 10.4)];
    let crop = crop_polygon(&img, &sliver, &no_pad()).unwrap();
    assert_eq!(crop.dimensions(), (50, 1));
}

#[test]
fn a_missing_or_unreadable_image_is_a_named_error() {
    let dir = tempfile::tempdir().unwrap();
    let xml = write(dir.path(), "p.xml", &page_xml("nowhere.png"));
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    let err = load_page_image(&page).unwrap_err();
    assert!(
        matches!(err.layout_kind(), Some(LayoutError::MissingImage { image }) if image.ends_with("nowhere.png")),
        "{err}"
    );
    assert!(err.to_string().contains("p.xml"), "{err}");

    write(dir.path(), "broken.png", "not a png");
    let xml = write(dir.path(), "q.xml", &page_xml("broken.png"));
    let page = read_page(&xml, &ReadOptions::default()).unwrap();
    let err = load_page_image(&page).unwrap_err();
    assert!(
        matches!(err.layout_kind(), Some(LayoutError::ImageDecode { .. })),
        "{err}"
    );
}

#[test]
fn image_and_xml_sizes_that_disagree_are_an_error() {
    // 2× wide but 1× tall: not the same page at another scale.
    let (_d, page) = setup(200, 60, &[]);
    let err = load_page_image(&page).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err.layout_kind(),
            Some(LayoutError::ImageSizeMismatch {
                image_w: 200,
                page_w: 100,
                ..
            })
        ),
        "{msg}"
    );
    assert!(msg.contains("200x60") && msg.contains("100x60"), "{msg}");
}
