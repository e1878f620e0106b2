"""freeenergy: compute, bound and learn with free energies.

The public API is flat: ``import freeenergy as fe`` then ``fe.log_partition``,
``fe.thermodynamics``, ``fe.DensityOfStates``, ``fe.IsingLattice`` and so on.
Conventions (k_B = 1, energies are minimised, nats) are in the README.
"""

from freeenergy.dos import DensityOfStates
from freeenergy.models import (
    IsingChain,
    IsingLattice,
    critical_temperature,
    onsager_free_energy,
)
from freeenergy.thermo import Thermodynamics, free_energy, log_partition, thermodynamics

__version__ = "0.1.0"

__all__ = [
    "DensityOfStates",
    "IsingChain",
    "IsingLattice",
    "Thermodynamics",
    "__version__",
    "critical_temperature",
    "free_energy",
    "log_partition",
    "onsager_free_energy",
    "thermodynamics",
]
