"""Tests of freeenergy.systems.beale: exact bond counts (IsingLattice.exact_counts) and the density of
states and thermodynamics built on them.

References:
- Exact density of states of the finite torus: P. D. Beale, Phys. Rev. Lett. 76, 78 (1996);
  brute-force enumeration of all 2^N states and Kaufman's log Z (Phys. Rev. 76, 1232 (1949)) check it.
- Heat-capacity peak of the 32 x 32 torus (its finite-size shift from T_c: Ferdinand & Fisher,
  Phys. Rev. 185, 832 (1969)): T = 2.293930, C/N = 1.904506, derived here from Kaufman's
  formula written out in mpmath and differentiated numerically.
"""

import math

import mpmath
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import freeenergy as fe
from freeenergy.systems import _enumerate
from freeenergy.systems.beale import bond_counts


@pytest.mark.parametrize(
    "rows, cols", [(2, 2), (3, 3), (4, 4), (5, 5), (2, 3), (3, 4), (4, 3), (2, 5), (4, 5)]
)
def test_bond_counts_match_enumeration(rows, cols):
    n = rows * cols
    counter = lambda x: _enumerate.lattice_counts(x, rows, cols)  # noqa: E731
    hist = _enumerate.histogram(counter, n, 2 * n).sum(axis=1)
    assert hist[1::2].sum() == 0  # only even numbers of unsatisfied bonds
    assert bond_counts(rows, cols) == [int(c) for c in hist[0::2]]


def test_exact_counts_properties():
    energies, counts = fe.IsingLattice(16, 16).exact_counts()
    assert sum(counts) == 2**256
    assert counts == counts[::-1]  # bipartite: k <-> 2N - k
    assert counts[:3] == [2, 2 * 256, 4 * 256]  # ground, one flip, two adjacent flips
    assert energies[:3].tolist() == [-512.0, -504.0, -500.0]  # E = -J (2N - 2k), k = 0, 4, 6
    # Odd sides: no symmetry, but still exact and complete.
    odd = fe.IsingLattice(5, 7).exact_counts()[1]
    assert sum(odd) == 2**35 and odd[0] == 2


@pytest.fixture(scope="module")
def lattice32():
    lat = fe.IsingLattice(32, 32)
    lat.density_of_states()  # ~0.5 s, cached on the instance
    return lat


@pytest.mark.parametrize("size", [16, 32])
def test_dos_thermodynamics_match_kaufman(size, lattice32):
    lat = lattice32 if size == 32 else fe.IsingLattice(size, size)
    temps = np.linspace(0.2, 8.0, 50)
    np.testing.assert_allclose(
        lat.density_of_states().log_partition(T=temps), lat.log_partition(T=temps), rtol=1e-10
    )
    th = lat.thermodynamics(T=temps, per_site=True)
    np.testing.assert_allclose(th.log_z, lat.log_partition(T=temps, per_site=True), rtol=1e-10)


@pytest.mark.slow
def test_dos_64_matches_kaufman():
    lat = fe.IsingLattice(64, 64)  # ~25 s on 2 cores
    temps = np.linspace(0.5, 6.0, 30)
    np.testing.assert_allclose(
        lat.density_of_states().log_partition(T=temps), lat.log_partition(T=temps), rtol=1e-10
    )
    assert sum(lat.exact_counts()[1]) == 2**4096


def kaufman_log_z_mp(m, n, beta):
    """log Z of the periodic m x n torus (J = 1) by Kaufman's formula, in mpmath.

    Kaufman, Phys. Rev. 76, 1232 (1949): Z = 1/2 (2 sinh 2K)^(mn/2) (Z1 + Z2 + Z3 + Z4) with
    Z1, Z2 = prod_{l odd} 2 cosh, 2 sinh (m gamma_l / 2), Z3, Z4 the same over even l < 2n,
    cosh gamma_l = cosh 2K coth 2K - cos(pi l / n) and gamma_0 = 2K + log tanh K (signed).
    """
    K = mpmath.mpf(beta)
    c = mpmath.cosh(2 * K) / mpmath.tanh(2 * K)
    gam = [mpmath.acosh(c - mpmath.cos(mpmath.pi * k / n)) for k in range(2 * n)]
    gam[0] = 2 * K + mpmath.log(mpmath.tanh(K))
    odd, even = [m * g / 2 for g in gam[1::2]], [m * g / 2 for g in gam[0::2]]
    terms = [mpmath.fprod(2 * f(g) for g in half) for half in (odd, even) for f in (mpmath.cosh, mpmath.sinh)]
    return mpmath.log(mpmath.fsum(terms) / 2) + m * n / 2 * mpmath.log(2 * mpmath.sinh(2 * K))


def kaufman_heat_capacity_per_site(T, size=32):
    """C / N = beta^2 d^2 log Z / d beta^2 / N by the 5-point stencil (h = 1e-6) at 30 digits.

    Truncation h^4 f^(6) / 90 and rounding ~1e-30 |log Z| / h^2 are far below 1e-12 in C / N.
    """
    with mpmath.workdps(30):
        b, h = 1 / mpmath.mpf(T), mpmath.mpf("1e-6")
        f = [kaufman_log_z_mp(size, size, b + k * h) for k in (-2, -1, 0, 1, 2)]
        d2 = (-f[0] + 16 * f[1] - 30 * f[2] + 16 * f[3] - f[4]) / (12 * h**2)
        return float(b**2 * d2 / size**2)


def heat_capacity_peak(c_of_t):
    """(T, C) at the maximum of c_of_t on [2.2, 2.4]."""
    res = minimize_scalar(lambda t: -c_of_t(t), bounds=(2.2, 2.4), method="bounded", options={"xatol": 1e-8})
    return res.x, -res.fun


def test_heat_capacity_peak_32(lattice32):
    """Peak of C(T) of the 32 x 32 torus against Kaufman's Z differentiated in mpmath.

    The reference peak (T = 2.2939297, C/N = 1.9045061) is the value the README and the tour
    quote. Measured: the library's peak T agrees to 3e-9 (the optimiser's xatol) and its C/N
    at the reference peak to 1e-14.
    """
    ref_t, ref_c = heat_capacity_peak(kaufman_heat_capacity_per_site)
    assert ref_t == pytest.approx(2.293930, abs=5e-7) and ref_c == pytest.approx(1.904506, abs=5e-7)
    lib_t, _ = heat_capacity_peak(lambda t: lattice32.thermodynamics(T=t, per_site=True).heat_capacity[0])
    assert lib_t == pytest.approx(ref_t, abs=1e-6)
    lib_c = lattice32.thermodynamics(T=ref_t, per_site=True).heat_capacity[0]
    assert lib_c == pytest.approx(ref_c, rel=1e-10)


def test_thermodynamics_zero_temperature(lattice32):
    th = lattice32.thermodynamics(T=[0.0, np.inf], per_site=True)
    assert th.free_energy[0] == -2.0 and th.energy[0] == -2.0
    assert th.entropy[0] == pytest.approx(math.log(2) / 1024)
    assert th.heat_capacity.tolist() == [0.0, 0.0]
    assert th.entropy[1] == pytest.approx(math.log(2))
