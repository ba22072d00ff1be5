//! The recurrence of one (bi)directional LSTM layer on the CPU as a candle
//! custom op, with backpropagation through time.
//!
//! Input: the pre-computed input projections `xw` `(S, B, D·4H)` (`W_ih x +
//! b_ih + b_hh` for every step and direction, one matmul outside) and the
//! recurrent weights `w_hh` `(D, 4H, H)`; output `(S, B, D·H)` hidden
//! states in PyTorch's layout (forward direction first; the backward
//! direction runs from the last step to the first). Per step and direction
//! the kernel does one `(B, H) · (H, 4H)` gemm accumulated onto the
//! projections, then the fused gate math (PyTorch's gate order `i, f, g, o`):
//!
//! ```text
//! c' = σ(a_f) c + σ(a_i) tanh(a_g)      h' = σ(a_o) tanh(c')
//! ```
//!
//! The activated gates, cells and hidden states stay in the op for the
//! backward pass, which walks time backwards with one `(B, 4H) · (4H, H)`
//! gemm per step and computes the recurrent weight gradient as a single
//! gemm over all steps. The directions run in parallel on rayon threads.

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};

use super::activation::{sigmoid_in_place, tanh_in_place};
use super::{cpu_f32, gemm, host, threads, MatRef};

/// Sizes of one call.
#[derive(Clone, Copy, Debug)]
struct Dims {
    s: usize,
    b: usize,
    d: usize,
    h: usize,
}

impl Dims {
    fn new(xw: &Shape, w: &Shape) -> Result<Self> {
        let (s, b, dg) = xw.dims3()?;
        let (d, g4, h) = w.dims3()?;
        if g4 != 4 * h || dg != d * g4 || d == 0 {
            candle_core::bail!("LSTM recurrence: projections {xw:?} do not fit weights {w:?}")
        }
        Ok(Self { s, b, d, h })
    }

    /// Time step read at processing step `step` of direction `dir`.
    fn time(&self, dir: usize, step: usize) -> usize {
        if dir == 0 {
            step
        } else {
            self.s - 1 - step
        }
    }

    /// Threads per direction's gemm when the directions run in parallel.
    fn gemm_threads(&self) -> usize {
        (threads() / self.d).max(1)
    }
}

/// What one direction's forward pass keeps, in processing order.
#[derive(Default)]
struct DirCache {
    /// `(S, B, 4H)` activated gates `i, f, g, o`.
    acts: Vec<f32>,
    /// `(S, B, H)` cells.
    cells: Vec<f32>,
    /// `(S, B, H)` hidden states.
    hs: Vec<f32>,
}

/// Forward pass of direction `dir`.
fn forward_dir(xw: &[f32], w_hh: &[f32], m: &Dims, dir: usize, t: usize) -> DirCache {
    let (s, b, h, d) = (m.s, m.b, m.h, m.d);
    let g4 = 4 * h;
    let w = &w_hh[dir * g4 * h..(dir + 1) * g4 * h];
    let mut c = DirCache {
        acts: vec![0.0; s * b * g4],
        cells: vec![0.0; s * b * h],
        hs: vec![0.0; s * b * h],
    };
    for step in 0..s {
        let time = m.time(dir, step);
        let gates = &mut c.acts[step * b * g4..(step + 1) * b * g4];
        for bi in 0..b {
            let at = (time * b + bi) * d * g4 + dir * g4;
            gates[bi * g4..(bi + 1) * g4].copy_from_slice(&xw[at..at + g4]);
        }
        let (prev_cells, cur_cells) = c.cells.split_at_mut(step * b * h);
        let (prev_hs, cur_hs) = c.hs.split_at_mut(step * b * h);
        if step > 0 {
            let h_prev = &prev_hs[(step - 1) * b * h..];
            gemm(
                (b, g4, h),
                gates,
                MatRef::rows(g4),
                true,
                h_prev,
                MatRef::rows(h),
                w,
                MatRef::transposed(h),
                t,
            );
        }
        for bi in 0..b {
            let a = &mut gates[bi * g4..(bi + 1) * g4];
            // Gate order i, f, g, o: σ on i and f, tanh on g, σ on o.
            sigmoid_in_place(&mut a[..2 * h]);
            tanh_in_place(&mut a[2 * h..3 * h]);
            sigmoid_in_place(&mut a[3 * h..]);
            let (ifg, o) = a.split_at(3 * h);
            let (i, rest) = ifg.split_at(h);
            let (f, g) = rest.split_at(h);
            let cell = &mut cur_cells[bi * h..(bi + 1) * h];
            let ig = cell.iter_mut().zip(i.iter().zip(g));
            if step > 0 {
                let c_prev = &prev_cells[((step - 1) * b + bi) * h..][..h];
                for ((cell, (i, g)), (f, cp)) in ig.zip(f.iter().zip(c_prev)) {
                    *cell = f * cp + i * g;
                }
            } else {
                ig.for_each(|(cell, (i, g))| *cell = i * g);
            }
            let hid = &mut cur_hs[bi * h..(bi + 1) * h];
            hid.copy_from_slice(cell);
            tanh_in_place(hid);
            hid.iter_mut().zip(o).for_each(|(v, o)| *v *= o);
        }
    }
    c
}

