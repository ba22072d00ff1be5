//! Cross-entropy against hand-computed values, with ignore index, label
//! smoothing, sequences and gradients.

use candle_core::{DType, Device, Tensor, Var};
use tr_lit::CrossEntropy;

fn ln_softmax(row: &[f64]) -> Vec<f64> {
    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + row.iter().map(|x| (x - m).exp()).sum::<f64>().ln();
    row.iter().map(|x| x - lse).collect()
}

#[test]
fn classes_match_hand_computation() {
    let rows = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]];
    let logits = Tensor::new(&rows, &Device::Cpu).unwrap();
    let targets = Tensor::new(&[1u32, 0], &Device::Cpu).unwrap();
    let loss = CrossEntropy::new()
        .forward(&logits, &targets)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap();
    let expected = -(ln_softmax(&rows[0])[1] + ln_softmax(&rows[1])[0]) / 2.0;
    assert!((loss - expected).abs() < 1e-12, "{loss} vs {expected}");
}

#[test]
fn sequences_with_ignore_index_average_over_counted_positions() {
    // (B=1, C=3, S=3): targets [2, 1, 0]; ignoring 0 leaves positions 0 and 1.
    let cols = [[0.2, 1.0, -0.3], [0.5, 0.5, 2.0], [1.5, -1.0, 0.0]]; // [class][step]
    let logits = Tensor::new(&[cols], &Device::Cpu).unwrap();
    let targets = Tensor::new(&[[2u32, 1, 0]], &Device::Cpu).unwrap();
    let step = |s: usize| ln_softmax(&[cols[0][s], cols[1][s], cols[2][s]]);
    let expected_ignoring = -(step(0)[2] + step(1)[1]) / 2.0;
    let expected_all = -(step(0)[2] + step(1)[1] + step(2)[0]) / 3.0;
    let v = |ce: CrossEntropy| {
        ce.forward(&logits, &targets)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    };
    assert!((v(CrossEntropy::new().ignoring(0)) - expected_ignoring).abs() < 1e-12);
    assert!((v(CrossEntropy::new()) - expected_all).abs() < 1e-12);
    // Label smoothing (PyTorch's definition).
    let eps = 0.1;
    let smooth = |s: usize, y: usize| {
        let l = step(s);
        (1.0 - eps) * -l[y] + eps * -(l.iter().sum::<f64>() / 3.0)
    };
    let expected_smooth = (smooth(0, 2) + smooth(1, 1)) / 2.0;
    assert!((v(CrossEntropy::new().ignoring(0).smoothing(eps)) - expected_smooth).abs() < 1e-12);
}

#[test]
fn gradient_is_softmax_minus_one_hot_and_zero_where_ignored() {
    let rows = vec![0.3f64, -0.2, 1.1, 0.0, 0.4, -0.6];
    let x = Var::from_tensor(&Tensor::from_vec(rows.clone(), (1, 2, 3), &Device::Cpu).unwrap())
        .unwrap();
    // (B=1, C=2, S=3), targets [1, 0, 1] with class... ignore index 7 at step 2.
    let targets = Tensor::new(&[[1u32, 0, 7]], &Device::Cpu).unwrap();
    let loss = CrossEntropy::new()
        .ignoring(7)
        .forward(x.as_tensor(), &targets)
        .unwrap();
    let g = loss
        .backward()
        .unwrap()
        .get(x.as_tensor())
        .unwrap()
        .to_vec3::<f64>()
        .unwrap();
    for (s, y) in [(0usize, 1usize), (1, 0)] {
        let p = ln_softmax(&[rows[s], rows[3 + s]])
            .iter()
            .map(|l| l.exp())
            .collect::<Vec<_>>();
        for c in 0..2 {
            let want = (p[c] - f64::from(u8::from(c == y))) / 2.0;
            assert!(
                (g[0][c][s] - want).abs() < 1e-12,
                "step {s} class {c}: {} vs {want}",
                g[0][c][s]
            );
        }
    }
    assert_eq!((g[0][0][2], g[0][1][2]), (0.0, 0.0));
}

#[test]
fn all_ignored_is_zero_and_bad_settings_are_errors() {
    let logits = Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap();
    let targets = Tensor::new(&[2u32, 2], &Device::Cpu).unwrap();
    let loss = CrossEntropy::new()
        .ignoring(2)
        .forward(&logits, &targets)
        .unwrap();
    assert_eq!(loss.to_scalar::<f32>().unwrap(), 0.0);
    let err = CrossEntropy::new()
        .smoothing(1.0)
        .forward(&logits, &targets)
        .unwrap_err()
        .to_string();
    assert!(err.contains("label_smoothing"), "{err}");
    let float_targets = Tensor::new(&[0.5f32, 1.0], &Device::Cpu).unwrap();
    let err = CrossEntropy::new()
        .forward(&logits, &float_targets)
        .unwrap_err()
        .to_string();
    assert!(err.contains("integer"), "{err}");
}
