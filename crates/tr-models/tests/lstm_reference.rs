//! The LSTM against a naive step-by-step, gate-by-gate reference written
//! from PyTorch's equations (values and gradients), including the
//! bidirectional sum `line-cnn-lstm` uses and a two-layer stack.

mod common;

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::VarMap;
use common::{det_tensor, max_abs_diff};
use tr_models::layers::{Lstm, LstmConfig};

/// One direction of one layer, one gate at a time: `(S, B, I)` → `(S, B, H)`.
fn reference_direction(
    x: &Tensor,
    vm: &VarMap,
    layer: usize,
    reverse: bool,
    h: usize,
) -> Result<Tensor> {
    let get = |n: &str| -> Result<Tensor> {
        let sfx = if reverse { "_reverse" } else { "" };
        let data = vm.data().lock().unwrap();
        Ok(data[&format!("{n}_l{layer}{sfx}")].as_tensor().clone())
    };
    let (w_ih, w_hh, b_ih, b_hh) = (
        get("weight_ih")?,
        get("weight_hh")?,
        get("bias_ih")?,
        get("bias_hh")?,
    );
    let (s, b, _) = x.dims3()?;
    let gate = |xt: &Tensor, ht: &Tensor, k: usize| -> Result<Tensor> {
        let wi = w_ih.narrow(0, k * h, h)?;
        let wh = w_hh.narrow(0, k * h, h)?;
        let bias = (b_ih.narrow(0, k * h, h)? + b_hh.narrow(0, k * h, h)?)?;
        (xt.matmul(&wi.t()?)? + ht.matmul(&wh.t()?)?)?.broadcast_add(&bias)
    };
    let sigmoid = |t: Tensor| -> Result<Tensor> { (t.neg()?.exp()? + 1.0)?.recip() };
    let mut ht = Tensor::zeros((b, h), DType::F32, &Device::Cpu)?;
    let mut ct = ht.clone();
    let mut outs = vec![None; s];
    let order: Vec<usize> = if reverse {
        (0..s).rev().collect()
    } else {
        (0..s).collect()
    };
    for t in order {
        let xt = x.get(t)?;
        let i = sigmoid(gate(&xt, &ht, 0)?)?;
        let f = sigmoid(gate(&xt, &ht, 1)?)?;
        let g = gate(&xt, &ht, 2)?.tanh()?;
        let o = sigmoid(gate(&xt, &ht, 3)?)?;
        ct = ((f * &ct)? + (i * g)?)?;
        ht = (o * ct.tanh()?)?;
        outs[t] = Some(ht.clone());
    }
    let outs: Vec<Tensor> = outs
        .into_iter()
        .map(|o| o.expect("every step ran"))
        .collect();
    Tensor::stack(&outs, 0)
}

fn make(config: LstmConfig) -> Result<(VarMap, Lstm)> {
    let vm = VarMap::new();
    let lstm = Lstm::new(config, common::vb(&vm))?;
    Ok((vm, lstm))
}

fn grads_match(a: &Tensor, b: &Tensor, vm: &VarMap) -> anyhow::Result<()> {
    let w = det_tensor(a.dims(), 5)?;
    let ga = (a * &w)?.sum_all()?.backward()?;
    let gb = (b * &w)?.sum_all()?.backward()?;
    for (name, var) in tr_models::params::named_vars(vm) {
        let x = ga.get(var.as_tensor()).expect("gradient from the LSTM");
        let y = gb
            .get(var.as_tensor())
            .expect("gradient from the reference");
        let d = max_abs_diff(x, y)?;
        assert!(d < 1e-4, "gradient of {name} differs by {d}");
    }
    Ok(())
}

#[test]
fn unidirectional_matches_reference() -> anyhow::Result<()> {
    let (h, i) = (5, 3);
    let (vm, lstm) = make(LstmConfig {
        input_size: i,
        hidden_size: h,
        num_layers: 1,
        bidirectional: false,
        dropout: 0.0,
    })?;
    let x = det_tensor(&[6, 2, i], 1)?;
    let ours = lstm.forward(&x, true)?;
    let reference = reference_direction(&x, &vm, 0, false, h)?;
    assert_eq!(ours.dims(), &[6, 2, h]);
    assert!(max_abs_diff(&ours, &reference)? < 1e-5);
    grads_match(&ours, &reference, &vm)
}

