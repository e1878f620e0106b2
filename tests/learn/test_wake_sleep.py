"""Wake-sleep (Hinton, Dayan, Frey & Neal 1995) and reweighted wake-sleep (Bornschein & Bengio
2015) on small Helmholtz machines whose latents can be enumerated, so that the monitored
-log p(x) and the gap KL(q || p(z | x)) are exact. The monitored values are checked against a
NumPy enumeration from the weights (tests/references.py; Dayan, Hinton, Neal & Zemel 1995 for p
and q)."""

import copy
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from freeenergy.data import DataSet
from freeenergy.learn import (
    TrainingError,
    VariationalHistory,
    load_checkpoint,
    train_helmholtz,
    train_rbm,
)
from freeenergy.models import BernoulliRBM
from freeenergy.models.helmholtz import HelmholtzMachine
from references import numpy_params, sbn_enumerate
from torch_helpers import same, snapshot

METHODS = [("wake-sleep", False), ("reweighted-wake-sleep", False), ("reweighted-wake-sleep", True)]


@pytest.fixture(scope="module")
def data():
    """200 rows from a sharp one-layer teacher (4 latents, 16 visibles)."""
    teacher = HelmholtzMachine((16, 4), seed=1)
    with torch.no_grad():
        teacher.gen_weights[0].normal_(0, 3, generator=torch.Generator().manual_seed(0))
        teacher.gen_biases[0].normal_(0, 1, generator=torch.Generator().manual_seed(1))
    return teacher.sample(200, seed=2)


def enumerated_terms(hm, x):
    """Means over the rows of x of <E>_q, H(q), F[q] = sum_z q (log q - log p(x, z)), -log p(x)
    and KL(q || p(z | x)), summed over every latent vector in NumPy from the weights."""
    ref = sbn_enumerate(numpy_params(hm), x)
    terms = {"energy": ref.energy, "entropy": ref.entropy, "free_energy": ref.free_energy,
             "neg_log_likelihood": ref.exact, "gap": ref.gap}
    return {name: value.mean() for name, value in terms.items()}


@pytest.mark.parametrize(("method", "sleep"), METHODS)
def test_training_reduces_exact_nll_and_gap(data, method, sleep):
    hm = HelmholtzMachine((16, 8), seed=0)
    h = train_helmholtz(hm, data, method=method, sleep=sleep, epochs=6, batch_size=20, lr=0.03,
                        seed=0, iw_k=0)
    assert isinstance(h, VariationalHistory)
    assert h.epoch.tolist() == list(range(7))
    nll, gap = h.train_neg_log_likelihood, h.train_gap
    assert nll[-1] < nll[0] - 2.0  # nats per example
    # at initialisation q and p(z | x) are both near-uniform (gap ~ 0); once p has learned
    # structure the recognition net follows it
    assert gap[-1] < 0.75 * gap[1]
    assert np.isnan(h.objective[0]) and np.isfinite(h.objective[1:]).all()
    assert h.stop_reason == "completed"


def test_monitored_terms_match_enumeration_and_bound_nll(data):
    hm = HelmholtzMachine((16, 8), seed=0)
    models = [copy.deepcopy(hm)]  # the model behind each history row

    def keep(epoch, model, history):
        models.append(copy.deepcopy(model))

    h = train_helmholtz(hm, data[:150], test_data=data[150:], method="reweighted-wake-sleep",
                        epochs=3, batch_size=25, lr=0.03, seed=1, iw_k=20, callbacks=[keep])
    for part, rows in (("train", data[:150]), ("test", data[150:])):
        refs = [enumerated_terms(model, rows.numpy()) for model in models]
        for name in refs[0]:  # observed agreement ~1e-14
            ref = [r[name] for r in refs]
            np.testing.assert_allclose(getattr(h, f"{part}_{name}"), ref, rtol=0, atol=1e-12, err_msg=name)
        F, nll = getattr(h, f"{part}_free_energy"), getattr(h, f"{part}_neg_log_likelihood")
        assert (F >= nll - 1e-9).all()
        # the importance-weighted bound sits between the ELBO and log p(x) (up to MC error)
        iw = getattr(h, f"{part}_iw_bound")
        assert (iw <= -nll + 0.05).all() and (iw >= -F - 0.05).all()


