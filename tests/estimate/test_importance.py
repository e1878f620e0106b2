"""Tests of freeenergy.estimate.importance: the k-sample importance-weighted bound on log p(x).

References:
- Burda, Grosse & Salakhutdinov (ICLR 2016): L_k(x) = log (1/k) sum_i p(x, z_i) / q(z_i | x) with
  z_i ~ q(z | x).
- Ground truth: the bound recomputed in NumPy from the very draws the estimator made (recorded by a
  wrapper around the model), with log p(x, z) and log q(z | x) of the Helmholtz machine written
  from its weights (tests/references.py), never through the model's own log_joint / log q.
- Burda et al. (2016): E[L_k] increases with k and L_k -> log p(x), checked against brute-force sums
  over every latent configuration of small Helmholtz machines, against closed forms for a linear
  Gaussian model and against table models (q equal to the posterior, chunk sizes).
Stochastic checks use fixed seeds and z-score thresholds of 4-5 sigma (failure rate < 1e-4 per
check for a correct implementation).

A last section holds tests of freeenergy.estimate.likelihood and freeenergy.estimate.variational
that pin down behaviour the mutation run found untested there (error messages, the common
``Uncertain`` shape of HelmholtzFreeEnergy.mean, chunk sizes, validating data once).
"""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from freeenergy.estimate import importance, variational
from freeenergy.estimate._result import Estimate, Mean
from freeenergy.estimate.ais import default_betas
from freeenergy.estimate.importance import (
    LogLikelihoodEstimate,
    importance_sampled_log_likelihood,
    importance_weighted_bound,
)
from freeenergy.estimate.likelihood import bracket, log_likelihood, raise_log_likelihood
from freeenergy.estimate.variational import HelmholtzFreeEnergy, helmholtz_free_energy, tempered_posterior
from freeenergy.models.helmholtz import HelmholtzMachine
from references import (
    configurations,
    numpy_params,
    rbm_free_energy,
    sbn_enumerate,
    sbn_log_joint,
    sbn_log_recognition,
)
from torch_helpers import binary, random_rbm, randomise

# Module-level helpers and a fixture of test_variational; the tests' arguments of the same name shadow
# the fixture.
# ruff: noqa: F811
from .test_variational import LinearGaussian, TableModel, brute_force, deep, tables  # noqa: F401


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


def test_iwae_increases_with_k_and_converges(deep):
    x = binary(5)[[0, 9, 22, 31]]
    ref = brute_force(deep, x)
    log_px, elbo = -ref.exact, -ref.free_energy
    runs = {
        k: np.array([importance_weighted_bound(deep, x, k, seed=s) for s in range(100)]) for k in (1, 10, 100)
    }
    means = {k: r.mean(0) for k, r in runs.items()}
    errs = {k: r.std(0, ddof=1) / 10 for k, r in runs.items()}
    assert means[1].mean() < means[10].mean() < means[100].mean()  # on average over examples
    assert (means[1] < means[100]).all()
    assert (means[100] <= log_px + 4 * errs[100]).all()  # a lower bound in expectation
    assert (np.abs(means[1] - elbo) < 4 * errs[1]).all()  # E[L_1] is the ELBO
    big = np.array([importance_weighted_bound(deep, x, 5000, seed=s) for s in range(8)])
    err = big.std(0, ddof=1) / math.sqrt(8)
    assert (np.abs(big.mean(0) - log_px) < 4 * err + 1e-3).all()
    assert (np.abs(big.mean(0) - log_px) < 0.02).all()


def test_iwae_chunking_invariance_and_seed(deep):
    x = binary(5)[::5]
    ref = importance_weighted_bound(deep, x, 237, seed=11, batch=237)
    for batch in (None, 1, 7, 10, 64, 5000):
        got = importance_weighted_bound(deep, x, 237, seed=11, batch=batch)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13)  # bitwise equal on CPU today
    assert not np.array_equal(ref, importance_weighted_bound(deep, x, 237, seed=12))
    assert ref.dtype == np.float64 and ref.shape == (x.shape[0],)


def test_iwae_groups_of_examples(deep, monkeypatch):
    monkeypatch.setattr(importance, "EXAMPLE_BLOCK", 3)  # 32 examples in 11 groups
    x = binary(5)
    log_px = -brute_force(deep, x).exact
    a = importance_weighted_bound(deep, x, 2000, seed=5, batch=30)
    b = importance_weighted_bound(deep, x, 2000, seed=5, batch=2000)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    assert np.abs(a - log_px).mean() < 0.05  # heavy-tailed weights on some examples