#[test]
fn bidirectional_matches_reference_and_sums_like_line_cnn_lstm() -> anyhow::Result<()> {
    let (h, i, s, b) = (4, 3, 7, 3);
    let (vm, lstm) = make(LstmConfig {
        input_size: i,
        hidden_size: h,
        num_layers: 1,
        bidirectional: true,
        dropout: 0.0,
    })?;
    let x = det_tensor(&[s, b, i], 2)?;
    let ours = lstm.forward(&x, true)?;
    assert_eq!(ours.dims(), &[s, b, 2 * h]);
    let fwd = reference_direction(&x, &vm, 0, false, h)?;
    let bwd = reference_direction(&x, &vm, 0, true, h)?;
    // PyTorch layout: forward then backward features.
    let reference = Tensor::cat(&[&fwd, &bwd], 2)?;
    assert!(max_abs_diff(&ours, &reference)? < 1e-5);
    grads_match(&ours, &reference, &vm)?;
    // line-cnn-lstm's direction sum.
    let summed = ours.reshape((s, b, 2, h))?.sum(2)?;
    assert!(max_abs_diff(&summed, &(fwd + bwd)?)? < 1e-5);
    Ok(())
}

#[test]
fn two_layer_bidirectional_matches_stacked_reference() -> anyhow::Result<()> {
    let (h, i) = (3, 4);
    let (vm, lstm) = make(LstmConfig {
        input_size: i,
        hidden_size: h,
        num_layers: 2,
        bidirectional: true,
        dropout: 0.3,
    })?;
    let x = det_tensor(&[5, 2, i], 3)?;
    // Evaluation mode: no dropout between layers.
    let ours = lstm.forward(&x, false)?;
    let l0 = Tensor::cat(
        &[
            reference_direction(&x, &vm, 0, false, h)?,
            reference_direction(&x, &vm, 0, true, h)?,
        ],
        2,
    )?;
    let l1 = Tensor::cat(
        &[
            reference_direction(&l0, &vm, 1, false, h)?,
            reference_direction(&l0, &vm, 1, true, h)?,
        ],
        2,
    )?;
    assert!(max_abs_diff(&ours, &l1)? < 1e-5);
    grads_match(&ours, &l1, &vm)?;
    // Training mode applies dropout between the layers only.
    let dropped = lstm.forward(&x, true)?;
    assert_eq!(dropped.dims(), ours.dims());
    assert!(max_abs_diff(&dropped, &ours)? > 0.0);
    Ok(())
}

#[test]
fn parameter_names_and_shapes_follow_pytorch() -> anyhow::Result<()> {
    let (vm, _) = make(LstmConfig {
        input_size: 83,
        hidden_size: 512,
        num_layers: 1,
        bidirectional: true,
        dropout: 0.2,
    })?;
    let vars = tr_models::params::named_vars(&vm);
    let shapes: Vec<(String, Vec<usize>)> = vars
        .iter()
        .map(|(n, v)| (n.clone(), v.dims().to_vec()))
        .collect();
    assert_eq!(
        shapes,
        vec![
            ("bias_hh_l0".to_string(), vec![2048]),
            ("bias_hh_l0_reverse".to_string(), vec![2048]),
            ("bias_ih_l0".to_string(), vec![2048]),
            ("bias_ih_l0_reverse".to_string(), vec![2048]),
            ("weight_hh_l0".to_string(), vec![2048, 512]),
            ("weight_hh_l0_reverse".to_string(), vec![2048, 512]),
            ("weight_ih_l0".to_string(), vec![2048, 83]),
            ("weight_ih_l0_reverse".to_string(), vec![2048, 83]),
        ]
    );
    // PyTorch's init: U(-1/√H, 1/√H).
    let bound = 1.0 / (512f32).sqrt();
    for (name, v) in &vars {
        let m = v
            .as_tensor()
            .abs()?
            .flatten_all()?
            .max(0)?
            .to_scalar::<f32>()?;
        assert!(m <= bound && m > 0.9 * bound, "{name}: max |w| = {m}");
    }
    Ok(())
}
