"""legendre_fenchel: linear time (flat time per point) and speed-up over the O(n m) brute force.

What it measures, float64 throughout, every pair interleaved (common.measure) with one thread,
pinned to one core (the compiled kernels are single-threaded numba; NumPy's BLAS pool is
limited too): for n = 1e5, 1e6, 1e7 samples and as many sorted slopes, the time of
``legendre_fenchel(x, f, s)`` per point and its ratio to one ``np.maximum.accumulate`` pass over
the same data (the cheapest possible linear scan; that ratio is below 1); then the speed-up
over a chunked brute-force ``max_i [s x_i - f_i]`` at n = m = 1e4. Run:

    python benchmarks/bench_legendre.py [--quick] [--threads 1] [--rounds 5]
                                        [--sizes 100000 1000000 10000000] [--brute 10000]
"""

from __future__ import annotations

import argparse

import numpy as np

import common
from freeenergy.spectra.legendre import convex_envelope, legendre_fenchel


def problem(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rugged, non-convex f on [-1, 1] (many hull vertices) and sorted slopes spanning its hull."""
    x = np.linspace(-1.0, 1.0, n)
    f = 2.0 * x**2 + 0.1 * np.sin(40.0 * x) + 1e-3 * rng.standard_normal(n)
    v = convex_envelope(x, f).vertices
    slopes = np.diff(f[v]) / np.diff(x[v])
    return x, f, np.linspace(slopes[0] - 0.5, slopes[-1] + 0.5, n)


def brute_force(x: np.ndarray, f: np.ndarray, s: np.ndarray, chunk: int = 256) -> np.ndarray:
    """``max_i [s_j x_i - f_i]`` for every j, ``chunk`` slopes at a time (memory chunk * n)."""
    out = np.empty(s.size)
    for lo in range(0, s.size, chunk):
        out[lo : lo + chunk] = np.max(np.multiply.outer(s[lo : lo + chunk], x) - f, axis=1)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_arguments(parser)
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="default 1e5 1e6 1e7 (1e4 1e5 with --quick)")
    parser.add_argument("--brute", type=int, default=None,
                        help="n = m for the brute-force check (default 1e4; 1e3 with --quick)")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([10**4, 10**5] if args.quick else [10**5, 10**6, 10**7])
    n_brute = args.brute or (10**3 if args.quick else 10**4)
    common.setup(args, "legendre_fenchel: time per point, and vs the O(n m) brute force")
    rng = np.random.default_rng(0)

    per_point = []
    for n in sizes:
        x, f, s = problem(n, rng)
        t = common.measure({"ours": lambda x=x, f=f, s=s: legendre_fenchel(x, f, s),
                            "scan": lambda f=f: np.maximum.accumulate(f)})
        ours = common.Series("legendre_fenchel", t["ours"]["call"])
        per_point.append(ours.min / (2 * n))
        common.ratio_line(f"legendre_fenchel n = m = {n:.0e}", ours,
                          common.Series("one np.maximum.accumulate pass", t["scan"]["call"]),
                          dtype="float64", note=f"{1e9 * ours.min / (2 * n):.1f} ns per point (n + m "
                          f"points) at the minimum")
    print(f"time per point, largest / smallest size: {per_point[-1] / per_point[0]:.2f} (1 = linear)")

    x, f, s = problem(n_brute, rng)
    result = {}
    t = common.measure({"ours": lambda: result.__setitem__("ours", legendre_fenchel(x, f, s).f_star),
                        "brute": lambda: result.__setitem__("brute", brute_force(x, f, s))})
    common.ratio_line(f"legendre_fenchel vs brute force, n = m = {n_brute:.0e}",
                      common.Series("legendre_fenchel", t["ours"]["call"]),
                      common.Series("chunked O(n m) brute force", t["brute"]["call"]), dtype="float64",
                      note=f"max abs diff {np.max(np.abs(result['ours'] - result['brute'])):.1e}")


if __name__ == "__main__":
    main()
