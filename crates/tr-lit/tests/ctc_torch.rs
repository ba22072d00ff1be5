//! CTC loss and gradient against PyTorch's `ctc_loss` on a committed fixture
//! (generated once by scripts/make_ctc_fixture.py, see docs/ctc.md).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use tr_lit::{CtcAlgorithm, CtcLoss, Reduction};

fn fixture() -> HashMap<String, Tensor> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ctc_torch.safetensors");
    candle_core::safetensors::load(&path, &Device::Cpu).unwrap()
}

fn lengths(t: &Tensor) -> Vec<usize> {
    t.to_vec1::<i64>()
        .unwrap()
        .iter()
        .map(|&v| v as usize)
        .collect()
}

fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let ok = (x.is_infinite() && x == y) || (x - y).abs() <= tol * y.abs().max(1.0);
        assert!(ok, "{what}[{i}]: ours {x} vs PyTorch {y}");
    }
}

fn flat(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

#[test]
fn matches_pytorch_losses_and_gradients() {
    let f = fixture();
    let logits = &f["logits"];
    assert_eq!(logits.dims(), &[4, 6, 12]);
    let targets = &f["targets"];
    let inputs = lengths(&f["input_lengths"]);
    let target_lengths = lengths(&f["target_lengths"]);
    for algorithm in [CtcAlgorithm::Auto, CtcAlgorithm::LogSpace] {
        // In f64 (the reference was computed in float64 from the same logits)
        // and in f32 (what training uses).
        for (dtype, tol) in [(DType::F64, 1e-10), (DType::F32, 2e-5)] {
            let x = logits.to_dtype(dtype).unwrap();
            let run = |reduction, zero_infinity| {
                let loss = CtcLoss {
                    reduction,
                    zero_infinity,
                    algorithm,
                    ..CtcLoss::default()
                };
                let var = Var::from_tensor(&x).unwrap();
                let value = loss
                    .forward_logits(var.as_tensor(), targets, &inputs, &target_lengths)
                    .unwrap();
                let grad = if reduction == Reduction::None {
                    None
                } else {
                    Some(
                        value
                            .backward()
                            .unwrap()
                            .get(var.as_tensor())
                            .unwrap()
                            .clone(),
                    )
                };
                (flat(&value), grad)
            };
            let what = |name: &str| format!("{algorithm:?} {dtype:?} {name}");
            assert_close(
                &run(Reduction::None, false).0,
                &flat(&f["loss_none"]),
                tol,
                &what("loss_none"),
            );
            assert_close(
                &run(Reduction::None, true).0,
                &flat(&f["loss_none_zinf"]),
                tol,
                &what("loss_none_zinf"),
            );
            let (sum, g_sum) = run(Reduction::Sum, true);
            assert_close(&sum, &flat(&f["loss_sum_zinf"]), tol, &what("loss_sum"));
            assert_close(
                &flat(&g_sum.unwrap()),
                &flat(&f["grad_sum_zinf"]),
                tol,
                &what("grad_sum"),
            );
            let (mean, g_mean) = run(Reduction::Mean, true);
            assert_close(&mean, &flat(&f["loss_mean_zinf"]), tol, &what("loss_mean"));
            assert_close(
                &flat(&g_mean.unwrap()),
                &flat(&f["grad_mean_zinf"]),
                tol,
                &what("grad_mean"),
            );
        }
    }
}
