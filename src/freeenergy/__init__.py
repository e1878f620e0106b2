"""freeenergy: compute, bound and learn with free energies.

The public API is flat: ``import freeenergy as fe`` then ``fe.log_partition``,
``fe.thermodynamics``, ``fe.DensityOfStates``, ``fe.IsingLattice``, ``fe.legendre_fenchel``,
``fe.wang_landau`` and so on; result types and errors live in their modules
(``freeenergy.spectra.legendre``, ``freeenergy.spectra.ensembles``, ``freeenergy.spectra.laplace``,
``freeenergy.sampling.wang_landau``).
Conventions (k_B = 1, energies are minimised, nats) are in the README.
"""

from freeenergy._lazy import install_moved_modules, lazy_attributes
from freeenergy._params import InputError, InputTypeError
from freeenergy.sampling.wang_landau import wang_landau
from freeenergy.spectra.dos import DensityOfStates
from freeenergy.spectra.ensembles import (
    ensemble_inequivalence,
    entropy_from_free_energy,
    free_energy_from_entropy,
    saddle_point_gap,
)
from freeenergy.spectra.laplace import inverse_laplace, laplace
from freeenergy.spectra.legendre import (
    concave_envelope,
    convex_envelope,
    legendre,
    legendre_fenchel,
    legendre_fenchel_nd,
)
from freeenergy.spectra.thermo import Thermodynamics, free_energy, log_partition, thermodynamics
from freeenergy.systems import (
    IsingChain,
    IsingLattice,
    critical_temperature,
    onsager_free_energy,
)

__version__ = "0.2.0"

install_moved_modules()

# torch-based names, imported on first use so that `import freeenergy` stays light
_TORCH_NAMES = {
    "BernoulliRBM": "freeenergy.models.rbm",
    "GaussianBernoulliRBM": "freeenergy.models.rbm",
    "HelmholtzMachine": "freeenergy.models.helmholtz",
    "VAE": "freeenergy.models.vae",
    "load_model": "freeenergy.models._torch",
    "Estimate": "freeenergy.estimate",
    "exact_log_partition": "freeenergy.estimate",
    "ais": "freeenergy.estimate",
    "reverse_ais": "freeenergy.estimate",
    "log_likelihood": "freeenergy.estimate",
    "train_rbm": "freeenergy.learn",
    "estimate": "freeenergy.estimate",
    "learn": "freeenergy.learn",
    "variational": "freeenergy.estimate.variational",
    "helmholtz_free_energy": "freeenergy.estimate.variational",
}
__getattr__ = lazy_attributes(__name__, _TORCH_NAMES)

__all__ = [
    *_TORCH_NAMES,
    "DensityOfStates",
    "InputError",
    "InputTypeError",
    "IsingChain",
    "IsingLattice",
    "Thermodynamics",
    "__version__",
    "concave_envelope",
    "convex_envelope",
    "critical_temperature",
    "ensemble_inequivalence",
    "entropy_from_free_energy",
    "free_energy",
    "free_energy_from_entropy",
    "inverse_laplace",
    "laplace",
    "legendre",
    "legendre_fenchel",
    "legendre_fenchel_nd",
    "log_partition",
    "onsager_free_energy",
    "saddle_point_gap",
    "thermodynamics",
    "wang_landau",
]
