"""Convex analysis on grids: Legendre-Fenchel conjugates, envelopes and smooth transforms.

Convention (README, "Conventions"): the convex conjugate of ``f`` is ``f*(s) = sup_x [s x - f(x)]``. On a
grid ``x_0 < x_1 < ... < x_{n-1}`` the supremum is a maximum over the samples, and only the
vertices of the lower convex hull of the points ``(x_i, f_i)`` can attain it. So
:func:`legendre_fenchel` builds that hull in one monotone-chain scan and merges its edge slopes
with the sorted ``s`` (Lucet's linear-time Legendre transform): ``O(n + m)`` for ``n`` samples
and ``m`` slopes (plus ``O(m log m)`` to sort an unsorted ``s``). The scans are compiled with
numba.

Domain truncation. A grid on ``[a, b]`` conjugates the function restricted to ``[a, b]``
(``+inf`` outside). For slopes beyond the hull's edge slopes the maximiser sticks to an end
point, so ``f*`` is *affine* there, ``f*(s) = s b - f(b)`` on the right and ``s a - f(a)`` on
the left, whatever ``f`` does outside the grid. For example ``|x|`` sampled on ``[-L, L]`` has
``f*(s) = L max(|s| - 1, 0)``: it tends to the indicator of ``[-1, 1]`` (the true conjugate)
only as ``L -> inf``. Trust a conjugate only between the smallest and largest hull slopes.

``f`` may be ``+inf`` at grid points outside its domain (e.g. an indicator function); those
points never touch the hull.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

from freeenergy._params import InputError, fail

__all__ = [
    "Conjugate",
    "ConjugateArgmax",
    "Envelope",
    "SmoothLegendre",
    "concave_envelope",
    "convex_envelope",
    "legendre",
    "legendre_fenchel",
    "legendre_fenchel_nd",
]


class Conjugate(NamedTuple):
    """Slopes ``s`` and the convex conjugate ``f_star = f*(s)`` (same shape)."""

    s: np.ndarray
    f_star: np.ndarray


class ConjugateArgmax(NamedTuple):
    """As :class:`Conjugate`, plus ``argmax``: for each slope the index ``i`` of the touching
    point, ``f*(s) = s x[i] - f[i]`` (the smallest maximising ``x`` on the hull)."""

    s: np.ndarray
    f_star: np.ndarray
    argmax: np.ndarray


@dataclass(frozen=True)
class Envelope:
    """A convex (or concave) envelope evaluated on the sample grid.

    Attributes
    ----------
    values : ndarray, shape (n,)
        The envelope (the biconjugate ``f**`` on the grid); ``+inf`` (convex) / ``-inf``
        (concave) outside the span of the points where ``f`` is finite.
    gap : ndarray, shape (n,)
        ``|f - values| >= 0``; ``inf`` where ``f`` is infinite inside that span.
    off : ndarray of int
        Indices where ``f`` lies strictly off its envelope (``gap > atol + rtol * scale``).
    vertices : ndarray of int
        Indices of the hull vertices (increasing).
    """

    values: np.ndarray
    gap: np.ndarray
    off: np.ndarray
    vertices: np.ndarray


class SmoothLegendre(NamedTuple):
    """Classical Legendre transform ``g(w) = f(x) - w x`` at ``w = f'(x)``."""

    w: np.ndarray
    g: np.ndarray


@njit(cache=True)
def _lower_hull(x, f, idx):  # pragma: no cover - compiled
    """Write the lower-hull vertex indices of the finite points into ``idx``; return their count."""
    h = 0
    for i in range(x.shape[0]):
        fi = f[i]
        if fi == np.inf:
            continue
        while h >= 2:
            a = idx[h - 2]
            b = idx[h - 1]
            # Drop b when it lies on or above the chord from a to i.
            if (f[b] - f[a]) * (x[i] - x[a]) >= (fi - f[a]) * (x[b] - x[a]):
                h -= 1
            else:
                break
        idx[h] = i
        h += 1
    return h


@njit(cache=True)
def _merge_conjugate_rows(x, F, s, out, arg):  # pragma: no cover - compiled
    """Conjugate every row of ``F`` (samples on ``x``) at the sorted slopes ``s``."""
    n = x.shape[0]
    idx = np.empty(n, np.int64)
    slopes = np.empty(n, np.float64)
    for r in range(F.shape[0]):
        f = F[r]
        h = _lower_hull(x, f, idx)
        if h == 0:
            out[r, :] = -np.inf
            arg[r, :] = -1
            continue
        for k in range(h - 1):
            slopes[k] = (f[idx[k + 1]] - f[idx[k]]) / (x[idx[k + 1]] - x[idx[k]])
        j = 0
        for k in range(s.shape[0]):
            sk = s[k]
            while j < h - 1 and slopes[j] < sk:
                j += 1
            i = idx[j]
            out[r, k] = sk * x[i] - f[i]
            arg[r, k] = i


