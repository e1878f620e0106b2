"""Helmholtz (variational) free energy of latent-variable models, its decomposition and its gap.

For a model with joint ``p(x, z)`` the energy of a latent configuration is ``E(x, z) = -log p(x,
z)`` (nats, k_B = 1, T = 1 is the model itself). For any recognition distribution ``q(z | x)``
and temperature ``T``

    ``F_T[q] = <E>_q - T H(q)  >=  F_T = -T log sum_z exp(-E(x, z) / T)``,

with equality exactly at the tempered posterior ``p_T(z | x) ∝ p(z | x)^(1/T)``, and the gap is
``F_T[q] - F_T = T KL(q || p_T)``. At ``T = 1``, ``F_1[q]`` is the negative ELBO and ``F_1 = -log
p(x)``. :func:`helmholtz_free_energy` computes the decomposition (exactly by enumeration on small
models, by Monte Carlo otherwise); :func:`importance_weighted_bound` and
:func:`importance_sampled_log_likelihood` give the tighter importance-weighted bound (Burda,
Grosse & Salakhutdinov, ICLR 2016), the standard ``k = 5000`` evaluation of ``log p(x)``.

The importance-weighted bounds live in :mod:`freeenergy.estimate.importance` and the model
protocol in :mod:`freeenergy.estimate.latent_model`; both are re-exported here. Any model with the
verbs of :class:`LatentVariableModel` works (the Helmholtz machine of
:mod:`freeenergy.models.helmholtz`, the VAE of :mod:`freeenergy.models.vae`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from freeenergy._lazy import renamed_attributes
from freeenergy._params import Description, InputError, check_int, fail
from freeenergy.estimate._result import Mean
from freeenergy.estimate.importance import (
    LogLikelihoodEstimate,
    importance_sampled_log_likelihood,
    importance_weighted_bound,
)
from freeenergy.estimate.latent_model import (
    LatentVariableModel,
    check_latent_model,
    check_T,
    check_x,
    configurations,
    frozen_array,
)
from freeenergy.models._torch import check_seed

__all__ = [
    "HelmholtzFreeEnergy",
    "LatentVariableModel",
    "LogLikelihoodEstimate",
    "enumerated_free_energy",
    "helmholtz_free_energy",
    "importance_sampled_log_likelihood",
    "importance_weighted_bound",
    "tempered_posterior",
]

_ENUM_ELEMENTS = 1 << 22  # configurations x examples evaluated at once during enumeration
_LOG2 = math.log(2.0)


# ---------------------------------------------------------------------------- results


def _mean(values: np.ndarray | None) -> float | None:
    return None if values is None else float(values.mean())


def _mean_stderr(stderr: np.ndarray) -> float:
    """Monte Carlo stderr of the mean over examples (independent per-example errors)."""
    return float(np.sqrt((stderr**2).sum()) / stderr.size)


_ARRAYS = (
    "energy",
    "energy_stderr",
    "entropy",
    "entropy_stderr",
    "free_energy",
    "free_energy_stderr",
    "exact_free_energy",
    "gap",
    "gap_kl",
)


@dataclass(frozen=True, eq=False)
class HelmholtzFreeEnergy:
    """The variational free energy ``F_T[q] = <E>_q - T H(q)`` of each example, decomposed.

    Every array has shape ``(b,)`` (one value per example) and dtype float64, in nats (see
    :meth:`in_bits`). A stderr is one standard deviation of the Monte Carlo estimate over
    ``n_samples`` draws from ``q`` (0 where the value is exact or analytic; NaN for a Monte
    Carlo value from a single sample).

    Attributes
    ----------
    energy, energy_stderr : ndarray
        ``<E(x, z)>_q`` with ``E = -log p(x, z)``.
    entropy, entropy_stderr : ndarray
        ``H(q(. | x))``.
    free_energy, free_energy_stderr : ndarray
        ``energy - T * entropy`` (the negative ELBO at ``T = 1``). Its Monte Carlo stderr is
        that of the per-sample values ``E + T log q``, correlations included.
    exact_free_energy : ndarray or None
        ``-T log sum_z exp(-E(x, z) / T)`` by enumeration (``-log p(x)`` at ``T = 1``); ``None``
        when the latents cannot be enumerated.
    gap : ndarray or None
        ``free_energy - exact_free_energy`` (>= 0 up to Monte Carlo error).
    gap_kl : ndarray or None
        ``T KL(q || p_T(. | x))`` summed directly over every latent configuration; equal to
        ``gap`` when ``free_energy`` is exact.
    T : float
        Temperature.
    n_samples : int
        Monte Carlo draws per example (0 when nothing was sampled).
    energy_method, entropy_method : str
        How each term was computed: ``"exact"`` (a sum over every configuration weighted by
        ``q``), ``"analytic"`` (the entropy from ``recognition_entropy``) or ``"monte-carlo"``.
    unit : str
        ``"nats"`` or ``"bits"``.

    Examples
    --------
    >>> from freeenergy.models.helmholtz import HelmholtzMachine
    >>> from freeenergy.estimate.variational import helmholtz_free_energy
    >>> hm = HelmholtzMachine((4, 3), seed=0)
    >>> x = hm.sample(5, seed=1)
    >>> res = helmholtz_free_energy(hm, x)
    >>> res.energy_method, res.entropy_method
    ('exact', 'exact')
    >>> bool((res.gap >= 0).all()), bool(abs(res.gap - res.gap_kl).max() < 1e-12)
    (True, True)
    >>> round(res.in_bits().mean_free_energy / res.mean_free_energy, 6)   # 1 / log 2
    1.442695
    """

    energy: np.ndarray
    energy_stderr: np.ndarray
    entropy: np.ndarray
    entropy_stderr: np.ndarray
    free_energy: np.ndarray
    free_energy_stderr: np.ndarray
    exact_free_energy: np.ndarray | None
    gap: np.ndarray | None
    gap_kl: np.ndarray | None
    T: float
    n_samples: int
    energy_method: str
    entropy_method: str
    unit: str = "nats"

    def __post_init__(self):
        for name in _ARRAYS:
            object.__setattr__(self, name, frozen_array(getattr(self, name)))
        object.__setattr__(self, "T", float(self.T))
        object.__setattr__(self, "n_samples", int(self.n_samples))

    @property
    def mean_energy(self) -> float:
        """Mean of ``energy`` over the examples."""
        return _mean(self.energy)

    @property
    def mean_entropy(self) -> float:
        """Mean of ``entropy`` over the examples."""
        return _mean(self.entropy)

    @property
    def mean_free_energy(self) -> float:
        """Mean of ``free_energy`` over the examples (the mean negative ELBO at ``T = 1``)."""
        return _mean(self.free_energy)

    @property
    def mean_free_energy_stderr(self) -> float:
        """Monte Carlo stderr of :attr:`mean_free_energy` (for these examples; the spread of
        the data is not included)."""
        return _mean_stderr(self.free_energy_stderr)

    @property
    def mean_exact_free_energy(self) -> float | None:
        """Mean of ``exact_free_energy`` (``None`` when not enumerable)."""
        return _mean(self.exact_free_energy)

    @property
    def mean_gap(self) -> float | None:
        """Mean of ``gap`` (``None`` when not enumerable)."""
        return _mean(self.gap)

    def mean(self, quantity: str = "free_energy") -> Mean:
        """The mean over the examples of ``quantity`` (``"free_energy"``, ``"energy"`` or
        ``"entropy"``) in the common shape: its Monte Carlo stderr for these examples (0 where
        exact), ``lower``/``upper`` = mean -+ 3 stderr, ``n`` the number of examples."""
        if quantity not in ("free_energy", "energy", "entropy"):
            raise fail("quantity", "HelmholtzFreeEnergy.mean", "'free_energy', 'energy' or 'entropy'",
                       quantity)
        value, stderr = _mean(getattr(self, quantity)), _mean_stderr(getattr(self, f"{quantity}_stderr"))
        method = {"free_energy": f"{self.energy_method}/{self.entropy_method}",
                  "energy": self.energy_method, "entropy": self.entropy_method}[quantity]
        return Mean(value, stderr, value - 3 * stderr, value + 3 * stderr, method,
                    int(self.free_energy.size))

    def in_bits(self) -> HelmholtzFreeEnergy:
        """The same record with every energy, entropy and free energy divided by ``log 2``."""
        if self.unit == "bits":
            return self
        scaled = {
            f.name: None if getattr(self, f.name) is None else getattr(self, f.name) / _LOG2
            for f in fields(self)
            if f.name in _ARRAYS
        }
        return replace(self, unit="bits", **scaled)

    def __str__(self) -> str:
        text = (
            f"F[q] = {self.mean_free_energy:.6f} {self.unit} per example at T = {self.T:g} "
            f"(<E> {self.energy_method}, H {self.entropy_method}, n = {self.free_energy.size})"
        )
        if self.gap is not None:
            text += f"; exact F = {self.mean_exact_free_energy:.6f}, gap = {self.mean_gap:.6f}"
        return text


# ---------------------------------------------------------------------------- validation


# ---------------------------------------------------------------------------- enumeration


def _chunks(configs: torch.Tensor, batch: int):
    step = max(1, _ENUM_ELEMENTS // max(batch, 1))
    for start in range(0, configs.shape[0], step):
        yield configs[start : start + step, None, :]


def _log_z(model, x, configs, T) -> torch.Tensor:
    """``log sum_z exp(log p(x, z) / T)`` per example (float64, shape (b,))."""
    parts = [
        torch.logsumexp(model.log_joint(x, z).to(torch.float64) / T, dim=0)
        for z in _chunks(configs, x.shape[0])
    ]
    return torch.logsumexp(torch.stack(parts), dim=0)


def _exact_terms(model, x, configs, T):
    """Exact ``<E>_q``, ``H(q)``, ``-T log Z_T`` and ``T KL(q || p_T)`` by enumeration."""
    log_z = _log_z(model, x, configs, T)
    energy = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
    entropy, kl = energy.clone(), energy.clone()
    for z in _chunks(configs, x.shape[0]):
        log_p = model.log_joint(x, z).to(torch.float64)
        log_q = model.recognition_log_prob(x, z).to(torch.float64)
        q = log_q.exp()
        energy += torch.where(q > 0, q * -log_p, 0.0).sum(0)  # q = 0 may meet log p = -inf
        entropy -= torch.where(q > 0, q * log_q, 0.0).sum(0)
        kl += torch.where(q > 0, q * (log_q - (log_p / T - log_z)), 0.0).sum(0)
    return energy, entropy, -T * log_z, T * kl


def tempered_posterior(model, x, T: float = 1.0) -> torch.Tensor:
    """The tempered posterior ``p_T(z | x) ∝ p(z | x)^(1/T) = exp(-E(x, z) / T)`` by enumeration.

    It minimises ``F_T[q] = <E>_q - T H(q)`` over every distribution ``q`` on the latents, with
    minimum ``-T log sum_z exp(-E(x, z) / T)``.

    Parameters
    ----------
    model : LatentVariableModel
        With enumerable latents (``latent_configurations()`` not ``None``).
    x : array_like or Tensor, shape (b, n_visible)
    T : float
        Temperature, > 0.

    Returns
    -------
    Tensor of float64, shape (2^n_latent, b)
        Row ``r`` is the probability of ``model.latent_configurations()[r]``; each column sums
        to 1.

    Examples
    --------
    >>> from freeenergy.models.helmholtz import HelmholtzMachine
    >>> from freeenergy.estimate.variational import tempered_posterior
    >>> hm = HelmholtzMachine((3, 2), seed=0)
    >>> p = tempered_posterior(hm, [[1.0, 0.0, 1.0]], T=2.0)
    >>> p.shape, round(p.sum().item(), 12)
    (torch.Size([4, 1]), 1.0)
    """
    owner = "tempered_posterior"
    check_latent_model(model, owner)
    T = check_T(T, owner)
    x = check_x(model, x, owner)
    configs = configurations(model, owner)
    with torch.no_grad():
        log_p = torch.cat([model.log_joint(x, z).to(torch.float64) for z in _chunks(configs, x.shape[0])])
    return torch.softmax(log_p / T, dim=0)


_Q_SUM_TOLERANCE = 1e-6


def _check_distribution(q: torch.Tensor, owner: str) -> None:
    """Raise unless every column of ``q`` is a probability vector (sum within the tolerance)."""
    expected = f"finite and non-negative with columns summing to 1 (within {_Q_SUM_TOLERANCE:g})"
    if not torch.isfinite(q).all():
        raise fail("q", owner, expected, Description("a tensor with a NaN or infinite entry"))
    if (q < 0).any():
        raise fail("q", owner, expected,
                   Description(f"a tensor with a negative entry ({q.min().item():.6g})"))
    error = (q.sum(0) - 1).abs()
    if (error > _Q_SUM_TOLERANCE).any():
        column = int(error.argmax())
        raise fail("q", owner, expected,
                   Description(f"a tensor whose column {column} sums to {q[:, column].sum().item():.10g}"))


def enumerated_free_energy(model, x, q, *, T: float = 1.0) -> np.ndarray:
    """``F_T[q] = <E>_q - T H(q)`` of an explicit distribution ``q`` over the latent configurations.

    Parameters
    ----------
    model : LatentVariableModel
        With enumerable latents.
    x : array_like or Tensor, shape (b, n_visible)
    q : array_like or Tensor, shape (2^n_latent, b)
        Probabilities of ``model.latent_configurations()`` for each example: finite, >= 0, each
        column summing to 1 within ``1e-6`` (a float32 softmax passes).
    T : float
        Temperature, > 0.

    Returns
    -------
    ndarray of float64, shape (b,)
        In nats; never below ``-T log sum_z exp(-E / T)``.

    Examples
    --------
    >>> import torch
    >>> from freeenergy.models.helmholtz import HelmholtzMachine
    >>> from freeenergy.estimate.variational import enumerated_free_energy, tempered_posterior
    >>> hm = HelmholtzMachine((3, 2), seed=0)
    >>> x = [[1.0, 0.0, 1.0]]
    >>> uniform = torch.full((4, 1), 0.25, dtype=torch.float64)
    >>> bool(enumerated_free_energy(hm, x, uniform, T=0.5)[0]
    ...      >= enumerated_free_energy(hm, x, tempered_posterior(hm, x, 0.5), T=0.5)[0])
    True
    """
    owner = "enumerated_free_energy"
    check_latent_model(model, owner)
    T = check_T(T, owner)
    x = check_x(model, x, owner)
    configs = configurations(model, owner)
    q = torch.as_tensor(np.asarray(q) if not isinstance(q, torch.Tensor) else q)
    q = q.to(device=x.device, dtype=torch.float64)
    if q.shape != (configs.shape[0], x.shape[0]):
        raise InputError(
            f"The 'q' parameter of {owner} must have shape ({configs.shape[0]}, {x.shape[0]}) "
            f"(one probability per latent configuration and example). Got shape {tuple(q.shape)} "
            f"instead."
        )
    _check_distribution(q, owner)
    with torch.no_grad():
        log_p = torch.cat([model.log_joint(x, z).to(torch.float64) for z in _chunks(configs, x.shape[0])])
    q_log_q = torch.where(q > 0, q * q.clamp_min(1e-300).log(), 0.0)
    return (torch.where(q > 0, -(q * log_p), 0.0) + T * q_log_q).sum(0).cpu().numpy()


# ---------------------------------------------------------------------------- the decomposition


def _mc_stats(values: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and stderr over the first axis (stderr NaN for one sample)."""
    n = values.shape[0]
    mean = values.mean(0)
    std = values.std(0, correction=1) if n > 1 else torch.full_like(mean, math.nan)
    return mean.cpu().numpy(), (std / math.sqrt(n)).cpu().numpy()


