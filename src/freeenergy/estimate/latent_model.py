"""Latent-variable models as the estimators see them: the :class:`LatentVariableModel` protocol
and the checks of the model, the data and the temperature that the variational and
importance-weighted estimators share."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch

from freeenergy._params import InputError, InputTypeError, check_real, fail
from freeenergy.models._torch import check_rows

__all__ = ["LatentVariableModel", "check_T", "check_latent_model", "check_x", "configurations",
           "frozen_array", "placement"]


@runtime_checkable
class LatentVariableModel(Protocol):
    """What :mod:`freeenergy.estimate.variational` needs of a latent-variable model.

    Shapes: ``x`` is ``(b, n_visible)``; ``z`` is ``(..., b, n_latent)`` and broadcasts
    against ``x`` to a batch shape ``(..., b)``. Log-probabilities are in nats; the energy is
    ``E(x, z) = -log_joint(x, z)`` (T = 1).

    Attributes
    ----------
    n_visible : int
        Length of ``x``.
    n_latent : int
        Total latent dimension, all latent layers concatenated.

    Methods
    -------
    log_joint(x, z) -> Tensor (..., b)
        ``log p(x, z)``.
    recognition_sample(x, n, generator=None) -> (z, log_q)
        ``z`` of shape ``(n, b, n_latent)`` drawn from ``q(z | x)`` (reparameterised where
        possible) and ``log q(z | x)`` of shape ``(n, b)``.
    recognition_log_prob(x, z) -> Tensor (..., b)
        ``log q(z | x)``.
    recognition_entropy(x) -> Tensor (b,) or None
        ``H(q(. | x))`` when analytic (``q`` factorised over all latents), else ``None``.
    latent_configurations() -> Tensor (2^n_latent, n_latent) or None
        Every binary latent vector when the latents are binary and ``n_latent <= 20``, else
        ``None``.
    """

    n_visible: int
    n_latent: int

    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor: ...

    def recognition_sample(
        self, x: torch.Tensor, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]: ...

    def recognition_log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor: ...

    def recognition_entropy(self, x: torch.Tensor) -> torch.Tensor | None: ...

    def latent_configurations(self) -> torch.Tensor | None: ...


def frozen_array(values) -> np.ndarray | None:
    """``values`` as a read-only float64 array (``None`` stays ``None``)."""
    if values is None:
        return None
    arr = np.array(values, dtype=np.float64)
    arr.setflags(write=False)
    return arr


_VERBS = (
    "log_joint",
    "recognition_sample",
    "recognition_log_prob",
    "recognition_entropy",
    "latent_configurations",
)


def check_latent_model(model, owner: str) -> None:
    """Raise unless ``model`` has every verb of :class:`LatentVariableModel`."""
    missing = [v for v in (*_VERBS, "n_visible", "n_latent") if not hasattr(model, v)]
    if missing:
        raise InputTypeError(
            f"The 'model' parameter of {owner} must implement freeenergy.estimate.variational."
            f"LatentVariableModel. Got a {type(model).__name__} without {', '.join(missing)}."
        )


def placement(model) -> tuple[torch.dtype, torch.device]:
    """The dtype and device of the model's parameters (float64 on the CPU without any)."""
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    if params:
        return params[0].dtype, params[0].device
    return torch.float64, torch.device("cpu")


def check_x(model, x, owner: str) -> torch.Tensor:
    """Rows ``x`` of the model's visibles, on its device and dtype."""
    return check_rows(x, model, owner, name="x", placement=placement(model))


def check_T(T, owner: str) -> float:
    """A finite temperature > 0."""
    T = check_real("T", T, owner)
    if T <= 0:
        raise fail("T", owner, "a finite number > 0", T)
    return T


def configurations(model, owner: str) -> torch.Tensor:
    """``model.latent_configurations()``, or an error when the latents cannot be enumerated."""
    configs = model.latent_configurations()
    if configs is None:
        raise InputError(
            f"{owner} needs a model whose latents can be enumerated (binary, n_latent <= 20); "
            f"this {type(model).__name__} has n_latent = {model.n_latent} and "
            f"latent_configurations() returned None."
        )
    return configs
