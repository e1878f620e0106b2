"""thermodynamics() on 1e7 levels x 100 temperatures against a loop over scipy.special.logsumexp.

What it measures: the wall time of ``fe.thermodynamics(energies, T=T)`` (log Z, F, U, S and C
at every temperature) against ``[logsumexp(-energies / t) for t in T]`` (log Z only), both in
float64, interleaved (common.measure). Threads: NumPy's and SciPy's BLAS pools at ``--threads``
(default 1) and the process pinned to that many cores. ``thermodynamics`` runs blocks of
temperatures in its own pool of Python threads (``min(8, os.cpu_count())`` of them; NumPy
releases the GIL), and pinning confines that pool to the same cores as the baseline: the
comparison is at equal cores. Run:

    python benchmarks/bench_thermo.py [--quick] [--threads 1] [--rounds 5] [--levels 10000000]
                                      [--temps 100]
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.special import logsumexp

import common
import freeenergy as fe


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_arguments(parser)
    parser.add_argument("--levels", type=int, default=None, help="default 1e7 (1e5 with --quick)")
    parser.add_argument("--temps", type=int, default=None, help="default 100 (10 with --quick)")
    args = parser.parse_args(argv)
    levels = args.levels or (10**5 if args.quick else 10**7)
    temps = args.temps or (10 if args.quick else 100)
    common.setup(args, "thermodynamics() vs a scipy.special.logsumexp loop")
    energies = np.random.default_rng(0).normal(size=levels) * 10
    T = np.linspace(0.1, 10.0, temps)
    result = {}

    def ours():
        result["ours"] = fe.thermodynamics(energies, T=T)

    def base():
        result["base"] = np.array([logsumexp(-energies / t) for t in T])

    t = common.measure({"ours": ours, "base": base})
    err = float(np.max(np.abs(result["ours"].log_z - result["base"]) / np.abs(result["base"])))
    common.ratio_line(
        f"thermodynamics {levels:.0e} levels x {temps} T (log Z, F, U, S, C)",
        common.Series("thermodynamics", t["ours"]["call"]),
        common.Series("scipy logsumexp loop (log Z only)", t["base"]["call"]),
        dtype="float64",
        note=f"max rel. diff of log Z {err:.1e}; ours' thread pool runs on the pinned CPUs",
    )


if __name__ == "__main__":
    main()
