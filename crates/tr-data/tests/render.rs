//! Sample sheets: layout sizes, ink where text and images are, and the
//! marking of wrong predictions.
#![cfg(feature = "full")]

use image::{GrayImage, Luma, Rgb, RgbImage};
use tr_data::render::{render_grid, save_png, GridOptions, Tile, BACKGROUND, CORRECT, INK, WRONG};

fn opts(columns: usize) -> GridOptions {
    GridOptions {
        columns: Some(columns),
        image_scale: Some(1),
        text_scale: 2,
        invert: true,
        wrap_chars: 48,
        padding: 8,
    }
}

/// Pixels of `color` in the box `[x0, x1) x [y0, y1)`.
fn count(img: &RgbImage, (x0, x1): (u32, u32), (y0, y1): (u32, u32), color: Rgb<u8>) -> usize {
    (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| *img.get_pixel(x, y) == color)
        .count()
}

#[test]
fn grid_has_the_computed_size_and_ink_only_where_text_is() {
    let mut ink = GrayImage::new(10, 6);
    ink.put_pixel(0, 0, Luma([255]));
    let tiles = [Tile::labelled(ink.clone(), "A"), Tile::labelled(ink, "")];
    let sheet = render_grid(&tiles, &opts(2)).unwrap();
    // Cell: max(10 + 2 frame, one 16 px glyph) = 16 wide; 6 + 2 + 4 gap + 20 line = 32 high.
    assert_eq!(sheet.dimensions(), (8 + 2 * (16 + 8), 8 + 32 + 8));
    // The bright ink pixel of each image is drawn dark on white, inside its 1 px frame.
    assert_eq!(*sheet.get_pixel(9, 9), Rgb([0, 0, 0]));
    assert_eq!(*sheet.get_pixel(10, 9), Rgb([255, 255, 255]));
    assert_eq!(*sheet.get_pixel(33, 9), Rgb([0, 0, 0]));
    // Caption band of tile 0 (y 20..36) holds the glyph 'A'; tile 1's is blank.
    let a = count(&sheet, (8, 24), (20, 36), INK);
    assert!(a > 40, "only {a} ink pixels for 'A'");
    assert_eq!(count(&sheet, (32, 48), (20, 36), INK), 0);
    // Nothing is drawn in the outer padding.
    assert_eq!(count(&sheet, (0, 56), (0, 8), BACKGROUND), 56 * 8);
}

#[test]
fn small_images_are_scaled_and_lines_keep_their_size() {
    let chars: Vec<Tile> = (0..6)
        .map(|i| Tile::labelled(GrayImage::new(28, 28), &i.to_string()))
        .collect();
    let o = GridOptions {
        columns: Some(3),
        ..GridOptions::default()
    };
    let sheet = render_grid(&chars, &o).unwrap();
    // 28 px doubled to 56, + 2 frame = 58 wide; 58 + 4 + 20 = 82 high; 3 x 2 cells.
    assert_eq!(sheet.dimensions(), (8 + 3 * (58 + 8), 8 + 2 * (82 + 8)));

    let line = Tile::labelled(GrayImage::new(896, 28), "A MOVE to stop Mr. Gaitskell from");
    let sheet = render_grid(&[line.clone(), line], &GridOptions::default()).unwrap();
    // Wide lines stack in one column at their own size.
    assert_eq!(sheet.dimensions(), (8 + 898 + 8, 8 + 2 * (30 + 4 + 20 + 8)));
}

#[test]
fn long_captions_wrap_and_newlines_break() {
    let o = GridOptions {
        wrap_chars: 4,
        ..opts(1)
    };
    let sheet = render_grid(
        &[Tile::labelled(GrayImage::new(10, 6), "abcdefghij\nk")],
        &o,
    )
    .unwrap();
    // "abcd", "efgh", "ij", "k": 4 lines of 20 px under a 6 + 2 px image, 4 px gap.
    assert_eq!(sheet.dimensions(), (8 + 64 + 8, 8 + 8 + 4 + 80 + 8));
}

#[test]
fn wrong_predictions_are_red_and_framed() {
    let img = GrayImage::new(20, 10);
    let sheet = render_grid(
        &[
            Tile::prediction(img.clone(), "cat", "cat"),
            Tile::prediction(img, "cot", "cat"),
        ],
        &opts(2),
    )
    .unwrap();
    let (w, h) = sheet.dimensions();
    let half = w / 2;
    assert!(count(&sheet, (0, half), (0, h), CORRECT) > 50);
    assert_eq!(count(&sheet, (0, half), (0, h), WRONG), 0);
    assert!(count(&sheet, (half, w), (0, h), WRONG) > 50);
    assert_eq!(count(&sheet, (half, w), (0, h), CORRECT), 0);
    // The frame runs around the wrong tile, in the padding above it.
    let frame_row = count(&sheet, (half, w), (4, 6), WRONG);
    assert!(frame_row > 2 * 100, "frame pixels {frame_row}");
}

#[test]
fn sheets_save_as_png_and_bad_requests_fail() {
    let sheet = render_grid(&[Tile::labelled(GrayImage::new(5, 5), "x")], &opts(1)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grid.png");
    save_png(&sheet, &path).unwrap();
    let back = image::open(&path).unwrap().to_rgb8();
    assert_eq!(back, sheet);

    let err = save_png(&sheet, &dir.path().join("missing/grid.png"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing/grid.png"), "{err}");
    assert!(render_grid(&[], &opts(1))
        .unwrap_err()
        .to_string()
        .contains("no samples"));
    let huge = vec![Tile::labelled(GrayImage::new(4000, 4000), ""); 8];
    let err = render_grid(&huge, &opts(1)).unwrap_err().to_string();
    assert!(err.contains("too large"), "{err}");
    let zero = GridOptions {
        text_scale: 0,
        ..opts(1)
    };
    assert!(render_grid(&[Tile::labelled(GrayImage::new(5, 5), "x")], &zero).is_err());
}
