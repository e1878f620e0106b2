"""Training a VAE by maximising the ELBO or the importance-weighted bound (IWAE), with Adam.

With ``E(x, z) = -log p(x, z)`` (T = 1) the negative ELBO is the Helmholtz free energy
``F[q] = <E>_q - H(q) >= -log p(x)`` (Kingma & Welling 2014); the IWAE objective ``-L_k``
(Burda, Grosse & Salakhutdinov 2016) is a tighter bound that tends to ``-log p(x)`` as ``k``
grows. Both are minimised with reparameterised gradients. The epoch loop, checkpoints and
resumption are the shared ones of :mod:`freeenergy.learn.loop`; this module also holds the
latent-variable part that :mod:`freeenergy.learn.wake_sleep` reuses (Adam state, the
free-energy history row).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

import numpy as np
import torch

from freeenergy._params import InputError, InputTypeError, check_int, fail
from freeenergy.estimate.variational import helmholtz_free_energy, importance_weighted_bound
from freeenergy.learn.history import VariationalHistory
from freeenergy.learn.loop import Diverged, Loop, bad_parameter, validate_options

__all__ = ["train_vae"]


class LatentTask:
    """The latent-variable part of the shared loop: Adam on a per-batch surrogate loss, the
    optimiser state in checkpoints and a :class:`VariationalHistory` row per epoch.

    Subclasses define ``owner`` and ``losses(x) -> (surrogate, value)``: the mean loss to
    differentiate and the summed per-example objective to report.
    """

    owner = "train"
    history_type = VariationalHistory
    scale = 1
    nonfinite = "the training objective"

    def __init__(self, model, train, test, trajectory: dict, opts: dict):
        self.model, self.train, self.test, self.opts = model, train, test, opts
        self.trajectory = trajectory
        self.extra_arguments = {"n_samples": opts["n_samples"], "iw_k": opts["iw_k"]}
        self.advice = f"Lower 'lr' ({opts['lr']:g})."
        self.optimizer = torch.optim.Adam(model.parameters(), lr=opts["lr"])
        self.gen: torch.Generator | None = None

    def init(self, gen: torch.Generator) -> torch.optim.Optimizer:
        self.gen = gen
        return self.optimizer

    def restore(self, payload: dict, gen: torch.Generator) -> torch.optim.Optimizer:
        self.gen = gen
        if "optimizer" not in payload:
            raise InputError(f"The checkpoint was not written by {self.owner} (no optimizer state).")
        self.optimizer.load_state_dict(payload["optimizer"])
        return self.optimizer

    @staticmethod
    def save(state: torch.optim.Optimizer) -> dict:
        return {"optimizer": _cpu(state.state_dict())}

    def losses(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def step(self, x: torch.Tensor, state: torch.optim.Optimizer) -> torch.Tensor:
        state.zero_grad(set_to_none=True)
        try:
            surrogate, value = self.losses(x)
        except RuntimeError:  # torch.bernoulli refuses NaN probabilities
            if bad_parameter(self.model) is None:
                raise
            raise Diverged(f"parameter {bad_parameter(self.model)!r}") from None
        if not (torch.isfinite(surrogate) and torch.isfinite(value)):
            name = bad_parameter(self.model)
            raise Diverged(f"parameter {name!r}" if name else self.nonfinite)
        surrogate.backward()
        state.step()
        return value.detach()

    @staticmethod
    def describe(meta: dict) -> str:
        args = ", ".join(f"{k}={v}" for k, v in meta.items() if k not in ("class", "dtype"))
        return f"{meta['class']}({args}, {meta['dtype']})"

    @staticmethod
    def postfix(row: dict) -> dict:
        return {"F": f"{row['train_free_energy']:.4g}"}

    @staticmethod
    def explosion(rows, epoch) -> None:
        return None

    def monitor(self, epoch: int, objective: float | None, seconds: float) -> dict:
        """F[q], its energy and entropy, exact -log p(x) and the gap where enumerable, and the
        importance-weighted bound; the Monte Carlo parts are seeded with the epoch number."""
        start = time.perf_counter()
        row = {"epoch": epoch, "objective": objective, "seconds": seconds}
        for prefix, x in (("train", self.train), ("test", self.test)):
            if x is not None:
                row.update(self._terms(prefix, x, epoch))
        row["monitor_seconds"] = time.perf_counter() - start
        return row

    def _terms(self, prefix: str, x: torch.Tensor, epoch: int) -> dict:
        res = helmholtz_free_energy(self.model, x, n_samples=self.opts["n_samples"], method="auto",
                                    seed=epoch)
        out = {"free_energy": res.mean_free_energy, "energy": res.mean_energy,
               "entropy": res.mean_entropy, "neg_log_likelihood": res.mean_exact_free_energy,
               "gap": res.mean_gap}
        if self.opts["iw_k"]:
            bound = importance_weighted_bound(self.model, x, self.opts["iw_k"], seed=epoch)
            out["iw_bound"] = float(np.mean(bound))
        return {f"{prefix}_{k}": v for k, v in out.items()}


def _cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_cpu(v) for v in obj]
    return obj


def latent_rows(model, x, name: str, owner: str, values: str | None) -> torch.Tensor:
    """``x`` as a (n, n_visible) tensor on the model's device and dtype, checked: ``values`` is
    ``"binary"`` (0/1), ``"unit"`` (in [0, 1]) or None (any finite value)."""
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError):
            raise fail(name, owner, "an array of shape (n, n_visible)", x) from None
        if arr.dtype.kind not in "biuf":
            raise fail(name, owner, "a numeric array of shape (n, n_visible)", x)
        t = torch.from_numpy(arr.astype(np.float64, copy=False))
    if t.ndim != 2 or t.shape[1] != model.n_visible or t.shape[0] < 1:
        raise InputError(
            f"The {name!r} parameter of {owner} must have shape (n, {model.n_visible}) with n >= 1, "
            f"one row per example. Got shape {tuple(t.shape)} instead."
        )
    t = t.to(device=model.device, dtype=model.dtype)
    if not torch.isfinite(t).all():
        raise InputError(f"The {name!r} parameter of {owner} must be finite. Got NaN or inf.")
    if values == "binary" and ((t != 0) & (t != 1)).any():
        hint = " or grey values in [0, 1] with dynamic_binarization=True" if name == "data" else ""
        raise InputError(f"The {name!r} parameter of {owner} must hold 0/1 values for a "
                         f"{type(model).__name__}. Pass binarised data{hint}.")
    if values == "unit" and ((t < 0) | (t > 1)).any():
        raise InputError(f"The {name!r} parameter of {owner} must hold probabilities in [0, 1] with "
                         f"dynamic_binarization=True. Got values in [{float(t.min()):g}, "
                         f"{float(t.max()):g}] instead.")
    return t.contiguous()


def latent_data(model, data, test_data, owner: str, binary: bool, dynamic: bool):
    """Training and test rows; a DataSet gives ``data.train`` and ``data.test``. ``binary``:
    the model needs 0/1 data; ``dynamic``: the rows are probabilities, the training rows
    binarised afresh in every mini-batch."""
    if hasattr(data, "train") and hasattr(data, "test"):
        data, test_data = data.train, data.test if test_data is None else test_data
    values = "unit" if dynamic else "binary" if binary else None
    train = latent_rows(model, data, "data", owner, values)
    test = None if test_data is None else latent_rows(model, test_data, "test_data", owner, values)
    return train, test


def fixed_draw(rows: torch.Tensor, seed: int) -> torch.Tensor:
    """One seeded Bernoulli draw of probabilities ``rows`` (0/1 rows are returned unchanged)."""
    return torch.bernoulli(rows, generator=torch.Generator(device=rows.device).manual_seed(seed))


def monitor_options(owner: str, n_samples, iw_k) -> dict:
    n_samples = check_int("n_samples", n_samples, owner, 1)
    iw_k = 0 if iw_k is None else check_int("iw_k", iw_k, owner, 0)
    return {"n_samples": n_samples, "iw_k": iw_k}


def run(task_type, model, data, test_data, binary: bool, trajectory: dict, opts: dict, seed, resume):
    """Build the task and the loop, and train (shared by the latent-variable trainers).

    With dynamic binarisation the monitored training and test rows are one fixed Bernoulli
    draw (seeds 0 and 1) of their probabilities, so that every epoch's ``train_*`` and
    ``test_*`` values describe the same binary data.
    """
    dynamic = opts["dynamic_binarization"]
    train, test = latent_data(model, data, test_data, task_type.owner, binary, dynamic)
    monitored_train, monitored_test = train, test
    if dynamic:
        monitored_train = fixed_draw(train, 0)
        monitored_test = None if test is None else fixed_draw(test, 1)
    task = task_type(model, monitored_train, monitored_test, trajectory, opts)
    loop = Loop(task, model, train, opts)
    loop.start(seed, resume)
    return loop.loop()


class _VAETask(LatentTask):
    owner = "train_vae"

    def losses(self, x):
        k, model = self.trajectory["k"], self.model
        if self.trajectory["objective"] == "elbo":
            bound = model.elbo(x, k, generator=self.gen)
        else:
            bound = model.iwae_bound(x, k, generator=self.gen)
        return -bound.mean(), -bound.detach().sum()


def train_vae(
    model,
    data,
    *,
    objective: str = "elbo",
    k: int = 1,
    epochs: int = 10,
    batch_size: int = 100,
    lr: float = 1e-3,
    seed: int | None = None,
    test_data=None,
    n_samples: int = 100,
    iw_k: int | None = 50,
    dynamic_binarization: bool = False,
    callbacks: Iterable[Callable] = (),
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1,
    resume: str | os.PathLike | None = None,
    progress: bool = False,
    quiet: bool = False,
):
    """Train a VAE in place on the ELBO or the IWAE bound, mini-batch Adam.

    Each epoch shuffles the rows with a ``torch.Generator`` seeded from ``seed`` and takes one
    Adam step (``torch.optim.Adam``, default betas, no weight decay) per mini-batch on the
    reparameterised objective: ``-mean ELBO`` estimated with ``k`` samples
    (``objective="elbo"``), or ``-mean L_k`` (``objective="iwae"``). Same seed, same
    arguments, same device: bit-identical parameters.

    Parameters
    ----------
    model : VAE
        Trained in place.
    data : array_like, Tensor or DataSet, shape (n, n_visible)
        Training rows (values in [0, 1] for a Bernoulli likelihood). A DataSet gives
        ``data.train``, and ``data.test`` as the default ``test_data``.
    objective : {"elbo", "iwae"}
    k : int
        Samples per example in the objective, >= 1.
    epochs, batch_size, lr, seed, test_data, callbacks, checkpoint, checkpoint_every, resume, progress, quiet
        As in :func:`~freeenergy.learn.train_rbm` (a resumed run must repeat ``objective, k,
        batch_size, lr``, and the data).
    n_samples : int
        Draws from ``q`` per example for the monitored ``F[q]`` and its energy (the entropy
        of the Gaussian ``q`` is analytic), >= 1.
    iw_k : int or None
        Importance samples of the monitored bound ``L_k`` (``train_iw_bound``); 0 or None
        disables it.
    dynamic_binarization : bool
        Treat the training rows as probabilities in [0, 1] and replace every mini-batch by a
        fresh draw ``Bernoulli(x)`` from the run's generator (the usual protocol on MNIST,
        which keeps the model from fitting one binarisation). ``test_data`` then holds
        probabilities too; the monitored ``train_*`` and ``test_*`` values use one fixed draw
        of each (seeds 0 and 1; rows already 0/1 are unchanged).

    Returns
    -------
    VariationalHistory
        One row per epoch (row 0: before training) of ``F[q]`` (the negative ELBO), its
        energy and entropy, the importance-weighted bound and timings.

    Raises
    ------
    TrainingError
        If a parameter or monitored quantity becomes NaN or inf (the model is restored to the
        last good epoch; the checkpoint file keeps the last good state).

    Examples
    --------
    >>> import numpy as np
    >>> from freeenergy.models import VAE
    >>> from freeenergy.learn import train_vae
    >>> x = (np.random.default_rng(0).random((64, 8)) < 0.3).astype(float)
    >>> vae = VAE(8, 2, hidden=(16,), seed=0)
    >>> h = train_vae(vae, x, epochs=3, batch_size=16, lr=0.01, seed=0, iw_k=5)
    >>> bool(h.train_free_energy[-1] < h.train_free_energy[0])
    True
    """
    owner = _VAETask.owner
    if type(model).__name__ != "VAE":
        raise InputTypeError(f"The 'model' parameter of {owner} must be a VAE. Got "
                        f"{type(model).__name__} instead.")
    if objective not in ("elbo", "iwae"):
        raise fail("objective", owner, "'elbo' or 'iwae'", objective)
    k = check_int("k", k, owner, 1)
    opts = validate_options(owner, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                            callbacks=callbacks, checkpoint=checkpoint,
                            checkpoint_every=checkpoint_every, resume=resume, progress=progress,
                            quiet=quiet, dynamic_binarization=dynamic_binarization)
    opts.update(monitor_options(owner, n_samples, iw_k))
    trajectory = {"objective": objective, "k": k, "batch_size": opts["batch_size"], "lr": opts["lr"]}
    # pixel values (in [0, 1] for a Bernoulli likelihood) are checked by the model itself
    return run(_VAETask, model, data, test_data, False, trajectory, opts, seed, resume)