def test_deeper_machine_runs(data):
    hm = HelmholtzMachine((16, 6, 3), seed=0)
    h = train_helmholtz(hm, data, method="wake-sleep", epochs=2, batch_size=50, lr=0.03, seed=0,
                        iw_k=0)
    assert (h.train_free_energy >= h.train_neg_log_likelihood - 1e-9).all()
    assert h.train_neg_log_likelihood[-1] < h.train_neg_log_likelihood[0]


def test_same_seed_same_parameters(data):
    runs = []
    for seed in (3, 3, 4):
        hm = HelmholtzMachine((16, 8), seed=0)
        train_helmholtz(hm, data, method="reweighted-wake-sleep", k=3, epochs=2, batch_size=40,
                        lr=0.03, seed=seed, iw_k=0)
        runs.append(snapshot(hm))
    assert same(runs[0], runs[1])
    assert not same(runs[0], runs[2])


@pytest.mark.parametrize(("method", "sleep"), METHODS[:2])
def test_resume_is_bit_identical(data, tmp_path, method, sleep):
    kw = {"method": method, "sleep": sleep, "batch_size": 30, "lr": 0.03, "seed": 5, "iw_k": 5}
    full = HelmholtzMachine((16, 8), seed=0)
    h_full = train_helmholtz(full, data, epochs=4, **kw)
    path = tmp_path / "hm.ckpt"
    first = HelmholtzMachine((16, 8), seed=0)
    train_helmholtz(first, data, epochs=2, checkpoint=path, **kw)
    again = HelmholtzMachine((16, 8), seed=9)  # parameters come from the checkpoint
    h_resumed = train_helmholtz(again, data, epochs=4, resume=path, **kw)
    assert same(snapshot(full), snapshot(again))
    for column in ("train_free_energy", "train_gap", "objective", "train_iw_bound"):
        np.testing.assert_array_equal(getattr(h_full, column), getattr(h_resumed, column))
    ckpt = load_checkpoint(path)
    assert isinstance(ckpt.model, HelmholtzMachine) and ckpt.epoch == 2
    assert isinstance(ckpt.history, VariationalHistory)
    with pytest.raises(ValueError, match="lr"):
        train_helmholtz(HelmholtzMachine((16, 8)), data, epochs=4, resume=path, **{**kw, "lr": 0.1})


def test_rbm_checkpoint_is_not_a_helmholtz_checkpoint(data, tmp_path):
    path = tmp_path / "rbm.ckpt"
    train_rbm(BernoulliRBM(16, 3, seed=0), data, epochs=1, batch_size=50, seed=0, checkpoint=path)
    with pytest.raises(ValueError, match="Cannot resume"):
        train_helmholtz(HelmholtzMachine((16, 8)), data, epochs=2, resume=path)


def test_nan_raises_training_error_and_keeps_last_good_state(data, tmp_path):
    def poison(epoch, model, history):
        if epoch == 1:
            with torch.no_grad():
                model.gen_weights[0][0, 0] = float("nan")

    hm = HelmholtzMachine((16, 8), seed=0)
    path = tmp_path / "hm.ckpt"
    with pytest.raises(TrainingError, match="epoch 2 of train_helmholtz") as info:
        train_helmholtz(hm, data, epochs=3, batch_size=50, lr=0.03, seed=0, iw_k=0,
                        callbacks=[poison], checkpoint=path)
    err = info.value
    assert err.epoch == 2 and "gen_weights" in err.quantity
    assert all(torch.isfinite(p).all() for p in hm.parameters())
    assert err.history.epoch.tolist() == [0, 1] and err.checkpoint == str(path)
    assert load_checkpoint(path).epoch == 1
    with pytest.warns(UserWarning, match="diverged"):
        h = train_helmholtz(HelmholtzMachine((16, 8), seed=0), data, epochs=3, batch_size=50,
                            lr=0.03, seed=0, iw_k=0, callbacks=[poison], quiet=True)
    assert h.stop_reason == "diverged"


def test_invalid_arguments(data):
    hm = HelmholtzMachine((16, 8), seed=0)
    with pytest.raises(ValueError, match="'method' parameter of train_helmholtz"):
        train_helmholtz(hm, data, method="cd")
    with pytest.raises(ValueError, match="0/1"):
        train_helmholtz(hm, data * 0.5)
    with pytest.raises(ValueError, match=r"shape \(n, 16\)"):
        train_helmholtz(hm, data[:, :4])
    with pytest.raises(TypeError, match="HelmholtzMachine"):
        train_helmholtz(BernoulliRBM(16, 3), data)
    with pytest.raises(ValueError, match="'lr' parameter"):
        train_helmholtz(hm, data, lr=0)


