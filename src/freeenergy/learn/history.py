"""The record a training run returns: one row of monitored quantities per epoch."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from freeenergy._io import jsonable
from freeenergy._params import InputError

__all__ = ["TrainingHistory", "VariationalHistory"]

# Per-epoch columns, in order; "epoch" is int64, the rest float64 (NaN = not computed).
COLUMNS = (
    "epoch", "train_free_energy", "test_free_energy", "reconstruction_error", "weight_norm",
    "weight_max", "beta_eff", "log_z", "train_log_likelihood", "test_log_likelihood", "seconds",
    "monitor_seconds",
)


class _Rows:
    """The shared behaviour of the history records: frozen float64 columns, one row per epoch."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        for name in self.COLUMNS:
            dtype = np.int64 if name == "epoch" else np.float64
            values = np.array(getattr(self, name), dtype=np.float64).reshape(-1)
            if name == "epoch" and not np.isfinite(values).all():
                raise InputError(f"Every row of a {type(self).__name__} needs an epoch number; got "
                                 f"{values.tolist()}.")
            arr = values.astype(dtype)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if len({len(getattr(self, n)) for n in self.COLUMNS}) != 1:
            raise InputError(f"All columns of a {type(self).__name__} must have the same length.")
        object.__setattr__(self, "arguments", dict(self.arguments))

    @classmethod
    def from_rows(cls, rows, arguments=None, stop_reason: str = "completed") -> _Rows:
        """Build a history from per-epoch dicts (missing entries become NaN)."""
        columns = {n: [_value(row.get(n)) for row in rows] for n in cls.COLUMNS}
        return cls(**columns, arguments=arguments or {}, stop_reason=stop_reason)

    def rows(self) -> list[dict[str, float]]:
        """The history as one dict per epoch."""
        return [{n: getattr(self, n)[i].item() for n in self.COLUMNS} for i in range(len(self))]

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        last = int(self.epoch[-1]) if len(self) else None
        return (f"{type(self).__name__}(epochs={last}, rows={len(self)}, "
                f"stop_reason={self.stop_reason!r})")

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready Python values (NaN and inf become the strings "nan", "inf")."""
        return jsonable({f.name: getattr(self, f.name) for f in fields(self)})


@dataclass(frozen=True, eq=False, repr=False)
class TrainingHistory(_Rows):
    """Per-epoch diagnostics of an RBM training run (:func:`freeenergy.learn.train_rbm`).

    Row 0 describes the model before training (epoch 0); row ``i`` the model after epoch
    ``epoch[i]``. Every array is read-only; a value is NaN where it was not computed. Free
    energies and log-likelihoods are in nats per sample.

    Attributes
    ----------
    epoch : ndarray of int64
        Epoch number of each row (0 = before training).
    train_free_energy, test_free_energy : ndarray of float64
        Mean free energy ``F(v) = -log sum_h exp(-E(v, h))`` of the training / test data with
        the parameters at the end of the epoch (test: NaN without ``test_data``). Their gap
        is an overfitting diagnostic that needs no ``log Z``.
    reconstruction_error : ndarray of float64
        Mean squared error per visible unit between each training row ``v`` and
        ``E[v' | h]`` with ``h ~ p(h | v)``, averaged over the epoch's mini-batches as they
        were processed (NaN at epoch 0).
    weight_norm, weight_max : ndarray of float64
        ``||W||_F`` and ``max |W_ij|``.
    beta_eff : ndarray of float64
        Effective inverse temperature ``||W||_2`` (spectral norm; for a Gaussian-Bernoulli
        RBM of ``diag(1/sigma) W``), see :mod:`freeenergy.learn.monitor`.
    log_z : ndarray of float64
        Exact ``log Z`` where it was computed (small models, every ``exact_every`` epochs).
    train_log_likelihood, test_log_likelihood : ndarray of float64
        Exact mean ``log p(v) = -F(v) - log Z`` where ``log_z`` is known.
    seconds : ndarray of float64
        Wall time of the epoch's parameter updates (0 at epoch 0).
    monitor_seconds : ndarray of float64
        Wall time of computing this row's diagnostics (free energies, norms, ``log Z``).
    arguments : dict
        The training arguments (the seed actually used included).
    stop_reason : str
        ``"completed"``, ``"callback"`` (a callback returned ``"stop"``) or ``"diverged"``
        (a NaN/inf stopped the run with ``quiet=True``).

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.learn import TrainingHistory
    >>> h = TrainingHistory.from_rows([{"epoch": 0, "beta_eff": 0.3}, {"epoch": 1, "beta_eff": 0.5}])
    >>> len(h), h.epoch.tolist(), h.beta_eff.tolist()
    (2, [0, 1], [0.3, 0.5])
    >>> bool(np.isnan(h.log_z).all())
    True
    >>> h.as_dict()["log_z"]
    ['nan', 'nan']
    """

    epoch: np.ndarray
    train_free_energy: np.ndarray
    test_free_energy: np.ndarray
    reconstruction_error: np.ndarray
    weight_norm: np.ndarray
    weight_max: np.ndarray
    beta_eff: np.ndarray
    log_z: np.ndarray
    train_log_likelihood: np.ndarray
    test_log_likelihood: np.ndarray
    seconds: np.ndarray
    monitor_seconds: np.ndarray
    arguments: dict[str, Any] = field(default_factory=dict)
    stop_reason: str = "completed"
    COLUMNS: ClassVar[tuple[str, ...]] = COLUMNS


# Per-epoch columns of the latent-variable trainers.
VARIATIONAL_COLUMNS = (
    "epoch", "objective", "train_free_energy", "train_energy", "train_entropy",
    "train_neg_log_likelihood", "train_gap", "train_iw_bound", "test_free_energy", "test_energy",
    "test_entropy", "test_neg_log_likelihood", "test_gap", "test_iw_bound", "seconds",
    "monitor_seconds",
)


@dataclass(frozen=True, eq=False, repr=False)
class VariationalHistory(_Rows):
    """Per-epoch diagnostics of a latent-variable model's training run
    (:func:`freeenergy.learn.train_helmholtz`, :func:`freeenergy.learn.train_vae`).

    Row 0 describes the model before training; every array is read-only and NaN where a value
    was not computed. All values are means over the examples in nats per example, computed by
    :func:`freeenergy.estimate.variational.helmholtz_free_energy` (``method="auto"``: exact sums over
    the latents of an enumerable model, Monte Carlo otherwise) with a seed fixed per epoch.

    Attributes
    ----------
    epoch : ndarray of int64
    objective : ndarray of float64
        Mean per example of the quantity the updates minimised, averaged over the epoch's
        mini-batches as they were processed (NaN at epoch 0): the one-sample ``F[q]`` for
        wake-sleep and the ELBO objective, ``-L_k`` for reweighted wake-sleep and IWAE.
    train_free_energy, test_free_energy : ndarray of float64
        ``F[q] = <E>_q - H(q)``, the negative ELBO, with ``E = -log p(x, z)`` (T = 1).
    train_energy, test_energy, train_entropy, test_entropy : ndarray of float64
        Its parts ``<E>_q`` and ``H(q)``: ``free_energy = energy - entropy``.
    train_neg_log_likelihood, test_neg_log_likelihood : ndarray of float64
        Exact ``-log p(x)`` (enumerable latents only), ``<= free_energy``.
    train_gap, test_gap : ndarray of float64
        ``F[q] + log p(x) = KL(q || p(z | x)) >= 0`` (enumerable latents only).
    train_iw_bound, test_iw_bound : ndarray of float64
        The importance-weighted bound ``L_k <= log p(x)`` with ``k = iw_k`` (NaN when disabled).
    seconds, monitor_seconds : ndarray of float64
        Wall time of the epoch's updates and of computing the row.
    arguments : dict
    stop_reason : str
        ``"completed"``, ``"callback"`` or ``"diverged"``.
    """

    epoch: np.ndarray
    objective: np.ndarray
    train_free_energy: np.ndarray
    train_energy: np.ndarray
    train_entropy: np.ndarray
    train_neg_log_likelihood: np.ndarray
    train_gap: np.ndarray
    train_iw_bound: np.ndarray
    test_free_energy: np.ndarray
    test_energy: np.ndarray
    test_entropy: np.ndarray
    test_neg_log_likelihood: np.ndarray
    test_gap: np.ndarray
    test_iw_bound: np.ndarray
    seconds: np.ndarray
    monitor_seconds: np.ndarray
    arguments: dict[str, Any] = field(default_factory=dict)
    stop_reason: str = "completed"
    COLUMNS: ClassVar[tuple[str, ...]] = VARIATIONAL_COLUMNS


def _value(x):
    return math.nan if x is None else x
