"""Tests of freeenergy.estimate.importance: the k-sample importance-weighted bound on log p(x).

References:
- Burda, Grosse & Salakhutdinov (ICLR 2016): L_k(x) = log (1/k) sum_i p(x, z_i) / q(z_i | x) with
  z_i ~ q(z | x).
- Ground truth: the bound recomputed in NumPy from the very draws the estimator made (recorded by a
  wrapper around the model), with log p(x, z) and log q(z | x) of the Helmholtz machine written
  from its weights (tests/references.py), never through the model's own log_joint / log q.

A last section holds tests of freeenergy.estimate.likelihood and freeenergy.estimate.variational
that pin down behaviour the mutation run found untested there (error messages, the common
``Uncertain`` shape of HelmholtzFreeEnergy.mean, chunk sizes, validating data once).
"""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from freeenergy.estimate import variational
from freeenergy.estimate._result import Estimate, Mean
from freeenergy.estimate.ais import default_betas
from freeenergy.estimate.importance import (
    LogLikelihoodEstimate,
    importance_sampled_log_likelihood,
    importance_weighted_bound,
)
from freeenergy.estimate.likelihood import bracket, log_likelihood, raise_log_likelihood
from freeenergy.estimate.variational import HelmholtzFreeEnergy, tempered_posterior
from freeenergy.models.helmholtz import HelmholtzMachine
from references import numpy_params, rbm_free_energy, sbn_enumerate, sbn_log_joint, sbn_log_recognition
from torch_helpers import binary, random_rbm, randomise


class RecordingMachine(HelmholtzMachine):
    """A Helmholtz machine that records every draw of ``recognition_sample`` (z, as float64 NumPy)
    and the batch shape of every ``z`` given to ``log_joint``."""

    def __init__(self, layer_sizes, seed):
        super().__init__(layer_sizes, seed=0)
        randomise(self, scale=1.0, seed=seed)
        self.draws, self.shapes = [], []

    def recognition_sample(self, x, n, generator=None):
        z, log_q = super().recognition_sample(x, n, generator=generator)
        self.draws.append(z.detach().numpy().astype(np.float64))
        return z, log_q

    def log_joint(self, x, z, *, check=True):
        self.shapes.append(tuple(z.shape[:-1]))
        return super().log_joint(x, z, check=check)


class NoVariables:
    """A latent-variable model with no visible and no latent unit: the only x is the empty vector,
    p(x) = 1, and q proposes the empty latent vector with probability 1 (log weights 0)."""

    n_visible = n_latent = 0

    def log_joint(self, x, z):
        return torch.zeros(torch.broadcast_shapes(x.shape[:-1], z.shape[:-1]), dtype=torch.float64)

    def recognition_sample(self, x, n, generator=None):
        b = x.shape[0]
        return torch.zeros(n, b, 0, dtype=torch.float64), torch.zeros(n, b, dtype=torch.float64)

    def recognition_log_prob(self, x, z):
        return self.log_joint(x, z)

    def recognition_entropy(self, x):
        return torch.zeros(x.shape[0], dtype=torch.float64)

    def latent_configurations(self):
        return torch.zeros(1, 0, dtype=torch.float64)


def numpy_bound(model, x, draws):
    """L_k per example in NumPy from the recorded draws z (k, b, n_latent), float64."""
    P, x = numpy_params(model), np.asarray(x, dtype=np.float64)
    z = np.concatenate(draws, axis=0)
    log_w = sbn_log_joint(P, x, z) - sbn_log_recognition(P, x, z)
    return logsumexp(log_w, axis=0) - math.log(z.shape[0])


# ---------------------------------------------------------------------------- importance weighting


@pytest.mark.parametrize(("k", "batch"), [(1, None), (23, 20), (37, 1000)])
def test_bound_is_the_log_mean_weight_of_the_draws(k, batch):
    """importance_weighted_bound is log (1/k) sum_i p(x, z_i) / q(z_i | x) over the k draws it made, every
    weight recomputed in NumPy from the weights of the Helmholtz machine."""
    model = RecordingMachine((5, 3, 2), seed=2)
    x = binary(5)[[0, 7, 19, 31]]
    bound = importance_weighted_bound(model, x, k, seed=0, batch=batch)
    assert sum(d.shape[0] for d in model.draws) == k
    np.testing.assert_allclose(bound, numpy_bound(model, x, model.draws), rtol=0, atol=1e-12)


