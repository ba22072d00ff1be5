//! Times the forward pass (evaluation mode) and one training step's forward
//! + backward of registry models on their default data, at a given batch size.
//!
//! ```text
//! cargo run --release -p tr-models --example forward_time -- [BATCH] [REPEATS] [MODEL...]
//! ```
//! Defaults: batch 32, 5 repeats, `line-cnn line-cnn-lstm`.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use tr_models::{default_spec, ModelConfig, Task};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let batch: usize = args.first().map(|s| s.parse()).transpose()?.unwrap_or(32);
    let repeats: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(5);
    let names: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        vec!["line-cnn".into(), "line-cnn-lstm".into()]
    };
    for name in &names {
        let cfg = ModelConfig::by_name(name)?;
        let spec = default_spec(name)?;
        let varmap = VarMap::new();
        let model = cfg.build(
            &spec,
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        )?;
        let [c, h, w] = spec.input_shape;
        let x = Tensor::rand(0f32, 1f32, (batch, c, h, w), &Device::Cpu)?;
        if model.task() == Task::Seq2Seq {
            anyhow::bail!("{name}: this benchmark times classifier/CTC forward passes only");
        }
        model.forward(&x, false)?; // warm-up
        let mut eval = Vec::new();
        let mut train = Vec::new();
        for _ in 0..repeats {
            let t = Instant::now();
            let y = model.forward(&x, false)?;
            eval.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let y2 = model.forward(&x, true)?;
            let _grads = y2.sqr()?.mean_all()?.backward()?;
            train.push(t.elapsed().as_secs_f64());
            drop(y);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "{name}: batch {batch} on {c}x{h}x{w}: forward (eval) median {:.1} ms, forward+backward (train) median {:.1} ms over {repeats} runs",
            1e3 * median(&mut eval),
            1e3 * median(&mut train)
        );
    }
    Ok(())
}
