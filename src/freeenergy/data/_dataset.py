"""The record every image data set is returned as, and the binarisation shared by all of them."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from freeenergy._params import InputError, check_int, check_real, fail

BINARIZE = (None, "threshold", "stochastic")


class DataFileError(InputError):
    """A data file is missing, truncated, corrupt or of another kind; the message names it."""


@dataclass(frozen=True, eq=False, repr=False)
class DataSet:
    """Images with labels, split into a training and a test part.

    Attributes
    ----------
    train, test : ndarray of float64, shape (n_train, n_pixels), (n_test, n_pixels)
        One flattened image per row, values in [0, 1]: grey levels, or exactly 0.0 / 1.0 when
        the set was binarised. ``n_pixels = shape[0] * shape[1]``.
    train_labels, test_labels : ndarray of int64, shape (n_train,), (n_test,)
        The digit (0-9) shown by each image.
    shape : tuple of int
        Height and width of one image; ``train[i].reshape(shape)`` is the picture.
    name : str
        ``"digits"`` or ``"mnist"``.
    binarize : {None, "threshold", "stochastic"}
        How the grey levels were turned into 0/1 pixels, if at all.
    source : str
        Where the pixels came from (``"sklearn"`` or a file or directory path).

    Examples
    --------
    >>> from freeenergy.data import load_digits
    >>> data = load_digits()
    >>> data
    DataSet(name='digits', train=(1437, 64), test=(360, 64), shape=(8, 8), binarize=None)
    >>> data.train[0].reshape(data.shape).shape
    (8, 8)
    """

    train: np.ndarray
    test: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray
    shape: tuple[int, int]
    name: str
    binarize: str | None = None
    source: str = ""

    def __repr__(self) -> str:
        return (
            f"DataSet(name={self.name!r}, train={self.train.shape}, test={self.test.shape}, "
            f"shape={self.shape}, binarize={self.binarize!r})"
        )


def check_options(
    binarize: object, threshold: object, seed: object, owner: str
) -> np.random.Generator | None:
    """Validate the binarisation arguments; return the generator for ``"stochastic"``."""
    if not (binarize is None or (isinstance(binarize, str) and binarize in BINARIZE)):
        raise fail("binarize", owner, "one of None, 'threshold' or 'stochastic'", binarize)
    t = check_real("threshold", threshold, owner)
    if not 0.0 <= t < 1.0:
        raise fail("threshold", owner, "a real number in [0, 1)", threshold)
    if isinstance(seed, np.random.Generator):
        generator = seed
    elif seed is None:
        generator = np.random.default_rng()
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        generator = np.random.default_rng(check_int("seed", seed, owner, minimum=0))
    else:
        raise fail("seed", owner, "None, an int >= 0 or a numpy.random.Generator", seed)
    return generator if binarize == "stochastic" else None


def binarized(
    x: np.ndarray, binarize: str | None, threshold: float, generator: np.random.Generator | None
) -> np.ndarray:
    """Return ``x`` (float64 in [0, 1]) binarised as asked, as a new float64 array.

    ``"threshold"`` gives ``x > threshold``; ``"stochastic"`` draws each pixel from
    Bernoulli(x) with ``generator``, row block by row block (the draws are the same as one
    ``generator.random(x.shape)`` call, without its memory).
    """
    if binarize is None:
        return x
    if binarize == "threshold":
        return (x > threshold).astype(np.float64)
    out = np.empty_like(x, dtype=np.float64)
    block = 8192
    for start in range(0, x.shape[0], block):
        rows = slice(start, start + block)
        out[rows] = generator.random(x[rows].shape) < x[rows]
    return out