def test_log_likelihood_record_from_the_per_example_bounds():
    """importance_sampled_log_likelihood averages the per-example NumPy bounds: mean, stderr = std(ddof=1)
    / sqrt(n), lower/upper = mean -+ 3 stderr, method naming k, n the number of examples."""
    model = RecordingMachine((5, 3), seed=3)
    x = binary(5)[::3]
    ll = importance_sampled_log_likelihood(model, x, 30, seed=1)
    ref = numpy_bound(model, x, model.draws)
    stderr = ref.std(ddof=1) / math.sqrt(ref.size)
    assert isinstance(ll, LogLikelihoodEstimate)
    np.testing.assert_allclose(ll.per_example, ref, rtol=0, atol=1e-12)
    assert ll.mean == pytest.approx(ref.mean(), rel=0, abs=1e-12)
    assert ll.stderr == pytest.approx(stderr, rel=1e-10)
    interval = (ref.mean() - 3 * stderr, ref.mean() + 3 * stderr)
    assert (ll.lower, ll.upper) == pytest.approx(interval, rel=1e-10)
    assert (ll.method, ll.k, ll.n, ll.value) == ("importance_weighted(k=30)", 30, ref.size, ll.mean)
    assert ll.bits == pytest.approx(ref.mean() / math.log(2), rel=1e-12)


def test_bound_of_a_model_without_any_variable():
    """With no visible and no latent unit every weight is 1, so L_k = log p(x) = 0 for every k (the
    default batch is still defined for a model of width 0)."""
    x = np.zeros((3, 0))
    np.testing.assert_array_equal(importance_weighted_bound(NoVariables(), x, 7, seed=0), np.zeros(3))
    ll = importance_sampled_log_likelihood(NoVariables(), x, 12, seed=0)
    assert (ll.mean, ll.stderr, ll.n) == (0.0, 0.0, 3)


@pytest.mark.parametrize(("k", "got"), [(0, "0"), (2.5, "2.5"), (True, "True")])
def test_errors_of_importance_sampled_log_likelihood_name_it(k, got):
    """Argument errors raised while computing the bound name importance_sampled_log_likelihood, not the
    helper, with the house-style message."""
    model = HelmholtzMachine((3, 2), seed=0)
    message = (f"The 'k' parameter of importance_sampled_log_likelihood must be an int >= 1. "
               f"Got {got} instead.")
    with pytest.raises(ValueError) as info:
        importance_sampled_log_likelihood(model, binary(3), k)
    assert str(info.value) == message


def test_bad_batch_and_seed_name_importance_sampled_log_likelihood():
    """The 'batch' and 'seed' errors also name importance_sampled_log_likelihood."""
    model, x = HelmholtzMachine((3, 2), seed=0), binary(3)
    owner = "parameter of importance_sampled_log_likelihood must be"
    with pytest.raises(ValueError, match=rf"^The 'batch' {owner}"):
        importance_sampled_log_likelihood(model, x, 5, batch=0)
    with pytest.raises(ValueError, match=rf"^The 'seed' {owner}"):
        importance_sampled_log_likelihood(model, x, 5, seed=-1)


# ---------------------------------------------------------------------------- variational and likelihood


def record(energy_method="monte-carlo", entropy_method="analytic"):
    """A HelmholtzFreeEnergy record of 4 examples built by hand (per-example values and stderrs)."""
    energy, entropy = np.array([3.0, 4.5, 2.0, 5.5]), np.array([1.0, 1.5, 0.5, 2.0])
    energy_se, entropy_se = np.array([0.2, 0.1, 0.4, 0.2]), np.array([0.0, 0.3, 0.0, 0.4])
    return HelmholtzFreeEnergy(energy, energy_se, entropy, entropy_se, energy - entropy, energy_se + 0.1,
                               None, None, None, 1.0, 50, energy_method, entropy_method)  # fmt: skip


@pytest.mark.parametrize(("quantity", "method"), [
    ("free_energy", "monte-carlo/analytic"), ("energy", "monte-carlo"), ("entropy", "analytic"),
])
def test_helmholtz_mean_in_the_common_shape(quantity, method):
    """HelmholtzFreeEnergy.mean: the mean over examples, stderr sqrt(sum se_i^2) / n, the 3-stderr
    interval, n, and a method naming how the quantity was computed (energy/entropy for F)."""
    rec = record()
    values, se = getattr(rec, quantity), getattr(rec, f"{quantity}_stderr")
    stderr = math.sqrt(float(np.sum(se**2))) / se.size
    m = rec.mean(quantity)
    assert isinstance(m, Mean)
    assert (m.value, m.stderr) == pytest.approx((values.mean(), stderr), rel=1e-14)
    interval = (values.mean() - 3 * stderr, values.mean() + 3 * stderr)
    assert (m.lower, m.upper) == pytest.approx(interval, rel=1e-14)
    assert (m.method, m.n) == (method, 4)


