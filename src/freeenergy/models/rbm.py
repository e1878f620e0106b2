"""Restricted Boltzmann machines: Bernoulli-Bernoulli and Gaussian-Bernoulli (torch modules).

Energies (k_B = 1, energies are minimised, ``p(v, h) = exp(-E(v, h)) / Z``):

* :class:`BernoulliRBM`: ``E(v, h) = -a.v - b.h - v.W.h`` with ``v`` in {0, 1}^n_visible,
  ``h`` in {0, 1}^n_hidden.
* :class:`GaussianBernoulliRBM` (Cho, Ilin & Raiko, ICANN 2011 convention): real ``v``,
  ``E(v, h) = sum_i (v_i - a_i)^2 / (2 sigma_i^2) - b.h - sum_ij (v_i / sigma_i^2) W_ij h_j``,
  so that ``p(v | h) = N(a + W h, diag(sigma^2))`` and
  ``p(h_j = 1 | v) = sigmoid(b_j + sum_i W_ij v_i / sigma_i^2)``.

Parameters are named ``weight`` (n_visible, n_hidden), ``visible_bias`` (``a``) and
``hidden_bias`` (``b``); the Gaussian model adds ``log_sigma``. Free energies are in nats:
``free_energy(v) = -log sum_h exp(-E(v, h))`` and ``free_energy_hidden(h) = -log sum_v
exp(-E(v, h))`` (an integral over real visibles). ``log Z`` itself comes from
:mod:`freeenergy.estimate`.

Files: ``model.save(path)`` and :func:`load_model` use the shared format of
:mod:`freeenergy.models._torch` (metadata fields ``n_visible``, ``n_hidden`` and ``extra``, the
other constructor arguments).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from freeenergy._params import InputError, check_int, check_real, fail
from freeenergy.models._torch import (
    FORMAT,
    FORMAT_VERSION,
    SavedModel,
    check_device,
    check_dtype,
    check_seed,
    check_units,
    load_model,
    softplus,
)

__all__ = ["FORMAT", "FORMAT_VERSION", "BernoulliRBM", "GaussianBernoulliRBM", "load_model"]

_INIT_STD = 0.01


class RBM(SavedModel, torch.nn.Module):
    """The base of the RBMs: weights, biases, energies, conditionals and Gibbs sampling.

    Subclasses (:class:`BernoulliRBM`, :class:`GaussianBernoulliRBM`) define the visible-layer
    terms; ``isinstance(model, RBM)`` tells any RBM."""

    binary_visible = True
    #: Check input values (finite; in [0, 1] for binary units) on every public call. Shapes are
    #: always checked; set to False on a model in a hot loop to skip the value scans.
    validate_args = True

    def __init__(self, n_visible, n_hidden, *, device=None, dtype=None, seed=None):
        super().__init__()
        owner = type(self).__name__
        self.n_visible = check_int("n_visible", n_visible, owner, 1)
        self.n_hidden = check_int("n_hidden", n_hidden, owner, 1)
        dtype, device = check_dtype(dtype, owner), check_device(device, owner)
        gen = check_seed(seed, owner)
        w = torch.randn(self.n_visible, self.n_hidden, generator=gen, dtype=torch.float64)
        kw = {"dtype": dtype, "device": device}
        self.weight = torch.nn.Parameter((w * _INIT_STD).to(**kw))
        self.visible_bias = torch.nn.Parameter(torch.zeros(self.n_visible, **kw))
        self.hidden_bias = torch.nn.Parameter(torch.zeros(self.n_hidden, **kw))

    def extra_repr(self) -> str:
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, dtype={self.dtype}"

    # ------------------------------------------------------------------ validation
    def _batch(self, x, name: str, method: str, layer: str) -> torch.Tensor:
        """Validate a batch of unit values (shape (..., n)) and move it to our device/dtype."""
        n = self.n_visible if layer == "visible" else self.n_hidden
        bernoulli = layer == "hidden" or self.binary_visible
        return check_units(x, n, f"{type(self).__name__}.{method}", name=name, unit=f"{layer} unit",
                           model=self, values="unit" if bernoulli else None,
                           validate=self.validate_args)

    # ------------------------------------------------------------------ energies
    def _hidden_logits(self, v: torch.Tensor) -> torch.Tensor:
        return self.hidden_bias + self._drive(v) @ self.weight

    def _energy(self, v, h):
        return self._visible_term(v) - h @ self.hidden_bias - ((self._drive(v) @ self.weight) * h).sum(-1)

    def _free_energy(self, v):
        return self._visible_term(v) - softplus(self._hidden_logits(v)).sum(-1)

    def energy(self, v, h) -> torch.Tensor:
        """Energy ``E(v, h)`` of each (visible, hidden) pair.

        Parameters
        ----------
        v : array_like or Tensor, shape (..., n_visible)
        h : array_like or Tensor, shape (..., n_hidden), values in [0, 1]
            Batch shapes must broadcast against each other.

        Returns
        -------
        Tensor, shape (...)
            Energies (model dtype; nats at T = 1).
        """
        v = self._batch(v, "v", "energy", "visible")
        h = self._batch(h, "h", "energy", "hidden")
        try:
            torch.broadcast_shapes(v.shape[:-1], h.shape[:-1])
        except RuntimeError:
            raise InputError(
                f"The batch shapes of 'v' {tuple(v.shape)} and 'h' {tuple(h.shape)} given to "
                f"{type(self).__name__}.energy do not broadcast."
            ) from None
        return self._energy(v, h)

    def free_energy(self, v, *, check: bool = True) -> torch.Tensor:
        """Free energy of the visibles, the hidden units summed out exactly.

        ``F(v) = -log sum_h exp(-E(v, h))``, so ``p(v) = exp(-F(v)) / Z``.

        Parameters
        ----------
        v : array_like or Tensor, shape (..., n_visible)
        check : bool
            Validate ``v``. Trainers and estimators that validated their data once pass
            ``False`` and a tensor of the model's dtype and device.

        Returns
        -------
        Tensor, shape (...)
        """
        return self._free_energy(self._batch(v, "v", "free_energy", "visible") if check else v)

    def free_energy_hidden(self, h) -> torch.Tensor:
        """Free energy of the hiddens, the visibles summed (or integrated) out exactly.

        ``F(h) = -log sum_v exp(-E(v, h))``, so ``p(h) = exp(-F(h)) / Z``.

        Parameters
        ----------
        h : array_like or Tensor, shape (..., n_hidden), values in [0, 1]

        Returns
        -------
        Tensor, shape (...)
        """
        return self._free_energy_hidden(self._batch(h, "h", "free_energy_hidden", "hidden"))

    def log_prob(self, v, log_z) -> torch.Tensor:
        """Log-probability ``log p(v) = -F(v) - log Z`` in nats, as float64.

        Parameters
        ----------
        v : array_like or Tensor, shape (..., n_visible)
        log_z : float, 0-d tensor or Estimate
            ``log Z`` of this model (an object with a ``log_z`` attribute, such as the result
            of :func:`freeenergy.estimate.exact_log_partition`, is accepted).

        Returns
        -------
        Tensor of float64, shape (...)
        """
        log_z = getattr(log_z, "log_z", log_z)
        if isinstance(log_z, torch.Tensor | np.ndarray) and log_z.ndim == 0:
            log_z = log_z.item()
        log_z = check_real("log_z", log_z, f"{type(self).__name__}.log_prob")
        return -self.free_energy(v).to(torch.float64) - log_z

    # ------------------------------------------------------------------ conditionals, sampling
    def hidden_probs(self, v) -> torch.Tensor:
        """``p(h_j = 1 | v)``, shape (..., n_hidden)."""
        return torch.sigmoid(self._hidden_logits(self._batch(v, "v", "hidden_probs", "visible")))

    def sample_hidden(self, v, generator=None, *, check: bool = True) -> torch.Tensor:
        """Draw ``h ~ p(h | v)`` (0/1 values in the model dtype), shape (..., n_hidden).

        ``check=False`` skips validating ``v`` and ``generator`` (see :meth:`free_energy`).
        """
        if not check:
            return self._sample_h(v, generator)
        gen = self._generator(generator, "sample_hidden")
        return self._sample_h(self._batch(v, "v", "sample_hidden", "visible"), gen)

    def sample_visible(self, h, generator=None, *, check: bool = True) -> torch.Tensor:
        """Draw ``v ~ p(v | h)``, shape (..., n_visible); ``check`` as for :meth:`sample_hidden`."""
        if not check:
            return self._sample_v(h, generator)
        gen = self._generator(generator, "sample_visible")
        return self._sample_v(self._batch(h, "h", "sample_visible", "hidden"), gen)

    def _sample_h(self, v, gen):
        return torch.bernoulli(torch.sigmoid(self._hidden_logits(v)), generator=gen)

    def gibbs(self, v, steps: int = 1, generator=None) -> torch.Tensor:
        """Run ``steps`` block-Gibbs sweeps ``v -> h -> v``; return the final visibles.

        Parameters
        ----------
        v : array_like or Tensor, shape (..., n_visible)
            Starting visibles (one chain per row).
        steps : int
            Number of sweeps, >= 0.
        generator : torch.Generator, optional
            Source of randomness on the model's device; same generator state, same result.
        """
        steps = check_int("steps", steps, f"{type(self).__name__}.gibbs", 0)
        gen = self._generator(generator, "gibbs")
        v = self._batch(v, "v", "gibbs", "visible")
        for _ in range(steps):
            v = self._sample_v(self._sample_h(v, gen), gen)
        return v

    @torch.no_grad()
    def sample(self, n: int, steps: int = 1000, *, init=None, seed=None, generator=None) -> torch.Tensor:
        """Draw ``n`` visible samples by ``steps`` block-Gibbs sweeps from independent chains.

        Parameters
        ----------
        n : int
            Number of chains (samples), >= 1.
        steps : int
            Gibbs sweeps per chain, >= 0. Samples are exact only as ``steps`` grows.
        init : array_like, shape (n, n_visible) or (n_visible,), optional
            Starting visibles. By default they are drawn from the visible marginal of the model
            with ``W = 0`` (``Bernoulli(sigmoid(a))``, or ``N(a, sigma^2)`` for real visibles).
        seed : int, optional
            Seed of the chains' generator: same seed, same samples.
        generator : torch.Generator, optional
            Draw from this generator instead (on the model's device; not with ``seed``), as the
            other sampling methods of the class do.

        Returns
        -------
        Tensor, shape (n, n_visible)
        """
        owner = f"{type(self).__name__}.sample"
        n = check_int("n", n, owner, 1)
        steps = check_int("steps", steps, owner, 0)
        gen = self._seeded_or_given(seed, generator, "sample")
        if init is None:
            v = self._initial_visible(n, gen)
        else:
            v = self._batch(init, "init", "sample", "visible")
            if v.shape not in ((n, self.n_visible), (self.n_visible,)):
                raise InputError(
                    f"The 'init' parameter of {owner} must have shape ({n}, {self.n_visible}) or "
                    f"({self.n_visible},). Got shape {tuple(v.shape)} instead."
                )
            v = v.expand(n, self.n_visible).clone()
        for _ in range(steps):
            v = self._sample_v(self._sample_h(v, gen), gen)
        return v

    # ------------------------------------------------------------------ temperature, files
    def at_beta(self, beta: float):
        """The same model at inverse temperature ``beta``: energies become ``beta * E``.

        This is the model at temperature ``T = 1 / beta``. For :class:`BernoulliRBM` every
        parameter is multiplied by ``beta`` (``beta = 0`` gives the uniform distribution); for
        :class:`GaussianBernoulliRBM`, ``b -> beta b`` and ``sigma -> sigma / sqrt(beta)``
        (``W`` and ``a`` unchanged), which needs ``beta > 0``. The copy is detached.
        """
        beta = check_real("beta", beta, f"{type(self).__name__}.at_beta")
        if beta < 0 or (beta == 0 and not self.binary_visible):
            bound = ">= 0" if self.binary_visible else "> 0"
            raise fail("beta", f"{type(self).__name__}.at_beta", f"a finite number {bound}", beta)
        model = type(self)(
            self.n_visible,
            self.n_hidden,
            device=self.device,
            dtype=self.dtype,
            seed=0,
            **self._extra_args(),
        )
        with torch.no_grad():
            for name, value in self._scaled_state(beta).items():
                getattr(model, name).copy_(value)
        model.validate_args = self.validate_args
        return model

    def _extra_args(self) -> dict:
        return {}

    def metadata_fields(self) -> dict:
        return {"n_visible": self.n_visible, "n_hidden": self.n_hidden, "extra": self._extra_args()}

    @classmethod
    def from_metadata(cls, meta: dict, device: torch.device):
        extra = dict(meta.get("extra") or {})
        return cls(meta["n_visible"], meta["n_hidden"], dtype=meta["dtype"], device=device, seed=0, **extra)


class BernoulliRBM(RBM):
    """Bernoulli-Bernoulli RBM, ``E(v, h) = -a.v - b.h - v.W.h`` with binary units.

    Parameters
    ----------
    n_visible, n_hidden : int
        Layer sizes, >= 1.
    device : str or torch.device, optional
        Where the parameters live (default CPU).
    dtype : torch.float32 or torch.float64, optional
        Parameter type (default float64).
    seed : int, optional
        Seed of the initialisation: weights ``N(0, 0.01^2)``, biases 0.

    Examples
    --------
    >>> import torch
    >>> from freeenergy.models import BernoulliRBM
    >>> rbm = BernoulliRBM(4, 3, seed=0)
    >>> rbm.weight.shape, rbm.dtype
    (torch.Size([4, 3]), torch.float64)
    >>> v = torch.tensor([[0.0, 1.0, 1.0, 0.0]])
    >>> rbm.free_energy(v).shape
    torch.Size([1])
    >>> round(rbm.at_beta(0.0).free_energy(v).item(), 6)   # -3 log 2: hidden units are free
    -2.079442
    >>> rbm.sample(5, steps=10, seed=1).shape
    torch.Size([5, 4])
    """

    def _drive(self, v):
        return v

    def _visible_term(self, v):
        return -(v @ self.visible_bias)

    def _free_energy_hidden(self, h):
        return -(h @ self.hidden_bias) - softplus(self.visible_bias + h @ self.weight.T).sum(-1)

    def visible_probs(self, h) -> torch.Tensor:
        """``p(v_i = 1 | h)``, shape (..., n_visible)."""
        h = self._batch(h, "h", "visible_probs", "hidden")
        return torch.sigmoid(self.visible_bias + h @ self.weight.T)

    def _sample_v(self, h, gen):
        return torch.bernoulli(torch.sigmoid(self.visible_bias + h @ self.weight.T), generator=gen)

    def _initial_visible(self, n, gen):
        probs = torch.sigmoid(self.visible_bias.detach()).expand(n, self.n_visible)
        return torch.bernoulli(probs, generator=gen)

    def _scaled_state(self, beta):
        return {k: v.detach() * beta for k, v in self.state_dict().items()}


class GaussianBernoulliRBM(RBM):
    """Gaussian-Bernoulli RBM: real visibles, binary hiddens (Cho et al. 2011 energy).

    ``E(v, h) = sum_i (v_i - a_i)^2 / (2 sigma_i^2) - b.h - sum_ij (v_i / sigma_i^2) W_ij h_j``;
    ``p(v | h) = N(a + W h, diag(sigma^2))``. :meth:`free_energy_hidden` integrates the visibles
    out analytically, Gaussian normaliser ``prod_i sqrt(2 pi) sigma_i`` included, so ``log Z``
    is exact by enumerating the hidden layer alone.

    Parameters
    ----------
    n_visible, n_hidden : int
        Layer sizes, >= 1.
    sigma : float or array_like, shape (n_visible,)
        Standard deviations of the visibles, > 0; stored as the parameter ``log_sigma``.
    learn_sigma : bool
        Whether ``log_sigma`` requires a gradient.
    device, dtype, seed
        As for :class:`BernoulliRBM`.

    Examples
    --------
    >>> from freeenergy.models import GaussianBernoulliRBM
    >>> rbm = GaussianBernoulliRBM(2, 3, sigma=0.5, seed=0)
    >>> rbm.sigma
    tensor([0.5000, 0.5000], dtype=torch.float64)
    >>> rbm.visible_probs([[0.0, 0.0, 0.0]]).tolist()   # the mean a + W h
    [[0.0, 0.0]]
    >>> rbm.sample(4, steps=5, seed=0).shape
    torch.Size([4, 2])
    """

    binary_visible = False

    def __init__(
        self, n_visible, n_hidden, *, sigma=1.0, learn_sigma=False, device=None, dtype=None, seed=None
    ):
        super().__init__(n_visible, n_hidden, device=device, dtype=dtype, seed=seed)
        owner = "GaussianBernoulliRBM"
        try:
            s = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (self.n_visible,))
        except (TypeError, ValueError):
            raise fail(
                "sigma", owner, f"a positive number or an array of shape ({n_visible},)", sigma
            ) from None
        if not (np.isfinite(s).all() and (s > 0).all()):
            raise fail("sigma", owner, "finite and > 0", sigma)
        if not isinstance(learn_sigma, bool):
            raise fail("learn_sigma", owner, "a bool", learn_sigma)
        self.learn_sigma = learn_sigma
        log_s = torch.tensor(np.log(s), dtype=self.dtype, device=self.device)
        self.log_sigma = torch.nn.Parameter(log_s, requires_grad=learn_sigma)

    @property
    def sigma(self) -> torch.Tensor:
        """Standard deviations of the visibles, shape (n_visible,)."""
        return self.log_sigma.detach().exp()

    def _extra_args(self):
        return {"learn_sigma": self.learn_sigma}

    def _drive(self, v):
        return v * torch.exp(-2 * self.log_sigma)

    def _visible_term(self, v):
        return ((v - self.visible_bias) ** 2 * (0.5 * torch.exp(-2 * self.log_sigma))).sum(-1)

    def _free_energy_hidden(self, h):
        m = h @ self.weight.T
        inv_var = torch.exp(-2 * self.log_sigma)
        normaliser = self.log_sigma.sum() + 0.5 * self.n_visible * math.log(2 * math.pi)
        quad = ((self.visible_bias * m + 0.5 * m * m) * inv_var).sum(-1)
        return -(h @ self.hidden_bias) - quad - normaliser

    def visible_probs(self, h) -> torch.Tensor:
        """Mean of ``p(v | h)``, ``a + W h``, shape (..., n_visible)."""
        h = self._batch(h, "h", "visible_probs", "hidden")
        return self.visible_bias + h @ self.weight.T

    def _sample_v(self, h, gen):
        mean = self.visible_bias + h @ self.weight.T
        noise = torch.randn(mean.shape, generator=gen, dtype=self.dtype, device=self.device)
        return mean + noise * torch.exp(self.log_sigma)

    def _initial_visible(self, n, gen):
        return self._sample_v(torch.zeros(n, self.n_hidden, dtype=self.dtype, device=self.device), gen)

    def _scaled_state(self, beta):
        state = {k: v.detach() for k, v in self.state_dict().items()}
        state["hidden_bias"] = state["hidden_bias"] * beta
        state["log_sigma"] = state["log_sigma"] - 0.5 * math.log(beta)
        return state
