"""Tests of freeenergy.learn.latent: the latent-variable part of the shared training loop (the
validation of the trainers' data and its messages, the fixed Bernoulli draw of the monitored rows
under dynamic binarisation, the monitor options, the optimiser state in checkpoints), and, in a
titled section below, of the other learn modules' observable details that the trainers' own
tests do not pin (the kernel registry, the RBM task's advice and progress label, the order of
argument checks, the owner named by the loop's seed check).

References: the messages are the house style of ``freeenergy._params.fail`` and
``check_rows`` ("The 'NAME' parameter of OWNER must ... Got ... instead{hint}."), written out here
in full; the optimiser state is compared with a ``copy.deepcopy`` taken when it is saved; the
values monitored on a fixed draw are checked against a NumPy enumeration of the latents of a
one-layer Helmholtz machine (Dayan et al. 1995; tests/references.py), from its weights.
"""

import copy
import re

import numpy as np
import pytest
import torch

from freeenergy._params import InputError
from freeenergy.learn import _kernels as K
from freeenergy.learn import train_helmholtz, train_rbm, train_vae
from freeenergy.learn.cd import RBMTask
from freeenergy.learn.latent import LatentTask, latent_rows
from freeenergy.learn.loop import Loop, validate_options
from freeenergy.models import VAE, BernoulliRBM
from freeenergy.models.helmholtz import HelmholtzMachine
from references import numpy_params, sbn_enumerate

# Module-level fixtures and helpers of the trainers' tests, imported for pytest to find; the tests'
# arguments of the same name shadow the fixtures.
# ruff: noqa: F811
from .test_dynamic_binarization import grey  # noqa: F401
from .test_elbo import _vae, data  # noqa: F401

N_VISIBLE = 6
UNIT_HINT = " (probabilities, with dynamic_binarization=True)"


@pytest.fixture(scope="module")
def rows():
    """12 binary rows of 6 pixels (float64)."""
    return (np.random.default_rng(0).random((12, N_VISIBLE)) < 0.5).astype(np.float64)


def _unit_message(name, owner, model, low, high):
    """``check_rows``' message for values outside [0, 1], with the dynamic-binarisation hint."""
    return (f"The {name!r} parameter of {owner} must hold values in [0, 1] for a {model}. "
            f"Got values in [{low:g}, {high:g}] instead{UNIT_HINT}.")


# ------------------------------------------------------------------ latent_rows / latent_data
@pytest.mark.parametrize("trainer", ["helmholtz", "vae"])
def test_probabilities_out_of_range_name_dynamic_binarisation(rows, trainer):
    """With dynamic_binarization=True, data outside [0, 1] gets the full message and its hint."""
    if trainer == "helmholtz":
        model, train, owner = HelmholtzMachine((N_VISIBLE, 2), seed=0), train_helmholtz, "train_helmholtz"
    else:
        model, train, owner = VAE(N_VISIBLE, 2, hidden=(4,), seed=0), train_vae, "train_vae"
    bad = 1.5 * rows
    expected = _unit_message("data", owner, type(model).__name__, bad.min(), bad.max())
    with pytest.raises(InputError, match=f"^{re.escape(expected)}$"):
        train(model, bad, epochs=0, iw_k=0, dynamic_binarization=True)


def test_test_data_out_of_range_gets_the_same_hint(rows):
    """The test rows' value error names 'test_data' and carries the same probabilities hint."""
    hm = HelmholtzMachine((N_VISIBLE, 2), seed=0)
    bad = rows - 0.5
    expected = _unit_message("test_data", "train_helmholtz", "HelmholtzMachine", bad.min(), bad.max())
    with pytest.raises(InputError, match=f"^{re.escape(expected)}$"):
        train_helmholtz(hm, rows, test_data=bad, epochs=0, iw_k=0, dynamic_binarization=True)


def test_bad_input_is_named(grey):
    hm = HelmholtzMachine((8, 2), seed=0)
    with pytest.raises(ValueError, match=r"0/1 values.*dynamic_binarization=True"):
        train_helmholtz(hm, grey, epochs=1)
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*1\.8"):
        train_helmholtz(hm, 2 * grey, epochs=1, dynamic_binarization=True)
    with pytest.raises(ValueError, match=r"'test_data'.*values in \[0, 1\].*\[-0\.9, -0\.1\]"):
        train_helmholtz(hm, grey, test_data=-grey, epochs=1, dynamic_binarization=True)
    with pytest.raises(ValueError, match="'dynamic_binarization' parameter of train_vae must be a bool"):
        train_vae(VAE(8, 2, seed=0), grey, epochs=1, dynamic_binarization="yes")


