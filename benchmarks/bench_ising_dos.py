"""Exact density of states of the L x L Ising torus (Beale's method) vs brute-force enumeration.

The baseline enumerates all 2^N states of a small lattice; the ratio compares states counted
per second. Run:
    python benchmarks/bench_ising_dos.py [--size 32] [--brute 4]
"""

from __future__ import annotations

import argparse
import math

import freeenergy as fe
from common import best_time, report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--brute", type=int, default=5, help="side of the enumerated lattice")
    args = parser.parse_args(argv)

    exact = best_time(lambda: fe.IsingLattice(args.size, args.size).density_of_states(), repeat=1)
    brute = best_time(lambda: fe.IsingLattice(args.brute, args.brute).enumerate_energies(), repeat=1)
    n, nb = args.size**2, args.brute**2
    # States per second: (2^n / exact) / (2^nb / brute), in log10 to stay printable.
    log10_ratio = (n - nb) * 0.30102999566398120 + math.log10(brute / exact)
    report(
        f"Beale exact DOS {args.size}x{args.size} (2^{n} states)",
        exact,
        f"brute-force enumeration {args.brute}x{args.brute} (2^{nb} states)",
        brute,
        f"states counted per second: 10^{log10_ratio:.0f} times the enumeration's",
    )


if __name__ == "__main__":
    main()
