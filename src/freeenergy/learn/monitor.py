"""What a training run watches: weight norms, the effective inverse temperature, free energies,
and the rule that calls weights "exploding".

With the temperature fixed at ``T = 1`` an RBM has no separate temperature knob: the energy
scale lives in the parameters. Writing ``W = beta_eff * W_hat`` with ``||W_hat||_2 = 1``, a
Bernoulli RBM is a model with unit-scale couplings at inverse temperature

    ``beta_eff = ||W||_2``   (the spectral norm, the largest singular value of ``W``),

the largest energy change ``|v.W.h|`` per unit norm of ``v`` and ``h``. For a
Gaussian-Bernoulli RBM the couplings act on the standardised visibles ``v / sigma``, so
``beta_eff = ||diag(1 / sigma) W||_2``. Training by maximum likelihood typically cools the
model (``beta_eff`` grows) as it sharpens onto the data; ``beta_eff`` growing without bound is
the signature of weights exploding (too large a learning rate, no weight decay, or a data set
the model can memorise).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from freeenergy._params import check_int, check_real, fail

__all__ = ["ExplosionRule", "TrainingError", "TrainingWarning", "weight_statistics"]

# Exact log Z is computed during training only while enumerating 2^20 states is cheap.
EXACT_MAX_UNITS = 20
_CHUNK_ROWS = 4096


class TrainingWarning(UserWarning):
    """A training diagnostic fired (weights growing without bound, or a run stopped with
    ``quiet=True``); the message names the epoch and the quantity."""


class TrainingError(RuntimeError):
    """Training produced a NaN or infinite parameter or monitored quantity.

    Attributes
    ----------
    epoch : int
        The epoch (1-based) during which the problem appeared.
    quantity : str
        What became non-finite, e.g. ``"parameter 'weight'"`` or ``"train_free_energy"``.
    history : TrainingHistory
        The history of the good epochs before the failure.
    checkpoint : str or None
        Path of the last good checkpoint on disk (never overwritten by a bad state).
    """

    def __init__(self, message, *, epoch, quantity, history=None, checkpoint=None):
        super().__init__(message)
        self.epoch = epoch
        self.quantity = quantity
        self.history = history
        self.checkpoint = checkpoint


@dataclass(frozen=True)
class ExplosionRule:
    """When :func:`~freeenergy.learn.train_rbm` warns that the weights are exploding.

    A :class:`TrainingWarning` (once per call) fires at the first epoch where either

    * ``max |W_ij| > max_weight`` (one coupling worth more than ``max_weight`` nats: the
      units it joins are frozen together), or
    * ``beta_eff`` grew by a factor ``> growth`` in each of the last ``patience`` epochs.

    Parameters
    ----------
    max_weight : float
        Largest tolerated ``|W_ij|`` (> 0); ``inf`` disables the rule.
    growth : float
        Per-epoch growth factor of ``beta_eff`` (> 1) that counts as exploding.
    patience : int
        Number of consecutive epochs of such growth before warning (>= 1).

    Examples
    --------
    >>> from freeenergy.learn import ExplosionRule
    >>> rule = ExplosionRule(max_weight=10.0)
    >>> rule.check(beta_eff=[1.0, 1.5], weight_max=[0.1, 12.0]) is not None
    True
    >>> ExplosionRule().check(beta_eff=[1.0, 2.5, 6.0, 13.0], weight_max=[0.1] * 4)
    'beta_eff grew by more than x2 in each of the last 3 epochs (1 -> 13)'
    """

    max_weight: float = 100.0
    growth: float = 2.0
    patience: int = 3

    def __post_init__(self):
        owner = "ExplosionRule"
        if not (isinstance(self.max_weight, int | float) and not isinstance(self.max_weight, bool)
                and self.max_weight > 0):
            raise fail("max_weight", owner, "a number > 0 (inf disables the rule)", self.max_weight)
        if check_real("growth", self.growth, owner) <= 1:
            raise fail("growth", owner, "a float > 1", self.growth)
        check_int("patience", self.patience, owner, 1)

    def check(self, beta_eff, weight_max) -> str | None:
        """A description of why the latest epoch looks explosive, or None."""
        if weight_max[-1] > self.max_weight:
            return f"max |W| = {weight_max[-1]:.4g} exceeds {self.max_weight:g}"
        recent = list(beta_eff[-self.patience - 1:])
        if len(recent) == self.patience + 1 and all(
            b > self.growth * a > 0 for a, b in itertools.pairwise(recent)
        ):
            return (f"beta_eff grew by more than x{self.growth:g} in each of the last "
                    f"{self.patience} epochs ({recent[0]:.4g} -> {recent[-1]:.4g})")
        return None


def _scaled_weight(model) -> torch.Tensor:
    w = model.weight.detach()
    if hasattr(model, "log_sigma"):  # couplings act on v / sigma
        w = w * torch.exp(-model.log_sigma.detach())[:, None]
    return w.to(torch.float64)


@torch.no_grad()
def weight_statistics(model) -> dict[str, float]:
    """Frobenius norm, largest ``|W_ij|`` and ``beta_eff`` (spectral norm) of the couplings.

    Returns
    -------
    dict
        ``weight_norm`` (``||W||_F``), ``weight_max`` (``max |W_ij|``) and ``beta_eff``
        (``||W||_2``, see the module docstring), as floats (NaN if ``W`` is not finite).

    Examples
    --------
    >>> import torch
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.learn import weight_statistics
    >>> rbm = BernoulliRBM(2, 2, seed=0)
    >>> with torch.no_grad():
    ...     _ = rbm.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, -4.0]]))
    >>> weight_statistics(rbm)
    {'weight_norm': 5.0, 'weight_max': 4.0, 'beta_eff': 4.0}
    """
    w = _scaled_weight(model)
    if not torch.isfinite(w).all():
        return {"weight_norm": math.nan, "weight_max": math.nan, "beta_eff": math.nan}
    return {
        "weight_norm": float(torch.linalg.matrix_norm(model.weight.detach().to(torch.float64))),
        "weight_max": float(model.weight.detach().abs().max()),
        "beta_eff": float(torch.linalg.matrix_norm(w, ord=2)),
    }


@torch.no_grad()
def mean_free_energy(model, data: torch.Tensor) -> float:
    """Mean of ``F(v)`` over the rows of ``data`` (nats), accumulated in float64."""
    total = torch.zeros((), dtype=torch.float64, device=data.device)
    for start in range(0, len(data), _CHUNK_ROWS):
        total += model.free_energy(data[start:start + _CHUNK_ROWS], check=False).to(torch.float64).sum()
    return float(total) / len(data)


def exact_is_cheap(model) -> bool:
    """Whether exact ``log Z`` costs at most ``2^EXACT_MAX_UNITS`` terms."""
    if hasattr(model, "log_sigma"):
        return model.n_hidden <= EXACT_MAX_UNITS
    return min(model.n_visible, model.n_hidden) <= EXACT_MAX_UNITS
