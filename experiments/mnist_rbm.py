"""Reproduce rows of Salakhutdinov & Murray (2008), Table 1 (MNIST RBMs), on a CPU budget.

One run = train one RBM (float32, CD-k or PCD, checkpointed so a killed run resumes),
then estimate in float64: exact log Z (n_hidden <= 25), forward AIS (100 chains, 14,500
betas, base rates from the training data), reverse AIS started at test images, and the test
log-probability with each log Z. One JSON line per run is appended to --results.

    OMP_NUM_THREADS=1 .venv/bin/python experiments/mnist_rbm.py --hidden 25 --method cd --k 1 \
        --epochs 10 --out-dir experiments/runs

Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import socket
import time
import warnings
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hidden", type=int, default=25)
    p.add_argument("--method", choices=["cd", "pcd"], default="cd")
    p.add_argument("--k", type=int, default=1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.5)
    p.add_argument("--weight-decay", type=float, default=2e-4)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-seed", type=int, default=0, help="seed of the stochastic binarisation")
    p.add_argument("--out-dir", type=Path, default=HERE / "runs")
    p.add_argument("--results", type=Path, default=HERE / "results.jsonl")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ais-chains", type=int, default=100)
    p.add_argument("--n-betas", type=int, default=None, help="default: S&M's 14,500")
    p.add_argument("--reverse-chains", type=int, default=100,
                   help="reverse AIS chains, started at random test images")
    p.add_argument("--skip-estimates", action="store_true", help="train only")
    p.add_argument("--time-epochs", type=int, default=0,
                   help="only time this many epochs (no checkpoint, no estimates, no JSON line)")
    return p.parse_args(argv)


def run_name(a) -> str:
    return (f"h{a.hidden}_{a.method}{a.k}_e{a.epochs}_lr{a.lr:g}_m{a.momentum:g}_wd{a.weight_decay:g}"
            f"_b{a.batch_size}_s{a.seed}")


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    from freeenergy.data import load_mnist
    from freeenergy.estimate import (
        ais,
        base_rate_logits,
        bracket,
        default_betas,
        exact_log_partition,
        log_likelihood,
        reverse_ais,
    )
    from freeenergy.learn import train_rbm
    from freeenergy.models import BernoulliRBM

    t0 = time.perf_counter()
    data = load_mnist(binarize="stochastic", seed=a.data_seed)
    train32 = torch.as_tensor(data.train, dtype=torch.float32)
    t_data = time.perf_counter() - t0

    model = BernoulliRBM(784, a.hidden, seed=a.seed, dtype=torch.float32)
    with torch.no_grad():
        model.visible_bias.copy_(base_rate_logits(train32, model))
    kw = dict(method=a.method, k=a.k, batch_size=a.batch_size, lr=a.lr, momentum=a.momentum,
              weight_decay=a.weight_decay, seed=a.seed, exact_every=0, progress=False)

    if a.time_epochs:
        t = time.perf_counter()
        train_rbm(model, train32, epochs=a.time_epochs, test_data=None, **kw)
        dt = (time.perf_counter() - t) / a.time_epochs
        print(json.dumps({"timing": run_name(a), "threads": a.threads, "seconds_per_epoch": dt}))
        return

    a.out_dir.mkdir(parents=True, exist_ok=True)
    name = run_name(a)
    ckpt = a.out_dir / f"{name}.ckpt"
    resume = ckpt if ckpt.exists() else None
    t = time.perf_counter()
    hist = train_rbm(model, train32, epochs=a.epochs, checkpoint=ckpt, resume=resume,
                     test_data=None, **kw)
    t_train_call = time.perf_counter() - t
    model.save(a.out_dir / f"{name}.model")
    print(f"[{name}] trained in {t_train_call:.1f} s (resumed={resume is not None})", flush=True)
    record = {
        "name": name, "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
        "train_args": kw | {"epochs": a.epochs, "dtype": "float32"},
        "resumed_from_checkpoint": resume is not None,
        "train_seconds_this_call": t_train_call,
        "train_seconds_history": _history_seconds(hist),
        "recon_error_last": _last(hist, "reconstruction_error"),
        "data_seconds": t_data,
        "machine": {"host": socket.gethostname(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "torch": torch.__version__, "threads": a.threads},
    }
    if a.skip_estimates:
        print(json.dumps(record))
        return

    m64 = model.to(torch.float64)
    test = torch.as_tensor(data.test, dtype=torch.float64)
    train = torch.as_tensor(data.train, dtype=torch.float64)
    betas = default_betas() if a.n_betas is None else default_betas(a.n_betas)
    est = {}
    if a.hidden <= 25:
        t = time.perf_counter()
        ex = exact_log_partition(m64)
        est["exact"] = {"log_z": ex.log_z, "seconds": time.perf_counter() - t}
        ll = log_likelihood(m64, test, ex)
        est["exact"]["test_ll"] = ll.mean
        est["exact"]["test_ll_stderr"] = ll.stderr
        print(f"[{name}] exact log Z {ex.log_z:.4f}, test ll {ll.mean:.3f}", flush=True)
    t = time.perf_counter()
    fwd = ais(m64, n_chains=a.ais_chains, betas=betas, data=train, seed=a.seed + 1)
    t_fwd = time.perf_counter() - t
    print(f"[{name}] AIS {fwd.log_z:.4f} ± {fwd.stderr:.4f} ({t_fwd:.0f} s)", flush=True)
    t = time.perf_counter()
    rev = reverse_ais(m64, test, n_chains=a.reverse_chains, betas=betas,
                      base=base_rate_logits(train, m64), seed=a.seed + 2)  # same base as forward AIS
    t_rev = time.perf_counter() - t
    print(f"[{name}] reverse AIS {rev.log_z:.4f} ± {rev.stderr:.4f} ({t_rev:.0f} s)", flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        br = bracket(m64, test, forward=fwd, reverse=rev)
    for e, s, tt in (("ais", fwd, t_fwd), ("reverse_ais", rev, t_rev)):
        d = s.as_dict()
        info = d.get("info", {})
        est[e] = {"log_z": s.log_z, "stderr": s.stderr, "lower": s.lower, "upper": s.upper,
                  "n_chains": s.n_samples, "n_betas": len(betas), "seconds": tt,
                  "ess": _f(info.get("ess")), "log_z_base": _f(info.get("log_z_base"))}
    est["bracket"] = {
        "conservative_test_ll": br.conservative.mean, "conservative_stderr": br.conservative.stderr,
        "conservative_lower": br.conservative.lower, "conservative_upper": br.conservative.upper,
        "optimistic_test_ll": br.optimistic.mean, "optimistic_stderr": br.optimistic.stderr,
        "optimistic_lower": br.optimistic.lower, "optimistic_upper": br.optimistic.upper,
        "gap": br.gap, "sigma": br.sigma, "warnings": [str(w.message) for w in caught],
    }
    record["estimates"] = est
    record["estimate_dtype"] = "float64"
    record["total_seconds"] = time.perf_counter() - t0
    print(f"[{name}] test ll bracket [{br.conservative.mean:.3f}, {br.optimistic.mean:.3f}]", flush=True)
    with open(a.results, "a") as fh:
        fh.write(json.dumps(_clean(record), default=_f, allow_nan=False) + "\n")


def _f(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else str(x)


def _clean(x):
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, float):
        return x if math.isfinite(x) else str(x)
    return x


def _history_seconds(hist):
    for col in ("seconds", "epoch_seconds", "time"):
        v = getattr(hist, col, None)
        if v is not None:
            try:
                return float(np.nansum(np.asarray(v, dtype=float)))
            except Exception:
                pass
    return None


def _last(hist, col):
    v = getattr(hist, col, None)
    try:
        return float(np.asarray(v, dtype=float)[-1])
    except Exception:
        return None


if __name__ == "__main__":
    main()
