"""What a training run watches (freeenergy.learn.monitor), checked against NumPy written here.

* weight_statistics: ``||W||_F``, ``max |W_ij|`` and ``beta_eff = ||W||_2``, the latter of
  ``diag(1 / sigma) W`` for a Gaussian-Bernoulli RBM (module docstring), from numpy.linalg.
* mean_free_energy: the mean of ``F(v) = -a.v - sum_j softplus(b_j + (v W)_j)`` over the rows,
  also across the chunk boundary (rows weighted equally, not chunks).
* ExplosionRule: both triggers at their thresholds (strict inequalities: exactly ``max_weight``
  and growth by exactly ``growth`` do not fire) and one ulp beyond them.
* exact_is_cheap: ``2^20`` terms at most, i.e. ``min(n_visible, n_hidden) <= 20`` for a Bernoulli
  RBM and ``n_hidden <= 20`` for a Gaussian-Bernoulli one (its visibles are integrated out).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import freeenergy as fe
from freeenergy.learn import (
    ExplosionRule,
    TrainingError,
    TrainingHistory,
    TrainingWarning,
    monitor,
    weight_statistics,
)
from freeenergy.models import BernoulliRBM, GaussianBernoulliRBM
from torch_helpers import random_rbm


def set_params(model, weight=None, visible_bias=None, hidden_bias=None):
    with torch.no_grad():
        for name, value in (("weight", weight), ("visible_bias", visible_bias), ("hidden_bias", hidden_bias)):
            if value is not None:
                getattr(model, name).copy_(torch.as_tensor(np.asarray(value)))


def numpy_params(model):
    """(W, a, b) as float64 NumPy arrays."""
    return tuple(getattr(model, name).detach().numpy().astype(np.float64)
                 for name in ("weight", "visible_bias", "hidden_bias"))


# ---------------------------------------------------------------------------------- weight statistics
def test_weight_statistics_hand_values():
    """W = [[3, 0], [0, -4]]: ||W||_F = 5, max |W| = 4, ||W||_2 = 4 (its singular values are 4, 3)."""
    rbm = BernoulliRBM(2, 2, seed=0)
    set_params(rbm, weight=[[3.0, 0.0], [0.0, -4.0]])
    assert weight_statistics(rbm) == {"weight_norm": 5.0, "weight_max": 4.0, "beta_eff": 4.0}


@pytest.mark.parametrize(("n_visible", "n_hidden", "dtype"),
                         [(7, 4, torch.float64), (3, 9, torch.float64), (6, 5, torch.float32)])
def test_weight_statistics_match_numpy(n_visible, n_hidden, dtype):
    """Random couplings: the three statistics equal numpy.linalg's norms of W, as Python floats."""
    rbm = BernoulliRBM(n_visible, n_hidden, seed=1, dtype=dtype)
    w = np.random.default_rng(5).normal(scale=2.0, size=(n_visible, n_hidden))
    set_params(rbm, weight=w.astype(np.float32 if dtype == torch.float32 else np.float64))
    w = numpy_params(rbm)[0]
    stats = weight_statistics(rbm)
    assert list(stats) == ["weight_norm", "weight_max", "beta_eff"]
    assert all(type(v) is float for v in stats.values())
    assert stats["weight_norm"] == pytest.approx(np.linalg.norm(w, "fro"), rel=1e-12)
    assert stats["weight_max"] == np.abs(w).max()
    assert stats["beta_eff"] == pytest.approx(np.linalg.norm(w, 2), rel=1e-12)
    assert stats["beta_eff"] < stats["weight_norm"]  # a random W has more than one singular value


def test_weight_statistics_gaussian_scales_beta_eff_by_sigma():
    """Gaussian-Bernoulli: beta_eff = ||diag(1/sigma) W||_2; the Frobenius norm and max use W itself."""
    sigma = np.array([0.25, 1.0, 4.0])
    rbm = GaussianBernoulliRBM(3, 2, sigma=sigma, seed=0)
    w = np.array([[1.0, -2.0], [0.5, 3.0], [-4.0, 1.0]])
    set_params(rbm, weight=w)
    stats = weight_statistics(rbm)
    assert stats["weight_norm"] == pytest.approx(np.sqrt((w**2).sum()), rel=1e-14)
    assert stats["weight_max"] == 4.0
    assert stats["beta_eff"] == pytest.approx(np.linalg.norm(w / sigma[:, None], 2), rel=1e-12)
    assert abs(stats["beta_eff"] - np.linalg.norm(w, 2)) > 1.0  # the scaling matters here


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_weight_statistics_non_finite_weight(bad):
    """One non-finite coupling makes all three statistics NaN."""
    rbm = BernoulliRBM(3, 2, seed=0)
    w = np.ones((3, 2))
    w[1, 0] = bad
    set_params(rbm, weight=w)
    stats = weight_statistics(rbm)
    assert list(stats) == ["weight_norm", "weight_max", "beta_eff"]
    assert all(math.isnan(v) for v in stats.values())


