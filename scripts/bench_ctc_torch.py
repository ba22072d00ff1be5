#!/usr/bin/env python3
"""Time PyTorch's CPU ctc_loss forward+backward for the shapes of
tr-lit's `examples/ctc_speed.rs` (which prints ours):
B=32, T=111, C=83, target length 32, reduction mean, float32.

    /work/venv/bin/python scripts/bench_ctc_torch.py [--threads N]

Never run by tests or CI. See docs/ctc.md for the numbers.
"""
import argparse
import statistics
import time

import torch

B, T, C, L = 32, 111, 83, 32


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(B, C, T, generator=gen)
    targets = torch.randint(4, C, (B, L), generator=gen)
    input_lengths = torch.full((B,), T, dtype=torch.long)
    target_lengths = torch.full((B,), L, dtype=torch.long)

    def step() -> None:
        x = logits.clone().requires_grad_(True)
        log_probs = torch.log_softmax(x, dim=1).permute(2, 0, 1)
        loss = torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, zero_infinity=True)
        loss.backward()

    for _ in range(5):
        step()
    times = []
    cpu_start = time.process_time()
    for _ in range(args.runs):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    cpu_ms = (time.process_time() - cpu_start) * 1e3 / args.runs
    print(
        f"torch {torch.__version__} ctc_loss fwd+bwd incl. log_softmax, B={B} T={T} C={C} L={L}, "
        f"{args.threads} threads: wall median {statistics.median(times):.2f} ms, min {min(times):.2f} ms; "
        f"process CPU time {cpu_ms:.2f} ms per step"
    )


if __name__ == "__main__":
    main()
