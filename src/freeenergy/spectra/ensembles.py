"""Entropy <-> free energy by Legendre-Fenchel transforms, and ensemble inequivalence.

With k_B = 1 and the package's conventions (README, "Conventions"):

* saddle point: ``beta F(beta) = min_E [beta E - S(E)]`` (:func:`free_energy_from_entropy`);
* back: ``S**(E) = min_beta [beta E - beta F(beta)]`` (:func:`entropy_from_free_energy`), the
  concave envelope of ``S``. ``S <= S**`` with equality exactly where ``S`` is concave;
* where ``S(E) = log g(E)`` lies strictly below its concave hull the microcanonical and the
  canonical ensembles disagree (:func:`ensemble_inequivalence`);
* the exact ``F = -T log sum_E exp(S(E) - E / T)`` lies below the saddle-point value by at most
  ``T log(number of levels)`` (:func:`saddle_point_gap`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from freeenergy._params import fail, temperatures
from freeenergy.spectra import thermo
from freeenergy.spectra.dos import DensityOfStates
from freeenergy.spectra.legendre import check_grid, concave_envelope, conjugate_rows, legendre_fenchel

__all__ = [
    "EntropyCurve",
    "Inequivalence",
    "SaddleGap",
    "ensemble_inequivalence",
    "entropy_from_free_energy",
    "free_energy_from_entropy",
    "saddle_point_gap",
]


class EntropyCurve(NamedTuple):
    """``S**(E)`` on increasing ``energies``, with the touching ``beta`` (dS**/dE) of each."""

    energies: np.ndarray
    entropy: np.ndarray
    beta: np.ndarray


@dataclass(frozen=True)
class Inequivalence:
    """Where ``S(E) = log g(E)`` lies strictly below its concave hull ``S**(E)``.

    Attributes
    ----------
    energies, gap, indices : ndarray
        Levels with ``g > 0`` strictly below the hull, the gap ``S** - S > 0`` (nats) and their
        indices into ``dos.energies``.
    empty_energies : ndarray
        Levels with ``g = 0`` inside the span of the occupied ones (``log_g = -inf`` in the
        density of states, or missing from its regular energy grid): ``S = -inf < S**``.
    hull_entropy : ndarray
        ``S**`` at each of ``dos.energies``.
    transitions : ndarray, shape (k, 3)
        One row ``(E_low, E_high, beta)`` per hull edge that bridges inequivalent levels: a
        first-order transition at ``T = 1 / beta`` with latent heat ``E_high - E_low``.
    spacing : float or None
        The level spacing used to find missing levels (None when none was used).
    """

    energies: np.ndarray
    gap: np.ndarray
    indices: np.ndarray
    empty_energies: np.ndarray
    hull_entropy: np.ndarray
    transitions: np.ndarray
    spacing: float | None

    @property
    def equivalent(self) -> bool:
        """True when the ensembles agree at every level (``S`` concave, no interior gaps)."""
        return self.energies.size == 0 and self.empty_energies.size == 0


@dataclass(frozen=True)
class SaddleGap:
    """Exact and saddle-point free energies (energy units) and ``gap = saddle - exact >= 0``."""

    T: np.ndarray
    beta: np.ndarray
    exact: np.ndarray
    saddle: np.ndarray
    gap: np.ndarray

    @property
    def log_z_gap(self) -> np.ndarray:
        """``beta * gap``: the gap in ``log Z`` (nats), ``<= log(number of levels)``."""
        with np.errstate(invalid="ignore"):
            return np.where(self.gap == 0, 0.0, self.beta * self.gap)


def _levels(energies, entropy, owner) -> tuple[np.ndarray, np.ndarray]:
    """Occupied levels (finite E, S > -inf), sorted by energy."""
    e, s = thermo.validate_spectrum(energies, entropy, owner)
    order = np.argsort(e, kind="stable")
    e, s = e[order], s[order]
    if np.any(np.diff(e) == 0):
        raise fail("energies", owner, "distinct levels", e)
    return e, s


def _saddle(e: np.ndarray, s: np.ndarray, T: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``min_E [E - T S(E)]`` via the conjugate of ``-S`` at slopes ``-beta`` (argmax only)."""
    slopes = -np.where(np.isinf(beta), 0.0, beta)
    _, idx = conjugate_rows(e, -s[None, :], slopes)
    j = idx[0]
    j[np.isinf(beta)] = 0  # T = 0: the ground state, whatever its entropy
    with np.errstate(invalid="ignore"):
        F = e[j] - T * s[j]
    hot = T == np.inf
    F[hot & (s[j] == 0)] = e[j][hot & (s[j] == 0)]
    return F


