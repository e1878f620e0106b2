"""Tests of freeenergy.estimate: the Estimate record and exact enumeration of RBMs.

References:
- Brute-force sums over every (v, h) pair (itertools, NumPy, scipy.special.logsumexp) are the
  ground truth for small Bernoulli RBMs, including large weights.
- Gaussian-Bernoulli RBM (Cho, Ilin & Raiko, ICANN 2011 energy): log Z against numerical
  integration over the real visibles (scipy.integrate.quad / dblquad), and the closed form
  Z = (2 pi)^{n_v / 2} prod_i sigma_i prod_j (1 + e^{b_j}) when W = 0.
- At beta = 0 every configuration has weight 1: log Z = (n_v + n_h) log 2.
- Wider models: one layer summed out in closed form, written in NumPy from the weights
  (tests/references.py; never through the module's own enumeration helpers or the model's free
  energies).
"""

import json
import math
import re
import time

import numpy as np
import pytest
import torch
from scipy import integrate

from freeenergy.estimate import Estimate, exact_log_partition
from freeenergy.estimate import exact as exact_module
from freeenergy.estimate.exact import register_exact
from freeenergy.models import BernoulliRBM, GaussianBernoulliRBM
from freeenergy.systems import IsingChain
from references import configurations, numpy_params, rbm_brute_log_z, rbm_energy, rbm_free_energy, rbm_log_z
from torch_helpers import binary, random_rbm, randomise

# ---------------------------------------------------------------------------- Estimate


def test_estimate_record():
    est = Estimate(np.float64(1.5), 0.25, 1.0, 2.0, "ais", np.int64(100), {"ess": np.float32(3.5)})
    assert isinstance(est.log_z, float) and isinstance(est.n_samples, int)
    assert str(est) == "log Z = 1.500000 ± 0.25 (ais, n = 100, [1.000000, 2.000000])"
    assert est.free_energy == -1.5
    d = est.as_dict()
    assert json.loads(json.dumps(d)) == d and d["info"] == {"ess": 3.5}
    with pytest.raises(AttributeError):
        est.log_z = 2.0
    assert hash(est) == hash(Estimate(1.5, 0.25, 1.0, 2.0, "ais", 100))
    assert Estimate(math.inf, 0, math.inf, math.inf, "exact", 1).as_dict()["log_z"] == "inf"


# ---------------------------------------------------------------------------- Bernoulli


@pytest.mark.parametrize(
    "n_visible, n_hidden, scale",
    [(5, 4, 1.0), (4, 6, 5.0), (6, 3, 0.01), (7, 7, 5.0), (3, 5, 300.0), (1, 1, 2.0)],
)
def test_bernoulli_matches_brute_force(n_visible, n_hidden, scale):
    model = random_rbm(n_visible, n_hidden, scale=scale, seed=n_visible + n_hidden)
    ref = rbm_brute_log_z(numpy_params(model))
    for layer in ("hidden", "visible"):
        for chunk_size in (None, 1, 3, 7):
            est = exact_log_partition(model, layer=layer, chunk_size=chunk_size)
            assert est.log_z == pytest.approx(ref, rel=1e-10, abs=1e-10), (layer, chunk_size)
    # Weights of 300 overflow exp(); the plain softplus kernel takes over.
    assert est.info["kernel"] == ("softplus" if scale > 100 else "factorised")


def test_estimate_fields_and_default_layer():
    est = exact_log_partition(random_rbm(6, 3))
    assert est.method == "exact" and est.stderr == 0.0
    assert est.lower == est.upper == est.log_z
    assert est.n_samples == 2**3 and est.info["layer"] == "hidden"
    assert exact_log_partition(random_rbm(3, 6)).info["layer"] == "visible"
    assert exact_log_partition(random_rbm(3, 6)).n_samples == 2**3
    assert exact_log_partition(random_rbm(4, 4)).info["layer"] == "hidden"
    assert est.info["seconds"] >= 0


def test_wide_model_against_hidden_sum():
    # 784 visibles summed out in closed form; biases like a trained MNIST model.
    model = random_rbm(784, 12, scale=0.3, seed=1, bias_shift=-2.0)
    ref = rbm_log_z(numpy_params(model))
    for chunk_size in (None, 1000, 5):
        est = exact_log_partition(model, chunk_size=chunk_size)
        assert est.log_z == pytest.approx(ref, rel=1e-12)
    assert est.info["work_dtype"] == "float64"


