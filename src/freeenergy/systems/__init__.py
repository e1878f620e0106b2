"""Exact reference systems with given energies: the Ising chain (transfer matrix) and the periodic
square lattice (Kaufman's product formula, Beale's exact density of states, Onsager's limit).
"""

from freeenergy.systems.ising import IsingChain, IsingLattice
from freeenergy.systems.kaufman import critical_temperature, onsager_free_energy

__all__ = ["IsingChain", "IsingLattice", "critical_temperature", "onsager_free_energy"]
