//! `font-lines` on generated fonts (a minimal TrueType file built here, one
//! box-shaped glyph per character) and a generated Brown corpus: rendering,
//! coverage (a text a font lacks is drawn with another font), determinism,
//! the cache (reused; rebuilt when a font changes) and bad fonts. Nothing
//! here reads real data or system fonts.

mod common;

use std::path::Path;

use tr_data::datasets::FontLinesConfig;
use tr_data::datasets::Target;
use tr_data::DataDir;

/// A TrueType font whose glyphs are filled boxes, one per char of `chars`
/// (box height varies with the glyph so different letters look different;
/// lower-case boxes are half as tall as capitals unless `caps`).
fn tiny_font_with(chars: &str, width: i16, caps: bool) -> Vec<u8> {
    let chars: Vec<char> = chars.chars().collect();
    let n = chars.len() as u16 + 1; // glyph 0 is .notdef
    let be16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_be_bytes());
    let be32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_be_bytes());
    // glyf + loca (long offsets).
    let (mut glyf, mut loca) = (Vec::new(), Vec::new());
    be32(&mut loca, 0);
    for (i, c) in chars.iter().enumerate() {
        let top = if c.is_lowercase() && !caps {
            300 + 10 * (i as i16 % 5)
        } else {
            600 + 20 * (i as i16 % 5)
        };
        let mut g = Vec::new();
        for v in [1i16, 50, 0, 50 + width, top] {
            be16(&mut g, v as u16); // contours, xMin, yMin, xMax, yMax
        }
        be16(&mut g, 3); // end point of the contour
        be16(&mut g, 0); // no instructions
        g.extend_from_slice(&[1, 1, 1, 1]); // on-curve, long coordinates
        for dx in [50i16, width, 0, -width] {
            be16(&mut g, dx as u16);
        }
        for dy in [0i16, 0, top, 0] {
            be16(&mut g, dy as u16);
        }
        if g.len() % 2 == 1 {
            g.push(0);
        }
        glyf.extend(g);
        be32(&mut loca, glyf.len() as u32);
    }
    let mut head = Vec::new();
    be32(&mut head, 0x0001_0000);
    be32(&mut head, 0x0001_0000);
    be32(&mut head, 0);
    be32(&mut head, 0x5F0F_3CF5);
    be16(&mut head, 0);
    be16(&mut head, 1000); // units per em
    head.extend_from_slice(&[0; 16]); // created, modified
    for v in [0i16, -200, 1000, 800] {
        be16(&mut head, v as u16);
    }
    be16(&mut head, 0);
    be16(&mut head, 8);
    be16(&mut head, 2);
    be16(&mut head, 1); // long loca
    be16(&mut head, 0);
    let mut hhea = Vec::new();
    be32(&mut hhea, 0x0001_0000);
    for v in [800i16, -200, 0] {
        be16(&mut hhea, v as u16);
    }
    be16(&mut hhea, (width + 100) as u16);
    for v in [0i16, 0, width + 50, 1, 0, 0, 0, 0, 0, 0, 0] {
        be16(&mut hhea, v as u16);
    }
    be16(&mut hhea, n);
    let mut maxp = Vec::new();
    be32(&mut maxp, 0x0000_5000);
    be16(&mut maxp, n);
    let mut hmtx = Vec::new();
    for _ in 0..n {
        be16(&mut hmtx, (width + 100) as u16);
        be16(&mut hmtx, 50);
    }
    // cmap: one Unicode subtable of format 12, one group per character.
    let mut cmap = Vec::new();
    be16(&mut cmap, 0);
    be16(&mut cmap, 1);
    be16(&mut cmap, 0); // platform Unicode
    be16(&mut cmap, 4); // encoding: full repertoire
    be32(&mut cmap, 12);
    be16(&mut cmap, 12);
    be16(&mut cmap, 0);
    be32(&mut cmap, 16 + 12 * chars.len() as u32);
    be32(&mut cmap, 0);
    be32(&mut cmap, chars.len() as u32);
    let mut sorted: Vec<(u32, u32)> = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| (c as u32, i as u32 + 1))
        .collect();
    sorted.sort();
    for (c, g) in sorted {
        be32(&mut cmap, c);
        be32(&mut cmap, c);
        be32(&mut cmap, g);
    }
    let tables: [(&[u8; 4], Vec<u8>); 7] = [
        (b"cmap", cmap),
        (b"glyf", glyf),
        (b"head", head),
        (b"hhea", hhea),
        (b"hmtx", hmtx),
        (b"loca", loca),
        (b"maxp", maxp),
    ];
    let mut out = Vec::new();
    be32(&mut out, 0x0001_0000);
    be16(&mut out, tables.len() as u16);
    for v in [64u16, 2, 48] {
        be16(&mut out, v);
    }
    let mut offset = 12 + 16 * tables.len() as u32;
    let mut body = Vec::new();
    for (tag, data) in &tables {
        out.extend_from_slice(*tag);
        be32(&mut out, 0);
        be32(&mut out, offset);
        be32(&mut out, data.len() as u32);
        body.extend_from_slice(data);
        while body.len() % 4 != 0 {
            body.push(0);
        }
        offset = 12 + 16 * tables.len() as u32 + body.len() as u32;
    }
    out.extend(body);
    out
}

