"""Tests of freeenergy.estimate.base_model: the base-rate model of AIS (base_rate_logits) and its
closed-form log partition function (base_log_partition).

Reference: Salakhutdinov & Murray, "On the quantitative analysis of deep belief networks" (ICML 2008):
the base-rate model, whose ``log Z_A = sum_i softplus(a_A,i) + n_hidden log 2`` (a product of
independent units). Every check here is exact or deterministic.
"""

import math

import numpy as np
import pytest
import torch

from freeenergy.estimate.ais import ais
from freeenergy.estimate.base_model import base_log_partition, base_rate_logits
from freeenergy.estimate.exact import exact_log_partition
from freeenergy.models import BernoulliRBM, GaussianBernoulliRBM
from torch_helpers import random_rbm

# Module-level fixtures, imported for pytest to find; the tests' arguments of the same name shadow them.
# ruff: noqa: F811
from .test_ais import digits  # noqa: F401
from .test_ais_arguments import model  # noqa: F401


def test_base_log_partition_is_closed_form():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(7, generator=gen, dtype=torch.float64) * 3
    base = BernoulliRBM(7, 5)
    with torch.no_grad():
        base.weight.zero_()
        base.visible_bias.copy_(logits)
    expected = exact_log_partition(base).log_z
    assert base_log_partition(base, logits) == pytest.approx(expected, abs=1e-12)
    assert base_log_partition(base, np.zeros(7)) == pytest.approx(12 * math.log(2), abs=1e-12)

    sigma = np.array([0.5, 1.0, 2.0])
    gauss = GaussianBernoulliRBM(3, 4, sigma=sigma)
    with torch.no_grad():
        gauss.weight.zero_()
        gauss.visible_bias.copy_(torch.tensor([1.0, -2.0, 0.3]))
    expected = exact_log_partition(gauss).log_z
    assert base_log_partition(gauss, [1.0, -2.0, 0.3]) == pytest.approx(expected, abs=1e-12)
    # ais reports the same log Z_A
    model = random_rbm(7, 5, 1.0, 0)
    est = ais(model, n_chains=10, betas=[0.0, 1.0], base=logits, seed=0)
    assert est.info["log_z_base"] == pytest.approx(base_log_partition(model, logits), abs=1e-12)


def test_base_rate_logits_are_smoothed_data_marginals(digits):
    model = BernoulliRBM(64, 4, dtype=torch.float32)
    logits = base_rate_logits(digits, model)
    p = 0.95 * digits.mean(0).numpy() + 0.025  # S&M's base rates, mixed 5 % with the uniform 1/2
    assert logits.dtype == torch.float32 and logits.shape == (64,)
    assert np.allclose(logits.numpy(), np.log(p / (1 - p)), atol=1e-5)
    assert np.allclose(base_rate_logits(digits, model, smoothing=1.0).numpy(), 0.0)
    est = ais(model, n_chains=2, betas=[0.0, 1.0], data=digits, seed=0)
    assert est.info["base"] == "data" and np.allclose(est.info["base_bias"], logits.numpy())
    gauss = GaussianBernoulliRBM(64, 4)
    assert np.allclose(base_rate_logits(digits, gauss).numpy(), digits.mean(0).numpy())
    with pytest.raises(ValueError, match=r"'smoothing' parameter of base_rate_logits must be a number in"):
        base_rate_logits(digits, model, smoothing=1.5)


def test_base_log_partition_for_large_logits(model):
    """``softplus(x) = x + log1p(exp(-x))`` to float64 accuracy, also for logits past 20 (where a
    plain ``softplus(x) = x`` cut-off errs by 2e-9) and past 700 (where ``exp(x)`` overflows)."""
    logits = np.array([21.0, 25.0, 30.0, -3.0, 1000.5, 1e4])
    expected = (logits + np.log1p(np.exp(-logits))).sum() + 3 * math.log(2)
    assert base_log_partition(model, logits) == pytest.approx(expected, rel=1e-15, abs=0)


def test_float32_models_keep_float64_bookkeeping():
    """A float32 model: base rates are the float64 logits rounded once to float32 (Gaussian: the
    means, still float32), and ``log Z_A`` is the float64 closed form of those float32 biases."""
    gen = np.random.default_rng(0)  # data drawn once; any draw has unrepresentable means
    data = (gen.random((37, 50)) < 0.3).astype(np.float64)
    bern = BernoulliRBM(50, 3, dtype=torch.float32)
    p = 0.95 * data.mean(0) + 0.025
    logits = base_rate_logits(data, bern)
    assert logits.dtype == torch.float32
    assert np.array_equal(logits.numpy(), np.log(p / (1 - p)).astype(np.float32))
    est = ais(bern, n_chains=2, betas=[0.0, 1.0], data=data, seed=0)
    a = est.info["base_bias"]
    assert est.info["log_z_base"] == pytest.approx(np.logaddexp(0, a).sum() + 3 * math.log(2), rel=1e-15)

    sigma = np.exp(gen.normal(size=50))
    gauss = GaussianBernoulliRBM(50, 3, sigma=sigma, dtype=torch.float32)
    assert base_rate_logits(data, gauss).dtype == torch.float32
    log_sigma = gauss.log_sigma.detach().double().numpy()
    est = ais(gauss, n_chains=2, betas=[0.0, 1.0], data=data, seed=0)
    expected = log_sigma.sum() + 25 * math.log(2 * math.pi) + 3 * math.log(2)
    assert est.info["log_z_base"] == pytest.approx(expected, rel=1e-15)
