"""Entropy <-> free energy (freeenergy.spectra.ensembles) and ensemble inequivalence.

References: Touchette, "The large deviation approach to statistical mechanics", Phys. Rep. 478
(2009), section 5 (S** = concave hull, inequivalence where S is not concave); Beale, PRL 76,
78 (1996), for the exact 32 x 32 Ising density of states.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import logsumexp

import freeenergy as fe
from freeenergy.spectra.ensembles import (
    ensemble_inequivalence,
    entropy_from_free_energy,
    free_energy_from_entropy,
    saddle_point_gap,
)
from freeenergy.spectra.legendre import concave_envelope

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


@pytest.fixture(scope="module")
def lattice32():
    """The 32 x 32 torus; its exact counts (Beale's method, ~1 s) are cached on the instance."""
    return fe.IsingLattice(32, 32)


@pytest.fixture(scope="module")
def ising32(lattice32):
    return lattice32.density_of_states()


@st.composite
def spectra(draw):
    n = draw(st.integers(1, 30))
    e = np.unique(draw(arrays(np.float64, n, elements=st.integers(-500, 500).map(lambda k: k / 8))))
    s = draw(arrays(np.float64, e.size, elements=st.floats(0.0, 50.0)))
    return e, s


# ----------------------------------------------------------------------------- F from S


def test_free_energy_matches_minimum():
    e = np.array([3.0, -1.0, 0.0, 2.0])  # any order
    s = np.array([4.0, 0.0, np.log(5.0), -np.inf])
    T = np.array([0.0, 0.3, 1.0, 7.0])
    want = [min(ei - t * si for ei, si in zip(e, s, strict=True) if si > -np.inf) for t in T]
    np.testing.assert_allclose(free_energy_from_entropy(e, s, T=T), want, rtol=1e-15)
    assert free_energy_from_entropy(e, s, T=0.0) == -1.0  # ground-state energy
    assert free_energy_from_entropy(e, s, beta=np.inf) == -1.0
    assert free_energy_from_entropy(e, s, beta=0.0) == -np.inf  # T = inf, max S > 0
    assert free_energy_from_entropy([1.0, 2.0], [0.0, -1.0], beta=0.0) == 1.0


@settings(max_examples=60, deadline=None)
@given(spectra(), st.floats(0.01, 100.0))
def test_saddle_bounds_exact(spec, T):
    e, s = spec
    exact = fe.free_energy(e, T=T, log_degeneracy=s)
    saddle = free_energy_from_entropy(e, s, T=T)
    tol = 1e-12 * (1.0 + abs(exact) + T * 50)
    assert exact - tol <= saddle <= exact + T * math.log(e.size) + tol


# ----------------------------------------------------------------------------- S from F


def test_entropy_round_trip_gives_concave_hull():
    rng = np.random.default_rng(3)
    e = np.arange(40.0)
    s = 5.0 * np.sin(e / 6.0) + rng.uniform(0.0, 2.0, e.size)  # not concave
    env = concave_envelope(e, s)
    v = env.vertices
    hull_betas = np.diff(s[v]) / np.diff(e[v])
    beta = np.unique(np.concatenate([hull_betas, np.linspace(-3.0, 3.0, 50)]))
    beta_f = np.array([np.min(b * e - s) for b in beta])  # negative beta allowed here
    curve = entropy_from_free_energy(beta, beta_f, energies=e)
    np.testing.assert_allclose(curve.entropy, env.values, rtol=0, atol=1e-12)
    assert np.all(curve.entropy >= s - 1e-12)  # S <= S**
    np.testing.assert_array_equal(curve.energies, e)


def test_entropy_from_exact_free_energy_two_levels():
    beta = np.linspace(-20.0, 20.0, 4001)
    beta_f = -np.logaddexp(0.0, -beta)  # levels 0 and 1, g = 1
    curve = entropy_from_free_energy(beta, beta_f)
    assert np.all(np.diff(curve.energies) > 0)
    inside = (curve.energies > 0.01) & (curve.energies < 0.99)
    u = curve.energies[inside]
    binary = -(u * np.log(u) + (1 - u) * np.log1p(-u))  # canonical entropy of the two levels
    np.testing.assert_allclose(curve.entropy[inside], binary, atol=2e-4)
    np.testing.assert_allclose(curve.beta[inside], np.log((1 - u) / u), atol=2e-2)


# ----------------------------------------------------------------------------- inequivalence


def test_ising32_inequivalent_levels(ising32):
    res = ensemble_inequivalence(ising32)
    k = np.round((res.energies + 2048.0) / 4.0).astype(int)
    want = [*range(3, 26, 2), *range(999, 1022, 2)]
    assert k.tolist() == want
    assert np.round((res.empty_energies + 2048.0) / 4.0).astype(int).tolist() == [1, 1023]
    assert res.spacing == 4.0 and not res.equivalent
    assert np.all(res.gap > 1e-3)  # far above the 1e-12 * 706 tolerance
    np.testing.assert_array_equal(ising32.energies[res.indices], res.energies)
    # Each inequivalent level sits under a hull edge of width 8: a tiny first-order "transition".
    assert res.transitions.shape == (26, 3)
    assert np.all(res.transitions[:, 1] - res.transitions[:, 0] == 8.0)


def test_concave_entropy_is_equivalent():
    n = 60
    k = np.arange(n + 1)
    log_binom = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in k]
    res = ensemble_inequivalence(fe.DensityOfStates(2.0 * k, log_binom))
    assert res.equivalent and res.transitions.shape == (0, 3)


