"""Dynamic binarisation in the shared training loop: every mini-batch of probabilities is
replaced by a fresh Bernoulli draw from the run's generator (the MNIST protocol of Burda et al.
2016), reproducibly and resumably. The fixed draw of the monitored rows and the checks of the
probabilities are tested with freeenergy.learn.latent (test_latent.py)."""

import numpy as np
import pytest

from freeenergy.learn import train_helmholtz, train_vae
from freeenergy.models import VAE
from freeenergy.models.helmholtz import HelmholtzMachine
from torch_helpers import same, snapshot

PROBS = np.linspace(0.1, 0.9, 8)


@pytest.fixture(scope="module")
def grey():
    """300 identical grey rows: the data distribution under dynamic binarisation is the
    product of Bernoulli(PROBS)."""
    return np.tile(PROBS, (300, 1))


def test_model_learns_the_pixel_probabilities(grey):
    # every row is the same grey vector, so only the fresh draws tell the model the
    # per-pixel rates; a fixed binarisation of one row could not teach them
    hm = HelmholtzMachine((8, 2), seed=0)
    train_helmholtz(hm, grey, method="reweighted-wake-sleep", epochs=100, batch_size=100, lr=0.01,
                    seed=0, iw_k=0, dynamic_binarization=True)
    means = hm.sample(20_000, seed=1).mean(0).numpy()
    np.testing.assert_allclose(means, PROBS, atol=0.03)


def test_checkpoints_from_before_the_option_still_resume(grey, tmp_path, monkeypatch):
    from freeenergy.learn import loop

    def without_the_key(path, model, extra, gen, epoch, history, arguments):
        arguments = {k: v for k, v in arguments.items() if k != "dynamic_binarization"}
        write(path, model, extra, gen, epoch, history, arguments)

    write = loop.write_checkpoint
    path, kw = tmp_path / "old.ckpt", {"batch_size": 40, "seed": 3, "iw_k": 0, "n_samples": 1}
    monkeypatch.setattr(loop, "write_checkpoint", without_the_key)
    train_vae(VAE(8, 2, hidden=(6,), seed=0), (grey > 0.5).astype(float), epochs=1, checkpoint=path, **kw)
    monkeypatch.setattr(loop, "write_checkpoint", write)
    h = train_vae(VAE(8, 2, hidden=(6,), seed=0), (grey > 0.5).astype(float), epochs=2, resume=path, **kw)
    assert h.epoch.tolist() == [0, 1, 2]


def test_same_seed_same_draws_and_different_seed_differs(grey):
    runs = []
    for seed in (1, 1, 2):
        vae = VAE(8, 2, hidden=(6,), seed=0)
        train_vae(vae, grey, epochs=2, batch_size=50, seed=seed, iw_k=0, n_samples=1,
                  dynamic_binarization=True)
        runs.append(snapshot(vae))
    assert same(runs[0], runs[1])
    assert not same(runs[0], runs[2])


def test_draws_change_the_trajectory(grey):
    kw = {"epochs": 2, "batch_size": 50, "seed": 1, "iw_k": 0, "n_samples": 1}
    plain, dynamic = VAE(8, 2, hidden=(6,), seed=0), VAE(8, 2, hidden=(6,), seed=0)
    train_vae(plain, grey, **kw)
    train_vae(dynamic, grey, dynamic_binarization=True, **kw)
    assert not same(snapshot(plain), snapshot(dynamic))


def test_resume_is_bit_identical(grey, tmp_path):
    kw = {"batch_size": 40, "seed": 3, "iw_k": 0, "n_samples": 1, "dynamic_binarization": True}
    full = VAE(8, 2, hidden=(6,), seed=0)
    train_vae(full, grey, epochs=4, **kw)
    path = tmp_path / "vae.ckpt"
    first = VAE(8, 2, hidden=(6,), seed=0)
    train_vae(first, grey, epochs=2, checkpoint=path, **kw)
    again = VAE(8, 2, hidden=(6,), seed=7)
    train_vae(again, grey, epochs=4, resume=path, **kw)
    assert same(snapshot(full), snapshot(again))


def test_resume_must_repeat_the_binarisation(grey, tmp_path):
    path = tmp_path / "vae.ckpt"
    kw = {"batch_size": 40, "seed": 3, "iw_k": 0, "n_samples": 1}
    train_vae(VAE(8, 2, hidden=(6,), seed=0), grey, epochs=1, checkpoint=path,
              dynamic_binarization=True, **kw)
    with pytest.raises(ValueError, match="dynamic_binarization=True there, False here"):
        train_vae(VAE(8, 2, hidden=(6,), seed=0), grey, epochs=2, resume=path, **kw)


