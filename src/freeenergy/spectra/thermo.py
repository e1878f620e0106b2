"""Thermodynamics of a discrete spectrum at any temperature.

A spectrum is a set of energy levels ``E_i`` with degeneracies ``g_i`` (given as ``log g_i``).
With k_B = 1 and inverse temperature ``beta = 1 / T``:

* ``log Z = log sum_i g_i exp(-beta E_i)``
* ``F = -T log Z`` (Helmholtz free energy; tends to the ground-state energy ``E_0`` as T -> 0)
* ``U = <E>`` (internal energy), ``S = beta (U - F)`` (entropy, nats), ``C = beta^2 Var(E)``.

Everything is computed relative to the ground state, ``d_i = beta (E_i - E_0) >= 0``, so no
exponential can overflow: ``log Z = -beta E_0 + log sum_i g_i exp(-d_i)``. ``T = 0`` and
``T = inf`` are evaluated as their exact limits rather than as extreme finite numbers.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import numpy as np

from freeenergy._params import InputError, fail, temperatures

__all__ = ["Thermodynamics", "free_energy", "log_partition", "thermodynamics"]

# Scaled energies beyond this carry zero Boltzmann weight; capping them keeps d**2 finite.
_D_CAP = 1e150
# Temperatures x levels processed at once: small enough to stay in cache.
_BLOCK_ELEMENTS = 1 << 15
# NumPy releases the GIL in ufuncs, so temperature blocks run in parallel threads.
_WORKERS = max(1, min(8, os.cpu_count() or 1))


@dataclass(frozen=True)
class Thermodynamics:
    """Thermodynamic functions of one system on a grid of temperatures (k_B = 1).

    Attributes
    ----------
    T, beta : ndarray
        Temperatures and inverse temperatures (``beta = 1 / T``; ``T = 0`` is ``beta = inf``).
    log_z : ndarray
        ``log Z`` in nats. It is ``+inf`` at T = 0 when the ground-state energy is negative.
    free_energy : ndarray
        ``F = -T log Z`` in energy units; equals the ground-state energy at T = 0.
    energy : ndarray
        Internal energy ``U = <E>``.
    entropy : ndarray
        ``S = beta (U - F)`` in nats; ``log g_0`` at T = 0.
    heat_capacity : ndarray
        ``C = dU/dT = beta^2 Var(E)``; 0 at T = 0 and T = inf.
    """

    T: np.ndarray
    beta: np.ndarray
    log_z: np.ndarray
    free_energy: np.ndarray
    energy: np.ndarray
    entropy: np.ndarray
    heat_capacity: np.ndarray

    def per_site(self, n_sites: int) -> Thermodynamics:
        """Return the extensive quantities divided by ``n_sites`` (T and beta unchanged)."""
        if n_sites <= 0:
            raise fail("n_sites", "Thermodynamics.per_site", "an int >= 1", n_sites)
        scaled = {
            f.name: getattr(self, f.name) / n_sites
            for f in fields(self)
            if f.name not in ("T", "beta")
        }
        return Thermodynamics(T=self.T, beta=self.beta, **scaled)

    def as_dict(self) -> dict[str, list[float]]:
        """Plain lists, for JSON output (``inf`` stays a float)."""
        return {f.name: getattr(self, f.name).tolist() for f in fields(self)}


def validate_spectrum(
    energies: object, log_degeneracy: object, owner: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate a spectrum; return finite energies and their log-degeneracies (or None)."""
    try:
        e = np.asarray(energies, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail("energies", owner, "a 1-D array of real numbers", energies) from None
    if e.ndim != 1 or e.size == 0:
        raise fail("energies", owner, "a non-empty 1-D array", e)
    if np.isnan(e).any():
        raise fail("energies", owner, "free of NaN (use +inf for a forbidden state)", e)
    if (e == -np.inf).any():
        raise fail("energies", owner, "> -inf (an energy unbounded below has no Z)", e)
    lg = None
    if log_degeneracy is not None:
        try:
            lg = np.asarray(log_degeneracy, dtype=np.float64)
        except (TypeError, ValueError):
            raise fail("log_degeneracy", owner, "a 1-D array of reals", log_degeneracy) from None
        if lg.shape != e.shape:
            raise InputError(
                f"The 'log_degeneracy' parameter of {owner} must have the shape of 'energies' "
                f"{e.shape}. Got shape {lg.shape} instead."
            )
        if np.isnan(lg).any() or (lg == np.inf).any():
            raise fail("log_degeneracy", owner, "finite or -inf (g = 0), never NaN or +inf", lg)
    allowed = np.isfinite(e) if lg is None else np.isfinite(e) & (lg > -np.inf)
    if not allowed.any():
        raise fail("energies", owner, "at least one finite level with g > 0", e)
    if not allowed.all():
        e = e[allowed]
        lg = None if lg is None else lg[allowed]
    return e, lg


def _scaled(b: np.ndarray, excess: np.ndarray, capped: bool) -> np.ndarray:
    """``d = beta (E - E_0)`` for a block of betas (rows) and levels (columns)."""
    with np.errstate(over="ignore"):
        d = np.multiply.outer(b, excess)
    return np.minimum(d, _D_CAP, out=d) if capped else d


def _chunks(n_levels: int, n_temps: int):
    step = max(256, _BLOCK_ELEMENTS // max(n_temps, 1))
    for start in range(0, n_levels, step):
        yield start, min(start + step, n_levels)


def _block_sums(excess, lg, b, ground_index):
    """Shifted Boltzmann sums for betas ``b`` (finite, >= 0), streamed over level chunks.

    Returns ``shift`` (the largest log-weight), ``center`` (its scaled energy d), ``rest``
    (sum of the other weights relative to it) and the first two moments of ``d - center``.
    """
    rows = np.arange(len(b))
    capped = not float(b.max()) * float(excess.max()) <= _D_CAP
    if lg is None:
        # Without degeneracies the largest log-weight -d_i is always the ground state's.
        shift, center = np.zeros(len(b)), np.zeros(len(b))
        mode = np.full(len(b), ground_index)
    else:
        shift, center, mode = np.full(len(b), -np.inf), np.zeros(len(b)), np.zeros(len(b), int)
        for lo, hi in _chunks(len(excess), len(b)):
            d = _scaled(b, excess[lo:hi], capped)
            x = lg[lo:hi] - d
            j = x.argmax(axis=1)
            better = x[rows, j] > shift
            shift[better] = x[rows, j][better]
            center[better] = d[rows, j][better]
            mode[better] = lo + j[better]
    rest, s1, s2 = np.zeros(len(b)), np.zeros(len(b)), np.zeros(len(b))
    for lo, hi in _chunks(len(excess), len(b)):
        d = _scaled(b, excess[lo:hi], capped)
        x = -d if lg is None else lg[lo:hi] - d
        x -= shift[:, None]
        w = np.exp(x, out=x)
        # The mode's weight is exactly 1; summing only the others keeps log1p(rest) accurate.
        here = (mode >= lo) & (mode < hi)
        w[rows[here], mode[here] - lo] = 0.0
        rest += w.sum(axis=1)
        d -= center[:, None]
        w *= d
        s1 += w.sum(axis=1)
        w *= d
        s2 += w.sum(axis=1)
    return shift, center, rest, s1, s2


def _kernel(e: np.ndarray, lg: np.ndarray | None, beta: np.ndarray) -> dict[str, np.ndarray]:
    """Evaluate all functions for validated levels ``e`` (finite) and ``lg`` at each beta."""
    e0 = e.min()
    excess = e - e0
    ground = excess == 0
    log_g0 = np.log(ground.sum()) if lg is None else np.logaddexp.reduce(lg[ground])
    out = {k: np.zeros(beta.shape) for k in ("log_z", "free_energy", "energy", "entropy", "C")}

    cold = beta == np.inf
    with np.errstate(over="ignore"):
        out["log_z"][cold] = log_g0 if e0 == 0 else -np.sign(e0) * np.inf
    out["free_energy"][cold] = out["energy"][cold] = e0
    out["entropy"][cold] = log_g0

    ground_index = int(np.argmax(ground))
    blocks = [blk for blk in np.array_split(np.flatnonzero(~cold), _WORKERS) if blk.size]
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        parts = list(pool.map(lambda blk: _block_sums(excess, lg, beta[blk], ground_index), blocks))
    for blk, (shift, center, rest, s1, s2) in zip(blocks, parts, strict=True):
        b = beta[blk]
        s = 1.0 + rest
        m1 = s1 / s
        log_sum = shift + np.log1p(rest)
        mean_d = center + m1
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            out["log_z"][blk] = log_sum - b * e0
            T = 1.0 / b
            out["free_energy"][blk] = e0 - T * log_sum
            out["energy"][blk] = e0 + T * mean_d
        out["entropy"][blk] = mean_d + log_sum
        out["C"][blk] = np.maximum(s2 / s - m1 * m1, 0.0)

    for j in np.flatnonzero(beta == 0):
        # T = inf: U is the g-weighted mean; F = -T log Z diverges unless log Z = 0; C -> 0.
        w = np.ones_like(excess) if lg is None else np.exp(lg - lg.max())
        mean = e0 + float(np.dot(w, excess)) / float(w.sum())
        log_sum = out["entropy"][j]
        out["energy"][j] = mean
        out["free_energy"][j] = mean if log_sum == 0 else -np.sign(log_sum) * np.inf
        out["C"][j] = 0.0
    return out


def _evaluate(energies, log_degeneracy, T, beta, owner):
    T_arr, beta_arr, is_scalar = temperatures(T, beta, owner)
    e, lg = validate_spectrum(energies, log_degeneracy, owner)
    return T_arr, beta_arr, is_scalar, _kernel(e, lg, beta_arr)


def _maybe_scalar(values: np.ndarray, is_scalar: bool) -> float | np.ndarray:
    return float(values[0]) if is_scalar else values


def log_partition(energies, *, T=None, beta=None, log_degeneracy=None) -> float | np.ndarray:
    """Log partition function ``log Z = log sum_i g_i exp(-E_i / T)`` in nats.

    Parameters
    ----------
    energies : array_like, shape (n,)
        Energy levels (energy units, k_B = 1). ``+inf`` marks a forbidden state; NaN and
        ``-inf`` are errors.
    T, beta : float or array_like, shape (m,)
        Exactly one: temperature(s) or inverse temperature(s), >= 0. ``T = 0`` is allowed.
    log_degeneracy : array_like, shape (n,), optional
        Natural log of each level's degeneracy ``g_i`` (default 0, i.e. g = 1);
        ``-inf`` means g = 0.

    Returns
    -------
    float or ndarray
        A float for scalar input, else one value per temperature. At T = 0 the value is
        ``+inf`` (``-inf``) if the ground-state energy is negative (positive).

    Examples
    --------
    >>> import freeenergy as fe
    >>> round(fe.log_partition([0.0, 1.0], T=1.0), 6)  # log(1 + e^-1)
    0.313262
    """
    _T_arr, _beta_arr, is_scalar, out = _evaluate(energies, log_degeneracy, T, beta, "log_partition")
    return _maybe_scalar(out["log_z"], is_scalar)


def free_energy(energies, *, T=None, beta=None, log_degeneracy=None) -> float | np.ndarray:
    """Helmholtz free energy ``F = -T log Z`` in energy units (``E_0`` at T = 0).

    Parameters are those of :func:`log_partition`.

    Examples
    --------
    >>> import freeenergy as fe
    >>> fe.free_energy([-1.0, 0.0, 5.0], T=0.0)
    -1.0
    """
    _T_arr, _beta_arr, is_scalar, out = _evaluate(energies, log_degeneracy, T, beta, "free_energy")
    return _maybe_scalar(out["free_energy"], is_scalar)


def thermodynamics(energies, *, T=None, beta=None, log_degeneracy=None) -> Thermodynamics:
    """All thermodynamic functions of a spectrum on a temperature grid.

    Parameters are those of :func:`log_partition`.

    Returns
    -------
    Thermodynamics
        Arrays ``T, beta, log_z, free_energy, energy, entropy, heat_capacity`` with one entry
        per temperature (always 1-D, even for scalar input).

    Examples
    --------
    >>> import freeenergy as fe
    >>> th = fe.thermodynamics([0.0, 1.0], T=[0.0, 1.0])
    >>> th.free_energy.tolist()  # [E_0 at T = 0, -log(1 + 1/e) at T = 1]
    [0.0, -0.31326168751822286]
    """
    T_arr, beta_arr, _, out = _evaluate(energies, log_degeneracy, T, beta, "thermodynamics")
    return Thermodynamics(
        T=T_arr,
        beta=beta_arr,
        log_z=out["log_z"],
        free_energy=out["free_energy"],
        energy=out["energy"],
        entropy=out["entropy"],
        heat_capacity=out["C"],
    )
