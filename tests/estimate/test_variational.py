"""Tests of freeenergy.estimate.variational: F[q] = <E>_q - T H(q), its gap, the IWAE bound.

References:
- Neal & Hinton (1998), "A view of the EM algorithm...": F[q] = <E>_q - H(q) >= -log p(x) with
  gap KL(q || p(z|x)); at temperature T the minimiser is p(z|x)^(1/T) normalised and the
  minimum is -T log sum_z exp(-E/T) (Gibbs variational principle).
- Burda, Grosse & Salakhutdinov (ICLR 2016): E[L_k] increases with k and L_k -> log p(x).
- Ground truth: brute-force sums over every latent configuration of small Helmholtz machines,
  written in NumPy from the weights (tests/references.py, never through the model's own
  log_joint / log q).
Stochastic checks use fixed seeds and z-score thresholds of 4-5 sigma (failure rate < 1e-4 per
check for a correct implementation).
"""

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.special import logsumexp, xlogy

from freeenergy.estimate import variational
from freeenergy.estimate.variational import (
    HelmholtzFreeEnergy,
    LatentVariableModel,
    LogLikelihoodEstimate,
    enumerated_free_energy,
    helmholtz_free_energy,
    importance_sampled_log_likelihood,
    importance_weighted_bound,
    tempered_posterior,
)
from freeenergy.models.helmholtz import HelmholtzMachine
from references import bernoulli_entropy, configurations, numpy_params, sbn_enumerate, sbn_rec_logits
from torch_helpers import binary, randomise


def brute_force(model, x, T=1.0):
    """F_T[q], its parts and its gap for a Helmholtz machine, enumerated in NumPy from the weights."""
    return sbn_enumerate(numpy_params(model), x, T)


