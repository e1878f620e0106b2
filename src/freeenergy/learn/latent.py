"""The latent-variable part of the shared training loop, used by the VAE and Helmholtz-machine
trainers: Adam on a per-batch surrogate loss, its state in checkpoints, the free-energy history
row, and the validation of their data."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from freeenergy._params import InputError, check_int
from freeenergy.estimate.variational import helmholtz_free_energy, importance_weighted_bound
from freeenergy.learn.history import VariationalHistory
from freeenergy.learn.loop import Diverged, Loop, Options, bad_parameter
from freeenergy.models._torch import check_rows

__all__ = ["LatentTask", "Monitors", "fixed_draw", "latent_data", "latent_rows", "monitor_options", "run"]


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

    def __init__(self, model, train, test, trajectory: dict, lr: float, monitors: Monitors):
        self.model, self.train, self.test, self.monitors = model, train, test, monitors
        self.trajectory = trajectory
        self.extra_arguments = {"n_samples": monitors.n_samples, "iw_k": monitors.iw_k}
        self.advice = f"Lower 'lr' ({lr:g})."
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
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
        res = helmholtz_free_energy(self.model, x, n_samples=self.monitors.n_samples, method="auto",
                                    seed=epoch)
        out = {"free_energy": res.mean_free_energy, "energy": res.mean_energy,
               "entropy": res.mean_entropy, "neg_log_likelihood": res.mean_exact_free_energy,
               "gap": res.mean_gap}
        if self.monitors.iw_k:
            bound = importance_weighted_bound(self.model, x, self.monitors.iw_k, seed=epoch)
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
    """``x`` as checked rows (:func:`~freeenergy.models._torch.check_rows`); the 0/1 check of
    ``data`` suggests dynamic binarisation."""
    hint = ""
    if values == "binary":
        hint = "; pass binarised data" + (" or grey values in [0, 1] with dynamic_binarization=True"
                                          if name == "data" else "")
    elif values == "unit":
        hint = " (probabilities, with dynamic_binarization=True)"
    return check_rows(x, model, owner, name=name, values=values, hint=hint)


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


@dataclass(frozen=True)
class Monitors:
    """What the history records each epoch: ``n_samples`` draws from q for F[q] where it is not
    enumerable, and the ``iw_k``-sample importance-weighted bound (0: not computed)."""

    n_samples: int
    iw_k: int


def monitor_options(owner: str, n_samples, iw_k) -> Monitors:
    """Validated :class:`Monitors` of the trainer ``owner``."""
    n_samples = check_int("n_samples", n_samples, owner, 1)
    return Monitors(n_samples, 0 if iw_k is None else check_int("iw_k", iw_k, owner, 0))


def run(task_type, model, data, test_data, binary: bool, trajectory: dict, opts: Options,
        monitors: Monitors, seed, resume):
    """Build the task and the loop, and train (shared by the latent-variable trainers).

    With dynamic binarisation the monitored training and test rows are one fixed Bernoulli
    draw (seeds 0 and 1) of their probabilities, so that every epoch's ``train_*`` and
    ``test_*`` values describe the same binary data.
    """
    dynamic = opts.dynamic_binarization
    train, test = latent_data(model, data, test_data, task_type.owner, binary, dynamic)
    monitored_train, monitored_test = train, test
    if dynamic:
        monitored_train = fixed_draw(train, 0)
        monitored_test = None if test is None else fixed_draw(test, 1)
    task = task_type(model, monitored_train, monitored_test, trajectory, opts.lr, monitors)
    loop = Loop(task, model, train, opts)
    loop.start(seed, resume)
    return loop.loop()
