"""The base model ``A`` of AIS: ``model`` with ``W = 0`` and hidden bias 0, its visible biases from
the data (base rates), zero or given, and its closed-form ``log Z_A``."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from freeenergy._params import InputError, check_real, fail
from freeenergy.estimate.ais_kernel import annealing_path
from freeenergy.models._torch import check_rows
from freeenergy.models.rbm import GaussianBernoulliRBM


def base_model_bias(model, base, data, smoothing, owner) -> tuple[torch.Tensor, str]:
    """Validated visible biases ``a_A`` of the base model (logits, or means for Gaussian visibles)."""
    gaussian = isinstance(model, GaussianBernoulliRBM)
    kw = {"device": model.device, "dtype": model.dtype}
    if check_real("smoothing", smoothing, owner) <= 0 or smoothing > 1:
        raise fail("smoothing", owner, "a number in (0, 1]", smoothing)
    if isinstance(base, str) and base == "data":
        if data is None:
            raise InputError(
                f"{owner} with base='data' needs 'data' (an array of shape (n_examples, "
                f"{model.n_visible})) to set the base model's visible biases; pass data=... or "
                f"use base='uniform' or a tensor of base visible biases."
            )
        return _base_rate(_rows(data, model, owner), smoothing, gaussian), "data"
    if isinstance(base, str) and base == "uniform":
        if gaussian:
            raise InputError(
                f"The 'base' parameter of {owner} cannot be 'uniform' for a GaussianBernoulliRBM "
                f"(real visibles have no uniform distribution); use base='data' (Gaussians at the "
                f"data means) or a tensor of base visible means."
            )
        return torch.zeros(model.n_visible, **kw), "uniform"
    if isinstance(base, str | numbers.Number) or base is None:
        raise fail("base", owner, "'data', 'uniform' or an array of base visible biases", base)
    try:
        bias = torch.as_tensor(np.asarray(base.detach().cpu() if isinstance(base, torch.Tensor)
                                          else base, dtype=np.float64))
    except (TypeError, ValueError):
        raise fail("base", owner, "'data', 'uniform' or an array of base visible biases", base) from None
    if bias.shape != (model.n_visible,) or not torch.isfinite(bias).all():
        raise fail("base", owner, f"an array of {model.n_visible} finite base visible biases",
                   f"shape {tuple(bias.shape)}" if bias.shape != (model.n_visible,) else base)
    return bias.to(**kw), "custom"


def _rows(data, model, owner: str) -> torch.Tensor:
    """The data of the base rates: values in [0, 1] for Bernoulli visibles."""
    return check_rows(data, model, owner, values="unit" if model.binary_visible else None)


def _base_rate(x: torch.Tensor, smoothing: float, gaussian: bool) -> torch.Tensor:
    mean = x.to(torch.float64).mean(0)
    if gaussian:
        return mean.to(x.dtype)
    return torch.logit((1 - smoothing) * mean + smoothing / 2).to(x.dtype)


def base_rate_logits(data, model, *, smoothing: float = 0.05) -> torch.Tensor:
    """Visible biases of the base-rate model: logits of the data's smoothed marginals.

    ``a_A,i = logit((1 - smoothing) mean(data_i) + smoothing / 2)`` for Bernoulli visibles (the
    base model of :func:`ais` with ``base="data"``, and a good initial visible bias for training);
    the data means for Gaussian visibles.

    Parameters
    ----------
    data : array_like, shape (n_examples, n_visible)
        Values in [0, 1] for Bernoulli visibles.
    model : BernoulliRBM or GaussianBernoulliRBM
        Gives the number of visibles, the device and the dtype of the result.
    smoothing : float in (0, 1]
        Weight of the uniform 1/2 mixed into the marginals, so no logit is infinite.

    Returns
    -------
    Tensor, shape (n_visible,)
        On the model's device, in its dtype.

    Examples
    --------
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.estimate.base_model import base_rate_logits
    >>> rbm = BernoulliRBM(3, 2, seed=0)
    >>> base_rate_logits([[0, 1, 1], [0, 0, 1]], rbm, smoothing=0.1).round(decimals=4).tolist()
    [-2.9444, 0.0, 2.9444]
    """
    owner = "base_rate_logits"
    gaussian = isinstance(model, GaussianBernoulliRBM)
    annealing_path(model, owner)
    if check_real("smoothing", smoothing, owner) <= 0 or smoothing > 1:
        raise fail("smoothing", owner, "a number in (0, 1]", smoothing)
    return _base_rate(_rows(data, model, owner), smoothing, gaussian)


def base_log_partition(model, base_bias) -> float:
    """``log Z_A`` of the base model of :func:`ais`: ``model`` with ``W = 0``, hidden bias 0.

    Parameters
    ----------
    model : BernoulliRBM or GaussianBernoulliRBM
        Gives the layer sizes (and ``sigma`` for Gaussian visibles).
    base_bias : array_like, shape (n_visible,)
        The base model's visible biases (logits; means for Gaussian visibles).

    Returns
    -------
    float
        ``sum_i softplus(a_A,i) + n_hidden log 2`` for a Bernoulli RBM;
        ``sum_i log(sqrt(2 pi) sigma_i) + n_hidden log 2`` for a Gaussian-Bernoulli RBM.

    Examples
    --------
    >>> import math
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.estimate.base_model import base_log_partition
    >>> rbm = BernoulliRBM(3, 2, seed=0)
    >>> math.isclose(base_log_partition(rbm, [0.0, 0.0, 0.0]), 5 * math.log(2))
    True
    """
    path = annealing_path(model, "base_log_partition")
    bias = torch.as_tensor(np.asarray(base_bias, dtype=np.float64))
    if bias.shape != (model.n_visible,):
        raise fail("base_bias", "base_log_partition", f"an array of shape ({model.n_visible},)",
                   f"shape {tuple(bias.shape)}")
    return path.log_z_base(model, bias)
