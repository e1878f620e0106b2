"""Tests of freeenergy.estimate.likelihood: mean log-likelihood with log Z's uncertainty, and the
forward / reverse AIS bracket (Burda, Grosse & Salakhutdinov, AISTATS 2015).

References: exact log Z by enumeration (exact_log_partition) and log p(v) = -F(v) - log Z summed
by brute force over the hidden units (itertools, NumPy); the stochastic checks follow the policy
stated in tests/estimate/test_ais.py (fixed seeds, never re-chosen after a failure; 4-stderr
bounds, a Gaussian false-failure probability of 6e-5 per check).
"""

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from freeenergy.estimate._result import Estimate
from freeenergy.estimate.ais import ais, default_betas, reverse_ais
from freeenergy.estimate.exact import exact_log_partition
from freeenergy.estimate.likelihood import (
    BracketWarning,
    LikelihoodBracket,
    LogLikelihood,
    bracket,
    log_likelihood,
)
from freeenergy.models import BernoulliRBM, GaussianBernoulliRBM


def random_rbm(n_visible, n_hidden, scale, seed):
    model = BernoulliRBM(n_visible, n_hidden)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * scale)
    return model


def brute_force_log_p(model, v):
    """log p(v) = log sum_h exp(a.v + b.h + v.W.h) - log Z, both sums by enumeration."""
    W, a, b = (p.detach().numpy() for p in (model.weight, model.visible_bias, model.hidden_bias))
    h = np.array(list(itertools.product([0, 1], repeat=model.n_hidden)), dtype=float)
    every_v = np.array(list(itertools.product([0, 1], repeat=model.n_visible)), dtype=float)
    log_z = logsumexp((every_v @ a)[:, None] + (h @ b)[None] + every_v @ W @ h.T)
    return logsumexp((v @ a)[:, None] + (h @ b)[None] + v @ W @ h.T, axis=1) - log_z


@pytest.fixture(scope="module")
def model_and_data():
    model = random_rbm(10, 5, 1.5, 0)
    data = model.sample(200, steps=200, seed=1)
    return model, data


def test_exact_log_z_gives_exact_mean_log_likelihood(model_and_data):
    model, data = model_and_data
    exact = exact_log_partition(model)
    ll = log_likelihood(model, data, exact)
    log_p = brute_force_log_p(model, data.numpy())
    assert isinstance(ll, LogLikelihood) and ll.n == 200 and ll.log_z is exact
    assert ll.mean == pytest.approx(log_p.mean(), abs=1e-10)
    assert ll.per_sample_std == pytest.approx(log_p.std(ddof=1), rel=1e-10)
    assert ll.stderr == pytest.approx(log_p.std(ddof=1) / math.sqrt(200), rel=1e-10)
    assert ll.lower == ll.mean == ll.upper
    # a plain number works the same way
    same = log_likelihood(model, data.numpy(), exact.log_z)
    assert same.mean == ll.mean and same.log_z.method == "given" and same.log_z.stderr == 0
    single = log_likelihood(model, data[:1], exact)
    assert single.per_sample_std == 0 and single.stderr == 0
    with pytest.raises(AttributeError):
        ll.mean = 0.0
    assert "nats per example" in str(ll)


def test_log_z_uncertainty_is_propagated(model_and_data):
    model, data = model_and_data
    est = Estimate(12.0, 0.3, 11.2, 12.9, "ais", 100)
    ll = log_likelihood(model, data, est)
    mean_neg_f = float(-model.free_energy(data).detach().mean())
    assert ll.mean == pytest.approx(mean_neg_f - 12.0, abs=1e-12)
    assert ll.stderr == pytest.approx(math.sqrt(ll.per_sample_std**2 / 200 + 0.3**2), rel=1e-12)
    # a larger log Z means a smaller likelihood: the interval swaps ends
    assert ll.lower == pytest.approx(mean_neg_f - 12.9, abs=1e-12)
    assert ll.upper == pytest.approx(mean_neg_f - 11.2, abs=1e-12)


def test_with_ais_log_z_matches_exact(model_and_data):
    model, data = model_and_data
    exact = log_likelihood(model, data, exact_log_partition(model))
    est = ais(model, n_chains=300, betas=default_betas(1000), data=data, seed=0)
    ll = log_likelihood(model, data, est)
    # fixed seed 0; over seeds 0-49 this z had mean -0.02, sd 1.01, max |z| 2.5. (The interval
    # ll.lower, ll.upper is log Z's 3-sd one, a 0.27 % check: test_log_z_uncertainty_is_propagated
    # tests it exactly instead.)
    assert abs(ll.mean - exact.mean) < 4 * est.stderr


def test_gaussian_log_density():
    model = GaussianBernoulliRBM(3, 4, sigma=[0.5, 1.0, 1.5], seed=0)
    with torch.no_grad():
        model.weight.normal_(0, 0.5, generator=torch.Generator().manual_seed(0))
    data = model.sample(20, steps=50, seed=0)
    exact = exact_log_partition(model)
    ll = log_likelihood(model, data, exact)
    assert ll.mean == pytest.approx(float(model.log_prob(data, exact).detach().mean()), abs=1e-12)


