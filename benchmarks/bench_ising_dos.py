"""Exact density of states of the L x L Ising torus (Beale's method) against brute-force
enumeration of a small lattice.

What it measures: the wall time of ``IsingLattice(L, L).density_of_states()`` (exact integer
counts for 2^(L^2) states) and of ``IsingLattice(l, l).enumerate_energies()`` (all 2^(l^2)
states, float64 energies), interleaved (common.measure), one thread each pinned to one core.
The time ratio is printed as usual, and beside it the ratio of states counted per second,
``(2^(L^2) / t_exact) / (2^(l^2) / t_brute)``, in powers of ten. Run:

    python benchmarks/bench_ising_dos.py [--quick] [--threads 1] [--rounds 5] [--size 32] [--brute 5]
"""

from __future__ import annotations

import argparse
import math

import common
import freeenergy as fe


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_arguments(parser)
    parser.add_argument("--size", type=int, default=None, help="default 32 (8 with --quick)")
    parser.add_argument("--brute", type=int, default=None,
                        help="side of the enumerated lattice (default 5; 4 with --quick)")
    args = parser.parse_args(argv)
    size = args.size or (8 if args.quick else 32)
    brute = args.brute or (4 if args.quick else 5)
    common.setup(args, "exact Ising density of states (Beale) vs brute-force enumeration")
    t = common.measure({
        "exact": lambda: fe.IsingLattice(size, size).density_of_states(),
        "brute": lambda: fe.IsingLattice(brute, brute).enumerate_energies(),
    })
    n, nb = size**2, brute**2
    ratio = common.ratio_line(
        f"Beale exact DOS {size}x{size} (2^{n} states) vs enumeration {brute}x{brute} (2^{nb} states)",
        common.Series("exact", t["exact"]["call"]),
        common.Series("brute force", t["brute"]["call"]),
        dtype="exact integers vs float64 energies",
    )
    log10_states = (n - nb) * math.log10(2.0) + math.log10(ratio)
    print(f"  states counted per second: 10^{log10_states:.0f} times the enumeration's "
          f"(median time ratio x 2^{n - nb})")


if __name__ == "__main__":
    main()
