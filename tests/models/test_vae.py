"""Tests of freeenergy.models.vae: densities, recognition model, bounds, training, files.

References:
- Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (reparameterised ELBO).
- Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016: L_1 is the
  ELBO, L_k <= L_{k+1} <= log p(x), and L_k -> log p(x) as k -> inf. With a 1-D latent the
  marginal log p(x) = log int p(x, z) dz is computed by scipy.integrate.quad as ground truth.
- Every reference density is the NumPy one of tests/references.py, from the weights: the encoder
  and decoder as affine maps with tanh between them (Burda et al. 2016), standard-normal prior,
  Bernoulli or Gaussian pixels, diagonal-Gaussian q with entropy sum_j (1 + log 2 pi + log var_j) / 2.

Stochastic checks use fixed seeds; tolerances are >= 4 standard errors (failure rate < 1e-4
per check for a fresh seed).
"""

import json
import math

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.stats import norm

from freeenergy.models import BernoulliRBM
from freeenergy.models.rbm import FORMAT, FORMAT_VERSION
from freeenergy.models.vae import VAE
from references import diag_normal_entropy, diag_normal_log_pdf, numpy_params, vae_encode, vae_log_joint
from torch_helpers import randomise


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def vae():
    return randomise(VAE(5, 2, hidden=(4, 3), seed=0), scale=0.8, seed=1)


@pytest.fixture
def x():
    return torch.tensor(
        [[0, 1, 1, 0, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]],
        dtype=torch.float64,
    )


# ---------------------------------------------------------------------------- construction


def test_construction_and_seeded_init():
    model = VAE(784, 50, seed=3)
    assert model.dtype == torch.float64 and model.device == torch.device("cpu")
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
    assert shapes["encoder.0.weight"] == (200, 784)
    assert shapes["encoder.4.weight"] == (100, 200)  # mean and log-variance
    assert shapes["decoder.0.weight"] == (200, 50)
    assert shapes["decoder.4.weight"] == (784, 200)
    assert model.hidden == (200, 200) and model.likelihood == "bernoulli"
    assert isinstance(model.encoder[1], torch.nn.Tanh)
    assert model.latent_configurations() is None
    same, other = VAE(784, 50, seed=3), VAE(784, 50, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), same.parameters(), strict=True))
    assert not torch.equal(model.encoder[0].weight, other.encoder[0].weight)
    f32 = VAE(784, 50, seed=3, dtype=torch.float32)
    assert f32.dtype == torch.float32 and torch.equal(f32.decoder[0].weight, model.decoder[0].weight.float())
    assert "n_visible=784, n_latent=50" in repr(model)
    # Seeding leaves the global RNG alone.
    torch.manual_seed(0)
    a = torch.rand(3)
    torch.manual_seed(0)
    VAE(10, 2, seed=1)
    assert torch.equal(torch.rand(3), a)
    linear = VAE(3, 1, hidden=(), likelihood="gaussian", seed=0)
    assert len(linear.encoder) == 1 and linear.log_sigma.shape == (3,)


def test_constructor_errors():
    cases = [
        ({"n_visible": 0}, "'n_visible' parameter of VAE must be an int >= 1"),
        ({"n_latent": 1.5}, "'n_latent' parameter of VAE"),
        ({"hidden": (3, 0)}, "'hidden' parameter of VAE"),
        ({"hidden": "200"}, "'hidden' parameter of VAE"),
        ({"likelihood": "poisson"}, "'likelihood' parameter of VAE must be 'bernoulli' or 'gaussian'"),
        ({"dtype": torch.int32}, "'dtype' parameter of VAE"),
        ({"device": "nonsense"}, "'device' parameter of VAE"),
        ({"seed": -1}, "'seed' parameter of VAE"),
    ]
    for change, match in cases:
        args = {"n_visible": 3, "n_latent": 2} | change
        with pytest.raises(ValueError, match=match):
            VAE(**args)


# ---------------------------------------------------------------------------- densities


def test_log_joint_matches_hand_computation(vae, x):
    z = torch.randn(7, 3, 2, generator=gen(2), dtype=torch.float64)
    got = vae.log_joint(x, z)
    assert got.shape == (7, 3)
    want = torch.from_numpy(vae_log_joint(numpy_params(vae), x.numpy(), z.numpy()))
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    # Broadcasting: one z per example, or one z for every example.
    torch.testing.assert_close(vae.log_joint(x, z[0]), want[0], rtol=1e-12, atol=1e-12)
    assert vae.log_joint(x, z[:, :1]).shape == (7, 3)
    # Huge logits stay finite (no log(sigmoid)).
    with torch.no_grad():
        vae.decoder[-1].bias.fill_(80.0)
    lj = vae.log_joint(torch.zeros(1, 5, dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64))
    assert torch.isfinite(lj).all() and lj.item() < -5 * 79


