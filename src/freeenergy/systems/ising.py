"""Exactly solvable Ising models: the chain and the periodic square lattice.

Energies (k_B = 1, spins ``s_i = +-1``, energies are what is minimised):

* :class:`IsingChain` (in :mod:`freeenergy.systems.chain`): ``E = -J sum_i s_i s_{i+1} -
  h sum_i s_i`` (ring or open chain), exact at any size by the 2x2 transfer matrix (e.g. Baxter,
  *Exactly Solved Models in Statistical Mechanics*, ch. 2).
* :class:`IsingLattice`: ``E = -J sum_<ij> s_i s_j - h sum_i s_i`` over the ``2 N`` bonds of a
  ``rows x cols`` torus (each site to its right and down neighbour, with wrap-around), exact at
  zero field by Kaufman's product formula (Phys. Rev. 76, 1232 (1949)) and by the exact density
  of states (Beale, Phys. Rev. Lett. 76, 78 (1996)).

For enumeration, state ``x`` has spin ``i`` equal to ``-1`` exactly when bit ``i`` of ``x`` is set
(lattice site ``(r, c)`` is spin ``r * cols + c``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from freeenergy._params import InputError, check_int, check_real
from freeenergy.spectra import thermo
from freeenergy.spectra.dos import DensityOfStates
from freeenergy.systems import _enumerate
from freeenergy.systems._common import IsingBase, check_spins, group_levels
from freeenergy.systems.beale import bond_counts
from freeenergy.systems.chain import IsingChain
from freeenergy.systems.kaufman import kaufman_log_partition

__all__ = ["DOS_MAX_SITES", "IsingChain", "IsingLattice"]

# The exact density of states (Beale) grows steeply in cost with L: 64 x 64 is the largest offered.
DOS_MAX_SITES = 64 * 64
# Above this coupling K = |J| / T, log Z = 2 N K + log 2 to double precision (next level e^{-8K}).
_K_GROUND = 50.0


class IsingLattice(IsingBase):
    """Square-lattice Ising model on a periodic ``rows x cols`` torus.

    ``E(s) = -J sum_<ij> s_i s_j - h sum_i s_i``, the bond sum running over the ``2 N`` pairs of
    each site with its right and its down neighbour (indices wrap around; with a side of 2 the
    two sites along it are joined twice, as in Kaufman's formula).

    Exact methods:

    * :meth:`log_partition` at ``h = 0``: Kaufman's (1949) product formula, any size, in log-space
      (accurate at 256 x 256 near T_c). It needs ``J >= 0``, or both sides even (a bipartite
      torus, where ``Z(J) = Z(-J)``); a frustrated antiferromagnet (``J < 0``, an odd side) and
      ``h != 0`` go through the exact density of states / enumeration instead, when small enough.
    * :meth:`density_of_states` at ``h = 0``: exact integer counts for tori up to
      ``DOS_MAX_SITES`` spins (Beale 1996; 32 x 32 takes about half a second), and by brute-force
      enumeration for ``N <= 25`` spins at any field.
    * :meth:`thermodynamics` from the exact density of states.

    Parameters
    ----------
    rows, cols : int
        Torus dimensions, each >= 2.
    J : float
        Coupling (energy units); ``J > 0`` is ferromagnetic.
    h : float
        External field (energy units).

    Examples
    --------
    >>> import freeenergy as fe
    >>> lat = fe.IsingLattice(4, 4)
    >>> round(lat.log_partition(T=fe.critical_temperature(), per_site=True), 6)
    0.97012
    >>> lat.free_energy(T=0.0, per_site=True)
    -2.0
    """

    _owner = "IsingLattice"

    def __init__(self, rows: int, cols: int, J: float = 1.0, h: float = 0.0):
        self.rows = check_int("rows", rows, "IsingLattice", 2)
        self.cols = check_int("cols", cols, "IsingLattice", 2)
        self.J = check_real("J", J, "IsingLattice")
        self.h = check_real("h", h, "IsingLattice")
        self._levels: tuple[np.ndarray, list[int]] | None = None
        self._dos: DensityOfStates | None = None

    def __repr__(self) -> str:
        return f"IsingLattice(rows={self.rows}, cols={self.cols}, J={self.J}, h={self.h})"

    @property
    def n_sites(self) -> int:
        """Number of spins ``N = rows * cols``."""
        return self.rows * self.cols

    @property
    def _bipartite(self) -> bool:
        return self.rows % 2 == 0 and self.cols % 2 == 0

    @property
    def _kaufman_applies(self) -> bool:
        return self.h == 0 and (self.J >= 0 or self._bipartite)

    @property
    def ground_state_energy(self) -> float:
        """Exact ground-state energy ``E0`` (energy units).

        Closed forms for ``J >= 0`` (all spins along h) and for the bipartite antiferromagnet
        (Neel state or saturated, ``min(-2N|J|, 2N|J| - N|h|)``); otherwise from the exact
        density of states.
        """
        n, J, h = self.n_sites, self.J, abs(self.h)
        if J >= 0:
            return -2.0 * n * J - n * h
        if self._bipartite:
            return min(-2.0 * n * abs(J), 2.0 * n * abs(J) - n * h)
        return self.density_of_states().ground_state

    def energy(self, states) -> np.ndarray:
        """Energy of each configuration.

        Parameters
        ----------
        states : array_like of +-1, shape (..., rows, cols) or (..., rows * cols)
            Spin configurations (row-major when flat).

        Returns
        -------
        ndarray, shape (...)
            Energies (energy units).
        """
        shapes = [(self.rows, self.cols), (self.n_sites,)]
        s = check_spins(states, "IsingLattice.energy", shapes, self.n_sites)
        s = s.reshape(*s.shape[:-1], self.rows, self.cols).astype(np.float64)
        bonds = s * np.roll(s, -1, axis=-1) + s * np.roll(s, -1, axis=-2)
        return -self.J * bonds.sum(axis=(-2, -1)) - self.h * s.sum(axis=(-2, -1))

    def _counter(self, x):
        return _enumerate.lattice_counts(x, self.rows, self.cols)

    def _check_enumerable(self, owner: str, why: str = "") -> None:
        if self.n_sites > _enumerate.MAX_SITES:
            raise InputError(
                f"{owner} enumerates all 2^N states, so it needs rows * cols <= "
                f"{_enumerate.MAX_SITES}{why}. Got {self.rows} x {self.cols} = {self.n_sites}."
            )

    def enumerate_energies(self) -> np.ndarray:
        """Energies of all ``2^N`` states (``N <= 25``; 5 x 5 is 33.5 M states, 268 MB).

        Entry ``x`` belongs to the state whose spin ``i`` is -1 iff bit ``i`` of ``x`` is set.
        """
        self._check_enumerable("IsingLattice.enumerate_energies")
        return _enumerate.energies(self._counter, self.n_sites, 2 * self.n_sites, self.J, self.h)

    def exact_counts(self) -> tuple[np.ndarray, list[int]]:
        """Distinct energy levels and their exact (Python int) degeneracies.

        At ``h = 0`` by Beale's method (``N <= DOS_MAX_SITES``); with a field by enumeration
        (``N <= 25``). Levels of zero degeneracy are left out. Cached on the instance.

        Returns
        -------
        energies : ndarray of float64, shape (k,)
            Increasing energy levels.
        counts : list of int
            Their exact degeneracies; they sum to ``2^N``.

        Examples
        --------
        >>> import freeenergy as fe
        >>> fe.IsingLattice(2, 2).exact_counts()[1]
        [2, 12, 2]
        """
        if self._levels is None:
            n, J, h = self.n_sites, Fraction(self.J), Fraction(self.h)
            if self.h == 0:
                if n > DOS_MAX_SITES:
                    raise InputError(
                        f"IsingLattice.exact_counts needs rows * cols <= {DOS_MAX_SITES} (64 x 64 "
                        f"takes ~25 s). Got {self.rows} x {self.cols} = {n}."
                    )
                counts = bond_counts(self.rows, self.cols)
                pairs = ((-J * (2 * n - 4 * i), c) for i, c in enumerate(counts))
            else:
                self._check_enumerable("IsingLattice.exact_counts", " when h != 0")
                hist = _enumerate.histogram(self._counter, n, 2 * n)
                pairs = (
                    (-J * (2 * n - 2 * u) - h * (n - 2 * d), int(hist[u, d]))
                    for u, d in zip(*np.nonzero(hist), strict=True)
                )
            self._levels = group_levels(pairs)
        return self._levels

    def density_of_states(self) -> DensityOfStates:
        """The exact density of states (see :meth:`exact_counts`), cached on the instance."""
        if self._dos is None:
            energies, counts = self.exact_counts()
            self._dos = DensityOfStates.from_counts(energies, counts)
        return self._dos

    def _kaufman(self, beta_arr: np.ndarray) -> np.ndarray:
        n = self.n_sites
        out = np.full(beta_arr.shape, n * math.log(2.0))
        if self.J == 0:
            return out
        K = beta_arr * abs(self.J)
        frozen = K > _K_GROUND
        out[frozen] = 2.0 * n * K[frozen] + math.log(2.0)  # +inf at T = 0
        live = ~frozen
        out[live] = kaufman_log_partition(self.rows, self.cols, K[live])
        return out

    def log_partition(self, *, T=None, beta=None, per_site: bool = False):
        """Exact ``log Z`` in nats (``log Z / N`` with ``per_site=True``).

        Parameters
        ----------
        T, beta : float or array_like, shape (k,)
            Exactly one, >= 0 (k_B = 1). ``T = inf`` gives ``N log 2``; ``T = 0`` gives
            ``-beta E0 + log g0``, i.e. ``+inf`` whenever ``E0 < 0``.
        per_site : bool
            Divide by the number of spins.

        Returns
        -------
        float or ndarray

        Raises
        ------
        ValueError
            When no exact method applies: ``h != 0`` with more than 25 spins, or a frustrated
            antiferromagnet (``J < 0`` with an odd side) larger than ``DOS_MAX_SITES``.
        """
        _, beta_arr, is_scalar = self._temps(T, beta, "log_partition")
        if self._kaufman_applies:
            log_z = self._kaufman(beta_arr)
        else:
            self._check_exact("log_partition")
            log_z = self.density_of_states().log_partition(beta=beta_arr)
        return self._scale(log_z, is_scalar, per_site)

    def _check_exact(self, owner: str) -> None:
        if self.h != 0:
            self._check_enumerable(
                f"IsingLattice.{owner}", " when h != 0 (no exact formula is known in a field)"
            )
        elif self.n_sites > DOS_MAX_SITES:
            why = "" if self._kaufman_applies else "; Kaufman's formula needs J >= 0 or even sides"
            raise InputError(
                f"IsingLattice.{owner} needs rows * cols <= {DOS_MAX_SITES} here (it uses the "
                f"exact density of states{why}). Got {self.rows} x {self.cols} = {self.n_sites}."
            )

    def _free_energy(self, T_arr, beta_arr) -> np.ndarray:
        if not self._kaufman_applies:
            self._check_exact("free_energy")
            return np.atleast_1d(self.density_of_states().free_energy(beta=beta_arr))
        log_z = self._kaufman(beta_arr)
        zero = beta_arr == np.inf
        with np.errstate(invalid="ignore"):
            f = np.where(zero, self.ground_state_energy, -T_arr * log_z)
        return f

    def _thermo(self, T_arr, beta_arr, from_t: bool) -> thermo.Thermodynamics:
        self._check_exact("thermodynamics")
        dos = self.density_of_states()
        return dos.thermodynamics(T=T_arr) if from_t else dos.thermodynamics(beta=beta_arr)
