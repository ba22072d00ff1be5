#!/usr/bin/env python3
"""PyTorch reference for `cargo xtask bench` (docs/performance.md).

Builds the course's LineCNN and LineCNNLSTM exactly as tr-models does
(conv_dim 32, fc_dim 512, window 16 / stride 8, fc dropout 0.2, 83 classes,
LSTM 512 bidirectional with the two directions summed) and prints, per model,
at batch 32 on 1x28x896 lines with N threads: forward ms (model + CTC loss),
backward ms, optimizer (AdamW) ms, samples/s, peak RSS (MB) and the
single-line eager inference latency at 1 thread. Each model runs in its own
child process so the peak RSS is its own.

Optional: needs `torch`; never run by tests or CI.

    /work/venv/bin/python bench/torch_bench.py --threads 2 --steps 5
"""

import argparse
import resource
import statistics
import subprocess
import sys
import time

HEADER = "model           fwd_ms   bwd_ms   opt_ms  samples/s  peak_rss_MB  latency_1t_ms"


def build(name, classes=83, height=28):
    import torch
    from torch import nn

    class ConvBlock(nn.Module):
        def __init__(self, cin, cout, kernel=3, stride=1, padding=1):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding)
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.conv(x))

    class LineCNN(nn.Module):
        def __init__(self, outputs, conv_dim=32, fc_dim=512, ww=16, ws=8, dropout=0.2):
            super().__init__()
            strides = [1, 1, 2, 1, 2, 1, 2, 1]
            widths = [1, 1, 1, 1, 2, 2, 4, 4]
            convs, cin = [], 1
            for s, m in zip(strides, widths):
                convs.append(ConvBlock(cin, m * conv_dim, 3, s, 1))
                cin = m * conv_dim
            k = (height // 8, ww // 8)
            st = (height // 8, ws // 8)
            convs.append(ConvBlock(cin, fc_dim, k, st, 0))
            self.convs = nn.Sequential(*convs)
            self.fc1 = nn.Linear(fc_dim, fc_dim)
            self.dropout = nn.Dropout(dropout)
            self.fc2 = nn.Linear(fc_dim, outputs)
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(m.weight, a=0, mode="fan_out", nonlinearity="relu")
                    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight)
                    bound = 1 / fan_out**0.5
                    nn.init.normal_(m.bias, -bound, bound)

        def forward(self, x):
            x = self.convs(x).squeeze(2).permute(0, 2, 1)  # (B, S, fc_dim)
            x = self.dropout(torch.relu(self.fc1(x)))
            return self.fc2(x).permute(0, 2, 1)  # (B, C, S)

    class LineCNNLSTM(nn.Module):
        def __init__(self, lstm_dim=512):
            super().__init__()
            self.line_cnn = LineCNN(classes)
            self.lstm_dim = lstm_dim
            self.lstm = nn.LSTM(classes, lstm_dim, num_layers=1, dropout=0.0, bidirectional=True)
            self.fc = nn.Linear(lstm_dim, classes)

        def forward(self, x):
            x = self.line_cnn(x)  # (B, C, S)
            b, _, s = x.shape
            x = x.permute(2, 0, 1)  # (S, B, C)
            x, _ = self.lstm(x)
            x = x.view(s, b, 2, -1).sum(dim=2)
            return self.fc(x).permute(1, 2, 0)

    return LineCNN(classes) if name == "line-cnn" else LineCNNLSTM()


def bench_model(name, args):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model = build(name)
    b, classes, label_len = args.batch, 83, 32
    x = torch.rand(b, 1, 28, 896)
    targets = torch.randint(4, classes, (b, label_len))
    target_lengths = torch.tensor([16 + (i * 7) % (label_len - 15) for i in range(b)])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    times = [[], [], []]
    for step in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        logits = model(x)
        s = logits.shape[2]
        log_probs = F.log_softmax(logits.permute(2, 0, 1), dim=2)
        loss = F.ctc_loss(log_probs, targets, torch.full((b,), s), target_lengths, blank=0)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if step >= args.warmup:
            for v, t in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
                v.append(t * 1e3)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    fwd, bwd, optm = (statistics.median(v) for v in times)
    torch.set_num_threads(1)
    model.eval()
    one = x[:1].contiguous()
    lat = []
    with torch.no_grad():
        for run in range(args.latency_runs + 2):
            t0 = time.perf_counter()
            model(one).sum().item()
            if run >= 2:
                lat.append((time.perf_counter() - t0) * 1e3)
    sps = b / ((fwd + bwd + optm) / 1e3)
    return (
        f"{name:<14} {fwd:>7.1f}  {bwd:>7.1f}  {optm:>7.1f}  {sps:>9.2f}  {peak:>11.0f}"
        f"  {statistics.median(lat):>13.2f}"
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="line-cnn,line-cnn-lstm")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--latency-runs", type=int, default=20)
    p.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in ("line-cnn", "line-cnn-lstm"):
            sys.exit(f"error: --models: unknown model {m!r} (expected line-cnn, line-cnn-lstm)")
    if args.in_process:
        for m in models:
            print(bench_model(m, args))
        return
    import torch

    print(
        f"# batch {args.batch}, {args.threads} threads (latency: 1 thread), "
        f"{args.steps} timed steps, PyTorch {torch.__version__} eager"
    )
    print(HEADER)
    for m in models:
        cmd = [sys.executable, __file__, "--in-process", "--models", m]
        for k in ("batch", "threads", "steps", "warmup", "latency_runs"):
            cmd += ["--" + k.replace("_", "-"), str(getattr(args, k))]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"error: {m} benchmark failed: {out.stderr.strip()}")
        print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
