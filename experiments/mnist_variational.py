"""VAEs and Helmholtz machines on MNIST (issue 5): train, then test -ELBO and NLL (k = 5000).

Training: MNIST grey values with dynamic binarisation (a fresh Bernoulli draw of every
mini-batch, ``dynamic_binarization=True``), Adam at a constant ``lr``, batch 100, float32, one
torch thread, seed 0, for MINUTES of wall time (a callback stops the run after the first epoch
that ends past the budget; the epochs reached are recorded). Test data: one fixed stochastic
binarisation of the 10,000 test images (seed 0); -ELBO on all of them, NLL by the k = 5000
importance-weighted bound on the first N_NLL.

Usage:
    python experiments/mnist_variational.py vae elbo 1 MINUTES [N_NLL]
    python experiments/mnist_variational.py vae iwae K MINUTES [N_NLL]
    python experiments/mnist_variational.py helmholtz wake-sleep 1 MINUTES [N_NLL]
    python experiments/mnist_variational.py helmholtz reweighted-wake-sleep K MINUTES [N_NLL]
Each run appends one JSON row to results_variational.jsonl and saves the model under runs/.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from freeenergy.data import load_mnist
from freeenergy.estimate.variational import helmholtz_free_energy, importance_sampled_log_likelihood
from freeenergy.learn import train_helmholtz, train_vae
from freeenergy.models import VAE, HelmholtzMachine

torch.set_num_threads(1)
HERE = Path(__file__).parent
LR = 1e-3
VAE_SHAPE = {"latent": 50, "hidden": (200, 200)}
HELMHOLTZ_LAYERS = (784, 200)


def time_budget(minutes: float):
    deadline = time.perf_counter() + 60 * minutes

    def stop_when_late(epoch, model, history):
        if epoch % 10 == 0:
            print(f"epoch {epoch}: objective {history.objective[-1]:.3f}", flush=True)
        return "stop" if time.perf_counter() > deadline else None

    return stop_when_late


def main() -> None:
    family, method, k, minutes = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    n_nll = int(sys.argv[5]) if len(sys.argv) > 5 else 2000
    data = load_mnist(binarize=None)
    test = (np.random.default_rng(0).random(data.test.shape) < data.test).astype(np.float32)
    common = {"epochs": 100_000, "batch_size": 100, "lr": LR, "seed": 0, "n_samples": 1, "iw_k": 0,
              "dynamic_binarization": True, "callbacks": [time_budget(minutes)]}
    if family == "vae":
        model = VAE(784, VAE_SHAPE["latent"], hidden=VAE_SHAPE["hidden"], dtype=torch.float32, seed=0)
        shape = {"n_visible": 784, **VAE_SHAPE}
        train = lambda: train_vae(model, data.train, objective=method, k=k, **common)  # noqa: E731
    elif family == "helmholtz":
        model = HelmholtzMachine(HELMHOLTZ_LAYERS, dtype=torch.float32, seed=0)
        shape = {"layer_sizes": HELMHOLTZ_LAYERS}
        train = lambda: train_helmholtz(model, data.train, method=method, k=k, **common)  # noqa: E731
    else:
        raise SystemExit(f"unknown model family {family!r}: expected vae or helmholtz")
    t0 = time.perf_counter()
    history = train()
    train_s = time.perf_counter() - t0
    name = f"{family}_{method}_k{k}_{minutes:g}min"
    (HERE / "runs").mkdir(exist_ok=True)
    model.save(HERE / "runs" / f"{name}.pt")
    xt = torch.from_numpy(test)
    t1 = time.perf_counter()
    neg_elbo = float(helmholtz_free_energy(model, xt, n_samples=1, seed=0).mean_free_energy)
    t2 = time.perf_counter()
    ll = importance_sampled_log_likelihood(model, xt[:n_nll], k=5000, seed=0)
    t3 = time.perf_counter()
    row = {"name": name, "family": family, "method": method, "k": k, **shape,
           "epochs": int(history.epoch[-1]), "minutes_budget": minutes, "batch_size": 100, "lr": LR,
           "seed": 0, "dtype": "float32", "train_binarisation": "dynamic",
           "test_binarisation": "fixed, seed 0", "train_seconds": train_s,
           "final_train_objective": float(history.objective[-1]),
           "test_neg_elbo": neg_elbo, "test_neg_elbo_n": len(test),
           "test_nll_k5000": -float(ll.mean), "test_nll_stderr": float(ll.stderr), "test_nll_n": n_nll,
           "elbo_eval_seconds": t2 - t1, "nll_eval_seconds": t3 - t2}
    print(json.dumps(row), flush=True)
    with open(HERE / "results_variational.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
