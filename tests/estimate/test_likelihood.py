"""Tests of freeenergy.estimate.likelihood: mean log-likelihood with log Z's uncertainty, and the
forward / reverse AIS bracket (Burda, Grosse & Salakhutdinov, AISTATS 2015).

References: exact log Z by enumeration (exact_log_partition) and log p(v) = -F(v) - log Z summed
by brute force over the hidden units (itertools, NumPy); the stochastic checks follow the policy
stated in tests/estimate/test_ais.py (fixed seeds, never re-chosen after a failure; 4-stderr
bounds, a Gaussian false-failure probability of 6e-5 per check).
"""

import math
import re
import warnings

import numpy as np
import pytest
import torch

from freeenergy.estimate import likelihood as likelihood_module
from freeenergy.estimate._result import Estimate
from freeenergy.estimate.ais import ais, default_betas, reverse_ais
from freeenergy.estimate.exact import exact_log_partition
from freeenergy.estimate.likelihood import (
    BracketWarning,
    LikelihoodBracket,
    LogLikelihood,
    bracket,
    log_likelihood,
    raise_log_likelihood,
)
from freeenergy.models import BernoulliRBM, GaussianBernoulliRBM
from references import numpy_params, rbm_brute_log_p, rbm_free_energy
from torch_helpers import random_rbm


@pytest.fixture(scope="module")
def model_and_data():
    model = random_rbm(10, 5, 1.5, 0)
    data = model.sample(200, steps=200, seed=1)
    return model, data


def test_exact_log_z_gives_exact_mean_log_likelihood(model_and_data):
    model, data = model_and_data
    exact = exact_log_partition(model)
    ll = log_likelihood(model, data, exact)
    log_p = rbm_brute_log_p(numpy_params(model), data.numpy())
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
    with pytest.raises(ValueError, match=r"'data' parameter of log_likelihood must have shape \(n, "):
        log_likelihood(model, np.zeros((2, 9)), fwd)
    with pytest.raises(ValueError, match=r"'data' parameter of bracket must have shape"):
        bracket(model, np.zeros(10), forward=fwd, reverse=rev)
    with pytest.raises(TypeError, match="'model' parameter of log_likelihood must be a BernoulliRBM"):
        log_likelihood(None, data, fwd)


def test_raise_is_conservative_for_data_that_are_not_model_samples():
    """RAISE (Burda et al. 2015) stays below the exact log-likelihood on uniform random rows
    under a strongly coupled model, and below reverse AIS's log Z-based value (Jensen)."""
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


# ---------------------------------------------------------------------------- pinned details
# Documented behaviour the tests above leave open: the "given" Estimate of a plain log Z, ddof = 1
# from two examples on, float64 averaging, bracket's warning boundaries and messages, the
# "Got VALUE" part of the error messages, and RAISE's formula, defaults and error messages.


def minus_free_energy(model, v):
    """-F(v) in float64 by the closed-form NumPy reference (tests/references.py)."""
    return -rbm_free_energy(numpy_params(model), np.asarray(v, dtype=np.float64))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_plain_log_z_and_few_examples(model_and_data, n):
    """A plain log Z becomes Estimate(value, 0, value, value, "given", 0) (no samples went into it);
    per_sample_std is the ddof = 1 standard deviation from two examples on, and 0 for one."""
    model, data = model_and_data
    ll = log_likelihood(model, data[:n], 7.5)
    neg_f = minus_free_energy(model, data[:n])
    assert (ll.log_z.log_z, ll.log_z.stderr, ll.log_z.lower, ll.log_z.upper) == (7.5, 0.0, 7.5, 7.5)
    assert (ll.log_z.method, ll.log_z.n_samples, ll.n) == ("given", 0, n)
    assert ll.mean == pytest.approx(neg_f.mean() - 7.5, abs=1e-12)
    std = neg_f.std(ddof=1) if n > 1 else 0.0
    assert ll.per_sample_std == pytest.approx(std, rel=1e-12)
    assert ll.stderr == pytest.approx(std / math.sqrt(n), rel=1e-12)