def _message(text):
    """A ``pytest.raises`` pattern matching exactly ``text``."""
    return "^" + re.escape(text) + "$"


GREY = 0.5 * np.ones((3, 16))
BAD_ARGUMENTS = [
    ({"method": "cd"}, "The 'method' parameter of train_helmholtz must be 'wake-sleep' or "
                       "'reweighted-wake-sleep'. Got 'cd' instead."),
    ({"k": 0}, "The 'k' parameter of train_helmholtz must be an int >= 1. Got 0 instead."),
    ({"sleep": 1}, "The 'sleep' parameter of train_helmholtz must be a bool. Got 1 instead."),
    ({"lr": 0}, "The 'lr' parameter of train_helmholtz must be a float > 0. Got 0 instead."),
    ({"seed": -1}, "The 'seed' parameter of train_helmholtz must be an int >= 0. Got -1 instead."),
    ({"resume": 1}, "The 'resume' parameter of train_helmholtz must be a path (str or os.PathLike) or "
                    "None. Got 1 instead."),
    ({"n_samples": 0}, "The 'n_samples' parameter of train_helmholtz must be an int >= 1. Got 0 instead."),
    ({"iw_k": -1}, "The 'iw_k' parameter of train_helmholtz must be an int >= 0. Got -1 instead."),
    ({"data": GREY}, "The 'data' parameter of train_helmholtz must hold 0/1 values for a HelmholtzMachine. "
                     "Got a value of 0.5 instead; pass binarised data or grey values in [0, 1] with "
                     "dynamic_binarization=True."),
    ({"test_data": GREY}, "The 'test_data' parameter of train_helmholtz must hold 0/1 values for a "
                          "HelmholtzMachine. Got a value of 0.5 instead; pass binarised data."),
    ({"data": [[0, 1], [1]]}, "The 'data' parameter of train_helmholtz must be an array of shape "
                              "(n, n_visible). Got [[0, 1], [1]] instead."),
    ({"data": [["0", "1"]]}, "The 'data' parameter of train_helmholtz must be a numeric array of shape "
                             "(n, n_visible). Got an array of shape (1, 2) instead."),
    ({"data": SimpleNamespace(train=[[0.0]])}, "The 'data' parameter of train_helmholtz must be a numeric "
                                               "array of shape (n, n_visible). Got namespace(train=[[0.0]]) "
                                               "instead."),
    ({"data": np.full((2, 16), np.nan)}, "The 'data' parameter of train_helmholtz must be finite. Got NaN or "
                                         "inf."),
    ({"data": np.zeros((0, 16))}, "The 'data' parameter of train_helmholtz must have shape (n, 16) with "
                                  "n >= 1, one row per example. Got shape (0, 16) instead "
        "(reshape images to rows, e.g. data.reshape(len(data), -1))."),
    ({"test_data": np.zeros((3, 4))}, "The 'test_data' parameter of train_helmholtz must have shape (n, 16) "
                                      "with n >= 1, one row per example. Got shape (3, 4) instead "
        "(reshape images to rows, e.g. data.reshape(len(data), -1))."),
]


@pytest.mark.parametrize(("change", "message"), BAD_ARGUMENTS)
def test_errors_name_the_argument_and_the_trainer(data, change, message):
    """DESIGN.md section 3: every rejected argument is named, with train_helmholtz, what is allowed
    and what came (the data's 0/1 check suggests dynamic binarisation for 'data' only)."""
    kw = {"data": data, "epochs": 1, **change}
    with pytest.raises(ValueError, match=_message(message)):
        train_helmholtz(HelmholtzMachine((16, 8), seed=0), **kw)


def test_wrong_model_is_named():
    """The model's class is checked first, and the message names what came."""
    with pytest.raises(TypeError, match=_message("The 'model' parameter of train_helmholtz must be a "
                                                 "HelmholtzMachine. Got BernoulliRBM instead.")):
        train_helmholtz(BernoulliRBM(16, 3), np.zeros((2, 16)))


