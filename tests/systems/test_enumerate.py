"""Tests of freeenergy.systems._enumerate: bit-arithmetic counts, energies and histograms.

Reference: every +1/-1 configuration listed with itertools, energies from E = -J sum s_i s_j - h sum s_i.
"""

import itertools

import numpy as np
import pytest

from freeenergy.systems import _enumerate


def spins_of(x, n):
    """Spin i is -1 when bit i of x is set, +1 otherwise (the module's documented encoding)."""
    return [-1 if (x >> i) & 1 else 1 for i in range(n)]


def state_of(spins):
    """Inverse of spins_of."""
    return sum(1 << i for i, s in enumerate(spins) if s == -1)


def torus_bonds(rows, cols):
    """Right and down neighbour of every site (r, c) = bit r * cols + c, wrapping: 2N bonds."""
    bonds = []
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            bonds.append((i, r * cols + (c + 1) % cols))
            bonds.append((i, ((r + 1) % rows) * cols + c))
    return bonds


def chain_bonds(n, periodic):
    """Bonds (i, i+1), plus (n-1, 0) on the ring."""
    return [(i, (i + 1) % n) for i in range(n if periodic else n - 1)]


def brute(n, bonds, J, h):
    """Per state (in state order): energy, unsatisfied bonds, down spins, by direct enumeration."""
    out = {}
    for spins in itertools.product((1, -1), repeat=n):
        e = -J * sum(spins[i] * spins[j] for i, j in bonds) - h * sum(spins)
        unsat = sum(spins[i] != spins[j] for i, j in bonds)
        out[state_of(spins)] = (e, unsat, spins.count(-1))
    rows = [out[x] for x in range(1 << n)]
    return tuple(np.array(col) for col in zip(*rows, strict=True))


LATTICES = [(1, 4), (2, 2), (2, 3), (3, 3), (3, 4), (4, 3)]
CHAINS = [(n, p) for n in (2, 3, 5, 8, 12) for p in (True, False)]


def all_states(n):
    return np.arange(1 << n, dtype=np.uint64)


@pytest.mark.parametrize("rows, cols", LATTICES)
def test_lattice_counts_match_enumeration(rows, cols):
    """lattice_counts gives the unsatisfied torus bonds and down spins of every state."""
    n = rows * cols
    _, unsat, down = brute(n, torus_bonds(rows, cols), 1.0, 0.0)
    got_unsat, got_down = _enumerate.lattice_counts(all_states(n), rows, cols)
    np.testing.assert_array_equal(got_unsat, unsat)
    np.testing.assert_array_equal(got_down, down)


@pytest.mark.parametrize("n, periodic", CHAINS)
def test_chain_counts_match_enumeration(n, periodic):
    """chain_counts gives the unsatisfied chain bonds and down spins of every state."""
    _, unsat, down = brute(n, chain_bonds(n, periodic), 1.0, 0.0)
    got_unsat, got_down = _enumerate.chain_counts(all_states(n), n, periodic)
    np.testing.assert_array_equal(got_unsat, unsat)
    np.testing.assert_array_equal(got_down, down)


def test_counts_hand_cases():
    """Worked by hand: 3x3 checkerboard breaks 12 of 18 bonds; open chain +-- breaks 1, ring 2."""
    checker = state_of([1 if (r + c) % 2 else -1 for r in range(3) for c in range(3)])
    # odd side: the 3 row wraps and 3 column wraps join equal spins, the other 12 bonds are broken
    unsat, down = _enumerate.lattice_counts(np.array([checker], dtype=np.uint64), 3, 3)
    assert (int(unsat[0]), int(down[0])) == (12, 5)
    x = np.array([state_of([1, -1, -1])], dtype=np.uint64)
    assert [int(v[0]) for v in _enumerate.chain_counts(x, 3, False)] == [1, 2]
    assert [int(v[0]) for v in _enumerate.chain_counts(x, 3, True)] == [2, 2]


