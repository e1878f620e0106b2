"""Convex conjugates on grids (freeenergy.spectra.legendre).

References: the conjugate pairs of DESIGN.md section 5 (Rockafellar, Convex Analysis, 1970,
section 12); Lucet, "Faster than the fast Legendre transform", Numer. Algorithms 16 (1997).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from freeenergy.spectra.legendre import (
    concave_envelope,
    convex_envelope,
    legendre,
    legendre_fenchel,
    legendre_fenchel_nd,
)

FINITE = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
# Grid points on a 1/64 lattice: distinct points are never closer than 1/64.
POINTS = st.integers(-64_000, 64_000).map(lambda k: k / 64)


def brute(x, f, s):
    """O(n m) reference: max_i [s x_i - f_i]."""
    return np.max(np.multiply.outer(s, x) - f, axis=1)


@st.composite
def samples(draw, min_size=1, max_size=40, holes=False):
    """Sorted distinct x and arbitrary (non-convex) f; with ``holes``, some f are +inf."""
    n = draw(st.integers(min_size, max_size))
    x = np.unique(draw(arrays(np.float64, n, elements=POINTS)))
    f = draw(arrays(np.float64, x.size, elements=FINITE))
    if holes:
        mask = draw(arrays(np.bool_, x.size))
        mask[draw(st.integers(0, x.size - 1))] = False
        f[mask] = np.inf
    return x, f


def rel_tol(*arrays_):
    return 1e-9 * (1.0 + max(float(np.abs(a[np.isfinite(a)]).max(initial=0.0)) for a in arrays_))


# ----------------------------------------------------------------------------- known pairs


@pytest.mark.parametrize("p", [1.5, 2.0, 3.0])
def test_power_pair(p):
    q = p / (p - 1.0)
    x = np.linspace(-3.0, 3.0, 60001)
    s = np.linspace(-1.5, 1.5, 41)  # keeps the maximiser x = |s|^(q-1) inside [-3, 3]
    _, f_star = legendre_fenchel(x, np.abs(x) ** p / p, s)
    np.testing.assert_allclose(f_star, np.abs(s) ** q / q, atol=1e-6)


def test_exp_pair():
    x = np.linspace(-10.0, 3.0, 130001)
    s = np.linspace(0.01, np.exp(3.0), 50)
    _, f_star, i = legendre_fenchel(x, np.exp(x), s, return_argmax=True)
    np.testing.assert_allclose(f_star, s * np.log(s) - s, atol=1e-7)
    np.testing.assert_allclose(x[i], np.log(s), atol=2e-4)  # touching point x = log s


def test_indicator_pair():
    a, b = -1.5, 0.5
    x = np.linspace(-3.0, 3.0, 61)
    f = np.where((x >= a - 1e-12) & (x <= b + 1e-12), 0.0, np.inf)
    s = np.linspace(-5.0, 5.0, 101)
    _, f_star = legendre_fenchel(x, f, s)
    np.testing.assert_allclose(f_star, np.maximum(a * s, b * s), atol=1e-12)


def test_quadratic_form_2d():
    A = np.array([[2.0, 0.6], [0.6, 1.0]])
    x = np.linspace(-4.0, 4.0, 801)
    X, Y = np.meshgrid(x, x, indexing="ij")
    f = 0.5 * (A[0, 0] * X**2 + 2 * A[0, 1] * X * Y + A[1, 1] * Y**2)
    s1, s2 = np.linspace(-2.0, 2.0, 9), np.linspace(-1.5, 1.5, 7)
    got = legendre_fenchel_nd([x, x], f, [s1, s2])
    S = np.stack(np.meshgrid(s1, s2, indexing="ij"), axis=-1)
    want = 0.5 * np.einsum("...i,ij,...j->...", S, np.linalg.inv(A), S)
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_nd_matches_brute_force_3d():
    rng = np.random.default_rng(1)
    grids = [np.sort(rng.normal(size=n)) for n in (5, 4, 6)]
    f = rng.normal(size=(5, 4, 6))
    f[0, 1, 2] = np.inf
    s_grids = [rng.normal(size=3), np.array([0.5, -1.0]), rng.normal(size=4)]
    got = legendre_fenchel_nd(grids, f, s_grids)
    X = np.stack(np.meshgrid(*grids, indexing="ij"), -1).reshape(-1, 3)
    S = np.stack(np.meshgrid(*s_grids, indexing="ij"), -1).reshape(-1, 3)
    want = np.max(S @ X.T - f.reshape(-1), axis=1).reshape(got.shape)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(samples(holes=True), arrays(np.float64, st.integers(1, 30), elements=FINITE))
def test_agrees_with_brute_force(xf, s):
    x, f = xf
    out = legendre_fenchel(x, f, s, return_argmax=True)  # s unsorted, with repeats
    want = brute(x, f, s)
    np.testing.assert_allclose(out.f_star, want, rtol=0, atol=rel_tol(want, f) * (1 + np.abs(s).max()))
    np.testing.assert_allclose(s * x[out.argmax] - f[out.argmax], out.f_star, rtol=0, atol=0)


@settings(max_examples=60, deadline=None)
@given(samples(min_size=2, holes=True))
def test_fenchel_young_and_default_grid(xf):
    x, f = xf
    s, f_star = legendre_fenchel(x, f)
    assert s.ndim == 1 and np.all(np.diff(s) > 0) | (s.size == 1)
    gap = f[None, :] + f_star[:, None] - np.multiply.outer(s, x)
    assert gap.min() >= -rel_tol(f, f_star) * (1 + np.abs(s).max())
    # Each slope touches: equality at the argmax.
    touch = legendre_fenchel(x, f, s, return_argmax=True).argmax
    assert np.abs(gap[np.arange(s.size), touch]).max() <= rel_tol(f, f_star) * (1 + np.abs(s).max())


@settings(max_examples=60, deadline=None)
@given(samples(min_size=2))
def test_biconjugate_below_and_envelope(xf):
    x, f = xf
    env = convex_envelope(x, f)
    assert np.all(env.values <= f + rel_tol(f))  # f** <= f
    np.testing.assert_array_equal(env.values[env.vertices], f[env.vertices])
    # Biconjugate through two transforms, exact when s holds every hull slope.
    v = env.vertices
    slopes = np.diff(f[v]) / np.diff(x[v]) if v.size > 1 else np.zeros(1)
    s, f_star = legendre_fenchel(x, f, np.unique(slopes))
    _, f_bi = legendre_fenchel(s, f_star, x)
    np.testing.assert_allclose(f_bi, env.values, rtol=0, atol=rel_tol(f, f_star) * 100)
    # Envelope is convex: non-decreasing slopes.
    d = np.diff(env.values) / np.diff(x)
    assert np.all(np.diff(d) >= -1e-6 * (1 + np.abs(d).max(initial=0.0)))
    # Off points are exactly those strictly above the envelope.
    assert set(env.off) <= set(np.flatnonzero(f > env.values))


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(2, 30), elements=st.floats(-5, 5)), st.floats(0.1, 3))
def test_involution_for_convex(c, a):
    x = np.linspace(-1.0, 1.0, c.size)
    f = a * x**2 + np.sort(c)[0] * x  # convex
    env = convex_envelope(x, f)
    assert env.off.size == 0
    np.testing.assert_allclose(env.values, f, rtol=0, atol=1e-12 * (1 + np.abs(f).max()))


def test_envelope_infinite_points():
    x = np.arange(6.0)
    f = np.array([np.inf, 1.0, np.inf, 0.0, 5.0, np.inf])
    env = convex_envelope(x, f)
    assert env.values.tolist() == [np.inf, 1.0, 0.5, 0.0, 5.0, np.inf]
    assert env.off.tolist() == [2] and env.gap[2] == np.inf and env.gap[0] == 0.0
    cav = concave_envelope(x, -f)
    np.testing.assert_array_equal(cav.values, -env.values)
    assert cav.off.tolist() == [2]


def test_envelope_tolerance():
    x = np.arange(5.0)
    f = np.array([1e3, 0.0, 1e-13, 0.0, 1e3])  # 1e-13 above the envelope: rounding-sized
    assert convex_envelope(x, f).off.tolist() == []
    assert convex_envelope(x, f, rtol=0.0).off.tolist() == [2]
    assert convex_envelope(x, f, rtol=0.0, atol=1e-12).off.tolist() == []


# ----------------------------------------------------------------------------- truncation


@pytest.mark.parametrize("L", [2.0, 10.0, 50.0])
def test_truncated_abs_has_linear_tails(L):
    x = np.linspace(-L, L, 401)
    s = np.array([-3.0, -1.5, -1.0, -0.3, 0.0, 0.7, 1.0, 2.0])
    _, f_star = legendre_fenchel(x, np.abs(x), s)
    # Indicator of [-1, 1] inside, affine tails L (|s| - 1) outside: -> +inf only as L grows.
    np.testing.assert_allclose(f_star, L * np.maximum(np.abs(s) - 1.0, 0.0), atol=1e-12 * L)


def test_scalar_and_single_point():
    s, f_star = legendre_fenchel([0.0, 1.0], [0.0, 1.0], 2.0)
    assert s.shape == () and f_star.shape == () and float(f_star) == 1.0
    s, f_star = legendre_fenchel([2.0], [1.0])
    assert s.tolist() == [0.0] and f_star.tolist() == [-1.0]


# ----------------------------------------------------------------------------- smooth


def test_smooth_legendre_sign_relation():
    x = np.linspace(-2.0, 2.0, 2001)
    w, g = legendre(np.exp, x)  # finite differences
    np.testing.assert_allclose(w, np.exp(x), rtol=1e-5)
    np.testing.assert_allclose(g, -(w * np.log(w) - w), atol=1e-5)
    _, f_star = legendre_fenchel(x, np.exp(x), w)
    np.testing.assert_allclose(g, -f_star, atol=1e-5)  # g(w) = -f*(w)
    w2, g2 = legendre(np.exp(x), x, df=np.exp)
    np.testing.assert_allclose(g2, -(w2 * np.log(w2) - w2), atol=1e-12)


def test_smooth_legendre_rejects_nonconvex():
    x = np.linspace(0.0, 3.0, 50)
    with pytest.raises(ValueError, match="'f' parameter of legendre must be convex"):
        legendre(np.sin, x)
    with pytest.raises(ValueError, match="at least 3 points"):
        legendre([0.0, 1.0], [0.0, 1.0])


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("x", "f", "s", "match"),
    [
        ([1.0, 0.0], [0.0, 0.0], None, "'x' parameter of legendre_fenchel must be strictly"),
        ([0.0, np.nan], [0.0, 0.0], None, "'x' .* finite"),
        ([[0.0, 1.0]], [0.0, 0.0], None, "'x' .* 1-D"),
        ([0.0, 1.0], [0.0], None, "'f' .* shape \\(2,\\)"),
        ([0.0, 1.0], [0.0, -np.inf], None, "'f' .* -inf"),
        ([0.0, 1.0], [np.inf, np.inf], None, "'f' .* finite at one"),
        ([0.0, 1.0], [0.0, 0.0], [[1.0]], "'s' .* 1-D"),
        ([0.0, 1.0], [0.0, 0.0], [np.inf], "'s' .* finite"),
        ("ab", [0.0], None, "'x'"),
    ],
)
def test_validation(x, f, s, match):
    with pytest.raises(ValueError, match=match):
        legendre_fenchel(x, f, s)


def test_validation_nd_and_envelope():
    x = np.arange(3.0)
    with pytest.raises(ValueError, match=r"'s_grids' .* 2 1-D"):
        legendre_fenchel_nd([x, x], np.zeros((3, 3)), [x])
    with pytest.raises(ValueError, match=r"'f' .* shape \(3, 3\)"):
        legendre_fenchel_nd([x, x], np.zeros((3, 2)), [x, x])
    with pytest.raises(ValueError, match=r"'s_grids\[1\]' .* non-empty"):
        legendre_fenchel_nd([x, x], np.zeros((3, 3)), [x, []])
    with pytest.raises(ValueError, match="'rtol'"):
        convex_envelope(x, x, rtol=-1.0)
    with pytest.raises(ValueError, match=r"'f' .* \+inf"):
        concave_envelope(x, [0.0, np.inf, 0.0])