def free_energy_from_entropy(energies, entropy, *, T=None, beta=None) -> float | np.ndarray:
    """Saddle-point (Legendre-Fenchel) free energy ``F = min_E [E - T S(E)]``.

    ``beta F(beta) = min_E [beta E - S(E)]``. The exact free energy of the same levels is
    ``-T log sum_E exp(S(E) - beta E)`` (``freeenergy.free_energy(energies, T=T,
    log_degeneracy=entropy)``); the saddle point is its large-N limit, always ``>=`` it and
    within ``T log(number of levels)`` of it (see :func:`saddle_point_gap`).

    Parameters
    ----------
    energies : array_like, shape (n,)
        Distinct energy levels, any order (``+inf`` levels are ignored).
    entropy : array_like, shape (n,)
        ``S(E)`` in nats (``log g``); ``-inf`` for an empty level.
    T, beta : float or array_like, shape (m,)
        Exactly one, >= 0. ``T = 0`` gives the ground-state energy; at ``T = inf`` the value is
        ``-inf`` if ``max S > 0``.

    Returns
    -------
    float or ndarray
        A float for scalar input, else one value per temperature.

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.spectra.ensembles import free_energy_from_entropy
    >>> free_energy_from_entropy([0.0, 1.0], [0.0, np.log(4.0)], T=[0.0, 1.0]).round(6).tolist()
    [0.0, -0.386294]
    """
    owner = "free_energy_from_entropy"
    T_arr, beta_arr, is_scalar = temperatures(T, beta, owner)
    e, s = _levels(energies, entropy, owner)
    F = _saddle(e, s, T_arr, beta_arr)
    return float(F[0]) if is_scalar else F


