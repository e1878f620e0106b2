"""Training loops for the energy models, with monitors and checkpoints.

* :func:`train_rbm` (:mod:`freeenergy.learn.cd`): CD-k and persistent CD for Bernoulli and
  Gaussian-Bernoulli RBMs, SGD with momentum and weight decay, returning a
  :class:`TrainingHistory` of free energies, weight norms, the effective inverse temperature
  ``beta_eff`` and, for small models, exact ``log Z`` and log-likelihoods.
* Checkpoints (:mod:`freeenergy.learn.checkpoint`): written atomically during training, read
  with :func:`load_checkpoint`, continued bit-identically with ``train_rbm(..., resume=path)``.
* Monitors (:mod:`freeenergy.learn.monitor`): :func:`weight_statistics`, the
  :class:`ExplosionRule` behind :class:`TrainingWarning`, and :class:`TrainingError` for NaN/inf.
"""

from freeenergy.learn.cd import train_rbm
from freeenergy.learn.checkpoint import Checkpoint, load_checkpoint
from freeenergy.learn.history import TrainingHistory
from freeenergy.learn.monitor import ExplosionRule, TrainingError, TrainingWarning, weight_statistics

__all__ = [
    "Checkpoint",
    "ExplosionRule",
    "TrainingError",
    "TrainingHistory",
    "TrainingWarning",
    "load_checkpoint",
    "train_rbm",
    "weight_statistics",
]
