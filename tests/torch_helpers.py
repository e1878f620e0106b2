"""Small helpers shared by the torch-model tests (importable because pytest puts ``tests/`` on
``sys.path``): random parameters, binary inputs, parameter snapshots, and the replay of a
trainer's random draws, a random RBM. The NumPy references themselves live in ``references.py``."""

import numpy as np
import torch

from freeenergy.models import BernoulliRBM
from references import configurations


def randomise(model, scale=1.0, seed=0, keep=()):
    """Replace every parameter, except those named in ``keep``, by ``scale * N(0, 1)``
    (float64 draws from a generator seeded with ``seed``)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name not in keep:
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * scale)
    return model


def random_rbm(n_visible, n_hidden, scale=1.0, seed=0, dtype=torch.float64, bias_shift=0.0):
    """A Bernoulli RBM whose parameters are float64 ``scale * N(0, 1)`` draws (:func:`randomise`),
    ``bias_shift`` added to the visible biases, then cast to ``dtype``."""
    model = randomise(BernoulliRBM(n_visible, n_hidden), scale, seed)
    with torch.no_grad():
        model.visible_bias.add_(bias_shift)
    return model.to(dtype)


def binary(n):
    """All 2^n binary vectors of length n, shape (2^n, n), float64, in ``itertools.product`` order."""
    return torch.from_numpy(configurations(n))


def snapshot(model):
    """Detached copies of the model's parameters, in order."""
    return [p.detach().clone() for p in model.parameters()]


def same(a, b):
    """Whether two snapshots hold bitwise-equal tensors, pairwise (and as many of them)."""
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


class Replay:
    """A trainer's random draws, replayed from a clone of its ``torch.Generator``: the same calls in
    the same order, fed with a reference's own NumPy probabilities. Torch is only the random-number
    source; every result is a float64 NumPy array.

    Parameters
    ----------
    state : torch.Tensor
        The generator state (``generator.get_state()``) when the trainer starts drawing.
    dtype : torch.dtype
        The dtype the trainer draws in.
    """

    def __init__(self, state, dtype=torch.float64):
        self.gen = torch.Generator()
        self.gen.set_state(state)
        self.dtype = dtype

    @classmethod
    def seeded(cls, seed, dtype=torch.float64):
        """The draws of a generator seeded with ``seed``."""
        return cls(torch.Generator().manual_seed(seed).get_state(), dtype)

    def uniform_bernoulli(self, prob):
        """``u < p`` with ``u = torch.rand(shape, dtype)`` (a hand-written Bernoulli kernel)."""
        u = torch.rand(prob.shape, generator=self.gen, dtype=self.dtype).double().numpy()
        return (u < prob).astype(np.float64)

    def torch_bernoulli(self, prob):
        """``torch.bernoulli(p)`` (the models' samplers)."""
        p = torch.from_numpy(np.ascontiguousarray(prob)).to(self.dtype)
        return torch.bernoulli(p, generator=self.gen).double().numpy()

    def normal(self, shape):
        """``torch.randn(shape)``."""
        return torch.randn(shape, generator=self.gen, dtype=self.dtype).double().numpy()

    def randint(self, n, size):
        """``torch.randint(n, (size,))``."""
        return torch.randint(n, (size,), generator=self.gen).numpy()

    def randperm(self, n):
        """``torch.randperm(n)``."""
        return torch.randperm(n, generator=self.gen).numpy()
