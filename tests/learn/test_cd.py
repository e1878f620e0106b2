"""train_rbm: CD-k / PCD learning, reproducibility, checkpoints and resumption, monitors.

Learning is checked with the exact log-likelihood (log Z by enumeration of 16 hidden units) on
scikit-learn's 8x8 digits, thresholded at 0.5 (Hinton 2002 for CD, Tieleman 2008 for PCD).
The monitored values are checked against NumPy computations from the weights (tests/references.py):
free energies and log Z by enumeration (Hinton 2010, "A Practical Guide to Training RBMs"; Cho,
Ilin & Raiko 2011 for the Gaussian-Bernoulli RBM, visibles integrated analytically), norms by
numpy.linalg (beta_eff = the largest singular value of diag(1 / sigma) W).
"""

from __future__ import annotations

import json
import math
import re
import time

import numpy as np
import pytest
import torch

from freeenergy.data import load_digits
from freeenergy.learn import (
    ExplosionRule,
    TrainingError,
    TrainingHistory,
    TrainingWarning,
    load_checkpoint,
    train_rbm,
    weight_statistics,
)
from freeenergy.models import BernoulliRBM, GaussianBernoulliRBM
from references import numpy_params, rbm_free_energy, rbm_log_z
from torch_helpers import same, snapshot


@pytest.fixture(scope="module")
def digits():
    return load_digits(binarize="threshold")


@pytest.fixture(scope="module")
def small():
    """A tiny binary data set for fast mechanics tests."""
    rng = np.random.default_rng(0)
    return (rng.random((60, 10)) < 0.3).astype(np.float64)


def reference(rbm, v):
    """F(v) per row and log Z of a Bernoulli or Gaussian-Bernoulli RBM, in NumPy from the weights
    (tests/references.py: hiddens summed out in closed form; visibles summed, or integrated
    analytically, over every hidden configuration)."""
    params = numpy_params(rbm)
    return rbm_free_energy(params, v), rbm_log_z(params)


# ---------------------------------------------------------------------------- learning
def test_cd1_raises_exact_train_log_likelihood_on_digits(digits):
    rbm = BernoulliRBM(64, 16, seed=0)
    history = train_rbm(rbm, digits, epochs=4, lr=0.05, seed=0)
    ll = history.train_log_likelihood
    assert history.epoch.tolist() == [0, 1, 2, 3, 4]
    assert ll[0] == pytest.approx(-64 * math.log(2), abs=0.5)  # near-uniform start
    assert ll[-1] > ll[0] + 15 and ll[-1] > ll[1]
    assert np.isfinite(history.test_log_likelihood).all()
    # The reported values are the exact ones (observed agreement ~1e-14).
    free, log_z = reference(rbm, digits.train)
    assert history.log_z[-1] == pytest.approx(log_z, rel=1e-12)
    assert history.train_free_energy[-1] == pytest.approx(free.mean(), rel=1e-12)
    assert history.train_log_likelihood[-1] == pytest.approx(-free.mean() - log_z, rel=1e-10)
    test_free, _ = reference(rbm, digits.test)
    assert history.test_log_likelihood[-1] == pytest.approx(-test_free.mean() - log_z, rel=1e-10)


def test_pcd_learns_and_keeps_batch_size_chains(digits, tmp_path):
    rbm = BernoulliRBM(64, 16, seed=0)
    path = tmp_path / "pcd.ckpt"
    history = train_rbm(rbm, digits, method="pcd", epochs=3, lr=0.05, batch_size=50, seed=0,
                        checkpoint=path)
    assert history.train_log_likelihood[-1] > history.train_log_likelihood[0] + 15
    chains = torch.load(path, weights_only=True)["chains"]
    assert chains.shape == (50, 16)
    assert set(chains.unique().tolist()) <= {0.0, 1.0}


