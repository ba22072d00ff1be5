//! CTC loss against brute-force enumeration of every alignment, finite
//! differences, batching, `zero_infinity`, reductions and input validation.

use candle_core::{DType, Device, Tensor, Var};
use tr_lit::{CtcAlgorithm, CtcLoss, Reduction};

/// Deterministic pseudo-random numbers in [-1, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// `(C, T)` logits of one sample, scaled.
fn random_logits(rng: &mut Lcg, c: usize, t: usize, scale: f64) -> Vec<Vec<f64>> {
    (0..c)
        .map(|_| (0..t).map(|_| rng.next() * scale).collect())
        .collect()
}

fn log_softmax_columns(logits: &[Vec<f64>], t: usize) -> Vec<Vec<f64>> {
    // Returns (T, C).
    let c = logits.len();
    (0..t)
        .map(|ti| {
            let m = (0..c)
                .map(|k| logits[k][ti])
                .fold(f64::NEG_INFINITY, f64::max);
            let lse = m + (0..c).map(|k| (logits[k][ti] - m).exp()).sum::<f64>().ln();
            (0..c).map(|k| logits[k][ti] - lse).collect()
        })
        .collect()
}

fn collapse(path: &[usize], blank: usize) -> Vec<u32> {
    let mut out = Vec::new();
    let mut prev = None;
    for &k in path {
        if Some(k) != prev && k != blank {
            out.push(k as u32);
        }
        prev = Some(k);
    }
    out
}

/// −log Σ over all C^T paths that collapse to `target` (log-sum-exp).
fn brute_force_nll(log_probs: &[Vec<f64>], target: &[u32], blank: usize) -> f64 {
    let t = log_probs.len();
    let c = log_probs.first().map_or(1, Vec::len);
    let mut terms = Vec::new();
    let mut path = vec![0usize; t];
    loop {
        if collapse(&path, blank) == target {
            terms.push(
                path.iter()
                    .enumerate()
                    .map(|(ti, &k)| log_probs[ti][k])
                    .sum::<f64>(),
            );
        }
        // Next path in base C.
        let mut i = 0;
        while i < t {
            path[i] += 1;
            if path[i] < c {
                break;
            }
            path[i] = 0;
            i += 1;
        }
        if i == t {
            break;
        }
    }
    if terms.is_empty() {
        return f64::INFINITY;
    }
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    -(m + terms.iter().map(|x| (x - m).exp()).sum::<f64>().ln())
}

fn tensor_bct(samples: &[Vec<Vec<f64>>]) -> Tensor {
    let b = samples.len();
    let c = samples[0].len();
    let t = samples[0][0].len();
    let flat: Vec<f64> = samples.iter().flatten().flatten().copied().collect();
    Tensor::from_vec(flat, (b, c, t), &Device::Cpu).unwrap()
}

fn targets_tensor(targets: &[Vec<u32>]) -> (Tensor, Vec<usize>) {
    let width = targets.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut flat = Vec::new();
    for t in targets {
        flat.extend_from_slice(t);
        flat.extend(std::iter::repeat_n(1u32, width - t.len()));
    }
    let lens = targets.iter().map(Vec::len).collect();
    (
        Tensor::from_vec(flat, (targets.len(), width), &Device::Cpu).unwrap(),
        lens,
    )
}

