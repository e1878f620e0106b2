"""Annealed importance sampling (AIS) of ``log Z`` for RBMs, forward and reverse.

The path (Salakhutdinov & Murray, "On the quantitative analysis of deep belief networks",
ICML 2008) runs from a base model ``A`` with ``W = 0`` to the model ``B``. ``A`` keeps ``B``'s
hidden layer (hidden bias 0) and has visible biases ``a_A``: the logits of the data's smoothed
pixel marginals (``base="data"``), zero (``base="uniform"``) or given; for a
:class:`~freeenergy.models.GaussianBernoulliRBM` it keeps ``sigma`` and ``a_A`` is the data
mean. Its partition function is closed-form,

    log Z_A = sum_i softplus(a_A,i) + n_hidden log 2                    (Bernoulli)
    log Z_A = sum_i log(sqrt(2 pi) sigma_i) + n_hidden log 2            (Gaussian).

The intermediate distribution at inverse temperature ``beta`` has the energy
``E_beta(v, h) = (1 - beta) E_A(v, h) + beta E_B(v, h)``: an RBM whose visible biases
interpolate and whose ``W`` and ``b`` are scaled by ``beta``. With the hidden units summed out,

    log f_beta(v) = -(1 - beta) V_A(v) - beta V_B(v) + sum_j softplus(beta (b + drive(v) W)_j),

(``V`` the visible part of the energy; ``drive(v) = v``, or ``v / sigma^2``), which is
``-(1 - beta) F_A(v) - F_B^(beta)(v)`` with ``F_B^(beta)`` the free energy of
``model.at_beta(beta)``. The transition at ``beta`` is one block-Gibbs sweep ``v -> h -> v`` of
that RBM, which leaves ``f_beta`` invariant. A chain started at an exact sample of ``A`` picks up
the log weight ``sum_k [log f_k(v_{k-1}) - log f_{k-1}(v_{k-1})]``; ``E[w] = Z_B / Z_A``.

Reverse AIS (Burda, Grosse & Salakhutdinov, "Accurate and conservative estimates of MRF
log-likelihood using reverse annealing", AISTATS 2015) runs the same kernel with the schedule
reversed, from ``beta = 1`` to 0, starting at data; ``E[w] = Z_A / Z_B`` if the start is an exact
sample of the model.

Every estimator here is one loop over one kernel (:func:`_anneal`), vectorised over chains, on
the model's device and dtype; log weights are accumulated in float64.
"""

from __future__ import annotations

import math
import numbers
import time

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from freeenergy._params import check_int, check_real, fail
from freeenergy._threads import threads_for
from freeenergy.estimate._result import Estimate
from freeenergy.models._torch import as_real_tensor
from freeenergy.models.rbm import BernoulliRBM, GaussianBernoulliRBM

__all__ = ["DEFAULT_N_BETAS", "ais", "base_log_partition", "base_rate_logits", "default_betas", "reverse_ais"]

#: Length of :func:`default_betas`, Salakhutdinov & Murray's (2008) MNIST schedule.
DEFAULT_N_BETAS = 14_500
# Their schedule: 500 betas on [0, 0.5), 4000 on [0.5, 0.9), 10000 on [0.9, 1].
_SEGMENTS = ((0.0, 0.5, 500), (0.5, 0.9, 4000), (0.9, 1.0, 10_000))


def default_betas(n_betas: int = DEFAULT_N_BETAS) -> np.ndarray:
    """Salakhutdinov & Murray's (2008) annealing schedule, or the same shape with fewer betas.

    The default is their MNIST schedule: 500 inverse temperatures spaced uniformly on
    [0, 0.5), 4000 on [0.5, 0.9) and 10,000 on [0.9, 1], 14,500 in all, from exactly 0 to exactly
    1. Another ``n_betas`` splits the points among the three segments in the same proportions
    (1 : 8 : 20), with at least one point in each of the first two and two in the last.

    Parameters
    ----------
    n_betas : int, >= 4
        Number of inverse temperatures, end points included.

    Returns
    -------
    ndarray of float64, shape (n_betas,)
        Strictly increasing, ``betas[0] == 0`` and ``betas[-1] == 1``.

    Examples
    --------
    >>> from freeenergy.estimate.ais import default_betas
    >>> b = default_betas()
    >>> len(b), b[[0, 500, 4500, -1]].tolist()
    (14500, [0.0, 0.5, 0.9, 1.0])
    >>> default_betas(29).round(3).tolist()[:4]
    [0.0, 0.5, 0.55, 0.6]
    """
    n = check_int("n_betas", n_betas, "default_betas", 4)
    total = sum(k for _, _, k in _SEGMENTS)
    n1 = max(1, round(n * _SEGMENTS[0][2] / total))
    n2 = min(max(1, round(n * _SEGMENTS[1][2] / total)), n - n1 - 2)
    return np.concatenate([
        np.linspace(0.0, 0.5, n1, endpoint=False),
        np.linspace(0.5, 0.9, n2, endpoint=False),
        np.linspace(0.9, 1.0, n - n1 - n2),
    ])