def test_gaussian_log_joint_matches_hand_computation():
    model = randomise(VAE(4, 2, hidden=(3,), likelihood="gaussian", seed=0), scale=0.5, seed=3)
    x = torch.randn(3, 4, generator=gen(1), dtype=torch.float64) * 2
    z = torch.randn(5, 3, 2, generator=gen(2), dtype=torch.float64)
    want = vae_log_joint(numpy_params(model), x.numpy(), z.numpy())
    torch.testing.assert_close(model.log_joint(x, z), torch.from_numpy(want), rtol=1e-12, atol=1e-12)


def test_recognition_sample_and_log_prob(vae, x):
    z, log_q = vae.recognition_sample(x, 6, generator=gen(5))
    assert z.shape == (6, 3, 2) and log_q.shape == (6, 3)
    mean, log_var = vae_encode(numpy_params(vae), x.numpy())
    want = torch.from_numpy(diag_normal_log_pdf(z.detach().numpy(), mean, log_var))
    torch.testing.assert_close(log_q, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(vae.recognition_log_prob(x, z), want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(vae.encode(x), tuple(torch.from_numpy(a) for a in (mean, log_var)))
    # Same generator state, same draw; different state, different draw.
    z2, _ = vae.recognition_sample(x, 6, generator=gen(5))
    z3, _ = vae.recognition_sample(x, 6, generator=gen(6))
    assert torch.equal(z, z2) and not torch.equal(z, z3)


def test_entropy_analytic_and_monte_carlo(vae, x):
    h = vae.recognition_entropy(x)
    _, log_var = vae_encode(numpy_params(vae), x.numpy())
    torch.testing.assert_close(h, torch.from_numpy(diag_normal_entropy(log_var)), rtol=0, atol=1e-12)
    _, log_q = vae.recognition_sample(x, 20000, generator=gen(7))
    mc, stderr = -log_q.mean(0), log_q.std(0) / math.sqrt(log_q.shape[0])
    assert ((mc - h).abs() < 4 * stderr).all()


# ---------------------------------------------------------------------------- bounds


def test_iwae_one_sample_is_elbo(vae, x):
    torch.testing.assert_close(vae.iwae_bound(x, 1, generator=gen(3)), vae.elbo(x, 1, generator=gen(3)))
    full = vae.iwae_bound(x, 6, generator=gen(3))
    assert torch.equal(full, vae.iwae_bound(x, 6, generator=gen(3), chunk=6))
    assert torch.equal(full, vae.iwae_bound(x, 6, generator=gen(3), chunk=100))
    # Chunks of 4 + 2 samples: the same k-sample estimator on a different random stream.
    assert torch.isfinite(vae.iwae_bound(x, 6, generator=gen(3), chunk=4)).all()
    assert vae.elbo(x, k=4, generator=gen(0)).shape == (3,)


def test_iwae_tightens_with_k(vae, x):
    data = x.repeat(400, 1)  # 400 independent estimates per example
    with torch.no_grad():
        elbo = vae.elbo(data, 1, generator=gen(0)).view(400, 3)
        bounds = [vae.iwae_bound(data, k, generator=gen(k)).view(400, 3) for k in (1, 5, 50)]
    means = [b.mean(0) for b in bounds]
    stderr = bounds[0].std(0) / math.sqrt(400)
    assert (means[0] - elbo.mean(0)).abs().max() < 4 * stderr.max()
    assert (means[1] > elbo.mean(0)).all()
    assert (means[0] < means[1]).all() and (means[1] < means[2]).all()


def test_iwae_approaches_quadrature_log_px():
    model = randomise(VAE(4, 1, hidden=(3,), seed=0), scale=1.0, seed=4)
    # q(z | x) = N(0, 2^2), wider than the prior, so the importance weights are bounded and
    # the k-sample bound converges at rate 1/k (a random encoder gives heavy-tailed weights).
    with torch.no_grad():
        for p in model.encoder.parameters():
            p.zero_()
        model.encoder[-1].bias[1] = math.log(4.0)
    x = torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
    params = numpy_params(model)

    def log_joint(row, z):
        return vae_log_joint(params, row, np.array([z]))

    def integral(f):
        value, _ = integrate.quad(f, -12, 12, epsabs=1e-13, limit=200)
        return value

    def log_w(row, z):  # log p(x, z) - log q(z | x) with q = N(0, 2^2)
        return log_joint(row, z) - norm.logpdf(z, 0.0, 2.0)

    rows = x.numpy()
    exact = torch.tensor([math.log(integral(lambda z, r=r: math.exp(log_joint(r, z))))
                          for r in rows], dtype=torch.float64)
    # the ELBO E_q[log w] and the variance of log w, by quadrature against q
    moments = np.array([[integral(lambda z, r=r, m=m: norm.pdf(z, 0.0, 2.0) * log_w(r, z) ** m)
                         for m in (1, 2)] for r in rows])
    elbo_exact, elbo_sd = moments[:, 0], np.sqrt(moments[:, 1] - moments[:, 0] ** 2)
    with torch.no_grad():
        iwae = model.iwae_bound(x, 50000, generator=gen(0))
        chunked = model.iwae_bound(x, 50000, generator=gen(1), chunk=7000)
        elbo = model.elbo(x, 20000, generator=gen(1)).numpy()
    assert (elbo_exact < exact.numpy()).all()
    # fixed seed; a 5-sigma bound on the 20000-sample mean (sigma ~0.02 nats) fails with
    # probability ~6e-7 per example
    assert (np.abs(elbo - elbo_exact) < 5 * elbo_sd / math.sqrt(20000)).all()
    # Over generator seeds the k = 50000 estimate scatters by about 0.005 nats.
    torch.testing.assert_close(iwae, exact, rtol=0, atol=0.03)
    torch.testing.assert_close(chunked, exact, rtol=0, atol=0.03)


# ---------------------------------------------------------------------------- training


def test_gradients_flow_through_reparameterisation(vae, x):
    z, _ = vae.recognition_sample(x, 3, generator=gen(0))
    z.sum().backward()
    assert vae.encoder[0].weight.grad is not None and vae.encoder[0].weight.grad.abs().sum() > 0
    assert vae.decoder[0].weight.grad is None
    vae.zero_grad()
    (-vae.elbo(x, 2, generator=gen(0)).sum()).backward()
    for name, p in vae.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_adam_steps_increase_elbo():
    data = torch.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]] * 4, dtype=torch.float32)
    model = VAE(6, 2, hidden=(8,), dtype=torch.float32, seed=0)
    before = model.elbo(data, 200, generator=gen(9)).mean().item()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    g = gen(1)
    for _ in range(60):
        opt.zero_grad()
        (-model.elbo(data, 4, generator=g).mean()).backward()
        opt.step()
    after = model.elbo(data, 200, generator=gen(9)).mean().item()
    assert after > before + 1.0


