"""Is forward AIS's shortfall on the 25-hidden models annealing bias or noise?

For saved 25-hidden models (from mnist_rbm.py), compare exact log Z with forward AIS run
(a) as in the table (100 chains, 14,500 betas), (b) with 1,000 chains, and (c) with 100 chains
and 100,000 betas (same schedule shape). Appends one JSON line per model to
experiments/ais_check.jsonl.

    OMP_NUM_THREADS=1 .venv/bin/python experiments/ais_check.py experiments/runs/h25_cd3_*.model
"""

import json
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)
from freeenergy.data import load_mnist  # noqa: E402
from freeenergy.estimate import ais, default_betas, exact_log_partition  # noqa: E402
from freeenergy.models import BernoulliRBM  # noqa: E402

HERE = Path(__file__).resolve().parent
train = torch.as_tensor(load_mnist(binarize="stochastic", seed=0).train, dtype=torch.float64)
for path in sys.argv[1:]:
    m = BernoulliRBM.load(path).to(torch.float64)
    rec = {"model": Path(path).name, "exact": exact_log_partition(m).log_z, "runs": []}
    for chains, nb, seed in ((100, 14500, 11), (1000, 14500, 12), (100, 100000, 13)):
        t = time.perf_counter()
        e = ais(m, n_chains=chains, betas=default_betas(nb), data=train, seed=seed)
        r = {"n_chains": chains, "n_betas": nb, "seed": seed, "log_z": e.log_z, "stderr": e.stderr,
             "ess": float(e.info["ess"]), "minus_exact": e.log_z - rec["exact"],
             "seconds": time.perf_counter() - t}
        rec["runs"].append(r)
        print(Path(path).name, json.dumps(r), flush=True)
    with open(HERE / "ais_check.jsonl", "a") as fh:
        fh.write(json.dumps(rec) + "\n")