def check_grid(name: str, value: object, owner: str) -> np.ndarray:
    """``value`` as a contiguous float64 grid: 1-D, non-empty, finite, strictly increasing."""
    try:
        x = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail(name, owner, "a 1-D array of real numbers", value) from None
    if x.ndim != 1 or x.size == 0:
        raise fail(name, owner, "a non-empty 1-D array", x)
    if not np.isfinite(x).all():
        raise fail(name, owner, "finite (no NaN or inf)", x)
    if x.size > 1 and not (x[1:] > x[:-1]).all():
        raise fail(name, owner, "strictly increasing (sort it, and merge repeated points)", x)
    return x


def _samples(name: str, value: object, owner: str, shape: tuple[int, ...], sign: int = 1) -> np.ndarray:
    """Values of a convex (sign=1) or concave (sign=-1) function: no NaN, no -sign*inf."""
    try:
        f = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail(name, owner, "an array of real numbers", value) from None
    if f.shape != shape:
        raise InputError(
            f"The {name!r} parameter of {owner} must have shape {shape} (one value per grid "
            f"point). Got shape {f.shape} instead."
        )
    bad, outside = ("-inf", "+inf") if sign == 1 else ("+inf", "-inf")
    if np.isnan(f).any() or (f == -sign * np.inf).any():
        raise fail(name, owner, f"free of NaN and {bad} ({outside} marks a point off the domain)", f)
    if not np.isfinite(f).any():
        raise fail(name, owner, "finite at one grid point at least", f)
    return f


def _slopes(name: str, value: object, owner: str) -> np.ndarray:
    try:
        s = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail(name, owner, "a real number or a 1-D array of them", value) from None
    if s.ndim > 1 or not np.isfinite(s).all():
        raise fail(name, owner, "a finite scalar or 1-D array", s)
    return s