def test_bracket_of_consistent_estimates(model_and_data):
    model, data = model_and_data
    betas = default_betas(500)
    fwd = ais(model, n_chains=200, betas=betas, data=data, seed=0)
    rev = reverse_ais(model, data, betas=betas, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = bracket(model, data, forward=fwd, reverse=rev)
    assert isinstance(result, LikelihoodBracket)
    conservative, optimistic = result
    assert conservative.log_z is rev and optimistic.log_z is fwd
    assert result.gap == pytest.approx(rev.log_z - fwd.log_z, abs=1e-12)
    assert result.sigma == pytest.approx(math.hypot(fwd.stderr, rev.stderr), rel=1e-12)
    assert optimistic.mean - conservative.mean == pytest.approx(result.gap, abs=1e-10)
    # fixed seed 0. Over seeds 0-49: no BracketWarning (rev - fwd had mean +0.35 sigma, sd 0.9,
    # so crossing by 3 sigma has Gaussian probability 1e-4; |gap| <= 0.02 nats << max_gap = 1).
    # The bracket holds up to 4 stderr on each side, as the module policy's z-checks.
    exact = log_likelihood(model, data, exact_log_partition(model)).mean
    assert conservative.mean - 4 * rev.stderr < exact < optimistic.mean + 4 * fwd.stderr


def test_bracket_warns_when_bounds_cross(model_and_data):
    model, data = model_and_data
    fwd = Estimate(10.0, 0.1, 9.7, 10.3, "ais", 100)
    rev = Estimate(9.0, 0.1, 8.7, 9.3, "reverse_ais", 100)  # 1 nat below: > 3 sigma = 0.42
    with pytest.warns(BracketWarning, match=r"exceeds reverse AIS log Z.*more than 3 combined") as rec:
        result = bracket(model, data, forward=fwd, reverse=rev)
    warning = rec[0].message
    assert isinstance(warning, UserWarning)
    assert (warning.forward_log_z, warning.reverse_log_z) == (10.0, 9.0)
    assert warning.sigma == pytest.approx(math.hypot(0.1, 0.1))
    assert result.gap == pytest.approx(-1.0)
    # within 3 sigma: silent (the bounds hold only in expectation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bracket(model, data, forward=fwd, reverse=Estimate(9.7, 0.1, 9.4, 10.0, "reverse_ais", 100))


def test_bracket_warns_when_too_wide(model_and_data):
    model, data = model_and_data
    fwd = Estimate(10.0, 0.1, 9.7, 10.3, "ais", 100)
    rev = Estimate(12.5, 0.1, 12.2, 12.8, "reverse_ais", 100)
    with pytest.warns(BracketWarning, match=r"differ by 2.5 nats \(> max_gap = 1\)"):
        bracket(model, data, forward=fwd, reverse=rev)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bracket(model, data, forward=fwd, reverse=rev, max_gap=None)
        bracket(model, data, forward=fwd, reverse=rev, max_gap=3.0)


def test_errors(model_and_data):
    model, data = model_and_data
    fwd = Estimate(10.0, 0.1, 9.7, 10.3, "ais", 100)
    rev = Estimate(10.2, 0.1, 9.9, 10.5, "reverse_ais", 100)
    with pytest.raises(ValueError, match="'forward' parameter of bracket got an Estimate from reverse_ais"):
        bracket(model, data, forward=rev, reverse=fwd)
    with pytest.raises(ValueError, match="'reverse' parameter of bracket must be an Estimate"):
        bracket(model, data, forward=fwd, reverse=10.2)
    with pytest.raises(ValueError, match="'max_gap' parameter of bracket must be a number > 0 or None"):
        bracket(model, data, forward=fwd, reverse=rev, max_gap=0)
    with pytest.raises(ValueError, match="'log_z' parameter of log_likelihood must be a finite real"):
        log_likelihood(model, data, math.nan)
    with pytest.raises(ValueError, match="'log_z' parameter of log_likelihood must be an Estimate with a"):
        log_likelihood(model, data, Estimate(math.inf, 0, math.inf, math.inf, "exact", 1))
    with pytest.raises(ValueError, match=r"'data' parameter of log_likelihood must hold 0/1 values.*0.3"):
        log_likelihood(model, np.full((2, 10), 0.3), fwd)
    with pytest.raises(ValueError, match=r"'data' parameter of log_likelihood must have shape \(n_examples"):
        log_likelihood(model, np.zeros((2, 9)), fwd)
    with pytest.raises(ValueError, match=r"'data' parameter of bracket must have shape"):
        bracket(model, np.zeros(10), forward=fwd, reverse=rev)
    with pytest.raises(TypeError, match="'model' parameter of log_likelihood must be a BernoulliRBM"):
        log_likelihood(None, data, fwd)


def test_raise_is_conservative_for_data_that_are_not_model_samples():
    """RAISE (Burda et al. 2015) stays below the exact log-likelihood on uniform random rows
    under a strongly coupled model, and below reverse AIS's log Z-based value (Jensen)."""
    from freeenergy.estimate.likelihood import raise_log_likelihood

    rbm = BernoulliRBM(16, 8, seed=3)
    with torch.no_grad():
        rbm.weight.mul_(300)  # weights of scale 3
    data = (torch.rand(300, 16, generator=torch.Generator().manual_seed(0)) < 0.5).double()
    exact = log_likelihood(rbm, data, exact_log_partition(rbm)).mean
    betas = default_betas(500)
    for seed in range(3):  # fixed seeds; the gap is ~30 times the noise
        low = raise_log_likelihood(rbm, data, betas=betas, seed=seed)
        via_log_z = log_likelihood(rbm, data, reverse_ais(rbm, data, betas=betas, seed=seed)).mean
        assert low.mean < exact  # measured gap ~0.67 nats, noise ~0.02
        assert low.mean <= via_log_z
        assert low.n == 300 and low.lower == low.mean == low.upper
