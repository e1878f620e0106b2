"""Helmholtz machine: a sigmoid belief net with a factorised bottom-up recognition net (torch).

Layers ``x = h_0, h_1, ..., h_L`` (all binary) with sizes ``layer_sizes = (n_visible, n_1, ...,
n_L)``. The generative model runs top-down (Dayan, Hinton, Neal & Zemel, Neural Computation 1995):

* ``p(h_L) = prod_j Bernoulli(h_Lj; sigmoid(prior_logits_j))``,
* ``p(h_l | h_{l+1}) = prod_i Bernoulli(h_li; sigmoid(gen_biases[l]_i + (h_{l+1} @
  gen_weights[l].T)_i))`` with ``gen_weights[l]`` of shape ``(n_l, n_{l+1})``.

The recognition model runs bottom-up, factorised within each layer:
``q(h_1, ..., h_L | x) = prod_l q(h_{l+1} | h_l)`` with ``q(h_{l+1,j} = 1 | h_l) =
sigmoid(rec_biases[l]_j + (h_l @ rec_weights[l])_j)``, ``rec_weights[l]`` of shape ``(n_l,
n_{l+1})``.

The model implements :class:`freeenergy.estimate.variational.LatentVariableModel`: the latent vector ``z``
is the concatenation ``(h_1, ..., h_L)`` (bottom to top), ``log_joint(x, z) = log p(x, z)`` in nats
and the energy is ``E(x, z) = -log p(x, z)`` (T = 1).

Files (:meth:`HelmholtzMachine.save`, :func:`freeenergy.models.load_model`): the shared format of
:mod:`freeenergy.models._torch`, with metadata field ``layer_sizes``.
"""

from __future__ import annotations

import torch

from freeenergy._params import InputError, check_int, fail
from freeenergy.models._torch import (
    SavedModel,
    binary_configurations,
    check_device,
    check_dtype,
    check_seed,
    check_units,
    softplus,
)

__all__ = ["MAX_ENUMERATED_LATENTS", "HelmholtzMachine"]

#: ``latent_configurations`` enumerates at most ``2^MAX_ENUMERATED_LATENTS`` latent vectors.
MAX_ENUMERATED_LATENTS = 20
_INIT_STD = 0.01


