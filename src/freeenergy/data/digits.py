"""The 8x8 hand-written digits that ship with scikit-learn (1797 images, no download)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from freeenergy._params import fail
from freeenergy.data._dataset import DataSet, binarized, check_options

__all__ = ["load_digits"]

_OWNER = "load_digits"


def load_digits(
    *,
    binarize: str | None = None,
    threshold: float = 0.5,
    seed: int | np.random.Generator | None = None,
    test_fraction: float = 0.2,
) -> DataSet:
    """Load scikit-learn's embedded 8x8 digits, scaled to [0, 1], with a fixed train/test split.

    The 1797 images (UCI optical recognition of hand-written digits, 16 grey levels) come with
    scikit-learn, so nothing is downloaded. Pixels are divided by 16, so grey values lie in
    [0, 1]. The split is deterministic and does not shuffle: the **last**
    ``ceil(test_fraction * 1797)`` images (360 by default) are the test set and the rest the
    training set, in scikit-learn's order (every digit appears in both parts).

    Parameters
    ----------
    binarize : {None, "threshold", "stochastic"}, default None
        None keeps the grey values. ``"threshold"`` sets a pixel to 1 where its value is
        ``> threshold`` and 0 elsewhere. ``"stochastic"`` draws every pixel once from
        Bernoulli(value), the training images first, then the test images, with ``seed``.
    threshold : float in [0, 1), default 0.5
        Cut for ``binarize="threshold"``; ignored otherwise.
    seed : int >= 0, numpy.random.Generator or None, default None
        Randomness for ``binarize="stochastic"`` (same seed, same pixels; None draws fresh
        entropy); ignored otherwise.
    test_fraction : float in (0, 1), default 0.2
        Share of the images, counted from the end, that form the test set.

    Returns
    -------
    DataSet
        ``train`` and ``test`` are float64 arrays of shape (n, 64) with values in [0, 1]
        (exactly 0.0 / 1.0 when binarised), labels are int64 digits, ``shape == (8, 8)`` and
        ``name == "digits"``.

    Raises
    ------
    ValueError
        If an argument is outside the allowed values; the message names it.

    Examples
    --------
    >>> from freeenergy.data import load_digits
    >>> data = load_digits()
    >>> data.train.shape, data.test.shape, data.shape
    ((1437, 64), (360, 64), (8, 8))
    >>> float(data.train.min()), float(data.train.max())
    (0.0, 1.0)
    >>> binary = load_digits(binarize="stochastic", seed=0)
    >>> sorted(set(binary.train.ravel().tolist()))
    [0.0, 1.0]
    >>> bool((binary.train == load_digits(binarize="stochastic", seed=0).train).all())
    True
    """
    generator = check_options(binarize, threshold, seed, _OWNER)
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, numbers.Real)
        or not 0.0 < test_fraction < 1.0
    ):
        raise fail("test_fraction", _OWNER, "a real number in (0, 1)", test_fraction)

    from sklearn.datasets import load_digits as _sklearn_digits  # noqa: PLC0415 (sklearn is slow to import)

    bunch = _sklearn_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    n_test = min(max(math.ceil(test_fraction * len(x)), 1), len(x) - 1)
    cut = len(x) - n_test
    train = binarized(x[:cut].copy(), binarize, threshold, generator)
    test = binarized(x[cut:].copy(), binarize, threshold, generator)
    return DataSet(
        train=train,
        test=test,
        train_labels=y[:cut].copy(),
        test_labels=y[cut:].copy(),
        shape=(8, 8),
        name="digits",
        binarize=binarize,
        source="sklearn",
    )
