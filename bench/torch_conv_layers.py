#!/usr/bin/env python3
"""PyTorch twin of `cargo run --release -p tr-models --example conv_layers`:
time of each of line-cnn's convolutions (+ ReLU) on one 28x896 line, forward
only, 1 thread, eager under no_grad. Optional: needs `torch`; never run by
tests or CI.

    /work/venv/bin/python bench/torch_conv_layers.py [RUNS]
"""

import sys
import time

import torch

LAYERS = [
    # (in, out, H, W, kernel, stride, padding)
    (1, 32, 28, 896, (3, 3), (1, 1), (1, 1)),
    (32, 32, 28, 896, (3, 3), (1, 1), (1, 1)),
    (32, 32, 28, 896, (3, 3), (2, 2), (1, 1)),
    (32, 32, 14, 448, (3, 3), (1, 1), (1, 1)),
    (32, 64, 14, 448, (3, 3), (2, 2), (1, 1)),
    (64, 64, 7, 224, (3, 3), (1, 1), (1, 1)),
    (64, 128, 7, 224, (3, 3), (2, 2), (1, 1)),
    (128, 128, 4, 112, (3, 3), (1, 1), (1, 1)),
    (128, 512, 4, 112, (3, 2), (3, 1), (0, 0)),
]


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    torch.set_num_threads(1)
    total = 0.0
    print("layer                           median ms   min ms")
    with torch.no_grad():
        for c, o, h, w, k, s, p in LAYERS:
            conv = torch.nn.Conv2d(c, o, k, s, p)
            x = torch.rand(1, c, h, w)
            for _ in range(5):
                torch.relu(conv(x))
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                torch.relu(conv(x))
                times.append((time.perf_counter() - t) * 1e3)
            times.sort()
            total += times[runs // 2]
            name = f"{c}->{o} {h}x{w} k{k[0]}x{k[1]} s{s[0]}"
            print(f"{name:<32}{times[runs // 2]:>9.3f}{times[0]:>9.3f}")
    print(f"{'sum of medians':<32}{total:>9.3f}")


if __name__ == "__main__":
    main()
