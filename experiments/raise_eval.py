"""Conservative test log-likelihood (RAISE) of the saved MNIST RBMs, beside forward AIS.

Reverse AIS's log Z (``results.jsonl``) is an upper bound only when started at model samples;
from test images it can fall below the forward estimate (it does for every model here). RAISE
(Burda, Grosse & Salakhutdinov 2015) runs one reverse chain per test image and is conservative
for any data. One chain per image is costly, so it is run on the first ``--examples`` test images,
with forward AIS's log-likelihood on the same images for the bracket. Run:
    python experiments/raise_eval.py --examples 500 [--names h500_cd1_e40_...]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from freeenergy.data import load_mnist
from freeenergy.estimate import ais, log_likelihood, raise_log_likelihood
from freeenergy.models import load_model

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--names", nargs="*", help="run names in runs/ (default: every saved model)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    data = load_mnist(binarize="stochastic", seed=0)
    test = data.test[: a.examples]
    names = a.names or sorted(p.stem for p in (HERE / "runs").glob("*.model"))
    for name in names:
        model = load_model(HERE / "runs" / f"{name}.model")
        t0 = time.perf_counter()
        forward = ais(model, n_chains=100, data=data.train, seed=a.seed)
        t1 = time.perf_counter()
        low = raise_log_likelihood(model, test, base_data=data.train, seed=a.seed)
        t2 = time.perf_counter()
        high = log_likelihood(model, test, forward)
        row = {
            "name": name,
            "examples": int(test.shape[0]),
            "forward_ais_log_z": forward.log_z,
            "forward_ais_stderr": forward.stderr,
            "optimistic_test_ll": high.mean,
            "raise_test_ll": low.mean,
            "raise_stderr_over_examples": low.stderr,
            "ais_seconds": t1 - t0,
            "raise_seconds": t2 - t1,
        }
        print(json.dumps(row), flush=True)
        with (HERE / "results_raise.jsonl").open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