# ---------------------------------------------------------------------------- validation


def _check_betas(betas, owner: str) -> np.ndarray:
    if betas is None:
        return default_betas()
    if isinstance(betas, torch.Tensor):
        betas = betas.detach().cpu().numpy()
    expected = "a strictly increasing 1-D sequence of at least 2 inverse temperatures from 0 to 1"
    try:
        arr = np.asarray(betas, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail("betas", owner, expected, betas) from None
    if arr.ndim != 1 or arr.size < 2 or not np.isfinite(arr).all():
        raise fail("betas", owner, expected, arr)
    if arr[0] != 0.0 or arr[-1] != 1.0:
        got = f"betas[0] = {float(arr[0])!r} and betas[-1] = {float(arr[-1])!r}"
        raise ValueError(f"The 'betas' parameter of {owner} must be {expected}. Got {got} instead.")
    steps = np.diff(arr)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0))
        got = f"betas[{i}] = {float(arr[i])!r} >= betas[{i + 1}] = {float(arr[i + 1])!r}"
        raise ValueError(f"The 'betas' parameter of {owner} must be {expected}. Got {got} instead.")
    return arr


def _check_data(data, model, owner: str, *, binary: bool, name: str = "data") -> torch.Tensor:
    """Validate a (n, n_visible) batch of examples; return it on the model's device and dtype.

    ``binary``: Bernoulli visibles must be exactly 0 or 1 (else values in [0, 1] are allowed).
    """
    x = as_real_tensor(data, name, owner, "shape (n_examples, n_visible)").detach()
    n_v = model.n_visible
    if x.ndim != 2 or x.shape[1] != n_v or x.shape[0] < 1:
        raise ValueError(
            f"The {name!r} parameter of {owner} must have shape (n_examples, {n_v}): one example "
            f"per row, one value per visible unit, at least one row. Got shape {tuple(x.shape)} "
            f"instead (reshape images to rows, e.g. data.reshape(len(data), -1))."
        )
    x = x.to(device=model.device, dtype=model.dtype)
    if not torch.isfinite(x).all():
        raise ValueError(f"The {name!r} parameter of {owner} must be finite. Got NaN or inf.")
    if isinstance(model, BernoulliRBM):
        bad = (x != 0) & (x != 1) if binary else (x < 0) | (x > 1)
        if bad.any():
            allowed = "0/1 values (binarise grey levels first)" if binary else "values in [0, 1]"
            value = x[bad].flatten()[0].item()
            raise ValueError(
                f"The {name!r} parameter of {owner} must hold {allowed} for the Bernoulli "
                f"visibles of a {type(model).__name__}. Got a value of {value!r} in data of shape "
                f"{tuple(x.shape)} instead."
            )
    return x


def _check_model(model, owner: str):
    for cls in type(model).__mro__:
        if cls in _PATHS:
            return _PATHS[cls]
    raise TypeError(
        f"The 'model' parameter of {owner} must be a BernoulliRBM or a GaussianBernoulliRBM. "
        f"Got {type(model).__name__} instead."
    )


class _Random:
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
            self.gen = torch.Generator(device=device)
            self.gen.seed() if seed is None else self.gen.manual_seed(seed)

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


def _check_bool(name, value, owner):
    if not isinstance(value, bool):
        raise fail(name, owner, "a bool", value)
    return value


# ---------------------------------------------------------------------------- the base model