def test_float64_rows_are_not_copied(data):
    """A C-contiguous float64 array for a float64 model on the CPU is used in place (an MNIST-size
    training set is not duplicated in memory)."""
    rows = np.ascontiguousarray(data)
    t = latent_rows(_vae(), rows, "data", "train_vae", None)
    assert np.shares_memory(t.numpy(), rows)


# ------------------------------------------------------------------ fixed_draw
def enumerated(hm, x):
    """Mean F[q] = sum_z q(z | x) (log q(z | x) - log p(x, z)) and mean -log p(x) over the rows of
    x, by a sum over every latent vector in NumPy from the weights."""
    ref = sbn_enumerate(numpy_params(hm), x.numpy())
    return ref.free_energy.mean(), ref.exact.mean()


def test_monitored_train_rows_are_one_fixed_draw(grey):
    hm = HelmholtzMachine((8, 3), seed=0)
    h = train_helmholtz(hm, grey, epochs=2, batch_size=50, lr=0.03, seed=0, iw_k=0,
                        dynamic_binarization=True)
    fixed = torch.bernoulli(torch.as_tensor(grey), generator=torch.Generator().manual_seed(0))
    assert ((fixed == 0) | (fixed == 1)).all()
    free_energy, nll = enumerated(hm, fixed)  # observed agreement ~1e-15
    assert h.train_free_energy[-1] == pytest.approx(free_energy, abs=1e-12)
    assert h.train_neg_log_likelihood[-1] == pytest.approx(nll, abs=1e-12)
    assert h.arguments["dynamic_binarization"] is True


def test_grey_test_rows_are_monitored_on_one_fixed_draw(grey):
    hm = HelmholtzMachine((8, 3), seed=0)
    h = train_helmholtz(hm, grey, test_data=grey[:50], epochs=1, batch_size=50, seed=0, iw_k=0,
                        dynamic_binarization=True)
    fixed = torch.bernoulli(torch.as_tensor(grey[:50]), generator=torch.Generator().manual_seed(1))
    assert h.test_neg_log_likelihood[-1] == pytest.approx(enumerated(hm, fixed)[1], abs=1e-12)


def test_probabilities_zero_and_one_are_valid():
    """The probabilities may touch both ends of [0, 1]: pixels with p = 0 or p = 1 are always 0 or
    1, so a row of them is its own fixed draw, and the monitored -log p(x) (epoch 0, nothing
    trained) is that of the row itself, by NumPy enumeration (observed agreement ~1e-16;
    tolerance 1e-12)."""
    rows = np.tile([0.0, 1.0, 0.0, 1.0], (10, 2))
    hm = HelmholtzMachine((8, 2), seed=0)
    h = train_helmholtz(hm, rows, test_data=rows[:2], epochs=0, iw_k=0, dynamic_binarization=True)
    _, nll = enumerated(hm, torch.from_numpy(rows))
    assert h.train_neg_log_likelihood[0] == pytest.approx(nll, abs=1e-12)
    assert h.test_neg_log_likelihood[0] == pytest.approx(nll, abs=1e-12)


# ------------------------------------------------------------------ monitor_options
@pytest.mark.parametrize("iw_k", [None, 0])
def test_iw_k_none_or_zero_disables_the_bound(data, iw_k):
    """iw_k = None and iw_k = 0 both switch the monitored L_k off (NaN column, recorded as 0)."""
    h = train_vae(_vae(), data, epochs=0, n_samples=2, iw_k=iw_k)
    assert h.arguments["iw_k"] == 0
    assert np.isnan(h.train_iw_bound).all()


# ------------------------------------------------------------------ optimiser state in checkpoints
def test_saved_optimizer_state_is_a_snapshot():
    """LatentTask.save copies the Adam state to the CPU: later steps do not change what was saved."""
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.1)

    def one_step():
        opt.zero_grad()
        (p ** 2).sum().backward()
        opt.step()

    one_step()
    saved = LatentTask.save(opt)["optimizer"]
    expected = copy.deepcopy(opt.state_dict())
    one_step()
    one_step()
    assert saved["param_groups"] == expected["param_groups"]
    state, want = saved["state"][0], expected["state"][0]
    assert set(state) == set(want) == {"step", "exp_avg", "exp_avg_sq"}
    for key, value in state.items():
        assert value.device.type == "cpu"
        assert torch.equal(value, want[key]), key
        assert value.data_ptr() != opt.state[p][key].data_ptr(), key


