"""Wang-Landau log g(E) of the L x L Ising torus against Beale's exact counts; flips per second.

What it measures:

* accuracy (one run per setting, no ratio): the max relative error of ln g over the visited
  spectrum (both normalised to sum g = 2^N), and the errors of F, U and C per spin at
  T = 1.5, T_c, 3.0 from ``DensityOfStates.thermodynamics``;
* speed: time per 10^6 attempted flips of the compiled (numba, single-threaded) kernel, in a
  1/t run to ``ln f = --speed-ln-f``, against a pure Python/NumPy single-flip Wang-Landau loop
  over the same lattice (float64 ln g, int8 spins on both sides), interleaved (common.measure),
  one thread each, pinned to one core. Run:

    python benchmarks/bench_wang_landau.py [--quick] [--threads 1] [--rounds 5] [--sizes 16 32]
                                           [--speed-ln-f 1e-5]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import common
import freeenergy as fe
from freeenergy.sampling.wang_landau import neighbour_table, wang_landau

TEMPS = np.array([1.5, 2.0 / math.log(1.0 + math.sqrt(2.0)), 3.0])

# (size, method, ln_f_final): both schedules at 16 x 16; at 32 x 32 the 1/t schedule, whose error
# keeps falling as t^(-1/2) and whose length is fixed (1/ln_f_final sweeps; ~20 s at 1e-6).
DEFAULTS = [(16, "standard", 1e-6), (16, "1/t", 1e-6), (32, "1/t", 1e-6)]
QUICK = [(16, "standard", 1e-3), (32, "1/t", 1e-4)]


def python_wl_flips_per_second(size: int, n_flips: int, seed: int = 0) -> float:
    """Baseline: the same single-flip Wang-Landau step in a Python loop (NumPy arrays)."""
    table = neighbour_table(fe.IsingLattice(size, size))
    nb, cp, n = table.neighbours, table.couplings, table.n_sites
    rng = np.random.default_rng(seed)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=n)
    sites, uniforms = rng.integers(0, n, size=n_flips), rng.random(n_flips)
    energy = table.energy(spins)
    log_g, hist = np.zeros(n + 1), np.zeros(n + 1, dtype=np.int64)
    start = time.perf_counter()
    b_old = int((energy + 2 * n) / 4 + 0.5)
    for k in range(n_flips):
        i = sites[k]
        d_e = 2.0 * spins[i] * np.dot(cp[i], spins[nb[i]])
        b_new = int((energy + d_e + 2 * n) / 4 + 0.5)
        if uniforms[k] < math.exp(min(0.0, log_g[b_old] - log_g[b_new])):
            spins[i] = -spins[i]
            energy += d_e
            b_old = b_new
        log_g[b_old] += 1.0
        hist[b_old] += 1
    return n_flips / (time.perf_counter() - start)


def accuracy(res, lat: fe.IsingLattice) -> dict[str, float]:
    """Max relative error of ln g over visited levels; max |error| of F, U, C per spin."""
    exact = lat.density_of_states()
    ref = dict(zip(exact.energies.tolist(), exact.log_g.tolist(), strict=True))
    got = res.energies[res.visited]
    ref_lg = np.array([ref[e] for e in got.tolist()])
    rel = np.abs(res.log_g[res.visited] - ref_lg) / np.abs(ref_lg)
    ours = res.dos.thermodynamics(T=TEMPS).per_site(lat.n_sites)
    theirs = exact.thermodynamics(T=TEMPS).per_site(lat.n_sites)
    out = {"ln_g_rel": float(rel.max()), "levels": float(len(got)) / len(ref)}
    for key, name in (("F", "free_energy"), ("U", "energy"), ("C", "heat_capacity")):
        out[key] = np.abs(getattr(ours, name) - getattr(theirs, name))
        out[key + "_rel"] = out[key] / np.abs(getattr(theirs, name))
    return out


def accuracy_run(size: int, method: str, ln_f_final: float, seed: int) -> None:
    lat = fe.IsingLattice(size, size)
    res = wang_landau(lat, ln_f_final=ln_f_final, method=method, seed=seed)
    acc = accuracy(res, lat)
    print(
        f"{size}x{size} WL, method={method}, ln_f_final={ln_f_final:g}, "
        f"{'flatness=0.8, ' if method == 'standard' else ''}"
        f"check_every=1000 sweeps, seed={seed}: {res.seconds:.1f} s, {res.n_sweeps} sweeps, "
        f"{res.n_flips:.3g} flips, {res.n_iterations} stages, ln f reached {res.ln_f_final:.3g}"
    )
    print(f"  max relative error of ln g over {acc['levels']:.0%} of the levels: {acc['ln_g_rel']:.2e}")
    for i, t in enumerate(TEMPS):
        print(
            f"  T = {t:.3f}: |dF| = {acc['F'][i]:.1e} ({acc['F_rel'][i]:.1e} rel), "
            f"|dU| = {acc['U'][i]:.1e} ({acc['U_rel'][i]:.1e} rel), "
            f"|dC| = {acc['C'][i]:.1e} ({acc['C_rel'][i]:.1e} rel) per spin"
        )


def speed(size: int, ln_f: float, seed: int, baseline_flips: int) -> None:
    lat = fe.IsingLattice(size, size)

    def ours():
        res = wang_landau(lat, ln_f_final=ln_f, method="1/t", seed=seed)
        return common.Timings(per_million=1e6 / res.flips_per_second)

    def base():
        return common.Timings(per_million=1e6 / python_wl_flips_per_second(size, baseline_flips, seed))

    t = common.measure({"ours": ours, "base": base})
    common.ratio_line(
        f"WL {size}x{size}, time per 1e6 attempted flips",
        common.Series("compiled kernel (1/t run)", t["ours"]["per_million"]),
        common.Series(f"Python/NumPy loop ({baseline_flips} flips)", t["base"]["per_million"]),
        dtype="float64", note=f"ours {1e6 / np.min(t['ours']['per_million']):.3g} flips/s at the minimum",
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_arguments(parser)
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 32], choices=[16, 32])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed-ln-f", type=float, default=None,
                        help="final ln f of the timed 1/t runs (default 1e-5; 1e-3 with --quick)")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else DEFAULTS
    speed_ln_f = args.speed_ln_f or (1e-3 if args.quick else 1e-5)
    common.setup(args, "Wang-Landau: accuracy against Beale's exact counts, and flips per second")
    wang_landau(fe.IsingLattice(2, 2), ln_f_final=1e-2, seed=0)  # compile outside the timings
    for size, method, ln_f_final in settings:
        if size in args.sizes:
            accuracy_run(size, method, ln_f_final, args.seed)
    for size in args.sizes:
        speed(size, speed_ln_f, args.seed, 20_000 if args.quick else 200_000)


if __name__ == "__main__":
    main()
