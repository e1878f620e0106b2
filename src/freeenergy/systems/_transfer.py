"""2x2 transfer matrices of the Ising chain, exact in log-space and at T = 0.

* :func:`chain_jets` raises the transfer matrix ``M(beta)`` to the n-th power in log-space,
  carrying the first two beta-derivatives ("jets"), so ``log Z``, ``U = -d log Z / d beta`` and
  ``Var E = d^2 log Z / d beta^2`` come out together. Each entry of a matrix power is a sum over
  paths of positive weights; it is stored as the exact (rational) lowest path energy ``tau``
  plus ``log sum exp(-beta (E - tau))``. Every sum is then a log-sum-exp of positive terms
  measured from an exact minimum: nothing cancels, for any sign of J and h, open or periodic,
  at any finite beta, and the variance accumulates as a sum of centred squares.
* :func:`chain_ground_state` is the same product in the (min, +) semiring with exact rational
  arithmetic (``fractions.Fraction``) and integer path counts: the ground-state energy and its
  exact degeneracy, in O(log n) steps.

The bond weight is ``W(s, s') = -J s s' - h (s + s') / 2``; an open chain adds ``-h s / 2`` at
each end, so the sum reproduces ``E = -J sum s_i s_{i+1} - h sum s_i``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

_SPINS = (1, -1)


def _weights(J, h):
    bond = [[-J * s * t - h * (s + t) / 2 for t in _SPINS] for s in _SPINS]
    ends = [-h * s / 2 for s in _SPINS]
    return bond, ends


def _power(base, e, mul):
    """``base ** e`` (e >= 1) by repeated squaring under the product ``mul``."""
    result = None
    while e:
        if e & 1:
            result = base if result is None else mul(result, base)
        e >>= 1
        if e:
            base = mul(base, base)
    return result


def _combine(terms, beta):
    """Sum of path families ``(tau, l, l', l'')`` in log-space, relative to the exact minimum.

    Log-sum-exp of jets: ``l = log sum_k exp(v_k)``, ``l' = sum_k p_k v'_k`` and
    ``l'' = sum_k p_k (v''_k + (v'_k - l')^2)`` with ``p = softmax(v)``.
    """
    low = min(t[0] for t in terms)
    gaps = [float(t[0] - low) for t in terms]  # exact: 0 for ties, never negative
    with np.errstate(over="ignore"):
        v = np.stack([t[1] - beta * g for t, g in zip(terms, gaps, strict=True)])
    d1 = np.stack([t[2] - g for t, g in zip(terms, gaps, strict=True)])
    d2 = np.stack([t[3] for t in terms])
    top = v.max(axis=0)  # finite: a term with gap 0 exists
    w = np.exp(v - top)
    total = w.sum(axis=0)
    p = w / total
    m1 = np.sum(p * d1, axis=0)
    m2 = np.sum(p * (d2 + (d1 - m1) ** 2), axis=0)
    return low, top + np.log(total), m1, m2


def _jet_matmul(a, b, beta):
    def entry(i, j):
        terms = []
        for k in range(2):
            x, y = a[i][k], b[k][j]
            terms.append((x[0] + y[0], x[1] + y[1], x[2] + y[2], x[3] + y[3]))
        return _combine(terms, beta)

    return [[entry(i, j) for j in range(2)] for i in range(2)]


def chain_jets(n: int, J: float, h: float, periodic: bool, beta: np.ndarray):
    """Exact ``log Z`` and its beta-derivatives for finite ``beta`` (shape (k,)).

    Returns
    -------
    e0 : float
        Ground-state energy.
    log_z_rel : ndarray
        ``log Z + beta E0 >= 0``.
    excess : ndarray
        ``U - E0 >= 0``.
    var : ndarray
        ``Var E``.
    """
    bond, ends = _weights(Fraction(J), Fraction(h))
    zero = np.zeros(beta.shape)
    mat = [[(bond[i][j], zero, zero, zero) for j in range(2)] for i in range(2)]
    prod = _power(mat, n if periodic else n - 1, lambda a, b: _jet_matmul(a, b, beta))
    if periodic:
        terms = [prod[i][i] for i in range(2)]
    else:
        terms = [(ends[i] + prod[i][j][0] + ends[j], *prod[i][j][1:]) for i in range(2) for j in range(2)]
    e0, log_z_rel, d1, var = _combine(terms, beta)
    return float(e0), log_z_rel, -d1, var


def _trop_matmul(a, b):
    out = [[None, None], [None, None]]
    for i in range(2):
        for j in range(2):
            cands = [(a[i][k][0] + b[k][j][0], a[i][k][1] * b[k][j][1]) for k in range(2)]
            low = min(c[0] for c in cands)
            out[i][j] = (low, sum(c[1] for c in cands if c[0] == low))
    return out


def chain_ground_state(n: int, J: float, h: float, periodic: bool) -> tuple[float, int]:
    """Exact ground-state energy and degeneracy of the chain (min-plus transfer matrix)."""
    bond, ends = _weights(Fraction(J), Fraction(h))
    mat = [[(bond[i][j], 1) for j in range(2)] for i in range(2)]
    prod = _power(mat, n if periodic else n - 1, _trop_matmul)
    if periodic:
        cands = [prod[i][i] for i in range(2)]
    else:
        cands = [(ends[i] + prod[i][j][0] + ends[j], prod[i][j][1]) for i in range(2) for j in range(2)]
    low = min(c[0] for c in cands)
    return float(low), sum(c[1] for c in cands if c[0] == low)
