"""Small helpers shared by the torch-model tests (importable because pytest puts ``tests/`` on
``sys.path``)."""

import itertools

import torch


def randomise(model, scale=1.0, seed=0, keep=()):
    """Replace every parameter, except those named in ``keep``, by ``scale * N(0, 1)``
    (float64 draws from a generator seeded with ``seed``)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name not in keep:
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * scale)
    return model


def binary(n):
    """All 2^n binary vectors of length n, shape (2^n, n), float64."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)