class LinearGaussian(torch.nn.Module):
    """p(z) = N(0, I), p(x | z) = N(W z + b, s^2 I), q(z | x) = N(A x + c, diag(sig^2)).

    With orthogonal columns of W the exact posterior is diagonal, so q can equal it; log p(x)
    = log N(x; b, W W^T + s^2 I) is known in closed form. Continuous latents: nothing to
    enumerate, the entropy is analytic and the samples are reparameterised."""

    def __init__(self, w, b, s, a, c, sig):
        super().__init__()
        t = lambda v: torch.nn.Parameter(torch.as_tensor(v, dtype=torch.float64))  # noqa: E731
        self.w, self.b, self.a, self.c, self.sig = t(w), t(b), t(a), t(c), t(sig)
        self.s = float(s)
        self.n_visible, self.n_latent = self.w.shape

    @classmethod
    def with_posterior(cls, shift=0.0, widen=1.0):
        w, b, s = np.array([[1.5, 0.0], [0.0, -0.7], [0.0, 0.0]]), np.array([0.3, -0.2, 0.1]), 0.8
        wtw = np.diag(w.T @ w)
        var = 1.0 / (1.0 + wtw / s**2)  # posterior variances; mean = var * W^T (x - b) / s^2
        a = (var[:, None] * w.T) / s**2
        return cls(w, b, s, a, -a @ b + shift, np.sqrt(var) * widen)

    def log_prob_x(self, x):
        cov = self.w @ self.w.T + self.s**2 * torch.eye(self.n_visible, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(x)

    def log_joint(self, x, z):
        prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        return prior + torch.distributions.Normal(z @ self.w.T + self.b, self.s).log_prob(x).sum(-1)

    def _q(self, x):
        return torch.distributions.Normal(x @ self.a.T + self.c, self.sig)

    def recognition_sample(self, x, n, generator=None):
        q = self._q(x)
        eps = torch.randn((n, *q.loc.shape), generator=generator, dtype=torch.float64)
        z = q.loc + q.scale * eps
        return z, q.log_prob(z).sum(-1)

    def recognition_log_prob(self, x, z):
        return self._q(x).log_prob(z).sum(-1)

    def recognition_entropy(self, x):
        return self._q(x).entropy().sum(-1)

    def latent_configurations(self):
        return None


class TableModel:
    """A latent-variable model given by two tables, for the edge cases a Helmholtz machine never reaches.

    ``x`` and ``z`` are binary and coded least significant bit first: ``log p(x, z) =
    log_p[code(x), code(z)]`` and ``log q(z | x) = log_q[code(x), code(z)]``, both of shape
    ``(2^n_visible, 2^n_latent)``. Entries may be ``-inf`` (configurations the model forbids,
    latents q never proposes) and ``n_latent`` may be 0. A plain object without ``parameters()``:
    it computes in ``dtype`` and converts nothing, so ``x`` must reach it as a tensor of that dtype
    (a code is a matrix product with a ``dtype`` vector). It records the batch shape of every ``z``
    given to ``log_joint`` (``shapes``) and the codes of every draw, shape (n, b) (``draws``).
    """

    def __init__(self, log_p, log_q, dtype=torch.float64, analytic_entropy=False):
        self.log_p, self.log_q = (torch.as_tensor(t).to(dtype) for t in (log_p, log_q))
        self.n_visible, self.n_latent = (n.bit_length() - 1 for n in self.log_p.shape)
        self.analytic_entropy = analytic_entropy
        self.shapes, self.draws = [], []

    def _code(self, v, n):
        return (v @ 2.0 ** torch.arange(n, dtype=self.log_q.dtype)).long()

    def _bits(self, codes, n):
        return ((codes[..., None] >> torch.arange(n)) & 1).to(self.log_q.dtype)

    def log_joint(self, x, z):
        self.shapes.append(tuple(z.shape[:-1]))
        return self.log_p[self._code(x, self.n_visible), self._code(z, self.n_latent)]

    def recognition_log_prob(self, x, z):
        return self.log_q[self._code(x, self.n_visible), self._code(z, self.n_latent)]

    def recognition_sample(self, x, n, generator=None):
        xc = self._code(x, self.n_visible)
        codes = torch.multinomial(self.log_q[xc].exp(), n, replacement=True, generator=generator).T
        self.draws.append(codes)
        return self._bits(codes, self.n_latent), self.log_q[xc, codes]

    def recognition_entropy(self, x):
        if not self.analytic_entropy:
            return None
        log_q = self.log_q[self._code(x, self.n_visible)]
        return -torch.where(log_q > -math.inf, log_q.exp() * log_q, 0.0).sum(-1)

    def latent_configurations(self):
        return self._bits(torch.arange(2**self.n_latent), self.n_latent)


class TableModule(TableModel, torch.nn.Module):
    """:class:`TableModel` as a module whose single parameter is the ``log_p`` table, so the library
    must hand it ``x`` in that parameter's dtype."""

    def __init__(self, log_p, log_q, dtype, analytic_entropy=False):
        torch.nn.Module.__init__(self)
        TableModel.__init__(self, log_p, log_q, dtype, analytic_entropy)
        self.log_p = torch.nn.Parameter(self.log_p, requires_grad=False)


def tables(n_visible, n_latent, seed=0, constrained=False):
    """Random ``log p(x, z)`` and normalised ``log q(z | x)`` tables. ``constrained``: p = 0 where
    ``(code(x) + code(z)) % 3 == 1`` and q > 0 only where it is 0 (so q also skips latents p allows)."""
    rng = np.random.default_rng(seed)
    log_p, log_q = rng.normal(size=(2, 2**n_visible, 2**n_latent)) * 1.5
    if constrained:
        residue = np.add.outer(np.arange(2**n_visible), np.arange(2**n_latent)) % 3
        log_p[residue == 1] = log_q[residue != 0] = -np.inf
    return log_p, log_q - logsumexp(log_q, axis=1, keepdims=True)


def table_reference(log_p, log_q, codes, T=1.0):
    """F_T[q], its parts, -T log sum_z exp(-E/T), T KL(q || p_T) and p_T of the examples with these
    ``x`` codes, summed over the table columns (terms with q = 0 contribute 0; Neal & Hinton 1998)."""
    lp, lq = log_p[codes].T, log_q[codes].T
    q = np.exp(lq)
    lp_on, lq_on = np.where(q > 0, lp, 0.0), np.where(q > 0, lq, 0.0)
    log_z = logsumexp(lp / T, axis=0)
    energy, entropy = -(q * lp_on).sum(0), -(q * lq_on).sum(0)
    return SimpleNamespace(
        q=q, energy=energy, entropy=entropy, free_energy=energy - T * entropy, exact=-T * log_z,
        gap=T * (q * (lq_on - lp_on / T + log_z)).sum(0), posterior=np.exp(lp / T - log_z),
    )  # fmt: skip


@pytest.fixture
def tiny():
    return randomise(HelmholtzMachine((3, 2, 2), seed=0), scale=1.5, seed=1)


@pytest.fixture
def deep():
    return randomise(HelmholtzMachine((5, 3, 2), seed=0), scale=1.0, seed=2)


@pytest.fixture
def shallow():
    return randomise(HelmholtzMachine((5, 4), seed=0), scale=1.0, seed=3)


# ---------------------------------------------------------------------------- exact free energy


def test_exact_free_energy_is_minus_log_marginal_and_normalises(tiny):
    x = binary(3)
    res = helmholtz_free_energy(tiny, x)
    np.testing.assert_allclose(res.exact_free_energy, brute_force(tiny, x).exact, rtol=0, atol=1e-12)
    assert math.isclose(np.exp(-res.exact_free_energy).sum(), 1.0, abs_tol=1e-12)  # sum_x p(x) = 1
    assert res.exact_free_energy.dtype == np.float64


@pytest.mark.parametrize("T", [0.3, 1.0, 2.5])
def test_exact_path_decomposition_and_gap_is_kl(deep, T):
    x = binary(5)
    res = helmholtz_free_energy(deep, x, T=T)
    assert (res.energy_method, res.entropy_method, res.n_samples) == ("exact", "exact", 0)
    ref = brute_force(deep, x, T)
    for name in ("energy", "entropy", "free_energy"):  # observed error ~5e-15
        np.testing.assert_allclose(getattr(res, name), getattr(ref, name), rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(res.exact_free_energy, ref.exact, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.gap_kl, ref.gap, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.gap, ref.gap, rtol=0, atol=1e-12)
    assert (res.gap >= -1e-12).all()
    assert not res.energy_stderr.any() and not res.free_energy_stderr.any()


@pytest.mark.parametrize("seed", range(5))
def test_bound_holds_for_random_recognition_nets(seed):
    model = randomise(HelmholtzMachine((4, 2, 3), seed=0), scale=2.0, seed=10 + seed)
    x = binary(4)
    for T in (0.5, 1.0, 2.0):
        res = helmholtz_free_energy(model, x, T=T)
        assert (res.free_energy >= res.exact_free_energy - 1e-12).all()
        np.testing.assert_allclose(res.gap, res.gap_kl, rtol=0, atol=1e-12)


def test_analytic_entropy_for_one_layer(shallow):
    """One hidden layer: q is a product of Bernoulli(p_j), H = sum_j -p_j log p_j - (1 - p_j) log(1 - p_j)."""
    x = binary(5)[::3]
    exact = helmholtz_free_energy(shallow, x)
    sampled = helmholtz_free_energy(shallow, x, method="sample", n_samples=10, seed=0)
    assert sampled.entropy_method == "analytic" and not sampled.entropy_stderr.any()
    closed = bernoulli_entropy(sbn_rec_logits(numpy_params(shallow), 0, x.numpy()))
    np.testing.assert_allclose(sampled.entropy, closed, rtol=0, atol=1e-12)
    np.testing.assert_allclose(exact.entropy, closed, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sampled.free_energy_stderr, sampled.energy_stderr)


# ---------------------------------------------------------------------------- Monte Carlo


@pytest.mark.parametrize("fixture", ["deep", "shallow"])
def test_monte_carlo_agrees_with_exact_within_stderr(fixture, request):
    model = request.getfixturevalue(fixture)
    x = binary(5)[::4]
    exact = brute_force(model, x, T=1.5)
    mc = helmholtz_free_energy(model, x, T=1.5, method="sample", n_samples=4000, seed=7)
    assert mc.energy_method == "monte-carlo" and mc.n_samples == 4000
    for name in ("energy", "entropy", "free_energy"):
        err = getattr(mc, f"{name}_stderr")
        diff = getattr(mc, name) - getattr(exact, name)
        if not err.any():
            np.testing.assert_allclose(diff, 0, atol=1e-12)
            continue
        assert (np.abs(diff) / err < 4.5).all(), name
    # the reported exact quantities do not depend on the method; the gap uses the MC F[q]
    np.testing.assert_allclose(mc.exact_free_energy, exact.exact, atol=1e-13)
    np.testing.assert_allclose(mc.gap_kl, exact.gap, atol=1e-13)
    np.testing.assert_allclose(mc.gap, mc.free_energy - exact.exact, atol=1e-13)


def test_monte_carlo_stderr_is_calibrated(deep):
    """Across 200 seeds, (estimate - exact) / stderr has mean ~0 and standard deviation ~1."""
    x = binary(5)[[3, 17]]
    exact = brute_force(deep, x)
    z_scores = []
    for seed in range(200):
        mc = helmholtz_free_energy(deep, x, method="sample", n_samples=200, seed=seed)
        z_scores.append((mc.free_energy - exact.free_energy) / mc.free_energy_stderr)
        z_scores.append((mc.energy - exact.energy) / mc.energy_stderr)
    z = np.asarray(z_scores)
    assert abs(z.mean()) < 0.2
    assert 0.85 < z.std() < 1.15


def test_same_seed_same_result(deep):
    x = binary(5)[:6]
    a = helmholtz_free_energy(deep, x, method="sample", n_samples=30, seed=3)
    b = helmholtz_free_energy(deep, x, method="sample", n_samples=30, seed=3)
    c = helmholtz_free_energy(deep, x, method="sample", n_samples=30, seed=4)
    np.testing.assert_array_equal(a.free_energy, b.free_energy)
    assert not np.array_equal(a.free_energy, c.free_energy)


def test_single_sample_has_nan_stderr(deep):
    res = helmholtz_free_energy(deep, binary(5)[:2], method="sample", n_samples=1, seed=0)
    assert np.isnan(res.energy_stderr).all() and np.isfinite(res.energy).all()


def test_not_enumerable_model_uses_monte_carlo():
    model = randomise(HelmholtzMachine((6, 12, 10), seed=0), scale=0.5, seed=4)
    x = model.sample(4, seed=0)
    res = helmholtz_free_energy(model, x, n_samples=50, seed=0)
    assert res.exact_free_energy is None and res.gap is None and res.gap_kl is None
    assert res.entropy_method == "monte-carlo" and res.mean_gap is None
    assert "gap" not in str(res)
    bits = res.in_bits()  # the missing exact parts stay missing
    assert bits.gap is None and bits.exact_free_energy is None and bits.gap_kl is None
    np.testing.assert_allclose(bits.free_energy, res.free_energy / math.log(2))
    with pytest.raises(ValueError, match="enumerated"):
        helmholtz_free_energy(model, x, method="exact")


# ---------------------------------------------------------------------------- temperature


@pytest.mark.parametrize("T", [0.4, 1.0, 3.0])
def test_tempered_posterior_minimises_free_energy(deep, T):
    x = binary(5)[[1, 12, 30]]
    p_t = tempered_posterior(deep, x, T)
    assert p_t.shape == (32, 3) and p_t.dtype == torch.float64
    np.testing.assert_allclose(p_t.sum(0).numpy(), 1.0, atol=1e-12)
    ref = brute_force(deep, x, T)
    np.testing.assert_allclose(p_t.numpy(), ref.posterior, rtol=0, atol=1e-13)
    minimum = ref.exact
    f_p = enumerated_free_energy(deep, x, p_t, T=T)
    np.testing.assert_allclose(f_p, minimum, rtol=0, atol=1e-12)
    rng = np.random.default_rng(0)
    configs = configurations(5, lsb_first=True)  # the row order of latent_configurations
    for _ in range(50):
        q_any = rng.dirichlet(np.full(32, 0.5), size=3).T
        f_any = enumerated_free_energy(deep, x, q_any, T=T)
        explicit = (T * xlogy(q_any, q_any) - q_any * ref.log_p).sum(0)  # <E>_q - T H(q)
        np.testing.assert_allclose(f_any, explicit, rtol=0, atol=1e-12)
        assert (f_any > minimum).all()
        means = rng.uniform(size=(3, 5))  # a factorised Bernoulli q over all latents
        q_fact = np.prod(np.where(configs[:, None, :] == 1, means, 1 - means), axis=-1)
        assert (enumerated_free_energy(deep, x, q_fact, T=T) > minimum).all()
        bumped = p_t.numpy() * rng.uniform(0.9, 1.1, size=p_t.shape)  # nearby distributions
        bumped /= bumped.sum(0)
        assert (enumerated_free_energy(deep, x, bumped, T=T) >= minimum - 1e-12).all()
    # the model's own q: the explicit-q evaluation gives the brute-force F_T[q]
    np.testing.assert_allclose(enumerated_free_energy(deep, x, ref.q, T=T), ref.free_energy, atol=1e-12)


def test_enumeration_in_chunks_matches_one_pass(deep, monkeypatch):
    x = binary(5)
    whole = helmholtz_free_energy(deep, x, T=0.7)
    monkeypatch.setattr(variational, "_ENUM_ELEMENTS", 100)  # 3 configurations per chunk
    chunked = helmholtz_free_energy(deep, x, T=0.7)
    for name in ("energy", "entropy", "free_energy", "exact_free_energy", "gap_kl"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(whole, name), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        tempered_posterior(deep, x, 0.7).sum(0).numpy(), np.ones(x.shape[0]), rtol=0, atol=1e-12
    )


def test_tempered_posterior_at_t1_is_the_posterior(tiny):
    x = binary(3)
    ref = brute_force(tiny, x)
    posterior = np.exp(ref.log_p + ref.exact)  # p(x, z) / p(x)
    np.testing.assert_allclose(tempered_posterior(tiny, x, 1.0).numpy(), posterior, atol=1e-13)


# ---------------------------------------------------------------------------- records


def test_continuous_latents_exact_posterior_closes_the_gap():
    model = LinearGaussian.with_posterior()
    assert isinstance(model, LatentVariableModel)
    x = torch.tensor([[0.5, -1.0, 0.2], [2.0, 0.3, -0.4], [-1.0, -1.0, 1.0]], dtype=torch.float64)
    log_px = model.log_prob_x(x).detach().numpy()
    mc = helmholtz_free_energy(model, x, n_samples=50, seed=0)
    assert (mc.energy_method, mc.entropy_method, mc.gap) == ("monte-carlo", "analytic", None)
    # q = posterior: E + log q = -log p(x) for every sample, so F[q] is exact and the IWAE too
    z, log_q = model.recognition_sample(x, 50, generator=torch.Generator().manual_seed(0))
    per_sample = (-model.log_joint(x, z) + log_q).detach().numpy()
    np.testing.assert_allclose(per_sample, np.broadcast_to(-log_px, per_sample.shape), atol=1e-12)
    assert abs(mc.mean_free_energy - (-log_px).mean()) < 4 * mc.mean_free_energy_stderr + 1e-9
    np.testing.assert_allclose(importance_weighted_bound(model, x, 7, seed=1), log_px, atol=1e-12)


def test_record_is_frozen_and_converts_to_bits(deep):
    res = helmholtz_free_energy(deep, binary(5)[:4])
    ref = brute_force(deep, binary(5)[:4])
    assert isinstance(res, HelmholtzFreeEnergy)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.T = 2.0
    with pytest.raises(ValueError):
        res.energy[0] = 0.0
    bits = res.in_bits()
    assert bits.unit == "bits" and bits.in_bits() is bits
    for name in ("energy", "entropy", "free_energy", "exact_free_energy", "gap", "gap_kl"):
        np.testing.assert_allclose(getattr(bits, name), getattr(res, name) / math.log(2))
    assert math.isclose(res.mean_free_energy, res.free_energy.mean())
    means = {"energy": ref.energy, "entropy": ref.entropy, "free_energy": ref.free_energy,
             "exact_free_energy": ref.exact, "gap": ref.gap}
    for name, values in means.items():
        assert getattr(res, f"mean_{name}") == pytest.approx(values.mean(), rel=0, abs=1e-12), name
    assert res.mean_free_energy_stderr == 0.0 and res.mean_gap >= 0
    assert "exact F" in str(res) and "nats" in str(res)


def test_float32_model_gives_float64_results():
    model = randomise(HelmholtzMachine((4, 3), seed=0), seed=5).to(torch.float32)
    res = helmholtz_free_energy(model, binary(4), method="sample", n_samples=20, seed=0)
    assert res.free_energy.dtype == np.float64 and res.exact_free_energy.dtype == np.float64
    assert importance_weighted_bound(model, binary(4), 20, seed=0).dtype == np.float64


# ---------------------------------------------------------------------------- table models


@pytest.mark.parametrize("T", [0.7, 1.0, 2.0])
def test_forbidden_and_unproposed_configurations(T):
    """Terms with q(z | x) = 0 contribute nothing, also where p(x, z) = 0 (log p = -inf): the sums
    of Neal & Hinton (1998) over a table, by enumeration and with an explicit q. The model is a
    plain object (no parameters: float64 on the CPU) and x a plain list."""
    log_p, log_q = tables(2, 3, seed=1, constrained=True)
    model = TableModel(log_p, log_q)
    x = configurations(2, lsb_first=True).tolist()
    ref = table_reference(log_p, log_q, np.arange(4), T)
    res = helmholtz_free_energy(model, x, T=T)
    for name in ("energy", "entropy", "free_energy"):  # observed error ~1e-15
        np.testing.assert_allclose(getattr(res, name), getattr(ref, name), rtol=0, atol=1e-12, err_msg=name)
        np.testing.assert_array_equal(getattr(res, f"{name}_stderr"), np.zeros(4), strict=True)
    np.testing.assert_allclose(res.exact_free_energy, ref.exact, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.gap_kl, ref.gap, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tempered_posterior(model, x, T).numpy(), ref.posterior, rtol=0, atol=1e-13)
    f_q = enumerated_free_energy(model, x, ref.q, T=T)
    np.testing.assert_allclose(f_q, ref.free_energy, rtol=0, atol=1e-12)


def test_float32_model_is_summed_in_float64():
    """A float32 model (dtype taken from its one parameter) gets x in float32, and every sum over
    its float32 log-probabilities runs in float64: the reference sums the same float32 values in
    float64 (observed error ~1e-15; float32 sums would be off by ~1e-7). Monte Carlo parts are
    the plain means of the model's own draws, E + T log q per draw, at T = 0.7."""
    log_p, log_q = (t.astype(np.float32) for t in tables(2, 2, seed=2))
    lp, lq = log_p.astype(np.float64), log_q.astype(np.float64)
    x, codes, T = configurations(2, lsb_first=True).tolist(), np.arange(4), 0.7
    model = TableModule(log_p, log_q, torch.float32)
    ref = table_reference(lp, lq, codes, T)
    res = helmholtz_free_energy(model, x, T=T)
    for name, want in [("energy", ref.energy), ("entropy", ref.entropy), ("exact_free_energy", ref.exact),
                       ("gap_kl", ref.gap)]:  # fmt: skip
        np.testing.assert_allclose(getattr(res, name), want, rtol=0, atol=1e-12, err_msg=name)
    p_t = tempered_posterior(model, x, T)
    assert p_t.dtype == torch.float64
    np.testing.assert_allclose(p_t.numpy(), ref.posterior, rtol=0, atol=1e-13)
    mc = helmholtz_free_energy(model, x, T=T, method="sample", n_samples=1000, seed=0)
    drawn = model.draws[-1].numpy()
    e, log_q_drawn = -lp[codes, drawn], lq[codes, drawn]
    np.testing.assert_allclose(mc.energy, e.mean(0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(mc.entropy, -log_q_drawn.mean(0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(mc.free_energy, (e + T * log_q_drawn).mean(0), rtol=0, atol=1e-12)
    analytic = TableModule(log_p, log_q, torch.float32, analytic_entropy=True)
    mc = helmholtz_free_energy(analytic, x, T=T, method="sample", n_samples=1000, seed=0)
    entropy = analytic.recognition_entropy(torch.tensor(x, dtype=torch.float32)).double().numpy()
    np.testing.assert_array_equal(mc.entropy, entropy)
    np.testing.assert_array_equal(mc.entropy_stderr, np.zeros(4), strict=True)
    e = -lp[codes, analytic.draws[-1].numpy()]
    np.testing.assert_allclose(mc.free_energy, e.mean(0) - T * entropy, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_samples", [2, 7])
def test_monte_carlo_mean_and_stderr_of_the_draws(n_samples):
    """Each Monte Carlo part is the mean of its per-draw values over the model's own draws, with
    stderr ``std(ddof=1) / sqrt(n)`` per example (``|a - b| / 2`` for two draws); the mean's
    stderr is ``sqrt(sum stderr^2) / b`` (independent examples)."""
    log_p, log_q = tables(3, 2, seed=3)
    model, rows, T = TableModel(log_p, log_q), np.array([1, 4, 6]), 1.5
    res = helmholtz_free_energy(model, configurations(3, lsb_first=True)[rows], T=T, method="sample",
                                n_samples=n_samples, seed=3)  # fmt: skip
    drawn = model.draws[-1].numpy()
    e, lq = -log_p[rows, drawn], log_q[rows, drawn]
    for name, values in [("energy", e), ("entropy", -lq), ("free_energy", e + T * lq)]:
        np.testing.assert_allclose(getattr(res, name), values.mean(0), rtol=0, atol=1e-12, err_msg=name)
        stderr = values.std(0, ddof=1) / math.sqrt(n_samples)
        np.testing.assert_allclose(getattr(res, f"{name}_stderr"), stderr, rtol=0, atol=1e-12, err_msg=name)
    f_err = (e + T * lq).std(0, ddof=1) / math.sqrt(n_samples)
    assert res.mean_free_energy_stderr == pytest.approx(math.sqrt((f_err**2).sum()) / 3, rel=1e-12)


def test_enumeration_chunks_respect_the_memory_bound(monkeypatch):
    """At most ``_ENUM_ELEMENTS`` (configuration, example) pairs are evaluated at once: with 4 and 4
    examples, one configuration per call, in every enumerating function; results unchanged."""
    monkeypatch.setattr(variational, "_ENUM_ELEMENTS", 4)
    log_p, log_q = tables(1, 3, seed=5, constrained=True)
    model, codes, T = TableModel(log_p, log_q), np.array([0, 1, 1, 0]), 0.8
    x = configurations(1, lsb_first=True)[codes]
    ref = table_reference(log_p, log_q, codes, T)
    res = helmholtz_free_energy(model, x, T=T)
    np.testing.assert_allclose(res.free_energy, ref.free_energy, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.exact_free_energy, ref.exact, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.gap_kl, ref.gap, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tempered_posterior(model, x, T).numpy(), ref.posterior, rtol=0, atol=1e-13)
    f_q = enumerated_free_energy(model, x, ref.q, T=T)
    np.testing.assert_allclose(f_q, ref.free_energy, rtol=0, atol=1e-12)
    assert set(model.shapes) == {(1, 1)}


def test_model_without_latents():
    """n_latent = 0 (one empty latent configuration, q = 1): F_T[q] = -log p(x) = the exact free
    energy at every T, the tempered posterior is 1 and L_k = log p(x)."""
    log_px = np.log([0.1, 0.2, 0.3, 0.4])
    model = TableModel(log_px[:, None], np.zeros((4, 1)))
    x = configurations(2, lsb_first=True)
    res = helmholtz_free_energy(model, x, T=0.5)
    assert model.n_latent == 0
    np.testing.assert_allclose(res.free_energy, -log_px, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.exact_free_energy, -log_px, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tempered_posterior(model, x, 0.5).numpy(), np.ones((1, 4)), rtol=0, atol=1e-15)
    np.testing.assert_allclose(enumerated_free_energy(model, x, np.ones((1, 4)), T=0.5), -log_px, atol=1e-12)
    np.testing.assert_allclose(importance_weighted_bound(model, x, 3, seed=0), log_px, rtol=0, atol=1e-12)


def test_documented_defaults():
    """T = 1 for tempered_posterior and enumerated_free_energy, n_samples = 100 draws for
    helmholtz_free_energy and k = 5000 importance samples for importance_sampled_log_likelihood."""
    log_p, log_q = tables(2, 2, seed=8)
    model, x = TableModel(log_p, log_q), configurations(2, lsb_first=True)
    ref = table_reference(log_p, log_q, np.arange(4))
    np.testing.assert_allclose(tempered_posterior(model, x).numpy(), ref.posterior, rtol=0, atol=1e-13)
    np.testing.assert_allclose(enumerated_free_energy(model, x, ref.q), ref.free_energy, rtol=0, atol=1e-12)
    res = helmholtz_free_energy(model, x, method="sample", seed=0)
    assert res.n_samples == 100 and model.draws[-1].shape == (100, 4)
    model.draws.clear()
    assert importance_sampled_log_likelihood(model, x[:1], seed=0).k == 5000
    assert sum(draw.shape[0] for draw in model.draws) == 5000


def test_records_store_float64_arrays_and_python_scalars():
    """Records built directly convert their arrays to read-only float64 and T, n_samples, mean and
    stderr to Python float / int, as documented."""
    rec = HelmholtzFreeEnergy([1, 2], [0, 0], [0, 1], [0, 0], [1, 1], [0, 0], None, None, None,
                              T=2, n_samples=np.int64(3), energy_method="monte-carlo",
                              entropy_method="analytic")  # fmt: skip
    assert all(getattr(rec, name).dtype == np.float64 for name in ("energy", "entropy", "free_energy"))
    assert type(rec.T) is float and type(rec.n_samples) is int
    ll = LogLikelihoodEstimate(-85, np.float32(0.5), [-84, -86], 5000, 2)
    assert ll.per_example.dtype == np.float64
    assert type(ll.mean) is float and type(ll.stderr) is float
    assert str(ll) == "log p(x) = -85.0000 ± 0.5 nats per example (k = 5000, n = 2)"


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, "'n_samples' parameter of helmholtz_free_energy must be an int >= 1"),
        ({"n_samples": 2.0}, "'n_samples'"),
        ({"T": 0.0}, "'T' parameter of helmholtz_free_energy must be a finite number > 0"),
        ({"T": -1.0}, "'T' parameter"),
        ({"T": math.nan}, "'T' parameter"),
        ({"method": "magic"}, "'method' parameter"),
        ({"seed": -3}, "'seed' parameter"),
    ],
)
def test_bad_arguments(deep, kwargs, match):
    with pytest.raises(ValueError, match=match):
        helmholtz_free_energy(deep, binary(5)[:2], **kwargs)


def test_bad_iwae_arguments_and_model(deep):
    x = binary(5)[:2]
    with pytest.raises(ValueError, match="'k' parameter of importance_weighted_bound"):
        importance_weighted_bound(deep, x, 0)
    with pytest.raises(ValueError, match="'batch' parameter"):
        importance_weighted_bound(deep, x, 5, batch=0)
    with pytest.raises(ValueError, match="'k' parameter"):
        importance_sampled_log_likelihood(deep, x, k=-1)
    with pytest.raises(TypeError, match="LatentVariableModel"):
        helmholtz_free_energy(object(), x)
    with pytest.raises(ValueError, match="'T' parameter of tempered_posterior"):
        tempered_posterior(deep, x, 0.0)
    with pytest.raises(ValueError, match="'q' parameter of enumerated_free_energy must have shape"):
        enumerated_free_energy(deep, x, np.ones((3, 2)))
    with pytest.raises(ValueError, match="'q' parameter"):
        enumerated_free_energy(deep, x, np.full((32, 2), 0.5))


def test_the_old_name_of_importance_sampled_log_likelihood_still_works():
    with pytest.warns(DeprecationWarning, match=r"variational\.log_likelihood is now "):
        assert variational.log_likelihood is importance_sampled_log_likelihood
