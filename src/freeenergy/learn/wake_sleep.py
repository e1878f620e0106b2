"""Training Helmholtz machines by wake-sleep and reweighted wake-sleep, with Adam.

* **Wake-sleep** (Hinton, Dayan, Frey & Neal, Science 1995). Wake phase: draw ``z ~ q(z | x)``
  for each data row and raise ``log p(x, z)`` (the generative weights learn to reproduce the
  recognition net's explanations). Sleep phase: dream ``(x, z) ~ p`` by ancestral sampling and
  raise ``log q(z | x)`` (the recognition net learns to invert the generative model). The sleep
  update minimises ``KL(p(z | x) || q)``, not the free energy's ``KL(q || p)``, so ``F[q]`` need
  not fall monotonically.
* **Reweighted wake-sleep** (Bornschein & Bengio, ICLR 2015). Draw ``k`` samples ``z_i ~ q(z |
  x)``, with normalised importance weights ``w_i ∝ p(x, z_i) / q(z_i | x)``; the p-wake update
  ascends ``sum_i w_i log p(x, z_i)`` (the gradient of the bound ``L_k``, a consistent estimate
  of ``d log p(x)``), the q-wake update ascends ``sum_i w_i log q(z_i | x)`` (an estimate of
  ``-d KL(p(z | x) || q)`` on the data), optionally plus the sleep-phase q update
  (``sleep=True``).

Both take one Adam step (``torch.optim.Adam``, default betas) per mini-batch on the sum of the
phases' losses (each phase's loss depends only on its own parameters, so the sum updates each
set by its own phase). The epoch loop, checkpoints and resumption are those of
:mod:`freeenergy.learn.loop`; the monitored ``F[q]`` and its parts those of
:mod:`freeenergy.learn.elbo`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable

import torch

from freeenergy._params import InputTypeError, check_int, fail
from freeenergy.learn.latent import LatentTask, monitor_options, run
from freeenergy.learn.loop import validate_options
from freeenergy.models.helmholtz import HelmholtzMachine

__all__ = ["train_helmholtz"]

_METHODS = ("wake-sleep", "reweighted-wake-sleep")


class _HelmholtzTask(LatentTask):
    owner = "train_helmholtz"

    def dream(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` ancestral samples ``(x, z)`` from the generative model, drawn from the run's
        generator."""
        model, gen = self.model, self.gen
        with torch.no_grad():
            top = torch.sigmoid(model.prior_logits).expand(n, model.layer_sizes[-1])
            layers = [torch.bernoulli(top, generator=gen)]
            for i in reversed(range(len(model.layer_sizes) - 1)):
                probs = torch.sigmoid(model.generative_logits(i, layers[0]))
                layers.insert(0, torch.bernoulli(probs, generator=gen))
        return layers[0], torch.cat(layers[1:], dim=-1)

    def sleep_loss(self, n: int) -> torch.Tensor:
        x, z = self.dream(n)
        return -self.model.recognition_log_prob(x, z, check=False).mean()

    def losses(self, x):
        model, k = self.model, self.trajectory["k"]
        if self.trajectory["method"] == "wake-sleep":
            z, log_q = model.recognition_sample(x, 1, generator=self.gen)
            log_p = model.log_joint(x, z[0], check=False)
            value = (log_q[0] - log_p).detach().sum()  # one-sample estimate of F[q]
            return -log_p.mean() + self.sleep_loss(len(x)), value
        z, log_q = model.recognition_sample(x, k, generator=self.gen)  # (k, b, n_latent), (k, b)
        log_p = model.log_joint(x, z, check=False)
        log_w = (log_p - log_q).detach()
        w = torch.softmax(log_w, dim=0)
        value = -(torch.logsumexp(log_w, dim=0) - math.log(k)).sum()  # -L_k
        surrogate = -(w * (log_p + log_q)).sum(0).mean()
        if self.trajectory["sleep"]:
            surrogate = surrogate + self.sleep_loss(len(x))
        return surrogate, value


