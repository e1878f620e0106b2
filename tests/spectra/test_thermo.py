"""Tests of freeenergy.spectra.thermo against closed forms, inequalities and identities.

References: the two-level (Schottky) system and the harmonic ladder E_n = n (Z = 1 / (1 - e^-beta))
are textbook closed forms (e.g. Kittel & Kroemer, Thermal Physics, ch. 3).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import freeenergy as fe

TEMPS = np.array([0.05, 0.3, 1.0, 2.5, 10.0])


def two_level_closed_form(delta, T):
    b = 1.0 / T
    log_z = np.log1p(np.exp(-b * delta))
    p1 = 1.0 / (np.exp(b * delta) + 1.0)
    u = delta * p1
    c = (b * delta) ** 2 * p1 * (1 - p1)
    return log_z, -T * log_z, u, b * u + log_z, c


@pytest.mark.parametrize("delta", [0.1, 1.0, 7.0])
def test_two_level_matches_closed_form(delta):
    th = fe.thermodynamics([0.0, delta], T=TEMPS)
    log_z, f, u, s, c = two_level_closed_form(delta, TEMPS)
    np.testing.assert_allclose(th.log_z, log_z, rtol=1e-13)
    np.testing.assert_allclose(th.free_energy, f, rtol=1e-13)
    np.testing.assert_allclose(th.energy, u, rtol=1e-12)
    np.testing.assert_allclose(th.entropy, s, rtol=1e-12)
    np.testing.assert_allclose(th.heat_capacity, c, rtol=1e-10)


def test_harmonic_ladder_matches_geometric_series():
    levels = np.arange(4000, dtype=float)  # truncation error exp(-4000 / 10) is far below 1e-16
    T = np.array([0.2, 1.0, 10.0])
    th = fe.thermodynamics(levels, T=T)
    b = 1 / T
    np.testing.assert_allclose(th.log_z, -np.log1p(-np.exp(-b)), rtol=1e-13)
    u = 1.0 / np.expm1(b)
    np.testing.assert_allclose(th.energy, u, rtol=1e-12)
    np.testing.assert_allclose(th.heat_capacity, b**2 * np.exp(b) / np.expm1(b) ** 2, rtol=1e-10)


def test_degenerate_levels_equal_repeated_levels():
    energies = [-2.0, 0.5, 3.0]
    g = np.array([3, 1, 5])
    th_g = fe.thermodynamics(energies, T=TEMPS, log_degeneracy=np.log(g))
    th_rep = fe.thermodynamics(np.repeat(energies, g), T=TEMPS)
    for name in ("log_z", "free_energy", "energy", "entropy", "heat_capacity"):
        np.testing.assert_allclose(getattr(th_g, name), getattr(th_rep, name), rtol=1e-12)


def test_zero_temperature_is_exact():
    th = fe.thermodynamics([-1.0, -1.0, 0.0, 2.0], T=0.0)
    assert th.free_energy[0] == -1.0 and th.energy[0] == -1.0
    assert th.entropy[0] == pytest.approx(np.log(2), abs=0)
    assert th.heat_capacity[0] == 0.0
    assert th.log_z[0] == np.inf
    assert fe.log_partition([0.0, 0.0, 1.0], beta=np.inf) == pytest.approx(np.log(2), abs=0)
    assert fe.log_partition([1.0, 2.0], T=0) == -np.inf


def test_infinite_temperature_is_exact():
    th = fe.thermodynamics([0.0, 1.0, 5.0], T=np.inf, log_degeneracy=np.log([1, 2, 1]))
    assert th.log_z[0] == pytest.approx(np.log(4), rel=1e-15)
    assert th.entropy[0] == pytest.approx(np.log(4), rel=1e-15)
    assert th.energy[0] == pytest.approx((0 + 2 + 5) / 4, rel=1e-15)
    assert th.heat_capacity[0] == 0.0
    assert th.free_energy[0] == -np.inf
    single = fe.thermodynamics([3.0], beta=0.0)
    assert single.free_energy[0] == 3.0


def test_tiny_temperature_approaches_ground_state():
    f = fe.free_energy([0.0, 1e-3, 2.0], T=np.array([1e-300, 1e-6, 1e-4]))
    np.testing.assert_array_equal(f[:2], [0.0, 0.0])
    assert -1e-4 * np.log(2) < f[2] < 0


def test_huge_energies_and_temperatures_are_warning_free():
    # pytest turns every warning into an error (pyproject), so overflow would fail here.
    energies = [-1e300, 1e300, 0.0, np.inf]
    T = np.array([0.0, 1e-300, 1.0, 1e300, np.inf])
    th = fe.thermodynamics(energies, T=T)
    assert not np.isnan(np.column_stack([th.log_z, th.free_energy, th.energy])).any()
    np.testing.assert_array_equal(th.free_energy[:3], -1e300)
    assert np.isfinite(th.free_energy[3]) and th.free_energy[3] < -1e300
    assert np.all(th.heat_capacity >= 0) and np.isfinite(th.heat_capacity).all()


def test_forbidden_states_are_ignored():
    a = fe.thermodynamics([0.0, 1.0, np.inf], T=TEMPS)
    b = fe.thermodynamics([0.0, 1.0], T=TEMPS)
    np.testing.assert_array_equal(a.log_z, b.log_z)


def test_many_levels():
    e = np.linspace(0.0, 10.0, 10**6)
    log_z = fe.log_partition(e, T=1.0)
    # Riemann sum of exp(-E): n / 10 * (1 - e^-10) to leading order
    assert log_z == pytest.approx(np.log(1e5 * (1 - np.exp(-10))), rel=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"energies": [], "T": 1.0}, "'energies'"),
        ({"energies": [0.0, np.nan], "T": 1.0}, "'energies'.*NaN"),
        ({"energies": [0.0, -np.inf], "T": 1.0}, "'energies'"),
        ({"energies": [np.inf], "T": 1.0}, "at least one"),
        ({"energies": [[0.0, 1.0]], "T": 1.0}, "1-D"),
        ({"energies": [0.0], "T": -1.0}, "'T'.*-1.0"),
        ({"energies": [0.0], "T": 1.0, "beta": 1.0}, "exactly one"),
        ({"energies": [0.0]}, "exactly one"),
        ({"energies": [0.0], "beta": [1.0, np.nan]}, "'beta'"),
        ({"energies": [0.0], "T": [[1.0]]}, "'T'"),
        ({"energies": [0.0, 1.0], "T": 1.0, "log_degeneracy": [0.0]}, "shape"),
        ({"energies": [0.0, 1.0], "T": 1.0, "log_degeneracy": [0.0, np.nan]}, "log_degeneracy"),
        ({"energies": "abc", "T": 1.0}, "'energies'"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fe.thermodynamics(**kwargs)


def test_scalar_in_scalar_out():
    assert isinstance(fe.free_energy([0.0, 1.0], T=1.0), float)
    assert fe.free_energy([0.0, 1.0], T=[1.0]).shape == (1,)


spectra = arrays(
    np.float64,
    st.integers(1, 40),
    elements=st.floats(-50, 50, allow_nan=False, allow_infinity=False),
)
temps = st.floats(0.05, 50.0)


@settings(max_examples=60, deadline=None)
@given(spectra, temps)
def test_free_energy_bounds(energies, T):
    """E_0 - T log N <= F <= E_0 and F <= U."""
    th = fe.thermodynamics(energies, T=T)
    e0 = energies.min()
    f = th.free_energy[0]
    tol = 1e-9 * (1 + abs(e0))
    assert e0 - T * np.log(len(energies)) - tol <= f <= e0 + tol
    assert f <= th.energy[0] + tol


@settings(max_examples=60, deadline=None)
@given(spectra, temps, st.floats(-1e3, 1e3))
def test_shift_invariance(energies, T, c):
    """E -> E + c shifts F and U by c and leaves S and C unchanged."""
    a = fe.thermodynamics(energies, T=T)
    b = fe.thermodynamics(energies + c, T=T)
    scale = 1e-9 * (1 + abs(c) + np.abs(energies).max())
    assert b.free_energy[0] - a.free_energy[0] == pytest.approx(c, abs=scale)
    assert b.energy[0] - a.energy[0] == pytest.approx(c, abs=scale)
    assert b.entropy[0] == pytest.approx(a.entropy[0], abs=1e-7)
    assert b.heat_capacity[0] == pytest.approx(a.heat_capacity[0], abs=1e-7)


def canonical_cumulants(energies, T):
    """Second to fourth cumulants of x = E / T under the Boltzmann weights (NumPy, max-shifted)."""
    x = energies / T
    p = np.exp(x.min() - x)
    p /= p.sum()
    d = x - p @ x
    k2 = p @ d**2
    return k2, p @ d**3, p @ d**4 - 3 * k2**2


@settings(max_examples=40, deadline=None)
@given(spectra, st.floats(0.2, 20.0))
def test_derivatives_by_finite_differences(energies, T):
    """dF/dT = -S and dU/dT = C by central differences with step h = 1e-5 T.

    Error budget of (f(T + h) - f(T - h)) / 2h: truncation h^2 |f'''| / 6 plus rounding
    eps |f| / h. The cumulants of E obey d kappa_n / dT = kappa_(n+1) / T^2; in terms of those of
    E / T, k_n = kappa_n / T^n, h^2 F''' = 1e-10 (3 k2 - k3) and h^2 U''' = h^2 C'' =
    1e-10 (6 k2 - 6 k3 + k4). Over 20,000 random spectra (1-40 levels in [-50, 50], T in
    [0.2, 20]) the error was at most 1.7 times this budget (1.6e-9 at most in absolute terms);
    we allow 10 times, which stays below 1.2e-7 here: S or C off by 1e-5, or a wrong sign or
    power of T, fails.
    """
    h = 1e-5 * T
    th = fe.thermodynamics(energies, T=[T - h, T, T + h])
    two_h = th.T[2] - th.T[0]
    df = (th.free_energy[2] - th.free_energy[0]) / two_h
    du = (th.energy[2] - th.energy[0]) / two_h
    k2, k3, k4 = canonical_cumulants(energies, T)
    eps, e0 = np.finfo(float).eps, abs(energies.min())
    tol_f = 10 * (1e-10 / 6 * abs(3 * k2 - k3) + eps * (e0 + abs(th.free_energy[1])) / h)
    tol_u = 10 * (1e-10 / 6 * abs(6 * k2 - 6 * k3 + k4) + eps * (e0 + abs(th.energy[1])) / h)
    assert abs(df + th.entropy[1]) <= tol_f
    assert abs(du - th.heat_capacity[1]) <= tol_u


def test_per_site_divides_extensive_quantities():
    th = fe.thermodynamics([0.0, 1.0, 2.0], T=[0.5, 1.0])
    ps = th.per_site(4)
    np.testing.assert_array_equal(ps.free_energy, th.free_energy / 4)
    np.testing.assert_array_equal(ps.T, th.T)
    with pytest.raises(ValueError, match="n_sites"):
        th.per_site(0)


def test_ten_million_levels_extreme_temperatures():
    """1e7 levels, T from 1e-300 to 1e300: finite, warning-free, ordered F <= U."""
    rng = np.random.default_rng(1)
    energies = rng.uniform(-1e300, 1e300, size=10**7)
    T = np.array([1e-300, 1.0, 1e300, 1e305])
    th = fe.thermodynamics(energies, T=T)
    e0 = energies.min()
    np.testing.assert_array_equal(th.free_energy[:2], e0)
    assert np.all(np.isfinite(th.free_energy[:3]))
    assert np.all(th.free_energy <= th.energy)
    # At T = 1e305 every level has beta E ~ 1e-5: S is log N to within beta^2 Var(E).
    assert th.entropy[3] == pytest.approx(np.log(10**7), abs=1e-8)