def test_spacing_options():
    dos = fe.DensityOfStates([0.0, 1.0, 3.0], [0.0, 1.0, 1.5])
    assert ensemble_inequivalence(dos).empty_energies.tolist() == [2.0]
    assert ensemble_inequivalence(dos, spacing=None).equivalent
    assert ensemble_inequivalence(dos, spacing=0.5).empty_energies.tolist() == [0.5, 1.5, 2.0, 2.5]
    listed = fe.DensityOfStates([0.0, 1.0, 2.0], [0.0, -np.inf, 0.0])
    assert ensemble_inequivalence(listed, spacing=None).empty_energies.tolist() == [1.0]
    irregular = fe.DensityOfStates([0.0, 1.0, 2.5], [0.0, 1.0, 0.0])
    assert ensemble_inequivalence(irregular).spacing is None


# ----------------------------------------------------------------------------- saddle gap


def test_ising32_saddle_gap_at_tc(lattice32):
    """Saddle-point minus exact free energy of the 32 x 32 torus at T_c, summed here in NumPy.

    From Beale's exact integer counts g(E) (PRL 76, 78 (1996); checked against enumeration and
    Kaufman in tests/systems/test_ising.py): the Legendre-Fenchel transform of S = log g at beta,
    log Z_saddle = max_E [S(E) - beta E], by a direct max over the levels, and the exact
    log Z = log sum_E exp(S(E) - beta E) by logsumexp. Their difference is 0.0040517 nats per
    spin (0.0091941 in F = -T log Z), the value quoted in the README and the tour.
    """
    energies, counts = lattice32.exact_counts()
    n = lattice32.n_sites
    x = np.array([math.log(g) for g in counts]) - energies / T_C
    saddle, exact = x.max(), logsumexp(x)
    assert (exact - saddle) / n == pytest.approx(0.0040517, abs=5e-8)
    assert T_C * (exact - saddle) / n == pytest.approx(0.0091941, abs=5e-8)
    res = saddle_point_gap(lattice32.density_of_states(), T=T_C)
    # measured agreement 2e-14 in total; logsumexp of terms up to ~1e3 rounds at ~1e-13
    assert res.log_z_gap[0] == pytest.approx(exact - saddle, abs=1e-11)
    assert res.gap[0] == pytest.approx(T_C * (exact - saddle), abs=1e-11)
    assert res.saddle[0] == pytest.approx(-T_C * saddle, rel=1e-14)
    assert res.exact[0] == pytest.approx(-T_C * exact, rel=1e-14)
    assert 0 < res.gap[0] <= T_C * math.log(len(counts))


def test_saddle_gap_limits():
    dos = fe.DensityOfStates([0.0, 1.0, 2.0], [0.0, 2.0, 1.0])
    res = saddle_point_gap(dos, beta=[np.inf, 1.0])
    assert res.gap[0] == 0.0 and res.log_z_gap[0] == 0.0
    assert res.exact[0] == res.saddle[0] == 0.0
    with pytest.raises(ValueError, match="'T' parameter of saddle_point_gap"):
        saddle_point_gap(dos, T=np.inf)


# ----------------------------------------------------------------------------- validation


def test_validation():
    dos = fe.DensityOfStates([0.0, 1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="'dos' parameter of ensemble_inequivalence"):
        ensemble_inequivalence(([0.0], [0.0]))
    with pytest.raises(ValueError, match="'spacing'"):
        ensemble_inequivalence(dos, spacing=-1.0)
    with pytest.raises(ValueError, match="'rtol'"):
        ensemble_inequivalence(dos, rtol=np.nan)
    with pytest.raises(ValueError, match=r"'energies' parameter of free_energy_from_entropy .* distinct"):
        free_energy_from_entropy([0.0, 0.0], [0.0, 0.0], T=1.0)
    with pytest.raises(ValueError, match="exactly one of 'T'"):
        free_energy_from_entropy([0.0], [0.0])
    with pytest.raises(ValueError, match=r"'beta' parameter of entropy_from_free_energy .* increasing"):
        entropy_from_free_energy([1.0, 0.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"'beta_f' .* finite"):
        entropy_from_free_energy([0.0, 1.0], [0.0, np.inf])
    with pytest.raises(ValueError, match="'energies' parameter of entropy_from_free_energy"):
        entropy_from_free_energy([0.0, 1.0], [0.0, 0.0], energies=[[1.0]])
