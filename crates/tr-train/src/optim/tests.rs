use super::*;
use candle_core::{Device, Tensor};

/// Minimises f(p) = sum((p - target)^2) for `steps` steps; returns p.
fn run(config: OptimizerConfig, steps: usize, restore_at: Option<usize>) -> Vec<f32> {
    let dev = Device::Cpu;
    let p = Var::from_tensor(&Tensor::new(&[1.0f32, -2.0, 3.0], &dev).unwrap()).unwrap();
    let target = Tensor::new(&[0.5f32, 0.5, 0.5], &dev).unwrap();
    let mut opt = Optimizer::new(config.clone(), vec![("p".into(), p.clone())]).unwrap();
    for i in 0..steps {
        if Some(i) == restore_at {
            // Simulate a resume: fresh optimizer, state loaded from tensors.
            let state = opt.state_tensors().unwrap();
            let n = opt.steps();
            opt = Optimizer::new(config.clone(), vec![("p".into(), p.clone())]).unwrap();
            opt.load_state_tensors(&state, n).unwrap();
        }
        let loss = (p.as_tensor() - &target)
            .unwrap()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = Grads::from_store(&loss.backward().unwrap(), [&p]);
        opt.step(&grads).unwrap();
    }
    p.as_tensor().to_vec1::<f32>().unwrap()
}

/// Straight-line Adam/AdamW on the same problem, as torch.optim writes it.
fn reference_adam(lr: f64, wd: f64, decoupled: bool, steps: usize) -> Vec<f32> {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
    let mut p = [1.0f64, -2.0, 3.0];
    let mut m = [0.0f64; 3];
    let mut v = [0.0f64; 3];
    for t in 1..=steps as i32 {
        for i in 0..3 {
            let mut g = 2.0 * (p[i] - 0.5);
            if !decoupled {
                g += wd * p[i];
            } else {
                p[i] *= 1.0 - lr * wd;
            }
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            let mh = m[i] / (1.0 - b1.powi(t));
            let vh = v[i] / (1.0 - b2.powi(t));
            p[i] -= lr * mh / (vh.sqrt() + eps);
        }
    }
    p.iter().map(|&x| x as f32).collect()
}

fn close(a: &[f32], b: &[f32]) {
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }
}

#[test]
fn adam_matches_torch_formula() {
    let cfg = OptimizerConfig::Adam(AdamConfig {
        lr: 0.1,
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 0.01,
    });
    close(&run(cfg, 5, None), &reference_adam(0.1, 0.01, false, 5));
}

#[test]
fn adamw_decouples_weight_decay() {
    let cfg = OptimizerConfig::AdamW(AdamWConfig {
        lr: 0.1,
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 0.1,
    });
    close(&run(cfg, 5, None), &reference_adam(0.1, 0.1, true, 5));
}

#[test]
fn sgd_momentum_matches_hand_computation() {
    let cfg = OptimizerConfig::Sgd(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 0.0,
        nesterov: false,
    });
    // p0 = 1: g0 = 1, buf = 1, p1 = 0.9; g1 = 0.8, buf = 0.9 + 0.8 = 1.7, p2 = 0.73
    let p = run(cfg, 2, None);
    assert!((p[0] - 0.73).abs() < 1e-6, "{p:?}");
}

#[test]
fn resumed_state_gives_identical_trajectory() {
    for cfg in [
        OptimizerConfig::default(),
        OptimizerConfig::Sgd(SgdConfig {
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 0.0,
            nesterov: true,
        }),
    ] {
        assert_eq!(run(cfg.clone(), 6, None), run(cfg, 6, Some(3)));
    }
}

#[test]
fn foreign_state_is_rejected() {
    let p = Var::from_tensor(&Tensor::zeros(3, candle_core::DType::F32, &Device::Cpu).unwrap())
        .unwrap();
    let mut opt = Optimizer::new(OptimizerConfig::default(), vec![("p".into(), p)]).unwrap();
    let mut state = HashMap::new();
    state.insert(
        "exp_avg/q".to_string(),
        Tensor::zeros(3, candle_core::DType::F32, &Device::Cpu).unwrap(),
    );
    let err = opt.load_state_tensors(&state, 1).unwrap_err().to_string();
    assert!(err.contains("exp_avg/q"), "{err}");
    let mut state = HashMap::new();
    state.insert(
        "exp_avg/p".to_string(),
        Tensor::zeros(4, candle_core::DType::F32, &Device::Cpu).unwrap(),
    );
    let err = opt.load_state_tensors(&state, 1).unwrap_err().to_string();
    assert!(err.contains("shape"), "{err}");
}

#[test]
fn invalid_config_names_the_field() {
    let cfg = OptimizerConfig::Adam(AdamConfig {
        lr: -1.0,
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 0.0,
    });
    let err = Optimizer::new(cfg, vec![]).err().unwrap().to_string();
    assert!(err.contains("trainer.optimizer.lr"), "{err}");
}

