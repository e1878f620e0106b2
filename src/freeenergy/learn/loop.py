"""The training loop shared by every trainer: epochs of shuffled mini-batches, monitors,
progress bars, callbacks, atomic checkpoints, bit-identical resumption and NaN handling.

A trainer supplies a :class:`Task` (the per-model part) and validated :class:`Options`;
:class:`Loop` does the rest. Each epoch draws a permutation of the training rows from the run's
``torch.Generator`` and then calls ``task.step`` once per mini-batch, so with one seed the whole
trajectory is reproducible, and a checkpoint (model, task state, generator state and history)
continues it bit-identically.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import torch
from tqdm.auto import tqdm

from freeenergy._params import InputError, check_int, check_real, fail, warn_caller
from freeenergy.learn.checkpoint import history_from, read_checkpoint, write_checkpoint
from freeenergy.learn.monitor import TrainingError, TrainingWarning
from freeenergy.models._torch import check_seed, describe_metadata, model_metadata

__all__ = ["Diverged", "Loop", "Options", "Task", "bad_parameter", "validate_options"]


class Diverged(Exception):
    """A step produced a non-finite parameter or value: the one internal signal of divergence.

    A task raises it with the ``quantity`` to blame; the loop adds the ``batch`` (counted from
    0) and turns it into a :class:`TrainingError` or, with ``quiet``, a warning.
    """

    def __init__(self, quantity: str, batch: int | None = None):
        super().__init__(quantity)
        self.quantity, self.batch = quantity, batch


@dataclass(frozen=True)
class Options:
    """The loop's options, validated by :func:`validate_options`.

    With ``dynamic_binarization`` every mini-batch of probabilities ``x`` in [0, 1] is replaced
    by a fresh draw ``Bernoulli(x)`` from the run's generator (so a resumed run draws the same
    pixels as an uninterrupted one). ``lr`` is not read by the loop; tasks build their
    optimiser from it.
    """

    epochs: int
    batch_size: int
    lr: float
    callbacks: tuple[Callable, ...]
    checkpoint: Path | None
    checkpoint_every: int
    progress: bool
    quiet: bool
    dynamic_binarization: bool = False


class Task(Protocol):
    """The per-model part of a training run.

    Attributes: ``owner`` (the trainer's name in messages), ``history_type`` (a history class
    with ``from_rows``), ``trajectory`` (the arguments a resumed run must repeat),
    ``extra_arguments`` (recorded with them), ``scale`` (the epoch summary is ``sum / (n *
    scale)``), ``nonfinite`` (what to blame when the summary is not finite but every parameter
    is) and ``advice`` (how to avoid divergence).
    """

    owner: ClassVar[str] | str
    history_type: ClassVar[type] | type
    trajectory: dict
    extra_arguments: dict
    scale: float
    nonfinite: str
    advice: str

    def init(self, generator: torch.Generator) -> Any:
        """The optimiser state before the first update."""

    def step(self, rows: torch.Tensor, state: Any) -> torch.Tensor:
        """One update on a mini-batch; the summed per-row value the epoch reports. Raises
        :class:`Diverged` when it sees a NaN or inf."""

    def monitor(self, epoch: int, summary: float | None, seconds: float) -> dict:
        """One history row (None marks a value not computed)."""

    def save(self, state: Any) -> dict:
        """The checkpoint entries besides the model, the generator and the history."""

    def restore(self, payload: dict, generator: torch.Generator) -> Any:
        """The state saved by :meth:`save`."""

    def postfix(self, row: dict) -> dict:
        """What the progress bar shows after an epoch."""

    def explosion(self, rows: list[dict], epoch: int) -> str | None:
        """A warning message when the weights explode, else None."""


def bad_parameter(model) -> str | None:
    """Name of the first parameter holding a NaN or inf, or None."""
    for name, p in model.named_parameters():
        if not torch.isfinite(p).all():
            return name
    return None


def digest(data: torch.Tensor) -> str:
    """A short hash of the training data (a resumed run must see the same rows)."""
    return hashlib.blake2b(data.cpu().numpy().tobytes(), digest_size=16).hexdigest()


def validate_options(owner, *, epochs, batch_size, lr, seed, callbacks, checkpoint, checkpoint_every,
                     resume, progress, quiet, dynamic_binarization=False) -> Options:
    """Check the loop's arguments at the public boundary of ``owner``; returns the options."""
    if check_real("lr", lr, owner) <= 0:
        raise fail("lr", owner, "a float > 0", lr)
    if seed is not None:
        check_int("seed", seed, owner, 0)
    try:
        callbacks = tuple(callbacks)
    except TypeError:
        raise fail("callbacks", owner, "an iterable of callables", callbacks) from None
    if not all(callable(c) for c in callbacks):
        raise fail("callbacks", owner, "an iterable of callables", callbacks)
    for name, value in (("checkpoint", checkpoint), ("resume", resume)):
        if value is not None and not isinstance(value, str | os.PathLike):
            raise fail(name, owner, "a path (str or os.PathLike) or None", value)
    for name, value in (("progress", progress), ("quiet", quiet),
                        ("dynamic_binarization", dynamic_binarization)):
        if not isinstance(value, bool):
            raise fail(name, owner, "a bool", value)
    return Options(
        epochs=check_int("epochs", epochs, owner, 0),
        batch_size=check_int("batch_size", batch_size, owner, 1),
        lr=float(lr), callbacks=callbacks, checkpoint=None if checkpoint is None else Path(checkpoint),
        checkpoint_every=check_int("checkpoint_every", checkpoint_every, owner, 1),
        progress=progress, quiet=quiet, dynamic_binarization=dynamic_binarization,
    )


