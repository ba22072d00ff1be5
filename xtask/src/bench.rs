//! `cargo xtask bench`: training-step and inference-latency benchmark of the
//! line models on the CPU, the figures of `docs/performance.md`.
//!
//! For each model (default `line-cnn` and `line-cnn-lstm`, course configs,
//! batch 32 of 1×28×896 EMNIST-lines inputs, 83 classes; `crnn`, the shipped
//! line model, at its training shape: batch 16 of 1×48×768 real lines, 86
//! classes; the Transformers with teacher-forced cross-entropy — see
//! [`shape`]): `steps` training steps at the model's batch
//! (or `--batch`) on a `threads`-thread rayon pool — forward (model + tr-lit's
//! `CtcLoss` or `CrossEntropy`), backward, AdamW step (the trainer's `tr_train::optim`,
//! gradients copied out of candle's store included), each timed separately (medians after
//! `warmup` steps) — then the median single-line inference latency on a
//! 1-thread pool (for the Transformers: greedy decoding with the key/value
//! cache, to the data's full `output_len`, as an untrained model never
//! stops early). Every model runs in its own child process so its peak RSS
//! (`VmHWM`) is its own; a second child process per model measures the peak
//! RSS of a single-line inference alone (the `predict_rss_MB` column, see
//! [`predict`]). `--reference` selects candle's reference ops
//! instead of the fast CPU kernels (`tr_kernels`) and the tensor-op
//! AdamW instead of the fused in-place one.
//!
//! `--check-training STEPS` instead trains small line models on a synthetic
//! CTC task with both op sets from the same seed and compares their loss
//! curves and validation CERs (see [`check`]).
//!
//! `bench/torch_bench.py` prints the same figures for PyTorch (and the
//! single-line latency of onnxruntime).

mod check;
mod predict;
mod serve;
mod shape;

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::Var;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use clap::Args;
use tr_lit::{CrossEntropy, CtcLoss};
use tr_models::ModelConfig;
use tr_train::optim::{AdamWConfig, Grads, Optimizer, OptimizerConfig};

use shape::BenchShape;

/// What `cargo xtask bench` measures.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchMode {
    /// Training steps and inference latency of the line models (the default).
    Models,
    /// Load benchmark of `tr-serve` on loopback (see [`serve`]).
    Serve,
}

/// Options of `cargo xtask bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// `models` (default): training and inference of the line models;
    /// `serve`: the HTTP server under load (`--clients`, `--duration-s`).
    #[arg(value_enum, default_value = "models")]
    pub mode: BenchMode,
    /// serve: concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// serve: seconds of load.
    #[arg(long, default_value_t = 30)]
    pub duration_s: u64,
    /// serve: sequential requests timed before the load (single-request latency).
    #[arg(long, default_value_t = 20)]
    pub single_requests: usize,
    /// serve: requests per model batch.
    #[arg(long, default_value_t = 8)]
    pub max_batch: usize,
    /// serve: how long a batch waits for more requests, in milliseconds.
    #[arg(long, default_value_t = 5)]
    pub batch_wait_ms: u64,
    /// serve: an artifact directory instead of the bundled model.
    #[arg(long, value_name = "DIR")]
    pub serve_model: Option<std::path::PathBuf>,
    /// serve: run the server itself (the benchmark's child process).
    #[arg(long, hide = true)]
    pub serve_child: bool,
    /// Models to measure, comma-separated: models of the zoo, each at its
    /// training shape. crnn (the shipped line model): batch 16 of 1x48x768
    /// lines, 86 classes; line-cnn, line-cnn-lstm, line-cnn-transformer (and
    /// the others): batch 32 of their course data (1x28x896 lines, 83
    /// classes); resnet-transformer: batch 2 of 1x576x640 paragraphs.
    #[arg(long, value_delimiter = ',', default_value = "line-cnn,line-cnn-lstm")]
    pub models: Vec<String>,
    /// Training batch size of every model [default: the model's, 32 or 16].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Threads of the training pool (inference latency always uses 1).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Timed training steps per model.
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Untimed training steps before the timed ones.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Timed single-line inference runs (after 2 untimed ones).
    #[arg(long, default_value_t = 20)]
    pub latency_runs: usize,
    /// Use candle's reference ops instead of the fast CPU kernels.
    #[arg(long)]
    pub reference: bool,
    /// Instead of timing: train small models for this many steps with the
    /// fast kernels and with the reference ops and compare validation CERs.
    #[arg(long, value_name = "STEPS")]
    pub check_training: Option<usize>,
    /// Run the models in this process (used for the per-model child
    /// processes); prints the training columns only.
    #[arg(long, hide = true)]
    pub in_process: bool,
    /// Only build each model, read one line in eval mode and print the
    /// process's peak RSS in MB (the per-model `predict_rss_MB` child).
    #[arg(long, hide = true)]
    pub predict_rss: bool,
}

