"""Variational autoencoder (Kingma & Welling 2014) with Gaussian latents (a torch module).

Generative model: ``z ~ N(0, I)`` in ``R^n_latent`` and ``x | z`` factorised over pixels,
Bernoulli with logits ``decode(z)`` (``likelihood="bernoulli"``) or Gaussian with mean
``decode(z)`` and a learned per-pixel standard deviation ``exp(log_sigma)``
(``likelihood="gaussian"``). Recognition model: ``q(z | x) = N(mu(x), diag(exp(log_var(x))))``.
Both networks are multilayer perceptrons with tanh activations, as in Burda, Grosse &
Salakhutdinov (ICLR 2016); the decoder mirrors the encoder's hidden sizes.

All log-probabilities are in nats. Free-energy reading: with ``E(x, z) = -log p(x, z)`` and
``T = 1``, ``-elbo(x) = <E>_q - H(q) = F[q] >= -log p(x)``, the gap being ``KL(q || p(z | x))``;
:meth:`VAE.iwae_bound` tightens it with ``k`` importance samples (Burda et al. 2016).

The model implements the latent-variable protocol of :mod:`freeenergy.estimate.variational`:
``n_visible``, ``n_latent``, ``log_joint``, ``recognition_sample``, ``recognition_log_prob``,
``recognition_entropy`` and ``latent_configurations`` (``None``: the latents are continuous).

Files (:meth:`VAE.save`, :func:`freeenergy.models.load_model`): the shared format of
:mod:`freeenergy.models._torch`, with metadata fields ``n_visible``, ``n_latent`` and
``extra: {"hidden": [...], "likelihood": ...}``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from freeenergy._params import InputError, check_int, fail
from freeenergy.models._torch import (
    SavedModel,
    check_device,
    check_dtype,
    check_seed,
    check_units,
    logsumexp_chunks,
)

__all__ = ["VAE"]

_LOG_2PI = math.log(2 * math.pi)
_LIKELIHOODS = ("bernoulli", "gaussian")


def _mlp(sizes: Sequence[int], gen: torch.Generator, **kw) -> torch.nn.Sequential:
    """Linear layers with tanh between them; Glorot-uniform weights drawn in float64 from ``gen``
    (so float32 and float64 models with one seed agree), zero biases. The global RNG is untouched."""
    layers: list[torch.nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        layer = torch.nn.utils.skip_init(torch.nn.Linear, fan_in, fan_out, **kw)
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        w = (torch.rand(fan_out, fan_in, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        with torch.no_grad():
            layer.weight.copy_(w)
            layer.bias.zero_()
        layers.append(layer)
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def _check_hidden(hidden, owner: str) -> tuple[int, ...]:
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, Sequence) or isinstance(hidden, str):
        raise fail("hidden", owner, "a sequence of ints >= 1 (layer widths)", hidden)
    for h in hidden:
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
            raise fail("hidden", owner, "a sequence of ints >= 1 (layer widths)", hidden)
    return tuple(int(h) for h in hidden)


class VAE(SavedModel, torch.nn.Module):
    """Variational autoencoder with a standard-normal prior and a diagonal-Gaussian encoder.

    Parameters
    ----------
    n_visible, n_latent : int
        Numbers of pixels and of latent dimensions, >= 1.
    hidden : sequence of int
        Widths of the encoder's hidden tanh layers (``()``: linear maps); the decoder uses them
        in reverse order. Default ``(200, 200)`` (Burda et al. 2016).
    likelihood : {"bernoulli", "gaussian"}
        ``p(x | z)``: Bernoulli with logits ``decode(z)`` (pixels in [0, 1]; non-binary values
        are accepted as soft targets), or Gaussian with mean ``decode(z)`` and a learned
        per-pixel standard deviation ``exp(log_sigma)`` (initialised to 1).
    device : str or torch.device, optional
        Where the parameters live (default CPU).
    dtype : torch.float32 or torch.float64, optional
        Parameter type (default float64).
    seed : int, optional
        Seed of the initialisation (Glorot-uniform weights, zero biases).

    Examples
    --------
    >>> import torch
    >>> from freeenergy.models.vae import VAE
    >>> vae = VAE(6, 2, hidden=(8,), seed=0)
    >>> x = torch.tensor([[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]])
    >>> gen = torch.Generator().manual_seed(0)
    >>> z, log_q = vae.recognition_sample(x, 5, generator=gen)
    >>> z.shape, log_q.shape, vae.log_joint(x, z).shape
    (torch.Size([5, 1, 2]), torch.Size([5, 1]), torch.Size([5, 1]))
    >>> elbo = vae.elbo(x, k=100, generator=gen)
    >>> iwae = vae.iwae_bound(x, k=100, generator=gen)
    >>> bool(iwae > elbo)   # the importance-weighted bound is tighter
    True
    >>> vae.sample(3, seed=1).shape
    torch.Size([3, 6])
    """

    #: Check input values (finite; in [0, 1] for Bernoulli pixels) on every public call. Shapes
    #: are always checked; set to False on a model in a hot loop to skip the value scans.
    validate_args = True

    def __init__(
        self,
        n_visible,
        n_latent,
        hidden=(200, 200),
        likelihood="bernoulli",
        *,
        device=None,
        dtype=None,
        seed=None,
    ):
        super().__init__()
        owner = "VAE"
        self.n_visible = check_int("n_visible", n_visible, owner, 1)
        self.n_latent = check_int("n_latent", n_latent, owner, 1)
        self.hidden = _check_hidden(hidden, owner)
        if likelihood not in _LIKELIHOODS:
            raise fail("likelihood", owner, "'bernoulli' or 'gaussian'", likelihood)
        self.likelihood = likelihood
        dtype, device = check_dtype(dtype, owner), check_device(device, owner)
        gen = check_seed(seed, owner)
        kw = {"dtype": dtype, "device": device}
        self.encoder = _mlp((self.n_visible, *self.hidden, 2 * self.n_latent), gen, **kw)
        self.decoder = _mlp((self.n_latent, *self.hidden[::-1], self.n_visible), gen, **kw)
        if likelihood == "gaussian":
            self.log_sigma = torch.nn.Parameter(torch.zeros(self.n_visible, **kw))

    def extra_repr(self) -> str:
        return (
            f"n_visible={self.n_visible}, n_latent={self.n_latent}, hidden={self.hidden}, "
            f"likelihood={self.likelihood!r}, dtype={self.dtype}"
        )

    # ------------------------------------------------------------------ validation
    def _data(self, x, method: str, name: str = "x") -> torch.Tensor:
        """Validate a data batch of shape (b, n_visible): pixel values in [0, 1] for a Bernoulli
        likelihood."""
        owner = f"VAE.{method}"
        x = check_units(x, self.n_visible, owner, name=name, unit="pixel", model=self,
                        values="unit" if self.likelihood == "bernoulli" else None,
                        validate=self.validate_args)
        if x.ndim != 2:
            raise InputError(
                f"The {name!r} parameter of {owner} must have shape (batch, {self.n_visible}), one "
                f"row per example. Got shape {tuple(x.shape)} instead."
            )
        return x

    def _latents(self, z, method: str, batch: int | None = None) -> torch.Tensor:
        """Validate latents of shape (..., n_latent) whose batch shape broadcasts with (batch,)."""
        owner = f"VAE.{method}"
        z = check_units(z, self.n_latent, owner, name="z", unit="latent dimension", model=self,
                        validate=self.validate_args)
        if batch is not None:
            try:
                torch.broadcast_shapes(z.shape[:-1], (batch,))
            except RuntimeError:
                raise InputError(
                    f"The 'z' parameter of {owner} must have shape (..., {batch}, {self.n_latent}) to "
                    f"match a batch of {batch} examples in 'x'. Got shape {tuple(z.shape)} instead."
                ) from None
        return z

    # ------------------------------------------------------------------ networks
    def _encode(self, x):
        out = self.encoder(x)
        return out[..., : self.n_latent], out[..., self.n_latent :]

    def encode(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of ``q(z | x)``, each of shape (b, n_latent).

        Parameters
        ----------
        x : array_like or Tensor, shape (b, n_visible)
        """
        return self._encode(self._data(x, "encode"))

    def decode(self, z) -> torch.Tensor:
        """Bernoulli logits (or Gaussian means) of ``p(x | z)``, shape (..., n_visible).

        Parameters
        ----------
        z : array_like or Tensor, shape (..., n_latent)
        """
        return self.decoder(self._latents(z, "decode"))

    # ------------------------------------------------------------------ log-densities
    def _log_likelihood(self, x, z):
        out = self.decoder(z)
        if self.likelihood == "bernoulli":
            # log p(x | z) = -BCE(logits, x), stable for any logit size.
            out, target = torch.broadcast_tensors(out, x)
            return -F.binary_cross_entropy_with_logits(out, target, reduction="none").sum(-1)
        r = (x - out) * torch.exp(-self.log_sigma)
        return -(0.5 * r * r + self.log_sigma + 0.5 * _LOG_2PI).sum(-1)

    def _log_joint(self, x, z):
        log_prior = -0.5 * (z * z).sum(-1) - 0.5 * self.n_latent * _LOG_2PI
        return log_prior + self._log_likelihood(x, z)

    def _log_q(self, z, mean, log_var):
        r2 = (z - mean) ** 2 * torch.exp(-log_var)
        return -0.5 * (r2 + log_var + _LOG_2PI).sum(-1)

    def log_joint(self, x, z) -> torch.Tensor:
        """``log p(x, z) = log p(z) + log p(x | z)`` in nats.

        Parameters
        ----------
        x : array_like or Tensor, shape (b, n_visible)
        z : array_like or Tensor, shape (..., b, n_latent)
            Latents; the batch shape ``(..., b)`` broadcasts against ``(b,)``.

        Returns
        -------
        Tensor, shape (..., b)
            Model dtype, differentiable with respect to the decoder's parameters.
        """
        x = self._data(x, "log_joint")
        return self._log_joint(x, self._latents(z, "log_joint", x.shape[0]))

    def recognition_sample(self, x, n, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` reparameterised latents per example from ``q(z | x)``.

        ``z = mu(x) + exp(log_var(x) / 2) * eps`` with ``eps ~ N(0, I)``, so ``z`` is
        differentiable with respect to the encoder's parameters.

        Parameters
        ----------
        x : array_like or Tensor, shape (b, n_visible)
        n : int
            Samples per example, >= 1.
        generator : torch.Generator, optional
            Source of ``eps`` on the model's device; same generator state, same ``z``.

        Returns
        -------
        z : Tensor, shape (n, b, n_latent)
        log_q : Tensor, shape (n, b)
            ``log q(z | x)`` in nats.
        """
        x = self._data(x, "recognition_sample")
        n = check_int("n", n, "VAE.recognition_sample", 1)
        gen = self._generator(generator, "recognition_sample")
        return self._sample_q(x, n, gen)

    def _sample_q(self, x, n, gen):
        mean, log_var = self._encode(x)
        eps = torch.randn((n, *mean.shape), generator=gen, dtype=self.dtype, device=self.device)
        z = mean + torch.exp(0.5 * log_var) * eps
        log_q = -0.5 * (eps * eps + log_var + _LOG_2PI).sum(-1)
        return z, log_q

    def recognition_log_prob(self, x, z) -> torch.Tensor:
        """``log q(z | x)`` in nats, shape (..., b), for latents ``z`` of shape (..., b, n_latent)."""
        x = self._data(x, "recognition_log_prob")
        z = self._latents(z, "recognition_log_prob", x.shape[0])
        return self._log_q(z, *self._encode(x))

    def recognition_entropy(self, x) -> torch.Tensor:
        """Entropy ``H[q(z | x)] = sum_j (1 + log 2 pi + log_var_j) / 2`` in nats, shape (b,)."""
        _, log_var = self._encode(self._data(x, "recognition_entropy"))
        return 0.5 * (1.0 + _LOG_2PI + log_var).sum(-1)

    def latent_configurations(self) -> None:
        """``None``: the latents are continuous, so there is no finite set to enumerate."""
        return None

    # ------------------------------------------------------------------ bounds
    def _log_weights(self, x, k, gen):
        z, log_q = self._sample_q(x, k, gen)
        return self._log_joint(x, z) - log_q

    def _bound_args(self, x, k, generator, method):
        x = self._data(x, method)
        k = check_int("k", k, f"VAE.{method}", 1)
        return x, k, self._generator(generator, method)

    def elbo(self, x, k=1, generator=None) -> torch.Tensor:
        """Evidence lower bound per example, ``E_q[log p(x, z) - log q(z | x)] <= log p(x)``.

        Estimated by the mean over ``k`` reparameterised samples (unbiased, differentiable:
        maximise it to train). Its negative is the variational free energy ``F[q]`` at ``T = 1``.

        Parameters
        ----------
        x : array_like or Tensor, shape (b, n_visible)
        k : int
            Samples per example, >= 1.
        generator : torch.Generator, optional
            Source of randomness on the model's device.

        Returns
        -------
        Tensor, shape (b,)
            Nats, model dtype.
        """
        x, k, gen = self._bound_args(x, k, generator, "elbo")
        return self._log_weights(x, k, gen).mean(0)

    def iwae_bound(self, x, k, generator=None, *, chunk=None) -> torch.Tensor:
        """Importance-weighted bound per example (Burda et al. 2016).

        ``L_k = E[log (1/k) sum_i p(x, z_i) / q(z_i | x)]``, estimated from one draw of ``k``
        samples with a max-shifted log-mean-exp. ``L_1`` is the ELBO, ``L_k`` is nondecreasing
        in ``k`` and tends to ``log p(x)`` as ``k -> inf``. With one generator state,
        ``iwae_bound(x, 1)`` equals ``elbo(x, 1)``.

        Parameters
        ----------
        x : array_like or Tensor, shape (b, n_visible)
        k : int
            Importance samples per example, >= 1.
        generator : torch.Generator, optional
            Source of randomness on the model's device.
        chunk : int, optional
            Draw the ``k`` samples in groups of at most ``chunk`` (the log-sum-exp is combined
            exactly across groups) to bound memory at ``chunk * b * n_visible`` values, e.g.
            for ``k = 5000`` test log-likelihoods. Default: all at once.

        Returns
        -------
        Tensor, shape (b,)
            Nats, model dtype, differentiable (the IWAE training objective).
        """
        x, k, gen = self._bound_args(x, k, generator, "iwae_bound")
        chunk = k if chunk is None else check_int("chunk", chunk, "VAE.iwae_bound", 1)
        chunks = (self._log_weights(x, min(chunk, k - start), gen) for start in range(0, k, chunk))
        return logsumexp_chunks(chunks) - math.log(k)

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(self, n, *, seed=None, generator=None, mean=False) -> torch.Tensor:
        """Draw ``n`` examples ``x ~ p(x | z)`` with ``z ~ N(0, I)``.

        Parameters
        ----------
        n : int
            Number of samples, >= 1.
        seed : int, optional
            Seed of the sampling generator: same seed, same samples.
        generator : torch.Generator, optional
            Draw from this generator instead (on the model's device; not with ``seed``), as the
            other sampling methods of the class do.
        mean : bool
            Return the mean of ``p(x | z)`` (pixel probabilities, or Gaussian means) instead
            of a draw from it.

        Returns
        -------
        Tensor, shape (n, n_visible)
        """
        owner = "VAE.sample"
        n = check_int("n", n, owner, 1)
        if not isinstance(mean, bool):
            raise fail("mean", owner, "a bool", mean)
        gen = self._seeded_or_given(seed, generator, "sample")
        kw = {"generator": gen, "dtype": self.dtype, "device": self.device}
        out = self.decoder(torch.randn(n, self.n_latent, **kw))
        if self.likelihood == "bernoulli":
            probs = torch.sigmoid(out)
            return probs if mean else torch.bernoulli(probs, generator=gen)
        return out if mean else out + torch.randn(out.shape, **kw) * torch.exp(self.log_sigma)

    # ------------------------------------------------------------------ files
    def metadata_fields(self) -> dict:
        extra = {"hidden": list(self.hidden), "likelihood": self.likelihood}
        return {"n_visible": self.n_visible, "n_latent": self.n_latent, "extra": extra}

    @classmethod
    def from_metadata(cls, meta: dict, device: torch.device) -> VAE:
        extra = dict(meta.get("extra") or {})
        return cls(meta["n_visible"], meta["n_latent"], dtype=meta["dtype"], device=device, seed=0, **extra)
