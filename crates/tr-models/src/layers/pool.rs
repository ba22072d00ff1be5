//! 2-D max pooling (PyTorch's `nn.MaxPool2d`, floor mode), differentiable for
//! any kernel, stride and padding.
//!
//! Every max-pool of the zoo goes through [`max_pool2d`]: `f32` CPU tensors
//! take the argmax kernel of [`tr_kernels::max_pool2d`] (gradient to the first
//! maximum on exact ties, as PyTorch); other devices and dtypes, or
//! reference ops requested via [`tr_kernels::set_reference_ops`], use the
//! candle formulation below.
//!
//! Candle's own `max_pool2d` is not used: it has no padding, its backward
//! pass needs kernel == stride, and (candle 0.11) that backward pass scales
//! the gradient of a unique maximum by `1/k²` instead of passing it through.
//! Non-overlapping windows (kernel == stride, no padding: the CNN's 2×2
//! pool) are two `max` reductions over a `(B, C, Ho, k, Wo, k)` view of the
//! input cropped as floor mode does; other cases (the ResNet stem's 3×3 /
//! stride 2 / padding 1 pool) take the element-wise maximum of the `k²`
//! strided shifts of the input, padded with a large negative value so
//! padding never wins. Gradients go to the maximum of each window (split
//! evenly between exact ties).

use candle_core::{Result, Tensor};

/// Value the general path pads with; far below any activation.
const PAD_VALUE: f32 = -1e30;

/// Output size of a pooled axis of size `n`, or `None` when the window does not fit.
pub fn pooled_size(n: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    let padded = n + 2 * padding;
    (kernel > 0 && stride > 0 && padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

/// `(B, C, H, W)` → `(B, C, Ho, Wo)` with `Ho = ⌊(H + 2p − k)/s⌋ + 1` (same for W).
pub fn max_pool2d(x: &Tensor, kernel: usize, stride: usize, padding: usize) -> Result<Tensor> {
    pool(x, kernel, stride, padding, tr_kernels::use_fast_kernels(x))
}

/// [`max_pool2d`] with candle's reference ops whatever the device and the
/// [`tr_kernels::set_reference_ops`] setting (for equivalence checks).
pub fn max_pool2d_reference(
    x: &Tensor,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Result<Tensor> {
    pool(x, kernel, stride, padding, false)
}

fn pool(x: &Tensor, kernel: usize, stride: usize, padding: usize, fast: bool) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    if padding * 2 > kernel {
        candle_core::bail!("max-pool padding {padding} must be at most half the kernel {kernel}")
    }
    let (Some(ho), Some(wo)) = (
        pooled_size(h, kernel, stride, padding),
        pooled_size(w, kernel, stride, padding),
    ) else {
        candle_core::bail!(
            "max-pool kernel {kernel} (padding {padding}) does not fit a {h}x{w} input"
        )
    };
    if fast {
        return tr_kernels::max_pool2d(x, kernel, stride, padding);
    }
    if padding == 0 && kernel == stride {
        // Non-overlapping windows: two max reductions over a reshaped view.
        let x = x.narrow(2, 0, ho * kernel)?.narrow(3, 0, wo * kernel)?;
        let x = x.reshape((b, c, ho, kernel, wo, kernel))?;
        return x.max(5)?.max(3);
    }
    // Pad so that every shift `i + stride·ho` stays inside the tensor.
    let need_h = (kernel - 1) + stride * ho;
    let need_w = (kernel - 1) + stride * wo;
    let x = pad_const(x, 2, padding, need_h.saturating_sub(h + padding), b, c)?;
    let x = pad_const(&x, 3, padding, need_w.saturating_sub(w + padding), b, c)?;
    let mut out: Option<Tensor> = None;
    for i in 0..kernel {
        for j in 0..kernel {
            let shifted = strided(&strided(&x, 2, i, stride, ho)?, 3, j, stride, wo)?;
            out = Some(match out {
                None => shifted,
                Some(m) => m.maximum(&shifted)?,
            });
        }
    }
    out.ok_or_else(|| candle_core::Error::msg("max-pool kernel must be positive"))
}

/// Elements `start, start + step, …` (`count` of them) along `dim` (2 or 3).
fn strided(x: &Tensor, dim: usize, start: usize, step: usize, count: usize) -> Result<Tensor> {
    if step == 1 {
        return x.narrow(dim, start, count);
    }
    let x = x.narrow(dim, start, step * count)?;
    let mut dims = x.dims().to_vec();
    dims[dim] = count;
    dims.insert(dim + 1, step);
    let x = x.reshape(dims.as_slice())?.narrow(dim + 1, 0, 1)?;
    x.squeeze(dim + 1)
}

/// Pads `dim` of a `(B, C, H, W)` tensor with [`PAD_VALUE`].
fn pad_const(
    x: &Tensor,
    dim: usize,
    left: usize,
    right: usize,
    b: usize,
    c: usize,
) -> Result<Tensor> {
    if left == 0 && right == 0 {
        return Ok(x.clone());
    }
    let other = if dim == 2 { x.dim(3)? } else { x.dim(2)? };
    let block = |n: usize| -> Result<Tensor> {
        let shape = if dim == 2 {
            (b, c, n, other)
        } else {
            (b, c, other, n)
        };
        Tensor::full(PAD_VALUE, shape, x.device())?.to_dtype(x.dtype())
    };
    let mut parts = Vec::with_capacity(3);
    if left > 0 {
        parts.push(block(left)?);
    }
    parts.push(x.clone());
    if right > 0 {
        parts.push(block(right)?);
    }
    Tensor::cat(&parts, dim)
}
