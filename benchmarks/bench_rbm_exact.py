"""Exact log Z of a 784-visible RBM by enumerating 20 (and 25) hidden units, float32 and float64.

Reports configurations per second and the "matmul-equivalent" FLOP rate (2 n_v n_h FLOPs per
configuration, the cost of computing the visible inputs W h) as a fraction of this machine's
torch matmul rate for the same dtype and shape ((chunk, n_h) @ (n_h, 784)), measured in the same
run, just before and just after each enumeration. The enumeration factorises the inputs (see
freeenergy.estimate.exact), so the fraction can exceed 1. Baseline: the direct method, matmul +
softplus per chunk with a float64 logsumexp. The 784 x 25 case (2^25 = 33.5M configurations)
runs only if projected under --max-seconds. Run:
    python benchmarks/bench_rbm_exact.py [--hidden 20 25] [--max-seconds 60] [--threads 1]
On a shared machine, --threads 1 gives steadier numbers (OpenMP threads that lose their core to
another process stall each other).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional as F

from common import best_time, report
from freeenergy.estimate import exact_log_partition
from freeenergy.models import BernoulliRBM

N_VISIBLE = 784


def trained_like(n_hidden: int, dtype: torch.dtype) -> BernoulliRBM:
    """Weights and biases of the size seen in RBMs trained on MNIST."""
    model = BernoulliRBM(N_VISIBLE, n_hidden, seed=0, dtype=dtype)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        model.weight.copy_(torch.randn(N_VISIBLE, n_hidden, generator=gen) * 0.1)
        model.visible_bias.copy_(torch.randn(N_VISIBLE, generator=gen) - 2.0)
        model.hidden_bias.copy_(torch.randn(n_hidden, generator=gen) * 0.5)
    return model


def matmul_flops(n_hidden: int, dtype: torch.dtype, rows: int = 4096, bursts: int = 5) -> float:
    """Best FLOP/s over ``bursts`` 0.2 s bursts of torch.mm, (rows, n_hidden) @ (n_hidden, 784),
    into a preallocated output (best-of, like the timings it is compared with)."""
    h = (torch.rand(rows, n_hidden) < 0.5).to(dtype)
    w = torch.randn(n_hidden, N_VISIBLE, dtype=dtype)
    out = torch.empty(rows, N_VISIBLE, dtype=dtype)
    torch.mm(h, w, out=out)
    best = 0.0
    for _ in range(bursts):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.2:
            torch.mm(h, w, out=out)
            calls += 1
        best = max(best, 2.0 * rows * n_hidden * N_VISIBLE * calls / (time.perf_counter() - start))
    return best


@torch.no_grad()
def direct_log_z(model: BernoulliRBM, rows: int = 4096) -> float:
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hidden", type=int, nargs="+", default=[20, 25])
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (n_h <= 20)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    projected: dict[torch.dtype, float] = {}
    for n_hidden in args.hidden:
        for dtype in (torch.float32, torch.float64):
            name = str(dtype).removeprefix("torch.")
            if dtype in projected and projected[dtype] * 2 ** (n_hidden - 20) > args.max_seconds:
                print(f"784 x {n_hidden} {name}: skipped, projected over {args.max_seconds:.0f} s")
                continue
            model = trained_like(n_hidden, dtype)
            before = matmul_flops(n_hidden, dtype)
            repeat = max(1, args.repeat) if n_hidden <= 20 else 1
            runs = [exact_log_partition(model) for _ in range(repeat)]
            est, seconds = runs[0], min(r.info["seconds"] for r in runs)
            # The reference is measured just before and just after, against load drifting.
            reference = max(before, matmul_flops(n_hidden, dtype))
            projected.setdefault(dtype, seconds * 2.0 ** (20 - n_hidden))
            configs = est.n_samples / seconds
            achieved = 2.0 * N_VISIBLE * n_hidden * configs
            print(
                f"784 x {n_hidden} {name}: log Z = {est.log_z:.6f}, {seconds:.2f} s, "
                f"{configs / 1e6:.2f} M configurations/s, {achieved / 1e9:.1f} GFLOP/s "
                f"matmul-equivalent = {achieved / reference:.2f} x torch matmul "
                f"({reference / 1e9:.1f} GFLOP/s) [kernel {est.info['kernel']}, "
                f"products in {est.info['work_dtype']}]"
            )
            if n_hidden <= 20:
                base = best_time(lambda m=model: direct_log_z(m), repeat)
                ref = direct_log_z(model)
                report(
                    f"exact log Z 784 x {n_hidden} {name}",
                    seconds,
                    "matmul + softplus",
                    base,
                    f"|diff| {abs(ref - est.log_z):.1e}",
                )


if __name__ == "__main__":
    main()