def _base_bias(model, base, data, smoothing, owner) -> tuple[torch.Tensor, str]:
    """Visible biases ``a_A`` of the base model (logits, or means for Gaussian visibles)."""
    gaussian = isinstance(model, GaussianBernoulliRBM)
    kw = {"device": model.device, "dtype": model.dtype}
    if check_real("smoothing", smoothing, owner) <= 0 or smoothing > 1:
        raise fail("smoothing", owner, "a number in (0, 1]", smoothing)
    if isinstance(base, str) and base == "data":
        if data is None:
            raise ValueError(
                f"{owner} with base='data' needs 'data' (an array of shape (n_examples, "
                f"{model.n_visible})) to set the base model's visible biases; pass data=... or "
                f"use base='uniform' or a tensor of base visible biases."
            )
        return _base_rate(_check_data(data, model, owner, binary=False), smoothing, gaussian), "data"
    if isinstance(base, str) and base == "uniform":
        if gaussian:
            raise ValueError(
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
    >>> from freeenergy.estimate.ais import base_rate_logits
    >>> rbm = BernoulliRBM(3, 2, seed=0)
    >>> base_rate_logits([[0, 1, 1], [0, 0, 1]], rbm, smoothing=0.1).round(decimals=4).tolist()
    [-2.9444, 0.0, 2.9444]
    """
    owner = "base_rate_logits"
    gaussian = isinstance(model, GaussianBernoulliRBM)
    _check_model(model, owner)
    if check_real("smoothing", smoothing, owner) <= 0 or smoothing > 1:
        raise fail("smoothing", owner, "a number in (0, 1]", smoothing)
    return _base_rate(_check_data(data, model, owner, binary=False), smoothing, gaussian)


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
    >>> from freeenergy.estimate.ais import base_log_partition
    >>> rbm = BernoulliRBM(3, 2, seed=0)
    >>> math.isclose(base_log_partition(rbm, [0.0, 0.0, 0.0]), 5 * math.log(2))
    True
    """
    path = _check_model(model, "base_log_partition")
    bias = torch.as_tensor(np.asarray(base_bias, dtype=np.float64))
    if bias.shape != (model.n_visible,):
        raise fail("base_bias", "base_log_partition", f"an array of shape ({model.n_visible},)",
                   f"shape {tuple(bias.shape)}")
    return path.log_z_base(model, bias)


# ---------------------------------------------------------------------------- the kernel


class _BernoulliPath:
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


class _GaussianPath(_BernoulliPath):
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


_PATHS = {BernoulliRBM: _BernoulliPath, GaussianBernoulliRBM: _GaussianPath}
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


def _anneal(path, v, betas: np.ndarray, rng, progress: bool, desc: str) -> torch.Tensor:
    """Run the chains ``v`` along ``betas`` (either direction); return float64 log weights."""
    log_w = torch.zeros(v.shape[0], dtype=torch.float64, device=v.device)
    gammas = betas.tolist()
    last = len(gammas) - 1
    for k in tqdm(range(1, last + 1), disable=not progress, desc=desc, unit="beta"):
        v, inc = _step(path, v, gammas[k - 1], gammas[k], rng, move=k < last)
        log_w += inc
    return log_w


def _summary(log_w: torch.Tensor) -> dict:
    """log-mean-exp of the weights, its delta-method stderr and the effective sample size."""
    lw = log_w.cpu().numpy()
    n = lw.size
    shifted = np.exp(lw - lw.max())  # in (0, 1], the largest exactly 1
    mean = shifted.mean()
    log_mean = float(np.log(mean) + lw.max())
    rel = float(shifted.std(ddof=1) / (mean * math.sqrt(n))) if n > 1 else math.inf
    ess = float(shifted.sum() ** 2 / (shifted**2).sum())
    return {"log_mean": log_mean, "rel": rel, "ess": ess, "log_weights": lw}


def _log1p_safe(x: float) -> float:
    return math.log1p(x) if x > -1 else -math.inf


def _run(model, owner, *, v0, betas, base, data, smoothing, seed, progress, reverse):
    path_cls = _check_model(model, owner)
    betas = _check_betas(betas, owner)
    _check_bool("progress", progress, owner)
    start = time.perf_counter()
    with torch.no_grad():
        base_bias, base_name = _base_bias(model, base, data, smoothing, owner)
        path = path_cls(model, base_bias)
        rng = _Random(seed, model.device, owner)
        v = v0(path, rng)
        with threads_for(v.shape[0] * model.n_visible * model.n_hidden):
            log_w = _anneal(path, v, betas[::-1] if reverse else betas, rng, progress, owner)
    stats = _summary(log_w)
    log_z_base = path_cls.log_z_base(model, base_bias)
    rel = stats["rel"]
    if reverse:
        log_z = log_z_base - stats["log_mean"]
        lower, upper = log_z - math.log1p(3 * rel), log_z - _log1p_safe(-3 * rel)
    else:
        log_z = log_z_base + stats["log_mean"]
        lower, upper = log_z + _log1p_safe(-3 * rel), log_z + math.log1p(3 * rel)
    info = {
        "log_weights": stats["log_weights"], "ess": stats["ess"], "log_z_base": log_z_base,
        "base": base_name, "base_bias": base_bias.to(torch.float64).cpu().numpy(),
        "n_betas": int(betas.size), "seed": seed, "device": str(model.device),
        "dtype": str(model.dtype).removeprefix("torch."),
        "bound": "stochastic upper bound" if reverse else "stochastic lower bound",
        "seconds": time.perf_counter() - start,
    }
    return Estimate(log_z, rel, lower, upper, "reverse_ais" if reverse else "ais", v.shape[0], info)


# ---------------------------------------------------------------------------- public


def ais(model, *, n_chains: int = 100, betas=None, base="data", data=None, smoothing: float = 0.05,
        seed: int | None = None, progress: bool = False) -> Estimate:
    """Estimate ``log Z`` (nats) of an RBM by annealed importance sampling.

    Chains start at exact samples of the base model ``A`` (``W = 0``; see the module docstring)
    and are annealed to the model along ``betas``, one block-Gibbs sweep per inverse
    temperature (Salakhutdinov & Murray 2008). With the importance weights ``w_i``
    (``E[w] = Z / Z_A``),

        log_z = log Z_A + log mean_i w_i.

    ``mean w`` is unbiased for ``Z / Z_A``, so by Jensen's inequality ``E[log_z] <= log Z``:
    **AIS is a stochastic lower bound on log Z**. It holds on average, not run by run: a single
    run can overshoot, but by Markov's inequality ``P(log_z > log Z + t) <= exp(-t)``; too few
    betas or chains make it underestimate. :func:`reverse_ais` gives the matching stochastic
    upper bound.

    Parameters
    ----------
    model : BernoulliRBM or GaussianBernoulliRBM
        The model, at T = 1. Chains run on its device and in its dtype.
    n_chains : int, >= 1
        Number of independent annealing runs (importance samples).
    betas : array_like, optional
        Strictly increasing inverse temperatures from exactly 0 to exactly 1. By default
        :func:`default_betas` (14,500 of them); cost is proportional to ``len(betas)``.
    base : {"data", "uniform"} or array_like of shape (n_visible,)
        Visible biases of the base model. ``"data"``: the logits of the smoothed visible
        marginals ``p_i = (1 - smoothing) mean(data_i) + smoothing / 2`` (for Gaussian visibles:
        the data means, with the model's ``sigma``); ``"uniform"``: zero logits (Bernoulli
        only); an array: these biases. A base close to the model's marginals makes AIS more
        accurate for the same cost.
    data : array_like, shape (n_examples, n_visible), optional
        Training examples for ``base="data"`` (values in [0, 1] for Bernoulli visibles).
    smoothing : float in (0, 1]
        Weight of the uniform 1/2 mixed into the data marginals for ``base="data"``, so no
        logit is infinite (1 gives the uniform base). Ignored for Gaussian visibles.
    seed : int, optional
        Seed of the chains' generator (on the model's device): same seed, same device, same
        result, bit for bit. None draws a fresh seed.
    progress : bool
        Show a tqdm progress bar over the betas.

    Returns
    -------
    Estimate
        ``method="ais"``, ``n_samples = n_chains``, and

        * ``log_z``: the estimate above;
        * ``stderr``: one standard deviation of ``log_z`` by the delta method,
          ``std(w) / (mean(w) sqrt(n_chains))`` (weights rescaled by their maximum; ``inf``
          for a single chain). Heavy-tailed weights (small ``info["ess"]``) make it optimistic;
        * ``lower, upper``: Salakhutdinov & Murray's interval, ``log Z_A + log(mean w -+
          3 std(w) / sqrt(n_chains))`` = ``log_z + log1p(-+3 stderr)``, about ``log_z -+ 3
          stderr`` (``lower = -inf`` if ``3 stderr >= 1``). It covers the sampling noise, not the
          downward bias of a too-short schedule;
        * ``info``: ``log_weights`` (float64 array), ``ess`` (Kish effective sample size
          ``(sum w)^2 / sum w^2``, between 1 and ``n_chains``), ``log_z_base`` (``log Z_A``),
          ``base``, ``base_bias``, ``n_betas``, ``seed``, ``device``, ``dtype``, ``bound`` and
          the wall time in ``seconds``.

    Raises
    ------
    ValueError
        For an argument outside the allowed values (the message names it), or ``base="data"``
        without ``data``.
    TypeError
        If ``model`` is not an RBM of a supported type.

    Examples
    --------
    >>> import torch
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.estimate.ais import ais, default_betas
    >>> from freeenergy.estimate.exact import exact_log_partition
    >>> rbm = BernoulliRBM(12, 6, seed=0)
    >>> with torch.no_grad():
    ...     _ = rbm.weight.normal_(0, 1.0, generator=torch.Generator().manual_seed(1))
    >>> est = ais(rbm, n_chains=200, betas=default_betas(1000), base="uniform", seed=0)
    >>> exact = exact_log_partition(rbm).log_z
    >>> abs(est.log_z - exact) < 3 * est.stderr, est.lower < est.log_z < est.upper
    (True, True)
    >>> est.n_samples, est.info["log_weights"].shape
    (200, (200,))
    """
    owner = "ais"
    _check_model(model, owner)
    n_chains = check_int("n_chains", n_chains, owner, 1)
    return _run(model, owner, v0=lambda path, rng: path.init(n_chains, rng), betas=betas,
                base=base, data=data, smoothing=smoothing, seed=seed,
                progress=progress, reverse=False)


def reverse_ais(model, data, *, n_chains: int | None = None, betas=None, base="data",
                smoothing: float = 0.05, seed: int | None = None, progress: bool = False) -> Estimate:
    """Stochastic upper bound on ``log Z`` by reverse annealing from data.

    Reverse AIS (Burda, Grosse & Salakhutdinov 2015) starts each chain at a data point, taken
    as an approximate sample of the model, and runs the kernel of :func:`ais` with the schedule
    reversed, from ``beta = 1`` down to the base model. Its weights ``w_i`` have ``E[w] =
    Z_A / Z`` when the starting points are exact model samples, so

        log_z = log Z_A - log mean_i w_i

    satisfies ``E[log_z] >= log Z`` (Jensen) and ``P(log_z < log Z - t) <= exp(-t)`` (Markov):
    a **stochastic upper bound**, and the log-likelihood computed with it
    (:func:`~freeenergy.estimate.likelihood.log_likelihood`) is conservative. Together with
    :func:`ais` it brackets ``log Z`` (:func:`~freeenergy.estimate.likelihood.bracket`).

    Caveat: data are not exact samples of the model. The bound holds only as far as the data
    distribution is close to the model's; a model far from its data (early in training,
    overfitted, or evaluated on foreign data) can make the estimate fall below ``log Z``. With
    exact samples as starts (for example drawn by enumerating a small model) it is valid.

    Parameters
    ----------
    model : BernoulliRBM or GaussianBernoulliRBM
        The model, at T = 1.
    data : array_like, shape (n_examples, n_visible)
        Starting points of the chains (0/1 values for Bernoulli visibles). With ``base="data"``
        they also set the base model.
    n_chains : int, optional
        Number of chains; by default one per example. Otherwise the examples are taken in a
        random order (by ``seed``) and cycled if ``n_chains`` exceeds their number.
    betas, base, smoothing, seed, progress
        As for :func:`ais` (``betas`` is given increasing, as there, and run backwards).

    Returns
    -------
    Estimate
        ``method="reverse_ais"``; ``stderr`` by the delta method as in :func:`ais`; ``lower,
        upper = log_z - log1p(+-3 stderr)``, about ``log_z -+ 3 stderr`` (``upper = inf`` if
        ``3 stderr >= 1``); ``info`` as for :func:`ais`, with ``bound = "stochastic upper
        bound"``.

    Examples
    --------
    >>> import torch
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.estimate.ais import ais, reverse_ais, default_betas
    >>> rbm = BernoulliRBM(12, 6, seed=0)
    >>> data = rbm.sample(200, steps=200, seed=1)       # approximate model samples
    >>> betas = default_betas(500)
    >>> up = reverse_ais(rbm, data, betas=betas, seed=0)
    >>> down = ais(rbm, n_chains=200, betas=betas, data=data, seed=0)
    >>> up.info["bound"], abs(up.log_z - down.log_z) < 0.01
    ('stochastic upper bound', True)
    """
    owner = "reverse_ais"
    _check_model(model, owner)
    x = _check_data(data, model, owner, binary=True)
    if n_chains is not None:
        n_chains = check_int("n_chains", n_chains, owner, 1)

    def start(path, rng):
        if n_chains is None:
            return x
        order = rng.permutation(x.shape[0]).to(x.device)
        return x[order[torch.arange(n_chains, device=x.device) % x.shape[0]]]

    base_data = x if isinstance(base, str) and base == "data" else None
    return _run(model, owner, v0=start, betas=betas, base=base, data=base_data, smoothing=smoothing,
                seed=seed, progress=progress, reverse=True)
