"""Tests of freeenergy.estimate.latent_model: the LatentVariableModel protocol and the checks shared
by the latent-variable estimators (check_latent_model, check_x, check_T, configurations).

Every error names the argument, the function, what is allowed and what came (DESIGN.md section 3;
the format of freeenergy._params: "The 'NAME' parameter of OWNER must be WHAT. Got VALUE
instead."), so the messages are matched whole where the test says so.
"""

import math
import re

import numpy as np
import pytest
import torch

from freeenergy.estimate.latent_model import LatentVariableModel
from freeenergy.estimate.variational import (
    enumerated_free_energy,
    helmholtz_free_energy,
    importance_weighted_bound,
    tempered_posterior,
)
from freeenergy.models.helmholtz import HelmholtzMachine
from torch_helpers import binary

# Module-level fixtures, imported for pytest to find; the tests' arguments of the same name shadow them.
# ruff: noqa: F811
from .test_variational import tiny  # noqa: F401
from .test_variational_arguments import deep, message  # noqa: F401

# ---------------------------------------------------------------------------- the protocol


def test_protocol_is_implemented(tiny):
    assert isinstance(tiny, LatentVariableModel)


#: Each public function with its name in errors, called on (model, x) with valid other arguments.
CALLS = {
    "helmholtz_free_energy": lambda model, x: helmholtz_free_energy(model, x),
    "tempered_posterior": lambda model, x: tempered_posterior(model, x),
    "enumerated_free_energy": lambda model, x: enumerated_free_energy(model, x, np.ones((32, 1)) / 32),
    "importance_weighted_bound": lambda model, x: importance_weighted_bound(model, x, 3),
}


class Partial:
    """Has ``n_visible`` and ``log_joint`` only."""

    n_visible = 5

    def log_joint(self, x, z):
        return x.sum(-1) + z.sum(-1)


@pytest.mark.parametrize("owner", CALLS)
def test_model_without_the_protocol(owner):
    """TypeError naming the function, the model's class and every missing verb and attribute."""
    missing = "recognition_sample, recognition_log_prob, recognition_entropy, latent_configurations, n_latent"
    want = (
        f"The 'model' parameter of {owner} must implement "
        f"freeenergy.estimate.variational.LatentVariableModel. "
        f"Got a Partial without {missing}."
    )
    with pytest.raises(TypeError, match="^" + re.escape(want) + "$"):
        CALLS[owner](Partial(), [[0.0] * 5])


# ---------------------------------------------------------------------------- x and T


@pytest.mark.parametrize("owner", CALLS)
def test_x_that_is_not_an_array(owner, deep):
    """Ragged rows cannot be an array; strings are not numbers: both errors name x and the function."""
    with pytest.raises(ValueError, match=message("x", owner, "an array of shape (n, n_visible)",
                                                 "[[0, 1], [0]]")):  # fmt: skip
        CALLS[owner](deep, [[0, 1], [0]])
    with pytest.raises(ValueError, match=message("x", owner, "a numeric array of shape (n, n_visible)",
                                                 "an array of shape (1, 5)")):  # fmt: skip
        CALLS[owner](deep, [["a"] * 5])


def test_bad_x(deep):
    shape = r"'x' parameter of helmholtz_free_energy must have shape \(n, 5\)"
    with pytest.raises(ValueError, match=shape):
        helmholtz_free_energy(deep, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="'x' parameter"):
        helmholtz_free_energy(deep, torch.zeros(5))
    with pytest.raises(ValueError, match="'x' parameter"):
        helmholtz_free_energy(deep, torch.zeros(0, 5))
    with pytest.raises(ValueError, match="finite"):
        helmholtz_free_energy(deep, torch.full((1, 5), math.nan))
    with pytest.raises(ValueError, match=r"'x' parameter .*must hold 0/1 values"):
        helmholtz_free_energy(deep, torch.full((1, 5), 0.5))
    with pytest.raises(ValueError, match=r"must hold 0/1 values .*Got a value of 2\.0"):
        importance_weighted_bound(deep, torch.full((1, 5), 2.0), 3)
    with pytest.raises(ValueError, match="numeric"):
        helmholtz_free_energy(deep, [["a"] * 5])


@pytest.mark.parametrize(
    ("T", "allowed", "got"),
    [(math.inf, "a finite real number", "inf"), ("1", "a finite real number", "'1'"),
     (0, "a finite number > 0", "0.0"), (-2.5, "a finite number > 0", "-2.5")],
)  # fmt: skip
@pytest.mark.parametrize("owner", ["helmholtz_free_energy", "tempered_posterior", "enumerated_free_energy"])
def test_bad_temperature(owner, T, allowed, got, deep):
    x = binary(5)[:1]
    call = {
        "helmholtz_free_energy": lambda: helmholtz_free_energy(deep, x, T=T),
        "tempered_posterior": lambda: tempered_posterior(deep, x, T),
        "enumerated_free_energy": lambda: enumerated_free_energy(deep, x, np.ones((32, 1)) / 32, T=T),
    }[owner]
    with pytest.raises(ValueError, match=message("T", owner, allowed, got)):
        call()


# ---------------------------------------------------------------------------- enumerable latents


@pytest.mark.parametrize("owner", ["helmholtz_free_energy", "tempered_posterior", "enumerated_free_energy"])
def test_latents_that_cannot_be_enumerated(owner):
    """The error names the function, the model's class and its latent count."""
    model, x = HelmholtzMachine((3, 21), seed=0), torch.zeros(1, 3)
    call = {
        "helmholtz_free_energy": lambda: helmholtz_free_energy(model, x, method="exact"),
        "tempered_posterior": lambda: tempered_posterior(model, x),
        "enumerated_free_energy": lambda: enumerated_free_energy(model, x, np.ones((2, 1))),
    }[owner]
    want = (
        f"{owner} needs a model whose latents can be enumerated (binary, n_latent <= 20); this "
        f"HelmholtzMachine has n_latent = 21 and latent_configurations() returned None."
    )
    with pytest.raises(ValueError, match="^" + re.escape(want) + "$"):
        call()


def test_enumeration_needs_enumerable_latents():
    model = HelmholtzMachine((3, 21), seed=0)
    with pytest.raises(ValueError, match="n_latent = 21"):
        tempered_posterior(model, torch.zeros(1, 3), 1.0)
    with pytest.raises(ValueError, match="latent_configurations"):
        enumerated_free_energy(model, torch.zeros(1, 3), np.ones((2, 1)))