def test_float32_model_is_averaged_in_float64():
    """The free energies of a float32 model are averaged in float64: a float32 mean of these 1000
    values is off by ~6e-7, the float64 one by ~1e-15 (the tolerance is 1e-11)."""
    model = BernoulliRBM(10, 5, dtype=torch.float32)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 2, generator=torch.Generator().manual_seed(0))
    data = (torch.rand(1000, 10, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    # the model's own float32 free energies, widened: the test is about the averaging only
    neg_f = -model.free_energy(data).detach().numpy().astype(np.float64)
    ll = log_likelihood(model, data, 3.0)
    assert ll.mean == pytest.approx(neg_f.mean() - 3.0, abs=1e-11)
    assert ll.per_sample_std == pytest.approx(neg_f.std(ddof=1), abs=1e-11)


FWD = Estimate(10.0, 0.3, 9.1, 10.9, "ais", 100)  # with a reverse stderr of 0.4: sigma = 0.5 exactly


@pytest.mark.parametrize(("rev_log_z", "max_gap", "message"), [
    (8.5, 1.0, None),  # forward exceeds reverse by exactly 3 sigma = 1.5: not "more than"
    (8.25, 1.0, r"Forward AIS log Z \(10.0000\) exceeds reverse AIS log Z \(8.2500\) by 1.75 nats, "
                r"more than 3 combined standard deviations \(3 sigma = 1.5\)"),  # 3.5 sigma
    (11.0, 1.0, None),  # gap exactly max_gap: not "> max_gap"
    (11.25, 1.0, r"Reverse and forward AIS log Z differ by 1.25 nats \(> max_gap = 1\)"),
    (12.0, 1.5, r"differ by 2 nats \(> max_gap = 1.5\)"),
])
def test_bracket_warning_boundaries_and_contents(model_and_data, rev_log_z, max_gap, message):
    """bracket warns when forward - reverse > 3 sigma or reverse - forward > max_gap (strictly, as
    documented); the BracketWarning carries both log Z and sigma and points at the caller's line,
    not at the library."""
    model, data = model_and_data
    rev = Estimate(rev_log_z, 0.4, rev_log_z - 1.2, rev_log_z + 1.2, "reverse_ais", 100)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        bracket(model, data[:5], forward=FWD, reverse=rev, max_gap=max_gap)
    if message is None:
        assert rec == []
        return
    assert len(rec) == 1 and rec[0].category is BracketWarning
    assert re.search(message, str(rec[0].message))
    w = rec[0].message
    assert (w.forward_log_z, w.reverse_log_z, w.sigma) == (10.0, rev_log_z, 0.5)
    assert rec[0].filename == __file__


REV = Estimate(10.2, 0.1, 9.9, 10.5, "reverse_ais", 100)


@pytest.mark.parametrize(("function", "kwargs", "match"), [
    (bracket, {"reverse": Estimate(10.2, 0.1, 9.9, 10.5, "ais", 100)},
     r"The 'reverse' parameter of bracket got an Estimate from ais; pass the result of ais as"),
    (bracket, {"reverse": 10.2}, r"'reverse' parameter of bracket must be an Estimate\. Got 10\.2 instead"),
    (bracket, {"forward": Estimate(math.nan, 0.1, 0, 1, "ais", 100)},
     r"parameter of bracket must be an Estimate with a finite log_z\. Got nan instead"),
    (bracket, {"max_gap": "1"}, r"'max_gap' parameter of bracket must be a finite real number\. Got '1'"),
    (bracket, {"max_gap": -0.5}, r"'max_gap' parameter of bracket must be a number > 0 or None\. Got -0\.5 "),
    (log_likelihood, {"log_z": Estimate(math.inf, 0, math.inf, math.inf, "exact", 1)},
     r"The 'log_z' parameter of log_likelihood must be an Estimate with a finite log_z\. Got inf instead"),
])
def test_error_messages_name_argument_and_value(model_and_data, function, kwargs, match):
    """Errors name the argument and the function and show the value that came (DESIGN.md sec. 3)."""
    model, data = model_and_data
    defaults = {"forward": FWD, "reverse": REV} if function is bracket else {}
    with pytest.raises(ValueError, match=match):
        function(model, data, **(defaults | kwargs))


@pytest.mark.parametrize("n", [1, 2, 7])
@pytest.mark.parametrize("other_base_data", [False, True])
def test_raise_is_free_energy_plus_reverse_log_weight(n, other_base_data):
    """RAISE (Burda et al. 2015): log p^(v_i) = -F(v_i) + log w_i - log Z_0 with the weights of the
    reverse-AIS chains that reverse_ais runs with the same seed, and Z_0 closed-form,
    sum_i softplus(a0_i) + n_hidden log 2 with a0 = logit(0.95 mean + 0.025) of base_data (default:
    the data). mean, ddof = 1 std (0 for one example) and stderr = std / sqrt(n)."""
    model = random_rbm(6, 3, 1.0, 2)
    data = model.sample(n, steps=20, seed=0)
    base_data = np.array([[1, 0, 0, 1, 1, 0], [1, 1, 0, 0, 1, 0], [1, 0, 1, 0, 0, 0]], dtype=float)
    betas = default_betas(30)
    ll = raise_log_likelihood(model, data, betas=betas, seed=4,
                              base_data=base_data if other_base_data else None)
    rate = (base_data if other_base_data else data.numpy()).mean(0) * 0.95 + 0.025
    assert ll.log_z.info["base_bias"] == pytest.approx(np.log(rate / (1 - rate)), abs=1e-12)
    log_z0 = np.logaddexp(0.0, ll.log_z.info["base_bias"]).sum() + 3 * math.log(2)
    log_w = ll.log_z.info["log_weights"]
    log_p = minus_free_energy(model, data) + log_w - log_z0
    assert (ll.n, ll.log_z.method, ll.log_z.n_samples, log_w.shape) == (n, "reverse_ais", n, (n,))
    assert ll.mean == pytest.approx(log_p.mean(), abs=1e-12)
    assert ll.lower == ll.mean == ll.upper
    std = log_p.std(ddof=1) if n > 1 else 0.0
    assert ll.per_sample_std == pytest.approx(std, rel=1e-12)
    assert ll.stderr == pytest.approx(std / math.sqrt(n), rel=1e-12)
    if not other_base_data:  # the same chains as reverse_ais with the same seed
        assert np.array_equal(log_w, reverse_ais(model, data, betas=betas, seed=4).info["log_weights"])


def test_raise_progress_bar(capsys):
    """No progress bar by default; progress=True shows one labelled raise_log_likelihood."""
    model = random_rbm(6, 3, 1.0, 2)
    data = model.sample(4, steps=20, seed=0)
    raise_log_likelihood(model, data, betas=default_betas(10), seed=0)
    assert capsys.readouterr().err == ""
    raise_log_likelihood(model, data, betas=default_betas(10), seed=0, progress=True)
    assert "raise_log_likelihood" in capsys.readouterr().err


@pytest.mark.parametrize(("change", "error", "match"), [
    ({"model": None}, TypeError, "The 'model' parameter of raise_log_likelihood must be a"),
    ({"data": np.full((2, 6), 0.5)}, ValueError, "'data' parameter of raise_log_likelihood must hold 0/1"),
    ({"betas": [0.0, 0.5]}, ValueError, "The 'betas' parameter of raise_log_likelihood must be a strictly"),
    ({"seed": -1}, ValueError, "The 'seed' parameter of raise_log_likelihood must be an int >= 0"),
    ({"progress": 1}, ValueError, "The 'progress' parameter of raise_log_likelihood must be a bool"),
    ({"smoothing": 0}, ValueError, r"'smoothing' parameter of raise_log_likelihood must be a number in \(0"),
])
def test_raise_error_messages_name_raise_log_likelihood(change, error, match):
    """Every argument error of raise_log_likelihood names it, whichever helper checks the argument."""
    arguments = {"model": random_rbm(6, 3, 1.0, 2), "data": np.zeros((2, 6)), "betas": default_betas(10),
                 "seed": 0} | change
    with pytest.raises(error, match=match):
        raise_log_likelihood(arguments.pop("model"), arguments.pop("data"), **arguments)


def test_raise_validates_its_data_once(model_and_data, monkeypatch):
    """raise_log_likelihood checks 'data' at its boundary once (it used to check it twice)."""
    model, data = model_and_data
    calls = []
    real = likelihood_module.check_rows
    monkeypatch.setattr(likelihood_module, "check_rows",
                        lambda *a, **k: calls.append(k.get("name", "data")) or real(*a, **k))
    raise_log_likelihood(model, data[:4], betas=np.linspace(0, 1, 5), base="uniform", seed=0)
    assert calls == ["data"]
