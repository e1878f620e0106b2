"""The one-dimensional Ising model, exact by its 2x2 transfer matrix."""

from __future__ import annotations

import math

import numpy as np

from freeenergy._params import check_int, check_real, fail
from freeenergy.spectra import thermo
from freeenergy.systems import _enumerate
from freeenergy.systems._common import IsingBase, check_spins, zero_temperature_log_z
from freeenergy.systems._transfer import chain_ground_state, chain_jets

__all__ = ["IsingChain"]


class IsingChain(IsingBase):
    """One-dimensional Ising model, solved exactly by its 2x2 transfer matrix.

    ``E(s) = -J sum_i s_i s_{i+1} - h sum_i s_i`` with ``s_i = +-1``; the sum over bonds runs over
    ``i = 0 .. n-1`` with ``s_n = s_0`` (``periodic=True``, a ring of ``n`` bonds; for ``n = 2``
    the two sites are joined twice) or over ``i = 0 .. n-2`` (open chain, ``n - 1`` bonds).

    ``Z = Tr M^n`` (ring) or ``v^T M^{n-1} v`` (open) with ``M(s, s') = exp(beta (J s s' +
    h (s + s') / 2))``; for the ring this is ``lambda_+^n + lambda_-^n``. The product is taken in
    log-space together with its beta-derivatives, so ``U`` and ``C`` are exact too, for either
    sign of J and h. ``T = 0`` is exact: the ground state and its degeneracy come from the same
    product in the (min, +) semiring with rational arithmetic (e.g. ``g0 = 2`` at h = 0; ``2n``
    for an odd antiferromagnetic ring).

    Parameters
    ----------
    n : int
        Number of spins, >= 2.
    J : float
        Coupling (energy units); ``J > 0`` is ferromagnetic.
    h : float
        External field (energy units).
    periodic : bool
        Ring (default) or open chain.

    Examples
    --------
    >>> import numpy as np, freeenergy as fe
    >>> chain = fe.IsingChain(10, J=1.0)
    >>> lp, lm = 2 * np.cosh(1.0), 2 * np.sinh(1.0)  # eigenvalues at T = 1, h = 0
    >>> bool(np.isclose(chain.log_partition(T=1.0), np.log(lp**10 + lm**10)))
    True
    >>> chain.free_energy(T=0.0), chain.ground_state_degeneracy
    (-10.0, 2)
    """

    _owner = "IsingChain"

    def __init__(self, n: int, J: float = 1.0, h: float = 0.0, periodic: bool = True):
        self.n = check_int("n", n, "IsingChain", 2)
        self.J = check_real("J", J, "IsingChain")
        self.h = check_real("h", h, "IsingChain")
        if not isinstance(periodic, (bool, np.bool_)):
            raise fail("periodic", "IsingChain", "True or False", periodic)
        self.periodic = bool(periodic)
        self._ground = None

    def __repr__(self) -> str:
        return f"IsingChain(n={self.n}, J={self.J}, h={self.h}, periodic={self.periodic})"

    @property
    def n_sites(self) -> int:
        """Number of spins."""
        return self.n

    @property
    def n_bonds(self) -> int:
        """Number of bonds: ``n`` on the ring, ``n - 1`` on the open chain."""
        return self.n if self.periodic else self.n - 1

    def _ground_state(self) -> tuple[float, int]:
        if self._ground is None:
            self._ground = chain_ground_state(self.n, self.J, self.h, self.periodic)
        return self._ground

    @property
    def ground_state_energy(self) -> float:
        """Exact ground-state energy ``E0`` (energy units)."""
        return self._ground_state()[0]

    @property
    def ground_state_degeneracy(self) -> int:
        """Exact number of ground states ``g0``."""
        return self._ground_state()[1]

    def energy(self, states) -> np.ndarray:
        """Energy of each configuration: array ``(..., n)`` of +-1 -> array ``(...)``."""
        s = check_spins(states, "IsingChain.energy", [(self.n,)], self.n).astype(np.float64)
        nxt = np.roll(s, -1, axis=-1) if self.periodic else s[..., 1:]
        bonds = np.sum(s[..., : nxt.shape[-1]] * nxt, axis=-1)
        return -self.J * bonds - self.h * np.sum(s, axis=-1)

    def enumerate_energies(self) -> np.ndarray:
        """Energies of all ``2^n`` states (``n <= 25``), indexed by the bit encoding above."""
        if self.n > _enumerate.MAX_SITES:
            raise fail("n", "IsingChain.enumerate_energies", "<= 25 for enumeration", self.n)

        def counter(x):
            return _enumerate.chain_counts(x, self.n, self.periodic)

        return _enumerate.energies(counter, self.n, self.n_bonds, self.J, self.h)

    def _arrays(self, T_arr, beta_arr) -> dict[str, np.ndarray]:
        out = {k: np.empty(beta_arr.shape) for k in ("log_z", "f", "u", "s", "c")}
        zero = beta_arr == np.inf
        if zero.any():
            e0, g0 = self._ground_state()
            log_g0 = math.log(g0)
            out["log_z"][zero] = zero_temperature_log_z(np.inf, e0, log_g0)
            out["f"][zero], out["u"][zero], out["s"][zero], out["c"][zero] = e0, e0, log_g0, 0.0
        live = ~zero
        if live.any():
            b, t = beta_arr[live], T_arr[live]
            e0, lzr, excess, var = chain_jets(self.n, self.J, self.h, self.periodic, b)
            with np.errstate(over="ignore", invalid="ignore"):
                out["log_z"][live] = lzr - b * e0
                out["f"][live] = np.where(b == 0, -np.inf, e0 - t * lzr)
                out["c"][live] = np.square(b * np.sqrt(var))
            out["u"][live] = e0 + excess
            out["s"][live] = lzr + b * excess
        return out

    def _thermo(self, T_arr, beta_arr, _from_t) -> thermo.Thermodynamics:
        a = self._arrays(T_arr, beta_arr)
        return thermo.Thermodynamics(
            T=T_arr,
            beta=beta_arr,
            log_z=a["log_z"],
            free_energy=a["f"],
            energy=a["u"],
            entropy=a["s"],
            heat_capacity=a["c"],
        )

    def _free_energy(self, T_arr, beta_arr) -> np.ndarray:
        return self._arrays(T_arr, beta_arr)["f"]

    def log_partition(self, *, T=None, beta=None, per_site: bool = False):
        """Exact ``log Z`` in nats (``log Z / n`` with ``per_site=True``).

        Parameters
        ----------
        T, beta : float or array_like, shape (k,)
            Exactly one, >= 0. ``T = inf`` gives ``n log 2``; ``T = 0`` gives
            ``-beta E0 + log g0``, i.e. ``+inf`` when ``E0 < 0``.
        per_site : bool
            Divide by the number of spins.

        Returns
        -------
        float or ndarray
        """
        T_arr, beta_arr, is_scalar = self._temps(T, beta, "log_partition")
        return self._scale(self._arrays(T_arr, beta_arr)["log_z"], is_scalar, per_site)