/// Backward pass of direction `dir`: `(dA (S, B, 4H) in processing order, dW_hh (4H, H))`.
fn backward_dir(
    dy: &[f32],
    w_hh: &[f32],
    m: &Dims,
    dir: usize,
    c: &DirCache,
    t: usize,
) -> (Vec<f32>, Vec<f32>) {
    let (s, b, h, d) = (m.s, m.b, m.h, m.d);
    let g4 = 4 * h;
    let w = &w_hh[dir * g4 * h..(dir + 1) * g4 * h];
    let mut da = vec![0f32; s * b * g4];
    let mut dh_next = vec![0f32; b * h];
    let mut dc_next = vec![0f32; b * h];
    let mut tanh_cell = vec![0f32; h];
    for step in (0..s).rev() {
        let time = m.time(dir, step);
        let da_step = &mut da[step * b * g4..(step + 1) * b * g4];
        for bi in 0..b {
            let acts = &c.acts[(step * b + bi) * g4..(step * b + bi + 1) * g4];
            let out = &mut da_step[bi * g4..(bi + 1) * g4];
            let dy_row = &dy[(time * b + bi) * d * h + dir * h..][..h];
            tanh_cell.copy_from_slice(&c.cells[(step * b + bi) * h..][..h]);
            tanh_in_place(&mut tanh_cell);
            for j in 0..h {
                let k = bi * h + j;
                let (i, f, g, o) = (acts[j], acts[h + j], acts[2 * h + j], acts[3 * h + j]);
                let c_prev = if step > 0 {
                    c.cells[(step - 1) * b * h + k]
                } else {
                    0.0
                };
                let tc = tanh_cell[j];
                let dh = dy_row[j] + dh_next[k];
                let dc = dh * o * (1.0 - tc * tc) + dc_next[k];
                out[j] = dc * g * i * (1.0 - i);
                out[h + j] = dc * c_prev * f * (1.0 - f);
                out[2 * h + j] = dc * i * (1.0 - g * g);
                out[3 * h + j] = dh * tc * o * (1.0 - o);
                dc_next[k] = dc * f;
            }
        }
        if step > 0 {
            gemm(
                (b, h, g4),
                &mut dh_next,
                MatRef::rows(h),
                false,
                da_step,
                MatRef::rows(g4),
                w,
                MatRef::rows(h),
                t,
            );
        }
    }
    // dW_hh = Σ_{step ≥ 1} dA[step]ᵀ · h[step − 1].
    let mut dw = vec![0f32; g4 * h];
    if s > 1 {
        gemm(
            (g4, h, (s - 1) * b),
            &mut dw,
            MatRef::rows(h),
            false,
            &da[b * g4..],
            MatRef::transposed(g4),
            &c.hs[..(s - 1) * b * h],
            MatRef::rows(h),
            threads(),
        );
    }
    (da, dw)
}

