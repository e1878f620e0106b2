"""Tests of freeenergy.systems.chain: IsingChain against enumeration and the transfer matrix.

Reference: Z = lambda_+^N + lambda_-^N from the 2x2 transfer matrix (Baxter, *Exactly Solved Models
in Statistical Mechanics*, 1982, ch. 2); brute-force enumeration of all 2^N states.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import freeenergy as fe

FIELDS = ("log_z", "free_energy", "energy", "entropy", "heat_capacity")


def assert_thermo_close(a, b, rtol=1e-11, atol=1e-11):
    for name in FIELDS:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=atol)


def ring_closed_form(n, J, h, T):
    """log(lambda_+^n + lambda_-^n), the 2x2 transfer-matrix eigenvalues (Baxter ch. 2)."""
    K, H = J / T, h / T
    root = np.sqrt(np.exp(2 * K) * np.sinh(H) ** 2 + np.exp(-2 * K))
    lp, lm = np.exp(K) * np.cosh(H) + root, np.exp(K) * np.cosh(H) - root
    return np.log(lp**n + lm**n)


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("J, h", [(1.0, 0.0), (-0.7, 0.0), (1.0, 0.3), (-1.0, 1.2), (0.5, -2.0)])
@pytest.mark.parametrize("n", [2, 3, 7, 10])
def test_chain_matches_enumeration(n, J, h, periodic):
    chain = fe.IsingChain(n, J=J, h=h, periodic=periodic)
    energies = chain.enumerate_energies()
    temps = np.array([0.0, 0.05, 0.5, 1.0, 3.0, np.inf])
    assert_thermo_close(chain.thermodynamics(T=temps), fe.thermodynamics(energies, T=temps))
    assert chain.ground_state_energy == energies.min()
    assert chain.ground_state_degeneracy == int(np.sum(energies == energies.min()))


@pytest.mark.parametrize("J, h", [(1.0, 0.0), (-0.8, 0.0), (0.6, 0.4), (-1.0, 0.5)])
@pytest.mark.parametrize("n", [3, 11, 50])
def test_chain_ring_matches_eigenvalues(n, J, h):
    temps = np.array([0.5, 1.0, 2.0, 5.0])
    np.testing.assert_allclose(
        fe.IsingChain(n, J=J, h=h).log_partition(T=temps),
        ring_closed_form(n, J, h, temps),
        rtol=1e-12,
    )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 9),
    J=st.floats(-3, 3),
    h=st.floats(-3, 3),
    periodic=st.booleans(),
    T=st.floats(0.02, 50),
)
def test_chain_property_matches_enumeration(n, J, h, periodic, T):
    chain = fe.IsingChain(n, J=J, h=h, periodic=periodic)
    energies = chain.enumerate_energies()
    assert_thermo_close(chain.thermodynamics(T=[T]), fe.thermodynamics(energies, T=[T]), 1e-10)


def test_chain_zero_and_infinite_temperature():
    assert fe.IsingChain(9, J=-1.0).ground_state_degeneracy == 18  # one defect, 9 places x 2
    assert fe.IsingChain(10, J=-1.0).ground_state_degeneracy == 2
    odd = fe.IsingChain(9, J=-1.0)
    assert odd.ground_state_energy == -7.0
    th = odd.thermodynamics(T=0.0)
    assert th.free_energy[0] == -7.0 and th.entropy[0] == pytest.approx(math.log(18))
    assert odd.log_partition(T=0.0) == np.inf
    assert fe.IsingChain(8, J=0.0).log_partition(T=0.0) == pytest.approx(8 * math.log(2))
    assert fe.IsingChain(8, J=0.0).free_energy(T=0.0) == 0.0
    chain = fe.IsingChain(12, J=0.3, h=0.7, periodic=False)
    assert chain.log_partition(T=np.inf) == pytest.approx(12 * math.log(2), rel=1e-15)
    assert chain.free_energy(T=np.inf) == -np.inf
    assert chain.log_partition(T=np.inf, per_site=True) == pytest.approx(math.log(2))


def test_chain_long_and_cold():
    # Thermodynamic limit of the ring: log Z / n -> log(2 cosh K) (h = 0).
    chain = fe.IsingChain(10**6, J=1.0)
    assert chain.log_partition(T=1.0, per_site=True) == pytest.approx(math.log(2 * math.cosh(1.0)), rel=1e-13)
    # Frustrated odd ring at very low T: S -> log(2n), no cancellation in 1 - tanh^n.
    odd = fe.IsingChain(7, J=-1.0)
    th = odd.thermodynamics(T=[1e-3, 1e-250])
    np.testing.assert_allclose(th.entropy, math.log(14), rtol=1e-12)
    np.testing.assert_allclose(th.free_energy, -5.0 - np.array([1e-3, 1e-250]) * math.log(14))
