"""Importance-weighted bounds on ``log p(x)`` of latent-variable models (Burda, Grosse &
Salakhutdinov, ICLR 2016): the ``k``-sample bound per example, chunked over samples and examples
with a fixed order of summation, and the standard ``k = 5000`` evaluation of a data set."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from freeenergy._params import check_int
from freeenergy.estimate._result import Uncertain
from freeenergy.estimate.latent_model import check_latent_model, check_x, frozen_array
from freeenergy.models._torch import logsumexp_chunks

__all__ = ["EXAMPLE_BLOCK", "SEED_BLOCK", "LogLikelihoodEstimate", "importance_sampled_log_likelihood",
           "importance_weighted_bound"]

#: Importance samples are drawn in blocks of this many, each block from its own generator
#: seeded from ``seed``, so results do not depend on how the samples are batched ...
SEED_BLOCK = 10
#: ... and examples in groups of this many, each group with its own seeds.
EXAMPLE_BLOCK = 256
_IW_ELEMENTS = 1 << 24  # numbers (samples x examples x width) held at once by default
_LOG2 = math.log(2.0)


@dataclass(frozen=True, eq=False)
class LogLikelihoodEstimate(Uncertain):
    """Mean ``log p(x)`` of a data set (nats per example) from the importance-weighted bound.

    Attributes
    ----------
    mean : float
        Mean over the examples of the per-example ``k``-sample bound (a stochastic lower bound
        on the mean ``log p(x)`` that tightens as ``k`` grows).
    stderr : float
        One standard deviation of ``mean`` as an estimate of the expected log-likelihood under
        the data distribution: ``std(per_example, ddof=1) / sqrt(n)`` (0 for one example).
    per_example : ndarray of float64, shape (n,)
        The bound of each example.
    k : int
        Importance samples per example.
    n : int
        Number of examples.

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.estimate.importance import LogLikelihoodEstimate
    >>> print(LogLikelihoodEstimate(-85.0, 0.5, np.array([-84.5, -85.5]), 5000, 2))
    log p(x) = -85.0000 ± 0.5 nats per example (k = 5000, n = 2)
    """

    mean: float
    stderr: float
    per_example: np.ndarray
    k: int
    n: int

    def __post_init__(self):
        object.__setattr__(self, "mean", float(self.mean))
        object.__setattr__(self, "stderr", float(self.stderr))
        object.__setattr__(self, "per_example", frozen_array(self.per_example))

    @property
    def bits(self) -> float:
        """``mean`` in bits per example."""
        return self.mean / _LOG2

    @property
    def value(self) -> float:
        """``mean`` (the common name of :class:`~freeenergy.estimate._result.Uncertain`)."""
        return self.mean

    @property
    def lower(self) -> float:
        """``mean - 3 stderr``."""
        return self.mean - 3 * self.stderr

    @property
    def upper(self) -> float:
        """``mean + 3 stderr``."""
        return self.mean + 3 * self.stderr

    @property
    def method(self) -> str:
        """``"importance_weighted(k=K)"``."""
        return f"importance_weighted(k={self.k})"

    def __str__(self) -> str:
        return f"log p(x) = {self.mean:.4f} ± {self.stderr:.3g} nats per example (k = {self.k}, n = {self.n})"


def _block_seeds(seed, n_groups: int, n_blocks: int, owner: str) -> list[list[int]]:
    """One integer seed per (group of examples, block of samples), all derived from ``seed``."""
    if seed is not None:
        seed = check_int("seed", seed, owner, 0)
    root = np.random.SeedSequence(seed)
    return [
        [int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)) for s in group.spawn(n_blocks)]
        for group in root.spawn(n_groups)
    ]


def _auto_batch(model) -> int:
    width = max(int(model.n_visible), int(model.n_latent), 1)
    return max(SEED_BLOCK, _IW_ELEMENTS // (EXAMPLE_BLOCK * width))


def _iw_group(model, x, k: int, seeds: list[int], per_chunk: int) -> torch.Tensor:
    """``log sum_i w_i`` of one group of examples, blocks folded in a fixed order."""
    gen = torch.Generator(device=x.device)

    def blocks():
        for first in range(0, len(seeds), per_chunk):
            zs, log_qs = [], []
            for j in range(first, min(first + per_chunk, len(seeds))):
                gen.manual_seed(seeds[j])
                z, log_q = model.recognition_sample(x, min(SEED_BLOCK, k - j * SEED_BLOCK), generator=gen)
                zs.append(z)
                log_qs.append(log_q)
            z, log_q = torch.cat(zs), torch.cat(log_qs)
            log_w = model.log_joint(x, z).to(torch.float64) - log_q.to(torch.float64)
            # reduce block by block so the grouping (and the rounding) never depends on batch
            yield from torch.split(log_w, SEED_BLOCK)

    return logsumexp_chunks(blocks())


def importance_weighted_bound(model, x, k: int, *, seed=None, batch: int | None = None) -> np.ndarray:
    """The ``k``-sample importance-weighted bound on ``log p(x)`` of each example (nats).

    ``L_k(x) = log (1/k) sum_{i=1}^k p(x, z_i) / q(z_i | x)`` with ``z_i ~ q(z | x)`` (Burda et
    al. 2016): ``E[L_1]`` is the ELBO, ``E[L_k] <= E[L_{k+1}] <= log p(x)`` and ``L_k -> log
    p(x)`` as ``k`` grows. The sum runs as a float64 log-sum-exp over chunks of the samples and
    of the examples, so ``k = 5000`` on a whole test set fits in memory.

    Parameters
    ----------
    model : LatentVariableModel
    x : array_like or Tensor, shape (b, n_visible)
    k : int
        Importance samples per example, >= 1.
    seed : int, optional
        Same seed, same bound. Examples go in groups of :data:`EXAMPLE_BLOCK` and samples in
        blocks of :data:`SEED_BLOCK`; each (group, block) has its own generator derived from
        ``seed``, so the result does not depend on ``batch``.
    batch : int, optional
        Importance samples evaluated at once for a group of examples (rounded up to a multiple
        of :data:`SEED_BLOCK`), >= 1: the memory knob. By default about 2^24 numbers (the
        wider of ``x`` and ``z``) are held at once.

    Returns
    -------
    ndarray of float64, shape (b,)

    Examples
    --------
    >>> from freeenergy.models.helmholtz import HelmholtzMachine
    >>> from freeenergy.estimate.variational import importance_weighted_bound
    >>> hm = HelmholtzMachine((5, 4), seed=0)
    >>> x = hm.sample(3, seed=1)
    >>> a = importance_weighted_bound(hm, x, 100, seed=0, batch=20)
    >>> b = importance_weighted_bound(hm, x, 100, seed=0, batch=1000)
    >>> a.shape, bool(abs(a - b).max() < 1e-12)
    ((3,), True)
    """
    return _iw_bound(model, x, k, seed, batch, "importance_weighted_bound")


def _iw_bound(model, x, k, seed, batch, owner: str) -> np.ndarray:
    """:func:`importance_weighted_bound`, its errors naming ``owner``."""
    check_latent_model(model, owner)
    k = check_int("k", k, owner, 1)
    batch = _auto_batch(model) if batch is None else check_int("batch", batch, owner, 1)
    x = check_x(model, x, owner)
    n_groups = -(-x.shape[0] // EXAMPLE_BLOCK)
    seeds = _block_seeds(seed, n_groups, -(-k // SEED_BLOCK), owner)
    per_chunk = max(1, -(-batch // SEED_BLOCK))
    with torch.no_grad():
        totals = [
            _iw_group(model, x[g * EXAMPLE_BLOCK : (g + 1) * EXAMPLE_BLOCK], k, seeds[g], per_chunk)
            for g in range(n_groups)
        ]
    return (torch.cat(totals) - math.log(k)).cpu().numpy()


def importance_sampled_log_likelihood(model, x, k: int = 5000, *, seed=None,
                                      batch: int | None = None) -> LogLikelihoodEstimate:
    """Mean ``log p(x)`` of a data set by the ``k``-sample importance-weighted bound.

    The standard evaluation protocol of latent-variable models (Burda et al. 2016, ``k =
    5000``; their binarized-MNIST test NLLs are 86.76 nats for a one-layer VAE).

    Parameters
    ----------
    model : LatentVariableModel
    x : array_like or Tensor, shape (n, n_visible)
    k : int
        Importance samples per example, >= 1.
    seed, batch
        As for :func:`importance_weighted_bound`.

    Returns
    -------
    LogLikelihoodEstimate
        Mean over examples with its stderr (one standard deviation, spread over examples).

    Examples
    --------
    >>> from freeenergy.models.helmholtz import HelmholtzMachine
    >>> from freeenergy.estimate.importance import importance_sampled_log_likelihood
    >>> hm = HelmholtzMachine((5, 4), seed=0)
    >>> ll = importance_sampled_log_likelihood(hm, hm.sample(8, seed=1), k=200, seed=0)
    >>> ll.n, ll.k, ll.per_example.shape
    (8, 200, (8,))
    """
    per_example = _iw_bound(model, x, k, seed, batch, "importance_sampled_log_likelihood")
    n = per_example.size
    stderr = float(per_example.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return LogLikelihoodEstimate(per_example.mean(), stderr, per_example, k, n)