fn tiny_font(chars: &str, width: i16) -> Vec<u8> {
    tiny_font_with(chars, width, false)
}

const LETTERS: &str = "TheABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.,$";

fn setup(root: &Path) -> FontLinesConfig {
    common::write_brown(root);
    let fonts = root.join("fonts");
    std::fs::create_dir_all(&fonts).unwrap();
    std::fs::write(fonts.join("boxes.ttf"), tiny_font(LETTERS, 400)).unwrap();
    // Lacks most letters: texts must fall back to the first font.
    std::fs::write(fonts.join("narrow.otf"), tiny_font("Tha", 200)).unwrap();
    std::fs::write(fonts.join("notes.txt"), "not a font").unwrap();
    FontLinesConfig {
        fonts_dir: fonts,
        num_train: 12,
        num_val: 3,
        num_test: 3,
        height: 16,
        width: 200,
        min_chars: 4,
        max_chars: 20,
        ..FontLinesConfig::default()
    }
}

#[test]
fn renders_deterministic_lines_with_covering_fonts() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = setup(tmp.path());
    let dir = DataDir::new(tmp.path());
    let m = cfg.build(&dir).unwrap();
    assert_eq!((m.train.len(), m.val.len(), m.test.len()), (12, 3, 3));
    assert_eq!(m.input_shape, [1, 16, 200]);
    let report = m.crops.as_deref().unwrap();
    assert_eq!(report.splits[0].height.max, 16);
    for i in 0..m.train.len() {
        let s = m.train.get(i, 0).unwrap();
        assert_eq!(s.image.dimensions(), (200, 16));
        let ink: u64 = s.image.iter().map(|&v| u64::from(v)).sum();
        assert!(ink > 0, "line {i} is blank");
        let Target::Sequence(labels) = s.target else {
            panic!()
        };
        let text = m.vocab.decode(&labels).unwrap();
        assert!(
            (4..=20).contains(&text.chars().count()) || text.split(' ').count() == 1,
            "{text:?}"
        );
    }
    // Same settings: the same images (from the cache now), another seed: others.
    let again = cfg.build(&dir).unwrap();
    assert!(
        again.notes.iter().any(|n| n.contains("loaded")),
        "{:?}",
        again.notes
    );
    assert_eq!(
        m.train.get(5, 0).unwrap().image,
        again.train.get(5, 0).unwrap().image
    );
    let other = FontLinesConfig {
        seed: 7,
        ..cfg.clone()
    }
    .build(&dir)
    .unwrap();
    assert_ne!(
        m.train.get(5, 0).unwrap().image,
        other.train.get(5, 0).unwrap().image
    );

    // A changed font file (same name): rebuilt.
    std::fs::write(cfg.fonts_dir.join("boxes.ttf"), tiny_font(LETTERS, 300)).unwrap();
    let changed = cfg.build(&dir).unwrap();
    assert!(
        changed.notes.iter().any(|n| n.contains("extracted")),
        "{:?}",
        changed.notes
    );
}

#[test]
fn bad_fonts_and_missing_corpora_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = setup(tmp.path());
    std::fs::write(cfg.fonts_dir.join("broken.ttf"), b"definitely not a font").unwrap();
    let err = cfg
        .build(&DataDir::new(tmp.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.ttf") && err.contains("font"), "{err}");

    let empty = tmp.path().join("nofonts");
    std::fs::create_dir_all(&empty).unwrap();
    let err = FontLinesConfig {
        fonts_dir: empty,
        ..cfg.clone()
    }
    .build(&DataDir::new(tmp.path()))
    .unwrap_err()
    .to_string();
    assert!(err.contains("no .ttf or .otf"), "{err}");

    std::fs::remove_file(cfg.fonts_dir.join("broken.ttf")).unwrap();
    let err = cfg
        .build(&DataDir::new(tmp.path().join("elsewhere")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("brown"), "{err}");
}

#[test]
fn caps_faces_never_draw_lower_case_text() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = setup(tmp.path());
    // Only a caps face: every Brown snippet has lower case, so nothing can be drawn.
    for f in ["boxes.ttf", "narrow.otf"] {
        std::fs::remove_file(cfg.fonts_dir.join(f)).unwrap();
    }
    std::fs::write(
        cfg.fonts_dir.join("caps.ttf"),
        tiny_font_with(LETTERS, 400, true),
    )
    .unwrap();
    let err = cfg
        .build(&DataDir::new(tmp.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no crops"), "{err}");
    // With a hand font beside it, lines are drawn (by the hand font) and the notes count the caps face.
    std::fs::write(cfg.fonts_dir.join("hand.ttf"), tiny_font(LETTERS, 400)).unwrap();
    let m = cfg.build(&DataDir::new(tmp.path())).unwrap();
    assert_eq!(m.train.len(), 12);
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("(1 draw lower case as capitals")),
        "{:?}",
        m.notes
    );
}
