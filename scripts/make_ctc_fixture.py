#!/usr/bin/env python3
"""Generate crates/tr-lit/tests/fixtures/ctc_torch.safetensors, the PyTorch
reference the CTC loss tests compare against.

Run once, by hand, with PyTorch installed outside the repository:

    python3 -m venv /work/venv && /work/venv/bin/pip install torch safetensors numpy
    /work/venv/bin/python scripts/make_ctc_fixture.py

Never run by tests or CI; the generated file is committed. See docs/ctc.md.

Contents (logits in the models' (B, C, T) layout; the reference itself is
computed in float64 from the float32 logits with
torch.nn.functional.ctc_loss on log_softmax(logits, 1).permute(2, 0, 1)):
  logits            (B, C, T) f32
  targets           (B, L) i64, padded with label 1 past each target length
  input_lengths     (B,) i64
  target_lengths    (B,) i64
  loss_none         (B,) f64, zero_infinity=False (inf for the infeasible sample)
  loss_none_zinf    (B,) f64, zero_infinity=True
  loss_sum_zinf     () f64
  loss_mean_zinf    () f64
  grad_sum_zinf     (B, C, T) f64, d loss_sum_zinf / d logits
  grad_mean_zinf    (B, C, T) f64, d loss_mean_zinf / d logits
"""
from pathlib import Path

import torch
from safetensors.torch import save_file

B, C, T, L = 4, 6, 12, 5
BLANK = 0


def main() -> None:
    gen = torch.Generator().manual_seed(20220)
    logits = (torch.randn(B, C, T, generator=gen) * 2.0).float()
    # Sample 0: repeats; 1: shorter input; 2: empty target;
    # 3: infeasible (1 1 2 2 needs 6 frames, has 5).
    rows = [[2, 2, 3, 1, 5], [4, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 2, 2, 1]]
    target_lengths = torch.tensor([5, 2, 0, 4], dtype=torch.long)
    input_lengths = torch.tensor([12, 9, 12, 5], dtype=torch.long)
    targets = torch.tensor(rows, dtype=torch.long)

    def run(reduction: str, zero_infinity: bool, with_grad: bool):
        x = logits.double().clone().requires_grad_(with_grad)
        log_probs = torch.log_softmax(x, dim=1).permute(2, 0, 1)  # (T, B, C)
        loss = torch.nn.functional.ctc_loss(
            log_probs, targets, input_lengths, target_lengths,
            blank=BLANK, reduction=reduction, zero_infinity=zero_infinity,
        )
        grad = None
        if with_grad:
            loss.backward()
            grad = x.grad.detach().clone()
        return loss.detach(), grad

    loss_none, _ = run("none", False, False)
    loss_none_zinf, _ = run("none", True, False)
    loss_sum, grad_sum = run("sum", True, True)
    loss_mean, grad_mean = run("mean", True, True)

    out = Path(__file__).resolve().parent.parent / "crates/tr-lit/tests/fixtures/ctc_torch.safetensors"
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "logits": logits.contiguous(),
            "targets": targets,
            "input_lengths": input_lengths,
            "target_lengths": target_lengths,
            "loss_none": loss_none,
            "loss_none_zinf": loss_none_zinf,
            "loss_sum_zinf": loss_sum.reshape(()),
            "loss_mean_zinf": loss_mean.reshape(()),
            "grad_sum_zinf": grad_sum,
            "grad_mean_zinf": grad_mean,
        },
        str(out),
        metadata={"generator": "scripts/make_ctc_fixture.py", "torch": torch.__version__},
    )
    print(f"wrote {out} (torch {torch.__version__}); loss_none = {loss_none.tolist()}")


if __name__ == "__main__":
    main()
