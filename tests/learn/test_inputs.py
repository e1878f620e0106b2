"""Tests of freeenergy.learn._inputs: the validation of train_rbm's arguments and data (every error
names the argument and train_rbm)."""

import math

import numpy as np
import pytest
import torch

from freeenergy.learn import train_rbm
from freeenergy.models import BernoulliRBM

# A module-level fixture, imported for pytest to find; the tests' arguments of the same name shadow it.
# ruff: noqa: F811
from .test_cd import small  # noqa: F401


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1}, "The 'lr' parameter of train_rbm must be a float > 0. Got -1 instead."),
        ({"lr": math.nan}, "The 'lr' parameter of train_rbm must be a finite real number"),
        ({"momentum": 1.0}, "The 'momentum' parameter of train_rbm must be a float in [0, 1). Got 1.0"),
        ({"weight_decay": -0.1}, "The 'weight_decay' parameter of train_rbm must be a float >= 0"),
        ({"method": "sgd"}, "The 'method' parameter of train_rbm must be 'cd' or 'pcd'. Got 'sgd'"),
        ({"k": 0}, "The 'k' parameter of train_rbm must be an int >= 1. Got 0 instead."),
        ({"epochs": -1}, "The 'epochs' parameter of train_rbm must be an int >= 0"),
        ({"batch_size": 2.5}, "The 'batch_size' parameter of train_rbm must be an int >= 1"),
        ({"seed": -3}, "The 'seed' parameter of train_rbm must be an int >= 0"),
        ({"checkpoint_every": 0}, "The 'checkpoint_every' parameter of train_rbm must be an int >= 1"),
        ({"exact_every": -1}, "The 'exact_every' parameter of train_rbm must be an int >= 0"),
        ({"callbacks": [1]}, "The 'callbacks' parameter of train_rbm must be an iterable of callables"),
        ({"checkpoint": 3}, "The 'checkpoint' parameter of train_rbm must be a path"),
        ({"resume": 3}, "The 'resume' parameter of train_rbm must be a path (str or os.PathLike) or None. "
                        "Got 3 instead."),
        ({"quiet": "no"}, "The 'quiet' parameter of train_rbm must be a bool. Got 'no' instead."),
        ({"explosion": 2.0}, "The 'explosion' parameter of train_rbm must be an ExplosionRule or None"),
        ({"progress": 1}, "The 'progress' parameter of train_rbm must be a bool"),
        ({"test_data": np.zeros((3, 9))}, r"The 'test_data' parameter of train_rbm must have shape (n, 10)"),
    ],
)
def test_argument_errors(small, kwargs, message):
    with pytest.raises(ValueError) as info:
        train_rbm(BernoulliRBM(10, 4), small, **kwargs)
    assert message in str(info.value)


def test_data_errors(small):
    rbm = BernoulliRBM(10, 4)
    with pytest.raises(ValueError, match=r"must have shape \(n, 10\).*Got shape \(60, 9\)"):
        train_rbm(rbm, small[:, :9])
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*Got values in \[0, 2\]"):
        train_rbm(rbm, small * 2)
    with pytest.raises(ValueError, match="must be finite"):
        train_rbm(rbm, np.full((4, 10), np.nan))
    with pytest.raises(ValueError, match="numeric array"):
        train_rbm(rbm, np.array([["a"] * 10]))
    with pytest.raises(TypeError, match="The 'model' parameter of train_rbm must be a BernoulliRBM"):
        train_rbm(torch.nn.Linear(2, 2), small)
