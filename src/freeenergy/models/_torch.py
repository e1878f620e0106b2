"""What every torch model shares: argument checks, and one file format with one loader.

Files (``model.save(path)``, :func:`load_model`): one ``torch.save`` archive, written atomically,
holding ``{"metadata": JSON text, "state_dict": {name: tensor}}``. The metadata is
``{"format": "freeenergy-model", "version": 1, "class": name, "dtype": "float32"|"float64", ...}``
plus the fields a class needs to rebuild itself (its constructor arguments). Tensors are stored on
the CPU and read back with ``torch.load(weights_only=True)``; a missing, truncated, corrupt or
foreign file, a newer version or non-finite parameters give a clear error naming the path.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from freeenergy._io import atomic_write, dumps
from freeenergy._params import InputError, InputTypeError, check_int, fail

FORMAT = "freeenergy-model"
FORMAT_VERSION = 1
_DTYPES = {"float32": torch.float32, "float64": torch.float64}

# class name in a file -> module defining it (imported only when such a file is read)
MODEL_MODULES = {
    "BernoulliRBM": "freeenergy.models.rbm",
    "GaussianBernoulliRBM": "freeenergy.models.rbm",
    "HelmholtzMachine": "freeenergy.models.helmholtz",
    "VAE": "freeenergy.models.vae",
}


def softplus(x: torch.Tensor) -> torch.Tensor:
    """``log(1 + exp(x))`` to full precision: torch's default cut-off at 20 returns ``x`` and
    drops ``log1p(exp(-20)) = 2e-9`` per unit; at 40 the dropped term is below float64 round-off."""
    return F.softplus(x, threshold=40.0)


def check_dtype(dtype, owner: str) -> torch.dtype:
    """``None`` -> float64; accepts torch.float32/float64 or their names."""
    if dtype is None:
        return torch.float64
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    if dtype in _DTYPES.values():
        return dtype
    raise fail("dtype", owner, "torch.float32 or torch.float64", dtype)


def check_device(device, owner: str) -> torch.device:
    """``None`` -> the CPU."""
    try:
        return torch.device("cpu" if device is None else device)
    except (RuntimeError, TypeError):
        raise fail("device", owner, "a torch device such as 'cpu' or 'cuda'", device) from None


def check_seed(seed, owner: str, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator on ``device`` seeded by ``seed`` (``None``: a fresh, non-deterministic seed)."""
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(check_int("seed", seed, owner, 0))
    return gen


def check_generator(generator, owner: str, device: torch.device) -> torch.Generator | None:
    """``None`` or a ``torch.Generator`` living on the model's device type."""
    if generator is None:
        return None
    if not isinstance(generator, torch.Generator):
        raise InputTypeError(
            f"The 'generator' parameter of {owner} must be a torch.Generator or None. "
            f"Got {type(generator).__name__} instead."
        )
    if generator.device.type != device.type:
        raise InputError(
            f"The 'generator' parameter of {owner} must live on the model's device ({device}). "
            f"Got a generator on {generator.device} instead."
        )
    return generator


def model_class(name: object) -> type:
    """The model class saved under ``name`` in a file's metadata (imported on demand)."""
    if name not in MODEL_MODULES:
        raise InputError(f"unknown model class {name!r}; known classes are {sorted(MODEL_MODULES)}")
    return getattr(importlib.import_module(MODEL_MODULES[name]), name)


def model_metadata(model) -> dict[str, Any]:
    """The metadata that rebuilds ``model`` (class, dtype and constructor arguments)."""
    return {"class": type(model).__name__, "dtype": str(model.dtype).removeprefix("torch."),
            **model.metadata_fields()}


def describe_metadata(meta: dict[str, Any]) -> str:
    """A model's file metadata in words: ``Class(arg=value, ..., dtype)``."""
    args = "".join(f"{k}={v}, " for k, v in meta.items() if k not in ("class", "dtype"))
    return f"{meta.get('class')}({args}{meta.get('dtype')})"


