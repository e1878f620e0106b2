"""Training a VAE by maximising the ELBO or the importance-weighted bound (IWAE), with Adam.

With ``E(x, z) = -log p(x, z)`` (T = 1) the negative ELBO is the Helmholtz free energy
``F[q] = <E>_q - H(q) >= -log p(x)`` (Kingma & Welling 2014); the IWAE objective ``-L_k``
(Burda, Grosse & Salakhutdinov 2016) is a tighter bound that tends to ``-log p(x)`` as ``k``
grows. Both are minimised with reparameterised gradients. The epoch loop, checkpoints and
resumption are the shared ones of :mod:`freeenergy.learn.loop`, the latent-variable part
(Adam state, the free-energy history row) that of :mod:`freeenergy.learn.latent`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from freeenergy._params import InputTypeError, check_int, fail
from freeenergy.learn.latent import LatentTask, monitor_options, run
from freeenergy.learn.loop import validate_options

__all__ = ["train_vae"]


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
    monitors = monitor_options(owner, n_samples, iw_k)
    trajectory = {"objective": objective, "k": k, "batch_size": opts.batch_size, "lr": opts.lr}
    # pixel values (in [0, 1] for a Bernoulli likelihood) are checked by the model itself
    return run(_VAETask, model, data, test_data, False, trajectory, opts, monitors, seed, resume)
