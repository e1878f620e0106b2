"""The model file format (``models/_torch.py``): files written by freeenergy 0.1 still load, with
the parameters they were saved with (fixtures in tests/fixtures/v0.1, made by its script)."""

from pathlib import Path

import numpy as np
import pytest

from freeenergy.models import VAE, BernoulliRBM, GaussianBernoulliRBM, HelmholtzMachine, load_model

FIXTURES = Path(__file__).parent.parent / "fixtures" / "v0.1"
CLASSES = {"bernoulli_rbm": BernoulliRBM, "gaussian_rbm": GaussianBernoulliRBM,
           "helmholtz": HelmholtzMachine, "vae": VAE}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_a_model_saved_by_0_1_loads_with_its_parameters(name):
    expected = np.load(FIXTURES / "expected.npz")
    for model in (load_model(FIXTURES / f"{name}.pt"), CLASSES[name].load(FIXTURES / f"{name}.pt")):
        assert type(model) is CLASSES[name]
        state = model.state_dict()
        keys = sorted(k.split("/", 1)[1] for k in expected.files if k.startswith(f"{name}/"))
        assert sorted(state) == keys
        for key in keys:
            np.testing.assert_array_equal(state[key].numpy(), expected[f"{name}/{key}"])