# ---------------------------------------------------------------------------------- mean free energy
def numpy_free_energy(v, w, a, b):
    """F(v) = -a.v - sum_j softplus(b_j + (v W)_j), one value per row."""
    return -v @ a - np.logaddexp(0.0, b + v @ w).sum(axis=1)


def test_mean_free_energy_matches_numpy():
    """A few binary rows: the mean free energy equals NumPy's, as a float."""
    rbm = random_rbm(5, 3)
    v = (np.random.default_rng(1).random((7, 5)) < 0.5).astype(np.float64)
    got = monitor.mean_free_energy(rbm, torch.from_numpy(v))
    assert type(got) is float
    assert got == pytest.approx(numpy_free_energy(v, *numpy_params(rbm)).mean(), rel=1e-13)


def test_mean_free_energy_hand_value():
    """W = 0, a = (1, 2), b = (0,): F(v) = -a.v - log 2, so the mean over (0,0), (1,1) is -1.5 - log 2."""
    rbm = BernoulliRBM(2, 1, seed=0)
    set_params(rbm, weight=np.zeros((2, 1)), visible_bias=[1.0, 2.0], hidden_bias=[0.0])
    got = monitor.mean_free_energy(rbm, torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64))
    assert got == pytest.approx(-1.5 - math.log(2.0), rel=1e-15)


@pytest.mark.parametrize("extra", [-1, 0, 1, 5])
def test_mean_free_energy_across_the_chunk_boundary(extra):
    """Rows around the chunk size, the last row unlike the rest: every row weighs the same."""
    assert monitor._CHUNK_ROWS >= 64  # the module chunks by thousands of rows, not a handful
    n = monitor._CHUNK_ROWS + extra
    rbm = random_rbm(4, 3, seed=2)
    v = np.zeros((n, 4))
    v[-1] = 1.0  # a chunk-mean average would weigh this row as heavily as all the others together
    got = monitor.mean_free_energy(rbm, torch.from_numpy(v))
    f = numpy_free_energy(v, *numpy_params(rbm))
    assert got == pytest.approx(f.mean(), rel=1e-13)
    assert abs(f[0] - f[-1]) > 0.1


def test_mean_free_energy_many_chunks(monkeypatch):
    """With chunks of 3 rows, 10 random rows (4 chunks, the last of one row) give NumPy's mean."""
    monkeypatch.setattr(monitor, "_CHUNK_ROWS", 3)
    rbm = random_rbm(6, 4, seed=3)
    v = (np.random.default_rng(4).random((10, 6)) < 0.3).astype(np.float64)
    got = monitor.mean_free_energy(rbm, torch.from_numpy(v))
    assert got == pytest.approx(numpy_free_energy(v, *numpy_params(rbm)).mean(), rel=1e-13)


def test_mean_free_energy_float32_accumulates_in_float64():
    """A float32 model over 2 x chunk-size rows: within float32 rounding of the float64 NumPy mean."""
    rbm = BernoulliRBM(5, 3, seed=0, dtype=torch.float32)
    rng = np.random.default_rng(6)
    f32 = np.float32
    set_params(rbm, weight=rng.normal(size=(5, 3)).astype(f32), visible_bias=rng.normal(size=5).astype(f32),
               hidden_bias=rng.normal(size=3).astype(f32))
    v = (rng.random((2 * monitor._CHUNK_ROWS + 3, 5)) < 0.5).astype(np.float32)
    got = monitor.mean_free_energy(rbm, torch.from_numpy(v))
    assert got == pytest.approx(numpy_free_energy(v.astype(np.float64), *numpy_params(rbm)).mean(), rel=1e-6)


