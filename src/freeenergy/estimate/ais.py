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

Every estimator here is one loop over one kernel (:func:`~freeenergy.estimate.ais_kernel.anneal`),
vectorised over chains, on the model's device and dtype; log weights are accumulated in float64.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from freeenergy._params import check_bool, check_int
from freeenergy._threads import threads_for
from freeenergy.estimate._result import Estimate
from freeenergy.estimate.ais_kernel import ChainRandom, anneal, annealing_path
from freeenergy.estimate.base_model import base_log_partition, base_model_bias, base_rate_logits
from freeenergy.estimate.schedule import DEFAULT_N_BETAS, check_betas, default_betas
from freeenergy.models._torch import check_rows

__all__ = ["DEFAULT_N_BETAS", "ais", "base_log_partition", "base_rate_logits", "default_betas", "reverse_ais"]


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


def run_annealing(model, owner, *, v0, betas, base, data, smoothing, seed, progress, reverse):
    path_cls = annealing_path(model, owner)
    betas = check_betas(betas, owner)
    check_bool("progress", progress, owner)
    start = time.perf_counter()
    with torch.no_grad():
        base_bias, base_name = base_model_bias(model, base, data, smoothing, owner)
        path = path_cls(model, base_bias)
        rng = ChainRandom(seed, model.device, owner)
        v = v0(path, rng)
        with threads_for(v.shape[0] * model.n_visible * model.n_hidden):
            log_w = anneal(path, v, betas[::-1] if reverse else betas, rng, progress, owner)
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
    annealing_path(model, owner)
    n_chains = check_int("n_chains", n_chains, owner, 1)
    return run_annealing(model, owner, v0=lambda path, rng: path.init(n_chains, rng), betas=betas,
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
    annealing_path(model, owner)
    x = check_rows(data, model, owner, values="binary" if model.binary_visible else None,
                   hint=" (binarise grey levels first)")
    if n_chains is not None:
        n_chains = check_int("n_chains", n_chains, owner, 1)

    def start(path, rng):
        if n_chains is None:
            return x
        order = rng.permutation(x.shape[0]).to(x.device)
        return x[order[torch.arange(n_chains, device=x.device) % x.shape[0]]]

    base_data = x if isinstance(base, str) and base == "data" else None
    return run_annealing(model, owner, v0=start, betas=betas, base=base, data=base_data, smoothing=smoothing,
                seed=seed, progress=progress, reverse=True)
