"""One epoch of CD-1 training: freeenergy.learn.train_rbm vs scikit-learn's BernoulliRBM
(and learnergy's RBM, when available), on the same data, hidden size and batch size.

Data: scikit-learn's 8x8 digits thresholded at 0.5 (1437 x 64) and, to mimic MNIST, a random
binary set of 10,000 x 784 (pixels on with probability 0.13, MNIST's mean). Hidden units 64 and
500, batch size 100, one epoch, learning rate 0.05, no momentum (as scikit-learn). Threads: the
library defaults (torch's and OpenBLAS's). Each library's epoch is timed best-of-n, runs
interleaved so that a busy machine penalises all of them alike.

Note the work differs slightly: scikit-learn runs PCD-1 (it keeps persistent chains, so it
skips one sampling step but does the same five matrix products per batch); train_rbm runs
CD-1 and also computes its per-epoch monitors (free energy of the data, weight norms, beta_eff)
at epoch 0 and 1, exact log Z disabled. "epoch" is train_rbm's own `history.seconds` (updates
only), "call" the whole call with monitors. learnergy (autograd, float32, plus a pseudo-
likelihood per batch) runs in a subprocess with its package directory on sys.path; install it
without touching this environment's torch:

    pip install --no-deps --target /tmp/learnergy-pkgs learnergy

Run:
    python benchmarks/bench_rbm_train.py [--repeat 3] [--rows 10000] [--threads N]
                                         [--learnergy /tmp/learnergy-pkgs]
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
from sklearn.neural_network import BernoulliRBM as SklearnRBM

from freeenergy.data import load_digits
from freeenergy.learn import train_rbm
from freeenergy.models import BernoulliRBM

BATCH, LR = 100, 0.05

_LEARNERGY_SNIPPET = """
import json, sys, time
import numpy as np, torch
from learnergy.models.bernoulli import RBM
X = torch.from_numpy(np.load(sys.argv[1])).float()
hidden, batch, lr, repeat = (int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
data = torch.utils.data.TensorDataset(X, torch.zeros(len(X)))
times = []
for _ in range(repeat):
    torch.manual_seed(0)
    model = RBM(n_visible=X.shape[1], n_hidden=hidden, steps=1, learning_rate=lr)
    start = time.perf_counter()
    model.fit(data, batch_size=batch, epochs=1)
    times.append(time.perf_counter() - start)
print(json.dumps({"seconds": min(times), "threads": torch.get_num_threads()}))
"""


def _data_sets(rows: int) -> dict[str, np.ndarray]:
    digits = load_digits(binarize="threshold").train
    mnist_like = (np.random.default_rng(0).random((rows, 784)) < 0.13).astype(np.float64)
    return {f"digits {digits.shape[0]}x64": digits, f"random binary {rows}x784": mnist_like}


def _ours(x: np.ndarray, hidden: int, dtype: torch.dtype) -> tuple[float, float]:
    model = BernoulliRBM(x.shape[1], hidden, seed=0, dtype=dtype)
    start = time.perf_counter()
    history = train_rbm(model, x, epochs=1, batch_size=BATCH, lr=LR, momentum=0.0, exact_every=0, seed=0)
    return float(history.seconds[1]), time.perf_counter() - start


def _sklearn(x: np.ndarray, hidden: int) -> float:
    model = SklearnRBM(n_components=hidden, batch_size=BATCH, n_iter=1, learning_rate=LR, random_state=0)
    start = time.perf_counter()
    model.fit(x)
    return time.perf_counter() - start


def _learnergy(path: str | None, x: np.ndarray, hidden: int, repeat: int, tmp: str,
               threads: int | None) -> float | str:
    if not path or not os.path.isdir(os.path.join(path, "learnergy")):
        return f"skipped: learnergy not found at {path!r} (see the module docstring to install it)"
    np.save(tmp, x.astype(np.float32))
    env = {**os.environ, "PYTHONPATH": path + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", _LEARNERGY_SNIPPET, tmp, str(hidden), str(BATCH), str(LR),
                          str(repeat)], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        return f"skipped: learnergy failed ({out.stderr.strip().splitlines()[-1][:200]})"
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 500])
    parser.add_argument("--learnergy", default=os.environ.get("LEARNERGY_PATH", "/tmp/learnergy-pkgs"))
    parser.add_argument("--threads", type=int, default=None,
                        help="limit torch and BLAS to this many threads (default: library defaults)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs; "
          f"batch {BATCH}, 1 epoch, "
          f"best of {args.repeat}; load average {os.getloadavg()[0]:.2f}")
    tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bench_rbm_train_{os.getpid()}.npy")
    try:
        for name, x in _data_sets(args.rows).items():
            for hidden in args.hidden:
                _row(name, x, hidden, args, tmp)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _row(name: str, x: np.ndarray, hidden: int, args, tmp: str) -> None:
    _ours(x[:BATCH * 2], hidden, torch.float64)  # warm-up (allocator, thread pool)
    best = {"f64": (np.inf, np.inf), "f32": (np.inf, np.inf), "sk": np.inf}
    for _ in range(args.repeat):
        for key, dtype in (("f64", torch.float64), ("f32", torch.float32)):
            best[key] = tuple(map(min, best[key], _ours(x, hidden, dtype)))
        best["sk"] = min(best["sk"], _sklearn(x, hidden))
    sk = best["sk"]
    print(f"{name}, {hidden} hidden: scikit-learn {sk:.3f} s/epoch")
    for key in ("f64", "f32"):
        epoch, call = best[key]
        print(f"  train_rbm float{key[1:]}: epoch {epoch:.3f} s (x{sk / epoch:.2f} vs scikit-learn), "
              f"call with monitors {call:.3f} s (x{sk / call:.2f})")
    lrn = _learnergy(args.learnergy, x, hidden, args.repeat, tmp, args.threads)
    if isinstance(lrn, str):
        print(f"  learnergy: {lrn}")
    else:
        f32 = best["f32"][0]
        print(f"  learnergy float32: {lrn:.3f} s/epoch (train_rbm float32 x{lrn / f32:.2f} faster, "
              f"float64 x{lrn / best['f64'][0]:.2f})")


if __name__ == "__main__":
    main()