def test_helmholtz_mean_methods_of_a_computed_result():
    """The methods of the means of helmholtz_free_energy's results: exact/exact when enumerated,
    monte-carlo/analytic for sampled energies of a one-layer machine."""
    hm = randomise(HelmholtzMachine((5, 3), seed=0), seed=4)
    x = binary(5)[:6]
    assert variational.helmholtz_free_energy(hm, x).mean().method == "exact/exact"
    sampled = variational.helmholtz_free_energy(hm, x, method="sample", n_samples=5, seed=0)
    assert [sampled.mean(q).method for q in ("free_energy", "energy", "entropy")] == [
        "monte-carlo/analytic", "monte-carlo", "analytic"]


def test_helmholtz_mean_of_an_unknown_quantity():
    """The whole house-style message: the argument, the owner, the allowed names and the value."""
    with pytest.raises(ValueError) as info:
        record().mean("gap")
    assert str(info.value) == ("The 'quantity' parameter of HelmholtzFreeEnergy.mean must be 'free_energy', "
                               "'energy' or 'entropy'. Got 'gap' instead.")


def test_enumeration_chunk_of_one_example_holds_the_whole_budget(monkeypatch):
    """With one example a chunk holds _ENUM_ELEMENTS configurations (4 of the 8 here), and the tempered
    posterior still equals the NumPy enumeration."""
    monkeypatch.setattr(variational, "_ENUM_ELEMENTS", 4)
    model = RecordingMachine((4, 3), seed=5)
    x = binary(4)[5:6]
    post = tempered_posterior(model, x, 0.7)
    assert model.shapes == [(4, 1), (4, 1)]
    np.testing.assert_allclose(post.numpy(), sbn_enumerate(numpy_params(model), x.numpy(), 0.7).posterior,
                               rtol=0, atol=1e-13)


@pytest.mark.parametrize("function", ["log_likelihood", "bracket", "raise_log_likelihood"])
def test_likelihood_data_that_are_not_binary_get_the_hint(function):
    """Grey levels given to a Bernoulli RBM are rejected with the hint to binarise them first."""
    model = random_rbm(4, 2, 1.0, 0)
    data = np.array([[0.0, 1.0, 0.5, 1.0]])
    calls = {
        "log_likelihood": lambda: log_likelihood(model, data, 1.0),
        "bracket": lambda: bracket(model, data, forward=_estimate("ais"), reverse=_estimate("reverse_ais")),
        "raise_log_likelihood": lambda: raise_log_likelihood(model, data, betas=default_betas(10), seed=0),
    }
    with pytest.raises(ValueError) as info:
        calls[function]()
    assert str(info.value) == (f"The 'data' parameter of {function} must hold 0/1 values for a BernoulliRBM. "
                               f"Got a value of 0.5 instead (binarise grey levels first).")


def _estimate(method):
    """A log Z estimate of the given method (the bracket only checks the method names here)."""
    return Estimate(1.0, 0.0, 1.0, 1.0, method, 10)


@pytest.mark.parametrize("function", ["log_likelihood", "bracket", "raise_log_likelihood"])
def test_likelihood_free_energies_do_not_revalidate_the_data(function, monkeypatch):
    """The data are validated once at the boundary: the free energies are computed with the model's own
    checks off (its _batch validator is never called), and still equal -F(v) - log Z in NumPy."""
    model = random_rbm(4, 2, 1.0, 0)
    data = binary(4)[[1, 6, 11]]
    calls = []
    real = model._batch
    monkeypatch.setattr(model, "_batch", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    if function == "log_likelihood":
        ll = log_likelihood(model, data, 2.0)
        free = rbm_free_energy(numpy_params(model), data.numpy())
        assert ll.mean == pytest.approx(-free.mean() - 2.0, rel=1e-12)
    elif function == "bracket":
        bracket(model, data, forward=_estimate("ais"), reverse=_estimate("reverse_ais"))
    else:
        raise_log_likelihood(model, data, betas=default_betas(10), seed=0)
    assert calls == []
