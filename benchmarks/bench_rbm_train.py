"""One epoch of CD-1 on a Bernoulli RBM: freeenergy.learn.train_rbm against scikit-learn's
BernoulliRBM (and the optional `rbms` and learnergy packages), at equal precision and threads.

What it measures, per data set and per dtype (float32 and float64 rows):

* ours: ``train_rbm(..., epochs=1, batch_size=100, lr=0.05, momentum=0, exact_every=0)``. Two
  timings of the same call: "epoch" is ``history.seconds[1]`` (the updates only, comparable to a
  bare training loop) and "call" the whole call, which also computes the monitors at epochs 0
  and 1 (free energy of all rows, weight norms: about 40% more matrix work than the epoch).
* scikit-learn: ``BernoulliRBM(n_components, batch_size=100, n_iter=1, learning_rate=0.05).fit``
  on the *same array in the same dtype*. Its ``fit`` validates with ``dtype=(float64,
  float32)``, i.e. it keeps a float32 input in float32 (weights, biases, chains and all five
  products; its negative visibles are a boolean array that NumPy casts to float32 for their two
  products, and its uniforms are drawn in float64), and upcasts anything else (float64, ints,
  bool) to float64. The script checks ``components_.dtype`` after each fit. It runs PCD-1
  (persistent chains), with the same five products per batch as our CD-1.
* `rbms` (optional, ``pip install rbms``): the body of its own training loop
  (``rbms.training.pcd.train`` with ``training_type="cd"``, without its HDF5 archive): per
  batch (N / B of them, rows drawn by its own ``randperm(N)[:B]``) ``init_chains`` at the data,
  ``fit_batch_pcd`` with one Gibbs step, ``centered=False`` (the plain CD gradient, as ours;
  its default centres it), its SGD step. It does 7 products per batch (it samples the hiddens
  of the batch twice) and normalises the gradient.
* learnergy (optional, ``make bench-baselines``; its folder from ``--learnergy`` or
  ``LEARNERGY_PATH``): ``RBM(...).fit(dataset, batch_size, epochs=1)``, autograd, plus a
  pseudo-likelihood per batch; float32 only (its ``Model`` sets torch's default dtype to
  float32). It runs in one subprocess per configuration (its folder on ``sys.path``, cwd a
  temporary folder for its log file), with the same thread count and CPU pinning, which fits
  once per round on request and reports the time of its ``fit`` only.
* the ceiling: the epoch's matrix products alone, ``torch.mm`` on the kernel's shapes and
  layouts (per batch of B rows: ``v0 @ W``, ``h @ W.T``, ``v1 @ W``, ``v0.T @ ph0``,
  ``v1.T @ ph1``), i.e. ``10 N n_v n_h`` FLOPs per epoch of N rows (39.2 GFLOP for 10,000 x 784
  x 500). Ours is reported in GFLOP/s of that count and as a fraction of the ceiling.

All sides run interleaved (common.measure) with one thread each, pinned to one core, unless
``--threads`` says otherwise. Data: scikit-learn's 8x8 digits thresholded at 0.5 (1437 x 64,
64 hidden) and a random binary 10,000 x 784 set (pixels on with probability 0.13, MNIST's
mean; 500 hidden). Run:

    python benchmarks/bench_rbm_train.py [--quick] [--threads 1] [--rounds 5]
                                         [--dtypes float32 float64] [--learnergy DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from sklearn.neural_network import BernoulliRBM as SklearnRBM

import common
from freeenergy.data import load_digits
from freeenergy.learn import train_rbm
from freeenergy.models import BernoulliRBM

BATCH, LR = 100, 0.05
DTYPES = {"float32": torch.float32, "float64": torch.float64}

_LEARNERGY_WORKER = """
import json, sys, time
import numpy as np, torch
torch.set_num_threads(int(sys.argv[5]))
from learnergy.models.bernoulli import RBM
X = torch.from_numpy(np.load(sys.argv[1]))
hidden, batch, lr = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
def fit(x):
    torch.manual_seed(0)
    model = RBM(n_visible=x.shape[1], n_hidden=hidden, steps=1, learning_rate=lr)
    data = torch.utils.data.TensorDataset(x, torch.zeros(len(x)))
    start = time.perf_counter()
    model.fit(data, batch_size=batch, epochs=1)
    return time.perf_counter() - start, str(model.W.dtype)
