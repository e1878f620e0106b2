"""The model file format (``models/_torch.py``): files written by freeenergy 0.1 still load, with
the parameters they were saved with (fixtures in tests/fixtures/v0.1, made by its script)."""

from pathlib import Path

import numpy as np
import pytest
import torch

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


SAMPLERS = {
    "BernoulliRBM.sample": lambda m, **kw: m.sample(3, steps=2, **kw),
    "HelmholtzMachine.sample": lambda m, **kw: m.sample(3, **kw),
    "HelmholtzMachine.recognise": lambda m, **kw: torch.cat(m.recognise(torch.ones(2, 6), **kw), -1),
    "VAE.sample": lambda m, **kw: m.sample(3, **kw),
}
MODELS = {"BernoulliRBM": lambda: BernoulliRBM(6, 3, seed=0), "HelmholtzMachine":
          lambda: HelmholtzMachine((6, 4, 2), seed=0), "VAE": lambda: VAE(6, 2, hidden=(4,), seed=0)}


@pytest.mark.parametrize("method", sorted(SAMPLERS))
def test_sampling_methods_take_a_seed_or_a_generator(method):
    """seed=s and generator=torch.Generator().manual_seed(s) draw the same numbers; both at once,
    or something that is not a generator, are refused naming the method."""
    model = MODELS[method.split(".")[0]]()
    draw = SAMPLERS[method]
    by_seed = draw(model, seed=5)
    assert torch.equal(by_seed, draw(model, generator=torch.Generator().manual_seed(5)))
    assert not torch.equal(by_seed, draw(model, seed=6))
    with pytest.raises(ValueError, match=rf"^{method} takes 'seed' or 'generator', not both"):
        draw(model, seed=5, generator=torch.Generator())
    with pytest.raises(ValueError, match=rf"'generator' parameter of {method}"):
        draw(model, generator=5)
