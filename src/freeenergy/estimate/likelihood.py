"""Average log-likelihood of data under an RBM, with the uncertainty of ``log Z`` carried along.

``log p(v) = -F(v) - log Z`` (nats). The free energies are exact; ``log Z`` comes from an
estimator, usually :func:`~freeenergy.estimate.ais.ais` (a stochastic lower bound on ``log Z``,
so an optimistic log-likelihood) or :func:`~freeenergy.estimate.ais.reverse_ais` (a stochastic
upper bound, so a conservative one). :func:`bracket` computes both and checks that they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from freeenergy._params import InputError, check_real, fail, warn_caller
from freeenergy.estimate._result import Estimate, Uncertain
from freeenergy.estimate.ais import run_annealing
from freeenergy.estimate.ais_kernel import annealing_path
from freeenergy.models._torch import check_rows

__all__ = ["BracketWarning", "LikelihoodBracket", "LogLikelihood", "bracket", "log_likelihood"]


class BracketWarning(UserWarning):
    """Forward and reverse AIS disagree: the log-likelihood bracket is not trustworthy.

    Attributes
    ----------
    forward_log_z, reverse_log_z : float
        The two estimates of ``log Z``.
    sigma : float
        Their combined standard deviation, ``sqrt(stderr_f^2 + stderr_r^2)``.
    """

    def __init__(self, message: str, forward_log_z: float, reverse_log_z: float, sigma: float):
        super().__init__(message)
        self.forward_log_z, self.reverse_log_z, self.sigma = forward_log_z, reverse_log_z, sigma


@dataclass(frozen=True)
class LogLikelihood(Uncertain):
    """Mean log-likelihood of a data set under a model, in nats per example.

    Attributes
    ----------
    mean : float
        ``mean_i log p(v_i) = -mean_i F(v_i) - log Z``, with ``log Z`` the estimate's value.
    stderr : float
        One standard deviation of ``mean`` as an estimate of the expected log-likelihood under
        the data distribution: ``sqrt(per_sample_std^2 / n + stderr(log Z)^2)``, the sampling
        error of the average over examples and the error of ``log Z`` combined.
    lower, upper : float
        ``-mean F - log_z.upper`` and ``-mean F - log_z.lower``: the interval of ``log Z``
        carried over to the average over **these** examples (no sampling error over examples).
        For AIS, that is Salakhutdinov & Murray's +-3 standard deviation interval.
    per_sample_std : float
        Standard deviation of ``log p(v_i)`` over the examples (ddof = 1; 0 for one example).
    n : int
        Number of examples.
    log_z : Estimate
        The ``log Z`` used (a plain number becomes an Estimate with ``method="given"`` and
        ``stderr=0``).

    Examples
    --------
    >>> from freeenergy.estimate._result import Estimate, Uncertain
    >>> from freeenergy.estimate.likelihood import LogLikelihood
    >>> ll = LogLikelihood(-20.0, 0.5, -20.3, -19.7, 4.0, 100, Estimate(30.0, 0.1, 29.7, 30.3, "ais", 100))
    >>> print(ll)
    log p = -20.0000 ± 0.5 nats per example ([-20.3000, -19.7000], n = 100, log Z by ais)
    """

    mean: float
    stderr: float
    lower: float
    upper: float
    per_sample_std: float
    n: int
    log_z: Estimate

    @property
    def value(self) -> float:
        """``mean`` (the common name of :class:`~freeenergy.estimate._result.Uncertain`)."""
        return self.mean

    @property
    def method(self) -> str:
        """How ``log Z`` was obtained: ``log_z.method``."""
        return self.log_z.method

    def __str__(self) -> str:
        return (f"log p = {self.mean:.4f} ± {self.stderr:.3g} nats per example ([{self.lower:.4f}, "
                f"{self.upper:.4f}], n = {self.n}, log Z by {self.log_z.method})")


@dataclass(frozen=True)
class LikelihoodBracket:
    """A conservative and an optimistic mean log-likelihood from reverse and forward AIS.

    Attributes
    ----------
    conservative : LogLikelihood
        With reverse AIS's ``log Z`` (a stochastic upper bound on ``log Z``, so this is lower).
    optimistic : LogLikelihood
        With forward AIS's ``log Z`` (a stochastic lower bound on ``log Z``).
    gap : float
        ``reverse.log_z - forward.log_z`` = ``optimistic.mean - conservative.mean``; >= 0 in
        expectation; its size measures how far both are from the truth.
    sigma : float
        ``sqrt(forward.stderr^2 + reverse.stderr^2)``, one standard deviation of ``gap``.
    """

    conservative: LogLikelihood
    optimistic: LogLikelihood
    gap: float
    sigma: float

    def __iter__(self):
        return iter((self.conservative, self.optimistic))


def _as_estimate(log_z, owner: str) -> Estimate:
    if isinstance(log_z, Estimate):
        if not math.isfinite(log_z.log_z):
            raise fail("log_z", owner, "an Estimate with a finite log_z", log_z.log_z)
        return log_z
    value = check_real("log_z", log_z, owner)
    return Estimate(value, 0.0, value, value, "given", 0)


def _log_likelihood(neg_f: torch.Tensor, est: Estimate) -> LogLikelihood:
    n = neg_f.numel()
    mean_neg_f = float(neg_f.mean())
    std = float(neg_f.std()) if n > 1 else 0.0
    stderr = math.sqrt(std**2 / n + est.stderr**2)
    return LogLikelihood(mean_neg_f - est.log_z, stderr, mean_neg_f - est.upper, mean_neg_f - est.lower,
                         std, n, est)


def _rows(model, data, owner) -> torch.Tensor:
    """The data, validated once: rows of 0/1 values for Bernoulli visibles."""
    annealing_path(model, owner)
    return check_rows(data, model, owner, values="binary" if model.binary_visible else None,
                      hint=" (binarise grey levels first)")


def _neg_free_energy(model, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return -model.free_energy(x, check=False).to(torch.float64)


def log_likelihood(model, data, log_z) -> LogLikelihood:
    """Mean log-likelihood ``mean_i log p(v_i)`` of ``data`` (nats per example).

    Parameters
    ----------
    model : BernoulliRBM or GaussianBernoulliRBM
    data : array_like, shape (n_examples, n_visible)
        Examples, one per row (0/1 values for Bernoulli visibles; for Gaussian visibles
        ``log p`` is a log-density).
    log_z : Estimate or float
        ``log Z`` of the model, e.g. from :func:`~freeenergy.estimate.ais.ais`,
        :func:`~freeenergy.estimate.ais.reverse_ais` or
        :func:`~freeenergy.estimate.exact.exact_log_partition`.

    Returns
    -------
    LogLikelihood
        ``mean``, ``stderr`` (one standard deviation, sampling error over examples and
        ``log Z``'s error combined), ``lower``/``upper`` (``log Z``'s interval carried over),
        ``per_sample_std``, ``n`` and ``log_z``. An optimistic ``log Z`` (too small) gives a
        too-large log-likelihood.

    Examples
    --------
    >>> import torch
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.estimate.exact import exact_log_partition
    >>> from freeenergy.estimate.likelihood import log_likelihood
    >>> rbm = BernoulliRBM(6, 3, seed=0)
    >>> data = torch.tensor([[0, 1, 1, 0, 0, 1], [1, 1, 0, 0, 1, 0]])
    >>> ll = log_likelihood(rbm, data, exact_log_partition(rbm))
    >>> round(ll.mean, 4), ll.n, ll.lower == ll.mean == ll.upper
    (-4.1562, 2, True)
    """
    owner = "log_likelihood"
    est = _as_estimate(log_z, owner)
    return _log_likelihood(_neg_free_energy(model, _rows(model, data, owner)), est)


def bracket(model, data, *, forward: Estimate, reverse: Estimate,
            max_gap: float | None = 1.0) -> LikelihoodBracket:
    """Conservative and optimistic log-likelihoods from reverse and forward AIS, checked.

    Forward AIS underestimates ``log Z`` in expectation and reverse AIS (started at data)
    overestimates it, so ``reverse.log_z - forward.log_z`` should be >= 0 up to noise, and the
    true mean log-likelihood should lie between ``conservative.mean`` and ``optimistic.mean``
    (Burda, Grosse & Salakhutdinov 2015).

    A :class:`BracketWarning` is issued when

    * ``forward.log_z > reverse.log_z + 3 sigma`` with ``sigma = sqrt(stderr_f^2 +
      stderr_r^2)``: the bounds cross, which should not happen in expectation. The error bars
      are wrong (too few chains, heavy-tailed weights) or the data are far from model samples,
      so reverse AIS is no upper bound; or
    * ``reverse.log_z - forward.log_z > max_gap`` (nats): the bracket is too wide to trust
      either number; anneal longer (more betas) or use more chains.

    Parameters
    ----------
    model : BernoulliRBM or GaussianBernoulliRBM
    data : array_like, shape (n_examples, n_visible)
        The examples whose log-likelihood is wanted (0/1 values for Bernoulli visibles).
    forward : Estimate
        ``log Z`` from :func:`~freeenergy.estimate.ais.ais`.
    reverse : Estimate
        ``log Z`` from :func:`~freeenergy.estimate.ais.reverse_ais`.
    max_gap : float > 0 or None
        Widest acceptable gap between the two ``log Z`` in nats (default 1); None turns that
        check off.

    Returns
    -------
    LikelihoodBracket
        ``conservative`` and ``optimistic`` :class:`LogLikelihood` records (it unpacks as that
        pair), the ``gap`` and its standard deviation ``sigma``.

    Raises
    ------
    ValueError
        If ``forward`` or ``reverse`` is not an Estimate with a finite ``log_z``, or they look
        swapped (``forward.method == "reverse_ais"`` or ``reverse.method == "ais"``).

    Examples
    --------
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.estimate.ais import ais, reverse_ais, default_betas
    >>> from freeenergy.estimate.likelihood import bracket
    >>> rbm = BernoulliRBM(10, 4, seed=0)
    >>> data = rbm.sample(100, steps=100, seed=1)
    >>> betas = default_betas(300)
    >>> fwd = ais(rbm, n_chains=100, betas=betas, data=data, seed=0)
    >>> rev = reverse_ais(rbm, data, betas=betas, seed=0)
    >>> low, high = bracket(rbm, data, forward=fwd, reverse=rev)
    >>> abs(high.mean - low.mean) < 0.01
    True
    """
    owner = "bracket"
    for name, est, wrong in (("forward", forward, "reverse_ais"), ("reverse", reverse, "ais")):
        if not isinstance(est, Estimate):
            raise fail(name, owner, "an Estimate", est)
        _as_estimate(est, owner)
        if est.method == wrong:
            raise InputError(
                f"The {name!r} parameter of {owner} got an Estimate from {wrong}; pass the "
                f"result of ais as 'forward' and of reverse_ais as 'reverse'."
            )
    if max_gap is not None and check_real("max_gap", max_gap, owner) <= 0:
        raise fail("max_gap", owner, "a number > 0 or None", max_gap)
    neg_f = _neg_free_energy(model, _rows(model, data, owner))
    gap = reverse.log_z - forward.log_z
    sigma = math.hypot(forward.stderr, reverse.stderr)
    if -gap > 3 * sigma:
        warn_caller(BracketWarning(
            f"Forward AIS log Z ({forward.log_z:.4f}) exceeds reverse AIS log Z "
            f"({reverse.log_z:.4f}) by {-gap:.4g} nats, more than 3 combined standard deviations "
            f"(3 sigma = {3 * sigma:.4g}): the error bars are too small or the data are not "
            f"close to samples of the model, so the bracket is not valid.",
            forward.log_z, reverse.log_z, sigma))
    elif max_gap is not None and gap > max_gap:
        warn_caller(BracketWarning(
            f"Reverse and forward AIS log Z differ by {gap:.4g} nats (> max_gap = {max_gap:g}): "
            f"the log-likelihood is only known to within that; anneal longer (more betas) or "
            f"use more chains.", forward.log_z, reverse.log_z, sigma))
    return LikelihoodBracket(_log_likelihood(neg_f, reverse), _log_likelihood(neg_f, forward), gap, sigma)


def raise_log_likelihood(model, data, *, betas=None, base="data", base_data=None, smoothing: float = 0.05,
                         seed: int | None = None, progress: bool = False) -> LogLikelihood:
    """Per-example log-likelihood by reverse annealing (RAISE).

    Burda, Grosse & Salakhutdinov (2015): a reverse AIS chain started at a test example ``v``
    gives ``log p^(v) = -F(v) + log w(v) - log Z_0`` (``w`` its reverse importance weight,
    ``Z_0`` the base model's partition function). Its expectation is a lower bound on
    ``log p_ann(v)``, the log-likelihood of the *annealing model* (the distribution of the
    forward AIS chain's end point), for any examples; ``p_ann`` tends to the RBM as the schedule
    gets finer and the chains mix. Where the chains do not mix, ``p_ann`` is a different model
    and RAISE can lie above the RBM's true log-likelihood (on MNIST it did, by a few nats, for
    small RBMs whose exact log-likelihood is known: ``docs/results.md``). So it is the
    conservative side of a bracket only when the annealing is long enough; compare it with
    forward AIS and with exact values where those exist. By Jensen's inequality it lies below
    the log-likelihood from ``reverse_ais``'s ``log Z`` on the same chains by ``log mean w -
    mean log w``.

    Parameters
    ----------
    model : BernoulliRBM or GaussianBernoulliRBM
    data : array_like, shape (n_examples, n_visible)
        The examples; one reverse chain starts at each.
    betas, base, smoothing, seed, progress
        As for :func:`~freeenergy.estimate.ais.reverse_ais`.
    base_data : array_like, optional
        Data for the base model's marginals when ``base="data"`` (default: ``data``; pass the
        training set to use the same base model as forward AIS).

    Returns
    -------
    LogLikelihood
        ``mean`` of ``log p^(v_i)``, ``stderr`` = ``per_sample_std / sqrt(n)`` (examples and
        chains are both random), ``lower == upper == mean``, and ``log_z`` the reverse-AIS
        Estimate that carried the weights.

    Examples
    --------
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.estimate import default_betas, exact_log_partition, log_likelihood
    >>> from freeenergy.estimate.likelihood import raise_log_likelihood
    >>> rbm = BernoulliRBM(10, 4, seed=0)
    >>> data = rbm.sample(200, steps=100, seed=1)
    >>> low = raise_log_likelihood(rbm, data, betas=default_betas(1000), seed=0)
    >>> exact = log_likelihood(rbm, data, exact_log_partition(rbm))
    >>> bool(abs(low.mean - exact.mean) < 0.01)
    True
    """
    owner = "raise_log_likelihood"
    x = _rows(model, data, owner)
    neg_f = _neg_free_energy(model, x)
    if isinstance(base, str) and base == "data" and base_data is None:
        base_data = x
    reverse = run_annealing(model, owner, v0=lambda path, rng: x, betas=betas, base=base, data=base_data,
                   smoothing=smoothing, seed=seed, progress=progress, reverse=True)
    log_w = torch.as_tensor(reverse.info["log_weights"], dtype=torch.float64, device=neg_f.device)
    log_p = neg_f + log_w - reverse.info["log_z_base"]
    n = log_p.numel()
    std = float(log_p.std()) if n > 1 else 0.0
    mean = float(log_p.mean())
    return LogLikelihood(mean, std / math.sqrt(n), mean, mean, std, n, reverse)
