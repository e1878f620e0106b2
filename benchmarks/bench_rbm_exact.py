"""Exact log Z of a 784-visible RBM by enumerating its 20 (and 25) hidden units, float32 and
float64: freeenergy.estimate.exact_log_partition against the direct method and the matmul ceiling.

What it measures, per hidden size and dtype, all sides interleaved with one thread each, pinned
to one core (common.measure):

* ours: the wall time of ``exact_log_partition(model)`` (configurations per second).
* the direct method (the baseline; n_h <= 20 only): every hidden configuration through a
  matmul and a softplus, ``rows`` configurations at a time, float64 logsumexp; same dtype.
* the ceiling: the direct method's products alone, ``torch.mm`` of ``(rows x n_h) @ (n_h x 784)``
  (``W.T`` as a transposed view), 2^n_h / rows of them: ``2 n_v n_h`` FLOPs per configuration
  ("matmul-equivalent"; 32.9 GFLOP at n_h = 20, 1.32 TFLOP at 25). For n_h > 20 the ceiling
  runs 2^20 configurations and its time is scaled by 2^(n_h - 20).

Ours is reported in matmul-equivalent GFLOP/s and as a fraction of the ceiling. The enumeration
factorises the inputs (the enumerated bits are split into two halves, so the summed layer's
inputs are a broadcast sum ``P[high] + Q[low]``, see freeenergy.estimate.exact), so it does
fewer FLOPs than it is credited with and the fraction can exceed 1. The n_h = 25 case (2^25 =
33.5M configurations) runs only if projected under ``--max-seconds`` per call. Run:

    python benchmarks/bench_rbm_exact.py [--quick] [--threads 1] [--rounds 5] [--hidden 20 25]
                                         [--max-seconds 60]
"""

from __future__ import annotations

import argparse

import torch
from torch.nn import functional as F

import common
from freeenergy.estimate import exact_log_partition
from freeenergy.models import BernoulliRBM

N_VISIBLE = 784
ROWS = 4096  # configurations per chunk of the direct method


def trained_like(n_hidden: int, dtype: torch.dtype) -> BernoulliRBM:
    """Weights and biases of the size seen in RBMs trained on MNIST."""
    model = BernoulliRBM(N_VISIBLE, n_hidden, seed=0, dtype=dtype)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        model.weight.copy_(torch.randn(N_VISIBLE, n_hidden, generator=gen) * 0.1)
        model.visible_bias.copy_(torch.randn(N_VISIBLE, generator=gen) - 2.0)
        model.hidden_bias.copy_(torch.randn(n_hidden, generator=gen) * 0.5)
    return model


@torch.no_grad()
def direct_log_z(model: BernoulliRBM, rows: int = ROWS) -> float:
    """Baseline: every configuration through a matmul and softplus, float64 logsumexp."""
    k = model.n_hidden
    w, a, b = model.weight.T, model.visible_bias, model.hidden_bias
    shifts = torch.arange(k)
    parts = []
    for start in range(0, 1 << k, rows):
        h = ((torch.arange(start, min(start + rows, 1 << k))[:, None] >> shifts) & 1).to(model.dtype)
        neg_f = h @ b + F.softplus(torch.addmm(a, h, w)).sum(-1)
        parts.append(torch.logsumexp(neg_f.double(), 0))
    return float(torch.logsumexp(torch.stack(parts), 0))


def ceiling(n_hidden: int, dtype: torch.dtype, rows: int = ROWS):
    """The direct method's products; returns the callable, its FLOPs and its time scale."""
    enumerated = min(n_hidden, 20)
    run, flops = common.gemm_side([("nt", rows, n_hidden, N_VISIBLE)], dtype,
                                  repeat=max(1, (1 << enumerated) // rows))
    return run, flops, 2.0 ** (n_hidden - enumerated)


def bench(n_hidden: int, dtype: torch.dtype) -> float:
    """One hidden size and dtype; returns the minimum time of ours."""
    name = common.dtype_name(dtype)
    model = trained_like(n_hidden, dtype)
    result = {}

    def ours():
        result["est"] = exact_log_partition(model)

    gemm, flops, scale = ceiling(n_hidden, dtype)
    sides = {"ours": ours, "gemm": gemm}
    if n_hidden <= 20:
        sides["direct"] = lambda: result.__setitem__("direct", direct_log_z(model))
    t = common.measure(sides)
    est = result["est"]
    mine = common.Series("exact_log_partition", t["ours"]["call"])
    label = f"exact log Z 784 x {n_hidden}"
    print(f"# {label} {name}: log Z = {est.log_z:.6f}, {est.n_samples / mine.min / 1e6:.2f} M "
          f"configurations/s at the minimum [kernel {est.info['kernel']}, products in "
          f"{est.info['work_dtype']}]")
    if "direct" in result:
        common.ratio_line(label, mine, common.Series("matmul + softplus", t["direct"]["call"]),
                          dtype=name, note=f"|log Z diff| {abs(result['direct'] - est.log_z):.1e}")
    ceiling_note = "" if scale == 1 else f", ceiling timed on 2^20 and scaled x{scale:g}"
    common.rate_line(label, flops * scale, mine, common.Series("torch.mm", t["gemm"]["call"] * scale),
                     dtype=name, count="matmul-equivalent, 2 n_v n_h per configuration" + ceiling_note)
    return mine.min


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_arguments(parser)
    parser.add_argument("--hidden", type=int, nargs="+", default=None,
                        help="hidden sizes (default 20 25; 12 with --quick)")
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="skip a size whose projected time per call exceeds this")
    args = parser.parse_args(argv)
    hidden = args.hidden or ([12] if args.quick else [20, 25])
    common.setup(args, "exact log Z: exact_log_partition vs the direct method and torch.mm")
    seconds_per_config: dict[torch.dtype, float] = {}
    for n_hidden in hidden:
        for dtype in (torch.float32, torch.float64):
            if dtype in seconds_per_config and seconds_per_config[dtype] * 2**n_hidden > args.max_seconds:
                print(f"784 x {n_hidden} {common.dtype_name(dtype)}: skipped, projected over "
                      f"{args.max_seconds:g} s per call")
                continue
            seconds_per_config.setdefault(dtype, bench(n_hidden, dtype) / 2**n_hidden)


if __name__ == "__main__":
    main()
