"""Tests of freeenergy.estimate.ais_kernel: the chains' random draws, the grouped log-sigmoid sum and
the annealing loop; then, in a section of their own, the bookkeeping of freeenergy.estimate.ais
(interval, record, thread budget, messages) and base_model.base_model_bias called directly.

References:
- Salakhutdinov & Murray, "On the quantitative analysis of deep belief networks" (ICML 2008): one
  block-Gibbs sweep per inner inverse temperature, none after the last weight increment; the
  interval ``log Z_A + log(mean w -+ 3 std(w) / sqrt(n))``.
- Burda, Grosse & Salakhutdinov (AISTATS 2015): reverse AIS, ``log Z = log Z_A - log mean w``, so its
  interval is ``log_z - log1p(+-3 stderr)``.
- NumPy: ``np.random.default_rng(seed)`` is the documented CPU generator of the chains.

Every check here is exact or deterministic: no statistical bound, no seed chosen to pass.
"""

import importlib
import math
import time

import numpy as np
import pytest
import torch
from scipy.special import expit

from freeenergy._threads import SMALL_WORK
from freeenergy.estimate.ais import ais, default_betas, reverse_ais, run_annealing
from freeenergy.estimate.ais_kernel import BernoulliPath, ChainRandom, _log_prod_sigmoid, anneal
from freeenergy.estimate.base_model import base_model_bias
from freeenergy.models import BernoulliRBM
from torch_helpers import random_rbm

CPU = torch.device("cpu")
ais_module = importlib.import_module("freeenergy.estimate.ais")  # the module, not the function


# ---------------------------------------------------------------------------- ChainRandom


def test_cpu_draws_are_numpy_default_rng_draws():
    """On the CPU the draws are ``np.random.default_rng(seed)``'s, in the requested dtype and order."""
    rng, ref = ChainRandom(5, CPU, "owner"), np.random.default_rng(5)
    u32 = rng.uniform((3, 4), torch.float32)
    assert u32.dtype == torch.float32 and np.array_equal(u32.numpy(), ref.random((3, 4), dtype=np.float32))
    u64 = rng.uniform((2, 3), torch.float64)
    assert u64.dtype == torch.float64 and np.array_equal(u64.numpy(), ref.random((2, 3), dtype=np.float64))
    n32 = rng.normal((5,), torch.float32)
    assert n32.dtype == torch.float32
    assert np.array_equal(n32.numpy(), ref.standard_normal((5,), dtype=np.float32))
    n64 = rng.normal((2, 2), torch.float64)
    assert np.array_equal(n64.numpy(), ref.standard_normal((2, 2), dtype=np.float64))
    assert np.array_equal(rng.permutation(9).numpy(), ref.permutation(9))


def test_seed_is_validated_with_the_owner_in_the_message():
    """A negative seed: a ValueError naming the seed and the calling function."""
    with pytest.raises(ValueError, match=r"^The 'seed' parameter of some_owner must be an int >= 0\. Got -1"):
        ChainRandom(-1, CPU, "some_owner")


# ---------------------------------------------------------------------------- _log_prod_sigmoid


@pytest.mark.parametrize("shape", [(2500,), (2, 3, 2100), (4, 999), (3, 1000), (2, 1001)])
def test_log_prod_sigmoid_sums_over_the_last_axis(shape):
    """``sum_j log sigmoid(z_j)`` over the last axis, for any number of leading axes and any length
    (groups of 1000 factors: one group, exactly one, one and a bit, more)."""
    z = np.random.default_rng(0).uniform(0.0, 4.0, shape)
    got = _log_prod_sigmoid(torch.from_numpy(z))
    expected = np.log(expit(z)).sum(-1)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=0)


# ---------------------------------------------------------------------------- anneal


