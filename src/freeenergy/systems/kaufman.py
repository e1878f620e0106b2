"""Exact free energies of the square-lattice Ising model at zero field.

* :func:`kaufman_log_partition`: the finite periodic ``rows x cols`` torus by Kaufman's product
  formula (B. Kaufman, Phys. Rev. 76, 1232 (1949), eqs. 39-40), in log-space.
* :func:`onsager_free_energy`: the infinite lattice (L. Onsager, Phys. Rev. 65, 117 (1944)).
* :func:`critical_temperature`: ``T_c = 2 |J| / log(1 + sqrt 2)``.

Convention: ``E = -J sum_<ij> s_i s_j`` over the ``2 rows cols`` nearest-neighbour bonds, k_B = 1,
``K = J / T``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from freeenergy._params import check_real, temperatures

__all__ = ["critical_temperature", "kaufman_log_partition", "onsager_free_energy"]

# Below this coupling K the lattice is free spins to double precision: log Z = N log 2.
_K_TINY = 1e-150
# Above this 2K the large-K form of gamma_l is used (sinh 2K would lose nothing yet, but
# overflows near K = 355).
_TWO_K_LARGE = 30.0


def _log_2cosh(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a))


def _log_abs_2sinh(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    with np.errstate(divide="ignore"):
        return a + np.log(-np.expm1(-2.0 * a))


def _gammas(K: np.ndarray, n: int) -> np.ndarray:
    """Kaufman's ``gamma_l`` for ``l = 0 .. 2n - 1``, shape ``(len(K), 2n)``; K > 0.

    ``cosh gamma_l = cosh 2K coth 2K - cos(pi l / n)`` with the signed ``gamma_0 = 2K + log tanh K``
    (negative above T_c). Written as ``gamma = arccosh(1 + delta)`` with
    ``delta = (sinh 2K - 1)^2 / sinh 2K + 2 sin^2(pi l / 2n)``, a sum of non-negative terms, so
    the small gammas near T_c keep full relative accuracy.
    """
    K = K[:, None]
    theta = np.pi * np.arange(2 * n) / n
    two_k = 2.0 * K
    small = np.minimum(two_k, _TWO_K_LARGE)
    s = np.sinh(small)
    delta = (s - 1.0) ** 2 / s + 2.0 * np.sin(theta / 2.0) ** 2
    gam_mid = np.log1p(delta + np.sqrt(delta * (delta + 2.0)))
    # Large K: cosh gamma = e^{2K} R / 2 with R = (1+q)^2/(1-q) - 2 e^{-2K} cos(theta), q = e^{-4K};
    # then gamma = log(2 cosh gamma) up to a relative 1e-26.
    big = np.maximum(two_k, _TWO_K_LARGE)
    q = np.exp(-2.0 * big)
    r = (1.0 + q) ** 2 / (1.0 - q) - 2.0 * np.exp(-big) * np.cos(theta)
    gam_big = big + np.log(r)
    gam = np.where(two_k > _TWO_K_LARGE, gam_big, gam_mid)
    k0 = K[:, 0]
    e = np.exp(-2.0 * np.maximum(k0, 0.5))
    log_tanh = np.where(k0 > 0.5, np.log1p(-e) - np.log1p(e), np.log(np.tanh(np.minimum(k0, 0.5))))
    gam[:, 0] = 2.0 * k0 + log_tanh  # signed: negative above T_c
    return gam


def _signed_logsumexp(logs: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """``log(sum_i signs_i exp(logs_i))`` along the last axis (the sum must be positive)."""
    top = np.max(logs, axis=-1, keepdims=True)
    total = np.sum(signs * np.exp(logs - top), axis=-1)
    return top[..., 0] + np.log(total)


def kaufman_log_partition(rows: int, cols: int, K: np.ndarray) -> np.ndarray:
    """``log Z`` of the periodic ``rows x cols`` Ising torus at couplings ``K = J / T >= 0``.

    Kaufman (1949): ``Z = 1/2 (2 sinh 2K)^{N/2} (Z1 + Z2 + Z3 + Z4)`` with
    ``Z1, Z2 = prod_{l odd} 2 cosh, 2 sinh (m gamma_l / 2)`` and ``Z3, Z4`` the same over even
    ``l`` in ``0 .. 2n - 2`` (``m = rows``, ``n = cols``, ``N = m n``). ``Z4`` carries the sign of
    ``gamma_0`` and vanishes at T_c; since ``|Z4| < Z3`` the total never cancels badly.
    ``K = inf`` is not handled here (the caller knows the ground state).

    Parameters
    ----------
    rows, cols : int
        Torus dimensions (validated by the caller, >= 2).
    K : ndarray, shape (k,)
        Non-negative finite couplings ``J / T``.

    Returns
    -------
    ndarray, shape (k,)
        ``log Z`` in nats (total, not per site).
    """
    K = np.asarray(K, dtype=np.float64)
    n_sites = rows * cols
    out = np.full(K.shape, n_sites * math.log(2.0))
    live = K > _K_TINY
    if not live.any():
        return out
    k = K[live]
    gam = _gammas(k, cols) * (rows / 2.0)
    odd, even = gam[:, 1::2], gam[:, 0::2]
    logs = np.stack(
        [
            _log_2cosh(odd).sum(axis=1),
            _log_abs_2sinh(odd).sum(axis=1),
            _log_2cosh(even).sum(axis=1),
            _log_abs_2sinh(even).sum(axis=1),
        ],
        axis=1,
    )
    signs = np.ones_like(logs)
    signs[:, 3] = np.sign(gam[:, 0])
    # log(2 sinh 2K) = 2K + log(1 - e^{-4K}), stable for large and small K.
    log_pref = 2.0 * k + np.log(-np.expm1(-4.0 * k))
    out[live] = -math.log(2.0) + 0.5 * n_sites * log_pref + _signed_logsumexp(logs, signs)
    return out


def critical_temperature(J: float = 1.0) -> float:
    """Critical temperature of the infinite square-lattice Ising model.

    ``T_c = 2 |J| / log(1 + sqrt 2)`` (Kramers & Wannier 1941; Onsager 1944), k_B = 1. For
    ``J < 0`` (antiferromagnet, bipartite lattice) this is the Neel temperature.

    Parameters
    ----------
    J : float
        Coupling, energy units (default 1).

    Returns
    -------
    float
        ``T_c`` in energy units.

    Examples
    --------
    >>> import freeenergy as fe
    >>> round(fe.critical_temperature(), 6)
    2.269185
    """
    J = check_real("J", J, "critical_temperature")
    return 2.0 * abs(J) / math.log1p(math.sqrt(2.0))


def _onsager_minus_beta_f(K: float) -> float:
    """``-beta f`` per spin of the infinite lattice for ``K = |J| / T`` finite and > 0."""
    two_k = 2.0 * K
    log_2cosh = two_k + math.log1p(math.exp(-2.0 * two_k))
    if two_k > 40.0:  # k = 2 sinh 2K / cosh^2 2K < 1e-17: the integral is below rounding
        kk = 4.0 * math.exp(-two_k)
        return log_2cosh - kk * kk / 16.0
    s, c = math.sinh(two_k), math.cosh(two_k)
    k = 2.0 * s / (c * c)
    one_minus_k = (s - 1.0) ** 2 / (c * c)  # exact cancellation-free 1 - k
    one_minus_k2 = one_minus_k * (1.0 + k)

    def integrand(phi: float) -> float:
        sin, cos = math.sin(phi), math.cos(phi)
        root = math.sqrt(cos * cos + one_minus_k2 * sin * sin)
        return math.log((1.0 + root) / 2.0)

    value, _ = integrate.quad(
        integrand, 0.0, math.pi, points=[math.pi / 2.0], epsabs=1e-15, epsrel=1e-13, limit=200
    )
    return log_2cosh + value / (2.0 * math.pi)


def onsager_free_energy(T=None, J: float = 1.0, *, beta=None) -> float | np.ndarray:
    """Free energy per spin of the infinite square-lattice Ising model at zero field.

    Onsager (1944), in the form of e.g. Huang, *Statistical Mechanics*, eq. 15.157:

    ``-beta f = log(2 cosh 2K) + (1 / 2 pi) int_0^pi log[(1 + sqrt(1 - k^2 sin^2 phi)) / 2] dphi``

    with ``K = |J| / T`` and ``k = 2 sinh 2K / cosh^2 2K``. At ``T_c`` this is
    ``f = -T_c (log 2 / 2 + 2 G / pi) = -2.1096511...`` (G: Catalan's constant). The bipartite
    lattice makes ``f`` even in ``J``.

    Parameters
    ----------
    T : float or array_like, shape (k,)
        Temperature(s) >= 0 (energy units, k_B = 1). ``T = 0`` gives ``-2 |J|`` exactly and
        ``T = inf`` gives ``-inf``. Alternatively give ``beta``.
    J : float
        Coupling, energy units (default 1).
    beta : float or array_like, optional
        Inverse temperature(s), instead of ``T``.

    Returns
    -------
    float or ndarray
        Free energy per spin, energy units.

    Examples
    --------
    >>> import freeenergy as fe
    >>> round(fe.onsager_free_energy(fe.critical_temperature()), 8)
    -2.10965114
    >>> fe.onsager_free_energy(0.0)
    -2.0
    """
    J = abs(check_real("J", J, "onsager_free_energy"))
    T_arr, beta_arr, is_scalar = temperatures(T, beta, "onsager_free_energy")
    out = np.empty(T_arr.shape)
    for i, (t, b) in enumerate(zip(T_arr, beta_arr, strict=True)):
        if b == np.inf:
            out[i] = -2.0 * J
        elif b == 0.0:
            out[i] = -np.inf
        elif J * b < _K_TINY:
            out[i] = -t * math.log(2.0)
        else:
            out[i] = -t * _onsager_minus_beta_f(J * b)
    return float(out[0]) if is_scalar else out
