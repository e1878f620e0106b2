"""Training loops for the energy models, with monitors and checkpoints.

* :func:`train_rbm` (:mod:`freeenergy.learn.cd`): CD-k and persistent CD for Bernoulli and
  Gaussian-Bernoulli RBMs, SGD with momentum and weight decay, returning a
  :class:`TrainingHistory` of free energies, weight norms, the effective inverse temperature
  ``beta_eff`` and, for small models, exact ``log Z`` and log-likelihoods.
* :func:`train_helmholtz` (:mod:`freeenergy.learn.wake_sleep`): wake-sleep and reweighted
  wake-sleep for Helmholtz machines; :func:`train_vae` (:mod:`freeenergy.learn.elbo`): ELBO and
  IWAE training of VAEs; both with Adam, returning a :class:`VariationalHistory` of ``F[q]``,
  its energy and entropy parts and, for enumerable latents, the exact ``-log p(x)`` and the gap.
* The shared epoch loop (:mod:`freeenergy.learn.loop`): progress, callbacks, checkpoints,
  resumption and NaN handling for every trainer.
* Checkpoints (:mod:`freeenergy.learn.checkpoint`): written atomically during training, read
  with :func:`load_checkpoint`, continued bit-identically with ``train_rbm(..., resume=path)``.
* Monitors (:mod:`freeenergy.learn.monitor`): :func:`weight_statistics`, the
  :class:`ExplosionRule` behind :class:`TrainingWarning`, and :class:`TrainingError` for NaN/inf.
"""

from freeenergy.learn.cd import train_rbm
from freeenergy.learn.checkpoint import Checkpoint, load_checkpoint
from freeenergy.learn.elbo import train_vae
from freeenergy.learn.history import TrainingHistory, VariationalHistory
from freeenergy.learn.monitor import ExplosionRule, TrainingError, TrainingWarning, weight_statistics
from freeenergy.learn.wake_sleep import train_helmholtz

__all__ = [
    "Checkpoint",
    "ExplosionRule",
    "TrainingError",
    "TrainingHistory",
    "TrainingWarning",
    "VariationalHistory",
    "load_checkpoint",
    "train_helmholtz",
    "train_rbm",
    "train_vae",
    "weight_statistics",
]
