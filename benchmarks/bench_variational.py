"""Variational training and evaluation on MNIST-sized models: the shared training loop's overhead
against a bare PyTorch loop, the matmul ceiling of the VAE epoch, and the memory of the chunked
k = 5000 log-likelihood. Equal dtype and threads on every side of every ratio.

Data: a random binary set of 10,000 x 784 (pixels on with probability 0.13, MNIST's mean); no
download. Models: VAE(784, 50, hidden=(200, 200)) and HelmholtzMachine((784, 200, 50)).

1. One epoch of ``train_vae`` (ELBO, k = 1, batch 100, Adam lr 1e-3; monitors minimal:
   ``n_samples=1, iw_k=0``) against a hand-written PyTorch Adam loop over the same model, the
   same shuffled mini-batches and the same ``-elbo`` loss (the baseline). "epoch" is
   ``history.seconds[1]`` (updates only), "call" the whole call with its monitors (epochs 0
   and 1). A ratio below 1 is the overhead of the shared loop. The ceiling: the epoch's matrix
   products alone with ``torch.mm``, per batch of B rows and per Linear layer (in -> out) the
   forward ``x @ W.T``, the weight gradient ``g.T @ x`` and (except the first encoder layer,
   whose input is data) the input gradient ``g @ W``: ``3 x 2 B sum(in out) - 2 B 784 x 200``
   FLOPs per batch, 2.23 MFLOP per row (22.3 GFLOP per epoch of 10,000 rows).
2. One epoch of ``train_helmholtz`` (784-200-50), wake-sleep and reweighted wake-sleep (k = 5),
   same monitors; times only (no baseline).
3. ``importance_sampled_log_likelihood(vae, x[:100], k=5000)``: wall time, and the peak memory of a fresh
   subprocess (peak RSS during the call minus RSS before it: ``/proc/self/status`` VmHWM after
   resetting it through ``/proc/self/clear_refs``; elsewhere ``ru_maxrss`` after minus before,
   which can under-report when imports peaked higher) against a naive unchunked
   ``vae.iwae_bound(x, 5000)`` (all 5000 x 100 x 784 decoder outputs at once), a fresh
   subprocess per call and round, same threads and CPUs. The naive run is skipped, with its
   estimated size printed instead, when that size exceeds ``--naive-limit-gb``.

Every side runs interleaved with the others (common.measure), one thread each, pinned to one
core, unless ``--threads`` says otherwise. Run:

    python benchmarks/bench_variational.py [--quick] [--threads 1] [--rounds 5] [--rows 10000]
                                           [--dtypes float32 float64] [--naive-limit-gb 8]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys

import numpy as np
import torch

import common
from freeenergy.learn import train_helmholtz, train_vae
from freeenergy.models import VAE
from freeenergy.models.helmholtz import HelmholtzMachine

BATCH, LR, K_EVAL, N_EVAL = 100, 1e-3, 5000, 100
ENCODER, DECODER = (784, 200, 200, 100), (50, 200, 200, 784)  # Linear layer widths
DTYPES = {"float32": torch.float32, "float64": torch.float64}

_MEMORY_SNIPPET = """
import json, resource, sys, time
import numpy as np, torch
from freeenergy.models import VAE
from freeenergy.estimate.variational import importance_sampled_log_likelihood
mode, dtype, n, k = sys.argv[1], getattr(torch, sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(int(sys.argv[5]))
x = torch.from_numpy((np.random.default_rng(0).random((n, 784)) < 0.13).astype(np.float64)).to(dtype)
vae = VAE(784, 50, hidden=(200, 200), dtype=dtype, seed=0)
with torch.no_grad():  # warm up the kernels so that "before" holds the runtime, not the call
    vae.iwae_bound(x[:2], 2)
def status(field):  # KiB, from /proc (Linux)
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
try:  # reset the peak-RSS mark, so that earlier transients (imports) do not hide the call's peak
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before, peak = status("VmRSS"), lambda: status("VmHWM")
except OSError:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if mode == "chunked":
    value = importance_sampled_log_likelihood(vae, x, k=k, seed=0).mean
else:
    with torch.no_grad():
        value = vae.iwae_bound(x, k, generator=torch.Generator().manual_seed(0)).mean().item()
seconds = time.perf_counter() - start
after = peak()
print(json.dumps({"kib": after - before, "seconds": seconds, "value": float(value)}))
"""


def _data(rows: int) -> np.ndarray:
    return (np.random.default_rng(0).random((rows, 784)) < 0.13).astype(np.float64)


# ---------------------------------------------------------------------------- 1. VAE epoch


def _ours_vae(x: np.ndarray, dtype: torch.dtype):
    def run():
        model = VAE(784, 50, hidden=(200, 200), dtype=dtype, seed=0)
        h = train_vae(model, x, epochs=1, batch_size=BATCH, lr=LR, seed=0, n_samples=1, iw_k=0,
                      quiet=True)
        return common.Timings(epoch=float(h.seconds[1]), monitors=float(np.nansum(h.monitor_seconds)))

    return run


def _plain_vae(x: np.ndarray, dtype: torch.dtype):
    """The baseline: a bare Adam loop on -elbo over shuffled mini-batches (no checks, no history)."""

    def run():
        model = VAE(784, 50, hidden=(200, 200), dtype=dtype, seed=0)
        data = torch.from_numpy(x).to(dtype)
        gen = torch.Generator().manual_seed(0)
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        for idx in torch.randperm(len(data), generator=gen).split(BATCH):
            opt.zero_grad(set_to_none=True)
            loss = -model.elbo(data[idx], 1, generator=gen).mean()
            loss.backward()
            opt.step()

    return run


def _vae_gemm(n_rows: int, dtype: torch.dtype):
    """The epoch's products: per Linear layer, forward, weight gradient, input gradient."""
    per_batch = {}
    for b in [BATCH] * (n_rows // BATCH) + ([n_rows % BATCH] if n_rows % BATCH else []):
        for net in (ENCODER, DECODER):
            for i, (fan_in, fan_out) in enumerate(itertools.pairwise(net)):
                keys = [("nt", b, fan_in, fan_out), ("tn", fan_out, b, fan_in)]
                if not (net is ENCODER and i == 0):  # no gradient for the data
                    keys.append(("nn", b, fan_out, fan_in))
                for key in keys:
                    per_batch[key] = per_batch.get(key, 0) + 1
    products = [key for key, count in per_batch.items() for _ in range(count)]
    return common.gemm_side(products, dtype)


def bench_vae(x: np.ndarray, dtypes: list[str]) -> None:
    for name in dtypes:
        dtype = DTYPES[name]
        gemm, flops = _vae_gemm(len(x), dtype)
        t = common.measure({"ours": _ours_vae(x, dtype), "plain": _plain_vae(x, dtype), "gemm": gemm})
        label = f"VAE 784-200-200-50 ELBO k=1, one epoch of {len(x)} rows, batch {BATCH}"
        epoch = common.Series("train_vae epoch", t["ours"]["epoch"])
        plain = common.Series("plain Adam loop", t["plain"]["call"])
        common.ratio_line(label, epoch, plain, dtype=name, note="< 1: the shared loop's overhead")
        common.ratio_line(label, common.Series("train_vae call", t["ours"]["call"]), plain, dtype=name,
                          note=f"with monitors n_samples=1 iw_k=0 (median "
                          f"{np.median(t['ours']['monitors']):.3f} s)")
        common.rate_line("VAE epoch", flops, epoch, common.Series("torch.mm", t["gemm"]["call"]),
                         dtype=name, count="forward, weight and input gradients of the Linear layers")


# ---------------------------------------------------------------------------- 2. Helmholtz epoch


def _ours_hm(x: np.ndarray, dtype: torch.dtype, method: str):
    def run():
        model = HelmholtzMachine((784, 200, 50), dtype=dtype, seed=0)
        h = train_helmholtz(model, x, method=method, k=5, epochs=1, batch_size=BATCH, lr=LR, seed=0,
                            n_samples=1, iw_k=0, quiet=True)
        return common.Timings(epoch=float(h.seconds[1]))

    return run


def bench_helmholtz(x: np.ndarray, dtypes: list[str]) -> None:
    for name in dtypes:
        methods = {"wake-sleep": "wake-sleep", "reweighted-wake-sleep k=5": "reweighted-wake-sleep"}
        t = common.measure({label: _ours_hm(x, DTYPES[name], m) for label, m in methods.items()})
        common.times_line(
            f"Helmholtz machine 784-200-50, one epoch of {len(x)} rows, batch {BATCH}",
            [common.Series(f"{label} {key}", t[label][key])
             for label in methods for key in ("epoch", "call")],
            dtype=name, note="call: with monitors n_samples=1 iw_k=0")


# ---------------------------------------------------------------------------- 3. k=5000 evaluation


def _subprocess(mode: str, dtype: str, n: int, k: int):
    """One evaluation in a fresh subprocess (same threads; CPUs inherited), as a timed side."""
    args = [sys.executable, "-c", _MEMORY_SNIPPET, mode, dtype, str(n), str(k),
            str(common.current().threads)]

    def run():
        out = subprocess.run(args, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            tail = (out.stderr.strip().splitlines() or [f"exit status {out.returncode}"])[-1]
            raise RuntimeError(f"{mode} evaluation failed ({tail[:200]})")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        return common.Timings(seconds=result["seconds"], mib=result["kib"] / 1024, value=result["value"])

    return run


def _naive_bytes(n: int, k: int, itemsize: int) -> int:
    """An estimate of the naive evaluation's peak: three (k, n, 784) tensors (the decoder logits,
    the loss's temporary and the per-pixel log-likelihoods) plus the two (k, n, 200) hidden
    activations (within 15% of the measured peak at k = 500)."""
    return k * n * (3 * 784 + 2 * 200) * itemsize


def bench_eval(dtypes: list[str], n: int, k: int, limit_gb: float) -> None:
    label = (f"importance_sampled_log_likelihood(vae, x[:{n}], k={k}) chunked "
             f"vs vae.iwae_bound(x, {k}) unchunked")
    for name in dtypes:
        sides = {"chunked": _subprocess("chunked", name, n, k)}
        need = _naive_bytes(n, k, DTYPES[name].itemsize)
        if need <= limit_gb * 1e9:
            sides["naive"] = _subprocess("naive", name, n, k)
        t = common.measure(sides, warmup=0)  # a fresh process per call: nothing to warm up
        chunked = t["chunked"]
        if "naive" not in t:
            mib = np.median(chunked["mib"])
            common.times_line(label, [common.Series("chunked", chunked["seconds"])], dtype=name,
                              note=f"peak +{mib:.0f} MiB (median); naive skipped: needs about "
                              f"{need / 1e9:.1f} GB (estimate, > --naive-limit-gb {limit_gb:g}); "
                              f"ratio ~x{need / 2**20 / max(mib, 1e-3):.0f}")
            continue
        naive = t["naive"]
        common.ratio_line(label, common.Series("chunked", chunked["seconds"]),
                          common.Series("naive", naive["seconds"]), dtype=name,
                          note=f"mean L_k chunked {chunked['value'][0]:.2f}, naive {naive['value'][0]:.2f}")
        common.ratio_line("  peak RSS growth", common.Series("chunked", chunked["mib"]),
                          common.Series("naive", naive["mib"]), dtype=name, unit="MiB",
                          note=f"naive estimate {need / 2**20:.0f} MiB; ratio = memory saved")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common.add_arguments(parser)
    parser.add_argument("--rows", type=int, default=None, help="default 10000 (500 with --quick)")
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), default=["float32", "float64"])
    parser.add_argument("--naive-limit-gb", type=float, default=8.0,
                        help="skip the unchunked evaluation when its estimated size exceeds this")
    args = parser.parse_args(argv)
    rows = args.rows or (500 if args.quick else 10_000)
    k = 50 if args.quick else K_EVAL
    common.setup(args, "variational: train_vae / train_helmholtz epochs, k-sample evaluation memory")
    x = _data(rows)
    bench_vae(x, args.dtypes)
    bench_helmholtz(x, args.dtypes)
    bench_eval(args.dtypes, N_EVAL, k, args.naive_limit_gb)


if __name__ == "__main__":
    main()
