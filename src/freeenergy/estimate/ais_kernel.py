"""The AIS kernel: the annealing path of an RBM from its base model, and the loop that moves
chains along it and accumulates their log importance weights (see :mod:`freeenergy.estimate.ais`).
Inputs are trusted: the public functions validate them first."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from freeenergy._params import InputTypeError, check_int
from freeenergy.models._torch import check_seed
from freeenergy.models.rbm import BernoulliRBM, GaussianBernoulliRBM


class ChainRandom:
    """Uniform and normal draws for the chains, from one seed.

    On the CPU they come from NumPy's PCG64 (two to three times faster than torch's CPU
    Mersenne twister, and AIS spends a fifth of its time drawing); elsewhere from a torch
    generator on the model's device. Same seed and device, same numbers.
    """

    def __init__(self, seed, device: torch.device, owner: str):
        if seed is not None:
            seed = check_int("seed", seed, owner, 0)
        self.device = device
        if device.type == "cpu":
            self.np = np.random.default_rng(seed)
        else:
            self.np = None
            self.gen = check_seed(seed, owner, device)

    def uniform(self, shape, dtype: torch.dtype) -> torch.Tensor:
        if self.np is None:
            return torch.rand(shape, generator=self.gen, dtype=dtype, device=self.device)
        np_dtype = np.float32 if dtype == torch.float32 else np.float64
        return torch.from_numpy(self.np.random(shape, dtype=np_dtype))

    def normal(self, shape, dtype: torch.dtype) -> torch.Tensor:
        if self.np is None:
            return torch.randn(shape, generator=self.gen, dtype=dtype, device=self.device)
        np_dtype = np.float32 if dtype == torch.float32 else np.float64
        return torch.from_numpy(self.np.standard_normal(shape, dtype=np_dtype))

    def permutation(self, n: int) -> torch.Tensor:
        if self.np is None:
            return torch.randperm(n, generator=self.gen, device=self.device)
        return torch.from_numpy(self.np.permutation(n))


class BernoulliPath:
    """The annealing path of a Bernoulli RBM from ``W = 0`` with visible logits ``a_A``."""

    def __init__(self, model, base_bias):
        w, a, b = (p.detach() for p in (model.weight, model.visible_bias, model.hidden_bias))
        self.dtype, self.device = model.dtype, model.device
        # One matmul gives the hidden inputs b + v.W and the column d(v) = V_A(v) - V_B(v).
        self.matrix = torch.cat([w, (a - base_bias)[:, None]], 1).contiguous()
        self.bias = torch.cat([b, b.new_zeros(1)])
        self.wt = w.T.contiguous()
        self.a, self.a_base = a, base_bias

    @staticmethod
    def log_z_base(model, base_bias) -> float:
        return float(F.softplus(base_bias.to(torch.float64), threshold=1000).sum()) \
            + model.n_hidden * math.log(2)

    def init(self, n, rng):
        return self.visible(self.a_base.expand(n, -1), rng)

    def visible(self, field, rng):
        u = rng.uniform(field.shape, self.dtype).to(self.device)
        return (u < torch.sigmoid(field)).to(self.dtype)


class GaussianPath(BernoulliPath):
    """Gaussian visibles: ``V(v) = sum (v - a)^2 / (2 sigma^2)``, ``drive(v) = v / sigma^2``."""

    def __init__(self, model, base_bias):
        w, a, b = (p.detach() for p in (model.weight, model.visible_bias, model.hidden_bias))
        inv_var = torch.exp(-2 * model.log_sigma.detach())
        self.dtype, self.device = model.dtype, model.device
        # V_A(v) - V_B(v) = v.(a - a_A)/sigma^2 - sum (a^2 - a_A^2) / (2 sigma^2)
        u = (a - base_bias) * inv_var
        self.matrix = torch.cat([w * inv_var[:, None], u[:, None]], 1).contiguous()
        c0 = -0.5 * ((a * a - base_bias * base_bias) * inv_var).sum()
        self.bias = torch.cat([b, c0.reshape(1)])
        self.wt = w.T.contiguous()
        self.a, self.a_base = a, base_bias
        self.sigma = model.log_sigma.detach().exp()

    @staticmethod
    def log_z_base(model, base_bias) -> float:
        log_s = model.log_sigma.detach().to(torch.float64)
        return float(log_s.sum()) + model.n_visible * 0.5 * math.log(2 * math.pi) \
            + model.n_hidden * math.log(2)

    def visible(self, field, rng):
        return field + rng.normal(field.shape, self.dtype).to(self.device) * self.sigma


PATHS = {BernoulliRBM: BernoulliPath, GaussianBernoulliRBM: GaussianPath}
# At most this many factors sigmoid(|y|) >= 1/2 are multiplied before a logarithm (2^-1000 > 1e-302).
_GROUP = 1000


def _log_prod_sigmoid(z: torch.Tensor) -> torch.Tensor:
    """``sum_j log sigmoid(z_j)`` over the last axis for ``z >= 0``, one logarithm per group."""
    factors = torch.sigmoid(z)
    total = factors[..., :_GROUP].prod(-1).log_()
    for start in range(_GROUP, z.shape[-1], _GROUP):
        total += factors[..., start:start + _GROUP].prod(-1).log_()
    return total


def _step(path, v, beta_old: float, beta_new: float, rng, move: bool):
    """One AIS kernel step: the log-weight increment at ``v``, then a Gibbs sweep at ``beta_new``.

    Returns ``(v', log f_new(v) - log f_old(v))``, the increment in float64. The hidden units'
    terms ``sum_j softplus(beta x_j) = beta sum_j max(x_j, 0) - sum_j log sigmoid(beta |x_j|)``
    are exact for any ``x`` and need no elementwise ``exp``/``log``: torch runs those
    multi-threaded from 2048 elements on, which stalls badly on a busy machine.
    """
    xa = torch.addmm(path.bias, v, path.matrix)
    x = xa[:, :-1].to(torch.float64)
    ax = x.abs()
    inc = torch.relu(x).sum(1).mul_(beta_new - beta_old)
    inc.add_(xa[:, -1].to(torch.float64), alpha=beta_new - beta_old)
    inc -= _log_prod_sigmoid(ax * beta_new)
    inc += _log_prod_sigmoid(ax * beta_old)
    if move:
        u = rng.uniform(x.shape, path.dtype).to(x.device)
        h = (u < torch.sigmoid(x * beta_new)).to(path.dtype)
        c = torch.lerp(path.a_base, path.a, beta_new)
        v = path.visible(torch.addmm(c, h, path.wt, alpha=beta_new), rng)
    return v, inc


def anneal(path, v, betas: np.ndarray, rng, progress: bool, desc: str) -> torch.Tensor:
    """Run the chains ``v`` along ``betas`` (either direction); return float64 log weights."""
    log_w = torch.zeros(v.shape[0], dtype=torch.float64, device=v.device)
    gammas = betas.tolist()
    last = len(gammas) - 1
    for k in tqdm(range(1, last + 1), disable=not progress, desc=desc, unit="beta"):
        v, inc = _step(path, v, gammas[k - 1], gammas[k], rng, move=k < last)
        log_w += inc
    return log_w


def annealing_path(model, owner: str) -> type[BernoulliPath]:
    """The path class of ``model``'s type; an error naming ``owner`` for any other model."""
    for cls in type(model).__mro__:
        if cls in PATHS:
            return PATHS[cls]
    raise InputTypeError(
        f"The 'model' parameter of {owner} must be a BernoulliRBM or a GaussianBernoulliRBM. "
        f"Got {type(model).__name__} instead."
    )
