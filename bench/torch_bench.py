#!/usr/bin/env python3
"""PyTorch and onnxruntime reference for `cargo xtask bench` (docs/performance.md).

Builds PyTorch twins of tr-models' line models, each at its own training
shape (MODELS below; `--batch` overrides the batch of every model):

* `line-cnn`, `line-cnn-lstm`: the course's LineCNN and LineCNNLSTM (conv_dim
  32, fc_dim 512, window 16 / stride 8, fc dropout 0.2; LSTM 512
  bidirectional with the two directions summed), batch 32 of 1x28x896
  EMNIST lines, 83 classes, labels of 16-32 symbols.
* `crnn`: the shipped line model (tr-models `crnn`, default config: six 3x3
  convs with 32/64/96/96/128/128 channels, BatchNorm + ReLU after each, 2x2
  max-pools after the first two, height halved by the stride-(2,1) 4th and
  6th convs; columns as a sequence, 3-layer BiLSTM 256 with dropout 0.5,
  linear to the classes), batch 16 of 1x48x768 real lines, 86 classes (the
  Hooker vocabulary), labels of 16-48 symbols (Hooker's lines: 30 on
  average, median 32).
* `line-cnn-transformer`: the course's lab-4 LineCNNTransformer (the LineCNN
  above with 256 outputs, scaled by sqrt(256), plus 1-D sinusoidal
  positions; `nn.TransformerDecoder`, 4 post-norm layers, width 256, 4 heads,
  feed-forward 256, dropout 0.4), batch 32 of 1x28x896 EMNIST lines, 83
  classes, teacher-forced cross-entropy on `<S>` + 16-30 labels + `<E>`
  padded with `<P>` to 32 (`<P>` ignored).
* `resnet-transformer`: the 2022 course's ResNetTransformer (torchvision's
  ResNet-18 body with a 1-channel stem, 1x1 projection to 256, 2-D
  sinusoidal positions; the decoder above with feed-forward 1024), batch 2
  of 1x576x640 paragraphs, 84 classes, 682 tokens (labels 16-680); needs
  `torchvision`.

For the Transformers the latency is the course's greedy loop, which runs the
decoder over the whole prefix again at every step (PyTorch's
`nn.TransformerDecoder` has no key/value cache), to the full output length:
the output bias of `<E>` and `<P>` is set to -1e4 first, as `cargo xtask
bench` does, so neither stops the loop early; onnxruntime is not measured
for them (`n/a`: the loop is Python).

Per model, one table row (`-` = not measured):

* fwd_ms, bwd_ms, opt_ms: median forward (model + CTC loss), backward and
  AdamW step of a training step at the model's batch, `--threads` threads;
* samples/s: batch / (fwd + bwd + opt);
* peak_rss_MB: the process's peak RSS (`ru_maxrss`) after training, ~520 MB
  of it `import torch`;
* latency_1t_ms: median eager inference latency of one line (eval mode,
  `torch.no_grad()`), 1 thread;
* ort_latency_1t_ms: the same line through onnxruntime: the eval-mode model
  exported with `torch.onnx.export` (TorchScript exporter, opset 17, dynamic
  batch, fixed line size), an `InferenceSession` with intra- and inter-op
  threads 1 (CPU provider, default graph optimisations), median of the
  latency runs; `n/a` if the export or the session fails (the reason goes to
  stderr).

Each model runs in its own child process so the peak RSS is its own.
Optional: needs `torch`, `onnx` and `onnxruntime`; never run by tests or CI.

    /work/kraken/venv/bin/python bench/torch_bench.py --threads 2 --steps 5
    /work/kraken/venv/bin/python bench/torch_bench.py --models crnn --threads 2 --steps 3 \
        --latency-runs 40
"""

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

HEADER = (
    "model           fwd_ms   bwd_ms   opt_ms  samples/s  peak_rss_MB  latency_1t_ms"
    "  ort_latency_1t_ms"
)

