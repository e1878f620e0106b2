"""AIS of a 784 x 500 Bernoulli RBM: freeenergy.estimate.ais against a NumPy transcription of
Salakhutdinov & Murray's loop and the optional `rbms` package, at equal precision and threads.

What it measures, for float64 and float32 (``--dtypes``), equal work on every side: the same
model, ``--chains`` chains, ``--betas`` inverse temperatures spaced uniformly on [0, 1], the base
model ``W = 0`` with the model's own visible biases (the base `rbms` uses), one block-Gibbs
sweep per temperature, all in the row's dtype (log weights accumulated in float64).

* NumPy: a direct transcription of Salakhutdinov & Murray's (2008) AIS loop (their MATLAB
  ``RBM_AIS.m``), written below; same math as ours (2 matrix products per temperature), and with
  the same seed the same uniforms, so the same chains (the script prints the largest difference
  of the log weights).
* ``rbms`` (optional, ``pip install rbms``):
  ``rbms.partition_function.ais.compute_partition_function_ais``. It does 5 matrix products per
  temperature (a Gibbs sweep plus a re-sample of the hiddens, and the visible free energy under
  the previous and the current model) and rebuilds the interpolated model every step.
* the ceiling: ours' matrix products alone with ``torch.mm``: per temperature
  ``(C x n_v) @ (n_v x (n_h + 1))`` (hidden inputs and the base-model column) and
  ``(C x n_h) @ (n_h x n_v)`` (visible inputs; none after the last temperature), i.e.
  ``2 C n_v (n_h + 1) (K - 1) + 2 C n_h n_v (K - 2)`` FLOPs for K temperatures (157 GFLOP at
  100 chains x 1000 betas). Ours is reported in GFLOP/s and as a fraction of it.

All CPU sides run interleaved with one thread each, pinned to one core (common.measure). When
torch sees a GPU, ours, `rbms` and the ceiling run again on CUDA (against each other only). Run:

    python benchmarks/bench_ais.py [--quick] [--threads 1] [--rounds 5] [--dtypes float64 float32]
                                   [--visible 784] [--hidden 500] [--chains 100] [--betas 1000]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

import common
from freeenergy.estimate.ais import ais
from freeenergy.models import BernoulliRBM


def numpy_ais(W, a, b, a_base, betas, n_chains, seed):
    """Salakhutdinov & Murray's AIS loop in NumPy; returns log Z and the float64 log weights.

    Uniforms come from ``np.random.default_rng(seed)`` in the order ours draws them on the CPU
    (initial visibles, then hiddens and visibles at each temperature), so with the same seed
    both run the same chains and their log weights agree to rounding.
    """
    rng = np.random.default_rng(seed)
    dtype = W.dtype
    n_v, n_h = W.shape

    def softplus(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    v = (rng.random((n_chains, n_v), dtype) < 1.0 / (1.0 + np.exp(-a_base))).astype(dtype)
    log_w = -(v @ a_base + n_h * math.log(2.0)).astype(np.float64)
    wh, bv_base, bv = v @ W + b, v @ a_base, v @ a
    for bb in betas[1:-1]:
        log_w += (1 - bb) * bv_base + bb * bv + softplus(bb * wh).sum(1)
        ph = 1.0 / (1.0 + np.exp(-bb * wh))
        h = (rng.random(ph.shape, dtype) < ph).astype(dtype)
        field = (1 - bb) * a_base + bb * (h @ W.T + a)
        v = (rng.random((n_chains, n_v), dtype) < 1.0 / (1.0 + np.exp(-field))).astype(dtype)
        wh, bv_base, bv = v @ W + b, v @ a_base, v @ a
        log_w -= (1 - bb) * bv_base + bb * bv + softplus(bb * wh).sum(1)
    log_w += bv + softplus(wh).sum(1)
    top = log_w.max()
    log_z_base = softplus(a_base.astype(np.float64)).sum() + n_h * math.log(2.0)
    return float(top + np.log(np.exp(log_w - top).mean()) + log_z_base), log_w


def rbms_ais(W, a, b, n_betas, n_chains, seed):
    """`rbms`'s AIS (uniform betas, base = the model's visible biases); None if not installed."""
    try:
        from rbms.bernoulli_bernoulli.classes import BBRBM
        from rbms.partition_function.ais import compute_partition_function_ais
    except ImportError:
        return None
    torch.manual_seed(seed)
    params = BBRBM(weight_matrix=W, vbias=a, hbias=b, device=W.device, dtype=W.dtype)
    log_z = compute_partition_function_ais(num_chains=n_chains, num_beta=n_betas, params=params)
    if W.device.type == "cuda":
        torch.cuda.synchronize()
    return log_z


def make_model(n_visible, n_hidden, seed=0, dtype=torch.float64, device="cpu"):
    """A random model of trained-RBM scale: W ~ N(0, 0.05^2), a ~ N(-1, 1), b ~ N(-0.5, 0.25)."""
    rbm = BernoulliRBM(n_visible, n_hidden, seed=seed, dtype=dtype, device=device)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        rbm.weight.copy_(torch.randn(n_visible, n_hidden, generator=gen, dtype=torch.float64) * 0.05)
        rbm.visible_bias.copy_(torch.randn(n_visible, generator=gen, dtype=torch.float64) - 1.0)
        rbm.hidden_bias.copy_(torch.randn(n_hidden, generator=gen, dtype=torch.float64) * 0.5 - 0.5)
    return rbm


def ceiling(args, dtype: torch.dtype, device: str):
    """The products of ours, K - 1 of the first kind and K - 2 of the second."""
    c, n_v, n_h, k = args.chains, args.visible, args.hidden, args.betas
    pair, flops_pair = common.gemm_side([("nn", c, n_v, n_h + 1), ("nn", c, n_h, n_v)], dtype,
                                        repeat=k - 2, device=device)
    last, flops_last = common.gemm_side([("nn", c, n_v, n_h + 1)], dtype, device=device)

    def run():
        pair()
        last()

    return run, flops_pair + flops_last


def run(args, dtype_name: str, device: str) -> None:
    """Time ours against NumPy (CPU only), rbms and the matmul ceiling, interleaved."""
    dtype = {"float64": torch.float64, "float32": torch.float32}[dtype_name]
    rbm = make_model(args.visible, args.hidden, dtype=dtype, device=device)
    betas = np.linspace(0.0, 1.0, args.betas)
    W, a, b = (p.detach() for p in (rbm.weight, rbm.visible_bias, rbm.hidden_bias))
    Wn, an, bn = (x.cpu().numpy() for x in (W, a, b))
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    result = {}

    def ours():
        result["ours"] = ais(rbm, n_chains=args.chains, betas=betas, base=a, seed=0)
        sync()

    def numpy():
        result["numpy"] = numpy_ais(Wn, an, bn, an, betas, args.chains, 0)

    def rbms():
        result["rbms"] = rbms_ais(W, a, b, args.betas, args.chains, 0)

    gemm, flops = ceiling(args, dtype, device)
    sides = {"ours": ours, "gemm": gemm}
    if device == "cpu":
        sides["numpy"] = numpy
    have_rbms = rbms_ais(W[:2, :2], a[:2], b[:2], 3, 2, 0) is not None
    if have_rbms:
        sides["rbms"] = rbms
    t = common.measure(sides)
    where = None if device == "cpu" else "cuda"
    scale = f"{args.visible}x{args.hidden} RBM, {args.chains} chains x {args.betas} betas, {device}"
    est = result["ours"]
    print(f"# {scale}, {dtype_name}; ours: {est}")
    mine = common.Series("ais", t["ours"]["call"])
    if device == "cpu":
        log_z_np, log_w_np = result["numpy"]
        diff = np.abs(est.info["log_weights"] - log_w_np).max()
        common.ratio_line(f"AIS {scale}", mine, common.Series("NumPy S&M loop", t["numpy"]["call"]),
                          dtype=dtype_name, note=f"log Z ours {est.log_z:.4f} +- {est.stderr:.4f}, NumPy "
                          f"{log_z_np:.4f}, same chains: max |log w ours - NumPy| {diff:.1e}")
    if have_rbms:
        common.ratio_line(f"AIS {scale}", mine, common.Series("rbms AIS", t["rbms"]["call"]),
                          dtype=dtype_name, where=where,
                          note=f"log Z ours {est.log_z:.4f}, rbms {float(result['rbms']):.4f}; rbms: "
                          f"5 products per temperature")
    else:
        print("  AIS vs rbms: skipped, the `rbms` package is not installed (pip install rbms).")
    common.rate_line("AIS", flops, mine, common.Series("torch.mm", t["gemm"]["call"]), dtype=dtype_name,
                     where=where, count="2 C n_v (n_h + 1) (K - 1) + 2 C n_h n_v (K - 2)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_arguments(parser)
    parser.add_argument("--visible", type=int, default=None, help="default 784 (100 with --quick)")
    parser.add_argument("--hidden", type=int, default=None, help="default 500 (50 with --quick)")
    parser.add_argument("--chains", type=int, default=None, help="default 100 (20 with --quick)")
    parser.add_argument("--betas", type=int, default=None, help="default 1000 (50 with --quick)")
    parser.add_argument("--dtypes", nargs="+", choices=["float64", "float32"],
                        default=["float64", "float32"])
    args = parser.parse_args(argv)
    for name, full, quick in (("visible", 784, 100), ("hidden", 500, 50), ("chains", 100, 20),
                              ("betas", 1000, 50)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    common.setup(args, "AIS: freeenergy.estimate.ais vs NumPy (Salakhutdinov & Murray) and rbms")
    for dtype_name in args.dtypes:
        run(args, dtype_name, "cpu")
    if torch.cuda.is_available():
        for dtype_name in args.dtypes:
            run(args, dtype_name, "cuda")
    else:
        print("AIS on CUDA: skipped, no GPU visible to torch.")


if __name__ == "__main__":
    main()
