"""ELBO (Kingma & Welling 2014) and IWAE (Burda, Grosse & Salakhutdinov 2016) training of a
small VAE: -ELBO = F[q] = <E>_q - H(q) falls, and the shared loop's seeds, checkpoints and NaN
handling behave as for the other trainers. The monitored terms are checked against NumPy from the
weights (tests/references.py): H(q) = sum_j (1 + log 2 pi + log var_j) / 2 in closed form,
<E>_q = -E_q[log p(x, z)] by Gauss-Hermite quadrature over the 2-D Gaussian q."""

import copy
import math
import re
import time

import numpy as np
import pytest
import torch

from freeenergy.learn import TrainingError, VariationalHistory, load_checkpoint, loop, train_vae
from freeenergy.models import VAE
from freeenergy.models.helmholtz import HelmholtzMachine
from references import diag_normal_entropy, numpy_params, vae_encode, vae_log_joint
from torch_helpers import same, snapshot


@pytest.fixture(scope="module")
def data():
    """96 binary rows: four noisy prototypes of 12 pixels."""
    rng = np.random.default_rng(0)
    protos = rng.random((4, 12)) < 0.5
    rows = protos[rng.integers(0, 4, 96)] ^ (rng.random((96, 12)) < 0.05)
    return rows.astype(np.float64)


def _vae(seed=0):
    return VAE(12, 2, hidden=(16,), seed=seed)


def quadrature_terms(vae, x, nodes=24):
    """Per row of x: H(q) in closed form, and the mean and variance of E(x, z) = -log N(z; 0, I)
    - log p(x | z) under q = N(mu, diag(var)) by a nodes x nodes Gauss-Hermite rule (at 24 nodes
    within ~1e-4 nats of 48, far below the Monte Carlo stderr ~0.02 it is compared with)."""
    params = numpy_params(vae)
    mean, log_var = vae_encode(params, x)
    t, w = np.polynomial.hermite.hermgauss(nodes)
    grid = np.stack(np.meshgrid(t, t, indexing="ij"), -1).reshape(-1, 2)  # (nodes^2, 2)
    weight = np.outer(w, w).ravel() / math.pi
    z = mean + math.sqrt(2) * np.exp(0.5 * log_var) * grid[:, None, :]  # (nodes^2, rows, 2)
    e = -vae_log_joint(params, x, z)
    e_mean = weight @ e
    return diag_normal_entropy(log_var), e_mean, weight @ (e - e_mean) ** 2


def test_elbo_training_increases_the_elbo(data):
    vae = _vae()
    models = [copy.deepcopy(vae)]  # the model behind each history row

    def keep(epoch, model, history):
        models.append(copy.deepcopy(model))

    h = train_vae(vae, data[:80], test_data=data[80:], epochs=8, batch_size=16, lr=0.02, seed=0,
                  n_samples=50, iw_k=10, callbacks=[keep])
    assert isinstance(h, VariationalHistory)
    F = h.train_free_energy  # the negative ELBO
    assert F[-1] < F[0] - 1.0
    assert h.test_free_energy[-1] < h.test_free_energy[0]
    for part, rows in (("train", data[:80]), ("test", data[80:])):
        terms = [quadrature_terms(model, rows) for model in models]
        entropy = np.array([t[0].mean() for t in terms])
        energy = np.array([t[1].mean() for t in terms])
        # Monte Carlo <E>_q from 50 draws per row: stderr of the mean over rows
        stderr = np.array([np.sqrt(t[2].sum() / 50) / len(rows) for t in terms])
        np.testing.assert_allclose(getattr(h, f"{part}_entropy"), entropy, rtol=0, atol=1e-12)
        # fixed seeds; 18 checks of |z| < 5 each, false-failure rate ~1e-5 in all
        assert (np.abs(getattr(h, f"{part}_energy") - energy) < 5 * stderr).all()
        assert (np.abs(getattr(h, f"{part}_free_energy") - (energy - entropy)) < 5 * stderr).all()
    # continuous latents: no exact -log p(x), no exact gap
    assert np.isnan(h.train_neg_log_likelihood).all() and np.isnan(h.train_gap).all()
    assert np.isfinite(h.train_iw_bound).all()
    assert h.objective[-1] < h.objective[1]


def test_iwae_objective_runs(data):
    vae = _vae()
    h = train_vae(vae, data, objective="iwae", k=5, epochs=3, batch_size=32, lr=0.02, seed=0,
                  n_samples=20, iw_k=5)
    assert h.arguments["objective"] == "iwae" and h.arguments["k"] == 5
    assert np.isfinite(h.objective[1:]).all() and np.isfinite(h.train_iw_bound).all()
    assert h.train_free_energy[-1] < h.train_free_energy[0]


