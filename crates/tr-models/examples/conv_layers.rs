//! Time of each of line-cnn's convolutions (course sizes: conv_dim 32,
//! fc_dim 512, window 16 / stride 8) on one 28×896 line, with bias and ReLU,
//! forward only — where single-line inference latency goes.
//!
//! ```sh
//! RAYON_NUM_THREADS=1 cargo run --release -p tr-models --example conv_layers [RUNS]
//! ```
//!
//! `bench/torch_conv_layers.py` prints the same table for PyTorch.

use std::time::Instant;

use candle_core::{Device, Tensor};
use tr_kernels::{conv2d, ConvGeometry};

/// Input channels, output channels, input height and width, kernel, stride, padding.
struct Layer {
    c: usize,
    o: usize,
    h: usize,
    w: usize,
    geom: ConvGeometry,
}

const fn layer(c: usize, o: usize, h: usize, w: usize, stride: usize) -> Layer {
    Layer {
        c,
        o,
        h,
        w,
        geom: ConvGeometry {
            kernel: (3, 3),
            stride: (stride, stride),
            padding: (1, 1),
        },
    }
}

const LAYERS: [Layer; 9] = [
    layer(1, 32, 28, 896, 1),
    layer(32, 32, 28, 896, 1),
    layer(32, 32, 28, 896, 2),
    layer(32, 32, 14, 448, 1),
    layer(32, 64, 14, 448, 2),
    layer(64, 64, 7, 224, 1),
    layer(64, 128, 7, 224, 2),
    layer(128, 128, 4, 112, 1),
    // The window convolution: (H/8, WW/8) kernel, (H/8, WS/8) stride.
    Layer {
        c: 128,
        o: 512,
        h: 4,
        w: 112,
        geom: ConvGeometry {
            kernel: (3, 2),
            stride: (3, 1),
            padding: (0, 0),
        },
    },
];

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200);
    anyhow::ensure!(runs > 0, "RUNS must be positive");
    let dev = Device::Cpu;
    let mut total = 0.0;
    println!("layer                           median ms   min ms");
    for l in &LAYERS {
        let (k, s) = (l.geom.kernel, l.geom.stride);
        let x = Tensor::rand(0f32, 1f32, (1, l.c, l.h, l.w), &dev)?;
        let w = Tensor::rand(-0.1f32, 0.1f32, (l.o, l.c, k.0, k.1), &dev)?;
        let b = Tensor::rand(-0.1f32, 0.1f32, l.o, &dev)?;
        for _ in 0..5 {
            conv2d(&x, &w, Some(&b), l.geom, true)?;
        }
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            conv2d(&x, &w, Some(&b), l.geom, true)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        total += times[runs / 2];
        let name = format!("{}->{} {}x{} k{}x{} s{}", l.c, l.o, l.h, l.w, k.0, k.1, s.0);
        println!("{name:<32}{:>9.3}{:>9.3}", times[runs / 2], times[0]);
    }
    println!("{:<32}{total:>9.3}", "sum of medians");
    Ok(())
}
