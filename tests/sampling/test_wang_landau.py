"""Wang-Landau sampling against exact densities of states.

References: Wang & Landau, PRL 86, 2050 (2001); Belardinelli & Pereyra, PRE 75, 046701 (2007);
exact counts of the periodic Ising lattice by Beale, PRL 76, 78 (1996) (``exact_counts``).

Tolerance policy (error = max over visited levels of |ln g - ln g_exact| after normalising both
to sum g = 2^N). Seeds are fixed (0, 1, 2 for the lattices; 0 or 1 elsewhere), chosen before
running and never re-chosen after a failure: the tolerances below are set from the error's
distribution over many seeds, so that any seed passes.

* ``"1/t"``: the error falls as ``t^(-1/2) = sqrt(ln_f_final)`` (Belardinelli & Pereyra 2007),
  ``eps = C sqrt(ln_f_final)`` with a size-dependent C. Measured over 100 seeds at
  ``ln_f_final = 1e-6``: 4x4 mean 0.012, sd 0.005, max 0.031; 6x6 mean 0.023, sd 0.009,
  max 0.053. We allow ``C = 80`` (0.08), above mean + 6 sd for both sizes: a Gaussian-tail
  failure rate below 1e-9 per run (0 of 100 seeds fail).
* ``"standard"``: halving ``ln f`` at each flat histogram makes the error saturate (Belardinelli
  & Pereyra 2007, Fig. 1): below ``ln f ~ 1e-4`` it no longer follows ``sqrt(ln f)``. At
  ``ln_f_final = 1e-6`` over 300 seeds: 4x4 mean 0.107, sd 0.045, max 0.28; 6x6 mean 0.127,
  sd 0.047, max 0.31. We allow ``max(80 sqrt(ln_f_final), 0.5)`` = 0.5, above mean + 6 sd
  (0 of 300 fail).
* Re-measured over seeds 0-49 (ln_f_final = 1e-6): "1/t" 4x4 mean 0.011, sd 0.004, max 0.020;
  6x6 0.023, 0.009, 0.053; "standard" 4x4 0.107, 0.041, 0.21; 6x6 0.135, 0.057, 0.31. The
  other "1/t" systems tested here, also over seeds 0-49: ring and open chain of 10 spins,
  3x3 lattice in a field, 8-spin spin glass: means 0.010-0.018, sd <= 0.007, max 0.035; the
  0.08 bound is over 9 sd above their means.
* The other tests check properties that hold for every seed (levels visited, normalisation,
  schedules, reproducibility), not accuracy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import freeenergy as fe
from freeenergy.sampling.wang_landau import (
    NeighbourTable,
    WangLandauError,
    WangLandauResult,
    WangLandauWarning,
    neighbour_table,
    register_neighbour_table,
    wang_landau,
)

SEEDS = (0, 1, 2)
C_SQRT = 80.0
STANDARD_SATURATION = 0.5


def tolerance(method: str, ln_f_final: float) -> float:
    eps = C_SQRT * math.sqrt(ln_f_final)
    return eps if method == "1/t" else max(eps, STANDARD_SATURATION)


def max_error(res: WangLandauResult, energies, counts) -> float:
    exact = dict(zip(np.asarray(energies).tolist(), (math.log(int(c)) for c in counts), strict=True))
    got = res.energies[res.visited].tolist()
    assert set(got) == set(exact), "visited levels must be exactly the possible ones"
    log_total = float(np.logaddexp.reduce(list(exact.values())))
    shift = res.dos.log_total - log_total
    return max(abs(lg - shift - exact[e]) for e, lg in zip(got, res.log_g[res.visited], strict=True))


def brute_counts(table: NeighbourTable):
    n = table.n_sites
    states = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    e = np.array([table.energy(s) for s in states])
    return np.unique(np.round(e, 9), return_counts=True)


@pytest.mark.parametrize("method", ["standard", "1/t"])
@pytest.mark.parametrize("size", [4, 6])
@pytest.mark.parametrize("seed", SEEDS)
def test_lattice_matches_beale_counts(size, method, seed):
    lat = fe.IsingLattice(size, size)
    # fixed seed; the bound comes from 50+ seeds, all of which pass (module docstring)
    res = wang_landau(lat, ln_f_final=1e-6, method=method, seed=seed)
    assert res.converged and res.method == method
    assert max_error(res, *lat.exact_counts()) < tolerance(method, 1e-6)


def test_impossible_levels_are_minus_inf_and_not_visited():
    n = 16
    res = wang_landau(fe.IsingLattice(4, 4), ln_f_final=1e-3, seed=0)
    assert res.energies.tolist() == [-2.0 * n + 4 * k for k in range(n + 1)]
    impossible = [1, n - 1]  # E = -2N + 4 and 2N - 4 cannot occur on the torus
    assert not res.visited[impossible].any() and res.visited.sum() == n - 1
    assert np.all(res.log_g[impossible] == -np.inf)
    assert np.all(res.dos.log_g == res.log_g)


def test_normalisation_total_or_ground_state():
    lat = fe.IsingLattice(4, 4)
    res = wang_landau(lat, ln_f_final=1e-3, seed=1)
    assert res.dos.log_total == pytest.approx(16 * math.log(2.0), abs=1e-12)
    fixed = wang_landau(lat, ln_f_final=1e-3, seed=1, ground_degeneracy=2)
    assert fixed.log_g[0] == pytest.approx(math.log(2.0), abs=1e-12)
    np.testing.assert_allclose(np.diff(fixed.log_g[fixed.visited]), np.diff(res.log_g[res.visited]))


def test_one_over_t_schedule_reaches_final_ln_f():
    res = wang_landau(fe.IsingLattice(4, 4), ln_f_final=1e-5, method="1/t", seed=0)
    assert res.n_sweeps == 100_000  # t = 1 / ln_f_final sweeps
    assert res.ln_f_final == pytest.approx(1e-5)
    halved = res.ln_f_schedule[:-1]
    np.testing.assert_allclose(halved, 0.5 ** np.arange(halved.size))
    assert res.ln_f_schedule[-1] < halved[-1]  # then ln f = 1/t kept falling


def test_standard_schedule_and_diagnostics():
    res = wang_landau(fe.IsingLattice(4, 4), ln_f_final=1e-4, seed=2, check_every=200)
    k = math.ceil(math.log2(1e4))  # stages 1, 1/2, ..., 2^-13 > 1e-4
    np.testing.assert_allclose(res.ln_f_schedule, 0.5 ** np.arange(k))
    assert res.n_iterations == k == res.stage_sweeps.size
    assert np.all(np.diff(res.stage_sweeps) >= 200) and res.stage_sweeps[-1] == res.n_sweeps
    assert res.n_flips == 16 * res.n_sweeps and 0 < res.n_accepted < res.n_flips
    assert res.flatness_history.size >= k and np.all(res.flatness_history <= 1.0)
    assert res.seconds > 0 and res.flips_per_second > 0
    with pytest.raises(AttributeError):
        res.n_flips = 0


def test_same_seed_same_bits_other_seed_differs():
    lat = fe.IsingLattice(4, 4)
    a, b = (wang_landau(lat, ln_f_final=1e-3, seed=7) for _ in range(2))
    assert np.array_equal(a.log_g, b.log_g) and a.n_flips == b.n_flips
    assert np.array_equal(a.flatness_history, b.flatness_history)
    c = wang_landau(lat, ln_f_final=1e-3, seed=8)
    assert not np.array_equal(a.log_g, c.log_g)
    ss = wang_landau(lat, ln_f_final=1e-3, seed=np.random.SeedSequence(7))
    assert np.array_equal(ss.log_g, a.log_g)
    gens = [wang_landau(lat, ln_f_final=1e-3, seed=np.random.default_rng(3)) for _ in range(2)]
    assert np.array_equal(gens[0].log_g, gens[1].log_g)


@pytest.mark.parametrize("periodic", [True, False])
def test_chain_matches_enumeration(periodic):
    chain = fe.IsingChain(10, periodic=periodic)
    # fixed seed; the bound comes from 50+ seeds, all of which pass (module docstring)
    res = wang_landau(chain, ln_f_final=1e-6, method="1/t", seed=0)
    assert max_error(res, *brute_counts(neighbour_table(chain))) < tolerance("1/t", 1e-6)


def test_lattice_in_a_field_matches_enumeration():
    lat = fe.IsingLattice(3, 3, J=1.0, h=0.5)
    # fixed seed; the bound comes from 50+ seeds, all of which pass (module docstring)
    res = wang_landau(lat, ln_f_final=1e-6, method="1/t", seed=1)
    assert max_error(res, *lat.exact_counts()) < tolerance("1/t", 1e-6)


def test_spin_glass_table_matches_enumeration():
    rng = np.random.default_rng(0)
    n = 8
    bonds = [(i, j) for i in range(n) for j in range(i + 1, n)]
    table = NeighbourTable.from_bonds(n, bonds, rng.choice([-1.0, 1.0], size=len(bonds)))
    # fixed seed; the bound comes from 50+ seeds, all of which pass (module docstring)
    res = wang_landau(table, ln_f_final=1e-6, method="1/t", seed=0)
    assert max_error(res, *brute_counts(table)) < tolerance("1/t", 1e-6)


def test_register_a_new_model():
    class Pair:
        n_sites = 2

    @register_neighbour_table(Pair)
    def _pair(_model):
        return NeighbourTable.from_bonds(2, [(0, 1)], 1.0)

    res = wang_landau(Pair(), ln_f_final=1e-3, seed=0)
    np.testing.assert_allclose(np.exp(res.log_g), [2.0, 2.0])


def test_max_sweeps_raises_or_warns():
    lat = fe.IsingLattice(4, 4)
    with pytest.raises(WangLandauError, match="max_sweeps=50") as info:
        wang_landau(lat, max_sweeps=50, check_every=10, seed=0)
    assert not info.value.result.converged and info.value.result.n_sweeps == 50
    with pytest.warns(WangLandauWarning, match="not converged"):
        res = wang_landau(lat, max_sweeps=50, check_every=10, seed=0, quiet=True)
    assert np.array_equal(res.log_g, info.value.result.log_g)


def test_progress_bar_runs(capsys):
    res = wang_landau(fe.IsingLattice(2, 2), ln_f_final=1e-2, seed=0, progress=True)
    assert res.converged
    assert "wang_landau" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ln_f_final": 0.0}, "'ln_f_final' parameter of wang_landau must be a number in"),
        ({"ln_f_final": "small"}, "'ln_f_final' parameter of wang_landau must be a finite real"),
        ({"method": "wl"}, "'method' parameter of wang_landau must be 'standard' or '1/t'"),
        ({"flatness": 1.0}, "'flatness' parameter"),
        ({"ln_f_initial": 1e-9}, "'ln_f_initial' parameter"),
        ({"check_every": 0}, "'check_every' parameter of wang_landau must be an int >= 1. Got 0"),
        ({"max_sweeps": 1.5}, "'max_sweeps' parameter"),
        ({"ground_degeneracy": 0}, "'ground_degeneracy' parameter"),
        ({"bin_width": -1.0}, "'bin_width' parameter"),
        ({"seed": -1}, "'seed' parameter of wang_landau must be None, an int >= 0"),
        ({"seed": "x"}, "'seed' parameter"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        wang_landau(fe.IsingLattice(2, 2), **kwargs)


# ---------------------------------------------------------------------------- independent walks
def test_independent_walks_give_the_mean_and_its_standard_error():
    """With n_walks = 8 the estimate is the mean of the walks' normalised log g, renormalised, and
    log_g_stderr is their std (ddof=1) / sqrt(8), recomputed here from each walk's own result; the
    walks are those of the spawned seeds (a single walk with the first child seed is the first)."""
    lat = fe.IsingLattice(4, 4)
    res = wang_landau(lat, ln_f_final=1e-4, method="1/t", seed=3, n_walks=8, ground_degeneracy=2)
    assert len(res.walks) == 8 and res.converged
    stack = np.array([w.log_g for w in res.walks])
    ok = res.visited
    assert np.array_equal(ok, np.isfinite(stack).all(0))
    mean = stack[:, ok].mean(0)
    np.testing.assert_allclose(res.log_g[ok], mean - mean[0] + math.log(2.0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.log_g_stderr[ok], stack[:, ok].std(0, ddof=1) / math.sqrt(8),
                               rtol=1e-12, atol=0)
    assert res.log_g_stderr[0] == 0.0 and np.isnan(res.log_g_stderr[~ok]).all()
    assert res.n_flips == sum(w.n_flips for w in res.walks)
    first = wang_landau(lat, ln_f_final=1e-4, method="1/t",
                        seed=np.random.SeedSequence(3).spawn(8)[0], ground_degeneracy=2)
    assert np.array_equal(first.log_g, res.walks[0].log_g)
    assert len({w.log_g[ok][3] for w in res.walks}) == 8  # independent, not copies


def test_standard_error_covers_the_exact_counts():
    """The standard error is calibrated on the 6 x 6 torus ("1/t", ln_f_final = 1e-5, 8 walks):
    z = (log g - exact) / stderr at the levels not fixed by the normalisation (Beale's counts).
    Seed policy: seed 100 is the first of seeds 100-123, measured all together: max |z| < 4 for
    24 of 24 (largest 3.75), rms z from 0.45 to 1.98 (median 1.04). With 8 walks z follows a
    t-distribution with 7 degrees of freedom, so an occasional seed reaches |z| ~ 6 (seed 12
    did); the bounds below leave that margin."""
    lat = fe.IsingLattice(6, 6)
    res = wang_landau(lat, ln_f_final=1e-5, method="1/t", seed=100, n_walks=8, ground_degeneracy=2)
    energies, counts = lat.exact_counts()
    exact = dict(zip(np.asarray(energies).tolist(), (math.log(int(c)) for c in counts), strict=True))
    inner = np.flatnonzero(res.visited)[1:]
    z = np.array([(res.log_g[i] - exact[res.energies[i]]) / res.log_g_stderr[i] for i in inner])
    assert np.abs(z).max() < 7
    assert 0.3 < math.sqrt(np.mean(z**2)) < 3


def test_one_walk_has_no_error_estimate_and_n_walks_is_checked():
    res = wang_landau(fe.IsingLattice(2, 2), ln_f_final=1e-3, seed=0)
    assert res.walks == () and np.isnan(res.log_g_stderr).all()
    with pytest.raises(ValueError, match="The 'n_walks' parameter of wang_landau must be an int >= 1"):
        wang_landau(fe.IsingLattice(2, 2), n_walks=0)
