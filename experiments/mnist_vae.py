"""VAE on MNIST (issue 5): train on the ELBO or the IWAE bound, evaluate test -ELBO and NLL.

Training data: MNIST grey values binarised ONCE with a seeded Bernoulli draw (seed 0; a
resumed train_vae run must see the same rows, so per-epoch dynamic binarisation was not used).
Test data: a fixed stochastic binarisation (seed 0).
Usage: python experiments/mnist_vae.py OBJECTIVE K EPOCHS [N_NLL]
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from freeenergy.data import load_mnist
from freeenergy.learn import train_vae
from freeenergy.models import VAE
from freeenergy.variational import helmholtz_free_energy, log_likelihood

torch.set_num_threads(1)


def main() -> None:
    objective, k, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    n_nll = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    data = load_mnist(binarize=None)
    train = (np.random.default_rng(0).random(data.train.shape) < data.train).astype(np.float32)
    test = (np.random.default_rng(0).random(data.test.shape) < data.test).astype(np.float32)
    model = VAE(784, 50, hidden=(200, 200), dtype=torch.float32, seed=0)
    t0 = time.perf_counter()
    train_vae(model, train, objective=objective, k=k, epochs=epochs, batch_size=100, lr=1e-3,
              seed=0, n_samples=1, iw_k=0, progress=False)
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    xt = torch.from_numpy(test)
    res = helmholtz_free_energy(model, xt, n_samples=1, seed=0)
    neg_elbo = float(res.mean_free_energy)
    t2 = time.perf_counter()
    ll = log_likelihood(model, xt[:n_nll], k=5000, seed=0)
    nll, nll_se = -float(ll.mean), float(ll.stderr)
    t3 = time.perf_counter()
    row = {"objective": objective, "k": k, "epochs": epochs, "batch_size": 100, "lr": 1e-3,
           "seed": 0, "latent": 50, "hidden": [200, 200], "dtype": "float32",
           "train_binarisation": "fixed, seed 0", "test_binarisation": "fixed, seed 0",
           "train_seconds": train_s, "test_neg_elbo": neg_elbo, "test_neg_elbo_n": len(test),
           "test_nll_k5000": nll, "test_nll_stderr": nll_se, "test_nll_n": n_nll,
           "elbo_eval_seconds": t2 - t1,
           "nll_eval_seconds": t3 - t2}
    print(json.dumps(row), flush=True)
    with open(Path(__file__).with_name("results_vae.jsonl"), "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