class CountingRandom:
    """A ChainRandom that records the shape of every draw, in order."""

    def __init__(self, seed):
        self.rng, self.draws = ChainRandom(seed, CPU, "test"), []

    def uniform(self, shape, dtype):
        self.draws.append(("uniform", tuple(shape)))
        return self.rng.uniform(shape, dtype)

    def normal(self, shape, dtype):
        self.draws.append(("normal", tuple(shape)))
        return self.rng.normal(shape, dtype)


@pytest.mark.parametrize("n_betas", [2, 3, 6])
def test_anneal_sweeps_once_per_inner_beta(n_betas):
    """``anneal`` makes one block-Gibbs sweep (hiddens, then visibles) at each inner beta and none at
    the last one, after whose weight increment the state is not used: ``len(betas) - 2`` sweeps."""
    model = random_rbm(5, 3, 1.0, 0)
    path = BernoulliPath(model, torch.zeros(5, dtype=torch.float64))
    rng = CountingRandom(0)
    v = path.init(4, rng)
    rng.draws.clear()
    log_w = anneal(path, v, np.linspace(0.0, 1.0, n_betas), rng, False, "test")
    assert log_w.shape == (4,) and log_w.dtype == torch.float64
    assert rng.draws == [("uniform", (4, 3)), ("uniform", (4, 5))] * (n_betas - 2)


# ---------------------------------------------------------------------------- estimate.ais: bookkeeping


def test_reverse_interval_is_log_z_minus_log1p_of_three_stderr():
    """Reverse AIS: ``lower, upper = log_z - log1p(+3 stderr), log_z - log1p(-3 stderr)`` (0 < 3 se < 1)."""
    model = random_rbm(6, 3, 0.3, 0)
    data = (np.random.default_rng(1).random((20, 6)) < 0.5).astype(np.float64)
    rev = reverse_ais(model, data, betas=default_betas(20), base="uniform", seed=0)
    se = rev.stderr
    assert 0 < 3 * se < 1
    assert rev.lower == pytest.approx(rev.log_z - math.log1p(3 * se), abs=1e-12)
    assert rev.upper == pytest.approx(rev.log_z - math.log1p(-3 * se), abs=1e-12)
    assert rev.lower < rev.log_z < rev.upper


def test_two_chains_have_a_finite_stderr():
    """With two chains the delta-method stderr ``std(w, ddof=1) / (mean(w) sqrt(2))`` is finite."""
    est = ais(random_rbm(6, 3, 0.3, 0), n_chains=2, betas=default_betas(20), base="uniform", seed=0)
    lw = est.info["log_weights"]
    w = np.exp(lw - lw.max())
    expected = w.std(ddof=1) / (w.mean() * math.sqrt(2))
    assert 0 < 3 * expected < 1
    assert math.isfinite(est.stderr) and est.stderr == pytest.approx(expected, rel=1e-12)
    assert est.lower == pytest.approx(est.log_z + math.log1p(-3 * expected), abs=1e-12)


