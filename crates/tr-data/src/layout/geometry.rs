//! Points, boxes and polygons of a page, in page pixels (`x` right, `y` down,
//! origin at the top-left corner), and the parsers of their text forms.

/// A point `(x, y)` in page pixels.
pub type Point = (f32, f32);

/// An axis-aligned box `[x0, x1) × [y0, y1)` in page pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl BBox {
    /// The box at `(x, y)` of size `w × h` (ALTO's HPOS/VPOS/WIDTH/HEIGHT).
    pub fn from_xywh(x: f32, y: f32, w: f32, h: f32) -> Self {
        BBox {
            x0: x,
            y0: y,
            x1: x + w,
            y1: y + h,
        }
    }

    /// The smallest box holding every point; `None` for no points.
    pub fn of_points(points: &[Point]) -> Option<Self> {
        let (&(x, y), rest) = points.split_first()?;
        Some(rest.iter().fold(
            BBox {
                x0: x,
                y0: y,
                x1: x,
                y1: y,
            },
            |b, &(x, y)| BBox {
                x0: b.x0.min(x),
                y0: b.y0.min(y),
                x1: b.x1.max(x),
                y1: b.y1.max(y),
            },
        ))
    }

    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    /// The smallest box holding both.
    pub fn union(&self, other: &BBox) -> BBox {
        BBox {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    /// This box cut to `[0, w] × [0, h]` (may become empty).
    pub fn clamp(&self, w: f32, h: f32) -> BBox {
        BBox {
            x0: self.x0.clamp(0.0, w),
            y0: self.y0.clamp(0.0, h),
            x1: self.x1.clamp(0.0, w),
            y1: self.y1.clamp(0.0, h),
        }
    }

    /// The four corners, clockwise from the top-left.
    pub fn corners(&self) -> Vec<Point> {
        vec![
            (self.x0, self.y0),
            (self.x1, self.y0),
            (self.x1, self.y1),
            (self.x0, self.y1),
        ]
    }

    /// Every coordinate multiplied by `(sx, sy)`.
    pub fn scaled(&self, sx: f32, sy: f32) -> BBox {
        BBox {
            x0: self.x0 * sx,
            y0: self.y0 * sy,
            x1: self.x1 * sx,
            y1: self.y1 * sy,
        }
    }
}

/// Parses a point list written `x,y x,y …` (PAGE, ALTO 4 with commas) or
/// `x y x y …` (ALTO `POINTS`/`BASELINE` without commas); any mix of commas
/// and white space separates numbers. Numbers may be fractional or negative.
///
/// Errors (as a message for a skip or an attribute error): a token that is
/// not a number, or an odd count of numbers.
pub fn parse_points(s: &str) -> Result<Vec<Point>, String> {
    let numbers = s
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| parse_number(t).ok_or_else(|| format!("{t:?} is not a number")))
        .collect::<Result<Vec<f32>, String>>()?;
    if numbers.len() % 2 != 0 {
        return Err(format!(
            "{} numbers: expected x,y pairs (an even count)",
            numbers.len()
        ));
    }
    Ok(numbers.chunks_exact(2).map(|p| (p[0], p[1])).collect())
}

/// A finite decimal number (`12`, `192.0`, `-3.5`, `1e2`).
pub fn parse_number(s: &str) -> Option<f32> {
    s.trim().parse::<f32>().ok().filter(|v| v.is_finite())
}

/// Area of a simple polygon (shoelace formula, absolute value).
pub fn polygon_area(points: &[Point]) -> f32 {
    if points.len() < 3 {
        return 0.0;
    }
    let mut twice = 0.0f64;
    for (i, &(x0, y0)) in points.iter().enumerate() {
        let (x1, y1) = points[(i + 1) % points.len()];
        twice += f64::from(x0) * f64::from(y1) - f64::from(x1) * f64::from(y0);
    }
    (twice.abs() / 2.0) as f32
}

/// Every point moved into `[0, w] × [0, h]`.
pub fn clamp_points(points: &[Point], w: f32, h: f32) -> Vec<Point> {
    points
        .iter()
        .map(|&(x, y)| (x.clamp(0.0, w), y.clamp(0.0, h)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_point_forms_parse() {
        let page = parse_points("1,2 3,4 5.5,-6").unwrap();
        let alto = parse_points("1 2 3 4   5.5 -6\n").unwrap();
        assert_eq!(page, vec![(1.0, 2.0), (3.0, 4.0), (5.5, -6.0)]);
        assert_eq!(page, alto);
        assert!(parse_points("1,2 3").is_err());
        assert!(parse_points("1,2 x,4").is_err());
        assert!(parse_points("").unwrap().is_empty());
    }

    #[test]
    fn area_and_boxes() {
        let square = [(0.0, 0.0), (4.0, 0.0), (4.0, 3.0), (0.0, 3.0)];
        assert_eq!(polygon_area(&square), 12.0);
        assert_eq!(polygon_area(&[(0.0, 0.0), (5.0, 0.0), (9.0, 0.0)]), 0.0);
        let b = BBox::of_points(&square).unwrap();
        assert_eq!((b.width(), b.height()), (4.0, 3.0));
        assert_eq!(b.clamp(2.0, 10.0).area(), 6.0);
        assert_eq!(
            BBox::from_xywh(-5.0, -5.0, 2.0, 2.0).clamp(9.0, 9.0).area(),
            0.0
        );
    }
}