/// Figures of one model.
#[derive(Debug, Clone)]
pub struct Report {
    pub model: String,
    pub forward_ms: f64,
    pub backward_ms: f64,
    pub optimizer_ms: f64,
    pub samples_per_s: f64,
    pub peak_rss_mb: f64,
    pub latency_ms: f64,
}

/// Column header of [`Report::row`] (the `--in-process` table).
pub const TRAIN_HEADER: &str =
    "model           fwd_ms   bwd_ms   opt_ms  samples/s  peak_rss_MB  latency_1t_ms";

/// Column header of the table: [`TRAIN_HEADER`] and the peak RSS of a
/// single-line inference process ([`predict`]).
pub const HEADER: &str = "model           fwd_ms   bwd_ms   opt_ms  samples/s  peak_rss_MB  latency_1t_ms  predict_rss_MB";

impl Report {
    /// One aligned table row.
    pub fn row(&self) -> String {
        format!(
            "{:<14} {:>7.1}  {:>7.1}  {:>7.1}  {:>9.2}  {:>11.0}  {:>13.2}",
            self.model,
            self.forward_ms,
            self.backward_ms,
            self.optimizer_ms,
            self.samples_per_s,
            self.peak_rss_mb,
            self.latency_ms
        )
    }
}

/// Runs the benchmark and returns the text to print.
pub fn run(args: &BenchArgs) -> Result<String> {
    if args.mode == BenchMode::Serve {
        return if args.serve_child {
            serve::serve_child(args)
        } else {
            serve::run(args)
        };
    }
    if let Some(steps) = args.check_training {
        if steps == 0 {
            bail!("--check-training must be positive")
        }
        return check::check_training(steps);
    }
    if args.batch == Some(0) || args.threads == 0 || args.steps == 0 || args.latency_runs == 0 {
        bail!("--batch, --threads, --steps and --latency-runs must be positive")
    }
    tr_kernels::set_reference_ops(args.reference);
    if args.predict_rss {
        // Before the allocator settings below: `htr predict` keeps glibc's.
        let rss = args
            .models
            .iter()
            .map(|m| Ok(format!("{:.1}", predict::predict_peak_rss(m)?)))
            .collect::<Result<Vec<_>>>()?;
        return Ok(rss.join("\n"));
    }
    // As the trainer does (`tr_train::cli::run`); each per-model child process
    // runs this function too (`--in-process`), so it applies there as well.
    tr_kernels::keep_freed_memory();
    let ops = if args.reference {
        "candle reference ops"
    } else {
        "tr fast CPU kernels"
    };
    let shapes = args
        .models
        .iter()
        .map(|m| BenchShape::of(m, args.batch))
        .collect::<Result<Vec<_>>>()?;
    let batch = match shapes.split_first() {
        Some((first, rest)) if rest.iter().all(|s| s.batch == first.batch) => {
            first.batch.to_string()
        }
        _ => "per model".to_string(),
    };
    let mut out = vec![format!(
        "# batch {batch}, {} threads (latency: 1 thread), {} timed steps, {ops}",
        args.threads, args.steps
    )];
    for (model, shape) in args.models.iter().zip(&shapes) {
        out.push(format!("# {}", shape.describe(model)));
    }
    out.push(
        if args.in_process {
            TRAIN_HEADER
        } else {
            HEADER
        }
        .to_string(),
    );
    for model in &args.models {
        if args.in_process {
            out.push(bench_model(model, args)?.row());
        } else {
            let row = run_child(model, args, "--in-process")?;
            let rss = run_child(model, args, "--predict-rss")?;
            let rss: f64 = rss
                .parse()
                .with_context(|| format!("{model}: predict RSS {rss:?} is not a number"))?;
            out.push(format!("{row}  {rss:>14.0}"));
        }
    }
    Ok(out.join("\n"))
}