def helmholtz_free_energy(
    model, x, *, n_samples: int = 100, T: float = 1.0, method: str = "auto", seed=None
) -> HelmholtzFreeEnergy:
    """Variational free energy ``F_T[q] = <E>_q - T H(q)`` of each example, with its parts.

    ``E(x, z) = -log p(x, z)`` (nats) and ``q = q(z | x)`` is the model's recognition
    distribution. At ``T = 1`` the free energy is the negative ELBO and bounds ``-log p(x)``
    from above; at any ``T``, ``F_T[q] >= -T log sum_z exp(-E / T)`` with gap ``T KL(q ||
    p_T)``.

    Parameters
    ----------
    model : LatentVariableModel
    x : array_like or Tensor, shape (b, n_visible)
        Examples, one per row (the model checks the values, e.g. 0/1 for binary units).
    n_samples : int
        Draws from ``q`` per example for the Monte Carlo terms, >= 1.
    T : float
        Temperature, > 0.
    method : {"auto", "exact", "sample"}
        ``"exact"`` sums over every latent configuration weighted by ``q`` (``<E>_q`` and
        ``H(q)`` exact, stderr 0; needs enumerable latents); ``"sample"`` estimates ``<E>_q``
        from ``n_samples`` draws and takes ``H(q)`` from ``recognition_entropy`` when it is
        analytic, else as ``-<log q>``; ``"auto"`` is ``"exact"`` when the latents can be
        enumerated, else ``"sample"``. With enumerable latents ``exact_free_energy``,
        ``gap`` and ``gap_kl`` are reported either way.
    seed : int, optional
        Seed of the draws from ``q``: same seed, same result.

    Returns
    -------
    HelmholtzFreeEnergy
        Per-example float64 arrays, means and stderrs; see its documentation.

    Examples
    --------
    >>> from freeenergy.models.helmholtz import HelmholtzMachine
    >>> from freeenergy.estimate.variational import helmholtz_free_energy
    >>> hm = HelmholtzMachine((6, 30, 10), seed=0)     # 40 latents: not enumerable
    >>> res = helmholtz_free_energy(hm, hm.sample(3, seed=1), n_samples=50, seed=2)
    >>> res.energy_method, res.entropy_method, res.gap is None
    ('monte-carlo', 'monte-carlo', True)
    >>> res.free_energy.shape, res.free_energy.dtype
    ((3,), dtype('float64'))
    """
    owner = "helmholtz_free_energy"
    check_latent_model(model, owner)
    n_samples = check_int("n_samples", n_samples, owner, 1)
    T = check_T(T, owner)
    if method not in ("auto", "exact", "sample"):
        raise fail("method", owner, "one of 'auto', 'exact', 'sample'", method)
    x = check_x(model, x, owner)
    gen = check_seed(seed, owner, x.device)
    with torch.no_grad():
        configs = model.latent_configurations()
        if method == "exact":
            configs = configurations(model, owner)
        exact = None if configs is None else _exact_terms(model, x, configs, T)
        if exact is not None and method != "sample":
            energy, entropy, exact_f, gap_kl = (t.cpu().numpy() for t in exact)
            zeros = np.zeros_like(energy)
            free = energy - T * entropy
            return HelmholtzFreeEnergy(
                energy, zeros, entropy, zeros, free, zeros, exact_f, free - exact_f, gap_kl,
                T, 0, "exact", "exact",
            )  # fmt: skip
        z, log_q = model.recognition_sample(x, n_samples, generator=gen)
        e = -model.log_joint(x, z).to(torch.float64)
        log_q = log_q.to(torch.float64)
        energy, energy_err = _mc_stats(e)
        analytic = model.recognition_entropy(x)
        if analytic is not None:
            entropy = analytic.to(torch.float64).cpu().numpy()
            entropy_err = np.zeros_like(entropy)
            free, free_err = energy - T * entropy, energy_err
        else:
            entropy, entropy_err = _mc_stats(-log_q)
            free, free_err = _mc_stats(e + T * log_q)
    exact_f = gap = gap_kl = None
    if exact is not None:
        exact_f, gap_kl = exact[2].cpu().numpy(), exact[3].cpu().numpy()
        gap = free - exact_f
    entropy_method = "analytic" if analytic is not None else "monte-carlo"
    return HelmholtzFreeEnergy(
        energy, energy_err, entropy, entropy_err, free, free_err, exact_f, gap, gap_kl,
        T, n_samples, "monte-carlo", entropy_method,
    )  # fmt: skip


# ``log_likelihood`` until 0.2; :func:`freeenergy.estimate.log_likelihood` is the RBM one
__getattr__ = renamed_attributes(__name__, {"log_likelihood": "importance_sampled_log_likelihood"})
