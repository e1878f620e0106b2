"""Variational training and evaluation on MNIST-sized models: the shared training loop's overhead
and the memory of the chunked k = 5000 log-likelihood.

Data: a random binary set of 10,000 x 784 (pixels on with probability 0.13, MNIST's mean); no
download. Models: VAE(784, 50, hidden=(200, 200)) and HelmholtzMachine((784, 200, 50)).

1. One epoch of ``train_vae`` (ELBO, k = 1, batch 100, Adam lr 1e-3; monitors minimal:
   ``n_samples=1, iw_k=0``) against a hand-written PyTorch Adam loop over the same model, the
   same shuffled mini-batches and the same ``-elbo`` loss (the baseline). "epoch" is
   ``history.seconds[1]`` (updates only), "call" the whole call with its monitors (epochs 0
   and 1). A ratio above 1 is the overhead of the shared loop.
2. One epoch of ``train_helmholtz`` (784-200-50), wake-sleep and reweighted wake-sleep (k = 5),
   same monitors.
3. ``log_likelihood(vae, x[:100], k=5000)``: wall time, and the peak memory of a fresh
   subprocess (peak RSS during the call minus RSS before it: ``/proc/self/status`` VmHWM after
   resetting it through ``/proc/self/clear_refs``; elsewhere ``ru_maxrss`` after minus before,
   which can under-report when imports peaked higher) against a naive unchunked
   ``vae.iwae_bound(x, 5000)`` (all 5000 x 100 x 784 decoder outputs at once). The naive run is
   skipped, with its estimated size printed instead, when that size exceeds ``--naive-limit-gb``.

Every timing is best-of-n, ours and the baseline interleaved. Threads: torch's defaults.

Run:
    python benchmarks/bench_variational.py [--repeat 3] [--rows 10000] [--dtypes float32 float64]
                                           [--naive-limit-gb 8] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

from freeenergy.learn import train_helmholtz, train_vae
from freeenergy.models import VAE
from freeenergy.models.helmholtz import HelmholtzMachine

BATCH, LR, K_EVAL, N_EVAL = 100, 1e-3, 5000, 100
DTYPES = {"float32": torch.float32, "float64": torch.float64}

_MEMORY_SNIPPET = """
import json, resource, sys, time
import numpy as np, torch
from freeenergy.models import VAE
from freeenergy.variational import log_likelihood
mode, dtype, n, k = sys.argv[1], getattr(torch, sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
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
    value = log_likelihood(vae, x, k=k, seed=0).mean
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


def _ours_vae(x: np.ndarray, dtype: torch.dtype) -> tuple[float, float, float]:
    model = VAE(784, 50, hidden=(200, 200), dtype=dtype, seed=0)
    start = time.perf_counter()
    h = train_vae(model, x, epochs=1, batch_size=BATCH, lr=LR, seed=0, n_samples=1, iw_k=0, quiet=True)
    call = time.perf_counter() - start
    return float(h.seconds[1]), call, float(np.nansum(h.monitor_seconds))


def _plain_vae(x: np.ndarray, dtype: torch.dtype) -> float:
    """The baseline: a bare Adam loop on -elbo over shuffled mini-batches (no checks, no history)."""
    model = VAE(784, 50, hidden=(200, 200), dtype=dtype, seed=0)
    start = time.perf_counter()
    data = torch.from_numpy(x).to(dtype)
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for idx in torch.randperm(len(data), generator=gen).split(BATCH):
        opt.zero_grad(set_to_none=True)
        loss = -model.elbo(data[idx], 1, generator=gen).mean()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def bench_vae(x: np.ndarray, dtypes: list[str], repeat: int) -> None:
    _ours_vae(x[: BATCH * 2], torch.float64)  # warm-up (allocator, thread pool)
    _plain_vae(x[: BATCH * 2], torch.float64)
    print(f"1. VAE 784-200-200-50, ELBO k=1, one epoch of {len(x)} rows, batch {BATCH}, "
          f"monitors n_samples=1 iw_k=0")
    for name in dtypes:
        dtype = DTYPES[name]
        epoch = call = mon = plain = np.inf
        for _ in range(repeat):
            e, c, m = _ours_vae(x, dtype)
            epoch, call, mon = min(epoch, e), min(call, c), min(mon, m)
            plain = min(plain, _plain_vae(x, dtype))
        print(f"  {name}: plain Adam loop {plain:.3f} s | train_vae epoch {epoch:.3f} s "
              f"(x{epoch / plain:.2f} of plain), call {call:.3f} s (x{call / plain:.2f}; "
              f"monitors {mon:.3f} s)")


# ---------------------------------------------------------------------------- 2. Helmholtz epoch


def _ours_hm(x: np.ndarray, dtype: torch.dtype, method: str) -> tuple[float, float]:
    model = HelmholtzMachine((784, 200, 50), dtype=dtype, seed=0)
    start = time.perf_counter()
    h = train_helmholtz(model, x, method=method, k=5, epochs=1, batch_size=BATCH, lr=LR, seed=0,
                        n_samples=1, iw_k=0, quiet=True)
    return float(h.seconds[1]), time.perf_counter() - start


def bench_helmholtz(x: np.ndarray, dtypes: list[str], repeat: int) -> None:
    _ours_hm(x[: BATCH * 2], torch.float64, "wake-sleep")  # warm-up
    print(f"2. Helmholtz machine 784-200-50, one epoch of {len(x)} rows, batch {BATCH}, "
          f"monitors n_samples=1 iw_k=0")
    for name in dtypes:
        for method in ("wake-sleep", "reweighted-wake-sleep"):
            best = (np.inf, np.inf)
            for _ in range(repeat):
                best = tuple(map(min, best, _ours_hm(x, DTYPES[name], method)))
            label = method if method == "wake-sleep" else f"{method} k=5"
            print(f"  {name} {label}: epoch {best[0]:.3f} s, call with monitors {best[1]:.3f} s")


# ---------------------------------------------------------------------------- 3. k=5000 evaluation


def _subprocess(mode: str, dtype: str, n: int, k: int) -> dict | str:
    out = subprocess.run([sys.executable, "-c", _MEMORY_SNIPPET, mode, dtype, str(n), str(k)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or [f"exit status {out.returncode}"])[-1]
        return f"failed ({tail[:200]})"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _naive_bytes(n: int, k: int, itemsize: int) -> int:
    """An estimate of the naive evaluation's peak: three (k, n, 784) tensors (the decoder logits,
    the loss's temporary and the per-pixel log-likelihoods) plus the two (k, n, 200) hidden
    activations (within 15% of the measured peak at k = 500)."""
    return k * n * (3 * 784 + 2 * 200) * itemsize


def bench_eval(dtypes: list[str], n: int, k: int, limit_gb: float) -> None:
    print(f"3. log_likelihood(vae, x[:{n}], k={k}) (chunked) vs vae.iwae_bound(x, {k}) "
          f"(unchunked), fresh subprocess each, peak RSS growth")
    for name in dtypes:
        chunked = _subprocess("chunked", name, n, k)
        if isinstance(chunked, str):
            print(f"  {name}: chunked {chunked}")
            continue
        line = f"  {name}: chunked {chunked['seconds']:.3f} s, peak +{chunked['kib'] / 1024:.0f} MiB"
        need = _naive_bytes(n, k, DTYPES[name].itemsize)
        if need > limit_gb * 1e9:
            print(f"{line} | naive skipped: needs about {need / 1e9:.1f} GB (estimate, "
                  f"> --naive-limit-gb {limit_gb:g}); ratio ~x{need / 1024 / max(chunked['kib'], 1):.0f}")
            continue
        naive = _subprocess("naive", name, n, k)
        if isinstance(naive, str):
            print(f"{line} | naive {naive}; estimated size {need / 1e9:.1f} GB")
            continue
        ratio = naive["kib"] / max(chunked["kib"], 1)
        print(f"{line} | naive {naive['seconds']:.3f} s, peak +{naive['kib'] / 1024:.0f} MiB "
              f"(estimate {need / 2**20:.0f} MiB) | memory x{ratio:.1f} "
              f"less chunked, time x{naive['seconds'] / chunked['seconds']:.2f} | "
              f"mean L_k chunked {chunked['value']:.2f}, naive {naive['value']:.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), default=["float32", "float64"])
    parser.add_argument("--naive-limit-gb", type=float, default=8.0,
                        help="skip the unchunked evaluation when its estimated size exceeds this")
    parser.add_argument("--quick", action="store_true",
                        help="1 repeat, 2,000 rows, k=500: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    k = K_EVAL
    if args.quick:
        args.repeat, args.rows, k = 1, 2_000, 500
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs; "
          f"best of {args.repeat}; load average {os.getloadavg()[0]:.2f}")
    x = _data(args.rows)
    bench_vae(x, args.dtypes, args.repeat)
    bench_helmholtz(x, args.dtypes, args.repeat)
    bench_eval(args.dtypes, N_EVAL, k, args.naive_limit_gb)


if __name__ == "__main__":
    main()
