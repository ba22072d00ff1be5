//! Sinusoidal positional encodings of the course (`transformer_util.py`).
//!
//! * [`PositionalEncoding`]: "Attention is all you need" encoding of
//!   sequence positions, `pe[p, 2i] = sin(p·10000^(-2i/d))`,
//!   `pe[p, 2i+1] = cos(p·10000^(-2i/d))`, added to `(B, S, E)` sequences,
//!   followed by dropout (the course's default `p = 0.1`).
//! * [`PositionalEncodingImage`]: the 2-D version for `(B, E, H, W)` feature
//!   maps: the first `E/2` channels encode the row (1-D encoding of width
//!   `E/2` over `y`), the other `E/2` the column; no dropout.
//!
//! Tables are precomputed for the sizes the model expects and recomputed on
//! the fly for larger inputs (the course pre-allocated 5000 positions, and a
//! full-image-size 2-D table, `E × 576 × 640` floats for paragraphs; only the
//! feature-map size is ever read).

use candle_core::{Device, Result, Tensor};

use super::dropout::Dropout;

/// `(len, d)` table of the 1-D encoding; `d` must be even.
pub fn sinusoid_table(len: usize, d: usize, device: &Device) -> Result<Tensor> {
    if !d.is_multiple_of(2) {
        candle_core::bail!("sinusoidal positional encoding needs an even width, got {d}")
    }
    let mut data = vec![0f32; len * d];
    let scale = -(10000f64.ln()) / d as f64;
    for p in 0..len {
        for i in 0..d / 2 {
            let angle = p as f64 * ((2 * i) as f64 * scale).exp();
            data[p * d + 2 * i] = angle.sin() as f32;
            data[p * d + 2 * i + 1] = angle.cos() as f32;
        }
    }
    Tensor::from_vec(data, (len, d), device)
}

/// `(d, h, w)` table of the 2-D encoding; `d` must be divisible by 4.
pub fn image_table(d: usize, h: usize, w: usize, device: &Device) -> Result<Tensor> {
    if !d.is_multiple_of(4) {
        candle_core::bail!("2-D positional encoding needs a width divisible by 4, got {d}")
    }
    let half = d / 2;
    let rows = sinusoid_table(h, half, device)?
        .t()?
        .reshape((half, h, 1))?
        .broadcast_as((half, h, w))?;
    let cols = sinusoid_table(w, half, device)?
        .t()?
        .reshape((half, 1, w))?
        .broadcast_as((half, h, w))?;
    Tensor::cat(&[rows, cols], 0)?.contiguous()
}

/// Adds the 1-D encoding to `(B, S, E)` sequences, then dropout.
#[derive(Clone, Debug)]
pub struct PositionalEncoding {
    /// `(max_len, E)`
    table: Tensor,
    dropout: Dropout,
}

impl PositionalEncoding {
    /// Precomputes `max_len` positions of width `dim` (even).
    pub fn new(dim: usize, max_len: usize, dropout: f32, device: &Device) -> Result<Self> {
        Ok(Self {
            table: sinusoid_table(max_len, dim, device)?,
            dropout: Dropout::new(dropout),
        })
    }

    /// `(len, E)` rows `start..start+len` of the table.
    fn rows(&self, start: usize, len: usize) -> Result<Tensor> {
        let (max_len, dim) = self.table.dims2()?;
        if start + len <= max_len {
            self.table.narrow(0, start, len)
        } else {
            sinusoid_table(start + len, dim, self.table.device())?.narrow(0, start, len)
        }
    }

    /// `(B, S, E)` → `(B, S, E)`: adds positions `0..S`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let (_, s, _) = x.dims3()?;
        let x = x.broadcast_add(&self.rows(0, s)?.unsqueeze(0)?)?;
        self.dropout.forward(&x, train)
    }

    /// Evaluation mode, one position: `(B, 1, E)` → `(B, 1, E)` with position `pos` added.
    pub fn forward_at(&self, x: &Tensor, pos: usize) -> Result<Tensor> {
        x.broadcast_add(&self.rows(pos, 1)?.unsqueeze(0)?)
    }
}

/// Adds the 2-D encoding to `(B, E, H, W)` feature maps.
#[derive(Clone, Debug)]
pub struct PositionalEncodingImage {
    /// `(E, max_h, max_w)`
    table: Tensor,
}

impl PositionalEncodingImage {
    /// Precomputes a `max_h × max_w` table of width `dim` (divisible by 4).
    pub fn new(dim: usize, max_h: usize, max_w: usize, device: &Device) -> Result<Self> {
        Ok(Self {
            table: image_table(dim, max_h, max_w, device)?,
        })
    }

    /// `(B, E, H, W)` → `(B, E, H, W)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (_, e, h, w) = x.dims4()?;
        let (te, th, tw) = self.table.dims3()?;
        if e != te {
            candle_core::bail!("2-D positional encoding of width {te} applied to {e} channels")
        }
        let pe = if h <= th && w <= tw {
            self.table.narrow(1, 0, h)?.narrow(2, 0, w)?
        } else {
            image_table(e, h, w, x.device())?
        };
        x.broadcast_add(&pe.unsqueeze(0)?)
    }
}