for line in sys.stdin:  # one epoch per request; the first is the warm-up of this process
    seconds, dtype = fit(X)
    print("@@" + json.dumps({"seconds": seconds, "dtype": dtype}), flush=True)
"""


def data_sets(quick: bool) -> list[tuple[str, np.ndarray, int]]:
    """(name, rows, hidden units) of each benchmarked configuration."""
    digits = load_digits(binarize="threshold").train
    rows, hidden = (500, 50) if quick else (10_000, 500)
    mnist_like = (np.random.default_rng(0).random((rows, 784)) < 0.13).astype(np.float64)
    return [(f"digits {digits.shape[0]}x64", digits, 64),
            (f"random binary {rows}x784", mnist_like, hidden)]


def ours(x: np.ndarray, hidden: int):
    dtype = torch.float32 if x.dtype == np.float32 else torch.float64

    def run():
        model = BernoulliRBM(x.shape[1], hidden, seed=0, dtype=dtype)
        history = train_rbm(model, x, epochs=1, batch_size=BATCH, lr=LR, momentum=0.0,
                            exact_every=0, seed=0)
        return common.Timings(epoch=float(history.seconds[1]))

    return run


def sklearn(x: np.ndarray, hidden: int):
    def run():
        model = SklearnRBM(n_components=hidden, batch_size=BATCH, n_iter=1, learning_rate=LR,
                           random_state=0).fit(x)
        if model.components_.dtype != x.dtype:
            raise RuntimeError(f"scikit-learn computed in {model.components_.dtype}, not {x.dtype}")

    return run


def rbms(x: np.ndarray, hidden: int):
    """The `rbms` package's CD-1 epoch (its training loop's body), or None when absent."""
    try:
        from rbms.bernoulli_bernoulli.classes import BBRBM
        from rbms.training.pcd import fit_batch_pcd
    except ImportError:
        return None
    data = torch.from_numpy(x)
    weights = torch.ones(len(data), dtype=data.dtype)

    def run():
        torch.manual_seed(0)
        params = BBRBM(weight_matrix=torch.randn(x.shape[1], hidden, dtype=data.dtype) * 0.01,
                       vbias=torch.zeros(x.shape[1], dtype=data.dtype),
                       hbias=torch.zeros(hidden, dtype=data.dtype))
        params.init_grad()
        optimizer = torch.optim.SGD(params.parameters(), lr=LR, maximize=True)
        with torch.no_grad():
            for _ in range(-(-len(data) // BATCH)):
                idx = torch.randperm(len(data))[:BATCH]
                batch = (data[idx], weights[idx])
                chains = params.init_chains(BATCH, weights=batch[1], start_v=batch[0])
                optimizer.zero_grad(set_to_none=False)
                fit_batch_pcd(batch=batch, parallel_chains=chains, params=params, gibbs_steps=1,
                              beta=1.0, centered=False)
                optimizer.step()

    return run


class Learnergy:
    """learnergy's epoch, timed inside one long-lived subprocess (its folder on ``sys.path``, cwd
    a temporary folder for its log file) that fits once per request; same threads and CPUs."""

    def __init__(self, path: str, x: np.ndarray, hidden: int, tmp: str):
        npy = os.path.join(tmp, f"x_{x.shape[0]}_{x.shape[1]}.npy")
        np.save(npy, x)
        env = {**os.environ, "PYTHONPATH": path + os.pathsep + os.environ.get("PYTHONPATH", "")}
        args = [sys.executable, "-c", _LEARNERGY_WORKER, npy, str(hidden), str(BATCH), str(LR),
                str(common.current().threads)]
        self.err = open(os.path.join(tmp, "learnergy.err"), "w+")  # a file: a pipe could fill up
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, env=env, cwd=tmp)

    @classmethod
    def start(cls, path: str, x: np.ndarray, hidden: int, tmp: str):
        """A running worker, or the reason learnergy is skipped."""
        if not path or not os.path.isdir(os.path.join(path, "learnergy")):
            return f"skipped: learnergy not found at {path!r} (make bench-baselines installs it)"
        if x.dtype != np.float32:
            return "skipped: float32 only (learnergy's Model sets torch's default dtype to float32)"
        worker = cls(path, x, hidden, tmp)
        try:  # fail here, with the reason, rather than in the middle of the rounds
            worker()
        except RuntimeError as exc:
            worker.close()
            return f"skipped: {exc}"
        return worker

    def __call__(self) -> dict:
        try:
            self.proc.stdin.write("fit\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        for line in self.proc.stdout:
            if line.startswith("@@"):
                result = json.loads(line[2:])
                if result["dtype"] != "torch.float32":
                    raise RuntimeError(f"learnergy ran in {result['dtype']}")
                return common.Timings(fit=result["seconds"])
        self.proc.wait(timeout=60)
        self.err.seek(0)
        tail = (self.err.read().strip().splitlines() or [f"exit status {self.proc.returncode}"])[-1]
        raise RuntimeError(f"learnergy failed: {tail[:300]}")

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.err.close()


def gemm(n_rows: int, n_visible: int, hidden: int, dtype: torch.dtype):
    """The epoch's products per batch: v0 @ W, h @ W.T, v1 @ W, v0.T @ ph0, v1.T @ ph1."""
    sizes = [BATCH] * (n_rows // BATCH) + ([n_rows % BATCH] if n_rows % BATCH else [])
    products = []
    for b in sizes:
        products += [("nn", b, n_visible, hidden), ("nt", b, hidden, n_visible),
                     ("nn", b, n_visible, hidden), ("tn", n_visible, b, hidden),
                     ("tn", n_visible, b, hidden)]
    return common.gemm_side(products, dtype)


def bench(name: str, x64: np.ndarray, hidden: int, dtype_name: str, learnergy_path: str,
          tmp: str) -> None:
    x = x64.astype(dtype_name)
    dtype = DTYPES[dtype_name]
    ceiling, flops = gemm(*x.shape, hidden, dtype)
    sides = {"ours": ours(x, hidden), "sklearn": sklearn(x, hidden), "gemm": ceiling}
    skipped = {}
    optional = {"rbms": rbms(x, hidden), "learnergy": Learnergy.start(learnergy_path, x, hidden, tmp)}
    for key, side in optional.items():
        if callable(side):
            sides[key] = side
        else:
            skipped[key] = side or "skipped: the `rbms` package is not installed (pip install rbms)"
    try:
        t = common.measure(sides)
    finally:
        if isinstance(sides.get("learnergy"), Learnergy):
            sides["learnergy"].close()
    label = f"CD-1 epoch, {name}, {hidden} hidden, batch {BATCH}"
    epoch = common.Series("train_rbm epoch", t["ours"]["epoch"])
    call = common.Series("train_rbm call with monitors", t["ours"]["call"])
    sk = common.Series("scikit-learn fit (PCD-1)", t["sklearn"]["call"])
    common.ratio_line(label, epoch, sk, dtype=dtype_name)
    common.ratio_line(label, call, sk, dtype=dtype_name, note="ours includes its monitors")
    if "rbms" in sides:
        common.ratio_line(label, epoch, common.Series("rbms CD-1 loop", t["rbms"]["call"]),
                          dtype=dtype_name, note="rbms: 7 products per batch, normalised gradient")
    if "learnergy" in sides:
        common.ratio_line(label, epoch, common.Series("learnergy fit", t["learnergy"]["fit"]),
                          dtype=dtype_name, note="learnergy: autograd, plus a pseudo-likelihood per batch")
    for key, why in skipped.items():
        print(f"  {key}: {why}")
    common.rate_line("CD-1 epoch", flops, epoch, common.Series("torch.mm", t["gemm"]["call"]),
                     dtype=dtype_name, count="10 N n_v n_h: 5 products of B x n_v x n_h per batch")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_arguments(parser)
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES), default=["float32", "float64"])
    parser.add_argument("--learnergy", default=os.environ.get("LEARNERGY_PATH", "/tmp/learnergy-pkgs"))
    args = parser.parse_args(argv)
    common.setup(args, "CD-1 epoch: train_rbm vs scikit-learn BernoulliRBM (and rbms, learnergy)")
    with tempfile.TemporaryDirectory(prefix="bench_rbm_train_") as tmp:
        for name, x, hidden in data_sets(args.quick):
            for dtype_name in args.dtypes:
                bench(name, x, hidden, dtype_name, args.learnergy, tmp)


if __name__ == "__main__":
    main()
