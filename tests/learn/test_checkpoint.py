"""Training checkpoints (``learn/checkpoint.py``): checkpoints written by freeenergy 0.1 still load,
and resuming one reproduces an uninterrupted run of the current code bit for bit."""

from pathlib import Path

import numpy as np
import pytest
import torch

from freeenergy.learn import load_checkpoint, train_helmholtz, train_rbm, train_vae
from freeenergy.models import VAE, BernoulliRBM, HelmholtzMachine

FIXTURES = Path(__file__).parent.parent / "fixtures" / "v0.1"
# the runs of tests/fixtures/v0.1/make_fixtures.py: (trainer, fresh model, its arguments)
RUNS = {
    "rbm": (train_rbm, lambda: BernoulliRBM(6, 3, seed=5), {"batch_size": 8, "seed": 6}),
    "helmholtz": (train_helmholtz, lambda: HelmholtzMachine((6, 3), seed=7), {"batch_size": 8, "seed": 8}),
    "vae": (train_vae, lambda: VAE(6, 2, hidden=(4,), seed=9, dtype="float64"),
            {"batch_size": 8, "seed": 10}),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_checkpoint_of_0_1_loads_with_its_history(name):
    ckpt = load_checkpoint(FIXTURES / f"{name}.ckpt")
    expected = np.load(FIXTURES / "expected.npz")[f"{name}.ckpt/free_energy"]
    assert ckpt.epoch == 2
    np.testing.assert_array_equal(ckpt.history.train_free_energy, expected)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_resuming_a_0_1_checkpoint_equals_an_uninterrupted_run(name, tmp_path):
    train, fresh, kwargs = RUNS[name]
    data = np.load(FIXTURES / "data.npy")
    whole = fresh()
    train(whole, data, epochs=3, **kwargs)
    resumed = fresh()
    copy = tmp_path / "run.ckpt"
    copy.write_bytes((FIXTURES / f"{name}.ckpt").read_bytes())  # resuming rewrites the checkpoint
    history = train(resumed, data, epochs=3, resume=copy, checkpoint=copy, **kwargs)
    assert history.epoch.tolist() == [0, 1, 2, 3]
    for key, value in whole.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key