def bernoulli_log_prob(values: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``sum_i log Bernoulli(values_i; sigmoid(logits_i))`` over the last axis, stable in log space."""
    return (values * logits - softplus(logits)).sum(-1)


class HelmholtzMachine(SavedModel, torch.nn.Module):
    """Sigmoid belief net (top-down) with a factorised recognition net (bottom-up).

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_visible, n_1, ..., n_L)``, at least two entries, each >= 1.
    device : str or torch.device, optional
        Where the parameters live (default CPU).
    dtype : torch.float32 or torch.float64, optional
        Parameter type (default float64).
    seed : int, optional
        Seed of the initialisation: weights ``N(0, 0.01^2)``, biases and prior logits 0.

    Attributes
    ----------
    n_visible : int
        Units in ``x``.
    n_latent : int
        Total latent units ``n_1 + ... + n_L`` (the length of ``z``).
    layer_sizes : tuple of int

    Examples
    --------
    >>> import torch
    >>> from freeenergy.models.helmholtz import HelmholtzMachine
    >>> hm = HelmholtzMachine((4, 3, 2), seed=0)
    >>> hm.n_visible, hm.n_latent
    (4, 5)
    >>> x = hm.sample(6, seed=1)
    >>> x.shape
    torch.Size([6, 4])
    >>> z, log_q = hm.recognition_sample(x, 10, generator=torch.Generator().manual_seed(2))
    >>> z.shape, log_q.shape, hm.log_joint(x, z).shape
    (torch.Size([10, 6, 5]), torch.Size([10, 6]), torch.Size([10, 6]))
    >>> hm.latent_configurations().shape
    torch.Size([32, 5])
    """

    #: Check that inputs hold 0/1 values on every public call (shapes are always checked).
    validate_args = True

    def __init__(self, layer_sizes, *, device=None, dtype=None, seed=None):
        super().__init__()
        owner = "HelmholtzMachine"
        try:
            sizes = tuple(layer_sizes)
        except TypeError:
            raise fail("layer_sizes", owner, "a sequence of >= 2 ints >= 1", layer_sizes) from None
        if len(sizes) < 2:
            raise fail("layer_sizes", owner, "a sequence of >= 2 ints >= 1", layer_sizes)
        self.layer_sizes = tuple(check_int("layer_sizes", s, owner, 1) for s in sizes)
        self.n_visible = self.layer_sizes[0]
        self.n_latent = sum(self.layer_sizes[1:])
        dtype, device = check_dtype(dtype, owner), check_device(device, owner)
        gen = check_seed(seed, owner)
        kw = {"dtype": dtype, "device": device}

        def weight(rows, cols):
            w = torch.randn(rows, cols, generator=gen, dtype=torch.float64) * _INIT_STD
            return torch.nn.Parameter(w.to(**kw))

        pairs = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))
        self.prior_logits = torch.nn.Parameter(torch.zeros(self.layer_sizes[-1], **kw))
        self.gen_weights = torch.nn.ParameterList([weight(lo, hi) for lo, hi in pairs])
        self.gen_biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.zeros(lo, **kw)) for lo, _ in pairs]
        )
        self.rec_weights = torch.nn.ParameterList([weight(lo, hi) for lo, hi in pairs])
        self.rec_biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.zeros(hi, **kw)) for _, hi in pairs]
        )

    def extra_repr(self) -> str:
        return f"layer_sizes={self.layer_sizes}, dtype={self.dtype}"

    def generative_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters of ``p(x, z)``: prior logits, generative weights and biases."""
        return [self.prior_logits, *self.gen_weights, *self.gen_biases]

    def recognition_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters of ``q(z | x)``: recognition weights and biases."""
        return [*self.rec_weights, *self.rec_biases]

    # ------------------------------------------------------------------ validation
    def _units(self, x, name: str, method: str, n: int) -> torch.Tensor:
        return check_units(x, n, f"HelmholtzMachine.{method}", name=name, unit="unit", model=self,
                           values="binary", validate=self.validate_args)

    def _visible(self, x, method: str) -> torch.Tensor:
        x = self._units(x, "x", method, self.n_visible)
        if x.ndim != 2:
            raise InputError(
                f"The 'x' parameter of HelmholtzMachine.{method} must have shape (batch, "
                f"{self.n_visible}). Got shape {tuple(x.shape)} instead."
            )
        return x

    def _latent(self, x: torch.Tensor, z, method: str) -> torch.Tensor:
        z = self._units(z, "z", method, self.n_latent)
        try:
            torch.broadcast_shapes(x.shape[:-1], z.shape[:-1])
        except RuntimeError:
            ok = False
        else:
            ok = z.ndim >= 2
        if not ok:
            raise InputError(
                f"The 'z' parameter of HelmholtzMachine.{method} must have shape (..., "
                f"{x.shape[0]}, {self.n_latent}) to match 'x' of shape {tuple(x.shape)}. Got shape "
                f"{tuple(z.shape)} instead."
            )
        return z

    # ------------------------------------------------------------------ layers
    def split(self, z: torch.Tensor) -> list[torch.Tensor]:
        """Split a latent vector ``z`` (..., n_latent) into its layers ``[h_1, ..., h_L]``."""
        return list(torch.split(z, list(self.layer_sizes[1:]), dim=-1))

    def generative_logits(self, layer: int, above: torch.Tensor) -> torch.Tensor:
        """Logits of ``p(h_layer | h_(layer+1) = above)`` (layer 0 is the data); trusted input."""
        return self.gen_biases[layer] + above @ self.gen_weights[layer].T

    def _rec_logits(self, layer: int, below: torch.Tensor) -> torch.Tensor:
        return self.rec_biases[layer] + below @ self.rec_weights[layer]

    def _log_joint(self, x, z):
        layers = [x, *self.split(z)]
        out = bernoulli_log_prob(layers[-1], self.prior_logits)
        for i in range(len(layers) - 1):
            out = out + bernoulli_log_prob(layers[i], self.generative_logits(i, layers[i + 1]))
        return out

    def _rec_log_prob(self, x, z):
        layers = [x, *self.split(z)]
        out = 0.0
        for i in range(len(layers) - 1):
            out = out + bernoulli_log_prob(layers[i + 1], self._rec_logits(i, layers[i]))
        return out

    # ------------------------------------------------------------------ the protocol
    def log_joint(self, x, z, *, check: bool = True) -> torch.Tensor:
        """``log p(x, z)`` in nats (the energy is its negative).

        Parameters
        ----------
        x : array_like or Tensor, shape (b, n_visible), 0/1 values
        z : array_like or Tensor, shape (..., b, n_latent), 0/1 values
            Latent layers concatenated bottom to top.
        check : bool
            Validate ``x`` and ``z``. Trainers that validated their data once pass ``False``
            and tensors of the model's dtype and device.

        Returns
        -------
        Tensor, shape (..., b)
        """
        if not check:
            return self._log_joint(x, z)
        x = self._visible(x, "log_joint")
        return self._log_joint(x, self._latent(x, z, "log_joint"))

    def recognition_log_prob(self, x, z, *, check: bool = True) -> torch.Tensor:
        """``log q(z | x)`` in nats, shape (..., b) (shapes and ``check`` as for :meth:`log_joint`)."""
        if not check:
            return self._rec_log_prob(x, z)
        x = self._visible(x, "recognition_log_prob")
        return self._rec_log_prob(x, self._latent(x, z, "recognition_log_prob"))

    def recognition_sample(self, x, n: int, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` latent vectors per example from ``q(z | x)``, bottom-up.

        Binary units are not reparameterisable; the samples carry no gradient.

        Parameters
        ----------
        x : array_like or Tensor, shape (b, n_visible)
        n : int
            Samples per example, >= 1.
        generator : torch.Generator, optional
            On the model's device; same generator state, same samples.

        Returns
        -------
        z : Tensor, shape (n, b, n_latent)
        log_q : Tensor, shape (n, b)
        """
        x = self._visible(x, "recognition_sample")
        n = check_int("n", n, "HelmholtzMachine.recognition_sample", 1)
        gen = self._generator(generator, "recognition_sample")
        below = x
        layers, log_q = [], 0.0
        for i in range(len(self.layer_sizes) - 1):
            logits = self._rec_logits(i, below)
            if i == 0:  # the first layer's logits are the same for every sample
                logits = logits.expand(n, *logits.shape)
            with torch.no_grad():
                below = torch.bernoulli(torch.sigmoid(logits), generator=gen)
            layers.append(below)
            log_q = log_q + bernoulli_log_prob(below, logits)
        return torch.cat(layers, dim=-1), log_q

    def recognition_entropy(self, x) -> torch.Tensor | None:
        """Entropy ``H(q(z | x))`` in nats per example, shape (b,), when it is analytic.

        It is analytic for one hidden layer (``q`` factorised over every latent unit); with more
        layers ``q`` is only factorised within each layer and this returns ``None``.
        """
        x = self._visible(x, "recognition_entropy")
        if len(self.layer_sizes) != 2:
            return None
        logits = self._rec_logits(0, x)
        p = torch.sigmoid(logits)
        return (softplus(logits) - p * logits).sum(-1)

    def latent_configurations(self) -> torch.Tensor | None:
        """All ``2^n_latent`` latent vectors, shape (2^n_latent, n_latent), or ``None`` when
        ``n_latent > 20``."""
        if self.n_latent > MAX_ENUMERATED_LATENTS:
            return None
        return binary_configurations(self.n_latent, self.dtype, self.device)

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(self, n: int, *, seed=None, generator=None, return_latent: bool = False):
        """Draw ``n`` visible vectors by ancestral sampling, top layer first.

        Parameters
        ----------
        n : int
            Number of samples, >= 1.
        seed : int, optional
            Same seed, same samples.
        generator : torch.Generator, optional
            Draw from this generator instead (on the model's device; not with ``seed``), as the
            other sampling methods of the class do.
        return_latent : bool
            Also return the latent vectors ``z`` (n, n_latent) that generated them.

        Returns
        -------
        x : Tensor, shape (n, n_visible)
        z : Tensor, shape (n, n_latent), only with ``return_latent=True``
        """
        n = check_int("n", n, "HelmholtzMachine.sample", 1)
        gen = self._seeded_or_given(seed, generator, "sample")
        top = torch.sigmoid(self.prior_logits).expand(n, self.layer_sizes[-1])
        layers = [torch.bernoulli(top, generator=gen)]
        for i in reversed(range(len(self.layer_sizes) - 1)):
            probs = torch.sigmoid(self.generative_logits(i, layers[0]))
            layers.insert(0, torch.bernoulli(probs, generator=gen))
        if return_latent:
            return layers[0], torch.cat(layers[1:], dim=-1)
        return layers[0]

    @torch.no_grad()
    def recognise(self, x, *, seed=None, generator=None) -> list[torch.Tensor]:
        """One bottom-up sample of every hidden layer given ``x``: ``[h_1, ..., h_L]``, each
        of shape (b, n_l); ``seed`` or ``generator`` as for :meth:`sample`."""
        x = self._visible(x, "recognise")
        gen = self._seeded_or_given(seed, generator, "recognise")
        z, _ = self.recognition_sample(x, 1, generator=gen)
        return self.split(z[0])

    # ------------------------------------------------------------------ files
    def metadata_fields(self) -> dict:
        return {"layer_sizes": list(self.layer_sizes)}

    @classmethod
    def from_metadata(cls, meta: dict, device: torch.device) -> HelmholtzMachine:
        return cls(meta["layer_sizes"], dtype=meta["dtype"], device=device, seed=0)
