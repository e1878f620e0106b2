"""Density of states: a spectrum with log-degeneracies, and its Laplace transform.

``Z(beta) = sum_E g(E) exp(-beta E)`` is the (discrete) Laplace transform of the density of
states; the microcanonical entropy is ``S(E) = log g(E)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from freeenergy._params import InputError, fail
from freeenergy.spectra import thermo

__all__ = ["DensityOfStates"]


@dataclass(frozen=True, eq=False)
class DensityOfStates:
    """Energy levels with the natural log of their degeneracies.

    Parameters
    ----------
    energies : array_like, shape (n,)
        Distinct energy levels (energy units, k_B = 1).
    log_g : array_like, shape (n,)
        ``log g(E)`` in nats (the microcanonical entropy); ``-inf`` for a level with g = 0.

    Examples
    --------
    >>> import numpy as np, freeenergy as fe
    >>> dos = fe.DensityOfStates([-1.0, 1.0], np.log([1.0, 3.0]))
    >>> dos.ground_state, round(float(dos.log_partition(T=np.inf)), 6)  # log 4
    (-1.0, 1.386294)
    """

    energies: np.ndarray
    log_g: np.ndarray

    def __post_init__(self) -> None:
        # Validate once here; the thermodynamic calls below then trust the arrays.
        _e, _lg = thermo.validate_spectrum(self.energies, self.log_g, "DensityOfStates")
        order = np.argsort(np.asarray(self.energies, dtype=np.float64), kind="stable")
        energies = np.asarray(self.energies, dtype=np.float64)[order]
        log_g = np.asarray(self.log_g, dtype=np.float64)[order]
        if np.any(np.diff(energies) == 0):
            raise fail("energies", "DensityOfStates", "distinct levels", energies)
        energies.flags.writeable = False
        log_g.flags.writeable = False
        object.__setattr__(self, "energies", energies)
        object.__setattr__(self, "log_g", log_g)

    @classmethod
    def from_counts(cls, energies: Sequence[float], counts: Sequence[int]) -> DensityOfStates:
        """Build from exact (possibly huge) integer counts; ``log`` is taken exactly per int."""
        if len(energies) != len(counts):
            raise InputError(
                "The 'counts' parameter of DensityOfStates.from_counts must have one entry per "
                f"energy ({len(energies)}). Got {len(counts)} instead."
            )
        if any(int(c) < 0 for c in counts):
            raise fail("counts", "DensityOfStates.from_counts", "non-negative integers", counts)
        log_g = [math.log(int(c)) if int(c) > 0 else -math.inf for c in counts]
        return cls(np.asarray(energies, dtype=np.float64), np.asarray(log_g))

    @classmethod
    def from_samples(cls, energies: object) -> DensityOfStates:
        """Histogram a list of state energies (one entry per state) into distinct levels."""
        e = np.asarray(energies, dtype=np.float64)
        if e.ndim != 1 or e.size == 0 or not np.isfinite(e).all():
            raise fail("energies", "DensityOfStates.from_samples", "a finite non-empty 1-D array", e)
        levels, counts = np.unique(e, return_counts=True)
        return cls(levels, np.log(counts))

    @property
    def ground_state(self) -> float:
        """Lowest energy with non-zero degeneracy."""
        return float(self.energies[np.argmax(self.log_g > -np.inf)])

    @property
    def log_total(self) -> float:
        """``log sum g``: the log of the number of states (log Z at T = inf)."""
        return float(np.logaddexp.reduce(self.log_g))

    def log_partition(self, *, T=None, beta=None) -> float | np.ndarray:
        """``log Z``; see :func:`freeenergy.log_partition`."""
        return thermo.log_partition(self.energies, T=T, beta=beta, log_degeneracy=self.log_g)

    def free_energy(self, *, T=None, beta=None) -> float | np.ndarray:
        """``F = -T log Z``; see :func:`freeenergy.free_energy`."""
        return thermo.free_energy(self.energies, T=T, beta=beta, log_degeneracy=self.log_g)

    def thermodynamics(self, *, T=None, beta=None) -> thermo.Thermodynamics:
        """All functions on a temperature grid; see :func:`freeenergy.thermodynamics`."""
        return thermo.thermodynamics(self.energies, T=T, beta=beta, log_degeneracy=self.log_g)
