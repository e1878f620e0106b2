"""Laplace transform of a density of states, and its numerical inverse.

``Z(beta) = int Omega(E) exp(-beta E) dE`` (k_B = 1, energies are what is minimised). Forward,
:func:`laplace` returns ``log Z`` of a :class:`~freeenergy.DensityOfStates`. Backward,
:func:`inverse_laplace` reconstructs the density of states ``Omega(E)`` (or the cumulative count
``N(E) = int_{-inf}^E Omega``, the inverse transform of ``Z(beta) / beta``) from a function that
returns ``log Z`` at complex ``beta``, with mpmath's ``invertlaplace`` at a chosen precision, and
reports beside it the saddle-point (Legendre-Fenchel) estimate
``S(E) ~ min_beta [beta E + log Z(beta)]`` and the diagnostics that expose its failures.

Which quantity to invert. A discrete spectrum (every lattice model) has
``Omega(E) = sum_i g_i delta(E - E_i)``: there is no pointwise value to reconstruct, and every
method returns an oscillating artefact. Its cumulative count ``N(E)`` is a staircase, which the
Fourier-series methods (``'dehoog'``) reconstruct at energies *between* levels; difference it
there to recover the degeneracies. Fixed Talbot deforms the contour to ``Re beta -> -inf``, where
``exp(-beta E_i)`` blows up for every level above ``E``: it is exact-to-``dps`` for transforms
such as ``beta^-a`` but useless for any spectrum bounded above (values beyond ``10^300`` for
the 4 x 4 Ising model). Hence the default ``method='dehoog'``.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np

from freeenergy._params import InputTypeError, check_int, fail

__all__ = [
    "METHODS",
    "InverseLaplaceResult",
    "InverseLaplaceWarning",
    "dos_log_z_fn",
    "inverse_laplace",
    "laplace",
]

METHODS = ("dehoog", "talbot", "stehfest", "cohen")
_OWNER = "inverse_laplace"
_MIN_DPS = 15
# |Z(b + i w) / Z(b)| at w = b * m, m in [1e6, 1e8]: a power law Omega ~ E^(a-1) gives ~m^-a,
# a level carrying a fraction p of the canonical weight keeps it >= ~p for ever (Wiener).
_ATOM_MULTIPLIERS = tuple(10.0 ** (6.0 + k / 4.0 + 0.0123) for k in range(9))
_ATOM_TOL = 1e-2


class InverseLaplaceWarning(UserWarning):
    """A numerically inverted Laplace transform failed one of its checks.

    The failing points are flagged in :attr:`InverseLaplaceResult.ok` and explained in
    :attr:`InverseLaplaceResult.problems`; ``quiet=True`` silences the warning only.
    """


@dataclass(frozen=True)
class InverseLaplaceResult:
    """A numerical inverse Laplace transform with its diagnostics (k_B = 1, nats).

    Attributes
    ----------
    energies : ndarray, shape (m,)
        Energies ``E > 0`` where the transform was inverted (same origin as ``log_z_fn``).
    values : ndarray, shape (m,)
        ``Omega(E)`` (``quantity == 'density'``) or ``N(E)`` (``'cumulative'``), float64
        (``inf`` where it overflows; see ``log_values``).
    log_values : ndarray, shape (m,)
        Natural log of ``values`` computed in mpmath (``nan`` where the value is <= 0).
    errors : ndarray, shape (m,)
        ``|value(dps) - value(check_dps)|``, an estimate of the absolute error (one
        re-evaluation at higher precision, not a standard deviation); ``nan`` without a check.
    quantity : str
        ``'density'`` (inverse of ``Z``) or ``'cumulative'`` (inverse of ``Z / beta``).
    method : str
        mpmath ``invertlaplace`` method.
    dps, check_dps : int, int or None
        Working precision (decimal digits) of ``values`` and of the check.
    saddle_entropy : ndarray, shape (m,)
        Legendre-Fenchel estimate ``min_beta [beta E + log Z(beta)]`` on the ``betas`` grid:
        ``S(E) = log Omega(E)`` to leading order where ``S`` is concave, and a rigorous upper
        bound on ``log N(E)`` for any non-negative density of states.
    saddle_beta : ndarray, shape (m,)
        The minimising grid ``beta`` (the grid's end when the minimum lies beyond it).
    atom_fraction : ndarray, shape (m,)
        RMS of ``|Z(b + i w) / Z(b)|`` over ``w = b * [1e6, 1e8]`` at ``b = saddle_beta``: the
        share of the canonical weight in discrete levels (``0`` for a smooth density, ``1``
        near a gapped ground state; ``beta^-a`` reads ``~10^(-6 a)``).
    ok : ndarray of bool, shape (m,)
        Points that passed every check.
    problems : tuple of str
        One line per failed check; empty when all points are ok.
    seconds : float
        Wall time of the whole call.
    """

    energies: np.ndarray
    values: np.ndarray
    log_values: np.ndarray
    errors: np.ndarray
    quantity: str
    method: str
    dps: int
    check_dps: int | None
    saddle_entropy: np.ndarray
    saddle_beta: np.ndarray
    atom_fraction: np.ndarray
    ok: np.ndarray
    problems: tuple[str, ...]
    seconds: float


def laplace(dos, *, T=None, beta=None, log: bool = True):
    """Laplace transform of a density of states: ``log Z`` (default) or ``Z``.

    ``Z(beta) = sum_i g_i exp(-beta E_i)``, delegated to ``dos.log_partition``, so it is exact
    at ``T = 0`` and stable for huge energies.

    Parameters
    ----------
    dos : DensityOfStates
        Or any object with a ``log_partition(*, T=None, beta=None)`` method.
    T, beta : float or 1-D array_like
        Exactly one; temperature or inverse temperature (k_B = 1), >= 0.
    log : bool
        Return ``log Z`` in nats (default). With ``False``, ``Z`` itself, which is ``inf``
        wherever it exceeds float64 (``log Z > 709.78``).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> import numpy as np, freeenergy as fe
    >>> from freeenergy.spectra.laplace import laplace
    >>> dos = fe.DensityOfStates([0.0, 1.0], np.log([1.0, 3.0]))
    >>> round(float(laplace(dos, beta=np.log(3.0), log=False)), 12)  # 1 + 3 / 3
    2.0
    """
    if not callable(getattr(dos, "log_partition", None)):
        raise InputTypeError(
            "The 'dos' parameter of laplace must be a DensityOfStates (an object with a "
            f"log_partition method). Got {type(dos).__name__} instead."
        )
    if not isinstance(log, bool):
        raise fail("log", "laplace", "a bool", log)
    log_z = dos.log_partition(T=T, beta=beta)
    if log:
        return log_z
    with np.errstate(over="ignore"):
        z = np.exp(log_z)
    return float(z) if np.ndim(z) == 0 else z


def dos_log_z_fn(dos, *, origin: float = 0.0, counts=None) -> Callable:
    """``log Z(beta)`` of a density of states for mpmath (complex) ``beta``.

    ``log sum_i g_i exp(-beta (E_i - origin))``: energies are measured from ``origin``; pass
    ``origin=dos.ground_state`` to put the ground state at 0, as :func:`inverse_laplace` needs
    (it inverts at ``E > 0`` only). Any branch of the complex log is fine, since only
    ``exp(log Z)`` is used.

    The inversion amplifies errors in ``Z`` enormously (that is why it runs at high ``dps``):
    degeneracies taken from ``dos.log_g`` carry float64 precision (relative 1e-16 each), which
    for the 4 x 4 Ising staircase at ``dps=60`` costs up to ~1e-5 relative in ``N(E)``
    (against ~3e-5 from the method itself). Pass the exact integer ``counts`` when known.

    Parameters
    ----------
    dos : DensityOfStates
    origin : float
        Energy zero (same units as ``dos.energies``).
    counts : sequence of int, optional
        Exact degeneracies of the levels of ``dos`` with ``g > 0``, in increasing energy (e.g.
        ``IsingLattice.exact_counts()[1]``), used in place of ``exp(dos.log_g)``.

    Returns
    -------
    callable
        ``beta -> log Z(beta)`` for mpmath ``mpf`` or ``mpc`` ``beta``.

    Examples
    --------
    >>> import mpmath, numpy as np, freeenergy as fe
    >>> from freeenergy.spectra.laplace import dos_log_z_fn
    >>> f = dos_log_z_fn(fe.DensityOfStates([1.0, 2.0], np.log([1.0, 2.0])), origin=1.0)
    >>> mpmath.chop(mpmath.exp(f(mpmath.mpc(0, mpmath.pi))))  # Z(i pi) = 1 + 2 exp(-i pi)
    mpf('-1.0')
    """
    if not (hasattr(dos, "energies") and hasattr(dos, "log_g")):
        raise InputTypeError(
            "The 'dos' parameter of dos_log_z_fn must be a DensityOfStates. "
            f"Got {type(dos).__name__} instead."
        )
    if isinstance(origin, bool) or not isinstance(origin, numbers.Real) or not math.isfinite(origin):
        raise fail("origin", "dos_log_z_fn", "a finite real number", origin)
    live = np.asarray(dos.log_g) > -np.inf
    levels = [float(e) for e in np.asarray(dos.energies)[live]]
    origin = float(origin)
    if counts is None:
        weights = [float(v) for v in np.asarray(dos.log_g)[live]]
    else:
        weights = _exact_counts(counts, len(levels))

    def log_z(beta):
        # the shift is done in mpmath, at the caller's working precision
        if counts is None:
            terms = (
                mpmath.exp(lg - beta * (mpmath.mpf(e) - origin))
                for e, lg in zip(levels, weights, strict=True)
            )
        else:
            terms = (
                g * mpmath.exp(-beta * (mpmath.mpf(e) - origin)) for e, g in zip(levels, weights, strict=True)
            )
        return mpmath.log(mpmath.fsum(terms))

    return log_z


def _exact_counts(counts, n_levels: int) -> list:
    """Validate exact degeneracies; returned as Python ints (exact at any precision)."""
    ok = (
        not isinstance(counts, str | bytes)
        and hasattr(counts, "__len__")
        and len(counts) == n_levels
        and all(isinstance(c, numbers.Integral) and not isinstance(c, bool) and c > 0 for c in counts)
    )
    if not ok:
        what = f"a sequence of {n_levels} ints > 0 (one per level with g > 0)"
        raise fail("counts", "dos_log_z_fn", what, counts)
    return [int(c) for c in counts]


def _check_energies(energies) -> np.ndarray:
    try:
        e = np.asarray(energies, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail("energies", _OWNER, "a real number or a 1-D array of them", energies) from None
    if e.ndim > 1 or e.size == 0:
        raise fail("energies", _OWNER, "a scalar or a non-empty 1-D array", e)
    e = np.atleast_1d(e)
    bad = ~np.isfinite(e) | (e <= 0)
    if bad.any():
        what = "finite numbers > 0 (shift the spectrum so that E_0 >= 0; no NaN)"
        raise fail("energies", _OWNER, what, e[bad][0].item())
    return e


def _check_options(method, dps, cumulative, check, quiet, rtol, betas, energies):
    if not isinstance(method, str) or method not in METHODS:
        raise fail("method", _OWNER, f"one of {METHODS}", method)
    dps = check_int("dps", dps, _OWNER, _MIN_DPS)
    for name, flag in (("cumulative", cumulative), ("check", check), ("quiet", quiet)):
        if not isinstance(flag, bool):
            raise fail(name, _OWNER, "a bool", flag)
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not (0 < rtol < math.inf):
        raise fail("rtol", _OWNER, "a finite number > 0", rtol)
    if betas is None:  # wide enough for beta^-a (saddle a / E) with a up to 1e3 and down to 1e-3
        return dps, np.geomspace(1e-3 / energies.max(), 1e3 / energies.min(), 241)
    b = np.asarray(betas, dtype=np.float64) if not isinstance(betas, str) else np.array([np.nan])
    if b.ndim != 1 or b.size < 2 or not np.all(np.isfinite(b) & (b > 0)):
        raise fail("betas", _OWNER, "a 1-D array of >= 2 finite numbers > 0", b)
    return dps, np.sort(b)


def _real_log_z(log_z_fn, beta: float) -> float:
    try:
        value = mpmath.mpmathify(log_z_fn(mpmath.mpf(beta)))
    except (TypeError, ValueError) as exc:
        what = "a function mapping an mpmath beta to log Z"
        raise fail("log_z_fn", _OWNER, what, f"one raising {exc!r} at beta={beta!r}") from exc
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > 1e-6 * max(1.0, abs(value.real)):
            raise fail("log_z_fn", _OWNER, "real for real beta > 0", f"{value} at beta={beta!r}")
        value = value.real
    if not mpmath.isfinite(value):
        raise fail("log_z_fn", _OWNER, "finite for real beta > 0", f"{value} at beta={beta!r}")
    return float(value)


def _saddle(log_z_fn, energies, betas):
    """Legendre-Fenchel estimate on the grid; validates log_z_fn at real beta on the way."""
    log_z = np.array([_real_log_z(log_z_fn, float(b)) for b in betas])
    phi = betas[None, :] * energies[:, None] + log_z[None, :]
    k = np.argmin(phi, axis=1)
    return phi[np.arange(energies.size), k], betas[k]


def _atom_fraction(log_z_fn, beta: float) -> float:
    b = mpmath.mpf(beta)
    ref = log_z_fn(b)
    ratios = [abs(mpmath.exp(log_z_fn(mpmath.mpc(b, b * m)) - ref)) for m in _ATOM_MULTIPLIERS]
    return float(mpmath.sqrt(mpmath.fsum(r**2 for r in ratios) / len(ratios)))


def _invert(log_z_fn, energies, method, dps, cumulative):
    def transform(p):
        z = mpmath.exp(log_z_fn(p))
        return z / p if cumulative else z

    with mpmath.workdps(dps):
        out = []
        for e in energies:
            try:
                v = mpmath.invertlaplace(transform, mpmath.mpf(float(e)), method=method)
            except (ZeroDivisionError, OverflowError, ValueError):
                v = mpmath.nan
            out.append(mpmath.re(v))
        return out


def _diagnose(vals, refined, energies, saddle, atoms, cumulative, rtol):
    """Per-point checks; returns (errors, ok mask, problem lines)."""
    m = len(vals)
    errors = np.full(m, np.nan)
    bad = {}
    for i, v in enumerate(vals):
        if not mpmath.isfinite(v):
            bad.setdefault("not finite", []).append(i)
            continue
        if v < 0 and (refined is None or refined[i] < 0):
            bad.setdefault("negative (a density of states is >= 0)", []).append(i)
        if cumulative and v > 0 and mpmath.log(v) > saddle[i] + 1e-6 * max(1.0, abs(saddle[i])):
            bad.setdefault("above the Chernoff bound log N(E) <= min_beta [beta E + log Z]", []).append(i)
        if refined is not None:
            diff = abs(v - refined[i]) if mpmath.isfinite(refined[i]) else mpmath.inf
            errors[i] = float(diff)
            if not diff <= rtol * abs(refined[i]):
                bad.setdefault(f"changes by more than rtol={rtol:g} at higher precision", []).append(i)
        if not cumulative and atoms[i] > _ATOM_TOL:
            why = (
                f"in a discrete level (atom fraction > {_ATOM_TOL:g}; a gapped ground state or a "
                "discrete spectrum): Omega is a sum of deltas here, use cumulative=True between levels"
            )
            bad.setdefault(why, []).append(i)
    ok = np.ones(m, dtype=bool)
    lines = []
    for why, idx in bad.items():
        ok[idx] = False
        shown = ", ".join(f"{energies[j]:.6g}" for j in idx[:5]) + (", ..." if len(idx) > 5 else "")
        lines.append(f"{len(idx)} of {m} points {why} (E = {shown})")
    return errors, ok, tuple(lines)


def _log_values(vals) -> np.ndarray:
    return np.array([float(mpmath.log(v)) if mpmath.isfinite(v) and v > 0 else np.nan for v in vals])


def inverse_laplace(
    log_z_fn: Callable,
    energies,
    *,
    method: str = "dehoog",
    dps: int = 30,
    cumulative: bool = False,
    betas=None,
    check: bool = True,
    rtol: float = 1e-6,
    quiet: bool = False,
) -> InverseLaplaceResult:
    """Reconstruct ``Omega(E)`` (or ``N(E)``) from ``log Z(beta)`` by numerical inverse Laplace.

    ``Omega(E) = L^-1[Z](E)`` (default) or, with ``cumulative=True``, the cumulative count
    ``N(E) = L^-1[Z(beta) / beta](E)``: the number of states with energy <= E, a staircase
    for a discrete spectrum and the quantity to use there (see the module notes). Evaluated
    point by point with ``mpmath.invertlaplace`` at ``dps`` digits, checked by re-evaluating
    at ``check_dps = dps + max(8, dps // 4)``, and accompanied by the saddle-point
    (Legendre-Fenchel) estimate ``min_beta [beta E + log Z(beta)]`` on the ``betas`` grid.

    Parameters
    ----------
    log_z_fn : callable
        ``log_z_fn(beta) -> log Z(beta)`` for an mpmath ``beta`` (real ``mpf`` or complex
        ``mpc``, ``Re beta > 0``), computed in mpmath at the current precision. Any branch of
        the log is fine. ``log Z`` rather than ``Z`` keeps the library's convention; an
        ``mpf`` has an unbounded exponent, so ``Z`` does not overflow here. See
        :func:`dos_log_z_fn`.
    energies : float or 1-D array_like
        Energies ``E > 0`` (Omega must vanish for ``E < 0``: shift the spectrum so ``E_0 >= 0``).
    method : {'dehoog', 'talbot', 'stehfest', 'cohen'}
        ``'dehoog'`` (default) works for smooth and staircase inverses; ``'talbot'`` is the
        most accurate for transforms analytic in the left half-plane (``beta^-a``) but diverges
        for any spectrum bounded above; ``'stehfest'`` samples real beta only and blurs steps;
        ``'cohen'`` failed on the Ising staircase (errors growing with ``dps``).
    dps : int
        Decimal digits of working precision, >= 15 (mpmath raises it internally per method).
    cumulative : bool
        Invert ``Z / beta`` and return ``N(E)`` instead of ``Omega(E)``.
    betas : 1-D array_like of float > 0, optional
        Grid for the saddle point; default ``geomspace(1e-3 / max(E), 1e3 / min(E), 241)``.
    check : bool
        Re-evaluate at higher precision to fill ``errors`` (about 2.5x the time).
    rtol : float
        A point whose check changes it by more than ``rtol`` (relative) fails.
    quiet : bool
        Do not emit :class:`InverseLaplaceWarning` (the diagnostics stay in the result).

    Returns
    -------
    InverseLaplaceResult

    Warns
    -----
    InverseLaplaceWarning
        When a point is not finite, negative, above the Chernoff bound (cumulative), fails the
        precision check, or (density) falls where the spectrum is discrete.

    Raises
    ------
    ValueError
        For an unknown ``method``, ``dps < 15``, empty or non-finite ``energies`` or ``E <= 0``,
        a bad ``betas`` grid, or a ``log_z_fn`` that is not finite and real at real ``beta``.

    Notes
    -----
    For transforms analytic in the left half-plane (``Z = beta^-a``) every method agrees with
    the closed form to float64 rounding. For a gapped spectrum (a staircase ``N(E)``) only
    ``dehoog`` with a high ``dps`` is reliable, and ``check=True`` estimates the error; the
    README records the measured accuracy and cost of each method.

    The inversion is ill-posed: the input ``log Z`` must be accurate to near ``dps`` digits
    (see :func:`dos_log_z_fn`); ``N(E)`` at an energy equal to a level is the midpoint of the
    step, and ``Omega(E)`` of a discrete spectrum has no pointwise value.

    Examples
    --------
    >>> import mpmath
    >>> from freeenergy.spectra.laplace import inverse_laplace
    >>> res = inverse_laplace(lambda b: -3 * mpmath.log(b), [1.0, 2.0])  # Z = beta^-3
    >>> res.values.round(12).tolist()  # Omega = E^2 / 2
    [0.5, 2.0]
    >>> bool(res.ok.all()), res.quantity
    (True, 'density')
    """
    start = time.perf_counter()
    if not callable(log_z_fn):
        raise InputTypeError(
            f"The 'log_z_fn' parameter of {_OWNER} must be callable (beta -> log Z). "
            f"Got {type(log_z_fn).__name__} instead."
        )
    e = _check_energies(energies)
    dps, grid = _check_options(method, dps, cumulative, check, quiet, rtol, betas, e)
    with mpmath.workdps(dps):
        saddle, beta_star = _saddle(log_z_fn, e, grid)
        atoms = np.array([_atom_fraction(log_z_fn, float(b)) for b in beta_star])
    vals = _invert(log_z_fn, e, method, dps, cumulative)
    check_dps = dps + max(8, dps // 4) if check else None
    refined = _invert(log_z_fn, e, method, check_dps, cumulative) if check else None
    errors, ok, problems = _diagnose(vals, refined, e, saddle, atoms, cumulative, rtol)
    if problems and not quiet:
        warnings.warn(
            f"inverse_laplace(method={method!r}, dps={dps}): "
            + "; ".join(problems)
            + ". Compare result.saddle_entropy (the Legendre-Fenchel estimate).",
            InverseLaplaceWarning,
            stacklevel=2,
        )
    with np.errstate(over="ignore"):
        values = np.array([float(v) for v in vals])
    return InverseLaplaceResult(
        energies=e,
        values=values,
        log_values=_log_values(vals),
        errors=errors,
        quantity="cumulative" if cumulative else "density",
        method=method,
        dps=dps,
        check_dps=check_dps,
        saddle_entropy=saddle,
        saddle_beta=beta_star,
        atom_fraction=atoms,
        ok=ok,
        problems=problems,
        seconds=time.perf_counter() - start,
    )
