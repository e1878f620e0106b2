"""Validation of train_rbm's arguments and data (the public boundary; inner code trusts them)."""

from __future__ import annotations

import torch

from freeenergy._params import InputTypeError, check_int, check_real, fail
from freeenergy.learn import _kernels as K
from freeenergy.learn.loop import validate_options
from freeenergy.learn.monitor import ExplosionRule
from freeenergy.models._torch import check_rows
from freeenergy.models.rbm import RBM

_OWNER = "train_rbm"


def validate(model, method, k, epochs, batch_size, lr, momentum, weight_decay, seed, callbacks,
              checkpoint, checkpoint_every, resume, exact_every, explosion, progress, quiet):
    if not isinstance(model, RBM):
        raise InputTypeError(f"The 'model' parameter of {_OWNER} must be a BernoulliRBM or "
                        f"GaussianBernoulliRBM. Got {type(model).__name__} instead.")
    if method not in ("cd", "pcd"):
        raise fail("method", _OWNER, "'cd' or 'pcd'", method)
    opts = validate_options(_OWNER, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                            callbacks=callbacks, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                            resume=resume, progress=progress, quiet=quiet)
    reals = {}
    for name, value, ok, what in (
        ("momentum", momentum, lambda x: 0 <= x < 1, "a float in [0, 1)"),
        ("weight_decay", weight_decay, lambda x: x >= 0, "a float >= 0"),
    ):
        reals[name] = check_real(name, value, _OWNER)
        if not ok(reals[name]):
            raise fail(name, _OWNER, what, value)
    cfg = K.Config(method, check_int("k", k, _OWNER, 1), opts.batch_size, opts.lr,
                   reals["momentum"], reals["weight_decay"])
    if explosion is not None and not isinstance(explosion, ExplosionRule):
        raise fail("explosion", _OWNER, "an ExplosionRule or None", explosion)
    return cfg, opts, check_int("exact_every", exact_every, _OWNER, 0)


def _as_rows(model, x, name: str) -> torch.Tensor:
    return check_rows(x, model, _OWNER, name=name, values="unit" if model.binary_visible else None)


def training_data(model, data, test_data):
    if hasattr(data, "train") and hasattr(data, "test"):  # a DataSet
        data, test_data = data.train, data.test if test_data is None else test_data
    train = _as_rows(model, data, "data")
    return train, None if test_data is None else _as_rows(model, test_data, "test_data")