def test_interval_is_unbounded_when_three_stderr_is_exactly_one():
    """``3 stderr == 1`` exactly: reverse AIS's upper end is ``+inf`` (``log1p(-1)`` is ``-inf``, not an
    error). With ``W = 0``, hidden bias 0 and betas ``[0, 1]`` a reverse chain started at ``v`` has the
    log weight ``(a_A - a) v``: two examples 0 and 1, ``a - a_A = log 2``, give the weights 1 and 1/2,
    whose ``std(ddof=1) / (mean sqrt(2)) = 1/3``."""
    model = BernoulliRBM(1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.hidden_bias.zero_()
        model.visible_bias.fill_(math.log(2))
    rev = reverse_ais(model, [[0.0], [1.0]], betas=[0.0, 1.0], base=[0.0], seed=0)
    lw = rev.info["log_weights"]
    np.testing.assert_allclose(lw, [0.0, -math.log(2)], rtol=0, atol=1e-15)
    w = np.exp(lw - lw.max())
    assert 3 * (w.std(ddof=1) / (w.mean() * math.sqrt(2))) == 1.0  # the edge case is hit
    assert 3 * rev.stderr == 1.0
    assert rev.upper == math.inf
    assert rev.lower == pytest.approx(rev.log_z - math.log(2), abs=1e-12)


def test_info_records_the_device_and_the_wall_time():
    """``info["device"]`` is the model's device; ``info["seconds"]`` the run's wall time (within the
    call's)."""
    model = random_rbm(6, 3, 1.0, 0)
    t0 = time.perf_counter()
    est = ais(model, n_chains=3, betas=default_betas(10), base="uniform", seed=0)
    elapsed = time.perf_counter() - t0
    assert est.info["device"] == "cpu"
    assert 0 <= est.info["seconds"] <= elapsed
    t0 = time.perf_counter()
    rev = reverse_ais(model, np.eye(6), betas=default_betas(10), base="uniform", seed=0)
    elapsed = time.perf_counter() - t0
    assert rev.info["device"] == "cpu" and 0 <= rev.info["seconds"] <= elapsed


@pytest.mark.parametrize(("n_chains", "n_visible", "n_hidden"), [(2048, 64, 64), (2, 64, 64), (4096, 8, 256)])
@pytest.mark.usefixtures("two_threads")
def test_chains_run_on_the_thread_budget_of_their_work(n_chains, n_visible, n_hidden, monkeypatch):
    """The chains run on one thread when a step's largest product, ``n_chains x n_visible x n_hidden``
    multiply-adds, is below ``SMALL_WORK``, and on the caller's threads (here 2) from it on."""
    seen = []
    real = ais_module.anneal

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(ais_module, "anneal", spy)
    model = BernoulliRBM(n_visible, n_hidden, seed=0)
    ais(model, n_chains=n_chains, betas=[0.0, 1.0], base="uniform", seed=0)
    assert seen == [1 if n_chains * n_visible * n_hidden < SMALL_WORK else 2]
    assert torch.get_num_threads() == 2


def test_reverse_ais_hints_to_binarise_grey_levels():
    """Grey chain starts for a Bernoulli RBM: the value error ends with the hint to binarise them."""
    model = BernoulliRBM(3, 2, seed=0)
    expected = ("The 'data' parameter of reverse_ais must hold 0/1 values for a BernoulliRBM. "
                "Got a value of 0.5 instead (binarise grey levels first).")
    with pytest.raises(ValueError) as err:
        reverse_ais(model, [[0.0, 0.5, 1.0]], betas=[0.0, 1.0], base="uniform", seed=0)
    assert str(err.value) == expected


def test_run_annealing_names_its_caller_for_a_wrong_model():
    """``run_annealing`` called directly with a model that is not an RBM: a TypeError naming the owner."""
    with pytest.raises(TypeError, match=r"^The 'model' parameter of the_caller must be a BernoulliRBM or a "
                                        r"GaussianBernoulliRBM\. Got str instead\.$"):
        run_annealing("rbm", "the_caller", v0=None, betas=[0.0, 1.0], base="uniform", data=None,
                      smoothing=0.05, seed=0, progress=False, reverse=False)


# ---------------------------------------------------------------------------- estimate.base_model


def test_base_model_bias_takes_a_parameter_that_requires_grad():
    """``base_model_bias`` called outside ``no_grad`` with a parameter that requires grad: its values,
    as a custom base on the model's dtype (NumPy cannot read such a tensor without ``detach``)."""
    model = random_rbm(4, 2, 1.0, 0)
    base = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=torch.float32))
    assert base.requires_grad and torch.is_grad_enabled()
    bias, name = base_model_bias(model, base, None, 0.05, "owner")
    assert name == "custom" and bias.dtype == torch.float64 and not bias.requires_grad
    assert np.array_equal(bias.numpy(), np.array([0.5, -1.0, 2.0, 0.0]))