# ---------------------------------------------------------------------------------- explosion rule
def test_explosion_rule_defaults():
    """The documented defaults: max_weight 100, growth 2, patience 3."""
    rule = ExplosionRule()
    assert (rule.max_weight, rule.growth, rule.patience) == (100.0, 2.0, 3)


@pytest.mark.parametrize("max_weight", [10.0, 100.0, 0.5])
def test_max_weight_threshold(max_weight):
    """Exactly max_weight is tolerated; one ulp more fires, with the value and the limit in words."""
    rule = ExplosionRule(max_weight=max_weight)
    assert rule.check(beta_eff=[1.0, 1.0], weight_max=[0.1, max_weight]) is None
    above = np.nextafter(max_weight, math.inf)
    message = rule.check(beta_eff=[1.0, 1.0], weight_max=[0.1, above])
    assert message == f"max |W| = {above:.4g} exceeds {max_weight:g}"


def test_max_weight_looks_at_the_latest_epoch_only():
    """A past epoch above max_weight does not fire once the latest one is back below it."""
    rule = ExplosionRule(max_weight=10.0)
    assert rule.check(beta_eff=[1.0, 1.0, 1.0], weight_max=[1.0, 50.0, 9.0]) is None
    assert rule.check(beta_eff=[1.0], weight_max=[12.0]) == "max |W| = 12 exceeds 10"


def test_infinite_max_weight_disables_the_weight_rule():
    """max_weight = inf never fires on the weights, even for a huge coupling."""
    assert ExplosionRule(max_weight=math.inf).check(beta_eff=[1.0, 1.0], weight_max=[1e300, 1e308]) is None


def geometric(start, factor, n, ulp_above=False):
    """n values each exactly ``factor`` times the last (or one ulp more when ``ulp_above``)."""
    out = [start]
    for _ in range(n - 1):
        nxt = factor * out[-1]
        out.append(np.nextafter(nxt, math.inf) if ulp_above else nxt)
    return [float(x) for x in out]


@pytest.mark.parametrize(("growth", "patience"), [(2.0, 3), (1.5, 1), (1.25, 4)])
def test_growth_threshold(growth, patience):
    """Growth by exactly `growth` over `patience` epochs is tolerated; one ulp more each epoch fires."""
    rule = ExplosionRule(growth=growth, patience=patience)
    flat = [0.1] * (patience + 1)
    at = geometric(1.0, growth, patience + 1)
    assert rule.check(beta_eff=at, weight_max=flat) is None
    beyond = geometric(1.0, growth, patience + 1, ulp_above=True)
    assert rule.check(beta_eff=beyond, weight_max=flat) == (
        f"beta_eff grew by more than x{growth:g} in each of the last {patience} epochs "
        f"({beyond[0]:.4g} -> {beyond[-1]:.4g})")


def test_growth_needs_patience_consecutive_epochs():
    """patience = 3 needs 4 values growing > x2 in every step; one slow step or too few values: None."""
    rule = ExplosionRule()
    small = [0.1] * 6
    assert rule.check(beta_eff=[1.0, 2.5, 6.0, 13.0], weight_max=small[:4]) == (
        "beta_eff grew by more than x2 in each of the last 3 epochs (1 -> 13)")
    assert rule.check(beta_eff=[2.5, 6.0, 13.0], weight_max=small[:3]) is None  # only 2 steps
    assert rule.check(beta_eff=[1.0, 2.5, 4.0, 13.0], weight_max=small[:4]) is None  # 2.5 -> 4 is x1.6
    assert rule.check(beta_eff=[1.0, 2.5, 6.0, 13.0, 20.0], weight_max=small[:5]) is None  # last x1.54
    # an early slow epoch is outside the window of the last 3 steps
    assert rule.check(beta_eff=[5.0, 5.0, 11.0, 23.0, 47.0], weight_max=small[:5]) == (
        "beta_eff grew by more than x2 in each of the last 3 epochs (5 -> 47)")


def test_growth_from_zero_does_not_fire():
    """A start at beta_eff = 0 is not growth by a factor (the rule asks growth * previous > 0)."""
    assert ExplosionRule(patience=1).check(beta_eff=[0.0, 5.0], weight_max=[0.1, 0.1]) is None