@pytest.mark.parametrize(
    "n_visible, scale, bias_shift, work",
    [(200, 0.1, 0.0, "float32"), (784, 0.1, -2.0, "float32"), (200, 1.0, -2.0, "float64")],
)
def test_float32_models(n_visible, scale, bias_shift, work):
    # Small |inputs|: products in float32 (a few large groups, or many groups of ~15 units);
    # larger: products in float64. All agree with the float64 model to float32 accuracy.
    model = random_rbm(n_visible, 10, scale=scale, seed=2, dtype=torch.float32, bias_shift=bias_shift)
    est = exact_log_partition(model)
    assert est.info["work_dtype"] == work
    assert isinstance(est.log_z, float)
    # float32 weights, float64 sum
    assert est.log_z == pytest.approx(rbm_log_z(numpy_params(model)), rel=1e-6)


def test_infinite_temperature_and_at_beta():
    model = random_rbm(6, 5, scale=2.0, seed=3)
    assert exact_log_partition(model.at_beta(0.0)).log_z == pytest.approx(11 * math.log(2), rel=1e-15)
    assert exact_log_partition(model.at_beta(1.0)).log_z == exact_log_partition(model).log_z
    hot = model.at_beta(0.5)
    assert exact_log_partition(hot).log_z == pytest.approx(rbm_brute_log_z(numpy_params(hot)), rel=1e-12)


