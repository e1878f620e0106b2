"""Exactly solvable and learnable energy models.

Ising models (:mod:`freeenergy.models.ising`): :class:`IsingChain` (transfer matrix),
:class:`IsingLattice` (Kaufman's finite-torus product formula and the exact density of states),
:func:`onsager_free_energy` and :func:`critical_temperature` for the infinite square lattice.

Restricted Boltzmann machines (:mod:`freeenergy.models.rbm`, torch modules):
:class:`BernoulliRBM`, :class:`GaussianBernoulliRBM`, saved with ``model.save`` and read back
with :func:`load_model`.
"""

from freeenergy._lazy import lazy_attributes
from freeenergy.models.ising import IsingChain, IsingLattice
from freeenergy.models.kaufman import critical_temperature, onsager_free_energy

_TORCH_NAMES = dict.fromkeys(("BernoulliRBM", "GaussianBernoulliRBM", "load_model"), "freeenergy.models.rbm")
__getattr__ = lazy_attributes(__name__, _TORCH_NAMES)

__all__ = ["IsingChain", "IsingLattice", "critical_temperature", "onsager_free_energy", *_TORCH_NAMES]
