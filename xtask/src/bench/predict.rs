//! `cargo xtask bench` inference memory: the peak RSS of a process that
//! builds a model and reads one line with it — the measured counterpart of
//! `htr predict` on one line.
//!
//! Runs in a child process of its own (`--predict-rss`, one per model), so
//! the figure is the whole process's `VmHWM`: the model's parameters (built
//! from the seed, as `htr predict` builds them from an artifact), one
//! `1×C×H×W` line of the model's [`BenchShape`] and one eval-mode forward
//! pass (`train = false`) on a 1-thread pool, as the latency runs. Like
//! `htr predict`, and unlike the training runs, it keeps glibc's default
//! allocator settings (no [`tr_kernels::keep_freed_memory`]).

use anyhow::Result;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use tr_models::ModelConfig;

use super::shape::BenchShape;
use super::{det_values, peak_rss_mb};

/// Peak RSS (MB) of this process after one single-line inference of `name`.
pub fn predict_peak_rss(name: &str) -> Result<f64> {
    let config = ModelConfig::by_name(name)?;
    let spec = BenchShape::of(name, None)?.spec;
    let [c, h, w] = spec.input_shape;
    let dev = Device::Cpu;
    let varmap = VarMap::new();
    let vb = tr_models::seeded_var_builder(&varmap, 0, DType::F32, &dev);
    let model = config.build(&spec, vb)?;
    let line = Tensor::from_vec(det_values(c * h * w, 1), (1, c, h, w), &dev)?;
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let checksum = single.install(|| -> Result<f32> {
        // Seq2seq models return their greedy `u32` tokens.
        let out = model.forward(&line, false)?.to_dtype(DType::F32)?;
        Ok(out.sum_all()?.to_scalar::<f32>()?)
    })?;
    tracing::debug!(model = name, checksum, "single-line inference");
    peak_rss_mb()
}
