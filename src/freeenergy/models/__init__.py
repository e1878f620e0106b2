"""Exactly solvable and learnable energy models.

Ising models (:mod:`freeenergy.models.ising`): :class:`IsingChain` (transfer matrix),
:class:`IsingLattice` (Kaufman's finite-torus product formula and the exact density of states),
:func:`onsager_free_energy` and :func:`critical_temperature` for the infinite square lattice.

Torch models, imported on first use: restricted Boltzmann machines (:mod:`freeenergy.models.rbm`:
:class:`BernoulliRBM`, :class:`GaussianBernoulliRBM`), the Helmholtz machine
(:mod:`freeenergy.models.helmholtz`) and the variational autoencoder (:mod:`freeenergy.models.vae`).
Each is saved with ``model.save(path)`` and read back with :func:`load_model`.
"""

from freeenergy._lazy import lazy_attributes
from freeenergy.models.ising import IsingChain, IsingLattice
from freeenergy.models.kaufman import critical_temperature, onsager_free_energy

_TORCH_NAMES = {
    "BernoulliRBM": "freeenergy.models.rbm",
    "GaussianBernoulliRBM": "freeenergy.models.rbm",
    "HelmholtzMachine": "freeenergy.models.helmholtz",
    "VAE": "freeenergy.models.vae",
    "load_model": "freeenergy.models._torch",
}
__getattr__ = lazy_attributes(__name__, _TORCH_NAMES)

__all__ = ["IsingChain", "IsingLattice", "critical_temperature", "onsager_free_energy", *_TORCH_NAMES]
