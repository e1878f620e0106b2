"""Arguments and defaults of freeenergy.estimate.ais (cheap, deterministic); the schedule and the
base model have their own files (test_schedule.py, test_base_model.py).

References:
- Salakhutdinov & Murray, "On the quantitative analysis of deep belief networks" (ICML 2008): the
  schedule and the base-rate model whose arguments are checked here.
- DESIGN.md section 3: errors name the argument, the function, what was given and what is allowed.

Every check here is exact or deterministic: no statistical bound, no seed chosen to pass.
"""

import io
import math
import re
import sys

import numpy as np
import pytest
import torch

from freeenergy.estimate.ais import ais, base_log_partition, base_rate_logits, default_betas, reverse_ais
from freeenergy.models import BernoulliRBM

N_VISIBLE = 6


@pytest.fixture(scope="module")
def model():
    return BernoulliRBM(N_VISIBLE, 3, seed=0)


def grey(n=4):
    """Grey levels in [0, 1] (fine for base rates, not for chain starts)."""
    return np.linspace(0.0, 1.0, n * N_VISIBLE).reshape(n, N_VISIBLE)


# ---------------------------------------------------------------------------- defaults


class FakeTerminal(io.StringIO):
    """A stderr that says it is a terminal: tqdm's ``disable=None`` would show a bar there."""

    def isatty(self):
        return True


def test_defaults_and_progress_bar(model, monkeypatch):
    """Defaults: 100 chains and no progress bar, even on a terminal; ``progress=True`` shows a bar
    labelled with the function's name."""
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    betas = [0.0, 0.5, 1.0]
    est = ais(model, betas=betas, base="uniform", seed=0)
    reverse_ais(model, np.eye(N_VISIBLE), betas=betas, seed=0)
    ais(model, betas=betas, base="uniform", seed=0, progress=False)
    assert est.n_samples == 100 and est.info["log_weights"].shape == (100,)
    assert terminal.getvalue() == ""
    ais(model, n_chains=2, betas=betas, base="uniform", seed=0, progress=True)
    assert re.search(r"\rais: 100%\|#+\| 2/2 \[[^]]*beta/s\]", terminal.getvalue())
    reverse_ais(model, np.eye(N_VISIBLE), betas=betas, seed=0, progress=True)
    assert "\rreverse_ais: 100%" in terminal.getvalue()


# ---------------------------------------------------------------------------- argument errors


def message(name, owner, expected, got):
    """The house-style error message (DESIGN.md section 3), as an anchored regex."""
    return f"^The '{name}' parameter of {owner} must be {re.escape(expected)}\\. Got {got} instead\\.$"


BETAS = "a strictly increasing 1-D sequence of at least 2 inverse temperatures from 0 to 1"
BASE = "'data', 'uniform' or an array of base visible biases"
BAD_CALLS = [
    (lambda m: ais(m, betas=[0.1, 1.0], base="uniform"),
     message("betas", "ais", BETAS, r"betas\[0\] = 0\.1 and betas\[-1\] = 1\.0")),
    (lambda m: reverse_ais(m, np.eye(N_VISIBLE), betas=[0.0, 0.5, 0.5, 1.0]),
     message("betas", "reverse_ais", BETAS, r"betas\[1\] = 0\.5 >= betas\[2\] = 0\.5")),
    (lambda m: ais(m, data=np.array([["a"] * N_VISIBLE])),
     message("data", "ais", "a numeric array of shape (n, n_visible)",
             r"an array of shape \(1, 6\)")),
    (lambda m: ais(m, data=[[0.5, 2.0, 0.0, -1.0, 0.0, 0.0]] * 3),
     r"^The 'data' parameter of ais must hold values in \[0, 1\] for a BernoulliRBM\. Got values in "
     r"\[-1, 2\] instead\.$"),
    (lambda m: ais(m, base="uniform", progress=1), message("progress", "ais", "a bool", "1")),
    (lambda m: ais(m, data=grey(), smoothing="x"),
     message("smoothing", "ais", "a finite real number", "'x'")),
    (lambda m: ais(m, data=grey(), smoothing=1.5),
     message("smoothing", "ais", "a number in (0, 1]", r"1\.5")),
    (lambda m: base_rate_logits(grey(), m, smoothing="x"),
     message("smoothing", "base_rate_logits", "a finite real number", "'x'")),
    (lambda m: base_rate_logits(grey(), m, smoothing=1.5),
     message("smoothing", "base_rate_logits", "a number in (0, 1]", r"1\.5")),
    (lambda m: base_rate_logits(grey(), m, smoothing=0),
     message("smoothing", "base_rate_logits", "a number in (0, 1]", "0")),
    (lambda m: base_rate_logits(np.zeros((2, 5)), m),
     r"^The 'data' parameter of base_rate_logits must have shape"),
    (lambda m: ais(m, base=None), message("base", "ais", BASE, "None")),
    (lambda m: ais(m, base="flat"), message("base", "ais", BASE, "'flat'")),
    (lambda m: ais(m, base=3), message("base", "ais", BASE, "3")),
    (lambda m: ais(m, base=[[1, 2], [3]]), message("base", "ais", BASE, r"\[\[1, 2\], \[3\]\]")),
    (lambda m: ais(m, base=[0.0] * 5),
     message("base", "ais", "an array of 6 finite base visible biases", r"'?shape \(5,\)'?")),
    (lambda m: ais(m, base=[0.0, math.nan] + [0.0] * 4),
     message("base", "ais", "an array of 6 finite base visible biases",
             r"\[0\.0, nan, 0\.0, 0\.0, 0\.0, 0\.0\]")),
    (lambda m: base_log_partition(m, np.zeros(5)),
     message("base_bias", "base_log_partition", "an array of shape (6,)", r"'?shape \(5,\)'?")),
]


