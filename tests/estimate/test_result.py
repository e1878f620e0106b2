"""The common shape of results with an uncertainty (``estimate/_result.py``): every record offers
value, stderr, lower, upper, method and n, mapped to its own fields."""

import math

import numpy as np
import pytest

from freeenergy.estimate._result import Estimate, Mean, Uncertain
from freeenergy.estimate.likelihood import LogLikelihood
from freeenergy.estimate.variational import LogLikelihoodEstimate, helmholtz_free_energy
from freeenergy.models import HelmholtzMachine


def test_estimate_in_the_common_shape():
    est = Estimate(12.5, 0.25, 12.0, 13.0, "ais", 100)
    assert isinstance(est, Uncertain)
    assert (est.value, est.stderr, est.lower, est.upper, est.method, est.n) == (12.5, 0.25, 12.0, 13.0,
                                                                                 "ais", 100)


@pytest.mark.parametrize(("value", "stderr", "reference", "z"), [
    (12.5, 0.25, 12.0, 2.0), (12.5, 0.25, 13.0, -2.0), (1.0, 0.0, 1.0, 0.0),
    (1.0, 0.0, 0.5, math.inf), (1.0, 0.0, 1.5, -math.inf),
])
def test_z_score(value, stderr, reference, z):
    """(value - reference) / stderr; an exact value is 0 or infinitely many deviations off."""
    assert Estimate(value, stderr, value, value, "x", 1).z_score(reference) == z


def test_log_likelihood_in_the_common_shape():
    log_z = Estimate(30.0, 0.1, 29.7, 30.3, "ais", 100)
    ll = LogLikelihood(-20.0, 0.5, -20.3, -19.7, 4.0, 100, log_z)
    assert isinstance(ll, Uncertain)
    assert (ll.value, ll.stderr, ll.lower, ll.upper, ll.method, ll.n) == (-20.0, 0.5, -20.3, -19.7,
                                                                          "ais", 100)


def test_importance_weighted_log_likelihood_in_the_common_shape():
    """lower / upper are mean -+ 3 stderr (the record has no interval of its own)."""
    ll = LogLikelihoodEstimate(-50.0, 0.2, np.array([-49.0, -51.0]), 5000, 2)
    assert isinstance(ll, Uncertain)
    assert (ll.value, ll.lower, ll.upper, ll.method, ll.n) == (-50.0, -50.6, -49.4,
                                                               "importance_weighted(k=5000)", 2)


def test_helmholtz_free_energy_means_in_the_common_shape():
    """The mean of each part over the examples, with the Monte Carlo stderr of a mean of
    independent per-example estimates, sqrt(sum se_i^2) / n, recomputed here."""
    hm = HelmholtzMachine((6, 4), seed=0)
    x = hm.sample(5, seed=1)
    res = helmholtz_free_energy(hm, x, n_samples=50, method="sample", seed=2)
    for name in ("free_energy", "energy", "entropy"):
        m = res.mean(name)
        values, se = getattr(res, name), getattr(res, f"{name}_stderr")
        expected = math.sqrt(float(np.sum(se**2))) / se.size
        assert isinstance(m, Mean) and m.n == 5
        assert m.value == pytest.approx(values.mean(), rel=1e-15)
        assert (m.stderr == pytest.approx(expected, rel=1e-15) and m.stderr > 0) or name == "entropy"
        assert (m.lower, m.upper) == pytest.approx((m.value - 3 * m.stderr, m.value + 3 * m.stderr))
    assert res.mean().stderr > 0  # a Monte Carlo energy has an error
    exact = helmholtz_free_energy(hm, x, method="exact").mean()
    assert exact.stderr == 0.0 and exact.value == pytest.approx(exact.lower)
    with pytest.raises(ValueError, match=r"The 'quantity' parameter of HelmholtzFreeEnergy\.mean"):
        res.mean("gap")
