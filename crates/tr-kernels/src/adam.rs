//! Adam/AdamW updates of `f32` CPU parameters in place, as candle in-place
//! ops: three passes over memory instead of ~15 tensor ops that each
//! allocate a parameter-sized result (the unfused update cost line-cnn-lstm
//! 40–75 ms per step; PyTorch's foreach Adam ~10 ms).
//!
//! The arithmetic is the unfused path's of `tr_train::optim`, operation for
//! operation, in `f32` with the same `f64` constants rounded the same way,
//! so both paths give the same parameters (checked bit for bit in
//! tr-train's optimizer tests and in `tests/adam.rs`):
//!
//! ```text
//! m ← b1·m + (1−b1)·g          v ← b2·v + (1−b2)·g²
//! p ← p·(1 − lr·wd) − (m / (√v / √bc2 + eps)) · (lr / bc1)
//! ```
//!
//! (the decay factor only for AdamW; Adam's L2 term is added to `g` first).
//! Which parameters take this path, and the optimizer state around it, are
//! the optimizer's business (`tr_train::optim::Optimizer`).

use candle_core::{CpuStorage, DType, InplaceOp2, InplaceOp3, Layout, Result, Tensor};
use rayon::prelude::*;

/// Elements per rayon task: big enough that the split costs nothing.
const CHUNK: usize = 1 << 15;

/// The contiguous `f32` values of a storage.
fn values<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => candle_core::bail!("fused Adam: {what} must be a contiguous f32 tensor"),
    }
}

/// The contiguous `f32` values of a storage, mutably.
fn values_mut<'a>(s: &'a mut CpuStorage, l: &Layout, what: &str) -> Result<&'a mut [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&mut v[a..b]),
        _ => candle_core::bail!("fused Adam: {what} must be a contiguous f32 tensor"),
    }
}

/// `dst ← decay·dst + (1−decay)·f(g)` with `f` the identity (first moment)
/// or the square (second moment).
struct Moment {
    decay: f64,
    square: bool,
}

impl InplaceOp2 for Moment {
    fn name(&self) -> &'static str {
        "fused-adam-moment"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let m = values_mut(s1, l1, "moment")?;
        let g = values(s2, l2, "gradient")?;
        if m.len() != g.len() {
            candle_core::bail!(
                "fused Adam: moment has {} values, gradient {}",
                m.len(),
                g.len()
            )
        }
        // As candle's affine ops: the constants are rounded to f32 first.
        let (keep, take) = (self.decay as f32, (1.0 - self.decay) as f32);
        let square = self.square;
        m.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .for_each(|(m, g)| {
                for (m, &g) in m.iter_mut().zip(g) {
                    let g = if square { g * g } else { g };
                    *m = *m * keep + g * take;
                }
            });
        Ok(())
    }
}

/// `p ← p·shrink − (m / (√v·inv_sqrt_bc2 + eps))·step`.
struct Update {
    /// `1 − lr·wd` (AdamW) or 1.
    shrink: f64,
    /// `1 / √bc2`.
    inv_sqrt_bc2: f64,
    eps: f64,
    /// `lr / bc1`.
    step: f64,
}

impl InplaceOp3 for Update {
    fn name(&self) -> &'static str {
        "fused-adam-update"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<()> {
        let p = values_mut(s1, l1, "parameter")?;
        let m = values(s2, l2, "first moment")?;
        let v = values(s3, l3, "second moment")?;
        if p.len() != m.len() || p.len() != v.len() {
            candle_core::bail!(
                "fused Adam: parameter has {} values, moments {} and {}",
                p.len(),
                m.len(),
                v.len()
            )
        }
        let shrink = self.shrink as f32;
        let scale = self.inv_sqrt_bc2 as f32;
        let (eps, step) = (self.eps as f32, self.step as f32);
        p.par_chunks_mut(CHUNK)
            .zip(m.par_chunks(CHUNK).zip(v.par_chunks(CHUNK)))
            .for_each(|(p, (m, v))| {
                for ((p, &m), &v) in p.iter_mut().zip(m).zip(v) {
                    let denom = v.sqrt() * scale + eps;
                    let base = if shrink == 1.0 { *p } else { *p * shrink };
                    *p = base - (m / denom) * step;
                }
            });
        Ok(())
    }
}

/// Hyper-parameters of one Adam/AdamW step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    pub b1: f64,
    pub b2: f64,
    pub eps: f64,
    pub lr: f64,
    /// Bias corrections `1 − b1^t`, `1 − b2^t`.
    pub bc1: f64,
    pub bc2: f64,
    /// AdamW's decoupled decay `lr·wd` (0 for Adam).
    pub decoupled_decay: f64,
}

/// One Adam/AdamW step: updates the parameter `p` and the moments `m`, `v`
/// in place from the gradient `g` (`m`, `v` created as zeros when `None`,
/// which gives the same values as the unfused first step).
///
/// `p` must be a contiguous `f32` CPU tensor and `g` an `f32` CPU tensor of
/// the same size; anything else is an error, never a silent fallback.
pub fn adam_in_place(
    p: &Tensor,
    g: &Tensor,
    m: &mut Option<Tensor>,
    v: &mut Option<Tensor>,
    s: &AdamStep,
) -> Result<()> {
    // Checked before anything is written, so an error leaves the state alone.
    let f32_cpu = |t: &Tensor| t.device().is_cpu() && t.dtype() == DType::F32;
    if !f32_cpu(p) || !p.is_contiguous() || !f32_cpu(g) {
        candle_core::bail!(
            "fused Adam: expected a contiguous f32 CPU parameter and an f32 CPU gradient, found {:?} {:?} and {:?} {:?}",
            p.dtype(),
            p.device().location(),
            g.dtype(),
            g.device().location()
        )
    }
    if p.elem_count() != g.elem_count() {
        candle_core::bail!(
            "fused Adam: parameter has {} values, gradient {}",
            p.elem_count(),
            g.elem_count()
        )
    }
    let g = g.contiguous()?;
    let m = match m {
        Some(m) => m,
        None => m.insert(p.zeros_like()?),
    };
    let v = match v {
        Some(v) => v,
        None => v.insert(p.zeros_like()?),
    };
    m.inplace_op2(
        &g,
        &Moment {
            decay: s.b1,
            square: false,
        },
    )?;
    v.inplace_op2(
        &g,
        &Moment {
            decay: s.b2,
            square: true,
        },
    )?;
    p.inplace_op3(
        m,
        v,
        &Update {
            shrink: 1.0 - s.decoupled_decay,
            inv_sqrt_bc2: 1.0 / s.bc2.sqrt(),
            eps: s.eps,
            step: s.lr / s.bc1,
        },
    )
}
