//! Single-image latency of `LineTextRecognizer::predict` on a 28×896 line
//! (the course's EMNIST-lines size) for `line-cnn` and `line-cnn-lstm` at
//! their default (course) sizes, weights seeded (latency does not depend on
//! training). Threads: set `RAYON_NUM_THREADS`.
//!
//! ```sh
//! RAYON_NUM_THREADS=1 cargo run --release -p tr-infer --example latency
//! RAYON_NUM_THREADS=2 cargo run --release -p tr-infer --example latency
//! ```

use std::collections::HashMap;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use image::{DynamicImage, GrayImage, Luma};
use tr_infer::artifact::{write_artifact, ArtifactSpec};
use tr_infer::LineTextRecognizer;
use tr_models::{default_spec, ModelConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    // A scan-like 28×896 line: dark strokes on light paper.
    let line = DynamicImage::ImageLuma8(GrayImage::from_fn(896, 28, |x, y| {
        Luma([if (x / 4) % 7 == 0 && (5..23).contains(&y) {
            25
        } else {
            230
        }])
    }));
    for name in ["line-cnn", "line-cnn-lstm"] {
        let model = ModelConfig::by_name(name)?;
        let spec = default_spec(name)?;
        let varmap = VarMap::new();
        let vb = tr_models::seeded_var_builder(&varmap, 1, DType::F32, &Device::Cpu);
        model.build(&spec, vb)?;
        let weights: HashMap<String, Tensor> = tr_models::params::named_vars(&varmap)
            .into_iter()
            .map(|(k, v)| (k, v.as_tensor().clone()))
            .collect();
        let dir = tempfile::tempdir()?;
        write_artifact(dir.path(), &ArtifactSpec::new(model, &spec), &weights)?;
        let t = Instant::now();
        let r = LineTextRecognizer::from_dir(dir.path())?;
        let load_ms = t.elapsed().as_secs_f64() * 1e3;
        for _ in 0..3 {
            r.predict(&line)?;
        }
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let _ = r.predict(&line);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{name:14} threads={threads:3} load {load_ms:7.1} ms | predict 28x896: median {:6.2} ms, p10 {:6.2}, p90 {:6.2} ({runs} runs)",
            times[runs / 2],
            times[runs / 10],
            times[runs * 9 / 10]
        );
    }
    Ok(())
}
