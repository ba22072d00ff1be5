//! Fixtures for the layout tests, generated in code: page images, IAM form
//! XML. Nothing here reads real data.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use image::{GrayImage, Luma};

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// A `w × h` light page (grey 230) with dark ink (grey 20) in the given
/// rectangles `(x0, y0, x1, y1)` (pixel ranges, end exclusive).
pub fn page_image(w: u32, h: u32, ink: &[(u32, u32, u32, u32)]) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| {
        let inked = ink
            .iter()
            .any(|&(x0, y0, x1, y1)| (x0..x1).contains(&x) && (y0..y1).contains(&y));
        Luma([if inked { 20 } else { 230 }])
    })
}

/// Saves `img` as PNG at `dir/name`.
pub fn save(dir: &Path, name: &str, img: &GrayImage) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    img.save(&path).unwrap();
    path
}

/// XML attribute escaping.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One handwritten line of an IAM form fixture.
pub struct HandLine<'a> {
    pub id: &'a str,
    pub text: &'a str,
    pub segmentation: &'a str,
    /// Component boxes `(x, y, width, height)` in form pixels, one word each.
    pub cmps: Vec<(i64, i64, i64, i64)>,
}

/// An IAM form XML in the database's own layout (ISO-8859-1 declaration,
/// `form` root with the size in pixels, printed part, handwritten part).
pub fn iam_form_xml(
    id: &str,
    width: u32,
    height: u32,
    prompt: &[&str],
    lines: &[HandLine],
) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<form created=\"2002-01-14\" height=\"{height}\" id=\"{id}\" writer-id=\"000\" width=\"{width}\">\n<machine-printed-part>\n"
    );
    for p in prompt {
        s += &format!("<machine-print-line text=\"{}\"/>\n", esc(p));
    }
    s += "</machine-printed-part>\n<handwritten-part>\n";
    for l in lines {
        s += &format!(
            "<line id=\"{}\" segmentation=\"{}\" text=\"{}\" threshold=\"154\">\n",
            l.id,
            l.segmentation,
            esc(l.text)
        );
        for (k, (x, y, w, h)) in l.cmps.iter().enumerate() {
            s += &format!(
                "<word id=\"{}-{k:02}\" tag=\"NN\" text=\"w\">\n<cmp x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\"/>\n</word>\n",
                l.id
            );
        }
        s += "</line>\n";
    }
    s += "</handwritten-part>\n</form>\n";
    s
}
