"""thermodynamics() on 1e7 levels x 100 temperatures vs a loop over scipy.special.logsumexp.

The baseline computes only log Z; ours computes log Z, F, U, S and C. Run:
    python benchmarks/bench_thermo.py [--levels 10000000] [--temps 100]
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.special import logsumexp

import freeenergy as fe
from common import best_time, report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", type=int, default=10**7)
    parser.add_argument("--temps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    energies = rng.normal(size=args.levels) * 10
    T = np.linspace(0.1, 10.0, args.temps)

    ours = best_time(lambda: fe.thermodynamics(energies, T=T), args.repeat)
    base = best_time(lambda: [logsumexp(-energies / t) for t in T], args.repeat)
    th = fe.thermodynamics(energies, T=T)
    ref = np.array([logsumexp(-energies / t) for t in T[:3]])
    err = float(np.max(np.abs(th.log_z[:3] - ref) / np.abs(ref)))
    report(
        f"thermodynamics {args.levels:.0e} levels x {args.temps} T (log Z, F, U, S, C)",
        ours,
        "scipy logsumexp loop, log Z only",
        base,
        f"max rel. diff of log Z {err:.1e}",
    )


if __name__ == "__main__":
    main()