def test_documented_defaults(data, capsys):
    """Every keyword left out: wake-sleep, k = 5, sleep = False, 10 epochs of batches of 100, lr =
    1e-3, n_samples = 100, iw_k = 50 (the monitored bound is on), no progress bar; the history
    records them all."""
    h = train_helmholtz(HelmholtzMachine((16, 3), seed=0), data[:20])
    expected = {"method": "wake-sleep", "k": 5, "sleep": False, "batch_size": 100, "lr": 1e-3, "epochs": 10,
                "n_samples": 100, "iw_k": 50, "n_train": 20, "dynamic_binarization": False}
    assert {key: h.arguments[key] for key in expected} == expected
    assert h.epoch.tolist() == list(range(11)) and np.isfinite(h.train_iw_bound).all()
    assert capsys.readouterr().err == ""


def test_one_row_and_one_sample_are_enough(data):
    """The smallest valid run: a single training row, reweighted wake-sleep with k = 1."""
    h = train_helmholtz(HelmholtzMachine((16, 3), seed=0), data[:1], method="reweighted-wake-sleep", k=1,
                        epochs=1, seed=0, iw_k=0)
    assert h.arguments["k"] == 1 and h.arguments["n_train"] == 1
    assert np.isfinite(h.objective[1]) and h.stop_reason == "completed"


def test_dataset_gives_training_and_default_test_rows(data):
    """A DataSet trains on ``.train`` and monitors ``.test`` unless test_data is given: the
    monitored exact -log p(x) (epoch 0, nothing trained) is the NumPy enumeration over the
    latents of the rows meant (observed agreement ~1e-15; tolerance 1e-12)."""
    rows = data.numpy()
    ds = DataSet(train=rows[:40], test=rows[40:50], train_labels=np.zeros(40, np.int64),
                 test_labels=np.zeros(10, np.int64), shape=(4, 4), name="digits")
    hm = HelmholtzMachine((16, 3), seed=0)
    P = numpy_params(hm)
    for test_data, test_rows in ((None, rows[40:50]), (rows[60:65], rows[60:65])):
        h = train_helmholtz(hm, ds, test_data=test_data, epochs=0, iw_k=0)
        assert h.arguments["n_train"] == 40
        for part, x in (("train", rows[:40]), ("test", test_rows)):
            np.testing.assert_allclose(getattr(h, f"{part}_neg_log_likelihood")[0],
                                       sbn_enumerate(P, x).exact.mean(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("form", ["float64 array", "list", "int64 tensor"])
def test_rows_are_cast_to_the_model_dtype(data, form):
    """A float32 machine trains on the same float32 rows whatever container and dtype the 0/1
    data come in: bit-identical parameters and objective to a float32 tensor."""
    rows = data[:40].numpy()
    given = {"float64 array": rows, "list": rows.tolist(), "int64 tensor": torch.from_numpy(rows).long()}
    kw = {"method": "reweighted-wake-sleep", "epochs": 2, "batch_size": 20, "lr": 0.03, "seed": 0, "iw_k": 0}
    runs = []
    for x in (torch.from_numpy(rows).float(), given[form]):
        hm = HelmholtzMachine((16, 4), seed=0, dtype=torch.float32)
        h = train_helmholtz(hm, x, **kw)
        runs.append((snapshot(hm), h.objective))
    assert same(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize(("method", "sleep"), [("wake-sleep", False), ("reweighted-wake-sleep", True)])
def test_infinite_sleep_loss_stops_training(method, sleep):
    """A loss that is infinite while every parameter is finite is caught before the step: here the
    recognition net gives the dreams (x = z = 1) probability exp(-inf), so the sleep loss is +inf
    although the reported value on the rows x = 0 is finite. Training stops in batch 1 blaming the
    training objective and leaves the model as it was."""
    hm = HelmholtzMachine((2, 2), seed=0)
    with torch.no_grad():
        hm.prior_logits.fill_(30.0)
        hm.gen_biases[0].fill_(30.0)
        hm.rec_weights[0].fill_(-1e308)  # logits -2e308 = -inf for x = (1, 1)
    before = snapshot(hm)
    with pytest.raises(TrainingError, match=r"epoch 1 of train_helmholtz: the training objective became "
                                            r"NaN or infinite \(detected in batch 1\)") as info:
        train_helmholtz(hm, np.zeros((4, 2)), method=method, sleep=sleep, epochs=1, batch_size=4, seed=0,
                        iw_k=0)
    assert info.value.quantity == "the training objective"
    assert same(before, snapshot(hm))