@pytest.mark.parametrize("J, h", [(1.0, 0.0), (-0.7, 0.25), (0.5, -1.5), (0.0, 2.0)])
@pytest.mark.parametrize("rows, cols", LATTICES)
def test_lattice_energies_match_enumeration(rows, cols, J, h):
    """energies with the torus counter equals -J sum s_i s_j - h sum s_i over all states."""
    n = rows * cols
    e, _, _ = brute(n, torus_bonds(rows, cols), J, h)
    got = _enumerate.energies(lambda x: _enumerate.lattice_counts(x, rows, cols), n, 2 * n, J, h)
    assert got.dtype == np.float64 and got.shape == (1 << n,)
    np.testing.assert_allclose(got, e, rtol=1e-14, atol=1e-12)


@pytest.mark.parametrize("J, h", [(1.0, 0.0), (-1.0, 0.3), (0.4, -2.0)])
@pytest.mark.parametrize("n, periodic", CHAINS)
def test_chain_energies_match_enumeration(n, periodic, J, h):
    """energies with the chain counter equals -J sum s_i s_{i+1} - h sum s_i over all states."""
    bonds = chain_bonds(n, periodic)
    e, _, _ = brute(n, bonds, J, h)
    got = _enumerate.energies(lambda x: _enumerate.chain_counts(x, n, periodic), n, len(bonds), J, h)
    np.testing.assert_allclose(got, e, rtol=1e-14, atol=1e-12)


def test_energies_hand_cases():
    """Worked by hand: 2x2 torus (8 bonds) all up is -8J - 4h, all down -8J + 4h."""
    J, h = 1.0, 0.5
    e = _enumerate.energies(lambda x: _enumerate.lattice_counts(x, 2, 2), 4, 8, J, h)
    assert e[0] == -8 * J - 4 * h
    assert e[0b1111] == -8 * J + 4 * h
    assert e.min() == -10.0


def test_energies_cross_chunk_boundary(monkeypatch):
    """Chunked filling puts each chunk's energies at its own offset (tiny chunks forced)."""
    monkeypatch.setattr(_enumerate, "_CHUNK", 7)
    n, J, h = 6, 0.8, -0.3
    e, _, _ = brute(n, chain_bonds(n, True), J, h)
    got = _enumerate.energies(lambda x: _enumerate.chain_counts(x, n, True), n, n, J, h)
    np.testing.assert_allclose(got, e, rtol=1e-14, atol=1e-12)
    hist = _enumerate.histogram(lambda x: _enumerate.chain_counts(x, n, True), n, n)
    assert hist.sum() == 1 << n


def brute_histogram(n, bonds):
    _, unsat, down = brute(n, bonds, 1.0, 0.0)
    hist = np.zeros((len(bonds) + 1, n + 1), dtype=np.int64)
    for u, d in zip(unsat, down, strict=True):
        hist[u, d] += 1
    return hist


@pytest.mark.parametrize("rows, cols", LATTICES)
def test_lattice_histogram_matches_enumeration(rows, cols):
    """histogram H[u, d] of the torus counts states by (unsatisfied bonds, down spins) exactly."""
    n = rows * cols
    got = _enumerate.histogram(lambda x: _enumerate.lattice_counts(x, rows, cols), n, 2 * n)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, brute_histogram(n, torus_bonds(rows, cols)))


@pytest.mark.parametrize("n, periodic", CHAINS)
def test_chain_histogram_matches_enumeration(n, periodic):
    """histogram H[u, d] of the chain counts states by (unsatisfied bonds, down spins) exactly."""
    bonds = chain_bonds(n, periodic)
    got = _enumerate.histogram(lambda x: _enumerate.chain_counts(x, n, periodic), n, len(bonds))
    np.testing.assert_array_equal(got, brute_histogram(n, bonds))


def test_histogram_hand_case():
    """Worked by hand: H[u, d] of the open 3-chain, listing its 8 states."""
    got = _enumerate.histogram(lambda x: _enumerate.chain_counts(x, 3, False), 3, 2)
    # u=0: +++ (d=0), --- (d=3); u=1: ++-, -++ (d=1), --+, +-- (d=2); u=2: +-+ (d=1), -+- (d=2)
    expected = np.array([[1, 0, 0, 1], [0, 2, 2, 0], [0, 1, 1, 0]])
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got.sum(axis=0), [1, 3, 3, 1])


def test_max_sites():
    """MAX_SITES is the documented 25-site limit of enumeration (2^25 states)."""
    assert _enumerate.MAX_SITES == 25