# ---------------------------------------------------------------------------- sampling


def test_sample_seeded():
    model = randomise(VAE(5, 2, hidden=(4,), seed=0), seed=2)
    s = model.sample(50, seed=3)
    assert s.shape == (50, 5) and set(s.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(s, model.sample(50, seed=3)) and not torch.equal(s, model.sample(50, seed=4))
    probs = model.sample(50, seed=3, mean=True)
    assert ((probs > 0) & (probs < 1)).all() and not torch.equal(probs, s)
    gauss = VAE(3, 1, hidden=(), likelihood="gaussian", seed=0)
    g = gauss.sample(4000, seed=0)
    m = gauss.sample(4000, seed=0, mean=True)
    np.testing.assert_allclose((g - m).std(0).numpy(), 1.0, atol=0.05)  # sigma initialised to 1


# ---------------------------------------------------------------------------- bad inputs


def test_bad_inputs(vae, x):
    with pytest.raises(ValueError, match=r"'x' parameter of VAE.elbo must have shape \(batch, 5\).*\(5,\)"):
        vae.elbo(x[0])
    with pytest.raises(ValueError, match=r"'x' parameter of VAE.encode must have shape.*\(3, 4\)"):
        vae.encode(x[:, :4])
    with pytest.raises(
        ValueError, match=r"'x' parameter of VAE.iwae_bound must hold values in \[0, 1\] for the pixels "
                          r"of a VAE"
    ):
        vae.iwae_bound(x * 2, 3)
    with pytest.raises(ValueError, match=r"'x' parameter of VAE.recognition_entropy must be finite"):
        vae.recognition_entropy(x * float("nan"))
    with pytest.raises(ValueError, match=r"'x' parameter of VAE.log_joint must be a numeric array"):
        vae.log_joint([["a"] * 5], torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"'z' parameter of VAE.log_joint must have shape \(\.\.\., 2\)"):
        vae.log_joint(x, torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"'z' parameter of VAE.recognition_log_prob must have shape"):
        vae.recognition_log_prob(x, torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"'k' parameter of VAE.elbo must be an int >= 1"):
        vae.elbo(x, 0)
    with pytest.raises(ValueError, match=r"'chunk' parameter of VAE.iwae_bound must be an int >= 1"):
        vae.iwae_bound(x, 5, chunk=0)
    with pytest.raises(ValueError, match=r"'n' parameter of VAE.recognition_sample"):
        vae.recognition_sample(x, 0)
    with pytest.raises(TypeError, match=r"'generator' parameter of VAE.iwae_bound must be a torch.Generator"):
        vae.iwae_bound(x, 2, generator=0)
    with pytest.raises(ValueError, match=r"'mean' parameter of VAE.sample must be a bool"):
        vae.sample(2, mean=1)
    with pytest.raises(ValueError, match=r"'n' parameter of VAE.sample"):
        vae.sample(0)
    # Lists and numpy arrays are accepted; Gaussian pixels may lie outside [0, 1].
    assert vae.elbo(x.tolist(), generator=gen()).shape == (3,)
    torch.testing.assert_close(vae.encode(x.bool()), vae.encode(x.numpy()))
    gauss = VAE(5, 2, hidden=(), likelihood="gaussian", seed=0)
    assert gauss.elbo(np.full((2, 5), 3.0), generator=gen()).shape == (2,)


# ---------------------------------------------------------------------------- files


def test_save_load_round_trip(tmp_path, vae):
    gauss = VAE(3, 2, hidden=(4,), likelihood="gaussian", dtype=torch.float32, seed=1)
    for model in (vae, gauss):
        path = model.save(tmp_path / "sub" / f"{model.likelihood}.pt")
        loaded = VAE.load(path)
        assert loaded.dtype == model.dtype and loaded.hidden == model.hidden
        assert loaded.likelihood == model.likelihood
        for (name, p), (_, q) in zip(model.named_parameters(), loaded.named_parameters(), strict=True):
            assert torch.equal(p, q), name
    meta = json.loads(torch.load(tmp_path / "sub" / "gaussian.pt", weights_only=True)["metadata"])
    assert meta == {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "class": "VAE",
        "n_visible": 3,
        "n_latent": 2,
        "dtype": "float32",
        "extra": {"hidden": [4], "likelihood": "gaussian"},
    }
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["bernoulli.pt", "gaussian.pt"]


def _fake(path, vae, metadata=None, state=None, **changes):
    meta = {
        "format": FORMAT,
        "version": 1,
        "class": "VAE",
        "n_visible": 5,
        "n_latent": 2,
        "dtype": "float64",
        "extra": {"hidden": [4, 3], "likelihood": "bernoulli"},
    } | changes
    state = vae.state_dict() if state is None else state
    torch.save({"metadata": metadata or json.dumps(meta), "state_dict": state}, path)
    return path


def test_load_failures(tmp_path, vae):
    data = vae.save(tmp_path / "good.pt").read_bytes()
    cases = {
        "truncated.pt": lambda p: p.write_bytes(data[: len(data) // 2]),
        "garbage.pt": lambda p: p.write_bytes(bytes(range(256)) * 10),
        "empty.pt": lambda p: p.write_bytes(b""),
    }
    for name, make in cases.items():
        make(tmp_path / name)
        with pytest.raises(ValueError, match=rf"{name}.*truncated, corrupt or not a torch archive"):
            VAE.load(tmp_path / name)
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(ValueError, match=r"tensor.pt' is not a freeenergy model file.*holds a Tensor"):
        VAE.load(tmp_path / "tensor.pt")
    torch.save(vae.state_dict(), tmp_path / "bare.pt")
    with pytest.raises(ValueError, match="holds a dict without them"):
        VAE.load(tmp_path / "bare.pt")
    rbm_path = BernoulliRBM(5, 2, seed=0).save(tmp_path / "rbm.pt")
    with pytest.raises(ValueError, match="holds a BernoulliRBM, not a VAE"):
        VAE.load(rbm_path)
    foreign = {
        "notjson.pt": ({"metadata": "{oops"}, "metadata is not JSON"),
        "format.pt": ({"format": "other"}, "format is not 'freeenergy-model'"),
        "version.pt": ({"version": 99}, "version 99.*Upgrade"),
        "shape.pt": ({"n_visible": 6}, "damaged freeenergy model file.*size mismatch"),
        "hidden.pt": ({"extra": {"hidden": [4], "likelihood": "bernoulli"}}, "damaged.*decoder"),
        "dtype.pt": ({"dtype": "int8"}, "damaged freeenergy model file.*dtype"),
    }
    for name, (change, match) in foreign.items():
        _fake(tmp_path / name, vae, change.pop("metadata", None), **change)
        with pytest.raises(ValueError, match=match):
            VAE.load(tmp_path / name)
    nan_state = vae.state_dict()
    nan_state["encoder.0.weight"][0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        VAE.load(_fake(tmp_path / "nan.pt", vae, state=nan_state))
    with pytest.raises(FileNotFoundError, match=r"No model file at .*missing.pt"):
        VAE.load(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match=r"'path' parameter of load_model"):
        VAE.load(3)
