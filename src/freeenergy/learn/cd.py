"""Training RBMs by contrastive divergence (CD-k) and persistent CD (PCD), with monitors,
checkpoints and exact resumption.

The gradient of the mean log-likelihood of an energy model is
``-<dF(v)/dtheta>_data + <dF(v)/dtheta>_model``; CD-k estimates the model term with ``k``
block-Gibbs sweeps started at the data (Hinton 2002), PCD with ``batch_size`` persistent
"fantasy" chains that carry over from batch to batch and epoch to epoch (Tieleman 2008).
The kernels live in :mod:`freeenergy.learn._kernels`.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from tqdm.auto import tqdm

from freeenergy._threads import threads_for
from freeenergy.learn import _kernels as K
from freeenergy.learn._inputs import training_data, validate
from freeenergy.learn.checkpoint import history_from, read_checkpoint, write_checkpoint
from freeenergy.learn.history import TrainingHistory
from freeenergy.learn.monitor import (
    ExplosionRule,
    TrainingError,
    TrainingWarning,
    exact_is_cheap,
    mean_free_energy,
    weight_statistics,
)
from freeenergy.models._torch import model_metadata

__all__ = ["train_rbm"]

_OWNER = "train_rbm"
# Arguments that shape the parameter trajectory: a resumed run must repeat them.
_TRAJECTORY = ("method", "k", "batch_size", "lr", "momentum", "weight_decay")


def train_rbm(
    model,
    data,
    *,
    method: str = "cd",
    k: int = 1,
    epochs: int = 10,
    batch_size: int = 100,
    lr: float = 0.01,
    momentum: float = 0.5,
    weight_decay: float = 0.0,
    seed: int | None = None,
    test_data=None,
    callbacks: Iterable[Callable] = (),
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1,
    resume: str | os.PathLike | None = None,
    exact_every: int = 1,
    explosion: ExplosionRule | None = ExplosionRule(),  # noqa: B008 (frozen, immutable)
    progress: bool = False,
    quiet: bool = False,
) -> TrainingHistory:
    """Train an RBM in place by mini-batch CD-k or persistent CD, SGD with momentum.

    Each epoch shuffles the training rows with a ``torch.Generator`` seeded from ``seed`` and
    takes one step per mini-batch: ``u <- momentum u + lr (g - weight_decay W)``,
    ``theta <- theta + u``, where ``g`` is the CD estimate of the gradient of the mean
    log-likelihood (weight decay acts on ``W`` only). Same seed, same arguments, same device:
    bit-identical parameters.

    Parameters
    ----------
    model : BernoulliRBM or GaussianBernoulliRBM
        Trained in place (Gaussian models through their conditionals and autograd).
    data : array_like, Tensor or DataSet, shape (n, n_visible)
        Training rows (values in [0, 1] for Bernoulli visibles). A
        :class:`~freeenergy.data.DataSet` gives ``data.train``, and ``data.test`` as the
        default ``test_data``.
    method : {"cd", "pcd"}
        ``"cd"``: chains start at the mini-batch; ``"pcd"``: ``batch_size`` persistent chains.
    k : int
        Gibbs sweeps per update, >= 1.
    epochs : int
        Total number of epochs, >= 0 (when resuming, including the epochs already done).
    batch_size : int
        Rows per update, >= 1 (the last batch of an epoch may be smaller).
    lr, momentum, weight_decay : float
        Step size (> 0), momentum in [0, 1), L2 penalty on ``W`` (>= 0).
    seed : int, optional
        Seed of the shuffling and sampling generator; by default a fresh seed, recorded in
        ``history.arguments["seed"]``.
    test_data : array_like, optional
        Held-out rows; their mean free energy (and exact log-likelihood) is monitored.
    callbacks : iterable of callables
        Each is called as ``callback(epoch, model, history_so_far)`` after every epoch and may
        return ``"stop"`` to end training (anything else but None is an error).
    checkpoint : path, optional
        File rewritten atomically every ``checkpoint_every`` epochs and at the end, holding
        everything needed to resume (see :mod:`freeenergy.learn.checkpoint`). A state that
        failed its finiteness checks is never written.
    checkpoint_every : int
        Epochs between checkpoints, >= 1.
    resume : path, optional
        Continue the run saved in this checkpoint: the model's parameters, momentum, PCD chains,
        generator and history are restored and training goes on to ``epochs``; the result is
        bit-identical to an uninterrupted run. The model type and shape, the data and
        ``method, k, batch_size, lr, momentum, weight_decay`` (and ``seed``, if given) must
        match the checkpoint's.
    exact_every : int
        Compute the exact ``log Z`` and exact train/test log-likelihoods at epoch 0, every
        ``exact_every`` epochs and at the last epoch, when that is cheap (at most 2^20 terms:
        ``min(n_visible, n_hidden) <= 20``, or ``n_hidden <= 20`` for Gaussian visibles);
        0 disables it.
    explosion : ExplosionRule or None
        When to warn (:class:`TrainingWarning`, once per call) that the weights grow without
        bound; None disables the warning.
    progress : bool
        Show a tqdm progress bar over mini-batches with the latest diagnostics.
    quiet : bool
        On divergence warn (:class:`TrainingWarning`) and return the history so far instead of
        raising :class:`TrainingError`.

    Returns
    -------
    TrainingHistory
        One row per epoch (row 0: before training) of free energies, reconstruction error,
        weight norms, ``beta_eff``, exact ``log Z`` and log-likelihoods, and timings.

    Raises
    ------
    TrainingError
        If a parameter or monitored quantity becomes NaN or inf. The model is first restored
        to its parameters after the last good epoch; the checkpoint file keeps the last good
        state. The error names the epoch and the quantity.
    ValueError, TypeError
        For invalid arguments, or a checkpoint that does not match the call.

    Examples
    --------
    >>> from freeenergy.data import load_digits
    >>> from freeenergy.models import BernoulliRBM
    >>> from freeenergy.learn import train_rbm
    >>> digits = load_digits(binarize="threshold")
    >>> rbm = BernoulliRBM(64, 16, seed=0)
    >>> history = train_rbm(rbm, digits, epochs=3, lr=0.05, seed=0)
    >>> history.epoch.tolist()
    [0, 1, 2, 3]
    >>> bool(history.train_log_likelihood[-1] > history.train_log_likelihood[0])
    True
    >>> bool(history.beta_eff[-1] > history.beta_eff[0])   # learning cools the model
    True
    """
    cfg, opts = validate(model, method, k, epochs, batch_size, lr, momentum, weight_decay, seed,
                         callbacks, checkpoint, checkpoint_every, resume, exact_every, explosion,
                         progress, quiet)
    train, test = training_data(model, data, test_data)
    run = _Run(model, train, test, cfg, opts)
    with threads_for(batch_size * model.n_visible * model.n_hidden):
        run.start(seed, resume)
        return run.loop()


def _digest(data: torch.Tensor) -> str:
    return hashlib.blake2b(data.cpu().numpy().tobytes(), digest_size=16).hexdigest()


class _Run:
    """The state of one call of :func:`train_rbm` (kept small: the loop and its bookkeeping)."""

    def __init__(self, model, train, test, cfg: K.Config, opts: dict):
        self.model, self.train, self.test, self.cfg, self.opts = model, train, test, cfg, opts
        self.rows: list[dict] = []
        self.warned = False
        self.ckpt_epoch: int | None = None
        self.stop_reason = "completed"

    # ------------------------------------------------------------------ start / resume
    def start(self, seed, resume) -> None:
        gen = torch.Generator(device=self.model.device)
        gen.manual_seed(seed) if seed is not None else gen.seed()
        self.arguments = {**{f: getattr(self.cfg, f) for f in _TRAJECTORY}, "seed": gen.initial_seed(),
                          "epochs": self.opts["epochs"], "n_train": len(self.train),
                          "exact_every": self.opts["exact_every"]}
        if self.opts["checkpoint"] is not None or resume is not None:
            self.arguments["data_digest"] = _digest(self.train)
        if resume is None:
            self.epoch = 0
            self.state = K.init_state(self.model, self.train, self.cfg, gen)
            self.rows.append(self._monitor(0, recon=None, seconds=0.0))
        else:
            self._resume(Path(resume), seed, gen)
        self.good = self._snapshot()

    def _resume(self, path: Path, seed, gen) -> None:
        meta, payload = read_checkpoint(path)
        self._check_compatible(meta, path, seed)
        old_args = meta["arguments"]
        self.arguments["seed"] = old_args["seed"]
        with torch.no_grad():
            self.model.load_state_dict(payload["model"])
        dev = self.model.device
        gen.set_state(payload["generator"])
        velocity = {n: t.to(dev) for n, t in payload["velocity"].items()}
        chains = None if payload["chains"] is None else payload["chains"].to(dev)
        self.state = K.State(velocity, chains, gen)
        self.epoch = int(meta["epoch"])
        self.rows = history_from(meta, payload).rows()
        self.ckpt_epoch = self.epoch if self.opts["checkpoint"] == path else None

    def _check_compatible(self, meta: dict, path: Path, seed) -> None:
        want, have = meta["model"], model_metadata(self.model)
        if want != have:
            raise ValueError(
                f"Cannot resume from '{path}': it holds a {_describe(want)} but the model given to "
                f"{_OWNER} is a {_describe(have)}. Pass a model of the same class, shape and dtype."
            )
        old = meta["arguments"]
        keys = list(_TRAJECTORY) + ["n_train", "data_digest"] + (["seed"] if seed is not None else [])
        diff = [f"{key}={old.get(key)!r} there, {self.arguments[key]!r} here" for key in keys
                if old.get(key) != self.arguments[key]]
        if diff:
            raise ValueError(
                f"Cannot resume from '{path}': the training arguments differ from the run that "
                f"wrote it ({'; '.join(diff)}). Resume with the same arguments and data."
            )
        if self.opts["epochs"] < meta["epoch"]:
            raise ValueError(f"Cannot resume from '{path}': it is at epoch {meta['epoch']} but "
                             f"'epochs' (the total) is {self.opts['epochs']}.")

    # ------------------------------------------------------------------ the loop
    def loop(self) -> TrainingHistory:
        epochs, n_batches = self.opts["epochs"], -(-len(self.train) // self.cfg.batch_size)
        bar = tqdm(total=(epochs - self.epoch) * n_batches, disable=not self.opts["progress"],
                   desc="train_rbm", unit="batch")
        try:
            while self.epoch < epochs:
                if not self._one_epoch(bar):
                    break
        finally:
            bar.close()
        return self.history()

    def _one_epoch(self, bar) -> bool:
        """Run, check and record one epoch; False when training must end."""
        epoch = self.epoch + 1
        start = time.perf_counter()
        try:
            recon = K.run_epoch(self.model, self.train, self.cfg, self.state, lambda: bar.update())
        except K.Diverged as d:
            what = f"became NaN or infinite (detected in batch {d.batch + 1})"
            return self._diverged(epoch, d.quantity, what)
        row = self._monitor(epoch, recon, time.perf_counter() - start)
        bad = [n for n, v in row.items() if v is not None and not math.isfinite(v)]
        if bad:
            return self._diverged(epoch, bad[0], f"became {row[bad[0]]}")
        self.epoch = epoch
        self.rows.append(row)
        self.good = self._snapshot()
        bar.set_postfix(epoch=epoch, F=f"{row['train_free_energy']:.4g}", beta_eff=f"{row['beta_eff']:.3g}")
        self._watch_explosion(epoch)
        if self._checkpoint_due(epoch):
            self._write_checkpoint()
        if self._call_callbacks(epoch):
            self.stop_reason = "callback"
            if self.ckpt_epoch != epoch and self.opts["checkpoint"] is not None:
                self._write_checkpoint()
            return False
        return True

    def _monitor(self, epoch: int, recon: float | None, seconds: float) -> dict:
        """Diagnostics of the current model; None marks a value not computed this epoch."""
        start = time.perf_counter()
        model, test = self.model, self.test
        row = {"epoch": epoch, "reconstruction_error": recon, "seconds": seconds}
        row.update(weight_statistics(model))
        row["train_free_energy"] = mean_free_energy(model, self.train)
        row["test_free_energy"] = None if test is None else mean_free_energy(model, test)
        every, last = self.opts["exact_every"], self.opts["epochs"]
        if every and exact_is_cheap(model) and (epoch % every == 0 or epoch == last):
            from freeenergy.estimate.exact import exact_log_partition

            log_z = exact_log_partition(model).log_z
            row["log_z"] = log_z
            row["train_log_likelihood"] = -row["train_free_energy"] - log_z
            if test is not None:
                row["test_log_likelihood"] = -row["test_free_energy"] - log_z
        row["monitor_seconds"] = time.perf_counter() - start
        return row

    def _watch_explosion(self, epoch: int) -> None:
        rule = self.opts["explosion"]
        if rule is None or self.warned:
            return
        why = rule.check([r["beta_eff"] for r in self.rows], [r["weight_max"] for r in self.rows])
        if why is not None:
            self.warned = True
            warnings.warn(
                f"Weights are exploding at epoch {epoch} of {_OWNER}: {why} (beta_eff = "
                f"{self.rows[-1]['beta_eff']:.4g}). Lower 'lr' ({self.cfg.lr:g}) or add "
                f"'weight_decay'.", TrainingWarning, stacklevel=5,
            )

    def _call_callbacks(self, epoch: int) -> bool:
        stop = False
        for callback in self.opts["callbacks"]:
            answer = callback(epoch, self.model, self.history())
            if answer not in (None, "stop"):
                raise ValueError(f"A callback of {_OWNER} must return None or 'stop'. "
                                 f"{callback!r} returned {answer!r} at epoch {epoch}.")
            stop = stop or answer == "stop"
        return stop

    # ------------------------------------------------------------------ checkpoints, failure
    def _checkpoint_due(self, epoch: int) -> bool:
        every = self.opts["checkpoint_every"]
        return self.opts["checkpoint"] is not None and (epoch % every == 0 or epoch == self.opts["epochs"])

    def _write_checkpoint(self) -> None:
        write_checkpoint(self.opts["checkpoint"], self.model, self.state, self.epoch, self.history(),
                         self.arguments)
        self.ckpt_epoch = self.epoch

    def _snapshot(self) -> dict:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def _diverged(self, epoch: int, quantity: str, what: str) -> bool:
        with torch.no_grad():
            self.model.load_state_dict(self.good)
        self.stop_reason = "diverged"
        path = self.opts["checkpoint"]
        where = (f"; the last good checkpoint is '{path}' (epoch {self.ckpt_epoch})"
                 if path is not None and self.ckpt_epoch is not None else "")
        message = (
            f"Training diverged in epoch {epoch} of {_OWNER}: {quantity} {what}. The "
            f"model was restored to its parameters after epoch {self.epoch}{where}. Lower 'lr' "
            f"({self.cfg.lr:g}) or add 'weight_decay'."
        )
        if self.opts["quiet"]:
            warnings.warn(message, TrainingWarning, stacklevel=5)
            return False
        raise TrainingError(message, epoch=epoch, quantity=quantity, history=self.history(),
                            checkpoint=None if self.ckpt_epoch is None else str(path))

    def history(self) -> TrainingHistory:
        return TrainingHistory.from_rows(self.rows, self.arguments, self.stop_reason)


def _describe(meta: dict) -> str:
    return f"{meta['class']}(n_visible={meta['n_visible']}, n_hidden={meta['n_hidden']}, {meta['dtype']})"
