"""Argument checks of freeenergy.estimate.variational and the accepted forms of ``q`` (the model,
``x`` and ``T`` checks of freeenergy.estimate.latent_model are in test_latent_model.py).

Every error names the argument, the function, what is allowed and what came (DESIGN.md section 3;
the format of freeenergy._params: "The 'NAME' parameter of OWNER must be WHAT. Got VALUE
instead."), so the messages are matched whole. Values are checked against brute-force sums over
every latent configuration of a small Helmholtz machine, written in NumPy from its weights
(tests/references.py).
"""

import re

import numpy as np
import pytest
import torch

from freeenergy.estimate.variational import (
    enumerated_free_energy,
    helmholtz_free_energy,
    importance_sampled_log_likelihood,
    importance_weighted_bound,
)
from freeenergy.models.helmholtz import HelmholtzMachine
from references import numpy_params, sbn_enumerate
from torch_helpers import binary, randomise


@pytest.fixture(scope="module")
def deep():
    return randomise(HelmholtzMachine((5, 3, 2), seed=0), scale=1.0, seed=2)


def message(name, owner, allowed, got):
    """The whole house-style error message, escaped for ``pytest.raises(match=...)``."""
    return "^" + re.escape(f"The '{name}' parameter of {owner} must be {allowed}. Got {got} instead.") + "$"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m, x: helmholtz_free_energy(m, x, method="magic"),
         message("method", "helmholtz_free_energy", "one of 'auto', 'exact', 'sample'", "'magic'")),
        (lambda m, x: helmholtz_free_energy(m, x, method="sample", seed=-3),
         message("seed", "helmholtz_free_energy", "an int >= 0", "-3")),
        (lambda m, x: helmholtz_free_energy(m, x, method="sample", seed=1.5),
         message("seed", "helmholtz_free_energy", "an int >= 0", "1.5")),
        (lambda m, x: importance_weighted_bound(m, x, 3, seed=-1),
         message("seed", "importance_weighted_bound", "an int >= 0", "-1")),
        (lambda m, x: importance_weighted_bound(m, x, 3, seed="0"),
         message("seed", "importance_weighted_bound", "an int >= 0", "'0'")),
        (lambda m, x: importance_weighted_bound(m, x, 0),
         message("k", "importance_weighted_bound", "an int >= 1", "0")),
        (lambda m, x: importance_weighted_bound(m, x, 3, batch=0),
         message("batch", "importance_weighted_bound", "an int >= 1", "0")),
        (lambda m, x: importance_sampled_log_likelihood(m, x, 3, batch=-5),
         r"^The 'batch' parameter of \w+ must be an int >= 1\. Got -5 instead\.$"),
    ],
)  # fmt: skip
def test_bad_sampling_arguments(call, match, deep):
    with pytest.raises(ValueError, match=match):
        call(deep, binary(5)[:2])


# ---------------------------------------------------------------------------- q of enumerated_free_energy


def test_q_of_the_wrong_shape(deep):
    """The shape error gives the expected (2^n_latent, batch) = (32, 2)."""
    want = (
        "The 'q' parameter of enumerated_free_energy must have shape (32, 2) (one probability per "
        "latent configuration and example). Got shape (5, 2) instead."
    )
    with pytest.raises(ValueError, match="^" + re.escape(want) + "$"):
        enumerated_free_energy(deep, binary(5)[:2], np.ones((5, 2)) / 5)


def _column(values):
    """A (32, 1) q: ``values`` first, zeros after."""
    q = np.zeros((32, 1))
    q[: len(values), 0] = values
    return q


@pytest.mark.parametrize(
    ("q", "got"),
    [(_column([1.5, -0.5]), "a tensor with a negative entry (-0.5)"),  # sums to 1
     (_column([0.25, 0.25]), "a tensor whose column 0 sums to 0.5"),
     (_column([0.75, 0.75]), "a tensor whose column 0 sums to 1.5"),
     (_column([0.5, 0.5 + 2e-6]), "a tensor whose column 0 sums to 1.000002"),
     (_column([0.5, 0.5 - 2e-6]), "a tensor whose column 0 sums to 0.999998"),
     (_column([np.nan, 1.0]), "a tensor with a NaN or infinite entry"),
     (_column([np.inf, 1.0]), "a tensor with a NaN or infinite entry")],
)  # fmt: skip
def test_q_that_is_not_a_distribution(q, got, deep):
    """Refused with what is wrong with it; the column sums are held to 1 within 1e-6."""
    allowed = "finite and non-negative with columns summing to 1 (within 1e-06)"
    want = message("q", "enumerated_free_energy", allowed, got)
    with pytest.raises(ValueError, match=want):
        enumerated_free_energy(deep, binary(5)[:1], q)


def test_the_worst_column_is_named(deep):
    q = np.concatenate([_column([0.5, 0.5]), _column([0.5, 0.4]), _column([0.5, 0.3])], axis=1)
    with pytest.raises(ValueError, match=r"column 2 sums to 0\.8 instead"):
        enumerated_free_energy(deep, binary(5)[:3], q)


@pytest.mark.parametrize("error", [5e-7, -5e-7])
def test_q_within_the_sum_tolerance_is_accepted(error, deep):
    """A column off by less than 1e-6 (float32 rounding) is accepted: F is then exactly the sum
    over the given q."""
    q = _column([0.5, 0.5 + error])
    x = binary(5)[:1]
    log_p = sbn_enumerate(numpy_params(deep), x.numpy(), 1.0).log_p[:2, 0]
    want = float(np.sum(q[:2, 0] * (np.log(q[:2, 0]) - log_p)))
    assert enumerated_free_energy(deep, x, q)[0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(
    "form",
    ["ndarray", "list of rows", "float32 tensor", "bfloat16 tensor"],
)
def test_accepted_forms_of_q(form, deep):
    """F_T[q] = sum_z q(z) (T log q(z) - log p(x, z)) (0 log 0 = 0) for q given as an array, a list
    of NumPy rows, or a tensor of any floating dtype (its values taken exactly, the sums in float64),
    with exact zeros: q is 1/8 on every 4th configuration (exact in bfloat16; other float32 values
    for the float32 tensor)."""
    x, T = binary(5)[[6, 21]], 1.3
    log_p = sbn_enumerate(numpy_params(deep), x.numpy(), T).log_p
    q = np.zeros((32, 2))
    q[::4] = 1 / 8
    q[:, 1] = np.roll(q[:, 1], 1)  # a different support for the second example
    if form == "float32 tensor":  # not exact: the reference uses the float32 values
        q[q > 0] = np.float32(1 / 7.9)
        q /= q.sum(0)
        q = q.astype(np.float32).astype(np.float64)
    given = {
        "ndarray": q,
        "list of rows": list(q),
        "float32 tensor": torch.tensor(q, dtype=torch.float32),
        "bfloat16 tensor": torch.tensor(q, dtype=torch.bfloat16),
    }[form]
    on = q > 0
    want = (q * (T * np.log(np.where(on, q, 1.0)) - np.where(on, log_p, 0.0))).sum(0)
    np.testing.assert_allclose(enumerated_free_energy(deep, x, given, T=T), want, rtol=0, atol=1e-12)