def entropy_from_free_energy(beta, beta_f, energies=None) -> EntropyCurve:
    """Concave envelope ``S**(E) = min_beta [beta E - beta F(beta)]`` from sampled ``beta F``.

    A Legendre-Fenchel transform in ``beta``: ``S**(E) = -(log Z)*(-E)`` with
    ``log Z = -beta F``. Outside the energies ``U(beta) = d(beta F)/d beta`` reached on the
    sampled range the minimum sits at an end of the ``beta`` grid and ``S**`` is affine there
    (domain truncation; see :mod:`freeenergy.spectra.legendre`).

    Parameters
    ----------
    beta : array_like, shape (n,)
        Strictly increasing, finite inverse temperatures (negative ones allowed).
    beta_f : array_like, shape (n,)
        ``beta F(beta) = -log Z(beta)``, finite.
    energies : array_like, shape (m,), optional
        Where to evaluate ``S**``. Default: ``n`` energies spanning the internal energies of
        the sampled range.

    Returns
    -------
    EntropyCurve
        ``(energies, entropy, beta)`` sorted by energy; ``beta`` is the minimiser for each.

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.spectra.ensembles import entropy_from_free_energy
    >>> b = np.linspace(-5.0, 5.0, 2001)
    >>> bf = -np.logaddexp(0.0, -b)  # -log Z of two levels E = 0, 1 with g = 1
    >>> curve = entropy_from_free_energy(b, bf, energies=[0.5])
    >>> round(float(curve.entropy[0]), 4)  # log 2 at E = 1/2
    0.6931
    """
    owner = "entropy_from_free_energy"
    b = check_grid("beta", beta, owner)
    try:
        log_z = -np.asarray(beta_f, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail("beta_f", owner, "a 1-D array of real numbers", beta_f) from None
    if log_z.shape != b.shape or not np.isfinite(log_z).all():
        raise fail("beta_f", owner, f"finite, with the shape of 'beta' {b.shape}", log_z)
    if energies is None:
        s, s_star, arg = legendre_fenchel(b, log_z, return_argmax=True)
    else:
        e = np.asarray(energies, dtype=np.float64)
        if e.ndim != 1 or e.size == 0 or not np.isfinite(e).all():
            raise fail("energies", owner, "a finite, non-empty 1-D array", e)
        s, s_star, arg = legendre_fenchel(b, log_z, -e, return_argmax=True)
    order = np.argsort(-s, kind="stable")
    return EntropyCurve(-s[order], -s_star[order], b[arg[order]])


def _spacing(e: np.ndarray, spacing: object) -> float | None:
    if spacing is None or e.size < 2:
        return None
    if isinstance(spacing, str) and spacing == "auto":
        d = np.diff(e)
        step = float(d.min())
        ratio = d / step
        regular = np.all(np.abs(ratio - np.round(ratio)) <= 1e-9 * ratio)
        return step if regular and (e[-1] - e[0]) / step <= 2 * e.size else None
    if isinstance(spacing, bool) or not isinstance(spacing, numbers.Real) or not spacing > 0:
        raise fail("spacing", "ensemble_inequivalence", "'auto', None or a number > 0", spacing)
    return float(spacing)


def ensemble_inequivalence(dos: DensityOfStates, *, spacing="auto", rtol: float = 1e-12) -> Inequivalence:
    """Energies where microcanonical and canonical ensembles disagree (``S < S**``).

    Parameters
    ----------
    dos : DensityOfStates
        Levels ``E`` and ``S(E) = log g(E)``.
    spacing : 'auto', None or float, default 'auto'
        Regular level spacing: levels on the grid ``E_min + k spacing`` absent from ``dos``
        have ``g = 0``. ``'auto'`` infers it when every gap between levels is an integer
        multiple of the smallest (and the grid has at most twice as many levels); ``None``
        looks only at the listed levels.
    rtol : float, default 1e-12
        A level is inequivalent when ``S** - S > rtol * max|S|``.

    Returns
    -------
    Inequivalence

    Examples
    --------
    >>> import numpy as np, freeenergy as fe
    >>> from freeenergy.spectra.ensembles import ensemble_inequivalence
    >>> dos = fe.DensityOfStates([0.0, 1.0, 2.0, 4.0], np.log([1.0, 1.0, 4.0, 1.0]))
    >>> res = ensemble_inequivalence(dos)  # E = 3 is missing from the grid: g = 0
    >>> res.energies.tolist(), res.empty_energies.tolist(), res.transitions.tolist()
    ([1.0], [3.0], [[0.0, 2.0, 0.6931471805599453], [2.0, 4.0, -0.6931471805599453]])
    """
    owner = "ensemble_inequivalence"
    if not isinstance(dos, DensityOfStates):
        raise fail("dos", owner, "a freeenergy.DensityOfStates", dos)
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not 0 <= rtol < np.inf:
        raise fail("rtol", owner, "a finite number >= 0", rtol)
    e, s = dos.energies, dos.log_g
    step = _spacing(e, spacing)
    if step is not None:
        k = np.round((e - e[0]) / step).astype(np.int64)
        grid_s = np.full(int(k[-1]) + 1, -np.inf)
        grid_s[k] = s
        ge, gs = e[0] + step * np.arange(k[-1] + 1), grid_s
        ge[k] = e
    else:
        ge, gs = e, s
    env = concave_envelope(ge, gs, rtol=rtol)
    off = env.off
    empty = off[np.isneginf(gs[off])]
    full = off[np.isfinite(gs[off])]
    if step is not None:
        full = np.searchsorted(k, full)  # grid index -> dos index (occupied levels are in k)
    v = env.vertices
    bridges = np.unique(np.searchsorted(v, off) - 1)  # hull edge k spans v[k] < i < v[k+1]
    bridges = bridges[(bridges >= 0) & (bridges < v.size - 1)]
    lo, hi = v[bridges], v[bridges + 1]
    transitions = np.column_stack([ge[lo], ge[hi], (gs[hi] - gs[lo]) / (ge[hi] - ge[lo])])
    hull = env.values if step is None else env.values[k]
    return Inequivalence(
        energies=e[full],
        gap=hull[full] - s[full],
        indices=full,
        empty_energies=ge[empty],
        hull_entropy=hull,
        transitions=transitions.reshape(-1, 3),
        spacing=step,
    )


def saddle_point_gap(dos: DensityOfStates, *, T=None, beta=None) -> SaddleGap:
    """How far the saddle-point free energy lies above the exact one.

    ``exact = -T log sum_E g(E) exp(-E / T)``, ``saddle = min_E [E - T log g(E)]`` and
    ``0 <= saddle - exact <= T log(number of occupied levels)``. Divide by the number of
    sites for per-spin values.

    Parameters
    ----------
    dos : DensityOfStates
    T, beta : float or array_like, shape (m,)
        Exactly one, >= 0 and finite temperatures (``T = 0`` is allowed: the gap is 0).

    Returns
    -------
    SaddleGap
        1-D arrays ``T, beta, exact, saddle, gap``.

    Examples
    --------
    >>> import numpy as np, freeenergy as fe
    >>> from freeenergy.spectra.ensembles import saddle_point_gap
    >>> dos = fe.DensityOfStates([0.0, 1.0], [0.0, np.log(4.0)])
    >>> res = saddle_point_gap(dos, T=[0.0, 1.0])
    >>> res.gap.round(6).tolist()  # (1 - log 4) - (-log(1 + 4/e)) at T = 1
    [0.0, 0.518538]
    """
    owner = "saddle_point_gap"
    if not isinstance(dos, DensityOfStates):
        raise fail("dos", owner, "a freeenergy.DensityOfStates", dos)
    T_arr, beta_arr, _ = temperatures(T, beta, owner)
    if np.isinf(T_arr).any():
        raise fail("T" if T is not None else "beta", owner, "a finite temperature (beta > 0)", 0.0)
    exact = np.atleast_1d(dos.free_energy(beta=beta_arr))
    e, s = _levels(dos.energies, dos.log_g, owner)
    saddle = _saddle(e, s, T_arr, beta_arr)
    return SaddleGap(T_arr, beta_arr, exact, saddle, saddle - exact)
