"""AIS of a 784 x 500 Bernoulli RBM: freeenergy.estimate.ais vs NumPy and the `rbms` package.

Equal work for all three: the same model, ``--chains`` chains, ``--betas`` inverse temperatures
spaced uniformly on [0, 1], the base model ``W = 0`` with the model's own visible biases (the
base `rbms` uses), one block-Gibbs sweep per temperature, float64 parameters (``--dtype``).
Ours runs on the CPU, and again on CUDA when torch sees a GPU (against the same NumPy time).

* NumPy: a direct transcription of Salakhutdinov & Murray's (2008) AIS loop (their MATLAB
  ``RBM_AIS.m``), float64, written below; same math as ours (2 matrix products per temperature).
* ``rbms`` (PyPI, DsysDML/rbms): ``rbms.partition_function.ais.compute_partition_function_ais``.
  It does 5 matrix products per temperature (a Gibbs sweep plus a re-sample of the hiddens, and
  the visible free energy under the previous and the current model) and rebuilds the
  interpolated model every step. Skipped, with a message, when the package is not installed
  (``pip install rbms``; it needs torch >= 2.5 and does not replace the project's torch).

On the CPU all three are bound by the same two (100 x 784) x (784 x 500) matrix products per
temperature, so ours can only win on everything else. On a busy machine, torch's and
OpenBLAS's thread pools stall on every parallel region; compare with OMP_NUM_THREADS=1 there.

Run:
    python benchmarks/bench_ais.py [--visible 784] [--hidden 500] [--chains 100] [--betas 1000]
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np
import torch

from common import best_time, report
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


def run(args, device: str, numpy_result=None):
    """Time ours on ``device`` against NumPy (CPU, timed once) and rbms (same device)."""
    dtype = {"float64": torch.float64, "float32": torch.float32}[args.dtype]
    rbm = make_model(args.visible, args.hidden, dtype=dtype, device=device)
    betas = np.linspace(0.0, 1.0, args.betas)
    W, a, b = (p.detach() for p in (rbm.weight, rbm.visible_bias, rbm.hidden_bias))
    scale = (f"{args.visible}x{args.hidden} RBM, {args.chains} chains x {args.betas} betas, "
             f"{args.dtype}, {device}, {torch.get_num_threads()} torch threads, "
             f"load {os.getloadavg()[0]:.1f}")

    def ours():
        est = ais(rbm, n_chains=args.chains, betas=betas, base=a, seed=0)
        if device == "cuda":
            torch.cuda.synchronize()
        return est

    est = ours()
    t_ours = best_time(ours, args.repeat)
    print(f"# {scale}; ours: {est}")

    if numpy_result is None:
        Wn, an, bn = (x.cpu().numpy() for x in (W, a, b))
        log_z_np, log_w_np = numpy_ais(Wn, an, bn, an, betas, args.chains, 0)
        t_np = best_time(lambda: numpy_ais(Wn, an, bn, an, betas, args.chains, 0), args.repeat)
        numpy_result = (t_np, log_z_np, log_w_np)
    t_np, log_z_np, log_w_np = numpy_result
    same = ""
    if device == "cpu":  # same seed, same uniforms: the same chains
        same = f", max |log w ours - NumPy| {np.abs(est.info['log_weights'] - log_w_np).max():.1e}"
    report(f"AIS {scale}", t_ours, f"NumPy S&M loop, {args.dtype}, CPU", t_np,
           f"log Z ours {est.log_z:.4f} ± {est.stderr:.4f}, NumPy {log_z_np:.4f}{same}")

    log_z_rbms = rbms_ais(W, a, b, args.betas, args.chains, 0)
    if log_z_rbms is None:
        print("AIS vs rbms: skipped, the `rbms` package is not installed (pip install rbms).")
    else:
        t_rbms = best_time(lambda: rbms_ais(W, a, b, args.betas, args.chains, 0), args.repeat)
        report(f"AIS {scale}", t_ours, f"rbms compute_partition_function_ais, {device}", t_rbms,
               f"log Z ours {est.log_z:.4f}, rbms {log_z_rbms:.4f}")
    return numpy_result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visible", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--chains", type=int, default=100)
    parser.add_argument("--betas", type=int, default=1000)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    numpy_result = run(args, "cpu")
    if torch.cuda.is_available():
        run(args, "cuda", numpy_result)
    else:
        print("AIS on CUDA: skipped, no GPU visible to torch.")


if __name__ == "__main__":
    main()