def test_cd_k_and_monitors(digits):
    rbm = BernoulliRBM(64, 16, seed=1)
    history = train_rbm(rbm, digits.train[:300], k=3, epochs=2, lr=0.05, seed=0, exact_every=0)
    assert np.isnan(history.log_z).all() and np.isnan(history.test_free_energy).all()
    assert np.isnan(history.reconstruction_error[0]) and (history.reconstruction_error[1:] > 0).all()
    W = numpy_params(rbm)["weight"]
    assert history.beta_eff[-1] == pytest.approx(np.linalg.svd(W, compute_uv=False)[0], rel=1e-12)
    assert history.weight_norm[-1] == pytest.approx(np.sqrt((W**2).sum()), rel=1e-12)
    assert history.weight_max[-1] == pytest.approx(np.abs(W).max(), rel=1e-12)
    free, _ = reference(rbm, digits.train[:300])
    assert history.train_free_energy[-1] == pytest.approx(free.mean(), rel=1e-12)
    assert (history.seconds[1:] > 0).all() and history.seconds[0] == 0


def test_gaussian_bernoulli_rbm_learns():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(2, 1, (100, 3)), rng.normal(-2, 1, (100, 3))])
    rbm = GaussianBernoulliRBM(3, 2, seed=0)
    history = train_rbm(rbm, x, epochs=5, lr=0.05, batch_size=20, seed=0)
    # From a single unit Gaussian (about -10.2 nats) towards the two-cluster mixture (about -5).
    assert history.train_log_likelihood[-1] > history.train_log_likelihood[0] + 3
    free, log_z = reference(rbm, x)
    assert history.log_z[-1] == pytest.approx(log_z, rel=1e-12)
    assert history.train_log_likelihood[-1] == pytest.approx(-free.mean() - log_z, rel=1e-10)


