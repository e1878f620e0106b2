"""Exact density of states of the periodic square-lattice Ising model (Beale's method).

P. D. Beale, "Exact distribution of energies in the two-dimensional Ising model",
Phys. Rev. Lett. 76, 78 (1996), expands Kaufman's (1949) partition function as a polynomial
in ``x = exp(-2K)``. Distributing Kaufman's prefactor ``(2 sinh 2K)^{N/2} = ((1 - x^2)/x)^{N/2}``
over the ``n`` factors of each product (``m = rows``, ``n = cols``, ``N = m n``) gives
polynomial factors:

* ``l = 0``: ``(1 - x)^m +- x^m (1 + x)^m``; ``l = n``: ``(1 + x)^m +- x^m (1 - x)^m``
  (``+`` in the cosh products, ``-`` in the sinh products),
* each pair ``l, 2n - l`` (equal gammas, same parity): ``(U_m +- D^m) / 2^{m-1}`` with
  ``D = 2 x (1 - x^2)``, ``A_l = (1 + x^2)^2 - D cos(pi l / n)`` and ``U_k = D^k T_k(A_l / D)``
  (``U_0 = 1``, ``U_1 = A_l``, ``U_{k+1} = 2 A_l U_k - D^2 U_{k-1}``),

and ``Q(x) = x^N Z = 1/2 (sum of the four products) = sum_k G_k x^k`` where ``G_k`` is the
number of states with ``k`` unsatisfied bonds (energy ``-J (2N - 2k)``). Only even ``k`` occur,
so ``Q(x) = P(x^2)`` with ``deg P <= N``.

Instead of Beale's exact symbolic algebra, ``P`` is evaluated exactly modulo primes
``p = 1 (mod lcm(2M, 2n))``, where ``cos(pi l / n)`` and the ``M``-th roots of unity exist in
``F_p`` (``M`` a power of two ``> N``); an inverse number-theoretic transform gives
``G_k mod p`` and the Chinese remainder theorem the integers. Every step is exact integer
arithmetic; the result is checked (no coefficient beyond degree ``N``, sum ``2^N``, the
bipartite symmetry ``G_k = G_{2N-k}`` for even sides) before it is returned.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["bond_counts"]

_P_MAX = 2**31  # residues < 2^31, so products of two fit in int64


def _is_prime(p: int) -> bool:
    """Deterministic Miller-Rabin for p < 3.2e9 (bases 2, 3, 5, 7)."""
    if p < 2:
        return False
    for q in (2, 3, 5, 7):
        if p % q == 0:
            return p == q
    d, s = p - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in (2, 3, 5, 7):
        x = pow(a, d, p)
        if x in (1, p - 1):
            continue
        for _ in range(s - 1):
            x = x * x % p
            if x == p - 1:
                break
        else:
            return False
    return True


def _prime_factors(n: int) -> list[int]:
    out, q = [], 2
    while q * q <= n:
        if n % q == 0:
            out.append(q)
            while n % q == 0:
                n //= q
        q += 1
    return out + ([n] if n > 1 else [])


def _primes(modulus: int, bits: int) -> list[int]:
    """Primes ``p = 1 (mod modulus)`` below 2^31 whose product exceeds ``2^bits``."""
    out, total = [], 0.0
    k = (_P_MAX - 2) // modulus
    while total <= bits:
        if k < 1:
            raise RuntimeError("ran out of NTT primes; the lattice is too large for bond_counts")
        p = k * modulus + 1
        if _is_prime(p):
            out.append(p)
            total += math.log2(p)
        k -= 1
    return out


def _root_of_unity(order: int, p: int) -> int:
    """A primitive ``order``-th root of unity mod p (``order`` divides p - 1)."""
    factors = _prime_factors(order)
    for a in range(2, p):
        r = pow(a, (p - 1) // order, p)
        if all(pow(r, order // q, p) != 1 for q in factors):
            return r
    raise RuntimeError(f"no primitive {order}-th root of unity mod {p}")


def _powers(g: int, count: int, p: int) -> np.ndarray:
    """``g^0 .. g^{count-1} mod p`` as int64, by doubling."""
    out = np.ones(count, dtype=np.int64)
    size = 1
    while size < count:
        step = min(size, count - size)
        out[size : size + step] = out[:step] * pow(g, size, p) % p
        size += step
    return out


def _pow(a: np.ndarray, e: int, p: int) -> np.ndarray:
    result = np.ones_like(a)
    base = a.copy()
    while e:
        if e & 1:
            result = result * base % p
        base = base * base % p
        e >>= 1
    return result


def _chebyshev(A: np.ndarray, D: np.ndarray, m: int, p: int) -> np.ndarray:
    """``U_m = D^m T_m(A / D) mod p`` by the doubling ladder (O(log m) steps).

    ``U_{2k} = 2 U_k^2 - D^{2k}``, ``U_{2k+1} = 2 U_{k+1} U_k - A D^{2k}``,
    ``U_{2k+2} = 2 U_{k+1}^2 - D^{2k+2}``.
    """
    u0, u1 = np.ones_like(A), A.copy()
    dk = np.ones_like(D)
    d2 = D * D % p
    for bit in bin(m)[2:]:
        d2k = dk * dk % p
        odd = (2 * (u1 * u0 % p) - A * d2k % p) % p
        if bit == "0":
            u0, u1 = (2 * (u0 * u0 % p) - d2k) % p, odd
            dk = d2k
        else:
            u0, u1 = odd, (2 * (u1 * u1 % p) - d2k * d2 % p) % p
            dk = d2k * D % p
    return u0


def _ntt(a: np.ndarray, root: int, p: int) -> np.ndarray:
    """Radix-2 number-theoretic transform ``b_i = sum_j a_j root^{ij} mod p``."""
    size = a.size
    levels = size.bit_length() - 1
    idx = np.arange(size)
    rev = np.zeros(size, dtype=np.int64)
    for b in range(levels):
        rev |= ((idx >> b) & 1) << (levels - 1 - b)
    a = a[rev].copy()
    pw = _powers(root, max(size // 2, 1), p)
    half = 1
    while half < size:
        tw = pw[:: size // (2 * half)][:half]
        blocks = a.reshape(-1, 2 * half)
        u = blocks[:, :half]
        v = blocks[:, half:] * tw % p
        a = np.concatenate([(u + v) % p, (u - v) % p], axis=1).ravel()
        half *= 2
    return a


def _residues(m: int, n: int, n_points: int, modulus: int, p: int) -> np.ndarray:
    """``G_{2i} mod p`` for ``i = 0 .. n_points - 1`` (``n_points = M``)."""
    g = _root_of_unity(modulus, p)
    zeta = pow(g, modulus // (2 * n_points), p)  # primitive 2M-th root: x_j = zeta^j
    x = _powers(zeta, n_points, p)
    inv2 = pow(2, -1, p)
    x2 = x * x % p
    D = 2 * x * ((1 - x2) % p) % p
    base = (1 + x2) ** 2 % p
    rho = pow(g, modulus // (2 * n), p)  # primitive 2n-th root: cos(pi l/n) = (rho^l + rho^-l)/2
    ls = np.arange(1, n)
    cos = np.array([(pow(rho, int(k), p) + pow(rho, -int(k), p)) * inv2 % p for k in ls])
    A = (base[None, :] - cos[:, None] * D[None, :] % p) % p
    U = _chebyshev(A, np.broadcast_to(D, A.shape), m, p)
    Dm = _pow(D, m, p)
    scale = pow(pow(2, m - 1, p), -1, p)
    pair_c = (U + Dm) % p * scale % p
    pair_s = (U - Dm) % p * scale % p
    xm, lo, hi = _pow(x, m, p), _pow((1 - x) % p, m, p), _pow((1 + x) % p, m, p)
    ends = {  # (l = 0 factor, l = n factor) for the cosh (+) and sinh (-) products
        1: ((lo + xm * hi) % p, (hi + xm * lo) % p),
        -1: ((lo - xm * hi) % p, (hi - xm * lo) % p),
    }
    total = np.zeros(n_points, dtype=np.int64)
    for sign, pair in ((1, pair_c), (-1, pair_s)):
        f0, fn = ends[sign]
        for parity in (1, 0):  # odd l (Z1, Z2), even l (Z3, Z4)
            prod = f0.copy() if parity == 0 else np.ones(n_points, dtype=np.int64)
            if n % 2 == parity:
                prod = prod * fn % p
            for row in np.flatnonzero(ls % 2 == parity):
                prod = prod * pair[row] % p
            total = (total + prod) % p
    values = total * inv2 % p  # P(omega^j), omega = zeta^2
    omega_inv = pow(zeta * zeta % p, -1, p)
    return _ntt(values, omega_inv, p) * pow(n_points, -1, p) % p


def _crt(residues: list[np.ndarray], primes: list[int]) -> list[int]:
    """Chinese remaindering (Garner, vectorised over coefficients) to non-negative ints."""
    x = residues[0].astype(object)
    mod = primes[0]
    for r, p in zip(residues[1:], primes[1:], strict=True):
        t = (r - (x % p).astype(np.int64)) % p * pow(mod % p, -1, p) % p
        x = x + t.astype(object) * mod
        mod *= p
    return [int(v) for v in x]


def bond_counts(rows: int, cols: int) -> list[int]:
    """Exact numbers of states of the periodic ``rows x cols`` torus by unsatisfied bonds.

    Parameters
    ----------
    rows, cols : int
        Torus dimensions, >= 2 (validated by the caller).

    Returns
    -------
    list of int, length ``N + 1``
        Entry ``i`` is the number of spin configurations with ``k = 2 i`` unsatisfied bonds,
        i.e. with ``sum_<ij> s_i s_j = 2N - 4 i`` (energy ``-J (2N - 4 i)`` at zero field).

    Raises
    ------
    RuntimeError
        If the self-checks fail (a bug, never a property of the input).
    """
    n_sites = rows * cols
    n_points = 1 << n_sites.bit_length()  # power of two > N
    modulus = math.lcm(2 * n_points, 2 * cols)
    primes = _primes(modulus, n_sites + 64)
    residues = [_residues(rows, cols, n_points, modulus, p) for p in primes]
    if any(r[n_sites + 1 :].any() for r in residues):
        raise RuntimeError("bond_counts self-check failed: P(x) has degree > N")
    counts = _crt([r[: n_sites + 1] for r in residues], primes)
    ok = sum(counts) == 2**n_sites and counts[0] == 2
    if rows % 2 == 0 and cols % 2 == 0:
        ok = ok and counts == counts[::-1]
    if not ok:
        raise RuntimeError("bond_counts self-check failed (sum, ground state or symmetry)")
    return counts