def conjugate_rows(x: np.ndarray, F: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``max_i [s x_i - F[r, i]]`` and its argmax for every row ``r`` of ``F``, at any ``s`` (1-D).

    Inputs are trusted (``x`` from :func:`check_grid`); the slopes are sorted, merged with the
    grid in one linear pass per row, and put back in their order.
    """
    order = None if s.size < 2 or (s[1:] >= s[:-1]).all() else np.argsort(s, kind="stable")
    s_sorted = s if order is None else s[order]
    out = np.empty((F.shape[0], s.size))
    arg = np.empty((F.shape[0], s.size), np.int64)
    _merge_conjugate_rows(x, F, np.ascontiguousarray(s_sorted), out, arg)
    if order is not None:
        out[:, order], arg[:, order] = out.copy(), arg.copy()
    return out, arg


def _hull(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    idx = np.empty(x.size, np.int64)
    return idx[: _lower_hull(x, f, idx)]


def legendre_fenchel(x, f, s=None, *, return_argmax: bool = False):
    """Discrete convex conjugate ``f*(s) = max_i [s x_i - f_i]`` in linear time.

    Parameters
    ----------
    x : array_like, shape (n,)
        Strictly increasing, finite sample points.
    f : array_like, shape (n,)
        Function values; ``+inf`` marks points outside the domain (NaN and ``-inf`` are
        errors). At least one value is finite.
    s : float or array_like, shape (m,), optional
        Slopes, finite, in any order (sorted input skips an ``O(m log m)`` sort). Default:
        ``n`` points spanning the smallest to the largest edge slope of the lower convex hull
        (the single slope 0 if the hull is one point).
    return_argmax : bool, default False
        Also return, for each slope, the index of the touching point.

    Returns
    -------
    Conjugate or ConjugateArgmax
        NamedTuple ``(s, f_star)``, or ``(s, f_star, argmax)`` with ``return_argmax=True``;
        ``x[argmax]`` is the maximising sample (the smallest one on ties). Arrays have the
        shape of ``s`` (a scalar ``s`` gives 0-d arrays).

    Notes
    -----
    Lucet's linear-time Legendre transform: ``O(n + m)`` for sorted ``s``. Beyond the hull's
    extreme slopes ``f*`` is affine (domain truncation, see the module docstring). The
    classical ``g(w) = f(x) - w x`` of :func:`legendre` is ``-f*(w)``.

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.spectra.legendre import legendre_fenchel
    >>> x = np.linspace(-2.0, 2.0, 401)
    >>> s, f_star, i = legendre_fenchel(x, x**2 / 2, [-1.0, 0.5], return_argmax=True)
    >>> f_star.tolist(), x[i].tolist()  # s^2 / 2, touching at x = s
    ([0.5, 0.125], [-1.0, 0.5])
    """
    owner = "legendre_fenchel"
    x = check_grid("x", x, owner)
    f = _samples("f", f, owner, x.shape)
    if s is None:
        v = _hull(x, f)
        with np.errstate(over="ignore"):
            edge = np.diff(f[v]) / np.diff(x[v])
        if not np.isfinite(edge).all():
            raise fail("x", owner, "spaced widely enough that the slopes of f are finite", x)
        if edge.size == 0 or edge[0] == edge[-1]:
            s = np.zeros(1) if edge.size == 0 else edge[:1]
        else:
            s = np.linspace(edge[0], edge[-1], x.size)
    else:
        s = _slopes("s", s, owner)
    out, arg = conjugate_rows(x, f[None, :], s.reshape(-1))
    f_star, argmax = out[0].reshape(s.shape), arg[0].reshape(s.shape)
    return ConjugateArgmax(s, f_star, argmax) if return_argmax else Conjugate(s, f_star)


def _envelope(x, f, rtol, atol, sign, owner) -> Envelope:
    x = check_grid("x", x, owner)
    f = sign * _samples("f", f, owner, x.shape, sign)
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not (np.isscalar(tol) and np.isfinite(tol) and tol >= 0):
            raise fail(name, owner, "a finite number >= 0", tol)
    v = _hull(x, f)
    values = np.full(x.size, np.inf)
    if v.size > 1:
        edge = np.repeat(np.arange(v.size - 1), np.diff(v))  # edge k covers v[k] <= i < v[k+1]
        inner = np.arange(v[0], v[-1])
        a, b = v[edge], v[edge + 1]
        t = (x[inner] - x[a]) / (x[b] - x[a])
        values[inner] = f[a] + t * (f[b] - f[a])
    values[v] = f[v]
    with np.errstate(invalid="ignore"):
        gap = np.where(np.isinf(values), 0.0, f - values)
    scale = float(np.abs(f[np.isfinite(f)]).max())
    off = np.flatnonzero(gap > atol + rtol * scale)
    return Envelope(sign * values + 0.0, np.maximum(gap, 0.0), off, v)


def convex_envelope(x, f, *, rtol: float = 1e-12, atol: float = 0.0) -> Envelope:
    """Largest convex function below the samples, on the grid (the biconjugate ``f**``).

    Parameters
    ----------
    x : array_like, shape (n,)
        Strictly increasing, finite sample points.
    f : array_like, shape (n,)
        Values; ``+inf`` outside the domain, never NaN or ``-inf``.
    rtol, atol : float, default 1e-12 and 0
        A point is off the envelope when ``f - f** > atol + rtol * max|f|`` (``max`` over the
        finite values), which absorbs the rounding of the linear interpolation.

    Returns
    -------
    Envelope
        ``values``, ``gap = f - f**``, the ``off`` indices and the hull ``vertices``.

    Examples
    --------
    >>> from freeenergy.spectra.legendre import convex_envelope
    >>> env = convex_envelope([0.0, 1.0, 2.0, 3.0], [0.0, 2.0, 1.0, 3.0])
    >>> env.values.tolist(), env.off.tolist()
    ([0.0, 0.5, 1.0, 3.0], [1])
    """
    return _envelope(x, f, rtol, atol, 1, "convex_envelope")


def concave_envelope(x, f, *, rtol: float = 1e-12, atol: float = 0.0) -> Envelope:
    """Smallest concave function above the samples (``-f`` convexified); ``-inf`` allowed.

    Parameters and returns as :func:`convex_envelope`, with ``gap = f** - f >= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.spectra.legendre import concave_envelope
    >>> env = concave_envelope([0.0, 1.0, 2.0], [0.0, -np.inf, 1.0])
    >>> env.values.tolist(), env.off.tolist()
    ([0.0, 0.5, 1.0], [1])
    """
    return _envelope(x, f, rtol, atol, -1, "concave_envelope")


def legendre_fenchel_nd(grids: Sequence, f, s_grids: Sequence) -> np.ndarray:
    """Convex conjugate on a tensor grid, one 1-D transform per axis.

    ``f*(s) = max_x [s . x - f(x)]`` factorises: with ``h_0 = -f`` and, axis by axis,
    ``h_{k+1}(..., s_k, ...) = max_{x_k} [s_k x_k + h_k(..., x_k, ...)]``, ``f* = h_d``. The
    cost is linear in the number of grid points (for sorted slope grids).

    Parameters
    ----------
    grids : sequence of d array_like
        Strictly increasing 1-D sample points along each axis.
    f : array_like, shape (len(grids[0]), ..., len(grids[d-1]))
        Values; ``+inf`` outside the domain.
    s_grids : sequence of d array_like
        1-D slopes along each axis.

    Returns
    -------
    ndarray, shape (len(s_grids[0]), ..., len(s_grids[d-1]))

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.spectra.legendre import legendre_fenchel_nd
    >>> x = np.linspace(-3.0, 3.0, 61)
    >>> f = (x[:, None] ** 2 + x[None, :] ** 2) / 2
    >>> legendre_fenchel_nd([x, x], f, [[1.0], [0.0, 2.0]]).round(12).tolist()
    [[0.5, 2.5]]
    """
    owner = "legendre_fenchel_nd"
    if not isinstance(grids, Sequence) or not isinstance(s_grids, Sequence) or len(grids) == 0:
        raise fail("grids", owner, "a non-empty sequence of 1-D arrays", grids)
    if len(s_grids) != len(grids):
        raise fail("s_grids", owner, f"a sequence of {len(grids)} 1-D arrays (one per axis)", s_grids)
    xs = [check_grid(f"grids[{k}]", g, owner) for k, g in enumerate(grids)]
    ss = []
    for k, g in enumerate(s_grids):
        s = _slopes(f"s_grids[{k}]", g, owner)
        if s.ndim != 1 or s.size == 0:
            raise fail(f"s_grids[{k}]", owner, "a non-empty 1-D array", s)
        ss.append(s)
    h = -_samples("f", f, owner, tuple(x.size for x in xs))
    for axis in reversed(range(len(xs))):
        moved = np.moveaxis(h, axis, -1)
        rows = np.ascontiguousarray(-moved).reshape(-1, xs[axis].size)
        out, _ = conjugate_rows(xs[axis], rows, ss[axis])
        h = np.moveaxis(out.reshape((*moved.shape[:-1], ss[axis].size)), -1, axis)
    return np.ascontiguousarray(h)


def legendre(f: Callable | object, x, df: Callable | object | None = None) -> SmoothLegendre:
    """Classical Legendre transform of a smooth convex ``f``: ``g(w) = f(x) - w x``, ``w = f'(x)``.

    Sign relation: ``g(w) = -f*(w)``, minus the convex conjugate of :func:`legendre_fenchel`
    (the essay's ``F = E - T S`` form). For non-convex or non-smooth ``f`` use the conjugate,
    which takes the convex envelope first.

    Parameters
    ----------
    f : callable or array_like, shape (n,)
        The function, or its values on ``x``.
    x : array_like, shape (n,)
        Strictly increasing, finite points (n >= 3 when ``df`` is not given).
    df : callable or array_like, shape (n,), optional
        The derivative ``f'``; default second-order finite differences (``np.gradient`` with
        ``edge_order=2``).

    Returns
    -------
    SmoothLegendre
        ``(w, g)``, one pair per point of ``x``; ``w`` is non-decreasing.

    Raises
    ------
    ValueError
        If ``f'`` decreases anywhere (``f`` not convex).

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.spectra.legendre import legendre
    >>> w, g = legendre(lambda x: x**2 / 2, np.array([-1.0, 0.0, 2.0]), df=lambda x: x)
    >>> w.tolist(), g.tolist()  # g(w) = -w^2 / 2
    ([-1.0, 0.0, 2.0], [-0.5, 0.0, -2.0])
    """
    owner = "legendre"
    x = check_grid("x", x, owner)
    fx = _samples("f", f(x) if callable(f) else f, owner, x.shape)
    if not np.isfinite(fx).all():
        raise fail("f", owner, "finite at every point of x", fx)
    if df is None:
        if x.size < 3:
            raise fail("x", owner, "at least 3 points for finite differences (or pass df)", x)
        w = np.gradient(fx, x, edge_order=2)
    else:
        w = _samples("df", df(x) if callable(df) else df, owner, x.shape)
        if not np.isfinite(w).all():
            raise fail("df", owner, "finite at every point of x", w)
    drop = np.diff(w)
    if (drop < -1e-9 * max(1.0, float(np.abs(w).max()))).any():
        raise fail("f", owner, "convex (f' non-decreasing; use legendre_fenchel otherwise)", fx)
    return SmoothLegendre(w, fx - w * x)