# ================================================================== other learn modules
# Details of learn._kernels, learn.cd, learn.loop, learn.elbo and learn.wake_sleep that are
# observable but not pinned by those modules' own tests.

def test_register_kernel_registers_and_returns_the_function():
    """register_kernel(T)(fn) returns fn and makes kernel_for pick it for T; the built-in
    Bernoulli RBM kernel is registered (a callable, not the autograd fallback)."""

    class Marker:
        pass

    def kernel(model, v0, state, k):
        return {}, torch.zeros(())

    assert K.kernel_for(Marker()) is K._autograd_kernel
    try:
        assert K.register_kernel(Marker)(kernel) is kernel
        assert K.kernel_for(Marker()) is kernel
    finally:
        K._KERNELS.pop(Marker, None)
    builtin = K.kernel_for(BernoulliRBM(3, 2, seed=0))
    assert callable(builtin) and builtin is not K._autograd_kernel


def _rbm_task(model, train, lr_name="lr", monitors=True, lr=0.5):
    cfg = K.Config("cd", 1, 4, lr, 0.0, 0.0)
    return RBMTask(model, torch.from_numpy(train), None, cfg, epochs=1, exact_every=0, explosion=None,
                   lr_name=lr_name, monitors=monitors)


def test_rbm_advice_mentions_weight_decay_only_for_lr(rows):
    """The divergence advice suggests 'weight_decay' for train_rbm's 'lr' only (the scikit-learn
    wrapper's 'learning_rate' has no such parameter)."""
    model = BernoulliRBM(N_VISIBLE, 3, seed=0, dtype=torch.float64)
    assert _rbm_task(model, rows).advice == "Lower 'lr' (0.5) or add 'weight_decay'."
    assert _rbm_task(model, rows, lr_name="learning_rate").advice == "Lower 'learning_rate' (0.5)."


def test_rbm_progress_label_without_monitors(rows):
    """Without monitors the progress bar shows the reconstruction error, labelled 'recon', to 4
    significant digits."""
    model = BernoulliRBM(N_VISIBLE, 3, seed=0, dtype=torch.float64)
    value = 0.123456789
    assert _rbm_task(model, rows, monitors=False).postfix({"reconstruction_error": value}) == {
        "recon": f"{value:.4g}"}


_SEED_ERROR = "^The 'seed' parameter of {owner} must be an int >= 0"


def test_train_rbm_checks_the_seed_before_the_other_arguments(rows):
    """A bad seed is reported first, before a bad momentum (the loop options come first)."""
    model = BernoulliRBM(N_VISIBLE, 3, seed=0, dtype=torch.float64)
    with pytest.raises(InputError, match=_SEED_ERROR.format(owner="train_rbm")):
        train_rbm(model, rows, epochs=0, seed=-1, momentum=2.0)


def test_train_vae_checks_the_seed_before_the_monitors(rows):
    """A bad seed is reported first, before a bad n_samples."""
    vae = VAE(N_VISIBLE, 2, hidden=(4,), seed=0)
    with pytest.raises(InputError, match=_SEED_ERROR.format(owner="train_vae")):
        train_vae(vae, rows, epochs=0, seed=-1, n_samples=0)


def test_train_helmholtz_checks_the_seed_before_the_monitors(rows):
    """A bad seed is reported first, before a bad n_samples."""
    hm = HelmholtzMachine((N_VISIBLE, 2), seed=0)
    with pytest.raises(InputError, match=_SEED_ERROR.format(owner="train_helmholtz")):
        train_helmholtz(hm, rows, epochs=0, seed=-1, n_samples=0)


def test_loop_start_names_the_task_owner_for_a_bad_seed(rows):
    """Loop.start checks the seed itself and names the task's owner in the message."""
    model = BernoulliRBM(N_VISIBLE, 3, seed=0, dtype=torch.float64)
    cfg = K.Config("cd", 1, 4, 0.1, 0.0, 0.0)
    train = torch.from_numpy(rows)
    task = RBMTask(model, train, None, cfg, epochs=1, exact_every=0, explosion=None, owner="my_trainer")
    opts = validate_options("my_trainer", epochs=1, batch_size=4, lr=0.1, seed=None, callbacks=(),
                            checkpoint=None, checkpoint_every=1, resume=None, progress=False,
                            quiet=False)
    with pytest.raises(InputError, match=_SEED_ERROR.format(owner="my_trainer")):
        Loop(task, model, train, opts).start(-1, None)