class Loop:
    """The state of one training call: the epoch loop and its bookkeeping."""

    def __init__(self, task: Task, model, train: torch.Tensor, opts: Options):
        self.task, self.model, self.train, self.opts = task, model, train, opts
        self.rows: list[dict] = []
        self.warned = False
        self.ckpt_epoch: int | None = None
        self.stop_reason = "completed"

    # ------------------------------------------------------------------ start / resume
    def start(self, seed, resume) -> None:
        gen = self.gen = check_seed(seed, self.task.owner, self.model.device)
        self.arguments = {**self.task.trajectory, "seed": gen.initial_seed(),
                          "dynamic_binarization": self.opts.dynamic_binarization,
                          "epochs": self.opts.epochs, "n_train": len(self.train),
                          **self.task.extra_arguments}
        if self.opts.checkpoint is not None or resume is not None:
            self.arguments["data_digest"] = digest(self.train)
        if resume is None:
            self.epoch = 0
            self.state = self.task.init(gen)
            self.rows.append(self.task.monitor(0, None, 0.0))
        else:
            self._resume(Path(resume), seed)
        self.good = self._snapshot()

    def _resume(self, path: Path, seed) -> None:
        meta, payload = read_checkpoint(path)
        self._check_compatible(meta, path, seed)
        self.arguments["seed"] = meta["arguments"]["seed"]
        with torch.no_grad():
            self.model.load_state_dict(payload["model"])
        self.gen.set_state(payload["generator"])
        self.state = self.task.restore(payload, self.gen)
        self.epoch = int(meta["epoch"])
        self.rows = history_from(meta, payload).rows()
        self.ckpt_epoch = self.epoch if self.opts.checkpoint == path else None

    def _check_compatible(self, meta: dict, path: Path, seed) -> None:
        owner = self.task.owner
        want, have = meta["model"], model_metadata(self.model)
        if want != have:
            raise InputError(
                f"Cannot resume from '{path}': it holds a {describe_metadata(want)} but the model "
                f"given to {owner} is a {describe_metadata(have)}. Pass a model of the same class, "
                f"shape and dtype."
            )
        old = {"dynamic_binarization": False, **meta["arguments"]}  # older checkpoints lack the key
        keys = [*self.task.trajectory, "dynamic_binarization", "n_train", "data_digest",
                *(["seed"] if seed is not None else [])]
        diff = [f"{key}={old.get(key)!r} there, {self.arguments[key]!r} here" for key in keys
                if old.get(key) != self.arguments[key]]
        if diff:
            raise InputError(
                f"Cannot resume from '{path}': the training arguments differ from the run that "
                f"wrote it ({'; '.join(diff)}). Resume with the same arguments and data."
            )
        if self.opts.epochs < meta["epoch"]:
            raise InputError(f"Cannot resume from '{path}': it is at epoch {meta['epoch']} but "
                             f"'epochs' (the total) is {self.opts.epochs}.")

    # ------------------------------------------------------------------ the loop
    def loop(self):
        epochs, n_batches = self.opts.epochs, -(-len(self.train) // self.opts.batch_size)
        bar = tqdm(total=(epochs - self.epoch) * n_batches, disable=not self.opts.progress,
                   desc=self.task.owner, unit="batch")
        try:
            while self.epoch < epochs:
                if not self._one_epoch(bar):
                    break
        finally:
            bar.close()
        return self.history()

    def _run_epoch(self, bar) -> float:
        """One shuffled pass over the training rows; the mean summary ``sum / (n * scale)``."""
        data, size, redraw = self.train, self.opts.batch_size, self.opts.dynamic_binarization
        n = len(data)
        perm = torch.randperm(n, generator=self.gen, device=data.device)
        total = torch.zeros((), dtype=torch.float64, device=data.device)
        batch = 0
        for batch, start in enumerate(range(0, n, size)):
            rows = data[perm[start:start + size]]
            if redraw:
                rows = torch.bernoulli(rows, generator=self.gen)
            try:
                value = self.task.step(rows, self.state)
            except Diverged as d:
                raise Diverged(d.quantity, batch) from None
            if not torch.isfinite(value):
                raise Diverged(self._blame(), batch)
            total += value
            bar.update()
        if bad_parameter(self.model) is not None:
            raise Diverged(self._blame(), batch)
        return float(total) / (n * self.task.scale)

    def _blame(self) -> str:
        name = bad_parameter(self.model)
        return f"parameter {name!r}" if name else self.task.nonfinite

    def _one_epoch(self, bar) -> bool:
        """Run, check and record one epoch; False when training must end."""
        epoch = self.epoch + 1
        start = time.perf_counter()
        try:
            summary = self._run_epoch(bar)
        except Diverged as f:
            what = f"became NaN or infinite (detected in batch {f.batch + 1})"
            return self._diverged(epoch, f.quantity, what)
        row = self.task.monitor(epoch, summary, time.perf_counter() - start)
        bad = [n for n, v in row.items() if v is not None and not math.isfinite(v)]
        if bad:
            return self._diverged(epoch, bad[0], f"became {row[bad[0]]}")
        self.epoch = epoch
        self.rows.append(row)
        self.good = self._snapshot()
        bar.set_postfix(epoch=epoch, **self.task.postfix(row))
        self._watch_explosion(epoch)
        if self._checkpoint_due(epoch):
            self._write_checkpoint()
        if self._call_callbacks(epoch):
            self.stop_reason = "callback"
            if self.ckpt_epoch != epoch and self.opts.checkpoint is not None:
                self._write_checkpoint()
            return False
        return True

    def _watch_explosion(self, epoch: int) -> None:
        if self.warned:
            return
        message = self.task.explosion(self.rows, epoch)
        if message is not None:
            self.warned = True
            warn_caller(message, TrainingWarning)

    def _call_callbacks(self, epoch: int) -> bool:
        stop = False
        for callback in self.opts.callbacks:
            answer = callback(epoch, self.model, self.history())
            if answer not in (None, "stop"):
                raise InputError(f"A callback of {self.task.owner} must return None or 'stop'. "
                                 f"{callback!r} returned {answer!r} at epoch {epoch}.")
            stop = stop or answer == "stop"
        return stop

    # ------------------------------------------------------------------ checkpoints, failure
    def _checkpoint_due(self, epoch: int) -> bool:
        every = self.opts.checkpoint_every
        return self.opts.checkpoint is not None and (epoch % every == 0 or epoch == self.opts.epochs)

    def _write_checkpoint(self) -> None:
        write_checkpoint(self.opts.checkpoint, self.model, self.task.save(self.state), self.gen,
                         self.epoch, self.history(), self.arguments)
        self.ckpt_epoch = self.epoch

    def _snapshot(self) -> dict:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def _diverged(self, epoch: int, quantity: str, what: str) -> bool:
        with torch.no_grad():
            self.model.load_state_dict(self.good)
        self.stop_reason = "diverged"
        path = self.opts.checkpoint
        where = (f"; the last good checkpoint is '{path}' (epoch {self.ckpt_epoch})"
                 if path is not None and self.ckpt_epoch is not None else "")
        message = (
            f"Training diverged in epoch {epoch} of {self.task.owner}: {quantity} {what}. The "
            f"model was restored to its parameters after epoch {self.epoch}{where}. "
            f"{self.task.advice}"
        )
        if self.opts.quiet:
            warn_caller(message, TrainingWarning)
            return False
        raise TrainingError(message, epoch=epoch, quantity=quantity, history=self.history(),
                            checkpoint=None if self.ckpt_epoch is None else str(path))

    def history(self):
        return self.task.history_type.from_rows(self.rows, self.arguments, self.stop_reason)
