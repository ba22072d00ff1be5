//! The in-place Adam/AdamW pass against the same update written with
//! candle's tensor ops (the unfused path of `tr_train::optim`): equal bit for
//! bit over several steps, starting without moment buffers.

use candle_core::{Device, Result, Tensor};
use tr_kernels::{adam_in_place, AdamStep};

/// A deterministic pseudo-random tensor in `[-scale, scale]`.
fn det(n: usize, seed: u32, scale: f32) -> Result<Tensor> {
    let data: Vec<f32> = (0..n)
        .map(|i| ((i as f32 + 1.0) * 12.9898 + seed as f32 * 78.233).sin() * scale)
        .collect();
    Tensor::from_vec(data, n, &Device::Cpu)
}

/// One step with candle's ops, as the unfused optimizer writes it.
fn unfused(
    p: &Tensor,
    g: &Tensor,
    m: &mut Option<Tensor>,
    v: &mut Option<Tensor>,
    s: &AdamStep,
) -> Result<Tensor> {
    let m_new = match m.as_ref() {
        Some(m) => ((m * s.b1)? + (g * (1.0 - s.b1))?)?,
        None => (g * (1.0 - s.b1))?,
    };
    let v_new = match v.as_ref() {
        Some(v) => ((v * s.b2)? + (g.sqr()? * (1.0 - s.b2))?)?,
        None => (g.sqr()? * (1.0 - s.b2))?,
    };
    let denom = ((v_new.sqrt()? / s.bc2.sqrt())? + s.eps)?;
    let update = ((&m_new / &denom)? * (s.lr / s.bc1))?;
    let base = if s.decoupled_decay != 0.0 {
        (p * (1.0 - s.decoupled_decay))?
    } else {
        p.clone()
    };
    *m = Some(m_new);
    *v = Some(v_new);
    base - update
}

fn bits(t: &Tensor) -> Result<Vec<u32>> {
    Ok(t.to_vec1::<f32>()?.into_iter().map(f32::to_bits).collect())
}

#[test]
fn in_place_adam_equals_the_tensor_op_update_bit_for_bit() -> Result<()> {
    // More values than one rayon chunk (2^15), so the split is exercised too.
    let n = 70_001;
    for (lr, wd) in [(1e-3, 0.0), (3e-4, 0.01)] {
        let (b1, b2) = (0.9f64, 0.999f64);
        let fused_p = det(n, 1, 1.0)?.copy()?;
        let mut plain_p = fused_p.copy()?;
        let (mut fm, mut fv, mut pm, mut pv) = (None, None, None, None);
        for t in 1..=4 {
            let g = det(n, 10 + t as u32, 0.1)?;
            let step = AdamStep {
                b1,
                b2,
                eps: 1e-8,
                lr,
                bc1: 1.0 - b1.powi(t),
                bc2: 1.0 - b2.powi(t),
                decoupled_decay: lr * wd,
            };
            adam_in_place(&fused_p, &g, &mut fm, &mut fv, &step)?;
            plain_p = unfused(&plain_p, &g, &mut pm, &mut pv, &step)?;
        }
        assert_eq!(
            bits(&fused_p)?,
            bits(&plain_p)?,
            "parameters (lr {lr}, wd {wd})"
        );
        for (name, f, p) in [("m", &fm, &pm), ("v", &fv, &pv)] {
            let (f, p) = (
                f.as_ref().expect("fused moment"),
                p.as_ref().expect("moment"),
            );
            assert_eq!(bits(f)?, bits(p)?, "{name} (lr {lr}, wd {wd})");
        }
    }
    Ok(())
}

#[test]
fn in_place_adam_rejects_what_it_cannot_update_and_leaves_the_state_alone() -> Result<()> {
    let step = AdamStep {
        b1: 0.9,
        b2: 0.999,
        eps: 1e-8,
        lr: 1e-3,
        bc1: 0.1,
        bc2: 0.001,
        decoupled_decay: 0.0,
    };
    let p = det(6, 1, 1.0)?.copy()?;
    let (mut m, mut v) = (None, None);
    // Gradient of another size.
    assert!(adam_in_place(&p, &det(5, 2, 1.0)?, &mut m, &mut v, &step).is_err());
    // f64 gradient; a transposed (non-contiguous) parameter.
    assert!(adam_in_place(
        &p,
        &det(6, 2, 1.0)?.to_dtype(candle_core::DType::F64)?,
        &mut m,
        &mut v,
        &step
    )
    .is_err());
    let q = det(6, 3, 1.0)?.reshape((2, 3))?.t()?;
    assert!(adam_in_place(&q, &det(6, 2, 1.0)?.reshape((3, 2))?, &mut m, &mut v, &step).is_err());
    assert!(
        m.is_none() && v.is_none(),
        "no moment buffers created on error"
    );
    assert_eq!(bits(&p)?, bits(&det(6, 1, 1.0)?)?, "parameter unchanged");
    Ok(())
}
