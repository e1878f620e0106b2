"""Tests of freeenergy.systems.kaufman: Kaufman's log Z of the finite torus, Onsager's infinite-lattice
free energy and the critical temperature.

References:
- Brute-force enumeration of all 2^N states is the ground truth for small systems.
- Finite torus: B. Kaufman, Phys. Rev. 76, 1232 (1949).
- Infinite lattice: L. Onsager, Phys. Rev. 65, 117 (1944); at T_c,
  f = -T_c (log 2 / 2 + 2 G / pi) = -2.109651144... with Catalan's constant G.
"""

import math

import numpy as np
import pytest

import freeenergy as fe

TC = fe.critical_temperature()
CATALAN = 0.915965594177219015054603514932384110774
TEMPS = np.array([0.3, 1.0, 2.0, TC, 2.5, 4.0, 20.0])


# ---------------------------------------------------------------------------- Kaufman (torus)


@pytest.mark.parametrize(
    "rows, cols", [(2, 2), (3, 3), (4, 4), (2, 3), (3, 2), (3, 4), (4, 2), (2, 5), (5, 3)]
)
def test_kaufman_matches_enumeration(rows, cols):
    lat = fe.IsingLattice(rows, cols)
    exact = fe.log_partition(lat.enumerate_energies(), T=TEMPS)
    np.testing.assert_allclose(lat.log_partition(T=TEMPS), exact, rtol=1e-12)
    # The torus is symmetric under transposition; Kaufman's formula is not manifestly so.
    np.testing.assert_allclose(fe.IsingLattice(cols, rows).log_partition(T=TEMPS), exact, rtol=1e-12)


def test_kaufman_limits_and_per_site():
    lat = fe.IsingLattice(6, 4, J=0.5)
    n = lat.n_sites
    assert lat.log_partition(T=np.inf) == pytest.approx(n * math.log(2), rel=1e-15)
    assert lat.log_partition(T=0.0) == np.inf
    assert lat.free_energy(T=0.0) == -2 * n * 0.5
    assert lat.free_energy(T=0.0, per_site=True) == -1.0
    assert lat.free_energy(T=np.inf) == -np.inf
    # Very low T: no overflow, and log Z = 2 N K + log 2 (next level is e^{-8K} away).
    for T in (1e-3, 1e-200):
        assert lat.log_partition(T=T) == pytest.approx(2 * n * 0.5 / T + math.log(2), rel=1e-15)
    assert lat.log_partition(T=TC, per_site=True) == pytest.approx(lat.log_partition(T=TC) / n)
    np.testing.assert_allclose(lat.free_energy(T=TEMPS), -TEMPS * lat.log_partition(T=TEMPS))


def test_kaufman_antiferromagnet_and_frustration():
    # Bipartite torus: Z(J) = Z(-J) by flipping one sublattice.
    np.testing.assert_allclose(
        fe.IsingLattice(4, 6, J=-1.0).log_partition(T=TEMPS),
        fe.IsingLattice(4, 6).log_partition(T=TEMPS),
        rtol=1e-14,
    )
    # Frustrated (odd side): exact through the density of states instead.
    lat = fe.IsingLattice(3, 4, J=-1.0)
    energies = lat.enumerate_energies()
    np.testing.assert_allclose(lat.log_partition(T=TEMPS), fe.log_partition(energies, T=TEMPS))
    assert lat.ground_state_energy == energies.min()
    assert lat.free_energy(T=0.0) == energies.min()


def test_kaufman_approaches_onsager():
    temps = np.array([1.5, 2.0, TC, 2.5, 3.5])
    errors = []
    for size in (8, 16, 64, 256):
        f = -temps * fe.IsingLattice(size, size).log_partition(T=temps, per_site=True)
        errors.append(np.abs(f - fe.onsager_free_energy(temps)))
    errors = np.array(errors)
    assert np.all(np.diff(errors, axis=0) <= 1e-14)
    assert errors[-1].max() < 3e-5


def test_256_lattice_near_tc():
    lat = fe.IsingLattice(256, 256)
    temps = np.array([TC - 1e-3, TC, TC + 1e-9, TC + 1e-3])
    log_z = lat.log_partition(T=temps, per_site=True)
    assert np.all(np.isfinite(log_z))
    np.testing.assert_allclose(log_z, -fe.onsager_free_energy(temps) / temps, atol=1e-4)


# ---------------------------------------------------------------------------- Onsager


def test_onsager_reference_values():
    closed = -TC * (math.log(2) / 2 + 2 * CATALAN / math.pi)
    assert fe.onsager_free_energy(TC) == pytest.approx(closed, rel=1e-12)
    assert fe.onsager_free_energy(TC) == pytest.approx(-2.109651144, abs=1e-9)
    assert fe.onsager_free_energy(0.0) == -2.0
    assert fe.onsager_free_energy(0.05) == pytest.approx(-2.0, abs=1e-12)
    assert fe.onsager_free_energy(np.inf) == -np.inf
    assert fe.onsager_free_energy(beta=1 / TC, J=-1.0) == pytest.approx(closed, rel=1e-12)
    assert fe.onsager_free_energy(2 * TC, J=2.0) == pytest.approx(2 * closed, rel=1e-12)
    out = fe.onsager_free_energy([1.0, TC, 3.0])
    assert out.shape == (3,) and np.all(np.diff(out) < 0)
    assert TC == pytest.approx(2.269185314213022)
