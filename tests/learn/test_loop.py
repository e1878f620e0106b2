"""The shared training loop (freeenergy.learn.loop) driven by a stub task.

The stub implements the task interface of the module docstring with the simplest possible
update (it records its mini-batch, nudges the visible bias and returns the batch sum), so every
property of the loop itself is checked against values written down in the test: the argument
checks and their messages (DESIGN.md section 3), one fresh permutation per epoch cut into
``batch_size`` rows (the last batch smaller), the epoch summary ``sum / (n * scale)``, the
divergence messages (epoch, batch, blamed quantity, last good checkpoint), exact resumption, the
progress bar and the callbacks. The trainers' own parts are tested in test_cd.py, test_elbo.py
and test_wake_sleep.py.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest
import torch

from freeenergy.learn import TrainingError, TrainingHistory, TrainingWarning
from freeenergy.learn.loop import Diverged, Loop, Options, validate_options
from freeenergy.models import BernoulliRBM
from torch_helpers import same, snapshot

N, WIDTH, BATCH = 10, 3, 4  # 10 rows in batches of 4, 4 and 2


class Stub:
    """A minimal task: ``step`` records its rows, adds 0.01 x their mean to the visible bias and
    returns their sum. ``fault(step, model)`` (steps counted from 1 over this task's life) may
    raise :class:`Diverged`, spoil a parameter, or return a value to report instead."""

    owner = "fit_stub"
    history_type = TrainingHistory
    scale = 2
    nonfinite = "the stub value"
    advice = "Try a smaller stub."
    extra_arguments = {"extra": 7}  # noqa: RUF012 (read-only)

    def __init__(self, model, fault=None, trajectory=None, warning=None):
        self.model, self.fault, self.warning = model, fault, warning
        self.trajectory = {"lr": 0.1, "k": 1} if trajectory is None else trajectory
        self.seen: list[torch.Tensor] = []

    def init(self, gen):
        return {"steps": 0}

    def step(self, rows, state):
        state["steps"] += 1
        self.seen.append(rows.clone())
        with torch.no_grad():
            self.model.visible_bias.add_(rows.mean(0), alpha=0.01)
        value = None if self.fault is None else self.fault(len(self.seen), self.model)
        return rows.sum() if value is None else value

    def monitor(self, epoch, summary, seconds):
        return {"epoch": epoch, "reconstruction_error": summary, "seconds": seconds,
                "train_free_energy": float(self.model.visible_bias.detach().sum())}

    def save(self, state):
        return {"steps": torch.tensor(state["steps"])}

    def restore(self, payload, gen):
        return {"steps": int(payload["steps"])}

    @staticmethod
    def postfix(row):
        return {"F": f"{row['train_free_energy']:.4g}"}

    def explosion(self, rows, epoch):
        return self.warning


DEFAULTS = {"epochs": 2, "batch_size": BATCH, "lr": 0.1, "seed": 0, "callbacks": (), "checkpoint": None,
            "checkpoint_every": 1, "resume": None, "progress": False, "quiet": False}


@pytest.fixture
def data():
    return torch.from_numpy(np.random.default_rng(0).random((N, WIDTH)))


def fit(task, data, **options):
    """Validate the options as a trainer does, then run the loop (its public use)."""
    kw = {**DEFAULTS, **options}
    run = Loop(task, task.model, data, validate_options(task.owner, **kw))
    run.start(kw["seed"], kw["resume"])
    return run.loop()


def spoil(step_at, how):
    """A fault at step ``step_at``: raise, report NaN, or make ``hidden_bias`` NaN (or both)."""
    def fault(step, model):
        if step != step_at:
            return None
        if how == "raise":
            raise Diverged("the stub quantity")
        if how in ("parameter", "parameter and value"):
            with torch.no_grad():
                model.hidden_bias[0] = torch.nan
        return None if how == "parameter" else torch.tensor(torch.nan, dtype=torch.float64)
    return fault


def keep_state(store):
    """A callback that keeps a snapshot of the model after each epoch."""
    def callback(epoch, model, history):
        store[epoch] = snapshot(model)
    return callback


# ---------------------------------------------------------------------------- arguments
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0}, "The 'lr' parameter of fit_stub must be a float > 0. Got 0 instead."),
        ({"lr": float("inf")}, "The 'lr' parameter of fit_stub must be a finite real number. Got inf "
                               "instead."),
        ({"seed": -1}, "The 'seed' parameter of fit_stub must be an int >= 0. Got -1 instead."),
        ({"callbacks": 3}, "The 'callbacks' parameter of fit_stub must be an iterable of callables. Got 3 "
                           "instead."),
        (lambda: {"callbacks": iter([1])}, "The 'callbacks' parameter of fit_stub must be an iterable "
                                           "of callables. Got (1,) instead."),  # one-shot: made per run
        ({"checkpoint": 3}, "The 'checkpoint' parameter of fit_stub must be a path (str or os.PathLike) or "
                            "None. Got 3 instead."),
        ({"resume": 2.5}, "The 'resume' parameter of fit_stub must be a path (str or os.PathLike) or None. "
                          "Got 2.5 instead."),
        ({"progress": 1}, "The 'progress' parameter of fit_stub must be a bool. Got 1 instead."),
        ({"quiet": "yes"}, "The 'quiet' parameter of fit_stub must be a bool. Got 'yes' instead."),
        ({"dynamic_binarization": 0}, "The 'dynamic_binarization' parameter of fit_stub must be a bool. "
                                      "Got 0 instead."),
        ({"epochs": -1}, "The 'epochs' parameter of fit_stub must be an int >= 0. Got -1 instead."),
        ({"batch_size": 0}, "The 'batch_size' parameter of fit_stub must be an int >= 1. Got 0 instead."),
        ({"checkpoint_every": 0}, "The 'checkpoint_every' parameter of fit_stub must be an int >= 1. Got 0 "
                                  "instead."),
    ],
)
def test_validate_options_names_the_argument_and_the_trainer(kwargs, message):
    """Each invalid option is rejected in the house format (DESIGN.md section 3): argument,
    trainer, what is allowed and what came, in full."""
    kwargs = kwargs() if callable(kwargs) else kwargs
    with pytest.raises(ValueError) as info:
        validate_options("fit_stub", **{**DEFAULTS, **kwargs})
    assert str(info.value) == message


def test_validate_options_returns_normalised_options(tmp_path):
    """An int ``lr`` becomes a float, callbacks a tuple, the checkpoint a Path;
    ``dynamic_binarization`` defaults to False."""
    opts = validate_options("fit_stub", **{**DEFAULTS, "lr": 1, "callbacks": [print],
                                           "checkpoint": str(tmp_path / "c.ckpt")})
    assert opts == Options(epochs=2, callbacks=(print,), batch_size=BATCH, lr=1.0,
                           checkpoint=tmp_path / "c.ckpt", checkpoint_every=1, progress=False,
                           quiet=False, dynamic_binarization=False)
    assert type(opts.lr) is float


# ---------------------------------------------------------------------------- epochs and batches
def test_each_epoch_steps_over_a_fresh_permutation_in_batches(data):
    """Epoch e hands the rows ``data[perm_e]`` to ``step`` in slices of ``batch_size`` (4, 4, 2),
    ``perm_e`` the e-th ``randperm`` of the seeded generator; the epoch summary is the exact
    mean ``sum / (n * scale)`` (float64 accumulation: observed error ~1e-16, tolerance 1e-13;
    a float32 accumulator is off by ~1e-8); the wall time of each epoch is reported."""
    task = Stub(BernoulliRBM(WIDTH, 2, seed=0))
    start = time.perf_counter()
    history = fit(task, data, epochs=2, seed=5)
    elapsed = time.perf_counter() - start
    gen = torch.Generator().manual_seed(5)
    expected = [data[torch.randperm(N, generator=gen)] for _ in range(2)]
    assert [len(rows) for rows in task.seen] == [4, 4, 2, 4, 4, 2]
    for epoch in range(2):
        assert torch.equal(torch.cat(task.seen[3 * epoch:3 * epoch + 3]), expected[epoch])
    mean = float(data.sum()) / (N * Stub.scale)
    np.testing.assert_allclose(history.reconstruction_error[1:], [mean, mean], rtol=1e-13, atol=0)
    assert history.seconds[0] == 0 and (history.seconds[1:] > 0).all()
    assert history.seconds[1:].sum() <= elapsed
    assert history.arguments == {"lr": 0.1, "k": 1, "seed": 5, "dynamic_binarization": False,
                                 "epochs": 2, "n_train": N, "extra": 7}


def test_checkpointed_runs_record_the_data_digest(data, tmp_path):
    """The digest that a resumed run must match is the 128-bit BLAKE2b of the training rows'
    bytes (checkpoint format version 1: a different digest would refuse older files)."""
    history = fit(Stub(BernoulliRBM(WIDTH, 2, seed=0)), data, epochs=1, checkpoint=tmp_path / "c.ckpt")
    expected = hashlib.blake2b(data.numpy().tobytes(), digest_size=16).hexdigest()
    assert history.arguments["data_digest"] == expected


# ---------------------------------------------------------------------------- divergence
@pytest.mark.parametrize(
    ("how", "quantity", "batch"),
    [
        ("raise", "the stub quantity", 2),  # the task names the quantity
        ("value", "the stub value", 2),  # a NaN value with finite parameters: task.nonfinite
        ("parameter and value", "parameter 'hidden_bias'", 2),  # the non-finite parameter
        ("parameter", "parameter 'hidden_bias'", 3),  # value finite: the end-of-epoch scan
    ],
)
@pytest.mark.parametrize("quiet", [False, True])
def test_divergence_names_epoch_batch_and_quantity(data, how, quantity, batch, quiet):
    """A failure in the second batch of epoch 2 stops training with a message naming the epoch,
    the batch where it was detected (a parameter spoiled with a finite value is only found by the
    scan after the last batch), the quantity and the advice; the model is restored to its state
    after epoch 1. With ``quiet`` the same message is a warning and the history is returned."""
    states = {}
    task = Stub(BernoulliRBM(WIDTH, 2, seed=0), fault=spoil(5, how))
    message = (f"Training diverged in epoch 2 of fit_stub: {quantity} became NaN or infinite (detected "
               f"in batch {batch}). The model was restored to its parameters after epoch 1. Try a "
               f"smaller stub.")
    if quiet:
        with pytest.warns(TrainingWarning) as record:
            history = fit(task, data, epochs=3, quiet=True, callbacks=[keep_state(states)])
        assert [str(w.message) for w in record] == [message]
    else:
        with pytest.raises(TrainingError) as info:
            fit(task, data, epochs=3, callbacks=[keep_state(states)])
        err = info.value
        assert str(err) == message
        assert (err.epoch, err.quantity, err.checkpoint) == (2, quantity, None)
        history = err.history
    assert history.epoch.tolist() == [0, 1] and history.stop_reason == "diverged"
    assert same(snapshot(task.model), states[1])


@pytest.mark.parametrize(("every", "good"), [(1, 1), (5, None)])
def test_divergence_names_the_last_good_checkpoint(data, tmp_path, every, good):
    """The message and ``TrainingError.checkpoint`` point at the checkpoint file only once it
    holds a good epoch (none yet when ``checkpoint_every`` has not come round)."""
    path = tmp_path / "run.ckpt"
    task = Stub(BernoulliRBM(WIDTH, 2, seed=0), fault=spoil(5, "raise"))
    with pytest.raises(TrainingError) as info:
        fit(task, data, epochs=3, checkpoint=path, checkpoint_every=every)
    where = "" if good is None else f"; the last good checkpoint is '{path}' (epoch {good})"
    assert f"restored to its parameters after epoch 1{where}. Try" in str(info.value)
    assert info.value.checkpoint == (None if good is None else str(path))


# ---------------------------------------------------------------------------- resumption
def test_resume_repeats_the_uninterrupted_run(data, tmp_path):
    """A run resumed from its epoch-1 checkpoint without a seed sees the same batches, ends with
    the same model and history, and records the seed of the original run."""
    straight = Stub(BernoulliRBM(WIDTH, 2, seed=0))
    full = fit(straight, data, epochs=3, seed=11)
    path = tmp_path / "run.ckpt"
    fit(Stub(BernoulliRBM(WIDTH, 2, seed=0)), data, epochs=1, seed=11, checkpoint=path)
    resumed = Stub(BernoulliRBM(WIDTH, 2, seed=1))
    history = fit(resumed, data, epochs=3, seed=None, resume=path)
    assert all(torch.equal(a, b) for a, b in zip(resumed.seen, straight.seen[3:], strict=True))
    assert same(snapshot(resumed.model), snapshot(straight.model))
    assert history.arguments == {**full.arguments, "data_digest": history.arguments["data_digest"]}
    assert history.arguments["seed"] == 11
    np.testing.assert_array_equal(history.train_free_energy, full.train_free_energy)


def test_resume_at_the_final_epoch_returns_the_saved_history(data, tmp_path):
    """``epochs`` equal to the checkpoint's epoch is no error: nothing is trained and the saved
    history comes back."""
    path = tmp_path / "run.ckpt"
    done = fit(Stub(BernoulliRBM(WIDTH, 2, seed=0)), data, epochs=2, checkpoint=path)
    task = Stub(BernoulliRBM(WIDTH, 2, seed=1))
    history = fit(task, data, epochs=2, resume=path)
    assert task.seen == [] and history.epoch.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(history.train_free_energy, done.train_free_energy)


@pytest.mark.parametrize("target", ["same", "none", "other"])
def test_resumed_run_knows_which_checkpoint_is_good(data, tmp_path, target):
    """Diverging right after a resume: the resumed-from file is the last good checkpoint only
    when the run keeps writing to it; with no checkpoint or a new file there is none yet."""
    path = tmp_path / "run.ckpt"
    fit(Stub(BernoulliRBM(WIDTH, 2, seed=0)), data, epochs=1, checkpoint=path)
    checkpoint = {"same": path, "none": None, "other": tmp_path / "new.ckpt"}[target]
    task = Stub(BernoulliRBM(WIDTH, 2, seed=0), fault=spoil(2, "raise"))
    with pytest.raises(TrainingError) as info:
        fit(task, data, epochs=3, resume=path, checkpoint=checkpoint)
    text = str(info.value)
    assert "epoch 2 of fit_stub: the stub quantity became NaN or infinite (detected in batch 2)" in text
    if target == "same":
        assert f"after epoch 1; the last good checkpoint is '{path}' (epoch 1). Try" in text
        assert info.value.checkpoint == str(path)
    else:
        assert "after epoch 1. Try" in text and info.value.checkpoint is None


def test_resume_refuses_another_model_or_other_arguments(data, tmp_path):
    """The refusals name the file, the trainer and every differing argument (old and new)."""
    path = tmp_path / "run.ckpt"
    fit(Stub(BernoulliRBM(WIDTH, 2, seed=0)), data, epochs=1, checkpoint=path)
    with pytest.raises(ValueError) as info:
        fit(Stub(BernoulliRBM(WIDTH, 4)), data, resume=path)
    assert str(info.value) == (f"Cannot resume from '{path}': it holds a BernoulliRBM(n_visible=3, "
                               f"n_hidden=2, extra={{}}, float64) but the model given to fit_stub is a "
                               f"BernoulliRBM(n_visible=3, n_hidden=4, extra={{}}, float64). Pass a model "
                               f"of the same class, shape and dtype.")
    with pytest.raises(ValueError) as info:
        fit(Stub(BernoulliRBM(WIDTH, 2), trajectory={"lr": 0.2, "k": 3}), data, resume=path)
    assert str(info.value) == (f"Cannot resume from '{path}': the training arguments differ from the run "
                               f"that wrote it (lr=0.1 there, 0.2 here; k=1 there, 3 here). Resume with the "
                               f"same arguments and data.")


# ---------------------------------------------------------------------------- progress, callbacks
@pytest.mark.parametrize("resume", [False, True])
def test_progress_bar_counts_the_remaining_batches(data, tmp_path, capsys, resume):
    """The bar (on stderr, titled with the trainer) counts ``ceil(n / batch_size)`` batches per
    remaining epoch (3 x 2 here, also for a run resumed at epoch 1 of 3), in units of batches,
    with the epoch and the task's diagnostics as its postfix. Without ``progress`` it is silent."""
    path = tmp_path / "run.ckpt"
    fit(Stub(BernoulliRBM(WIDTH, 2, seed=0)), data, epochs=1, checkpoint=path)
    assert capsys.readouterr().err == ""
    task = Stub(BernoulliRBM(WIDTH, 2, seed=0))
    history = fit(task, data, epochs=3 if resume else 2, resume=path if resume else None, progress=True)
    err = capsys.readouterr().err
    last = history.epoch[-1]
    assert err.startswith("\rfit_stub:")
    assert "| 6/6 [" in err
    assert f"batch/s, F={history.train_free_energy[-1]:.4g}, epoch={last}]" in err


def test_a_callback_can_stop_a_run_without_checkpoint(data):
    """``"stop"`` ends training after that epoch, also when no checkpoint is kept."""
    history = fit(Stub(BernoulliRBM(WIDTH, 2, seed=0)), data, epochs=5,
                  callbacks=[lambda epoch, model, history: "stop" if epoch == 2 else None])
    assert history.epoch.tolist() == [0, 1, 2] and history.stop_reason == "callback"


@pytest.mark.parametrize("kind", ["explosion", "quiet divergence"])
def test_warnings_point_at_the_caller(data, kind):
    """The explosion warning (once per call) and the quiet divergence warning are attributed to
    the code that called the trainer, not to the loop."""
    warning = "Weights are exploding." if kind == "explosion" else None
    fault = spoil(2, "raise") if kind != "explosion" else None
    with pytest.warns(TrainingWarning) as record:
        fit(Stub(BernoulliRBM(WIDTH, 2, seed=0), fault=fault, warning=warning), data, epochs=3,
            quiet=True)
    assert len(record) == 1 and record[0].filename == __file__
