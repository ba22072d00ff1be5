//! The CTC step: `(B, C, S)` logits, CTC loss with every input length `S`,
//! greedy decoding.

use candle_core::Tensor;

use super::{batch_size, target_rows, StepOutput, Tokens};
use crate::error::{invalid, Result};
use crate::loss::CtcLoss;
use tr_models::decoding::greedy_ctc_labels;
use tr_models::Model;

/// CTC loss of `model(images)` `(B, C, S)` against `(B, L)` padded targets.
///
/// Input lengths are `S` for every sample (the course's choice); a target's
/// length is the number of labels before its first `<P>` (or `<E>`), with
/// `<S>` skipped, so datasets with or without start/end tokens both work.
/// Predictions are greedy CTC decodings cut to `L` labels, as the course,
/// then read as text by the content rule (as inference reads them: a stray
/// `<E>` or `<P>` ends the line).
pub fn ctc_step(
    model: &dyn Model,
    images: &Tensor,
    targets: &Tensor,
    train: bool,
    loss: &CtcLoss,
    tokens: &Tokens,
) -> Result<StepOutput> {
    let b = batch_size(images)?;
    let rows = target_rows(targets, b)?;
    let max_len = targets.dim(1)?;
    let logits = model.forward(images, train)?;
    let s = match logits.dims() {
        &[lb, _, s] if lb == b => s,
        d => invalid!(
            "model output",
            "{} should give ({b}, C, S) logits, got {d:?}",
            model.name()
        ),
    };
    let content: Vec<Vec<u32>> = rows.iter().map(|r| tokens.content(r)).collect();
    let lengths: Vec<usize> = content.iter().map(Vec::len).collect();
    let width = lengths.iter().copied().max().unwrap_or(0);
    let mut packed = Vec::with_capacity(b * width);
    for c in &content {
        packed.extend_from_slice(c);
        // Padding past a target's length is never read; any valid label will do.
        packed.extend(std::iter::repeat_n(
            tokens.pad.unwrap_or(1),
            width - c.len(),
        ));
    }
    let packed = Tensor::from_vec(packed, (b, width), logits.device())?;
    let value = loss.forward_logits(&logits, &packed, &vec![s; b], &lengths)?;
    let mut predictions = greedy_ctc_labels(&logits, loss.blank)?;
    for p in &mut predictions {
        p.truncate(max_len);
        *p = tokens.content(p);
    }
    Ok(StepOutput {
        loss: value,
        predictions,
        targets: content,
    })
}
