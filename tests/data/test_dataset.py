"""Tests of freeenergy.data._dataset: the DataSet record and the blockwise binarisation."""

import dataclasses

import numpy as np
import pytest

from freeenergy.data import DataSet, load_digits
from freeenergy.data._dataset import binarized


def test_dataset_is_frozen_with_short_repr():
    data = load_digits()
    assert isinstance(data, DataSet)
    assert repr(data) == (
        "DataSet(name='digits', train=(1437, 64), test=(360, 64), shape=(8, 8), binarize=None)"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.name = "other"


def test_blockwise_bernoulli_equals_one_draw():
    x = np.random.default_rng(1).random((8192 * 2 + 5, 3))
    out = binarized(x, "stochastic", 0.5, np.random.default_rng(7))
    expected = np.random.default_rng(7).random(x.shape) < x
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float64