def test_same_seed_same_parameters(data):
    runs = []
    for seed in (1, 1, 2):
        vae = _vae()
        train_vae(vae, data, epochs=2, batch_size=32, lr=0.01, seed=seed, n_samples=5, iw_k=0)
        runs.append(snapshot(vae))
    assert same(runs[0], runs[1])
    assert not same(runs[0], runs[2])


@pytest.mark.parametrize("objective", ["elbo", "iwae"])
def test_resume_is_bit_identical(data, tmp_path, objective):
    kw = {"objective": objective, "k": 2, "batch_size": 32, "lr": 0.01, "seed": 3,
          "n_samples": 5, "iw_k": 3}
    full = _vae()
    h_full = train_vae(full, data, epochs=4, **kw)
    path = tmp_path / "vae.ckpt"
    train_vae(_vae(), data, epochs=2, checkpoint=path, **kw)
    again = _vae(seed=7)
    h_resumed = train_vae(again, data, epochs=4, resume=path, **kw)
    assert same(snapshot(full), snapshot(again))
    for column in ("train_free_energy", "objective", "train_iw_bound"):
        np.testing.assert_array_equal(getattr(h_full, column), getattr(h_resumed, column))
    assert isinstance(load_checkpoint(path).model, VAE)


def test_nan_raises_training_error(data):
    def poison(epoch, model, history):
        if epoch == 1:
            with torch.no_grad():
                next(model.parameters())[0, 0] = float("nan")

    vae = _vae()
    with pytest.raises(TrainingError, match="epoch 2 of train_vae") as info:
        train_vae(vae, data, epochs=3, batch_size=32, lr=0.01, seed=0, n_samples=5, iw_k=0,
                  callbacks=[poison])
    assert info.value.epoch == 2 and info.value.history.epoch.tolist() == [0, 1]
    assert all(torch.isfinite(p).all() for p in vae.parameters())
    # the non-finite loss is blamed on the poisoned parameter, and the advice names lr
    assert info.value.quantity == "parameter 'encoder.0.weight'"
    assert str(info.value).endswith("Lower 'lr' (0.01).")


def test_infinite_loss_with_finite_parameters_blames_the_objective():
    """Finite but huge Gaussian pixels (1e200) make -log p(x | z) overflow to +inf while every
    parameter stays finite: the quantity blamed is the training objective, caught in batch 1
    before any step."""
    vae = VAE(4, 2, hidden=(3,), likelihood="gaussian", seed=0)
    before = snapshot(vae)
    with pytest.raises(TrainingError, match=r"the training objective became NaN or infinite "
                                            r"\(detected in batch 1\)") as info:
        train_vae(vae, np.full((4, 4), 1e200), epochs=1, batch_size=4, seed=0, n_samples=1, iw_k=0)
    assert info.value.quantity == "the training objective"
    assert same(before, snapshot(vae))


def test_invalid_arguments(data):
    with pytest.raises(ValueError, match="'objective' parameter of train_vae"):
        train_vae(_vae(), data, objective="kl")
    with pytest.raises(ValueError, match="'k' parameter of train_vae"):
        train_vae(_vae(), data, k=0)
    with pytest.raises(TypeError, match="VAE"):
        train_vae(HelmholtzMachine((12, 3)), data)


def _message(text):
    """A ``pytest.raises`` pattern matching exactly ``text``."""
    return "^" + re.escape(text) + "$"


@pytest.mark.parametrize(("change", "message"), [
    ({"objective": "kl"}, "The 'objective' parameter of train_vae must be 'elbo' or 'iwae'. Got 'kl' "
                          "instead."),
    ({"k": 0}, "The 'k' parameter of train_vae must be an int >= 1. Got 0 instead."),
    ({"seed": 1.5}, "The 'seed' parameter of train_vae must be an int >= 0. Got 1.5 instead."),
    ({"resume": 1}, "The 'resume' parameter of train_vae must be a path (str or os.PathLike) or None. Got 1 "
                    "instead."),
    ({"n_samples": 0}, "The 'n_samples' parameter of train_vae must be an int >= 1. Got 0 instead."),
    ({"iw_k": -1}, "The 'iw_k' parameter of train_vae must be an int >= 0. Got -1 instead."),
    ({"iw_k": 2.0}, "The 'iw_k' parameter of train_vae must be an int >= 0. Got 2.0 instead."),
    ({"data": np.zeros((3, 5))}, "The 'data' parameter of train_vae must have shape (n, 12) with n >= 1, one "
                                 "row per example. Got shape (3, 5) instead "
        "(reshape images to rows, e.g. data.reshape(len(data), -1))."),
])
def test_errors_name_the_argument_and_the_trainer(data, change, message):
    """DESIGN.md section 3: the message names the argument, train_vae, what is allowed and what
    came."""
    kw = {"data": data, "epochs": 1, **change}
    with pytest.raises(ValueError, match=_message(message)):
        train_vae(_vae(), **kw)


