"""Compiled Wang-Landau kernels (numba) and their input, the :class:`NeighbourTable`.

The kernels take only arrays and scalars (no Python objects) and trust their inputs; the public
wrapper in :mod:`freeenergy.sampling.wang_landau` validates everything once. Kernel shape (the house's
``init`` / ``step``): :func:`init_spins` draws a start, :func:`wl_chunk` advances the walk by a
fixed number of attempted flips and mutates ``spins``, ``log_g``, ``hist`` and ``rng`` in place.
Random numbers come from an in-kernel xoshiro256** generator, seeded by the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numba import njit

from freeenergy._params import check_int, fail

_U1 = np.uint64(1)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2^-53


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def next_u64(s):
    """xoshiro256** (Blackman & Vigna 2018): next 64-bit output; ``s`` is uint64[4], updated."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def _below(s, n):
    """Integer in [0, n) by Lemire's multiply-shift on the top 32 bits (n < 2^32)."""
    return np.int64(((next_u64(s) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(cache=True, inline="always")
def _unit(s):
    """Uniform float in [0, 1) with 53 random bits."""
    return np.float64(next_u64(s) >> np.uint64(11)) * _TO_UNIT


@njit(cache=True)
def init_spins(n, rng):
    """A uniformly random +-1 configuration of ``n`` spins (int8)."""
    spins = np.empty(n, dtype=np.int8)
    for i in range(n):
        spins[i] = np.int8(1) if (next_u64(rng) >> np.uint64(63)) == _U1 else np.int8(-1)
    return spins


@njit(cache=True)
def table_energy(spins, neighbours, couplings, field):
    """``E = -1/2 sum_i s_i sum_k J_ik s_nbr(i,k) - sum_i h_i s_i`` (each bond listed twice)."""
    e = 0.0
    for i in range(spins.shape[0]):
        loc = 0.0
        for k in range(neighbours.shape[1]):
            loc += couplings[i, k] * spins[neighbours[i, k]]
        e -= spins[i] * (0.5 * loc + field[i])
    return e


@njit(cache=True)
def wl_chunk(
    spins, neighbours, couplings, field, energy, e_lo, inv_width,
    log_g, hist, ln_f, one_over_t, t_start, n_attempts, rng,
):  # fmt: skip
    """Advance a Wang-Landau walk by ``n_attempts`` single-spin-flip attempts.

    Each attempt picks a site uniformly, proposes flipping it, accepts with probability
    ``min(1, g(E_old) / g(E_new))``, then adds ``ln_f`` to ``log_g`` and 1 to ``hist`` at the
    current energy bin ``round((E - e_lo) * inv_width)``. With ``one_over_t`` the increment is
    ``ln_f = N / (t_start + k)`` at the ``k``-th attempt (``t`` counted in attempted flips, so
    ``ln f = 1 / t`` with ``t`` in sweeps; Belardinelli & Pereyra 2007) and ``ln_f`` is unused.

    Returns the new energy and the number of accepted flips.
    """
    n = spins.shape[0]
    z = neighbours.shape[1]
    b_old = np.int64((energy - e_lo) * inv_width + 0.5)
    accepted = 0
    for k in range(n_attempts):
        i = _below(rng, n)
        loc = field[i]
        for j in range(z):
            loc += couplings[i, j] * spins[neighbours[i, j]]
        d_e = 2.0 * spins[i] * loc
        b_new = np.int64((energy + d_e - e_lo) * inv_width + 0.5)
        diff = log_g[b_old] - log_g[b_new]
        if diff >= 0.0 or _unit(rng) < np.exp(diff):
            spins[i] = -spins[i]
            energy += d_e
            b_old = b_new
            accepted += 1
        if one_over_t:
            log_g[b_old] += n / (t_start + k + 1.0)
        else:
            log_g[b_old] += ln_f
        hist[b_old] += 1
    return energy, accepted


@dataclass(frozen=True, eq=False)
class NeighbourTable:
    """Local-move view of a spin model: ``E(s) = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i``.

    Parameters
    ----------
    neighbours : array_like of int, shape (N, z)
        Row ``i`` lists the neighbours of site ``i``; every bond appears in both end sites'
        rows (a bond listed twice counts twice). Pad short rows with ``i`` itself and coupling 0.
    couplings : array_like of float, shape (N, z)
        ``J_ij`` for each entry of ``neighbours`` (energy units).
    field : array_like of float, shape (N,)
        ``h_i`` (energy units).

    Examples
    --------
    >>> from freeenergy.sampling.wang_landau import NeighbourTable
    >>> t = NeighbourTable.from_bonds(3, [(0, 1), (1, 2)], 1.0)  # open 3-spin chain
    >>> t.neighbours.tolist(), float(t.energy([1, 1, -1]))
    ([[1, 0], [0, 2], [1, 2]], 0.0)
    """

    neighbours: np.ndarray
    couplings: np.ndarray
    field: np.ndarray

    def __post_init__(self) -> None:
        owner = "NeighbourTable"
        nb = np.asarray(self.neighbours)
        if nb.ndim != 2 or nb.shape[0] < 1 or nb.dtype.kind not in "iu":
            raise fail("neighbours", owner, "a 2-D int array of shape (N, z) with N >= 1", nb)
        n = nb.shape[0]
        if nb.size and (nb.min() < 0 or nb.max() >= n):
            raise fail("neighbours", owner, f"site indices in [0, {n})", nb)
        cp = np.asarray(self.couplings, dtype=np.float64)
        if cp.shape != nb.shape or not np.isfinite(cp).all():
            raise fail("couplings", owner, f"finite and of the shape of neighbours {nb.shape}", cp)
        h = np.asarray(self.field, dtype=np.float64)
        if h.shape != (n,) or not np.isfinite(h).all():
            raise fail("field", owner, f"finite and of shape ({n},)", h)
        for name, arr in (("neighbours", nb.astype(np.int32)), ("couplings", cp), ("field", h)):
            arr = np.ascontiguousarray(arr)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    @classmethod
    def from_bonds(cls, n: int, bonds, couplings, field=0.0) -> NeighbourTable:
        """Build from a bond list ``[(i, j), ...]`` with one coupling each (or one for all)."""
        n = check_int("n", n, "NeighbourTable.from_bonds", 1)
        pairs = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
        j = np.broadcast_to(np.asarray(couplings, dtype=np.float64), (len(pairs),))
        rows: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for (a, b), c in zip(pairs.tolist(), j.tolist(), strict=True):
            rows[a].append((b, c))
            rows[b].append((a, c))
        z = max(1, *(len(r) for r in rows))
        nb = np.array([[k for k, _ in r] + [i] * (z - len(r)) for i, r in enumerate(rows)])
        cp = np.array([[c for _, c in r] + [0.0] * (z - len(r)) for r in rows])
        return cls(nb, cp, np.broadcast_to(np.asarray(field, dtype=np.float64), (n,)))

    @property
    def n_sites(self) -> int:
        """Number of spins ``N``."""
        return self.neighbours.shape[0]

    def energy(self, spins) -> float:
        """Energy of one +-1 configuration of shape (N,)."""
        s = np.asarray(spins, dtype=np.int8)
        return float(table_energy(s, self.neighbours, self.couplings, self.field))

    def energy_step(self) -> float:
        """Spacing of the energy grid all single flips move on (exact for rational couplings).

        A flip of ``i`` changes E by ``2 s_i (sum_k J_ik s_k + h_i)``; these changes generate
        the lattice spanned by ``2 (sum_k |J_ik| + |h_i|)``, ``4 |J_ik|`` and ``4 |h_i|``, whose
        gcd is taken over rationals (floats rounded to denominators <= 10^6). 0 if all vanish.
        """
        gens = [2 * (np.abs(self.couplings).sum(axis=1) + np.abs(self.field))]
        gens += [4 * np.abs(self.couplings).ravel(), 4 * np.abs(self.field)]
        step = Fraction(0)
        for v in np.unique(np.concatenate(gens)):
            if v > 0:
                q = Fraction(float(v)).limit_denominator(10**6)
                if not math.isclose(float(q), float(v), rel_tol=1e-12):
                    q = Fraction(float(v))
                step = _gcd(step, q)
        return float(step)


def _gcd(a: Fraction, b: Fraction) -> Fraction:
    """Greatest common divisor of two non-negative rationals (gcd(0, b) = b)."""
    num = math.gcd(a.numerator * b.denominator, b.numerator * a.denominator)
    return Fraction(num, a.denominator * b.denominator)