/// Runs `f(dir, gemm_threads)` for every direction, in parallel when there
/// are several directions and threads.
fn per_direction<R: Send>(m: &Dims, f: impl Fn(usize, usize) -> R + Sync) -> Vec<R> {
    if m.d == 2 && threads() >= 2 {
        let t = m.gemm_threads();
        let (a, b) = rayon::join(|| f(0, t), || f(1, t));
        vec![a, b]
    } else {
        (0..m.d).map(|dir| f(dir, threads())).collect()
    }
}

/// The custom op; keeps the forward pass's gates, cells and hidden states.
struct LstmOp {
    cache: Mutex<Vec<DirCache>>,
}

impl CustomOp2 for LstmOp {
    fn name(&self) -> &'static str {
        "tr-lstm-recurrence"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let m = Dims::new(l1.shape(), l2.shape())?;
        let xw = cpu_f32(s1, l1, "LSTM projections")?;
        let w = cpu_f32(s2, l2, "LSTM recurrent weights")?;
        let caches = per_direction(&m, |dir, t| forward_dir(xw, w, &m, dir, t));
        let (s, b, h, d) = (m.s, m.b, m.h, m.d);
        let mut y = vec![0f32; s * b * d * h];
        for (dir, c) in caches.iter().enumerate() {
            for step in 0..s {
                let time = m.time(dir, step);
                for bi in 0..b {
                    let at = (time * b + bi) * d * h + dir * h;
                    y[at..at + h].copy_from_slice(&c.hs[(step * b + bi) * h..][..h]);
                }
            }
        }
        *self
            .cache
            .lock()
            .map_err(|_| candle_core::Error::msg("LSTM: poisoned cache"))? = caches;
        Ok((CpuStorage::F32(y), Shape::from((s, b, d * h))))
    }

    fn bwd(
        &self,
        xw: &Tensor,
        w_hh: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let m = Dims::new(xw.shape(), w_hh.shape())?;
        let caches = self
            .cache
            .lock()
            .map_err(|_| candle_core::Error::msg("LSTM: poisoned cache"))?;
        if caches.len() != m.d {
            candle_core::bail!("LSTM backward: no forward pass recorded")
        }
        let (w_hh, grad) = (w_hh.contiguous()?, grad.contiguous()?);
        let (ws, wl) = w_hh.storage_and_layout();
        let (gs, gl) = grad.storage_and_layout();
        let (w, dy) = (
            host(&ws, wl, "LSTM recurrent weights")?,
            host(&gs, gl, "LSTM output gradient")?,
        );
        let parts = per_direction(&m, |dir, t| backward_dir(dy, w, &m, dir, &caches[dir], t));
        let (s, b, h, d) = (m.s, m.b, m.h, m.d);
        let g4 = 4 * h;
        let mut dxw = vec![0f32; s * b * d * g4];
        let mut dw = Vec::with_capacity(d * g4 * h);
        for (dir, (da, dwd)) in parts.iter().enumerate() {
            for step in 0..s {
                let time = m.time(dir, step);
                for bi in 0..b {
                    let at = (time * b + bi) * d * g4 + dir * g4;
                    dxw[at..at + g4].copy_from_slice(&da[(step * b + bi) * g4..][..g4]);
                }
            }
            dw.extend_from_slice(dwd);
        }
        Ok((
            Some(Tensor::from_vec(dxw, xw.shape(), xw.device())?),
            Some(Tensor::from_vec(dw, w_hh.shape(), w_hh.device())?),
        ))
    }
}

/// `xw` `(S, B, D·4H)` input projections (biases included), `w_hh`
/// `(D, 4H, H)` → `(S, B, D·H)` hidden states, zero initial states;
/// differentiable. CPU `f32` tensors only.
pub fn lstm_recurrence(xw: &Tensor, w_hh: &Tensor) -> Result<Tensor> {
    xw.contiguous()?.apply_op2(
        &w_hh.contiguous()?,
        LstmOp {
            cache: Mutex::new(Vec::new()),
        },
    )
}