@pytest.mark.parametrize(("call", "pattern"), BAD_CALLS)
def test_argument_error_messages(model, call, pattern):
    """Each bad argument raises a ValueError whose whole message names it, the function, what was
    given and what is allowed (DESIGN.md section 3); the first offending value is the one shown."""
    with pytest.raises(ValueError, match=pattern):
        call(model)


@pytest.mark.parametrize(("call", "owner"), [(lambda: base_rate_logits(grey(), "rbm"), "base_rate_logits"),
                                           (lambda: base_log_partition("rbm", [0.0]), "base_log_partition"),
                                           (lambda: reverse_ais("rbm", np.eye(N_VISIBLE)), "reverse_ais")])
def test_model_type_error_names_the_function(call, owner):
    """A model that is not an RBM: TypeError naming the public function that got it."""
    with pytest.raises(TypeError, match=f"^The 'model' parameter of {owner} must be a BernoulliRBM or a "
                                        f"GaussianBernoulliRBM\\. Got str instead\\.$"):
        call()


# ---------------------------------------------------------------------------- accepted inputs


def test_accepted_argument_forms(model):
    """Array-likes in any form give the same run: betas as a tensor, base biases as an object array
    or a parameter that requires grad; ``smoothing = 1`` is the uniform base; grey levels are fine
    for base rates; reverse AIS with a custom base."""
    kw = {"n_chains": 3, "seed": 0}
    ref = ais(model, betas=default_betas(5), base="uniform", **kw)
    as_tensor = ais(model, betas=torch.tensor(default_betas(5)), base="uniform", **kw)
    assert np.array_equal(as_tensor.info["log_weights"], ref.info["log_weights"])
    for base in (np.zeros(N_VISIBLE, dtype=object), torch.nn.Parameter(torch.zeros(N_VISIBLE))):
        custom = ais(model, betas=default_betas(5), base=base, **kw)
        assert custom.info["base"] == "custom"
        assert np.array_equal(custom.info["log_weights"], ref.info["log_weights"])
    smooth = ais(model, betas=[0.0, 1.0], data=grey(), smoothing=1, **kw)
    assert smooth.info["base"] == "data" and np.array_equal(smooth.info["base_bias"], np.zeros(N_VISIBLE))
    assert base_rate_logits(grey(), model).shape == (N_VISIBLE,)
    rev = reverse_ais(model, np.eye(N_VISIBLE), betas=[0.0, 1.0], base=np.zeros(N_VISIBLE), seed=0)
    assert rev.info["base"] == "custom" and rev.n_samples == N_VISIBLE
    log_z_a = base_log_partition(model, np.zeros(N_VISIBLE, dtype=object))
    assert log_z_a == pytest.approx(9 * math.log(2), abs=1e-14)
