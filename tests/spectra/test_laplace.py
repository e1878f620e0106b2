"""Tests for freeenergy.spectra.laplace: Laplace transform of a density of states and its inverse.

References: ``int_0^inf E^(a-1) / Gamma(a) exp(-beta E) dE = beta^-a`` (any table of Laplace
transforms); the exact 4 x 4 Ising density of states (Beale, PRL 76, 78 (1996)), checked against
enumeration in tests/models; de Hoog, Knight & Stokes, SIAM J. Sci. Stat. Comput. 3, 357 (1982);
Abate & Valko, Int. J. Numer. Meth. Eng. 60, 979 (2004) for fixed Talbot.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import freeenergy as fe
from freeenergy.spectra.laplace import (
    METHODS,
    InverseLaplaceWarning,
    dos_log_z_fn,
    inverse_laplace,
    laplace,
)

# ---------------------------------------------------------------- helpers


def power_law(a):
    """log Z of Omega(E) = E^(a-1) / Gamma(a), E > 0: Z = beta^-a."""
    return lambda beta: -a * mpmath.log(beta)


def power_law_omega(a, e):
    return float(mpmath.mpf(e) ** (a - 1) / mpmath.gamma(a))


def ising_levels():
    """4 x 4 periodic Ising (J = 1): energies shifted to E_0 = 0 (ints) and exact counts."""
    energies, counts = fe.IsingLattice(4, 4).exact_counts()
    return [round(e - energies[0]) for e in energies], counts


def exact_log_z(levels, counts):
    """log sum_i g_i exp(-beta E_i) summed in mpmath, from the exact integers."""
    return lambda beta: mpmath.log(
        mpmath.fsum(g * mpmath.exp(-beta * e) for e, g in zip(levels, counts, strict=True))
    )


def midpoints(levels):
    """Energies midway between consecutive levels, plus one past the top level."""
    return np.r_[(np.array(levels[:-1]) + levels[1:]) / 2, levels[-1] + 2]


# ---------------------------------------------------------------- forward transform


def test_laplace_is_log_partition_of_the_dos():
    dos = fe.DensityOfStates([-1.0, 0.5, 2.0], np.log([2.0, 3.0, 1.0]))
    beta = np.array([0.0, 0.3, 1.7, np.inf])
    np.testing.assert_array_equal(laplace(dos, beta=beta), dos.log_partition(beta=beta))
    assert laplace(dos, T=0.0) == dos.log_partition(T=0.0)  # exact at T = 0: -beta E0 + log g0
    z = laplace(dos, beta=0.7, log=False)
    assert isinstance(z, float)
    assert z == pytest.approx(2 * math.exp(0.7) + 3 * math.exp(-0.35) + math.exp(-1.4), rel=1e-14)


def test_laplace_without_log_overflows_to_inf_not_an_error():
    dos = fe.DensityOfStates([-1000.0, 0.0], [0.0, 0.0])
    z = laplace(dos, beta=np.array([0.5, 1.0]), log=False)
    assert z[0] == pytest.approx(math.exp(500.0), rel=1e-12)
    assert z[1] == np.inf
    assert laplace(dos, beta=1.0) == pytest.approx(1000.0)


def test_laplace_rejects_bad_input():
    with pytest.raises(TypeError, match="'dos' parameter of laplace"):
        laplace([1.0, 2.0], beta=1.0)
    dos = fe.DensityOfStates([0.0], [0.0])
    with pytest.raises(ValueError, match="'log' parameter of laplace"):
        laplace(dos, beta=1.0, log="yes")
    with pytest.raises(ValueError, match="exactly one of 'T'"):
        laplace(dos)


# ---------------------------------------------------------------- beta^-a <-> E^(a-1)/Gamma(a)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("a", [1.0, 2.0, 3.5, 7.0, 12.0])
def test_power_law_recovered_to_1e10(method, a):
    energies = [0.05, 1.0, 7.5, 60.0]
    res = inverse_laplace(power_law(a), energies, method=method)  # any warning fails the test
    exact = np.array([power_law_omega(a, e) for e in energies])
    np.testing.assert_allclose(res.values, exact, rtol=1e-10)
    np.testing.assert_allclose(res.log_values, np.log(exact), rtol=0, atol=1e-10)
    assert res.ok.all() and res.problems == ()
    assert np.all(res.errors <= 1e-10 * exact)
    assert np.all(res.atom_fraction < 1e-2)  # a smooth density: no discrete level
    assert (res.quantity, res.method, res.dps, res.check_dps) == ("density", method, 30, 38)


@settings(max_examples=15, deadline=None)
@given(
    a=st.floats(min_value=0.5, max_value=20.0),
    e=st.floats(min_value=1e-3, max_value=1e3),
)
def test_power_law_talbot_property(a, e):
    res = inverse_laplace(power_law(a), e, method="talbot", check=False)
    assert res.values[0] == pytest.approx(power_law_omega(a, e), rel=1e-10)


@pytest.mark.parametrize("method", ["talbot", "dehoog"])
def test_power_law_cumulative_count(method):
    # N(E) = int_0^E t^(a-1)/Gamma(a) dt = E^a / Gamma(a + 1), the inverse of beta^-(a+1)
    a, energies = 3.0, [0.5, 2.0, 11.0]
    res = inverse_laplace(power_law(a), energies, method=method, cumulative=True)
    exact = [e**a / math.gamma(a + 1) for e in energies]
    np.testing.assert_allclose(res.values, exact, rtol=1e-10)
    assert res.quantity == "cumulative"
    # the Legendre-Fenchel value min_beta [beta E + log Z] bounds log N(E) from above
    assert np.all(res.saddle_entropy >= np.log(exact))


def test_saddle_point_is_the_legendre_fenchel_transform():
    # min_beta [beta E - a log beta] = a + a log(E / a), attained at beta = a / E
    a, energies = 5.0, np.array([0.1, 1.0, 20.0])
    res = inverse_laplace(power_law(a), energies, method="talbot", check=False)
    # grid step 0.07 in log beta: the minimum on the grid is within a * 0.036^2 / 2 of the true one
    np.testing.assert_allclose(res.saddle_entropy, a + a * np.log(energies / a), atol=5e-3)
    assert np.all(res.saddle_entropy >= a + a * np.log(energies / a))
    np.testing.assert_allclose(res.saddle_beta, a / energies, rtol=0.04)  # half a grid step
    # with the Gaussian correction it is Stirling's approximation to the exact log Omega
    # (1 / (12 a) = 0.017), here up to the grid's error in beta (2 log 1.037 = 0.07)
    corrected = res.saddle_entropy - 0.5 * np.log(2 * np.pi * a / res.saddle_beta**2)
    np.testing.assert_allclose(corrected, np.log([power_law_omega(a, e) for e in energies]), atol=0.1)


# ---------------------------------------------------------------- 4 x 4 Ising


def test_dos_log_z_fn_matches_exact_sum():
    dos = fe.IsingLattice(4, 4).density_of_states()
    levels, counts = ising_levels()
    ref = exact_log_z(levels, counts)
    approx = dos_log_z_fn(dos, origin=dos.ground_state)
    exact = dos_log_z_fn(dos, origin=dos.ground_state, counts=counts)
    with mpmath.workdps(40):
        for beta in (mpmath.mpf("0.3"), mpmath.mpc("0.2", "1.7"), mpmath.mpc("2", "-40")):
            z = mpmath.exp(ref(beta))
            assert abs(mpmath.exp(exact(beta)) - z) <= mpmath.mpf(10) ** -35 * abs(z)
            assert abs(mpmath.exp(approx(beta)) - z) <= 1e-14 * abs(z)  # float64 log g
        assert float(mpmath.re(approx(mpmath.mpf(0)))) == pytest.approx(16 * math.log(2), rel=1e-15)


def test_ising_4x4_counts_recovered_from_z():
    """N(E) midway between levels from Z(beta)/beta (de Hoog, dps=64); differences give g_i.

    Documented accuracy: relative error of N(E) below 1e-5, every degeneracy within 0.5 of
    the exact count (so rounding recovers all of them). Measured: 7.2e-6 and 0.36.
    """
    dos = fe.IsingLattice(4, 4).density_of_states()
    levels, counts = ising_levels()
    log_z = dos_log_z_fn(dos, origin=dos.ground_state, counts=counts)
    res = inverse_laplace(log_z, midpoints(levels), dps=64, cumulative=True, check=False)
    cumulative = np.cumsum(counts)
    assert cumulative[-1] == 2**16
    np.testing.assert_allclose(res.values, cumulative, rtol=1e-5)
    recovered = np.diff(np.r_[0.0, res.values])
    assert np.max(np.abs(recovered - counts)) < 0.5
    assert np.round(recovered).astype(int).tolist() == counts
    assert np.all(res.saddle_entropy >= np.log(cumulative))  # Chernoff bound
    assert np.all(np.isnan(res.errors)) and res.check_dps is None


def test_ising_4x4_error_estimate_tracks_true_error_and_warns():
    """``errors`` = |N at dps - N at check_dps| estimates the true error of N at dps.

    It is not a bound: by the triangle inequality it is off by at most the check's own error,
    which de Hoog's method shrinks by a factor 1.8-35 between dps=30 and 38 on this staircase
    (measured: errors / true error = 1.12, 0.95, 0.97, 1.55 at these four energies). We require
    the documented "within a factor of 2" (InverseLaplaceResult, inverse_laplace Notes).
    """
    levels, counts = ising_levels()
    pick = [3, 4, 6, 8]  # relative errors ~2e-4 to ~6e-3 at dps=30
    energies, exact = midpoints(levels)[pick], np.cumsum(counts)[pick]
    with pytest.warns(InverseLaplaceWarning, match="changes by more than rtol=1e-06"):
        res = inverse_laplace(exact_log_z(levels, counts), energies, cumulative=True)
    true_error = np.abs(res.values - exact)
    assert np.all(true_error > 1e-6 * exact)  # dps=30 is not enough for this staircase ...
    ratio = res.errors / true_error  # ... and the check says so
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
    assert not res.ok.any()
    # with a tolerance the accuracy meets, the same call is quiet and ok
    loose = inverse_laplace(exact_log_z(levels, counts), energies, cumulative=True, rtol=0.02)
    assert loose.ok.all() and loose.problems == ()


def test_talbot_fails_on_a_bounded_spectrum_and_says_so():
    # exp(-beta E_i) for levels above E blows up on Talbot's contour (Re beta -> -inf)
    levels, counts = ising_levels()
    energies = midpoints(levels)[[0, 5, 10]]
    with pytest.warns(InverseLaplaceWarning) as record:
        res = inverse_laplace(exact_log_z(levels, counts), energies, method="talbot", cumulative=True)
    assert not res.ok.any()
    message = str(record[0].message)
    assert "method='talbot'" in message and "saddle_entropy" in message
    assert any("Chernoff" in p or "higher precision" in p for p in res.problems)


# ---------------------------------------------------------------- gapped ground state


@pytest.mark.parametrize("method", ["dehoog", "talbot"])
def test_warning_near_the_ground_state_of_a_discrete_spectrum(method):
    # Z = 2 + 3 exp(-beta): Omega = 2 delta(E) + 3 delta(E - 1), a gapped ground state at 0
    log_z = lambda beta: mpmath.log(2 + 3 * mpmath.exp(-beta))  # noqa: E731
    with pytest.warns(InverseLaplaceWarning, match="discrete level"):
        res = inverse_laplace(log_z, [0.02, 0.1], method=method)
    assert not res.ok.any()
    assert np.all(res.atom_fraction > 0.5)  # the ground state holds most canonical weight
    # quiet=True keeps the diagnosis in the record and emits nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = inverse_laplace(log_z, [0.02, 0.1], method=method, quiet=True)
    assert quiet.problems == res.problems and not quiet.ok.any()


def test_no_warning_for_a_smooth_density_near_its_edge():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = inverse_laplace(power_law(2.0), [1e-3, 1e-2])
    assert res.ok.all()
    np.testing.assert_allclose(res.values, [1e-3, 1e-2], rtol=1e-12)
    assert np.all(res.atom_fraction < 1e-6)


def test_ising_density_near_ground_state_warns():
    dos = fe.IsingLattice(4, 4).density_of_states()
    with pytest.warns(InverseLaplaceWarning, match="use cumulative=True"):
        res = inverse_laplace(dos_log_z_fn(dos, origin=dos.ground_state), [0.5, 4.0], check=False)
    assert not res.ok.any()


# ---------------------------------------------------------------- the record and bad input


def test_result_is_frozen():
    res = inverse_laplace(power_law(1.0), 2.0, method="cohen")
    assert res.values.shape == (1,) and res.values[0] == pytest.approx(1.0, rel=1e-12)
    assert res.seconds > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.method = "talbot"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"method": "laplace"}, "method"),
        ({"method": None}, "method"),
        ({"dps": 14}, "dps"),
        ({"dps": 30.0}, "dps"),
        ({"energies": []}, "energies"),
        ({"energies": [1.0, np.nan]}, "energies"),
        ({"energies": [1.0, np.inf]}, "energies"),
        ({"energies": [0.0, 1.0]}, "energies"),
        ({"energies": [[1.0]]}, "energies"),
        ({"energies": "one"}, "energies"),
        ({"betas": [1.0]}, "betas"),
        ({"betas": [np.nan, 1.0]}, "betas"),
        ({"betas": [-1.0, 1.0]}, "betas"),
        ({"rtol": 0.0}, "rtol"),
        ({"rtol": np.nan}, "rtol"),
        ({"cumulative": 1}, "cumulative"),
        ({"check": "no"}, "check"),
        ({"quiet": None}, "quiet"),
        ({"log_z_fn": lambda beta: mpmath.nan}, "log_z_fn"),
        ({"log_z_fn": lambda beta: mpmath.mpc(0, 1)}, "log_z_fn"),
        ({"log_z_fn": lambda beta: "x"}, "log_z_fn"),
    ],
)
def test_inverse_laplace_rejects_bad_input(kwargs, name):
    args = {"log_z_fn": power_law(1.0), "energies": [1.0], **kwargs}
    log_z_fn, energies = args.pop("log_z_fn"), args.pop("energies")
    with pytest.raises(ValueError, match=f"The '{name}' parameter of inverse_laplace must be"):
        inverse_laplace(log_z_fn, energies, **args)


def test_inverse_laplace_rejects_non_callable():
    with pytest.raises(TypeError, match="'log_z_fn' parameter of inverse_laplace must be callable"):
        inverse_laplace(3.0, [1.0])


def test_dos_log_z_fn_rejects_bad_input():
    dos = fe.DensityOfStates([0.0, 1.0], [0.0, 0.0])
    with pytest.raises(TypeError, match="'dos' parameter of dos_log_z_fn"):
        dos_log_z_fn([0.0, 1.0])
    with pytest.raises(ValueError, match="'origin' parameter of dos_log_z_fn"):
        dos_log_z_fn(dos, origin=float("nan"))
    for counts in ([1], [1, 0], [1, 2.0], "12"):
        with pytest.raises(ValueError, match="'counts' parameter of dos_log_z_fn"):
            dos_log_z_fn(dos, counts=counts)


@pytest.mark.slow
def test_ising_4x4_counts_at_high_precision():
    """de Hoog at dps=100: relative error of N(E) below 1e-7 (measured 5.3e-8), checked."""
    levels, counts = ising_levels()
    res = inverse_laplace(exact_log_z(levels, counts), midpoints(levels), dps=100, cumulative=True, rtol=1e-6)
    np.testing.assert_allclose(res.values, np.cumsum(counts), rtol=1e-7)
    assert res.ok.all()
