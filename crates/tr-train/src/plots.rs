//! Line plots of training curves (loss, CER/accuracy, learning rate) as PNG,
//! drawn with plotters.
//!
//! The font (DejaVu Sans Mono, Bitstream Vera licence, see
//! `assets/DejaVuSansMono-LICENSE.txt`) is compiled in, so plots render the
//! same on machines without system fonts.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;

use crate::error::{Error, Result};

static FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono.ttf");
const FONT_NAME: &str = "tr-mono";

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT_NAME, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::config(
            "plots",
            "the embedded plot font could not be loaded",
        ))
    }
}

/// One named curve of `(x, y)` points.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
}

const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

/// Draws `series` (steps on x) into a 900×520 PNG at `path`. Non-finite
/// points are skipped; with `log_y` the y axis is logarithmic (positive values
/// only). Returns without writing when no series has a point.
pub fn line_plot(
    path: &Path,
    title: &str,
    y_label: &str,
    series: &[Series<'_>],
    log_y: bool,
) -> Result<bool> {
    register_font()?;
    let finite = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!log_y || y > 0.0);
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied().filter(finite))
        .collect();
    if all.is_empty() {
        return Ok(false);
    }
    let (mut x0, mut x1) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (mut y0, mut y1) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if x1 <= x0 {
        x0 -= 1.0;
        x1 += 1.0;
    }
    if y1 <= y0 {
        let pad = if y0 == 0.0 { 1.0 } else { y0.abs() * 0.1 };
        y0 -= if log_y { y0 * 0.5 } else { pad };
        y1 += pad;
    } else if !log_y {
        let pad = (y1 - y0) * 0.05;
        y0 -= pad;
        y1 += pad;
    }
    let draw_err =
        |e: &dyn std::fmt::Display| Error::config("plots", format!("{}: {e}", path.display()));
    {
        let root = BitMapBackend::new(path, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&e))?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(title, (FONT_NAME, 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc("step")
                    .y_desc(y_label)
                    .label_style((FONT_NAME, 14))
                    .axis_desc_style((FONT_NAME, 16))
                    .draw()
                    .map_err(|e| draw_err(&e))?;
                for (i, s) in series.iter().enumerate() {
                    let color = COLORS[i % COLORS.len()];
                    let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(finite).collect();
                    let style = ShapeStyle::from(&color).stroke_width(2);
                    chart
                        .draw_series(LineSeries::new(pts, style))
                        .map_err(|e| draw_err(&e))?
                        .label(s.name)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                }
                chart
                    .configure_series_labels()
                    .label_font((FONT_NAME, 14))
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .draw()
                    .map_err(|e| draw_err(&e))?;
            }};
        }
        if log_y {
            draw!(builder
                .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                .map_err(|e| draw_err(&e))?);
        } else {
            draw!(builder
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(|e| draw_err(&e))?);
        }
        root.present().map_err(|e| draw_err(&e))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_readable_png() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("loss.png");
        let train = Series {
            name: "train",
            points: (0..50)
                .map(|i| (i as f64, 3.0 / (1.0 + i as f64)))
                .collect(),
        };
        let val = Series {
            name: "val",
            points: vec![(10.0, 0.5), (20.0, f64::NAN), (30.0, 0.2)],
        };
        assert!(line_plot(&p, "loss", "loss", &[train, val], true).unwrap());
        let img = image::open(&p).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (900, 520));
        // Some pixels carry the first series' colour.
        assert!(img.pixels().any(|px| px.0 == [31, 119, 180]));
        assert!(!line_plot(
            &p,
            "x",
            "y",
            &[Series {
                name: "e",
                points: vec![]
            }],
            false
        )
        .unwrap());
    }
}
