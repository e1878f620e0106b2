"""Mini-batch contrastive divergence: the per-batch gradient kernels and the SGD update.

A kernel maps ``(model, v0, state, k)`` to the ascent direction of the (approximate)
log-likelihood for every trained parameter and the summed squared reconstruction error. Kernels
are looked up by model type (:func:`register_kernel`): the Bernoulli RBM has a hand-written
kernel (no autograd, in-place BLAS calls), any other RBM uses the generic autograd kernel on
its conditional samplers and free energy, whose gradient
``d/dtheta [F(v_k) - F(v_0)]`` is the CD / PCD estimate of ``d log p(v_0) / dtheta``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from freeenergy.learn.loop import Diverged, bad_parameter
from freeenergy.models.rbm import BernoulliRBM

_KERNELS: dict[type, Callable] = {}


@dataclass(frozen=True)
class Config:
    """Arguments that determine the parameter trajectory."""

    method: str
    k: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float


@dataclass
class State:
    """Everything besides the model that the next update depends on."""

    velocity: dict[str, torch.Tensor]
    chains: torch.Tensor | None  # PCD: hidden states of the persistent chains
    generator: torch.Generator


@dataclass(frozen=True)
class Outer:
    """A weight gradient ``pa.T @ pb / len(pa) - na.T @ nb / len(na)`` kept as its factors, so
    that it is added into its target by two BLAS calls with no (n_visible, n_hidden) temporary."""

    pa: torch.Tensor
    pb: torch.Tensor
    na: torch.Tensor
    nb: torch.Tensor

    def add_to(self, out: torch.Tensor, alpha: float) -> torch.Tensor:
        out.addmm_(self.pa.T, self.pb, alpha=alpha / len(self.pa))
        return out.addmm_(self.na.T, self.nb, alpha=-alpha / len(self.na))


def _add(out: torch.Tensor, grad, alpha: float) -> None:
    if isinstance(grad, Outer):
        grad.add_to(out, alpha)
    else:
        out.add_(grad, alpha=alpha)


def register_kernel(model_type: type):
    """Register ``kernel(model, v0, state, k) -> (ascent: dict, recon_sq_sum: Tensor)``.

    Call it after the definition, ``register_kernel(T)(kernel)``, not as a decorator: mutation
    testing (mutmut) skips decorated functions, and the kernels are what it must reach.
    """

    def decorate(fn):
        _KERNELS[model_type] = fn
        return fn

    return decorate


def kernel_for(model) -> Callable:
    for cls in type(model).__mro__:
        if cls in _KERNELS:
            return _KERNELS[cls]
    return _autograd_kernel


def trained_parameters(model) -> dict[str, torch.nn.Parameter]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def init_state(model, data: torch.Tensor, cfg: Config, generator: torch.Generator) -> State:
    """Zero momentum; for PCD, ``batch_size`` chains started at ``h ~ p(h | v)`` of random rows."""
    velocity = {n: torch.zeros_like(p.detach()) for n, p in trained_parameters(model).items()}
    chains = None
    if cfg.method == "pcd":
        rows = torch.randint(len(data), (cfg.batch_size,), generator=generator, device=data.device)
        with torch.no_grad():
            chains = model.sample_hidden(data[rows], generator, check=False)
    return State(velocity, chains, generator)


def _bernoulli(p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """0/1 samples of Bernoulli(p): ``u < p`` with uniform ``u``, in place (faster than
    ``torch.bernoulli`` on CPU)."""
    return torch.rand(p.shape, generator=gen, dtype=p.dtype, device=p.device).lt_(p)


def _bernoulli_kernel(model, v0, state, k):
    W, a, b = model.weight.detach(), model.visible_bias.detach(), model.hidden_bias.detach()
    gen = state.generator
    ph0 = torch.sigmoid(torch.addmm(b, v0, W))
    h = _bernoulli(ph0, gen)
    pv = torch.sigmoid(torch.addmm(a, h, W.T))
    recon = torch.sub(v0, pv).square_().sum()
    persistent = state.chains is not None
    if persistent:
        pv = torch.sigmoid(torch.addmm(a, state.chains, W.T))
    for step in range(k):
        v = _bernoulli(pv, gen)
        ph = torch.sigmoid(torch.addmm(b, v, W))
        if step < k - 1 or persistent:
            h = _bernoulli(ph, gen)
        if step < k - 1:
            pv = torch.sigmoid(torch.addmm(a, h, W.T))
    if persistent:
        state.chains = h
    grad_w = Outer(v0, ph0, v, ph)
    grad_a = v0.mean(0).sub_(v.mean(0))
    grad_b = ph0.mean(0).sub_(ph.mean(0))
    return {"weight": grad_w, "visible_bias": grad_a, "hidden_bias": grad_b}, recon


register_kernel(BernoulliRBM)(_bernoulli_kernel)


def _autograd_kernel(model, v0, state, k):
    gen = state.generator
    with torch.no_grad():
        h = model.sample_hidden(v0, gen, check=False)
        recon = torch.sub(v0, model.visible_probs(h)).square_().sum()
        if state.chains is not None:
            h = state.chains
        for step in range(k):
            v = model.sample_visible(h, gen, check=False)
            if step < k - 1 or state.chains is not None:
                h = model.sample_hidden(v, gen, check=False)
        if state.chains is not None:
            state.chains = h
    params = trained_parameters(model)
    with torch.enable_grad():
        surrogate = model.free_energy(v, check=False).mean() - model.free_energy(v0, check=False).mean()
        grads = torch.autograd.grad(surrogate, list(params.values()))
    return dict(zip(params, grads, strict=True)), recon


def apply_update(model, ascent: dict, state: State, cfg: Config) -> None:
    """SGD with momentum: ``u <- momentum u + lr (g - weight_decay W)``, ``theta <- theta + u``
    (plain SGD, ``theta <- theta + lr g``, when both momentum and the decay are 0)."""
    with torch.no_grad():
        for name, g in ascent.items():
            if name not in state.velocity:  # a frozen parameter (requires_grad=False)
                continue
            p, u = getattr(model, name), state.velocity[name]
            decay = cfg.weight_decay if name == "weight" else 0.0
            if cfg.momentum == 0 and decay == 0:
                _add(p, g, cfg.lr)
                continue
            _add(u.mul_(cfg.momentum), g, cfg.lr)
            if decay:
                u.add_(p, alpha=-cfg.lr * decay)
            p.add_(u)


#: What to blame when the reconstruction is not finite but every parameter is.
NONFINITE = "the reconstruction (unit inputs overflowed)"


def cd_step(model, kernel, v0: torch.Tensor, state: State, cfg: Config) -> torch.Tensor:
    """One CD/PCD update on the mini-batch ``v0``; returns its summed reconstruction error.

    Raises :class:`~freeenergy.learn.loop.Diverged` when a NaN or inf shows up (then nothing
    is updated), blaming the first non-finite parameter or else the reconstruction.
    """
    try:
        ascent, r = kernel(model, v0, state, cfg.k)
    except RuntimeError as exc:  # torch.bernoulli refuses NaN probabilities
        if bad_parameter(model) is None and "p_in" not in str(exc):
            raise
        raise _diverged(model) from None
    if not torch.isfinite(r):
        raise _diverged(model)
    apply_update(model, ascent, state, cfg)
    return r


def _diverged(model) -> Diverged:
    name = bad_parameter(model)
    return Diverged(f"parameter {name!r}" if name else NONFINITE)
