"""Exact ``log Z`` of RBMs by enumerating one layer, in memory-bounded chunks.

For a :class:`~freeenergy.models.BernoulliRBM` the layer not enumerated is summed out in
closed form: enumerating the hidden layer,

    log Z = logsumexp_h [ b.h + sum_i softplus(a_i + (W h)_i) ],

(and symmetrically for the visible layer). The enumerated bits are split into ``lo`` and ``hi``
parts, ``z = (a + W_hi h_hi) + W_lo h_lo = P + Q``, so a chunk of ``nb x L`` configurations
needs one small table ``Q`` (all ``L`` low configurations) and ``nb`` rows ``P`` instead of a
matmul per configuration. When ``|z|`` is bounded well inside the floating-point range (always
for trained models of ordinary size), the sum of softplus terms is evaluated as
``log prod_i (1 + e^P_i e^Q_i)`` over groups of units whose products cannot overflow: one
multiply-add per unit and one logarithm per group, about 3x faster than ``softplus`` on a CPU.
Otherwise ``softplus(P + Q)`` is summed directly. The log-sum-exp over configurations is
accumulated in float64 whatever the model dtype.

For a :class:`~freeenergy.models.GaussianBernoulliRBM` the visibles are integrated out
analytically, leaving a quadratic form in the hidden units, ``-F(h) = c.h + h.M.h / 2 +
const`` with ``c = b + W^T (a / sigma^2)`` and ``M = W^T diag(sigma^-2) W``, enumerated in float64.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from tqdm.auto import tqdm

from freeenergy._params import InputError, InputTypeError, check_int, fail
from freeenergy._threads import threads_for
from freeenergy.estimate._result import Estimate
from freeenergy.models._torch import binary_codes, softplus
from freeenergy.models.rbm import BernoulliRBM, GaussianBernoulliRBM

__all__ = ["MAX_ENUMERATED", "exact_log_partition", "register_exact"]

# 2^32 configurations take hours on a CPU; beyond that use a stochastic estimator (AIS).
MAX_ENUMERATED = 32
# Default chunk: about this many (configuration x summed-unit) elements, 32 MB in float64
# (larger chunks amortise per-call overhead; measured best on a 2-core CPU).
_CHUNK_ELEMENTS = 1 << 22
# Fold the per-chunk log-sum-exps into one after this many chunks.
_FOLD = 4096

_EXACT: dict[type, Callable] = {}


def register_exact(model_type: type):
    """Register ``fn(model, layer, chunk_size, progress) -> (log_z, n_configs, info)``.

    Call it after the definition, ``register_exact(T)(fn)``, not as a decorator: mutation testing
    (mutmut) skips decorated functions.
    """

    def decorate(fn):
        _EXACT[model_type] = fn
        return fn

    return decorate


def exact_log_partition(
    model, *, layer: str | None = None, chunk_size: int | None = None, progress: bool = False
) -> Estimate:
    """Exact ``log Z`` (nats) of a model by enumerating one of its layers.

    Parameters
    ----------
    model : BernoulliRBM or GaussianBernoulliRBM
        The model (at T = 1; use ``model.at_beta(beta)`` for other temperatures).
    layer : {"hidden", "visible"}, optional
        Layer to enumerate. By default the smaller one for a Bernoulli RBM (hidden on ties) and
        always the hidden layer for a Gaussian-Bernoulli RBM. At most ``MAX_ENUMERATED`` (32)
        units can be enumerated.
    chunk_size : int, optional
        Largest number of configurations evaluated at once (memory is about ``chunk_size``
        times the size of the other layer); by default about 2^22 elements. Results do not
        depend on it beyond rounding.
    progress : bool
        Show a tqdm progress bar over chunks.

    Returns
    -------
    Estimate
        ``method="exact"``, ``stderr=0``, ``lower == upper == log_z``, ``n_samples`` the number
        of configurations enumerated; ``info`` holds the ``layer``, the ``kernel`` used, the
        ``chunk_size`` and the wall time in ``seconds``.

    Raises
    ------
    ValueError
        If the enumerated layer has more than ``MAX_ENUMERATED`` units (use AIS instead).
    TypeError
        If no exact method is registered for the model's type.

    Examples
    --------
    >>> import math
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.estimate import exact_log_partition
    >>> rbm = BernoulliRBM(784, 10, seed=0)
    >>> est = exact_log_partition(rbm)
    >>> print(est)
    log Z = 550.096199 ± 0 (exact, n = 1024)
    >>> est.stderr, est.lower == est.upper == est.log_z
    (0.0, True)
    >>> uniform = exact_log_partition(rbm.at_beta(0.0))   # T = inf: log Z = 794 log 2
    >>> math.isclose(uniform.log_z, 794 * math.log(2), rel_tol=1e-14)
    True
    """
    for cls in type(model).__mro__:
        if cls in _EXACT:
            break
    else:
        raise InputTypeError(
            f"exact_log_partition has no exact method for a {type(model).__name__}; known "
            f"types are {sorted(c.__name__ for c in _EXACT)}."
        )
    if layer not in (None, "hidden", "visible"):
        raise fail("layer", "exact_log_partition", "'hidden', 'visible' or None", layer)
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size, "exact_log_partition", 1)
    if not isinstance(progress, bool):
        raise fail("progress", "exact_log_partition", "a bool", progress)
    start = time.perf_counter()
    # the work of the whole sum (2^min(n_v, n_h) configurations x the other layer) decides threads
    work = 2 ** min(model.n_visible, model.n_hidden) * max(model.n_visible, model.n_hidden)
    with torch.no_grad(), threads_for(work):
        log_z, n_configs, info = _EXACT[cls](model, layer, chunk_size, progress)
    info["seconds"] = time.perf_counter() - start
    return Estimate(log_z, 0.0, log_z, log_z, "exact", n_configs, info)


def _check_size(k: int, layer: str) -> None:
    if k > MAX_ENUMERATED:
        raise InputError(
            f"exact_log_partition would enumerate 2^{k} configurations of the {layer} layer; at "
            f"most 2^{MAX_ENUMERATED} are allowed. Use a stochastic estimator such as AIS "
            f"(freeenergy.estimate.ais) for a model this size."
        )


class _LogSumExp:
    """Float64 log-sum-exp over chunks without a device sync per chunk."""

    def __init__(self):
        self.parts: list[torch.Tensor] = []

    def add(self, values: torch.Tensor) -> None:
        self.parts.append(torch.logsumexp(values.reshape(-1).to(torch.float64), 0))
        if len(self.parts) >= _FOLD:
            self.parts = [torch.logsumexp(torch.stack(self.parts), 0)]

    def result(self) -> float:
        return float(torch.logsumexp(torch.stack(self.parts), 0))


def _pick_layer(model, layer):
    if layer is None:
        layer = "hidden" if model.n_hidden <= model.n_visible else "visible"
    w = model.weight.detach()
    a, b = model.visible_bias.detach(), model.hidden_bias.detach()
    # c: biases of the enumerated units, d: of the summed-out ones, C: (enumerated, summed).
    return (layer, b, a, w.T) if layer == "hidden" else (layer, a, b, w)


def _group_size(bound: float, dtype: torch.dtype) -> int:
    """Most factors ``1 + e^z`` (``|z| <= bound``) whose product stays finite; 0 if unsafe."""
    fi = torch.finfo(dtype)
    if bound > -math.log(fi.tiny) - 1:  # e^{+-bound} must be finite normal numbers
        return 0
    per_unit = bound + math.log1p(math.exp(-bound))
    return int((math.log(fi.max) - 1) // per_unit)


def _group_products(x: torch.Tensor, n_products: int) -> torch.Tensor:
    """Products of each row's entries in ``n_products`` equal groups (any grouping will do:
    reduce along whichever axis is longer, where torch's reduction vectorises)."""
    rows, size = x.shape
    if size // n_products >= n_products:
        return x.view(rows, n_products, -1).prod(-1)
    return x.view(rows, -1, n_products).prod(1)