def test_log_prob_from_estimate_normalises():
    model = random_rbm(5, 3, scale=2.0, seed=4)
    v = binary(5)
    log_p = model.log_prob(v, exact_log_partition(model))
    assert torch.logsumexp(log_p, 0).item() == pytest.approx(0.0, abs=1e-12)
    # log p(v) = -F(v) - log Z = v.a + sum_j softplus(b_j + (v W)_j) - log Z, log Z by brute force
    params = numpy_params(model)
    brute = -rbm_free_energy(params, v.numpy()) - rbm_brute_log_z(params)
    np.testing.assert_allclose(log_p.detach().numpy(), brute, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------- Gaussian-Bernoulli


def gaussian_rbm(n_visible, n_hidden, sigma, scale=1.0, seed=0):
    return randomise(GaussianBernoulliRBM(n_visible, n_hidden, sigma=sigma), scale, seed, keep=("log_sigma",))


def test_gaussian_zero_weights_closed_form():
    model = gaussian_rbm(4, 5, sigma=[0.3, 1.0, 2.0, 5.0], seed=1)
    with torch.no_grad():
        model.weight.zero_()
    b = model.hidden_bias.detach().numpy()
    closed = 2 * math.log(2 * math.pi) + np.log([0.3, 1.0, 2.0, 5.0]).sum() + np.logaddexp(0, b).sum()
    assert exact_log_partition(model).log_z == pytest.approx(closed, rel=1e-13)


def test_gaussian_one_visible_matches_quad():
    model = gaussian_rbm(1, 4, sigma=0.8, scale=1.2, seed=2)
    params = numpy_params(model) | {"log_sigma": np.log([0.8])}  # sigma as constructed

    def density(x):  # exp(-F(v)) = exp(-(v - a)^2 / (2 sigma^2)) prod_j (1 + exp(b_j + v W_j / sigma^2))
        return math.exp(-rbm_free_energy(params, [x]))

    z, _ = integrate.quad(density, -40, 40, epsabs=0, epsrel=1e-13, limit=400, points=[0.0])
    est = exact_log_partition(model)
    assert est.log_z == pytest.approx(math.log(z), rel=1e-10)
    for chunk_size in (1, 3, 7):
        assert exact_log_partition(model, chunk_size=chunk_size).log_z == pytest.approx(est.log_z, rel=1e-14)


def test_gaussian_two_visibles_matches_dblquad():
    model = gaussian_rbm(2, 2, sigma=[0.7, 1.3], scale=0.8, seed=3)
    params = numpy_params(model) | {"log_sigma": np.log([0.7, 1.3])}  # sigma as constructed
    h = configurations(2)

    def density(y, x):  # sum_h exp(-E(v, h)), the energy written out independently
        return np.exp(-rbm_energy(params, np.array([x, y]), h)).sum()

    z, _ = integrate.dblquad(density, -14, 14, -20, 20, epsabs=0, epsrel=1e-11)
    assert exact_log_partition(model).log_z == pytest.approx(math.log(z), rel=1e-9)


def test_gaussian_matches_analytic_integral_over_visibles():
    sigma = np.linspace(0.5, 2.0, 30)
    model = gaussian_rbm(30, 9, sigma=sigma, scale=0.5, seed=4)
    params = numpy_params(model) | {"log_sigma": np.log(sigma)}  # sigma as constructed
    assert exact_log_partition(model).log_z == pytest.approx(rbm_log_z(params), rel=1e-13)
    # the tempered model exp(-0.4 E), from the untempered parameters
    hot = exact_log_partition(model.at_beta(0.4)).log_z
    assert hot == pytest.approx(rbm_log_z(params, beta=0.4), rel=1e-13)


# ---------------------------------------------------------------------------- errors


def test_errors():
    with pytest.raises(ValueError, match=r"2\^33 configurations of the hidden layer.*AIS"):
        exact_log_partition(BernoulliRBM(40, 33, seed=0))
    with pytest.raises(ValueError, match=r"2\^40 configurations of the visible layer"):
        exact_log_partition(BernoulliRBM(40, 50, seed=0), layer="visible")
    with pytest.raises(ValueError, match="'layer' parameter of exact_log_partition"):
        exact_log_partition(random_rbm(3, 2), layer="both")
    with pytest.raises(ValueError, match=r"'layer'.*integrated out"):
        exact_log_partition(GaussianBernoulliRBM(2, 2), layer="visible")
    with pytest.raises(ValueError, match="'chunk_size' parameter of exact_log_partition must be an int >= 1"):
        exact_log_partition(random_rbm(3, 2), chunk_size=0)
    with pytest.raises(ValueError, match="'progress'"):
        exact_log_partition(random_rbm(3, 2), progress="yes")
    with pytest.raises(TypeError, match="no exact method for a IsingChain"):
        exact_log_partition(IsingChain(4))


def test_progress_bar(capsys):
    est = exact_log_partition(random_rbm(4, 8), chunk_size=16, progress=True)
    assert est.log_z == pytest.approx(rbm_brute_log_z(numpy_params(random_rbm(4, 8))), rel=1e-12)
    assert "exact log Z" in capsys.readouterr().err


# ---------------------------------------------------------------------------- chunks, info, progress


@pytest.mark.parametrize(
    "n_visible, n_hidden, layer, chunk_size, k, chunk, split",
    [
        (6, 3, None, None, 3, 8, [0, 3]),  # small: all 2^k configurations in one chunk
        (6, 3, "visible", None, 6, 64, [0, 6]),  # the layer asked for, not the smaller one
        (10, 10, None, 1, 10, 1, [10, 0]),  # never more configurations at once than chunk_size
        (10, 10, None, 7, 10, 6, [9, 1]),  # 3 rows x a table of 2^1
        (10, 10, "visible", 256, 10, 256, [6, 4]),  # 2^4 rows x a table of 2^4
        (10, 10, None, 1000, 10, 992, [6, 4]),  # 62 rows x 2^4 (floor(log2 1000) = 9)
    ],
)
def test_bernoulli_layer_chunks_and_split(n_visible, n_hidden, layer, chunk_size, k, chunk, split):
    """info reports the wall time, the enumerated layer (the one asked for), n_samples = 2^k, and the
    chunking: at most chunk_size configurations at once, made of nb rows of high bits times a table
    of all 2^j low-bit configurations, j = floor(log2(chunk_size)) // 2 (the table about the square
    root of the chunk, as the module docstring describes); log Z is exact either way (NumPy hidden
    sum)."""
    model = random_rbm(n_visible, n_hidden, scale=0.5, seed=k)
    start = time.perf_counter()
    est = exact_log_partition(model, layer=layer, chunk_size=chunk_size)
    assert 0 <= est.info["seconds"] <= time.perf_counter() - start  # the wall time of the call
    assert (est.info["layer"], est.n_samples) == (layer or "hidden", 2**k)
    assert (est.info["chunk_size"], est.info["split"]) == (chunk, split)
    assert isinstance(est.info["chunk_size"], int)
    assert est.log_z == pytest.approx(rbm_log_z(numpy_params(model)), rel=1e-12)


def test_default_chunk_of_a_very_wide_layer_is_one_configuration():
    """By default a chunk holds about 2^22 (configuration x summed-out unit) elements, and at least
    one configuration: with 2^21 + 1 summed-out units that is one configuration per chunk, not two
    (2^22 + 2 elements). log Z = logaddexp(S(b), a + S(b + W)), S = sum of softplus."""
    model = BernoulliRBM(1, 2**21 + 1, seed=0)
    est = exact_log_partition(model)
    assert (est.info["layer"], est.info["chunk_size"], est.n_samples) == ("visible", 1, 2)
    a, b, w = model.visible_bias.item(), model.hidden_bias.detach().numpy(), model.weight.detach().numpy()[0]
    ref = np.logaddexp(np.logaddexp(0, b).sum(), a + np.logaddexp(0, b + w).sum())
    assert est.log_z == pytest.approx(ref, rel=1e-12)


def test_gaussian_float32_model_is_enumerated_in_float64():
    """A float32 Gaussian-Bernoulli model's parameters are widened to float64 before anything is
    computed (module docstring: "enumerated in float64"): log Z agrees with the float64 reference of
    the same float32 parameters to 1e-12 (observed 1e-16; float32 arithmetic would be off by ~1e-7).
    info and n_samples as documented; a small model is one chunk of all 2^k configurations."""
    model = gaussian_rbm(3, 5, sigma=[0.5, 1.0, 2.0], scale=0.7, seed=5).to(torch.float32)
    est = exact_log_partition(model)
    assert est.log_z == pytest.approx(rbm_log_z(numpy_params(model)), rel=1e-12)
    assert est.n_samples == 2**5
    assert est.info.keys() == {"layer", "kernel", "chunk_size", "seconds"}
    assert (est.info["layer"], est.info["kernel"]) == ("hidden", "gaussian-quadratic")
    assert est.info["chunk_size"] == 32


def test_gaussian_default_chunk_for_many_hidden_units():
    """With 19 hidden units (2^19 configurations) the default chunk is 2^22 / 16 = 2^18 rows, two
    chunks; W = 0 gives the closed form log Z = (n_v / 2) log 2 pi + sum log sigma + sum softplus(b)."""
    model = gaussian_rbm(2, 19, sigma=[0.5, 2.0], seed=6)
    with torch.no_grad():
        model.weight.zero_()
    est = exact_log_partition(model)
    b = model.hidden_bias.detach().numpy()
    closed = math.log(2 * math.pi) + math.log(0.5 * 2.0) + np.logaddexp(0, b).sum()
    assert est.log_z == pytest.approx(closed, rel=1e-13)
    assert (est.info["chunk_size"], est.n_samples) == (2**18, 2**19)


@pytest.mark.parametrize("model", [random_rbm(4, 8), gaussian_rbm(2, 3, sigma=1.0)], ids=["bern", "gauss"])
def test_progress_bar_only_when_asked(model, capsys):
    """No bar by default; progress=True draws one labelled "exact log Z" counting chunks."""
    exact_log_partition(model)
    assert capsys.readouterr().err == ""
    exact_log_partition(model, chunk_size=2, progress=True)
    assert re.search(r"(?:^|\r)exact log Z: +100%.*[0-9?](?:chunk/s|s/chunk)\]", capsys.readouterr().err)


LAYER = r"^The 'layer' parameter of exact_log_partition must be "


@pytest.mark.parametrize(
    "model, kwargs, match",
    [
        (BernoulliRBM(3, 2), {"layer": "both"}, LAYER + r"'hidden', 'visible' or None\. Got 'both' instead"),
        (BernoulliRBM(3, 2), {"progress": "yes"},
         r"^The 'progress' parameter of exact_log_partition must be a bool\. Got 'yes' instead\.$"),
        (GaussianBernoulliRBM(2, 2), {"layer": "visible"},
         LAYER + r"'hidden' \(the visibles of a GaussianBernoulliRBM are real and are integrated out\)\. "
                 r"Got 'visible' instead\.$"),
        (GaussianBernoulliRBM(2, 33), {},
         r"^exact_log_partition would enumerate 2\^33 configurations of the hidden layer; at most"),
    ],
    ids=["layer", "progress", "gaussian-layer", "gaussian-size"],
)
def test_error_messages_in_full(model, kwargs, match):
    """Errors name the function and the argument (or layer) and show the value that came."""
    with pytest.raises(ValueError, match=match):
        exact_log_partition(model, **kwargs)


@pytest.mark.parametrize("model", [random_rbm(6, 4), gaussian_rbm(2, 4, sigma=1.0)], ids=["bern", "gauss"])
def test_at_most_max_enumerated_units(model, monkeypatch):
    """Exactly MAX_ENUMERATED units may be enumerated, one more may not (the limit lowered to 4 and 3
    here, so that the allowed case is cheap)."""
    monkeypatch.setattr(exact_module, "MAX_ENUMERATED", 4)
    assert exact_log_partition(model, layer="hidden").n_samples == 2**4
    monkeypatch.setattr(exact_module, "MAX_ENUMERATED", 3)
    with pytest.raises(ValueError, match=r"enumerate 2\^4 configurations of the hidden layer; at most 2\^3 "):
        exact_log_partition(model, layer="hidden")


class LayerSizes:
    """A stand-in model: only the layer sizes, for a kernel registered by the test."""

    def __init__(self, n_visible, n_hidden):
        self.n_visible, self.n_hidden = n_visible, n_hidden


@pytest.mark.parametrize("n_visible, n_hidden, threads", [(17, 32, 1), (32, 18, 2)])
def test_threads_follow_the_size_of_the_whole_sum(n_visible, n_hidden, threads, monkeypatch, two_threads):
    """Kernels run on one torch thread when the whole sum, 2^min(n_v, n_h) configurations times the
    other layer, is below freeenergy._threads.SMALL_WORK = 2^23 multiply-adds (2^17 x 32 = 2^22),
    and on all of them from there on (2^18 x 32 = 2^23). A registered kernel records the count."""
    seen = []

    def kernel(model, layer, chunk_size, progress):
        seen.append(torch.get_num_threads())
        return 0.0, 1, {}

    monkeypatch.setitem(exact_module._EXACT, LayerSizes, None)  # so that the registration is undone
    register_exact(LayerSizes)(kernel)
    est = exact_log_partition(LayerSizes(n_visible, n_hidden))  # on two threads (fixture)
    assert seen == [threads] and est.method == "exact"


@pytest.mark.parametrize(
    "dtype, bias, n_hidden, work",
    [
        (torch.float64, 300.0, 10, "float64"),  # 2 factors e^300 per group: e^600 < e^709.8
        (torch.float64, math.log(math.e - 1), 710, "float64"),  # factors e: 708 per group (e^710 overflows)
        (torch.float32, 10.0, 20, "float32"),  # 8 factors e^10 fit a float32 product: used
        (torch.float32, 10.9, 20, "float32"),  # 8 factors e^10.9 = e^87.2 < e^87.72, so still float32
        (torch.float32, 11.0, 20, "float64"),  # only 7 fit: products in float64
    ],
)
def test_factorised_products_stay_finite_at_the_bound(dtype, bias, n_hidden, work):
    """With W = 0 and every hidden bias b, every factor 1 + e^z of the factorised kernel sits at its
    bound at once. Groups must be small enough that no product overflows (largest float / e), but
    they are as large as that allows, and float32 products are used only when 8 factors fit a group.
    log Z = log 2 + n_hidden softplus(b) (one visible unit, bias 0)."""
    model = BernoulliRBM(1, n_hidden, dtype=dtype)
    with torch.no_grad():
        model.weight.zero_()
        model.visible_bias.zero_()
        model.hidden_bias.fill_(bias)
    est = exact_log_partition(model)
    b = numpy_params(model)["hidden_bias"][0]  # the stored (rounded) bias
    assert (est.info["kernel"], est.info["work_dtype"]) == ("factorised", work)
    rel = 1e-12 if dtype == torch.float64 else 1e-6  # float32: observed 4e-8
    assert est.log_z == pytest.approx(math.log(2) + n_hidden * np.logaddexp(0, b), rel=rel)


def test_kernel_choice_uses_the_exact_bound():
    """The bound of |z| that sizes the groups is summed in float64 from the float32 weights: here
    it is 8 + y = 10.96533751 (exact), just below the largest bound at which 8 factors fit a
    float32 product (10.96533759); summed in float32 it would round up to 10.96533775 and the
    products would be done in float64 instead."""
    model = BernoulliRBM(2, 3, dtype=torch.float32)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[8.0] * 3, [2.9653375148773193] * 3]))
        model.visible_bias.zero_()
        model.hidden_bias.zero_()
    est = exact_log_partition(model)
    assert (est.info["layer"], est.info["kernel"]) == ("visible", "factorised")
    assert est.info["work_dtype"] == "float32"
    assert est.log_z == pytest.approx(rbm_brute_log_z(numpy_params(model)), rel=1e-6)


def test_more_chunks_than_are_folded_at_once():
    """4096 chunks of one configuration: the per-chunk log-sum-exps are folded into one (the module
    keeps at most 4096) and log Z is still exact (NumPy hidden sum, Cho et al. 2011)."""
    model = gaussian_rbm(2, 12, sigma=[0.7, 1.3], scale=0.5, seed=7)
    est = exact_log_partition(model, chunk_size=1)
    assert est.info["chunk_size"] == 1
    assert est.log_z == pytest.approx(rbm_log_z(numpy_params(model)), rel=1e-12)