def train_helmholtz(
    model,
    data,
    *,
    method: str = "wake-sleep",
    k: int = 5,
    sleep: bool = False,
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
    """Train a Helmholtz machine in place by wake-sleep or reweighted wake-sleep, mini-batch Adam.

    See the module docstring for the updates. Each epoch shuffles the rows with a
    ``torch.Generator`` seeded from ``seed``, which also draws the recognition samples and the
    dreams: same seed, same arguments, same device, bit-identical parameters.

    Parameters
    ----------
    model : HelmholtzMachine
        Trained in place.
    data : array_like, Tensor or DataSet, shape (n, n_visible)
        Binary (0/1) training rows (probabilities with ``dynamic_binarization``). A DataSet
        gives ``data.train``, and ``data.test`` as the default ``test_data``.
    method : {"wake-sleep", "reweighted-wake-sleep"}
    k : int
        Recognition samples per example for reweighted wake-sleep, >= 1 (wake-sleep uses one;
        ``k`` is then ignored but still recorded).
    sleep : bool
        Reweighted wake-sleep only: add the sleep-phase q update to the q-wake update
        (wake-sleep always has its sleep phase).
    epochs, batch_size, lr, seed, test_data, callbacks, checkpoint, checkpoint_every, resume, progress, quiet
        As in :func:`~freeenergy.learn.train_rbm` (a resumed run must repeat ``method, k,
        sleep, batch_size, lr``, and the data).
    n_samples : int
        Draws from ``q`` for the monitored ``F[q]`` when the latents cannot be enumerated
        (with ``n_latent <= 20`` every monitored term is exact), >= 1.
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
        energy and entropy, and for enumerable latents the exact ``-log p(x)`` and the gap
        ``KL(q || p(z | x))``.

    Raises
    ------
    TrainingError
        If a parameter or monitored quantity becomes NaN or inf (the model is restored to the
        last good epoch; the checkpoint file keeps the last good state).

    Examples
    --------
    >>> import torch
    >>> from freeenergy.models.helmholtz import HelmholtzMachine
    >>> from freeenergy.learn import train_helmholtz
    >>> teacher = HelmholtzMachine((8, 3), seed=1)
    >>> with torch.no_grad():
    ...     _ = teacher.gen_weights[0].normal_(0, 3, generator=torch.Generator().manual_seed(0))
    >>> x = teacher.sample(200, seed=2)
    >>> hm = HelmholtzMachine((8, 3), seed=0)
    >>> h = train_helmholtz(hm, x, method="reweighted-wake-sleep", epochs=5, batch_size=20,
    ...                     lr=0.05, seed=0, iw_k=0)
    >>> bool(h.train_neg_log_likelihood[-1] < h.train_neg_log_likelihood[0])
    True
    >>> bool((h.train_free_energy >= h.train_neg_log_likelihood).all())   # F[q] >= -log p(x)
    True
    """
    owner = _HelmholtzTask.owner
    if not isinstance(model, HelmholtzMachine):
        raise InputTypeError(f"The 'model' parameter of {owner} must be a HelmholtzMachine. Got "
                        f"{type(model).__name__} instead.")
    if method not in _METHODS:
        raise fail("method", owner, "'wake-sleep' or 'reweighted-wake-sleep'", method)
    k = check_int("k", k, owner, 1)
    if not isinstance(sleep, bool):
        raise fail("sleep", owner, "a bool", sleep)
    opts = validate_options(owner, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                            callbacks=callbacks, checkpoint=checkpoint,
                            checkpoint_every=checkpoint_every, resume=resume, progress=progress,
                            quiet=quiet, dynamic_binarization=dynamic_binarization)
    monitors = monitor_options(owner, n_samples, iw_k)
    trajectory = {"method": method, "k": k, "sleep": sleep, "batch_size": opts.batch_size,
                  "lr": opts.lr}
    return run(_HelmholtzTask, model, data, test_data, True, trajectory, opts, monitors, seed, resume)
