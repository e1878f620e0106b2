"""Forward AIS with more chains on a saved model (no exact log Z): is 100 chains enough?

    OMP_NUM_THREADS=1 .venv/bin/python experiments/ais_more.py MODEL N_CHAINS SEED

Appends one JSON line to experiments/ais_check.jsonl.
"""

import json
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)
from freeenergy.data import load_mnist  # noqa: E402
from freeenergy.estimate import ais, log_likelihood  # noqa: E402
from freeenergy.models import BernoulliRBM  # noqa: E402

HERE = Path(__file__).resolve().parent
path, chains, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = load_mnist(binarize="stochastic", seed=0)
train = torch.as_tensor(d.train, dtype=torch.float64)
test = torch.as_tensor(d.test, dtype=torch.float64)
m = BernoulliRBM.load(path).to(torch.float64)
t = time.perf_counter()
e = ais(m, n_chains=chains, data=train, seed=seed)
rec = {"model": Path(path).name, "exact": None, "runs": [{
    "n_chains": chains, "n_betas": 14500, "seed": seed, "log_z": e.log_z, "stderr": e.stderr,
    "ess": float(e.info["ess"]), "seconds": time.perf_counter() - t,
    "test_ll": log_likelihood(m, test, e).mean}]}
print(json.dumps(rec), flush=True)
with open(HERE / "ais_check.jsonl", "a") as fh:
    fh.write(json.dumps(rec) + "\n")