fn per_sample(
    loss: &CtcLoss,
    logits: &Tensor,
    targets: &[Vec<u32>],
    input_lengths: &[usize],
) -> Vec<f64> {
    let (tt, lens) = targets_tensor(targets);
    let l = CtcLoss {
        reduction: Reduction::None,
        ..*loss
    };
    l.forward_logits(logits, &tt, input_lengths, &lens)
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

/// Tiny cases: repeated labels, empty targets, a target needing every frame.
fn cases() -> Vec<(usize, usize, Vec<u32>)> {
    // (C, T, target)
    vec![
        (3, 5, vec![1, 2]),
        (3, 5, vec![1, 1]),
        (3, 4, vec![2, 2, 1]),
        (2, 5, vec![1, 1, 1]),
        (3, 3, vec![]),
        (3, 1, vec![2]),
        (3, 5, vec![1, 2, 1, 2, 1]),
        (2, 4, vec![1]),
    ]
}

#[test]
fn equals_brute_force_on_tiny_cases() {
    let mut rng = Lcg(7);
    for algorithm in [CtcAlgorithm::Auto, CtcAlgorithm::LogSpace] {
        for (c, t, target) in cases() {
            let logits = random_logits(&mut rng, c, t, 2.0);
            let expected = brute_force_nll(&log_softmax_columns(&logits, t), &target, 0);
            let loss = CtcLoss {
                algorithm,
                ..CtcLoss::default()
            };
            let got = per_sample(
                &loss,
                &tensor_bct(&[logits]),
                std::slice::from_ref(&target),
                &[t],
            )[0];
            assert!(
                (got - expected).abs() < 1e-9 * expected.abs().max(1.0),
                "{algorithm:?} C={c} T={t} target={target:?}: {got} vs brute force {expected}"
            );
        }
    }
}

#[test]
fn extreme_logits_fall_back_to_log_space_and_stay_exact() {
    // Logits ~±1000: linear-space probabilities underflow, the loss is
    // thousands of nats; the result must still match brute force.
    let mut rng = Lcg(11);
    for (c, t, target) in cases() {
        let logits = random_logits(&mut rng, c, t, 1000.0);
        let expected = brute_force_nll(&log_softmax_columns(&logits, t), &target, 0);
        let got = per_sample(
            &CtcLoss::default(),
            &tensor_bct(&[logits]),
            std::slice::from_ref(&target),
            &[t],
        )[0];
        assert!(
            (got - expected).abs() < 1e-9 * expected.abs().max(1.0),
            "C={c} T={t} target={target:?}: {got} vs {expected}"
        );
    }
}

#[test]
fn gradient_matches_central_differences() {
    let mut rng = Lcg(3);
    for (c, t, target) in cases() {
        let logits = random_logits(&mut rng, c, t, 1.5);
        let x = Var::from_tensor(&tensor_bct(std::slice::from_ref(&logits))).unwrap();
        let (tt, lens) = targets_tensor(std::slice::from_ref(&target));
        let loss = CtcLoss {
            reduction: Reduction::Sum,
            ..CtcLoss::default()
        };
        let value = loss
            .forward_logits(x.as_tensor(), &tt, &[t], &lens)
            .unwrap();
        let grad = value.backward().unwrap();
        let analytic = grad.get(x.as_tensor()).unwrap().to_vec3::<f64>().unwrap();
        let h = 1e-5;
        for k in 0..c {
            for ti in 0..t {
                let mut plus = logits.clone();
                plus[k][ti] += h;
                let mut minus = logits.clone();
                minus[k][ti] -= h;
                let f = |l: Vec<Vec<f64>>| brute_force_nll(&log_softmax_columns(&l, t), &target, 0);
                let numeric = (f(plus) - f(minus)) / (2.0 * h);
                let a = analytic[0][k][ti];
                assert!(
                    (a - numeric).abs() < 1e-6,
                    "C={c} T={t} target={target:?} d/dlogit[{k}][{ti}]: analytic {a} vs numeric {numeric}"
                );
            }
        }
        // Gradient w.r.t. logits is softmax − occupancy: each step sums to 0.
        for ti in 0..t {
            let s: f64 = analytic[0].iter().map(|row| row[ti]).sum();
            assert!(s.abs() < 1e-9, "step {ti} gradient sums to {s}");
        }
    }
}

#[test]
fn batch_with_different_lengths_equals_samples_alone() {
    let mut rng = Lcg(5);
    let (c, t) = (4, 6);
    let samples: Vec<Vec<Vec<f64>>> = (0..4).map(|_| random_logits(&mut rng, c, t, 2.0)).collect();
    let targets = vec![vec![1, 2, 3], vec![3], vec![], vec![2, 2]];
    let input_lengths = [6, 4, 5, 3];
    let batch = per_sample(
        &CtcLoss::default(),
        &tensor_bct(&samples),
        &targets,
        &input_lengths,
    );
    for i in 0..4 {
        let tl = input_lengths[i];
        // The sample alone, cut to its input length, must give the same loss.
        let cut: Vec<Vec<f64>> = samples[i].iter().map(|row| row[..tl].to_vec()).collect();
        let expected = brute_force_nll(&log_softmax_columns(&cut, tl), &targets[i], 0);
        assert!(
            (batch[i] - expected).abs() < 1e-9,
            "sample {i}: {} vs {expected}",
            batch[i]
        );
    }
    // Frames past a sample's input length get no gradient.
    let x = Var::from_tensor(&tensor_bct(&samples)).unwrap();
    let (tt, lens) = targets_tensor(&targets);
    let loss = CtcLoss::default()
        .forward_logits(x.as_tensor(), &tt, &input_lengths, &lens)
        .unwrap();
    let g = loss
        .backward()
        .unwrap()
        .get(x.as_tensor())
        .unwrap()
        .to_vec3::<f64>()
        .unwrap();
    for (i, &len) in input_lengths.iter().enumerate() {
        for row in &g[i] {
            assert!(
                row[len..].iter().all(|&v| v == 0.0),
                "sample {i} has gradient past step {len}"
            );
            assert!(row[..len].iter().any(|&v| v != 0.0));
        }
    }
}

#[test]
fn reductions_and_zero_infinity() {
    let mut rng = Lcg(9);
    let (c, t) = (3, 4);
    let samples: Vec<Vec<Vec<f64>>> = (0..3).map(|_| random_logits(&mut rng, c, t, 1.0)).collect();
    // Sample 2 is infeasible: 1 1 1 needs 5 frames.
    let targets = vec![vec![1, 2], vec![], vec![1, 1, 1]];
    let lengths = [4, 4, 4];
    let logits = tensor_bct(&samples);
    let none = per_sample(&CtcLoss::default(), &logits, &targets, &lengths);
    assert!(none[2].is_infinite() && none[2] > 0.0);
    let (tt, lens) = targets_tensor(&targets);
    let run = |reduction, zero_infinity| {
        let l = CtcLoss {
            reduction,
            zero_infinity,
            ..CtcLoss::default()
        };
        let x = Var::from_tensor(&logits).unwrap();
        let v = l
            .forward_logits(x.as_tensor(), &tt, &lengths, &lens)
            .unwrap();
        let g = v
            .sum_all()
            .unwrap()
            .backward()
            .unwrap()
            .get(x.as_tensor())
            .unwrap()
            .to_vec3::<f64>()
            .unwrap();
        (v, g)
    };
    let (sum, _) = run(Reduction::Sum, false);
    assert!(sum.to_scalar::<f64>().unwrap().is_infinite());
    let (sum, g_sum) = run(Reduction::Sum, true);
    assert!((sum.to_scalar::<f64>().unwrap() - (none[0] + none[1])).abs() < 1e-12);
    assert!(
        g_sum[2].iter().flatten().all(|&v| v == 0.0),
        "infeasible sample must get zero gradient"
    );
    let (mean, g_mean) = run(Reduction::Mean, true);
    // PyTorch: loss / max(target_length, 1), then mean over the batch (the
    // zeroed infeasible sample counts in the denominator).
    let expected = (none[0] / 2.0 + none[1] / 1.0 + 0.0) / 3.0;
    assert!((mean.to_scalar::<f64>().unwrap() - expected).abs() < 1e-12);
    for k in 0..c {
        for ti in 0..t {
            let want0 = g_sum[0][k][ti] / (3.0 * 2.0);
            assert!((g_mean[0][k][ti] - want0).abs() < 1e-12);
        }
    }
    let (none_t, _) = run(Reduction::None, true);
    assert_eq!(none_t.dims(), &[3]);
    let v = none_t.to_vec1::<f64>().unwrap();
    assert_eq!(v[2], 0.0);
    assert!((v[0] - none[0]).abs() < 1e-12);
}

#[test]
fn log_probs_layout_matches_logits_layout() {
    let mut rng = Lcg(13);
    let samples: Vec<Vec<Vec<f64>>> = (0..2).map(|_| random_logits(&mut rng, 5, 7, 2.0)).collect();
    let logits = tensor_bct(&samples);
    let (tt, lens) = targets_tensor(&[vec![1, 2, 2], vec![4]]);
    let a = CtcLoss::default()
        .forward_logits(&logits, &tt, &[7, 6], &lens)
        .unwrap();
    let sbc = candle_nn::ops::log_softmax(&logits, 1)
        .unwrap()
        .permute((2, 0, 1))
        .unwrap();
    let b = CtcLoss::default()
        .forward_log_probs(&sbc, &tt, &[7, 6], &lens)
        .unwrap();
    let (a, b) = (a.to_scalar::<f64>().unwrap(), b.to_scalar::<f64>().unwrap());
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
}

#[test]
fn works_in_f32_and_agrees_with_f64() {
    let mut rng = Lcg(17);
    let samples: Vec<Vec<Vec<f64>>> = (0..2).map(|_| random_logits(&mut rng, 4, 6, 2.0)).collect();
    let logits = tensor_bct(&samples);
    let (tt, lens) = targets_tensor(&[vec![1, 2], vec![3, 3]]);
    let x64 = CtcLoss::default()
        .forward_logits(&logits, &tt, &[6, 6], &lens)
        .unwrap();
    let logits32 = logits.to_dtype(DType::F32).unwrap();
    let x32 = CtcLoss::default()
        .forward_logits(&logits32, &tt, &[6, 6], &lens)
        .unwrap();
    assert_eq!(x32.dtype(), DType::F32);
    let (a, b) = (
        x64.to_scalar::<f64>().unwrap(),
        x32.to_scalar::<f32>().unwrap() as f64,
    );
    assert!((a - b).abs() < 1e-5, "{a} vs {b}");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let logits = Tensor::zeros((2, 4, 5), DType::F32, &Device::Cpu).unwrap();
    let targets = Tensor::new(&[[1u32, 2], [3, 1]], &Device::Cpu).unwrap();
    let l = CtcLoss::default();
    let err = |r: tr_lit::Result<Tensor>| r.unwrap_err().to_string();
    let e = err(l.forward_logits(&logits, &targets, &[5, 6], &[2, 2]));
    assert!(
        e.contains("input_lengths") && e.contains("sample 1 has length 6"),
        "{e}"
    );
    let e = err(l.forward_logits(&logits, &targets, &[5], &[2, 2]));
    assert!(e.contains("expected 2 lengths"), "{e}");
    let e = err(l.forward_logits(&logits, &targets, &[5, 5], &[2, 3]));
    assert!(
        e.contains("target_lengths") && e.contains("hold 2 labels"),
        "{e}"
    );
    let with_blank = Tensor::new(&[[1u32, 0], [3, 1]], &Device::Cpu).unwrap();
    let e = err(l.forward_logits(&logits, &with_blank, &[5, 5], &[2, 2]));
    assert!(e.contains("blank"), "{e}");
    // A blank in the padding past the target length is fine.
    assert!(l
        .forward_logits(&logits, &with_blank, &[5, 5], &[1, 2])
        .is_ok());
    let out_of_range = Tensor::new(&[[1u32, 4], [3, 1]], &Device::Cpu).unwrap();
    let e = err(l.forward_logits(&logits, &out_of_range, &[5, 5], &[2, 2]));
    assert!(
        e.contains("label 4") && e.contains("outside the 4 classes"),
        "{e}"
    );
    let e = err(l.forward_logits(&logits, &targets.narrow(0, 0, 1).unwrap(), &[5, 5], &[2, 2]));
    assert!(e.contains("batch size 1"), "{e}");
    let e = err(l.forward_logits(&logits.flatten_from(1).unwrap(), &targets, &[5, 5], &[2, 2]));
    assert!(e.contains("(B, C, S)"), "{e}");
    let bad_blank = CtcLoss {
        blank: 9,
        ..CtcLoss::default()
    };
    let e = err(bad_blank.forward_logits(&logits, &targets, &[5, 5], &[2, 2]));
    assert!(e.contains("blank") && e.contains("9"), "{e}");
    let nan = Tensor::new(&[[[f32::NAN, 0.0]]], &Device::Cpu).unwrap();
    let e = err(l.forward_log_probs(
        &nan,
        &Tensor::new(&[[1u32]], &Device::Cpu).unwrap(),
        &[1],
        &[1],
    ));
    assert!(e.contains("not finite"), "{e}");
}
