"""Training checkpoints: one file that lets a killed run continue exactly where it stopped.

Format: one ``torch.save`` archive, written atomically (temporary file + rename, so a crash
mid-write leaves the previous checkpoint intact), read back with ``weights_only=True``::

    {"metadata": JSON text {"format": "freeenergy-checkpoint", "version": 1, "epoch",
                            "model": {"class", "n_visible", "n_hidden", "dtype", "extra"},
                            "arguments": {training arguments, the data digest included},
                            "stop_reason"},
     "model": {parameter name: tensor},     # model state after `epoch` epochs
     "velocity": {parameter name: tensor},  # momentum buffers
     "chains": tensor or None,              # PCD persistent chains (hidden states)
     "generator": uint8 tensor,             # torch.Generator state
     "history": {column: float64 tensor}}   # the TrainingHistory so far

The variational trainers (:func:`~freeenergy.learn.train_helmholtz`,
:func:`~freeenergy.learn.train_vae`) write ``"optimizer"`` (the Adam state) instead of
``"velocity"`` and ``"chains"``, and their metadata names the history record
(``"history": "VariationalHistory"``).

All tensors are stored on the CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from freeenergy._io import atomic_write, dumps
from freeenergy._params import InputError, InputTypeError
from freeenergy.learn.history import TrainingHistory, VariationalHistory
from freeenergy.models._torch import model_class, model_metadata, read_archive

__all__ = ["CHECKPOINT_FORMAT", "Checkpoint", "load_checkpoint"]

CHECKPOINT_FORMAT = "freeenergy-checkpoint"
CHECKPOINT_VERSION = 1
_HISTORIES = {h.__name__: h for h in (TrainingHistory, VariationalHistory)}


def _cpu(tensors: dict) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in tensors.items()}


def write_checkpoint(path, model, entries: dict, generator: torch.Generator, epoch: int,
                     history, arguments: dict) -> Path:
    """Write the full training state after ``epoch`` epochs to ``path`` atomically.

    ``entries`` are the trainer's own tensors (e.g. ``velocity`` and ``chains`` for
    :func:`~freeenergy.learn.train_rbm`, ``optimizer`` for the variational trainers).
    """
    meta = {
        "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "epoch": epoch,
        "model": model_metadata(model), "arguments": arguments, "stop_reason": history.stop_reason,
    }
    if type(history) is not TrainingHistory:
        meta["history"] = type(history).__name__
    payload = {
        "metadata": dumps(meta),
        "model": _cpu(model.state_dict()),
        **entries,
        "generator": generator.get_state(),
        "history": {c: torch.from_numpy(getattr(history, c).astype("float64"))
                    for c in history.COLUMNS},
    }
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))


def rbm_entries(state) -> dict:
    """The checkpoint entries of a CD / PCD run: momentum buffers and persistent chains."""
    return {"velocity": _cpu(state.velocity),
            "chains": None if state.chains is None else state.chains.detach().to("cpu", copy=True)}


def read_checkpoint(path) -> tuple[dict, dict]:
    """``(metadata, payload)`` of a checkpoint file, with clear errors for anything else."""
    if not isinstance(path, str | os.PathLike):
        raise InputTypeError(f"A checkpoint path must be a str or os.PathLike. Got {path!r} instead.")
    meta, payload = read_archive(
        Path(path), kind="checkpoint", fmt=CHECKPOINT_FORMAT, version=CHECKPOINT_VERSION,
        keys={"metadata", "model", "generator", "history"}, map_location="cpu",
        hint="written by the trainers' checkpoint=path; model.save files are read with load_model",
    )
    try:
        model_class(meta.get("model", {}).get("class"))
    except ValueError as exc:
        raise InputError(f"'{path}' holds an {exc}.") from None
    return meta, payload


def history_from(meta: dict, payload: dict) -> TrainingHistory:
    kind = _HISTORIES.get(meta.get("history", "TrainingHistory"))
    if kind is None:
        raise InputError(f"unknown history record {meta.get('history')!r}")
    cols = {c: payload["history"][c].numpy() for c in kind.COLUMNS}
    return kind(**cols, arguments=meta["arguments"], stop_reason=meta["stop_reason"])


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """A checkpoint read back by :func:`load_checkpoint`.

    Attributes
    ----------
    model : torch.nn.Module
        The model (an RBM, HelmholtzMachine or VAE) after ``epoch`` epochs (on the CPU).
    epoch : int
        Number of completed epochs.
    history : TrainingHistory or VariationalHistory
        The diagnostics up to ``epoch``.
    arguments : dict
        The training arguments of the run.
    path : pathlib.Path
        The file read.
    """

    model: torch.nn.Module
    epoch: int
    history: TrainingHistory
    arguments: dict
    path: Path


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by ``train_rbm``, ``train_helmholtz`` or ``train_vae`` with
    ``checkpoint=path``.

    Use it to inspect or keep the last good model of a run; to continue training pass the
    path as ``resume=path`` to the same trainer instead.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is truncated, corrupt, of another kind, or from a newer format version.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.learn import train_rbm, load_checkpoint
    >>> data = (np.random.default_rng(0).random((50, 6)) < 0.3).astype(float)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
    >>> _ = train_rbm(BernoulliRBM(6, 3, seed=0), data, epochs=2, batch_size=10, seed=0,
    ...               checkpoint=path)
    >>> ckpt = load_checkpoint(path)
    >>> ckpt.epoch, ckpt.history.epoch.tolist(), ckpt.arguments["method"]
    (2, [0, 1, 2], 'cd')
    """
    meta, payload = read_checkpoint(path)
    m = meta["model"]
    try:
        model = model_class(m["class"]).from_metadata(m, torch.device("cpu"))
        model.load_state_dict(payload["model"])
        history = history_from(meta, payload)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise InputError(f"'{path}' is a damaged freeenergy checkpoint: {reason}") from None
    return Checkpoint(model, int(meta["epoch"]), history, meta["arguments"], Path(path))