def test_wrong_model_is_named(data):
    """The model's class is checked first, and the message names what came."""
    with pytest.raises(TypeError, match=_message("The 'model' parameter of train_vae must be a VAE. Got "
                                                 "HelmholtzMachine instead.")):
        train_vae(HelmholtzMachine((12, 3)), data)


def test_documented_defaults(data, tmp_path, capsys):
    """Every keyword left out: the ELBO with k = 1, 10 epochs of batches of 100, lr = 1e-3,
    n_samples = 100, iw_k = 50, no progress bar, and with checkpoint=path a checkpoint after every
    epoch (checkpoint_every = 1); the history records them."""
    path = tmp_path / "vae.ckpt"
    saved = []
    h = train_vae(_vae(), data[:20], checkpoint=path,
                  callbacks=[lambda epoch, model, history: saved.append(load_checkpoint(path).epoch)])
    expected = {"objective": "elbo", "k": 1, "batch_size": 100, "lr": 1e-3, "epochs": 10, "n_samples": 100,
                "iw_k": 50, "n_train": 20, "dynamic_binarization": False}
    assert {key: h.arguments[key] for key in expected} == expected
    assert saved == list(range(1, 11))
    assert np.isfinite(h.train_iw_bound).all()
    assert capsys.readouterr().err == ""


def test_progress_bar_and_timings(data, capsys):
    """progress=True shows the last monitored F[q] (4 significant digits) on the bar; the history
    times each epoch's updates (0 at row 0) and each row's monitoring, within the call's wall time."""
    start = time.perf_counter()
    h = train_vae(_vae(), data, epochs=2, batch_size=32, lr=0.01, seed=0, n_samples=2, iw_k=2, progress=True)
    wall = time.perf_counter() - start
    assert f"F={h.train_free_energy[-1]:.4g}" in capsys.readouterr().err
    assert h.seconds[0] == 0 and (h.seconds[1:] > 0).all()
    assert (h.monitor_seconds > 0).all() and h.seconds.sum() + h.monitor_seconds.sum() < wall


def test_resume_refuses_another_shape(data, tmp_path):
    """The message describes both models, class, shape and dtype."""
    path = tmp_path / "vae.ckpt"
    train_vae(_vae(), data, epochs=1, batch_size=32, seed=0, n_samples=1, iw_k=0, checkpoint=path)
    other = VAE(12, 3, hidden=(16,), seed=0)
    message = (f"Cannot resume from '{path}': it holds a VAE(n_visible=12, n_latent=2, extra={{'hidden': "
               f"[16], 'likelihood': 'bernoulli'}}, float64) but the model given to train_vae is a "
               f"VAE(n_visible=12, n_latent=3, extra={{'hidden': [16], 'likelihood': 'bernoulli'}}, "
               f"float64). Pass a model of the same class, shape and dtype.")
    with pytest.raises(ValueError, match=_message(message)):
        train_vae(other, data, epochs=2, batch_size=32, seed=0, n_samples=1, iw_k=0, resume=path)


def test_resume_needs_the_optimizer_state(data, tmp_path, monkeypatch):
    """A checkpoint without the Adam state (here: written with it dropped) cannot be resumed."""
    def without_optimizer(path, model, entries, *args):
        write(path, model, {k: v for k, v in entries.items() if k != "optimizer"}, *args)

    write, path = loop.write_checkpoint, tmp_path / "vae.ckpt"
    kw = {"batch_size": 32, "seed": 0, "n_samples": 1, "iw_k": 0}
    monkeypatch.setattr(loop, "write_checkpoint", without_optimizer)
    train_vae(_vae(), data, epochs=1, checkpoint=path, **kw)
    monkeypatch.undo()
    with pytest.raises(ValueError, match=_message("The checkpoint was not written by train_vae (no "
                                                  "optimizer state).")):
        train_vae(_vae(), data, epochs=2, resume=path, **kw)