def test_weight_rule_is_reported_before_the_growth_rule():
    """When both rules fire, the message is about max |W|."""
    message = ExplosionRule(max_weight=10.0).check(beta_eff=[1.0, 2.5, 6.0, 13.0], weight_max=[1, 2, 5, 11.0])
    assert message == "max |W| = 11 exceeds 10"


def test_check_accepts_arrays():
    """check reads NumPy columns (as a TrainingHistory holds them) like lists."""
    rule = ExplosionRule()
    assert rule.check(np.array([1.0, 2.5, 6.0, 13.0]), np.full(4, 0.1)) is not None
    assert rule.check(np.array([1.0, 2.0, 4.0, 8.0]), np.full(4, 0.1)) is None


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"max_weight": 0.0}, "max_weight"), ({"max_weight": -1.0}, "max_weight"),
    ({"max_weight": math.nan}, "max_weight"), ({"max_weight": True}, "max_weight"),
    ({"max_weight": "10"}, "max_weight"),
    ({"growth": 1.0}, "growth"), ({"growth": 0.5}, "growth"),
    ({"patience": 0}, "patience"), ({"patience": 1.5}, "patience"),
])
def test_explosion_rule_rejects_bad_settings(kwargs, name):
    """max_weight <= 0 or not a number, growth <= 1, patience < 1 or not an int: InputError naming it."""
    with pytest.raises(fe.InputError, match=rf"'{name}' parameter of ExplosionRule"):
        ExplosionRule(**kwargs)


def test_explosion_rule_accepts_boundary_settings():
    """The smallest valid settings are accepted: tiny max_weight, growth just above 1, patience 1."""
    rule = ExplosionRule(max_weight=1e-300, growth=np.nextafter(1.0, 2.0), patience=1)
    assert rule.check(beta_eff=[1.0, 1.0], weight_max=[0.0, 1e-300]) is None
    assert rule.check(beta_eff=[1.0, 1.0], weight_max=[0.0, 1e-299]) is not None


# ---------------------------------------------------------------------------------- exact_is_cheap
def test_exact_max_units_is_twenty():
    """Exact log Z is affordable up to 2^20 terms."""
    assert monitor.EXACT_MAX_UNITS == 20


@pytest.mark.parametrize(("n_visible", "n_hidden", "cheap"), [
    (20, 20, True), (20, 50, True), (50, 20, True), (21, 21, False), (21, 40, False), (1, 1, True),
])
def test_exact_is_cheap_bernoulli(n_visible, n_hidden, cheap):
    """A Bernoulli RBM sums over the smaller layer: cheap iff min(n_visible, n_hidden) <= 20."""
    assert monitor.exact_is_cheap(BernoulliRBM(n_visible, n_hidden, seed=0)) is cheap


@pytest.mark.parametrize(("n_visible", "n_hidden", "cheap"), [
    (50, 20, True), (2, 20, True), (2, 21, False), (21, 21, False),
])
def test_exact_is_cheap_gaussian(n_visible, n_hidden, cheap):
    """A Gaussian-Bernoulli RBM sums over its hiddens only: cheap iff n_hidden <= 20."""
    assert monitor.exact_is_cheap(GaussianBernoulliRBM(n_visible, n_hidden, seed=0)) is cheap


# ---------------------------------------------------------------------------------- error and warning
def test_training_error_carries_its_context():
    """TrainingError is a RuntimeError holding the message, epoch, quantity, history and checkpoint."""
    history = TrainingHistory.from_rows([{"epoch": 0}])
    err = TrainingError("boom at epoch 3", epoch=3, quantity="parameter 'weight'", history=history,
                        checkpoint="run/ckpt.pt")
    assert isinstance(err, RuntimeError) and str(err) == "boom at epoch 3"
    assert (err.epoch, err.quantity, err.checkpoint) == (3, "parameter 'weight'", "run/ckpt.pt")
    assert err.history is history
    bare = TrainingError("x", epoch=1, quantity="train_free_energy")
    assert bare.history is None and bare.checkpoint is None
    with pytest.raises(TypeError):
        TrainingError("x", 1, "q")  # epoch and quantity are keyword-only


def test_training_warning_is_a_user_warning():
    """TrainingWarning is a UserWarning, so the usual warning filters apply to it."""
    assert issubclass(TrainingWarning, UserWarning)
    with pytest.warns(UserWarning, match="exploding"):
        warnings.warn("weights exploding", TrainingWarning, stacklevel=1)