def test_log_likelihood_record(deep):
    x = binary(5)[::3]
    ll = importance_sampled_log_likelihood(deep, x, k=300, seed=0)
    per = importance_weighted_bound(deep, x, 300, seed=0)
    assert isinstance(ll, LogLikelihoodEstimate) and (ll.k, ll.n) == (300, x.shape[0])
    # against the enumerated mean log p(x): over seeds this k = 300 mean scatters by ~0.03 nats
    # (heavy lower tail, so 0.2); dropping the -log k of the bound would shift it by 5.7
    assert abs(ll.mean - (-brute_force(deep, x).exact).mean()) < 0.2
    np.testing.assert_array_equal(ll.per_example, per)
    assert math.isclose(ll.mean, per.mean())
    assert math.isclose(ll.stderr, per.std(ddof=1) / math.sqrt(per.size))
    assert math.isclose(ll.bits, ll.mean / math.log(2))
    assert "k = 300" in str(ll)
    assert importance_sampled_log_likelihood(deep, x[:1], k=5, seed=0).stderr == 0.0
    two = importance_sampled_log_likelihood(deep, x[:2], k=5, seed=0)  # std(ddof=1) / sqrt(2) of two values
    assert math.isclose(two.stderr, abs(two.per_example[0] - two.per_example[1]) / 2)
    with pytest.raises(ValueError):
        ll.per_example[0] = 0.0


def test_continuous_latents_iwae_converges_from_a_poor_q():
    model = LinearGaussian.with_posterior(shift=0.8, widen=1.6)
    x = torch.tensor([[0.5, -1.0, 0.2], [2.0, 0.3, -0.4]], dtype=torch.float64)
    log_px = model.log_prob_x(x).detach().numpy()
    res = helmholtz_free_energy(model, x, n_samples=4000, seed=0)
    assert (res.free_energy > -log_px + 4 * res.free_energy_stderr).all()  # a strict gap
    bounds = [importance_weighted_bound(model, x, k, seed=2).mean() for k in (1, 50, 5000)]
    assert bounds[0] < bounds[1] < bounds[2] <= log_px.mean() + 1e-3
    # relative spread of the weights ~1.8, so one L_5000 has sd ~0.025: 3 sigma
    np.testing.assert_allclose(importance_weighted_bound(model, x, 5000, seed=3), log_px, atol=0.08)


@pytest.mark.parametrize("k", [1, 9, 17, 237])
def test_iwae_is_exact_when_q_is_the_posterior(k):
    """With q(z | x) = p(z | x) every weight p(x, z) / q(z | x) is p(x), so L_k = log p(x) for every
    k (Burda et al. 2016), k not a multiple of the sample blocks included; zero-probability latents
    are never drawn."""
    log_p, _ = tables(2, 3, seed=4, constrained=True)
    log_px = logsumexp(log_p, axis=1)
    model = TableModel(log_p, log_p - log_px[:, None])
    x = configurations(2, lsb_first=True)
    np.testing.assert_allclose(importance_weighted_bound(model, x, k, seed=0), log_px, rtol=0, atol=1e-12)
    mean = importance_sampled_log_likelihood(model, x, k, seed=1).mean
    assert mean == pytest.approx(log_px.mean(), rel=0, abs=1e-12)


@pytest.mark.parametrize("batch", [1, 10, 15, 30, 1000])
def test_iwae_batch_is_the_samples_evaluated_at_once(batch):
    """``batch`` rounded up to a multiple of SEED_BLOCK is the number of samples per model call (the
    last call takes the rest), for importance_weighted_bound and importance_sampled_log_likelihood alike."""
    model, x, k = TableModel(*tables(1, 3, seed=6)), [[0.0], [1.0]], 37
    per_call = -(-batch // importance.SEED_BLOCK) * importance.SEED_BLOCK
    expected = [min(per_call, k - start) for start in range(0, k, per_call)]
    importance_weighted_bound(model, x, k, seed=0, batch=batch)
    assert [shape[0] for shape in model.shapes] == expected
    model.shapes.clear()
    importance_sampled_log_likelihood(model, x, k, seed=0, batch=batch)
    assert [shape[0] for shape in model.shapes] == expected


@pytest.mark.parametrize(("n_visible", "n_latent"), [(1, 3), (3, 1), (1, 1)])
def test_iwae_default_batch_follows_the_wider_of_x_and_z(n_visible, n_latent, monkeypatch):
    """By default a call holds about ``_IW_ELEMENTS`` numbers for a full group of examples, each as
    wide as the wider of x and z: a budget of EXAMPLE_BLOCK * width * 20 gives 20 samples per call."""
    width = max(n_visible, n_latent)
    monkeypatch.setattr(importance, "_IW_ELEMENTS", importance.EXAMPLE_BLOCK * width * 20)
    model = TableModel(*tables(n_visible, n_latent, seed=7))
    importance_weighted_bound(model, configurations(n_visible, lsb_first=True), 37, seed=0)
    assert [shape[0] for shape in model.shapes] == [20, 17]



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