#[test]
fn clipping_scales_to_max_norm() {
    let dev = Device::Cpu;
    let p = Var::from_tensor(&Tensor::new(&[3.0f32, 4.0], &dev).unwrap()).unwrap();
    let loss = (p.as_tensor().sqr().unwrap() * 0.5)
        .unwrap()
        .sum_all()
        .unwrap(); // grad = p, norm 5
    let mut grads = Grads::from_store(&loss.backward().unwrap(), [&p]);
    let params = [("p", &p)];
    let norm = clip::clip_global_norm(&mut grads, params.iter().copied(), 1.0).unwrap();
    assert!((norm - 5.0).abs() < 1e-6);
    let after = clip::global_norm(&grads, params.iter().copied()).unwrap();
    assert!((after - 1.0).abs() < 1e-5, "{after}");
}

#[test]
fn non_finite_gradient_names_parameter_and_step() {
    let dev = Device::Cpu;
    let p = Var::from_tensor(&Tensor::new(&[0.0f32, 1.0], &dev).unwrap()).unwrap();
    let loss = p.as_tensor().sqrt().unwrap().sum_all().unwrap(); // d sqrt(0) = inf
    let grads = Grads::from_store(&loss.backward().unwrap(), [&p]);
    let err = clip::check_finite(&grads, [("enc.w", &p)], 17)
        .unwrap_err()
        .to_string();
    assert!(err.contains("enc.w") && err.contains("17"), "{err}");
}

/// Runs `steps` updates of a 70 000-value parameter (several rayon chunks)
/// on a fixed non-convex loss; returns parameters and moment buffers.
fn trajectory(config: &OptimizerConfig, fused: bool, steps: usize) -> Vec<Vec<f32>> {
    let dev = Device::Cpu;
    let n = 70_000;
    let init: Vec<f32> = (0..n)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
        .collect();
    let p = Var::from_tensor(&Tensor::from_vec(init, (7, n / 7), &dev).unwrap()).unwrap();
    let mut opt = Optimizer::new(config.clone(), vec![("p".into(), p.clone())]).unwrap();
    opt.set_fused(fused);
    for _ in 0..steps {
        // sum(sin(p)·p²): gradients of both signs and many magnitudes.
        let x = p.as_tensor();
        let loss = (x.sin().unwrap() * x.sqr().unwrap())
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = Grads::from_store(&loss.backward().unwrap(), [&p]);
        opt.step(&grads).unwrap();
    }
    let state = opt.state_tensors().unwrap();
    let mut names: Vec<_> = state.keys().cloned().collect();
    names.sort();
    let mut out = vec![p
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()];
    for k in names {
        out.push(state[&k].flatten_all().unwrap().to_vec1().unwrap());
    }
    out
}

#[test]
fn fused_adam_matches_the_tensor_path_bit_for_bit() {
    for config in [
        OptimizerConfig::Adam(AdamConfig {
            lr: 3e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.05,
        }),
        OptimizerConfig::AdamW(AdamWConfig {
            lr: 1e-2,
            betas: (0.8, 0.99),
            eps: 1e-6,
            weight_decay: 0.01,
        }),
    ] {
        let fused = trajectory(&config, true, 5);
        let plain = trajectory(&config, false, 5);
        assert_eq!(fused.len(), 3, "parameter + two moment buffers");
        for (a, b) in fused.iter().zip(&plain) {
            let first = a
                .iter()
                .zip(b)
                .position(|(x, y)| x.to_bits() != y.to_bits());
            assert!(first.is_none(), "{config:?}: first difference at {first:?}");
        }
        // The parameters moved.
        assert!(fused[0]
            .iter()
            .zip(&trajectory(&config, true, 0)[0])
            .any(|(a, b)| a != b));
    }
}

#[test]
fn saved_state_is_a_snapshot_not_a_view() {
    let config = OptimizerConfig::AdamW(AdamWConfig {
        lr: 1e-2,
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 0.01,
    });
    let dev = Device::Cpu;
    let p = Var::from_tensor(&Tensor::new(&[1.0f32, -2.0, 3.0], &dev).unwrap()).unwrap();
    let mut opt = Optimizer::new(config, vec![("p".into(), p.clone())]).unwrap();
    let step = |opt: &mut Optimizer| {
        let loss = p.as_tensor().sqr().unwrap().sum_all().unwrap();
        opt.step(&Grads::from_store(&loss.backward().unwrap(), [&p]))
            .unwrap();
    };
    step(&mut opt);
    let saved = opt.state_tensors().unwrap()["exp_avg/p"]
        .to_vec1::<f32>()
        .unwrap();
    let snapshot = opt.state_tensors().unwrap();
    step(&mut opt);
    assert_eq!(snapshot["exp_avg/p"].to_vec1::<f32>().unwrap(), saved);
    assert_ne!(
        opt.state_tensors().unwrap()["exp_avg/p"]
            .to_vec1::<f32>()
            .unwrap(),
        saved
    );
}
