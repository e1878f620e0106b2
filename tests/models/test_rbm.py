"""Tests of freeenergy.models.rbm: energies, conditionals, sampling, temperature, files.

References:
- Brute-force sums over every (v, h) of a small RBM are the ground truth for free energies,
  conditionals and sampled distributions (Hinton, "A Practical Guide to Training RBMs", 2010,
  for the Bernoulli energy and free energy).
- Gaussian-Bernoulli energy: Cho, Ilin & Raiko, ICANN 2011 (visible noise sigma_i, v / sigma^2
  couples to the hiddens); the hidden free energy is checked against scipy.integrate.quad.
- Every reference energy is the NumPy one of tests/references.py (``rbm_energy``), from the
  weights, never through the model's own ``energy`` / ``free_energy`` / ``log_prob``.
"""

import json
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from scipy.special import expit, logsumexp, softmax

from freeenergy.models import BernoulliRBM, GaussianBernoulliRBM, load_model
from freeenergy.models.rbm import FORMAT, FORMAT_VERSION
from references import (
    configurations,
    numpy_params,
    rbm_brute_log_p,
    rbm_brute_log_z,
    rbm_energy,
    rbm_hidden_free_energy,
    rbm_visible_mean,
)
from torch_helpers import binary
from torch_helpers import randomise as _randomise


def randomise(model, scale=1.0, seed=0):
    """Replace every parameter by scale * N(0, 1) (sigma stays as constructed)."""
    return _randomise(model, scale, seed, keep=("log_sigma",))


def brute_log_p(model):
    """``log p(v)`` of every binary v (rows of binary(n_visible)), by brute force."""
    return rbm_brute_log_p(numpy_params(model), configurations(model.n_visible))


@pytest.fixture
def rbm():
    return randomise(BernoulliRBM(5, 4, seed=0), scale=1.0, seed=1)


@pytest.fixture
def gbrbm():
    model = GaussianBernoulliRBM(3, 4, sigma=[0.5, 1.0, 2.0], seed=0)
    return randomise(model, scale=0.7, seed=2)


# ---------------------------------------------------------------------------- construction


def test_construction_defaults_and_init():
    model = BernoulliRBM(784, 25, seed=5)
    assert model.dtype == torch.float64 and model.device == torch.device("cpu")
    assert dict((n, tuple(p.shape)) for n, p in model.named_parameters()) == {
        "weight": (784, 25),
        "visible_bias": (784,),
        "hidden_bias": (25,),
    }
    assert abs(model.weight.std().item() - 0.01) < 0.0005
    assert model.visible_bias.abs().max() == 0 and model.hidden_bias.abs().max() == 0
    assert torch.equal(model.weight, BernoulliRBM(784, 25, seed=5).weight)
    assert not torch.equal(model.weight, BernoulliRBM(784, 25, seed=6).weight)
    # The same seed gives the same weights in float32 (drawn in float64, then rounded).
    f32 = BernoulliRBM(784, 25, seed=5, dtype=torch.float32)
    assert f32.dtype == torch.float32 and torch.equal(f32.weight, model.weight.float())
    assert "n_visible=784, n_hidden=25" in repr(model)


