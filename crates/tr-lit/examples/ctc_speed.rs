//! Times CTC forward + backward for B=32, T=111, C=83, target length 32
//! (reduction mean, f32 logits, CPU) — compare with
//! `scripts/bench_ctc_torch.py`. Run with
//! `cargo run --release -p tr-lit --example ctc_speed [runs]`.

use std::time::Instant;

use candle_core::{Device, Tensor, Var};
use tr_lit::{CtcAlgorithm, CtcLoss};

const B: usize = 32;
const T: usize = 111;
const C: usize = 83;
const L: usize = 32;

/// User + system CPU time of this process (all threads), from
/// `/proc/self/stat` (Linux; clock ticks of 10 ms), robust to other load on
/// the machine where wall time is not.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(50);
    let logits = Var::from_tensor(&Tensor::randn(0f32, 1.0, (B, C, T), &Device::Cpu)?)?;
    let labels: Vec<u32> = (0..B * L)
        .map(|i| 4 + ((i * 7919 + i / L) % (C - 4)) as u32)
        .collect();
    let targets = Tensor::from_vec(labels, (B, L), &Device::Cpu)?;
    for algorithm in [CtcAlgorithm::Auto, CtcAlgorithm::LogSpace] {
        let loss = CtcLoss {
            algorithm,
            zero_infinity: true,
            ..CtcLoss::default()
        };
        let step = || -> anyhow::Result<f32> {
            let value = loss.forward_logits(logits.as_tensor(), &targets, &[T; B], &[L; B])?;
            let grads = value.backward()?;
            anyhow::ensure!(grads.get(logits.as_tensor()).is_some(), "no gradient");
            Ok(value.to_scalar::<f32>()?)
        };
        for _ in 0..3 {
            step()?;
        }
        let mut times = Vec::with_capacity(runs);
        let mut value = 0.0;
        let cpu_start = cpu_seconds();
        for _ in 0..runs {
            let start = Instant::now();
            value = step()?;
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let cpu_ms = cpu_seconds().map(|end| (end - cpu_start.unwrap_or(end)) * 1e3 / runs as f64);
        times.sort_by(f64::total_cmp);
        println!(
            "tr-lit CtcLoss {algorithm:?} fwd+bwd incl. log_softmax, B={B} T={T} C={C} L={L}, {} rayon threads: \
             wall median {:.2} ms, min {:.2} ms; process CPU time {} ms per step (loss {value:.4})",
            rayon::current_num_threads(),
            times[runs / 2],
            times[0],
            cpu_ms.map_or("n/a".to_string(), |v| format!("{v:.2}"))
        );
    }
    Ok(())
}
