"""Annealing schedules: inverse temperatures from 0 (the base model) to 1 (the model)."""

from __future__ import annotations

import numpy as np
import torch

from freeenergy._params import InputError, check_int, fail

#: Length of :func:`default_betas`, Salakhutdinov & Murray's (2008) MNIST schedule.
DEFAULT_N_BETAS = 14_500
# Their schedule: 500 betas on [0, 0.5), 4000 on [0.5, 0.9), 10000 on [0.9, 1].
_SEGMENTS = ((0.0, 0.5, 500), (0.5, 0.9, 4000), (0.9, 1.0, 10_000))


def default_betas(n_betas: int = DEFAULT_N_BETAS) -> np.ndarray:
    """Salakhutdinov & Murray's (2008) annealing schedule, or the same shape with fewer betas.

    The default is their MNIST schedule: 500 inverse temperatures spaced uniformly on
    [0, 0.5), 4000 on [0.5, 0.9) and 10,000 on [0.9, 1], 14,500 in all, from exactly 0 to exactly
    1. Another ``n_betas`` splits the points among the three segments in the same proportions
    (1 : 8 : 20), with at least one point in each of the first two and two in the last.

    Parameters
    ----------
    n_betas : int, >= 4
        Number of inverse temperatures, end points included.

    Returns
    -------
    ndarray of float64, shape (n_betas,)
        Strictly increasing, ``betas[0] == 0`` and ``betas[-1] == 1``.

    Examples
    --------
    >>> from freeenergy.estimate.schedule import default_betas
    >>> b = default_betas()
    >>> len(b), b[[0, 500, 4500, -1]].tolist()
    (14500, [0.0, 0.5, 0.9, 1.0])
    >>> default_betas(29).round(3).tolist()[:4]
    [0.0, 0.5, 0.55, 0.6]
    """
    n = check_int("n_betas", n_betas, "default_betas", 4)
    total = sum(k for _, _, k in _SEGMENTS)
    n1 = max(1, round(n * _SEGMENTS[0][2] / total))
    n2 = min(max(1, round(n * _SEGMENTS[1][2] / total)), n - n1 - 2)
    return np.concatenate([
        np.linspace(0.0, 0.5, n1, endpoint=False),
        np.linspace(0.5, 0.9, n2, endpoint=False),
        np.linspace(0.9, 1.0, n - n1 - n2),
    ])


def check_betas(betas, owner: str) -> np.ndarray:
    """``betas`` as float64, strictly increasing from exactly 0 to exactly 1; ``None`` gives
    :func:`default_betas`."""
    if betas is None:
        return default_betas()
    if isinstance(betas, torch.Tensor):
        betas = betas.detach().cpu().numpy()
    expected = "a strictly increasing 1-D sequence of at least 2 inverse temperatures from 0 to 1"
    try:
        arr = np.asarray(betas, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail("betas", owner, expected, betas) from None
    if arr.ndim != 1 or arr.size < 2 or not np.isfinite(arr).all():
        raise fail("betas", owner, expected, arr)
    if arr[0] != 0.0 or arr[-1] != 1.0:
        got = f"betas[0] = {float(arr[0])!r} and betas[-1] = {float(arr[-1])!r}"
        raise InputError(f"The 'betas' parameter of {owner} must be {expected}. Got {got} instead.")
    steps = np.diff(arr)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0))
        got = f"betas[{i}] = {float(arr[i])!r} >= betas[{i + 1}] = {float(arr[i + 1])!r}"
        raise InputError(f"The 'betas' parameter of {owner} must be {expected}. Got {got} instead.")
    return arr
