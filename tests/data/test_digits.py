"""Tests of freeenergy.data.digits: load_digits, scikit-learn's embedded 8x8 digits."""

import numpy as np
import pytest

from freeenergy.data import load_digits


def test_digits_grey_values_and_fixed_split():
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    data = load_digits()
    assert data.shape == (8, 8) and data.name == "digits" and data.source == "sklearn"
    assert data.train.dtype == np.float64 and data.test.dtype == np.float64
    assert data.train_labels.dtype == np.int64
    # the last ceil(0.2 * 1797) = 360 images are the test set, no shuffling
    np.testing.assert_array_equal(data.test, bunch.data[-360:] / 16.0)
    np.testing.assert_array_equal(data.train, bunch.data[:-360] / 16.0)
    np.testing.assert_array_equal(data.test_labels, bunch.target[-360:])
    assert data.train.min() == 0.0 and data.train.max() == 1.0
    assert set(np.unique(data.test_labels)) == set(range(10))


def test_digits_test_fraction():
    data = load_digits(test_fraction=0.5)
    assert data.test.shape == (899, 64) and data.train.shape == (898, 64)


def test_digits_threshold():
    grey = load_digits()
    binary = load_digits(binarize="threshold", threshold=0.25)
    np.testing.assert_array_equal(binary.train, (grey.train > 0.25).astype(float))
    assert binary.binarize == "threshold"


def test_digits_stochastic_is_reproducible():
    a = load_digits(binarize="stochastic", seed=3)
    b = load_digits(binarize="stochastic", seed=3)
    c = load_digits(binarize="stochastic", seed=4)
    d = load_digits(binarize="stochastic", seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.test, d.test)
    assert not np.array_equal(a.train, c.train)
    assert set(np.unique(a.train)) == {0.0, 1.0}
    grey = load_digits()
    # Bernoulli means: 1437*64 draws, the overall mean is within a few standard errors
    assert abs(a.train.mean() - grey.train.mean()) < 0.01


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"binarize": "yes"}, "binarize"),
        ({"binarize": True}, "binarize"),
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": "half"}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"test_fraction": 0.0}, "test_fraction"),
        ({"test_fraction": 1}, "test_fraction"),
    ],
)
def test_digits_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"The '{name}' parameter of load_digits must be"):
        load_digits(**kwargs)