@pytest.mark.parametrize("sigma", [None, np.linspace(0.3, 3.0, 7)])
def test_weight_statistics_match_numpy(sigma):
    """||W||_F, max |W_ij| and beta_eff = ||diag(1 / sigma) W||_2 (sigma = 1 for binary visibles)."""
    model = BernoulliRBM(7, 4) if sigma is None else GaussianBernoulliRBM(7, 4, sigma=sigma)
    with torch.no_grad():
        model.weight.copy_(torch.randn(7, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    W = numpy_params(model)["weight"]
    scaled = W if sigma is None else W / sigma[:, None]
    stats = weight_statistics(model)
    assert stats["weight_norm"] == pytest.approx(np.linalg.norm(W, "fro"), rel=1e-12)
    assert stats["weight_max"] == pytest.approx(np.abs(W).max(), rel=1e-12)
    assert stats["beta_eff"] == pytest.approx(np.linalg.svd(scaled, compute_uv=False)[0], rel=1e-12)


def test_frozen_parameter_is_not_trained(small):
    rbm = BernoulliRBM(10, 3, seed=0)
    rbm.hidden_bias.requires_grad_(False)
    before = rbm.hidden_bias.detach().clone()
    train_rbm(rbm, small, epochs=2, batch_size=10, seed=0, exact_every=0)
    assert torch.equal(rbm.hidden_bias.detach(), before)


def test_documented_defaults(small, capsys):
    """With only a seed given, ``train_rbm`` runs the defaults of its signature: CD-1, 10 epochs,
    batches of 100 rows, lr 0.01, momentum 0.5, no weight decay, exact monitors every epoch and
    no progress bar; they are recorded in ``history.arguments``."""
    history = train_rbm(BernoulliRBM(10, 4, seed=0), small, seed=0)
    assert history.arguments == {"method": "cd", "k": 1, "batch_size": 100, "lr": 0.01, "momentum": 0.5,
                                 "weight_decay": 0.0, "seed": 0, "dynamic_binarization": False,
                                 "epochs": 10, "n_train": 60, "exact_every": 1}
    assert history.epoch.tolist() == list(range(11)) and np.isfinite(history.log_z).all()
    assert capsys.readouterr().err == ""


def test_exact_monitors_every_exact_every_epochs_and_at_the_end(small):
    """``exact_every=2`` over 3 epochs: exact log Z (and log-likelihoods) at epochs 0, 2 and the
    last one, 3; NaN at epoch 1."""
    history = train_rbm(BernoulliRBM(10, 4, seed=0), small, epochs=3, batch_size=30, seed=0,
                        exact_every=2, test_data=small[:20])
    for name in ("log_z", "train_log_likelihood", "test_log_likelihood"):
        assert np.isfinite(getattr(history, name)).tolist() == [True, False, True, True], name


def test_timings_are_wall_times(small):
    """``seconds`` (updates) and ``monitor_seconds`` (diagnostics) are positive durations that
    add up to no more than the call took."""
    start = time.perf_counter()
    history = train_rbm(BernoulliRBM(10, 4, seed=0), small, epochs=2, batch_size=10, seed=0)
    elapsed = time.perf_counter() - start
    assert (history.seconds[1:] > 0).all() and (history.monitor_seconds > 0).all()
    assert history.seconds.sum() + history.monitor_seconds.sum() <= elapsed


@pytest.mark.parametrize(("batch_size", "threads"), [(2**20, 2), (2**20 - 1, 1)])
def test_small_steps_train_on_one_thread(two_threads, batch_size, threads):
    """The step's largest product, ``batch_size x n_visible x n_hidden`` multiply-adds, decides
    (freeenergy._threads: one thread below 2^23); 2^20 x 2 x 4 = 2^23 keeps the pool. The caller's
    thread count comes back afterwards."""
    seen = []
    data = (np.random.default_rng(0).random((20, 2)) < 0.5) * 1.0
    train_rbm(BernoulliRBM(2, 4, seed=0), data, epochs=1, batch_size=batch_size, seed=0, exact_every=0,
              callbacks=[lambda *args: seen.append(torch.get_num_threads())])
    assert seen == [threads] and torch.get_num_threads() == 2


# ---------------------------------------------------------------------------- reproducibility
def test_same_seed_is_bit_identical(small):
    a, b, c = (BernoulliRBM(10, 4, seed=0) for _ in range(3))
    ha = train_rbm(a, small, method="pcd", epochs=3, batch_size=7, seed=5)
    hb = train_rbm(b, small, method="pcd", epochs=3, batch_size=7, seed=5)
    train_rbm(c, small, method="pcd", epochs=3, batch_size=7, seed=6)
    assert same(snapshot(a), snapshot(b)) and not same(snapshot(a), snapshot(c))
    assert np.array_equal(ha.train_free_energy, hb.train_free_energy)
    assert ha.arguments["seed"] == 5


def test_seed_none_records_the_seed_used(small):
    a = BernoulliRBM(10, 4, seed=0)
    history = train_rbm(a, small, epochs=2, batch_size=10)
    b = BernoulliRBM(10, 4, seed=0)
    train_rbm(b, small, epochs=2, batch_size=10, seed=history.arguments["seed"])
    assert same(snapshot(a), snapshot(b))


@pytest.mark.parametrize("method", ["cd", "pcd"])
def test_resume_continues_bit_identically(digits, tmp_path, method):
    kw = {"method": method, "lr": 0.05, "momentum": 0.5, "weight_decay": 1e-3, "batch_size": 64,
          "seed": 3, "test_data": digits.test}
    straight = BernoulliRBM(64, 16, seed=0)
    full = train_rbm(straight, digits.train, epochs=4, **kw)
    path = tmp_path / "run.ckpt"
    first = BernoulliRBM(64, 16, seed=0)
    train_rbm(first, digits.train, epochs=2, checkpoint=path, **kw)
    assert load_checkpoint(path).epoch == 2
    resumed = BernoulliRBM(64, 16, seed=99)  # parameters come from the checkpoint
    kw.pop("seed")
    history = train_rbm(resumed, digits.train, epochs=4, resume=path, checkpoint=path, **kw)
    assert same(snapshot(straight), snapshot(resumed))
    assert history.epoch.tolist() == [0, 1, 2, 3, 4]
    for name in ("train_free_energy", "test_free_energy", "beta_eff", "log_z", "reconstruction_error"):
        np.testing.assert_array_equal(getattr(history, name), getattr(full, name))
    assert load_checkpoint(path).epoch == 4


def test_resume_rejects_a_different_model_or_arguments(small, tmp_path):
    path = tmp_path / "run.ckpt"
    train_rbm(BernoulliRBM(10, 4, seed=0), small, epochs=1, batch_size=10, seed=0, checkpoint=path)
    with pytest.raises(ValueError, match=r"n_hidden=4.*n_hidden=5"):
        train_rbm(BernoulliRBM(10, 5), small, epochs=2, batch_size=10, resume=path)
    with pytest.raises(ValueError, match=r"GaussianBernoulliRBM"):
        train_rbm(GaussianBernoulliRBM(10, 4), small, epochs=2, batch_size=10, resume=path)
    with pytest.raises(ValueError, match=r"lr=0.01 there, 0.02 here"):
        train_rbm(BernoulliRBM(10, 4), small, epochs=2, batch_size=10, lr=0.02, resume=path)
    with pytest.raises(ValueError, match=r"seed=0 there, 1 here"):
        train_rbm(BernoulliRBM(10, 4), small, epochs=2, batch_size=10, seed=1, resume=path)
    with pytest.raises(ValueError, match=r"data_digest"):
        train_rbm(BernoulliRBM(10, 4), 1 - small, epochs=2, batch_size=10, resume=path)
    with pytest.raises(ValueError, match=r"'epochs' \(the total\) is 0"):
        train_rbm(BernoulliRBM(10, 4), small, epochs=0, batch_size=10, resume=path)


def test_resume_from_missing_or_foreign_file(small, tmp_path):
    with pytest.raises(FileNotFoundError, match="No checkpoint file"):
        train_rbm(BernoulliRBM(10, 4), small, resume=tmp_path / "nope.ckpt")
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="truncated, corrupt"):
        train_rbm(BernoulliRBM(10, 4), small, resume=junk)
    model_file = BernoulliRBM(10, 4).save(tmp_path / "model.pt")
    with pytest.raises(ValueError, match="not a freeenergy checkpoint"):
        load_checkpoint(model_file)


def test_checkpoint_every(small, tmp_path):
    path = tmp_path / "run.ckpt"
    seen = []
    def spy(epoch, model, history):
        seen.append(load_checkpoint(path).epoch if path.exists() else None)
    train_rbm(BernoulliRBM(10, 4, seed=0), small, epochs=5, batch_size=10, seed=0, checkpoint=path,
              checkpoint_every=2, callbacks=[spy])
    assert seen == [None, 2, 2, 4, 5]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------- divergence
def _blow_up_at(epoch_to_break):
    def callback(epoch, model, history):
        if epoch == epoch_to_break:
            with torch.no_grad():
                model.weight.mul_(1e306)  # finite now, overflowing in the next epoch
    return callback


def test_nan_stops_with_training_error_and_keeps_the_good_checkpoint(digits, tmp_path):
    path = tmp_path / "run.ckpt"
    rbm = BernoulliRBM(64, 16, seed=0)
    snapshots = {}
    def keep_file(epoch, model, history):
        snapshots[epoch] = (path.read_bytes(), snapshot(model))
    with pytest.raises(TrainingError, match=r"epoch 3 of train_rbm: weight_norm became inf") as info:
        train_rbm(rbm, digits, epochs=5, lr=0.05, seed=0, checkpoint=path,
                  callbacks=[keep_file, _blow_up_at(2)])
    err = info.value
    assert err.epoch == 3 and err.quantity == "weight_norm" and err.checkpoint == str(path)
    assert "restored to its parameters after epoch 2" in str(err)
    assert isinstance(err.history, TrainingHistory) and err.history.epoch.tolist() == [0, 1, 2]
    assert err.history.stop_reason == "diverged"
    assert path.read_bytes() == snapshots[2][0]  # the file on disk is the epoch-2 checkpoint
    ckpt = load_checkpoint(path)
    assert ckpt.epoch == 2 and same(snapshot(ckpt.model), snapshot(rbm))
    assert same(snapshot(rbm), snapshots[2][1])


def test_huge_learning_rate_raises_and_restores(digits):
    rbm = BernoulliRBM(64, 16, seed=0)
    start = snapshot(rbm)
    with pytest.raises(TrainingError, match=r"epoch 1 .*Lower 'lr' \(1e\+300\)") as info:
        train_rbm(rbm, digits, epochs=3, lr=1e300, seed=0)
    assert info.value.epoch == 1 and info.value.checkpoint is None
    assert same(snapshot(rbm), start)


def test_quiet_turns_the_error_into_a_warning(digits):
    rbm = BernoulliRBM(64, 16, seed=0)
    with pytest.warns(TrainingWarning, match="diverged in epoch 2"):
        history = train_rbm(rbm, digits, epochs=4, lr=0.05, seed=0, quiet=True,
                            callbacks=[_blow_up_at(1)])
    assert history.stop_reason == "diverged" and history.epoch.tolist() == [0, 1]
    assert all(torch.isfinite(p).all() for p in rbm.parameters())


def test_exploding_weights_warn_with_the_epoch(digits):
    rbm = BernoulliRBM(64, 16, seed=0)
    with pytest.warns(TrainingWarning, match=r"exploding at epoch 1 .*max \|W\|") as record:
        history = train_rbm(rbm, digits, epochs=3, lr=1e3, seed=0, exact_every=0)
    assert len(record) == 1  # once per call
    assert history.beta_eff[1] > 1e3 * history.beta_eff[0]
    # Disabled rule: no warning.
    train_rbm(BernoulliRBM(64, 16, seed=0), digits, epochs=1, lr=1e3, seed=0, exact_every=0,
              explosion=None)


def test_explosion_warning_reports_the_current_beta_eff(small):
    """A warning raised at epoch 2 quotes that epoch's beta_eff (not an earlier row's)."""
    def inflate(epoch, model, history):
        if epoch == 1:
            with torch.no_grad():
                model.weight.fill_(10.0)
    with pytest.warns(TrainingWarning) as record:
        history = train_rbm(BernoulliRBM(10, 4, seed=0), small, epochs=2, batch_size=30, seed=0,
                            exact_every=0, explosion=ExplosionRule(max_weight=5.0), callbacks=[inflate])
    beta = f"{history.beta_eff[2]:.4g}"
    assert history.beta_eff[2] > 10 > history.beta_eff[1]
    expected = (r"Weights are exploding at epoch 2 of train_rbm: max \|W\| = \S+ exceeds 5 \(beta_eff = "
                + re.escape(beta) + r"\)\. Lower 'lr' \(0\.01\) or add 'weight_decay'\.")
    assert len(record) == 1 and re.fullmatch(expected, str(record[0].message))


def test_non_finite_parameter_is_named(small):
    """A weight spoiled between epochs (here by a callback) is named when the next update sees it."""
    def spoil(epoch, model, history):
        if epoch == 1:
            with torch.no_grad():
                model.weight.fill_(math.inf)
    with pytest.raises(TrainingError) as info:
        train_rbm(BernoulliRBM(10, 4, seed=0), small, epochs=3, batch_size=10, seed=0, callbacks=[spoil])
    assert info.value.quantity == "parameter 'weight'"
    assert "epoch 2 of train_rbm: parameter 'weight' became NaN or infinite (detected in batch 1)" in str(
        info.value)


def test_explosion_rule():
    rule = ExplosionRule(max_weight=math.inf, growth=2.0, patience=3)
    assert rule.check([1, 3, 7, 15], [0.1] * 4).startswith("beta_eff grew by more than x2")
    assert rule.check([1, 3, 5, 15], [0.1] * 4) is None  # 5 < 2 * 3
    assert rule.check([3, 7, 15], [0.1] * 3) is None  # too few epochs
    assert ExplosionRule(max_weight=1.0).check([1.0], [1.5]) == "max |W| = 1.5 exceeds 1"
    with pytest.raises(ValueError, match="The 'growth' parameter of ExplosionRule must be a float > 1"):
        ExplosionRule(growth=1.0)
    with pytest.raises(ValueError, match="The 'patience' parameter of ExplosionRule"):
        ExplosionRule(patience=0)


# ---------------------------------------------------------------------------- callbacks, history
def test_callback_can_stop_and_must_return_none_or_stop(small, tmp_path):
    calls = []
    def stop_at_2(epoch, model, history):
        calls.append((epoch, len(history)))
        return "stop" if epoch == 2 else None
    path = tmp_path / "run.ckpt"
    history = train_rbm(BernoulliRBM(10, 4, seed=0), small, epochs=10, batch_size=10, seed=0,
                        callbacks=[stop_at_2], checkpoint=path, checkpoint_every=5)
    assert calls == [(1, 2), (2, 3)] and history.stop_reason == "callback"
    assert load_checkpoint(path).epoch == 2  # stopping writes a final checkpoint
    with pytest.raises(ValueError, match=r"must return None or 'stop'.*returned 3 at epoch 1"):
        train_rbm(BernoulliRBM(10, 4), small, epochs=2, batch_size=10, callbacks=[lambda *a: 3])


def test_history_is_frozen_and_json_ready(small):
    history = train_rbm(BernoulliRBM(10, 4, seed=0), small, epochs=2, batch_size=10, seed=0)
    text = json.dumps(history.as_dict(), allow_nan=False)
    assert json.loads(text)["arguments"]["method"] == "cd"
    with pytest.raises(ValueError):
        history.beta_eff[0] = 1.0
    with pytest.raises(AttributeError):
        history.stop_reason = "x"
    assert len(history.rows()) == len(history) == 3


def test_progress_bar(small, capsys):
    """The bar counts the 6 batches and shows the epoch, the mean free energy (4 digits) and
    beta_eff (3 digits) as its postfix."""
    history = train_rbm(BernoulliRBM(10, 4, seed=0), small, epochs=1, batch_size=10, seed=0, progress=True)
    err = capsys.readouterr().err
    assert "train_rbm" in err
    postfix = f"F={history.train_free_energy[-1]:.4g}, beta_eff={history.beta_eff[-1]:.3g}, epoch=1]"
    assert "| 6/6 [" in err and f"batch/s, {postfix}" in err


def test_resume_with_a_checkpoint_of_another_trainer_is_refused(tmp_path):
    """A VAE's checkpoint given to train_rbm is refused with both models described (it used to
    fail with a KeyError while describing the VAE)."""
    from freeenergy.learn import train_vae
    from freeenergy.models import VAE

    data = (np.random.default_rng(0).random((16, 6)) < 0.5).astype(float)
    path = tmp_path / "vae.ckpt"
    train_vae(VAE(6, 2, hidden=(4,), seed=0), data, epochs=1, batch_size=8, seed=0, n_samples=1,
              iw_k=0, checkpoint=path)
    with pytest.raises(ValueError, match=r"it holds a VAE\(n_visible=6, n_latent=2, .* but the model "
                                         r"given to train_rbm is a BernoulliRBM\(n_visible=6, n_hidden=3"):
        train_rbm(BernoulliRBM(6, 3, seed=0), data, epochs=2, resume=path)
