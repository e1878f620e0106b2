"""Brute-force enumeration of Ising configurations with integer bit arithmetic.

State ``x`` (an integer in ``0 .. 2^N - 1``) has spin ``i`` equal to ``-1`` when bit ``i`` of ``x``
is set and ``+1`` otherwise; lattice site ``(r, c)`` is bit ``r * cols + c``. Each chunk of states
is handled by a few vectorised shifts, masks and popcounts (``numpy.bitwise_count``), so
``2^25`` states take seconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

MAX_SITES = 25
_CHUNK = 1 << 20


def _chunks(n_sites: int) -> Iterator[np.ndarray]:
    total = 1 << n_sites
    for start in range(0, total, _CHUNK):
        yield np.arange(start, min(start + _CHUNK, total), dtype=np.uint64)


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x).astype(np.int64)


def lattice_counts(x: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Unsatisfied bonds and down spins of torus states ``x`` (uint64 array)."""
    n = rows * cols
    one = np.uint64(1)
    full = (one << np.uint64(n)) - one
    last_col = sum(1 << (r * cols + cols - 1) for r in range(rows))
    not_last = np.uint64(((1 << n) - 1) ^ last_col)
    right = ((x >> one) & not_last) | ((x << np.uint64(cols - 1)) & np.uint64(last_col))
    down = (x >> np.uint64(cols)) | ((x << np.uint64(n - cols)) & full)
    return _popcount(x ^ right) + _popcount(x ^ down), _popcount(x)


def chain_counts(x: np.ndarray, n: int, periodic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Unsatisfied bonds and down spins of chain states ``x`` (uint64 array)."""
    one = np.uint64(1)
    if periodic:
        neighbour = (x >> one) | ((x & one) << np.uint64(n - 1))
        unsat = _popcount(x ^ neighbour)
    else:
        unsat = _popcount((x ^ (x >> one)) & np.uint64((1 << (n - 1)) - 1))
    return unsat, _popcount(x)


def energies(counter, n_sites: int, n_bonds: int, J: float, h: float) -> np.ndarray:
    """Energy of every state, ``E = -J (B - 2 unsat) - h (N - 2 down)``, float64."""
    out = np.empty(1 << n_sites)
    for x in _chunks(n_sites):
        unsat, down = counter(x)
        start = int(x[0])
        out[start : start + x.size] = -J * (n_bonds - 2 * unsat) - h * (n_sites - 2 * down)
    return out


def histogram(counter, n_sites: int, n_bonds: int) -> np.ndarray:
    """Exact counts ``H[u, d]`` of states with ``u`` unsatisfied bonds and ``d`` down spins."""
    width = n_sites + 1
    hist = np.zeros((n_bonds + 1) * width, dtype=np.int64)
    for x in _chunks(n_sites):
        unsat, down = counter(x)
        hist += np.bincount(unsat * width + down, minlength=hist.size)
    return hist.reshape(n_bonds + 1, width)
