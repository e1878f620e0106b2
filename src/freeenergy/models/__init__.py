"""Learnable torch models: restricted Boltzmann machines (:mod:`freeenergy.models.rbm`:
:class:`BernoulliRBM`, :class:`GaussianBernoulliRBM`), the Helmholtz machine
(:mod:`freeenergy.models.helmholtz`) and the variational autoencoder (:mod:`freeenergy.models.vae`),
imported on first use. Each is saved with ``model.save(path)`` and read back with
:func:`load_model`. The exactly solvable Ising systems live in :mod:`freeenergy.systems`.
"""

from freeenergy._lazy import lazy_attributes, moved_attributes

_TORCH_NAMES = {
    "BernoulliRBM": "freeenergy.models.rbm",
    "GaussianBernoulliRBM": "freeenergy.models.rbm",
    "HelmholtzMachine": "freeenergy.models.helmholtz",
    "VAE": "freeenergy.models.vae",
    "load_model": "freeenergy.models._torch",
}
# the Ising systems lived here until 0.2
_MOVED = dict.fromkeys(("IsingChain", "IsingLattice", "critical_temperature", "onsager_free_energy"),
                       "freeenergy.systems")
__getattr__ = moved_attributes(__name__, _MOVED, lazy_attributes(__name__, _TORCH_NAMES))

__all__ = list(_TORCH_NAMES)
