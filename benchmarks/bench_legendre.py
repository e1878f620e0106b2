"""legendre_fenchel: linear time (flat time per point) and speed-up over the O(n m) brute force.

For n = 1e5, 1e6, 1e7 samples and as many sorted slopes, prints the time per point and the
ratio to one ``np.maximum.accumulate`` pass over the same data (the cheapest possible linear
scan); then the speed-up over a chunked brute-force ``max_i [s x_i - f_i]`` at n = m = 1e4.
Run:
    python benchmarks/bench_legendre.py [--sizes 100000 1000000 10000000] [--brute 10000]
"""

from __future__ import annotations

import argparse

import numpy as np

from common import best_time, report
from freeenergy.legendre import convex_envelope, legendre_fenchel


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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**5, 10**6, 10**7])
    parser.add_argument("--brute", type=int, default=10**4, help="n = m for the brute-force check")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    legendre_fenchel([0.0, 1.0], [0.0, 1.0])  # load the compiled kernels outside the timings

    per_point = []
    for n in args.sizes:
        x, f, s = problem(n, rng)
        ours = best_time(lambda x=x, f=f, s=s: legendre_fenchel(x, f, s), args.repeat)
        base = best_time(lambda f=f: np.maximum.accumulate(f), args.repeat)
        per_point.append(ours / (2 * n))
        report(
            f"legendre_fenchel n = m = {n:.0e}",
            ours,
            "one np.maximum.accumulate pass",
            base,
            f"{1e9 * ours / (2 * n):.1f} ns per point (n + m points), "
            f"{ours / base:.1f} x the accumulate pass",
        )
    print(f"time per point, largest / smallest size: {per_point[-1] / per_point[0]:.2f} (1 = linear)")

    x, f, s = problem(args.brute, rng)
    ours = best_time(lambda: legendre_fenchel(x, f, s), args.repeat)
    base = best_time(lambda: brute_force(x, f, s), 1)
    err = float(np.max(np.abs(legendre_fenchel(x, f, s).f_star - brute_force(x, f, s))))
    report(
        f"legendre_fenchel vs brute force, n = m = {args.brute:.0e}",
        ours,
        "chunked O(n m) brute force",
        base,
        f"max abs diff {err:.1e}",
    )


if __name__ == "__main__":
    main()