def test_gaussian_sigma_parameter():
    model = GaussianBernoulliRBM(3, 2, sigma=[0.5, 1.0, 2.0], learn_sigma=True)
    assert model.log_sigma.requires_grad
    np.testing.assert_allclose(model.sigma.numpy(), [0.5, 1.0, 2.0])
    assert not GaussianBernoulliRBM(3, 2, sigma=2.0).log_sigma.requires_grad


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_visible": 0}, "'n_visible' parameter of BernoulliRBM must be an int >= 1"),
        ({"n_hidden": 2.5}, "'n_hidden'"),
        ({"dtype": torch.int32}, "'dtype'.*float32 or torch.float64"),
        ({"device": "nonsense"}, "'device'"),
        ({"seed": -1}, "'seed'"),
    ],
)
def test_constructor_errors(kwargs, match):
    args = {"n_visible": 3, "n_hidden": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        BernoulliRBM(args.pop("n_visible"), args.pop("n_hidden"), **args)


@pytest.mark.parametrize("sigma", [0.0, -1.0, [1.0, np.nan], [1.0, 2.0, 3.0], "big"])
def test_gaussian_sigma_errors(sigma):
    with pytest.raises(ValueError, match="'sigma' parameter of GaussianBernoulliRBM"):
        GaussianBernoulliRBM(2, 2, sigma=sigma)


# ---------------------------------------------------------------------------- energies


def test_energy_formula(rbm):
    v, h = binary(5)[[3, 17, 30]], binary(4)[[1, 8, 15]]
    expected = rbm_energy(numpy_params(rbm), v.numpy(), h.numpy())
    np.testing.assert_allclose(rbm.energy(v, h).detach().numpy(), expected, rtol=1e-14)
    # numpy input, a single configuration, and broadcasting batch shapes
    assert rbm.energy(v[0].numpy(), h[0].numpy()).shape == ()
    assert rbm.energy(v[:, None, :], h[None]).shape == (3, 3)


def test_gaussian_energy_formula(gbrbm):
    v = torch.tensor([[0.3, -1.2, 2.0]], dtype=torch.float64)
    h = torch.tensor([[1.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
    # sigma as constructed, not as stored
    params = numpy_params(gbrbm) | {"log_sigma": np.log([0.5, 1.0, 2.0])}
    expected = rbm_energy(params, v.numpy()[0], h.numpy()[0])
    assert gbrbm.energy(v, h).item() == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("scale", [0.1, 1.0, 5.0])
def test_free_energy_sums_out_hidden(scale):
    model = randomise(BernoulliRBM(4, 5), scale=scale, seed=3)
    v, h = binary(4), binary(5)
    neg_e = -rbm_energy(numpy_params(model), v[:, None, :], h[None])
    np.testing.assert_allclose(-model.free_energy(v).detach(), logsumexp(neg_e, 1), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(
        -model.free_energy_hidden(h).detach(), logsumexp(neg_e, 0), rtol=1e-13, atol=1e-13
    )


def test_gaussian_free_energies_match_integration(gbrbm):
    model = GaussianBernoulliRBM(1, 3, sigma=0.7)
    randomise(model, scale=1.5, seed=4)
    h, params = binary(3), numpy_params(model)
    for row in h:

        def density(x, row=row):
            return math.exp(-rbm_energy(params, [x], row))

        integral, _ = integrate.quad(density, -30, 30, epsabs=0, epsrel=1e-12, limit=200)
        assert -model.free_energy_hidden(row).item() == pytest.approx(math.log(integral), rel=1e-10)
    # free_energy: a sum over the hiddens at fixed real visibles.
    v = torch.tensor([[0.3, -1.0, 2.5], [0.0, 0.0, 0.0]], dtype=torch.float64)
    neg_e = -rbm_energy(numpy_params(gbrbm), v[:, None, :], binary(4)[None])
    np.testing.assert_allclose(-gbrbm.free_energy(v).detach(), logsumexp(neg_e, 1), rtol=1e-13)


def test_log_prob_normalises(rbm):
    log_z = rbm_brute_log_z(numpy_params(rbm))
    log_p = rbm.log_prob(binary(5), log_z)
    assert log_p.dtype == torch.float64
    np.testing.assert_allclose(log_p.detach().numpy(), brute_log_p(rbm), rtol=0, atol=1e-12)
    assert torch.logsumexp(log_p, 0).item() == pytest.approx(0.0, abs=1e-12)

    class Est:  # anything with a log_z attribute, such as an Estimate
        pass

    est = Est()
    est.log_z = log_z
    assert torch.equal(rbm.log_prob(binary(5), est), log_p)
    assert torch.equal(rbm.log_prob(binary(5), torch.tensor(log_z)), log_p)
    with pytest.raises(ValueError, match="'log_z' parameter"):
        rbm.log_prob(binary(5), float("nan"))


# ---------------------------------------------------------------------------- conditionals


def test_conditionals_are_energy_ratios(rbm):
    """p(u_j = 1 | rest) = sigmoid(E(u_j = 0) - E(u_j = 1)) for every hidden and visible unit."""
    v, h, params = binary(5)[[5, 22]], binary(4)[[6, 9]], numpy_params(rbm)
    layers = {  # probabilities, the units, and E with those units replaced
        "hidden": (rbm.hidden_probs(v).detach(), h, lambda units: rbm_energy(params, v, units)),
        "visible": (rbm.visible_probs(h).detach(), v, lambda units: rbm_energy(params, units, h)),
    }
    for name, (probs, units, energy) in layers.items():
        for j in range(units.shape[1]):
            on, off = units.clone(), units.clone()
            on[:, j], off[:, j] = 1, 0
            np.testing.assert_allclose(probs[:, j], expit(energy(off) - energy(on)), rtol=1e-13, err_msg=name)


def test_gaussian_conditionals(gbrbm):
    params = numpy_params(gbrbm)
    v = torch.tensor([[0.3, -1.2, 2.0]], dtype=torch.float64)
    h = torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
    for j in range(4):
        h1, h0 = h.clone(), h.clone()
        h1[:, j], h0[:, j] = 1, 0
        ratio = expit(rbm_energy(params, v, h0) - rbm_energy(params, v, h1))[0]
        assert gbrbm.hidden_probs(v)[0, j].item() == pytest.approx(ratio, rel=1e-13)
    # p(v | h) = N(a + W h, sigma^2): energy differences are log-density differences.
    mean = gbrbm.visible_probs(h).detach().numpy()[0]
    sigma = np.array([0.5, 1.0, 2.0])
    v2 = torch.tensor([[-0.4, 0.8, 0.1]], dtype=torch.float64)
    d_energy = (gbrbm.energy(v2, h) - gbrbm.energy(v, h)).item()
    d_logpdf = (
        stats.norm.logpdf(v.numpy()[0], mean, sigma).sum()
        - stats.norm.logpdf(v2.numpy()[0], mean, sigma).sum()
    )
    assert d_energy == pytest.approx(d_logpdf, rel=1e-12)


# ---------------------------------------------------------------------------- sampling


def test_gibbs_and_sample_are_reproducible(rbm, gbrbm):
    for model in (rbm, gbrbm):
        a = model.sample(7, steps=5, seed=11)
        assert a.shape == (7, model.n_visible)
        assert torch.equal(a, model.sample(7, steps=5, seed=11))
        assert not torch.equal(a, model.sample(7, steps=5, seed=12))
        g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
        assert torch.equal(model.gibbs(a, steps=3, generator=g1), model.gibbs(a, steps=3, generator=g2))
        assert torch.equal(model.gibbs(a, steps=0), a)
        h = model.sample_hidden(a, generator=torch.Generator().manual_seed(0))
        assert set(h.unique().tolist()) <= {0.0, 1.0}
        assert model.sample_visible(h).shape == a.shape
    samples = rbm.sample(4, steps=2, seed=0, init=np.ones(5))
    assert set(samples.unique().tolist()) <= {0.0, 1.0}


def test_sampled_distribution_matches_exact():
    # 3 visibles: 8 states, p(v) = exp(-F(v) - log Z). Fixed seed, 20000 chains; the
    # chi-square bound (p = 1e-6) fails only if the sampler is wrong.
    model = randomise(BernoulliRBM(3, 2), scale=1.5, seed=7)
    log_p = brute_log_p(model)
    samples = model.sample(20000, steps=30, seed=123).numpy()
    codes = samples @ np.array([4, 2, 1])
    observed = np.bincount(codes.astype(int), minlength=8)
    expected = 20000 * np.exp(log_p)
    chi2 = np.sum((observed - expected) ** 2 / expected)
    assert chi2 < stats.chi2.ppf(1 - 1e-6, 7)


def test_gaussian_sample_mean_matches_exact(gbrbm):
    """E[v] = sum_h p(h) (a + W h), where integrating v out of exp(-E) gives
    p(h) ∝ exp(b.h + sum_i ((a_i + (W h)_i)^2 - a_i^2) / (2 sigma_i^2))."""
    # sigma as constructed, not as stored
    params = numpy_params(gbrbm) | {"log_sigma": np.log([0.5, 1.0, 2.0])}
    h = configurations(4)
    log_w = -rbm_hidden_free_energy(params, h)
    mean = torch.from_numpy((softmax(log_w)[:, None] * rbm_visible_mean(params, h)).sum(0))
    samples = gbrbm.sample(20000, steps=30, seed=5)
    se = samples.std(0) / math.sqrt(20000)
    assert torch.all((samples.mean(0) - mean).abs() < 6 * se)


# ---------------------------------------------------------------------------- temperature


def test_at_beta(rbm, gbrbm):
    v, h = binary(5)[[3, 9]], binary(4)[[2, 12]]
    same = rbm.at_beta(1.0)
    for name, p in rbm.named_parameters():
        assert torch.equal(p, getattr(same, name)) and not same.weight.data_ptr() == rbm.weight.data_ptr()
    np.testing.assert_allclose(rbm.at_beta(2.5).energy(v, h).detach(), 2.5 * rbm.energy(v, h).detach())
    assert rbm.at_beta(0.0).energy(v, h).abs().max() == 0
    vg = torch.tensor([[0.3, -1.2, 2.0], [1.0, 0.5, -0.5]], dtype=torch.float64)
    np.testing.assert_allclose(
        gbrbm.at_beta(0.3).energy(vg, h).detach(), 0.3 * gbrbm.energy(vg, h).detach(), rtol=1e-13
    )
    with pytest.raises(ValueError, match=r"'beta' parameter of BernoulliRBM.at_beta"):
        rbm.at_beta(-1.0)
    with pytest.raises(ValueError, match="> 0"):
        gbrbm.at_beta(0.0)


# ---------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda m: m.free_energy(np.zeros((2, 4))),
            r"'v' parameter of BernoulliRBM.free_energy.*"
            r"shape \(\.\.\., 5\).*Got shape \(2, 4\)",
        ),
        (lambda m: m.free_energy(np.full(5, 2.0)),
         r"values in \[0, 1\] for the visible units of a BernoulliRBM\. Got values in \[2, 2\]"),
        (lambda m: m.free_energy([0, 1, np.nan, 0, 1]), "must be finite"),
        (lambda m: m.free_energy("abc"), "numeric array"),
        (lambda m: m.free_energy(torch.tensor(1.0)), r"Got shape \(\) instead"),
        (lambda m: m.hidden_probs(np.zeros(4)), "'v' parameter of BernoulliRBM.hidden_probs"),
        (lambda m: m.visible_probs(np.zeros(5)), r"'h' parameter.*shape \(\.\.\., 4\)"),
        (lambda m: m.free_energy_hidden(-np.ones(4)), r"in \[0, 1\]"),
        (lambda m: m.energy(np.zeros((2, 5)), np.zeros((3, 4))), "do not broadcast"),
        (lambda m: m.sample(0), "'n' parameter"),
        (lambda m: m.sample(3, init=np.zeros((2, 5))), "'init' parameter"),
        (lambda m: m.gibbs(np.zeros(5), steps=-1), "'steps' parameter"),
    ],
)
def test_bad_input_errors(rbm, call, match):
    with pytest.raises(ValueError, match=match):
        call(rbm)


def test_validate_args_switch(rbm):
    rbm.validate_args = False
    assert torch.isnan(rbm.free_energy([0.0, 1.0, np.nan, 0.0, 1.0]))  # values not scanned
    with pytest.raises(ValueError, match="shape"):  # shapes still are
        rbm.free_energy(np.zeros(4))
    assert BernoulliRBM.validate_args and BernoulliRBM(2, 2).validate_args


def test_bad_generator(rbm, gbrbm):
    with pytest.raises(TypeError, match=r"'generator' parameter.*torch.Generator"):
        rbm.gibbs(np.zeros(5), generator=np.random.default_rng(0))
    # Real visibles are allowed outside [0, 1]; hiddens are not.
    assert gbrbm.free_energy([[5.0, -3.0, 0.5]]).shape == (1,)
    with pytest.raises(ValueError, match="'h' parameter"):
        gbrbm.free_energy_hidden([[2.0, 0.0, 0.0, 0.0]])


# ---------------------------------------------------------------------------- files


def test_save_load_round_trip(tmp_path, rbm):
    gb = GaussianBernoulliRBM(3, 2, sigma=[0.5, 1.0, 2.0], learn_sigma=True, dtype=torch.float32)
    for model in (rbm, gb):
        path = model.save(tmp_path / "sub" / f"{type(model).__name__}.pt")
        loaded = load_model(path)
        assert type(loaded) is type(model) and loaded.dtype == model.dtype
        for name, p in model.named_parameters():
            q = getattr(loaded, name)
            assert torch.equal(p, q) and p.requires_grad == q.requires_grad
        assert type(model).load(path).n_visible == model.n_visible
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [
        "BernoulliRBM.pt",
        "GaussianBernoulliRBM.pt",
    ]
    payload = torch.load(tmp_path / "sub" / "GaussianBernoulliRBM.pt", weights_only=True)
    meta = json.loads(payload["metadata"])
    assert meta == {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "class": "GaussianBernoulliRBM",
        "n_visible": 3,
        "n_hidden": 2,
        "dtype": "float32",
        "extra": {"learn_sigma": True},
    }


class NotATensor:
    pass


def _fake(path, metadata=None, state=None, **meta_changes):
    meta = {
        "format": FORMAT,
        "version": 1,
        "class": "BernoulliRBM",
        "n_visible": 2,
        "n_hidden": 1,
        "dtype": "float64",
        "extra": {},
    } | meta_changes
    if state is None:
        state = BernoulliRBM(2, 1, seed=0).state_dict()
    torch.save({"metadata": metadata or json.dumps(meta), "state_dict": state}, path)
    return path


def test_load_failures(tmp_path, rbm):
    good = rbm.save(tmp_path / "good.pt")
    data = good.read_bytes()
    cases = {
        "truncated.pt": lambda p: p.write_bytes(data[: len(data) // 2]),
        "garbage.pt": lambda p: p.write_bytes(bytes(range(256)) * 10),
        "text.pt": lambda p: p.write_text("hello, I am not a model\n"),
        "empty.pt": lambda p: p.write_bytes(b""),
    }
    for name, make in cases.items():
        make(tmp_path / name)
        with pytest.raises(ValueError, match=rf"{name}.*truncated, corrupt or not a torch archive"):
            load_model(tmp_path / name)
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(ValueError, match=r"tensor.pt' is not a freeenergy model file.*holds a Tensor"):
        load_model(tmp_path / "tensor.pt")
    torch.save(rbm.state_dict(), tmp_path / "bare_state.pt")
    with pytest.raises(ValueError, match=r"not a freeenergy model file.*holds a dict without them"):
        load_model(tmp_path / "bare_state.pt")
    torch.save({"obj": NotATensor()}, tmp_path / "pickle.pt")  # refused by weights_only
    with pytest.raises(ValueError, match=r"pickle.pt.*not a torch archive"):
        load_model(tmp_path / "pickle.pt")
    foreign = {
        "notjson.pt": ({"metadata": "{oops"}, "metadata is not JSON"),
        "format.pt": ({"format": "other"}, "format is not 'freeenergy-model'"),
        "version.pt": ({"version": 99}, "version 99.*Upgrade"),
        "klass.pt": ({"class": "Transformer"}, "unknown model class 'Transformer'"),
        "shape.pt": ({"n_visible": 3}, "damaged freeenergy model file.*size mismatch"),
        "dtype.pt": ({"dtype": "int8"}, "damaged freeenergy model file.*dtype"),
    }
    for name, (change, match) in foreign.items():
        metadata = change.pop("metadata", None)
        _fake(tmp_path / name, metadata, **change)
        with pytest.raises(ValueError, match=match):
            load_model(tmp_path / name)
    nan_state = BernoulliRBM(2, 1, seed=0).state_dict()
    nan_state["weight"][0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        load_model(_fake(tmp_path / "nan.pt", state=nan_state))
    with pytest.raises(FileNotFoundError, match=r"No model file at .*missing.pt"):
        load_model(tmp_path / "missing.pt")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path)
    with pytest.raises(ValueError, match="holds a BernoulliRBM, not a GaussianBernoulliRBM"):
        GaussianBernoulliRBM.load(good)


def test_failed_save_keeps_old_file(tmp_path, rbm, monkeypatch):
    path = rbm.save(tmp_path / "model.pt")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        randomise(BernoulliRBM(5, 4), seed=9).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_free_energy_keeps_the_softplus_tail_beyond_torch_cutoff():
    """log(1 + e^x) for x in (20, 40): torch's default cut-off would drop e^-x (2e-9 at 20)."""
    import mpmath

    rbm = BernoulliRBM(1, 3, seed=0)
    with torch.no_grad():
        rbm.weight.zero_()
        rbm.hidden_bias.copy_(torch.tensor([21.0, 25.0, 30.0]))
    exact = -sum(float(mpmath.log1p(mpmath.exp(x))) for x in (21, 25, 30))
    assert rbm.free_energy(torch.zeros(1, 1)).item() == pytest.approx(exact, rel=1e-15, abs=0)