/// Runs one model in a child process in `mode` (`--in-process`: training
/// and latency; `--predict-rss`: inference memory) and returns the last line
/// it printed.
fn run_child(model: &str, args: &BenchArgs, mode: &str) -> Result<String> {
    let exe = std::env::current_exe().context("locating the xtask binary")?;
    let mut cmd = Command::new(exe);
    cmd.args(["bench", mode, "--models", model]);
    if let Some(batch) = args.batch {
        cmd.args(["--batch", &batch.to_string()]);
    }
    cmd.args(["--threads", &args.threads.to_string()])
        .args(["--steps", &args.steps.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .args(["--latency-runs", &args.latency_runs.to_string()]);
    if args.reference {
        cmd.arg("--reference");
    }
    let output = cmd
        .output()
        .with_context(|| format!("running the {model} benchmark ({mode})"))?;
    if !output.status.success() {
        bail!(
            "{model} benchmark ({mode}) failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .last()
        .map(str::to_string)
        .with_context(|| format!("{model} benchmark printed nothing"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Deterministic pseudo-random values in `[0, 1)` (SplitMix64).
fn det_values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

/// Measures one model in this process.
pub fn bench_model(name: &str, args: &BenchArgs) -> Result<Report> {
    let config = ModelConfig::by_name(name)?;
    let shape = BenchShape::of(name, args.batch)?;
    let spec = &shape.spec;
    let [c, h, w] = spec.input_shape;
    let classes = spec.num_classes();
    let label_len = shape.label_len;
    let dev = Device::Cpu;
    let varmap = VarMap::new();
    let vb = tr_models::seeded_var_builder(&varmap, 0, DType::F32, &dev);
    let model = config.build(spec, vb)?;
    let b = shape.batch;
    let x = Tensor::from_vec(det_values(b * c * h * w, 1), (b, c, h, w), &dev)?;
    // Labels 4.. (past blank and the special tokens), lengths 16..=label_len.
    let labels: Vec<u32> = det_values(b * label_len, 2)
        .iter()
        .map(|v| 4 + (v * (classes - 4) as f32) as u32)
        .collect();
    let objective = Objective::new(&shape, labels, &dev)?;
    // The trainer's AdamW (fused in-place update unless --reference).
    let params: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("the model's parameter map is poisoned"))?
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let vars: Vec<Var> = params.iter().map(|(_, v)| v.clone()).collect();
    let mut opt = Optimizer::new(
        OptimizerConfig::AdamW(AdamWConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.01,
        }),
        params,
    )?;
    opt.set_fused(!args.reference);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()?;
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    clear_peak_rss();
    pool.install(|| -> Result<()> {
        for step in 0..args.warmup + args.steps {
            let t0 = Instant::now();
            let loss = objective.loss(model.as_ref(), &x)?;
            let fwd = ms(t0);
            let t1 = Instant::now();
            let store = loss.backward()?;
            let bwd = ms(t1);
            let t2 = Instant::now();
            let grads = Grads::from_store(&store, &vars);
            drop(store);
            opt.step(&grads)?;
            let opt_ms = ms(t2);
            tracing::info!(model = name, step, fwd, bwd, opt_ms, "training step");
            if step >= args.warmup {
                for (v, t) in times.iter_mut().zip([fwd, bwd, opt_ms]) {
                    v.push(t);
                }
            }
        }
        Ok(())
    })?;
    let peak_rss_mb = peak_rss_mb()?;
    let [fwd, bwd, opt_t] = times.map(median);
    if shape.seq2seq {
        never_stop(&varmap, &shape)?;
    }
    let one = x.narrow(0, 0, 1)?.contiguous()?;
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let latency = single.install(|| -> Result<f64> {
        let mut v = Vec::with_capacity(args.latency_runs);
        for run in 0..args.latency_runs + 2 {
            let t0 = Instant::now();
            // Seq2seq models decode greedily (key/value cache) in `forward`.
            let y = model.forward(&one, false)?;
            y.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
            if run >= 2 {
                v.push(ms(t0));
            }
        }
        Ok(median(v))
    })?;
    Ok(Report {
        model: name.to_string(),
        forward_ms: fwd,
        backward_ms: bwd,
        optimizer_ms: opt_t,
        samples_per_s: b as f64 / ((fwd + bwd + opt_t) / 1e3),
        peak_rss_mb,
        latency_ms: latency,
    })
}

/// Makes a seq2seq model's greedy decoding run to the data's full
/// `output_len`: the output layer's bias of `<E>` and `<P>` becomes −10⁴, so
/// neither is ever chosen. An untrained model would otherwise stop after a
/// seed-dependent number of tokens, and tr and PyTorch (which does the same,
/// `bench/torch_bench.py`) would time different lengths.
fn never_stop(varmap: &VarMap, shape: &BenchShape) -> Result<()> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("the model's parameter map is poisoned"))?;
    let bias = data
        .get("fc.bias")
        .context("seq2seq model without an `fc.bias` output layer")?;
    let mut values = bias.as_tensor().to_vec1::<f32>()?;
    let vocab = &shape.spec.vocab;
    for token in [vocab.end()?, vocab.pad()?] {
        let slot = values
            .get_mut(token as usize)
            .with_context(|| format!("fc.bias has no entry for token {token}"))?;
        *slot = -1e4;
    }
    let n = values.len();
    bias.set(&Tensor::from_vec(values, n, bias.device())?)?;
    Ok(())
}

/// The training loss of a benchmarked model.
enum Objective {
    /// CTC over the model's `(B, C, S)` logits.
    Ctc {
        loss: CtcLoss,
        targets: Tensor,
        target_lengths: Vec<usize>,
    },
    /// Teacher-forced cross-entropy of `y[:, 1:]` given `y[:, :-1]`, `<P>`
    /// ignored, as `tr_lit`'s seq2seq step (and the course) computes it.
    Seq2Seq {
        loss: CrossEntropy,
        decoder_in: Tensor,
        expected: Tensor,
    },
}

impl Objective {
    /// The objective of `shape`'s model for `(B, label_len)` row-major `labels`.
    fn new(shape: &BenchShape, labels: Vec<u32>, dev: &Device) -> Result<Self> {
        let b = shape.batch;
        if shape.seq2seq {
            let len = shape.label_len + 2;
            let y = Tensor::from_vec(shape.seq2seq_targets(&labels)?, (b, len), dev)?;
            Ok(Self::Seq2Seq {
                loss: CrossEntropy::new().ignoring(shape.spec.vocab.pad()?),
                decoder_in: y.narrow(1, 0, len - 1)?,
                expected: y.narrow(1, 1, len - 1)?,
            })
        } else {
            Ok(Self::Ctc {
                loss: CtcLoss::default(),
                targets: Tensor::from_vec(labels, (b, shape.label_len), dev)?,
                target_lengths: shape.target_lengths(),
            })
        }
    }

    /// Forward pass of one training step: model and loss.
    fn loss(&self, model: &dyn tr_models::Model, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Self::Ctc {
                loss,
                targets,
                target_lengths,
            } => {
                let logits = model.forward(x, true)?;
                let steps = logits.dim(2)?;
                let lengths = vec![steps; target_lengths.len()];
                loss.forward_logits(&logits, targets, &lengths, target_lengths)?
            }
            Self::Seq2Seq {
                loss,
                decoder_in,
                expected,
            } => {
                let logits = model.forward_teacher(x, decoder_in, true)?;
                loss.forward(&logits, expected)?
            }
        })
    }
}

/// Resets the kernel's peak-RSS mark (Linux; ignored elsewhere).
fn clear_peak_rss() {
    if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
        tracing::warn!("cannot reset the peak RSS mark: {e}");
    }
}

/// `VmHWM` of this process in MB.
fn peak_rss_mb() -> Result<f64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("/proc/self/status has no VmHWM line")?;
    let kb: f64 = line
        .split_whitespace()
        .nth(1)
        .context("VmHWM line has no value")?
        .parse()
        .context("VmHWM value is not a number")?;
    Ok(kb / 1024.0)
}
