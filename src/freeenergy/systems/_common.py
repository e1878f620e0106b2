"""Shared pieces of the Ising models: spin validation, exact level grouping, common verbs."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from freeenergy._params import InputError, fail, temperatures


def check_spins(states, owner: str, shapes: list[tuple[int, ...]], n: int) -> np.ndarray:
    """Validate a batch of +-1 configurations; return them as int8 of shape (..., n)."""
    try:
        arr = np.asarray(states)
    except (TypeError, ValueError):
        raise fail("states", owner, "an array of +1/-1 spins", states) from None
    if arr.dtype.kind not in "biuf":
        raise fail("states", owner, "a numeric array of +1/-1 spins", arr)
    for shape in shapes:
        if arr.shape[arr.ndim - len(shape) :] == shape and arr.ndim >= len(shape):
            break
    else:
        allowed = " or ".join(f"(..., {', '.join(map(str, s))})" for s in shapes)
        raise InputError(
            f"The 'states' parameter of {owner} must have shape {allowed}. Got shape {arr.shape} instead."
        )
    if not np.isin(arr, (-1, 1)).all():
        bad = arr[~np.isin(arr, (-1, 1))].ravel()[0].item()
        raise fail("states", owner, "spins equal to +1 or -1 only", bad)
    return arr.astype(np.int8).reshape(*arr.shape[: arr.ndim - len(shape)], n)


def group_levels(pairs) -> tuple[np.ndarray, list[int]]:
    """Merge ``(exact energy, count)`` pairs with equal energies; sorted, zero counts dropped."""
    merged: dict[Fraction, int] = {}
    for e, c in pairs:
        if c:
            merged[e] = merged.get(e, 0) + int(c)
    keys = sorted(merged)
    return np.array([float(k) for k in keys]), [merged[k] for k in keys]


def zero_temperature_log_z(beta: float, e0: float, log_g0: float) -> float:
    """``log Z = -beta E0 + log g0`` with the T = 0 limits taken exactly."""
    if e0 == 0:
        return log_g0
    with np.errstate(over="ignore"):
        return float(-np.float64(beta) * e0 + log_g0)


class IsingBase:
    """Shared verbs; subclasses provide ``n_sites``, ``_thermo`` and ``_free_energy``."""

    n_sites: int
    _owner: str

    def _temps(self, T, beta, owner):
        return temperatures(T, beta, f"{self._owner}.{owner}")

    def thermodynamics(self, *, T=None, beta=None, per_site: bool = False):
        """All thermodynamic functions on a temperature grid (exact).

        Parameters
        ----------
        T, beta : float or array_like, shape (k,)
            Exactly one: temperature(s) or inverse temperature(s), >= 0 (k_B = 1).
            ``T = 0`` gives the exact ground-state limits (``F = U = E0``, ``S = log g0``,
            ``C = 0``).
        per_site : bool
            Divide the extensive quantities by the number of spins.

        Returns
        -------
        freeenergy.Thermodynamics
            ``log_z`` (nats), ``free_energy``, ``energy`` (energy units), ``entropy`` (nats),
            ``heat_capacity``; one entry per temperature.
        """
        th = self._thermo(*self._temps(T, beta, "thermodynamics")[:2], T is not None)
        return th.per_site(self.n_sites) if per_site else th

    def free_energy(self, *, T=None, beta=None, per_site: bool = False):
        """Helmholtz free energy ``F = -T log Z`` (energy units); ``E0`` at ``T = 0``.

        Parameters are those of :meth:`thermodynamics`; returns a float for scalar input.
        """
        T_arr, beta_arr, is_scalar = self._temps(T, beta, "free_energy")
        return self._scale(self._free_energy(T_arr, beta_arr), is_scalar, per_site)

    def log_prob(self, states, *, T=None, beta=None) -> np.ndarray:
        """Boltzmann log-probability ``log p(s) = -beta E(s) - log Z(beta)`` in nats.

        Parameters
        ----------
        states : array_like of +-1
            A batch of configurations, shaped as for :meth:`energy`.
        T, beta : float
            Exactly one, a single temperature with ``0 < T < inf``.

        Returns
        -------
        ndarray, shape (...)
            One log-probability per configuration.
        """
        _, beta_arr, is_scalar = self._temps(T, beta, "log_prob")
        if not is_scalar or not 0 < beta_arr[0] < np.inf:
            raise fail(
                "T" if T is not None else "beta", f"{self._owner}.log_prob",
                "a single temperature with 0 < T < inf", T if T is not None else beta,
            )
        b = float(beta_arr[0])
        return -b * self.energy(states) - self.log_partition(beta=b)

    def _scale(self, values, is_scalar: bool, per_site: bool):
        values = values / self.n_sites if per_site else values
        return float(values[0]) if is_scalar else values