def _kernel(C, d, dtype) -> tuple[str, torch.dtype, int]:
    """Choose the factorised kernel (and its dtype and group size) or plain softplus."""
    bound = float((d.abs().to(torch.float64) + C.abs().to(torch.float64).sum(0)).max())
    for work, need in ((dtype, 8), (torch.float64, 2)):
        group = _group_size(bound, work)
        if group >= need:
            return "factorised", work, min(group, C.shape[1])
    return "softplus", dtype, 0


def _bernoulli(model, layer, chunk_size, progress):
    layer, c, d, C = _pick_layer(model, layer)
    k, m = C.shape
    _check_size(k, layer)
    kernel, work, group = _kernel(C, d, model.dtype)
    C, c, d = C.to(work), c.to(work), d.to(work)
    rows = chunk_size or max(1, _CHUNK_ELEMENTS // m)
    k_lo = min(k, int(math.log2(rows)) // 2)
    L = 1 << k_lo
    n_hi = 1 << (k - k_lo)
    nb = max(1, min(rows // L, n_hi))
    lo_bits = binary_codes(0, L, k_lo, work, C.device)
    Q = lo_bits @ C[:k_lo]
    lin_lo = lo_bits @ c[:k_lo]
    if kernel == "factorised":
        n_products = -(-m // group)  # each a product of at most `group` factors
        m_pad = n_products * -(-m // n_products)
        V = torch.zeros(L, m_pad, dtype=work, device=C.device)
        V[:, :m] = Q.exp()
        U = torch.zeros(nb, m_pad, dtype=work, device=C.device)
        one = torch.ones((), dtype=work, device=C.device)
        buf = torch.empty(nb * L * m_pad, dtype=work, device=C.device)
    acc = _LogSumExp()
    for hi0 in tqdm(range(0, n_hi, nb), disable=not progress, desc="exact log Z", unit="chunk"):
        nbc = min(nb, n_hi - hi0)
        hi_bits = binary_codes(hi0, hi0 + nbc, k - k_lo, work, C.device)
        P = torch.addmm(d, hi_bits, C[k_lo:])
        if kernel == "factorised":
            torch.exp(P, out=U[:nbc, :m])
            out = buf[: nbc * L * m_pad].view(nbc, L, m_pad)
            torch.addcmul(one, U[:nbc, None, :], V[None], out=out)
            rest = _group_products(out.view(nbc * L, m_pad), n_products).log_().sum(-1)
        else:
            rest = softplus(P[:, None, :] + Q[None]).sum(-1)
        lin = (hi_bits @ c[k_lo:])[:, None] + lin_lo[None]
        acc.add(lin.to(torch.float64).reshape(-1) + rest.reshape(-1).to(torch.float64))
    info = {
        "layer": layer,
        "kernel": kernel,
        "work_dtype": str(work).removeprefix("torch."),
        "chunk_size": nb * L,
        "split": [k - k_lo, k_lo],
    }
    return acc.result(), 1 << k, info


register_exact(BernoulliRBM)(_bernoulli)


def _gaussian(model, layer, chunk_size, progress):
    if layer == "visible":
        raise fail(
            "layer",
            "exact_log_partition",
            "'hidden' (the visibles of a GaussianBernoulliRBM are real and are integrated out)",
            layer,
        )
    k = model.n_hidden
    _check_size(k, "hidden")
    f64 = torch.float64
    w, a = model.weight.detach().to(f64), model.visible_bias.detach().to(f64)
    b, log_s = model.hidden_bias.detach().to(f64), model.log_sigma.detach().to(f64)
    inv_var = torch.exp(-2 * log_s)
    lin = b + w.T @ (a * inv_var)
    quad = w.T @ (w * inv_var[:, None])
    const = float(log_s.sum()) + 0.5 * model.n_visible * math.log(2 * math.pi)
    rows = min(chunk_size or _CHUNK_ELEMENTS // 16, 1 << k)
    acc = _LogSumExp()
    for start in tqdm(range(0, 1 << k, rows), disable=not progress, desc="exact log Z", unit="chunk"):
        h = binary_codes(start, min(start + rows, 1 << k), k, f64, w.device)
        acc.add(h @ lin + 0.5 * ((h @ quad) * h).sum(-1))
    info = {"layer": "hidden", "kernel": "gaussian-quadratic", "chunk_size": rows}
    return acc.result() + const, 1 << k, info


register_exact(GaussianBernoulliRBM)(_gaussian)
