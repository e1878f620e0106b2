"""Training RBMs by contrastive divergence (CD-k) and persistent CD (PCD), with monitors,
checkpoints and exact resumption.

The gradient of the mean log-likelihood of an energy model is
``-<dF(v)/dtheta>_data + <dF(v)/dtheta>_model``; CD-k estimates the model term with ``k``
block-Gibbs sweeps started at the data (Hinton 2002), PCD with ``batch_size`` persistent
"fantasy" chains that carry over from batch to batch and epoch to epoch (Tieleman 2008).
The kernels live in :mod:`freeenergy.learn._kernels`; the epoch loop, checkpoints and resumption
in :mod:`freeenergy.learn.loop`, shared with the latent-variable trainers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

import torch

from freeenergy._threads import threads_for
from freeenergy.estimate.exact import exact_log_partition
from freeenergy.learn import _kernels as K
from freeenergy.learn._inputs import training_data, validate
from freeenergy.learn.checkpoint import rbm_entries
from freeenergy.learn.history import TrainingHistory
from freeenergy.learn.loop import Loop
from freeenergy.learn.monitor import ExplosionRule, exact_is_cheap, mean_free_energy, weight_statistics

__all__ = ["RBMTask", "train_rbm"]

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
    cfg, opts, exact_every = validate(model, method, k, epochs, batch_size, lr, momentum, weight_decay,
                                      seed, callbacks, checkpoint, checkpoint_every, resume,
                                      exact_every, explosion, progress, quiet)
    train, test = training_data(model, data, test_data)
    task = RBMTask(model, train, test, cfg, epochs=opts.epochs, exact_every=exact_every,
                   explosion=explosion)
    run = Loop(task, model, train, opts)
    with threads_for(batch_size * model.n_visible * model.n_hidden):
        run.start(seed, resume)
        return run.loop()


class RBMTask:
    """The RBM part of the shared loop (:class:`freeenergy.learn.loop.Loop`): CD / PCD updates,
    the RBM's history row, momentum and chains in checkpoints, the weight-explosion rule.

    ``exact_every``: exact log Z and log-likelihoods every that many epochs (and at the last)
    when the model is small enough, 0 never. ``monitors=False`` reports only the reconstruction
    error and the time of each epoch (for callers that do not keep a history).
    """

    history_type = TrainingHistory
    nonfinite = K.NONFINITE

    def __init__(self, model, train, test, cfg: K.Config, *, epochs: int, exact_every: int,
                 explosion: ExplosionRule | None, owner: str = _OWNER, lr_name: str = "lr",
                 monitors: bool = True):
        self.model, self.train, self.test, self.cfg = model, train, test, cfg
        self.epochs, self.exact_every, self.explosion_rule = epochs, exact_every, explosion
        self.owner, self.monitors = owner, monitors
        self.kernel = K.kernel_for(model)
        self.scale = model.n_visible
        self.trajectory = {f: getattr(cfg, f) for f in _TRAJECTORY}
        self.extra_arguments = {"exact_every": exact_every}
        decay = " or add 'weight_decay'" if lr_name == "lr" else ""
        self.advice = f"Lower {lr_name!r} ({cfg.lr:g}){decay}."

    def init(self, gen: torch.Generator) -> K.State:
        return K.init_state(self.model, self.train, self.cfg, gen)

    def step(self, v0: torch.Tensor, state: K.State) -> torch.Tensor:
        return K.cd_step(self.model, self.kernel, v0, state, self.cfg)

    def save(self, state: K.State) -> dict:
        return rbm_entries(state)

    def restore(self, payload: dict, gen: torch.Generator) -> K.State:
        dev = self.model.device
        velocity = {n: t.to(dev) for n, t in payload["velocity"].items()}
        chains = None if payload["chains"] is None else payload["chains"].to(dev)
        return K.State(velocity, chains, gen)


    def postfix(self, row: dict) -> dict:
        if not self.monitors:
            return {"recon": f"{row['reconstruction_error']:.4g}"}
        return {"F": f"{row['train_free_energy']:.4g}", "beta_eff": f"{row['beta_eff']:.3g}"}

    def monitor(self, epoch: int, recon: float | None, seconds: float) -> dict:
        """Diagnostics of the current model; None marks a value not computed this epoch."""
        start = time.perf_counter()
        model, test = self.model, self.test
        row = {"epoch": epoch, "reconstruction_error": recon, "seconds": seconds}
        if not self.monitors:
            return row
        row.update(weight_statistics(model))
        row["train_free_energy"] = mean_free_energy(model, self.train)
        row["test_free_energy"] = None if test is None else mean_free_energy(model, test)
        every, last = self.exact_every, self.epochs
        if every and exact_is_cheap(model) and (epoch % every == 0 or epoch == last):
            log_z = exact_log_partition(model).log_z
            row["log_z"] = log_z
            row["train_log_likelihood"] = -row["train_free_energy"] - log_z
            if test is not None:
                row["test_log_likelihood"] = -row["test_free_energy"] - log_z
        row["monitor_seconds"] = time.perf_counter() - start
        return row

    def explosion(self, rows: list[dict], epoch: int) -> str | None:
        rule = self.explosion_rule
        if rule is None or not self.monitors:
            return None
        why = rule.check([r["beta_eff"] for r in rows], [r["weight_max"] for r in rows])
        if why is None:
            return None
        return (f"Weights are exploding at epoch {epoch} of {self.owner}: {why} (beta_eff = "
                f"{rows[-1]['beta_eff']:.4g}). {self.advice}")