# Training shape of each model: input (C, H, W), classes, batch, longest label.
MODELS = {
    "line-cnn": dict(shape=(1, 28, 896), classes=83, batch=32, label_len=32),
    "line-cnn-lstm": dict(shape=(1, 28, 896), classes=83, batch=32, label_len=32),
    "crnn": dict(shape=(1, 48, 768), classes=86, batch=16, label_len=48),
    # Seq2seq: `label_len` labels between <S> and <E>, padded to `label_len + 2`.
    "line-cnn-transformer": dict(
        shape=(1, 28, 896), classes=83, batch=32, label_len=30, seq2seq=True
    ),
    "resnet-transformer": dict(
        shape=(1, 576, 640), classes=84, batch=2, label_len=680, seq2seq=True
    ),
}
# tr-data's special tokens come first in every vocabulary.
BLANK, START, END, PAD = 0, 1, 2, 3


def build(name, classes, height):
    import torch
    import torch.nn.functional as F
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

    class CRNN(nn.Module):
        """tr-models `crnn` (crnn.rs), default config; PyTorch default init."""

        # (stride_h, stride_w, pool_after) of the six convolutions (crnn.rs `STAGES`).
        STAGES = [
            (1, 1, True),
            (1, 1, True),
            (1, 1, False),
            (2, 1, False),
            (1, 1, False),
            (2, 1, False),
        ]

        def __init__(self, channels=(32, 64, 96, 128), lstm_dim=256, lstm_layers=3, dropout=0.5):
            super().__init__()
            assert height % 16 == 0, "crnn needs a height that is a multiple of 16"
            c1, c2, c3, c4 = channels
            outs = [c1, c2, c3, c3, c4, c4]
            self.convs, self.norms, cin = nn.ModuleList(), nn.ModuleList(), 1
            for (sh, sw, _), out in zip(self.STAGES, outs):
                self.convs.append(nn.Conv2d(cin, out, 3, stride=(sh, sw), padding=1))
                self.norms.append(nn.BatchNorm2d(out))
                cin = out
            self.dropout = nn.Dropout(dropout)
            features = c4 * (height // 16)
            self.lstm = nn.LSTM(
                features, lstm_dim, num_layers=lstm_layers, dropout=dropout, bidirectional=True
            )
            self.fc = nn.Linear(2 * lstm_dim, classes)

        def forward(self, x):
            for conv, norm, (_, _, pool) in zip(self.convs, self.norms, self.STAGES):
                x = torch.relu(norm(conv(x)))
                if pool:
                    x = F.max_pool2d(x, 2, 2)
            b, c, h, s = x.shape
            # Columns become time steps; channels x rows their features.
            x = x.reshape(b, c * h, s).permute(2, 0, 1)  # (S, B, F)
            x = self.dropout(x)
            x, _ = self.lstm(x)  # (S, B, 2H)
            x = self.dropout(x)
            return self.fc(x).permute(1, 2, 0)  # (B, classes, S)

    def sinusoid(length, dim):
        pe = torch.zeros(length, dim)
        pos = torch.arange(0, length, dtype=torch.float).unsqueeze(1)
        div = torch.exp(torch.arange(0, dim, 2).float() * (-math.log(10000.0) / dim))
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        return pe  # (length, dim)

    class TokenDecoder(nn.Module):
        """The course's decoder half: embedding, 1-D positions, nn.TransformerDecoder, fc."""

        def __init__(self, dim=256, ff_dim=256, layers=4, heads=4, dropout=0.4, max_len=32):
            super().__init__()
            self.dim = dim
            self.embedding = nn.Embedding(classes, dim)
            self.register_buffer("pe", sinusoid(max_len, dim))
            self.pos_dropout = nn.Dropout(0.1)
            layer = nn.TransformerDecoderLayer(dim, heads, ff_dim, dropout, batch_first=True)
            self.transformer_decoder = nn.TransformerDecoder(layer, layers)
            self.fc = nn.Linear(dim, classes)
            nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
            nn.init.uniform_(self.fc.weight, -0.1, 0.1)
            nn.init.zeros_(self.fc.bias)

        def forward(self, memory, y):
            s = y.shape[1]
            x = self.embedding(y) * math.sqrt(self.dim) + self.pe[:s]
            x = self.pos_dropout(x)
            mask = nn.Transformer.generate_square_subsequent_mask(s)
            x = self.transformer_decoder(x, memory, tgt_mask=mask, tgt_key_padding_mask=y == PAD)
            return self.fc(x).permute(0, 2, 1)  # (B, C, Sy)

    class Seq2Seq(nn.Module):
        def __init__(self, decoder):
            super().__init__()
            self.decoder = decoder

        def forward(self, x, y):
            return self.decoder(self.encode(x), y)

        @torch.no_grad()
        def greedy(self, x, max_len):
            """The course's loop: the whole prefix through the decoder at every step."""
            memory = self.encode(x)
            y = torch.full((x.shape[0], max_len), PAD, dtype=torch.long)
            y[:, 0] = START
            for t in range(1, max_len):
                logits = self.decoder(memory, y[:, :t])[:, :, -1]
                y[:, t] = logits.argmax(-1)
                if ((y[:, t] == END) | (y[:, t] == PAD)).all():
                    break
            return y

    class LineCNNTransformer(Seq2Seq):
        def __init__(self, dim=256):
            super().__init__(TokenDecoder(dim=dim, ff_dim=256, max_len=32))
            self.line_cnn = LineCNN(dim)
            self.dim = dim
            self.register_buffer("pe_enc", sinusoid(896 // 8, dim))
            self.enc_dropout = nn.Dropout(0.1)

        def encode(self, x):
            x = self.line_cnn(x) * math.sqrt(self.dim)  # (B, E, Sx)
            x = x.permute(0, 2, 1)
            return self.enc_dropout(x + self.pe_enc[: x.shape[1]])

    class ResNetTransformer(Seq2Seq):
        def __init__(self, dim=256):
            import torchvision

            super().__init__(TokenDecoder(dim=dim, ff_dim=1024, max_len=682))
            resnet = torchvision.models.resnet18(weights=None)
            resnet.conv1 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)
            self.resnet = nn.Sequential(*list(resnet.children())[:-2])
            self.encoder_projection = nn.Conv2d(512, dim, 1)
            self.dim = dim

        def pe_2d(self, h, w):
            half = self.dim // 2
            pe_h = sinusoid(h, half).permute(1, 0).unsqueeze(2).expand(-1, -1, w)
            pe_w = sinusoid(w, half).permute(1, 0).unsqueeze(1).expand(-1, h, -1)
            return torch.cat([pe_h, pe_w], 0)  # (E, H, W)

        def encode(self, x):
            x = self.encoder_projection(self.resnet(x))  # (B, E, H', W')
            _, _, h, w = x.shape
            x = x + self.pe_2d(h, w)
            return x.flatten(2).permute(0, 2, 1)  # (B, H'W', E)

    if name == "line-cnn":
        return LineCNN(classes)
    if name == "line-cnn-lstm":
        return LineCNNLSTM()
    if name == "line-cnn-transformer":
        return LineCNNTransformer()
    if name == "resnet-transformer":
        return ResNetTransformer()
    return CRNN()


def ort_latency(model, one, runs):
    """Median onnxruntime latency (ms) of `one` at 1 thread, or None (reason on stderr)."""
    import torch

    try:
        import onnxruntime as ort

        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = os.path.join(tmp, "model.onnx")
            # The TorchScript exporter: the dynamo one needs `onnxscript`.
            torch.onnx.export(
                model,
                (one,),
                path,
                dynamo=False,
                opset_version=17,
                input_names=["image"],
                output_names=["logits"],
                dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            )
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            sess = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
        feed = {"image": one.numpy()}
        lat = []
        for run in range(runs + 2):
            t0 = time.perf_counter()
            sess.run(None, feed)[0].sum()
            if run >= 2:
                lat.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(lat)
    except Exception as e:  # noqa: BLE001 - any failure is reported, not fatal
        print(f"onnxruntime: {e.__class__.__name__}: {e}".strip(), file=sys.stderr)
        return None


def bench_model(name, args):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    m = MODELS[name]
    (c, h, w), classes, label_len = m["shape"], m["classes"], m["label_len"]
    b = args.batch or m["batch"]
    seq2seq = m.get("seq2seq", False)
    model = build(name, classes, h)
    x = torch.rand(b, c, h, w)
    targets = torch.randint(4, classes, (b, label_len))
    lengths = [16 + (i * 7) % (label_len - 15) for i in range(b)]
    target_lengths = torch.tensor(lengths)
    if seq2seq:
        y = torch.full((b, label_len + 2), PAD, dtype=torch.long)
        y[:, 0] = START
        for i, n in enumerate(lengths):
            y[i, 1 : n + 1] = targets[i, :n]
            y[i, n + 1] = END
        decoder_in, expected = y[:, :-1], y[:, 1:]

    def loss_of(x):
        if seq2seq:
            return F.cross_entropy(model(x, decoder_in), expected, ignore_index=PAD)
        logits = model(x)
        s = logits.shape[2]
        log_probs = F.log_softmax(logits.permute(2, 0, 1), dim=2)
        return F.ctc_loss(log_probs, targets, torch.full((b,), s), target_lengths, blank=0)

    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    times = [[], [], []]
    for step in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        loss = loss_of(x)
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
    if seq2seq:
        with torch.no_grad():
            model.decoder.fc.bias[END] = -1e4
            model.decoder.fc.bias[PAD] = -1e4

        def infer():
            return model.greedy(one, label_len + 2)

    else:

        def infer():
            return model(one)

    lat = []
    with torch.no_grad():
        for run in range(args.latency_runs + 2):
            t0 = time.perf_counter()
            infer().sum().item()
            if run >= 2:
                lat.append((time.perf_counter() - t0) * 1e3)
    ort_ms = None if seq2seq else ort_latency(model, one, args.latency_runs)
    ort_col = "n/a" if ort_ms is None else f"{ort_ms:.2f}"
    sps = b / ((fwd + bwd + optm) / 1e3)
    return (
        f"{name:<14} {fwd:>7.1f}  {bwd:>7.1f}  {optm:>7.1f}  {sps:>9.2f}  {peak:>11.0f}"
        f"  {statistics.median(lat):>13.2f}  {ort_col:>17}"
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--models", default="line-cnn,line-cnn-lstm", help=f"comma-separated: {', '.join(MODELS)}"
    )
    p.add_argument(
        "--batch", type=int, default=None, help="training batch of every model (default: the model's)"
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--latency-runs", type=int, default=20)
    p.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            sys.exit(f"error: --models: unknown model {m!r} (expected {', '.join(MODELS)})")
    if args.batch is not None and args.batch <= 0:
        sys.exit("error: --batch must be positive")
    if args.in_process:
        for m in models:
            print(bench_model(m, args))
        return
    import onnxruntime
    import torch

    batches = {args.batch or MODELS[m]["batch"] for m in models}
    batch = str(batches.pop()) if len(batches) == 1 else "per model"
    print(
        f"# batch {batch}, {args.threads} threads (latency: 1 thread), "
        f"{args.steps} timed steps, PyTorch {torch.__version__} eager, "
        f"onnxruntime {onnxruntime.__version__}"
    )
    for m in models:
        c, h, w = MODELS[m]["shape"]
        print(
            f"# {m}: batch {args.batch or MODELS[m]['batch']}, {c}x{h}x{w} lines, "
            f"{MODELS[m]['classes']} classes, labels 16-{MODELS[m]['label_len']}"
        )
    print(HEADER)
    for m in models:
        cmd = [sys.executable, __file__, "--in-process", "--models", m]
        for k in ("threads", "steps", "warmup", "latency_runs"):
            cmd += ["--" + k.replace("_", "-"), str(getattr(args, k))]
        if args.batch is not None:
            cmd += ["--batch", str(args.batch)]
        # stderr is inherited: export warnings and failure reasons show directly.
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            sys.exit(f"error: {m} benchmark failed (exit status {out.returncode}, see above)")
        print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