def as_real_tensor(x, name: str, owner: str, what: str, *, share: bool = False) -> torch.Tensor:
    """``x`` (array-like or tensor of real numbers) as a tensor; non-tensors become float64.

    ``what`` describes the expected content for the error message, e.g. ``"visible unit values"``.
    A NumPy array is copied, unless ``share`` and it is already a writable, C-contiguous float64
    array: then the tensor uses its memory (for data sets that must not be copied; the caller
    promises never to write to it).
    """
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise fail(name, owner, "a real tensor", f"a tensor of dtype {x.dtype}")
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        raise fail(name, owner, f"an array of {what}", x) from None
    if arr.dtype.kind not in "biuf":
        raise fail(name, owner, f"a numeric array of {what}", x if arr.dtype == object else arr)
    return torch.from_numpy(np.require(arr, np.float64, "CW") if share else arr.astype(np.float64))


class SavedModel:
    """Mixin for the torch models: ``device``, ``dtype``, and ``save`` / ``load`` in the shared
    file format.

    A subclass defines :meth:`metadata_fields` (JSON-ready constructor arguments) and
    :meth:`from_metadata` (an instance with those arguments, on a device and dtype), and is
    listed in :data:`MODEL_MODULES`.
    """

    @property
    def device(self) -> torch.device:
        """Device of the parameters."""
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the parameters."""
        return next(self.parameters()).dtype

    def metadata_fields(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_metadata(cls, meta: dict[str, Any], device: torch.device):
        raise NotImplementedError

    def _generator(self, generator, method: str) -> torch.Generator | None:
        """``generator`` checked for ``method`` (None, or a generator on the model's device)."""
        return check_generator(generator, f"{type(self).__name__}.{method}", self.device)

    def _seeded_or_given(self, seed, generator, method: str) -> torch.Generator:
        """The generator of a sampling method that takes ``seed=`` or ``generator=`` (not both):
        the given generator (checked), or a new one seeded by ``seed``."""
        owner = f"{type(self).__name__}.{method}"
        if generator is None:
            return check_seed(seed, owner, self.device)
        if seed is not None:
            raise InputError(f"{owner} takes 'seed' or 'generator', not both. Got seed={seed!r} and "
                             f"a generator.")
        return check_generator(generator, owner, self.device)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to ``path`` atomically (see :mod:`freeenergy.models._torch`).

        Returns
        -------
        pathlib.Path
            The path written.
        """
        meta = {"format": FORMAT, "version": FORMAT_VERSION, **model_metadata(self)}
        state = {k: v.detach().to("cpu", copy=True) for k, v in self.state_dict().items()}
        payload = {"metadata": dumps(meta), "state_dict": state}
        return atomic_write(path, lambda tmp: torch.save(payload, tmp))

    @classmethod
    def load(cls, path: str | os.PathLike, *, map_location=None):
        """Read a model written by :meth:`save`; the file must hold this class.

        See :func:`load_model` for the parameters and errors.
        """
        model = load_model(path, map_location=map_location)
        if not isinstance(model, cls):
            raise InputError(
                f"The model file '{path}' holds a {type(model).__name__}, not a {cls.__name__}; "
                f"use freeenergy.models.load_model to read any model."
            )
        return model


def read_archive(path: Path, *, kind: str, fmt: str, version: int, keys: set[str], hint: str,
                 map_location=None) -> tuple[dict, dict]:
    """``(metadata, payload)`` of a freeenergy archive (a model file or a checkpoint).

    ``kind`` names it in messages ("model file", "checkpoint"); ``fmt`` and ``version`` are the
    expected format and the newest readable version; ``keys`` must be in the payload; ``hint``
    says what writes such a file.
    """
    if not path.is_file():
        raise FileNotFoundError(f"No {kind.removesuffix(' file')} file at '{path}'.")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for truncated / foreign files
        reason = " ".join(str(exc).split())[:200]
        raise InputError(
            f"Cannot read '{path}' as a freeenergy {kind}: it is truncated, corrupt or not a "
            f"torch archive ({type(exc).__name__}: {reason})."
        ) from exc
    if not (isinstance(payload, dict) and keys <= payload.keys()):
        what = "a dict without them" if isinstance(payload, dict) else f"a {type(payload).__name__}"
        raise InputError(
            f"'{path}' is not a freeenergy {kind}: it should hold a dict with {sorted(keys)} ({hint}) "
            f"but holds {what}."
        )
    try:
        meta = json.loads(payload["metadata"])
    except (TypeError, ValueError):
        raise InputError(f"'{path}' is not a freeenergy {kind}: its metadata is not JSON.") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise InputError(f"'{path}' is not a freeenergy {kind} (format is not {fmt!r}).")
    if not isinstance(meta.get("version"), int) or meta["version"] > version:
        raise InputError(
            f"'{path}' has {kind} format version {meta.get('version')!r}; this freeenergy reads "
            f"versions up to {version}. Upgrade freeenergy to read it."
        )
    return meta, payload


def load_model(path: str | os.PathLike, *, map_location=None):
    """Read any model written by ``model.save(path)``.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    map_location : str or torch.device, optional
        Device for the parameters (as for ``torch.load``); by default the CPU.

    Returns
    -------
    BernoulliRBM, GaussianBernoulliRBM, HelmholtzMachine or VAE
        The class named in the file's metadata.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is truncated or corrupt, is not a freeenergy model file (a bare tensor, a
        text file, another program's checkpoint), comes from a newer format version, or holds
        non-finite parameters.

    Examples
    --------
    >>> import os, tempfile
    >>> from freeenergy.models import BernoulliRBM, load_model
    >>> path = os.path.join(tempfile.mkdtemp(), "rbm.pt")
    >>> _ = BernoulliRBM(6, 2, seed=3).save(path)
    >>> load_model(path)
    BernoulliRBM(n_visible=6, n_hidden=2, dtype=torch.float64)
    """
    if not isinstance(path, str | os.PathLike):
        raise InputTypeError(
            f"The 'path' parameter of load_model must be a str or path. Got {path!r} instead.")
    path = Path(path)
    meta, payload = read_archive(path, kind="model file", fmt=FORMAT, version=FORMAT_VERSION,
                                 keys={"metadata", "state_dict"}, hint="as written by model.save",
                                 map_location=map_location)
    try:
        cls = model_class(meta.get("class"))
    except ValueError as exc:
        raise InputError(f"'{path}' holds an {exc}.") from None
    state = payload["state_dict"]
    try:
        device = next(iter(state.values())).device if state else torch.device("cpu")
        model = cls.from_metadata(meta, device)
        model.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, StopIteration) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise InputError(f"'{path}' is a damaged freeenergy model file: {reason}") from None
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise InputError(f"'{path}' holds non-finite (NaN or inf) parameters.")
    return model


def check_rows(data, model, owner: str, *, name: str = "data", values: str | None = None,
               hint: str = "", placement: tuple[torch.dtype, torch.device] | None = None) -> torch.Tensor:
    """The one validator of a batch of examples: shape ``(n, model.n_visible)`` with ``n >= 1``.

    Returns a contiguous tensor on the model's device and dtype (or ``placement``); a float64
    C-contiguous array on the CPU is not copied (read only, never written).

    Parameters
    ----------
    data : array_like or Tensor
        Real numbers, one example per row.
    model
        Gives ``n_visible`` (and ``dtype``, ``device`` unless ``placement`` is given).
    owner, name : str
        The public function and its argument, for the error message.
    values : {None, "unit", "binary"}
        Besides finiteness: every value in [0, 1], or exactly 0 or 1.
    hint : str
        Appended to the message of a value error (e.g. what else the caller accepts).
    """
    x = as_real_tensor(data, name, owner, "shape (n, n_visible)", share=True).detach()
    n_v = model.n_visible
    if x.ndim != 2 or x.shape[1] != n_v or x.shape[0] < 1:
        raise InputError(
            f"The {name!r} parameter of {owner} must have shape (n, {n_v}) with n >= 1, one row per "
            f"example. Got shape {tuple(x.shape)} instead (reshape images to rows, e.g. "
            f"data.reshape(len(data), -1))."
        )
    dtype, device = placement if placement is not None else (model.dtype, model.device)
    x = x.to(device=device, dtype=dtype)
    _check_values(x, owner, name, values, f"a {type(model).__name__}", hint)
    return x.contiguous()


def check_units(x, n: int, owner: str, *, name: str, unit: str, model, values: str | None = None,
                validate: bool = True) -> torch.Tensor:
    """The validator of a model method's input: values of ``n`` units on the last axis, shape
    ``(..., n)``, on the model's device and dtype. With ``validate`` (the model's
    ``validate_args``) also finite, and ``values`` as for :func:`check_rows`; ``unit`` names one
    value in the messages (e.g. "visible unit")."""
    t = as_real_tensor(x, name, owner, f"{unit} values")
    if t.ndim == 0 or t.shape[-1] != n:
        raise InputError(
            f"The {name!r} parameter of {owner} must have shape (..., {n}), one value per {unit} on "
            f"the last axis. Got shape {tuple(t.shape)} instead."
        )
    t = t.to(device=model.device, dtype=model.dtype)
    if validate:
        _check_values(t, owner, name, values, f"the {unit}s of a {type(model).__name__}", "")
    return t


def _check_values(x: torch.Tensor, owner: str, name: str, values: str | None, subject: str,
                  hint: str) -> None:
    """Finite, and with ``values`` also in [0, 1] ("unit") or exactly 0 or 1 ("binary")."""
    if not torch.isfinite(x).all():
        raise InputError(f"The {name!r} parameter of {owner} must be finite. Got NaN or inf.")
    if values is None:
        return
    bad = (x != 0) & (x != 1) if values == "binary" else (x < 0) | (x > 1)
    if bad.any():
        if values == "binary":
            allowed, got = "0/1 values", f"a value of {x[bad].flatten()[0].item()!r}"
        else:
            allowed, got = "values in [0, 1]", f"values in [{float(x.min()):g}, {float(x.max()):g}]"
        raise InputError(f"The {name!r} parameter of {owner} must hold {allowed} for {subject}. Got "
                         f"{got} instead{hint}.")


def binary_codes(start: int, stop: int, n_bits: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """The binary vectors of the integer codes ``start..stop-1``, shape ``(stop - start, n_bits)``:
    bit ``j`` of code ``x`` is column ``j`` (the least significant bit first)."""
    codes = torch.arange(start, stop, device=device, dtype=torch.int64)
    shifts = torch.arange(n_bits, device=device, dtype=torch.int64)
    return ((codes[:, None] >> shifts) & 1).to(dtype)


def binary_configurations(n: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """All ``2^n`` binary vectors, shape ``(2^n, n)``, in the order of :func:`binary_codes`."""
    return binary_codes(0, 1 << n, n, dtype, device)


def logsumexp_chunks(chunks: Iterable[torch.Tensor]) -> torch.Tensor:
    """``log sum_i exp(w_i)`` over the first axis of every chunk, folded chunk by chunk in order.

    The one importance-weighting core: memory stays at one chunk of log weights, and a fixed
    order of chunks gives a fixed rounding. Differentiable.
    """
    total = None
    for w in chunks:
        part = torch.logsumexp(w, dim=0)
        total = part if total is None else torch.logaddexp(total, part)
    if total is None:
        raise ValueError("logsumexp_chunks needs at least one chunk")
    return total
