"""CD-k and PCD updates against a NumPy implementation of the textbook rules.

Every trained parameter after one and after two updates (so that momentum matters) must equal the
reference, and for PCD so must the persistent chains. The reference (``cd_update`` / ``cd_train``
of tests/references.py) is written from the papers:

* Hinton (2002), "Training products of experts by minimizing contrastive divergence", Neural
  Computation 14: the CD-k ascent direction ``<-dF/dtheta>_{v0} - <-dF/dtheta>_{vk}``, with
  ``vk`` after k block-Gibbs sweeps started at the data and the hiddens summed out (``p(h|v)``
  in the statistics, Rao-Blackwellised).
* Tieleman (2008), "Training restricted Boltzmann machines using approximations to the likelihood
  gradient", ICML: PCD, the negative chains continue from their hidden states of the previous
  update instead of restarting at the data.
* Cho, Ilin & Raiko (2011), "Improved learning of Gaussian-Bernoulli restricted Boltzmann
  machines", ICANN: ``F(v) = sum_i (v_i - a_i)^2 / (2 sigma_i^2) - sum_j softplus(b_j +
  sum_i W_ij v_i / sigma_i^2)`` and ``p(v | h) = N(a + W h, sigma^2)`` (the model's docstring).
* Hinton (2010), "A practical guide to training restricted Boltzmann machines", UTML TR 2010-003,
  sections 9-10, and the ``train_rbm`` docstring: ``u <- momentum u + lr (g - weight_decay W)``,
  ``theta <- theta + u``, the decay on ``W`` only.

The epoch loop (``train_rbm``, also behind freeenergy.sklearn) must also report
the reference's reconstruction error, and name the batch and the quantity (a parameter, or the
overflowing unit inputs of a model with finite parameters) when a NaN or inf appears.

Torch is only the random-number source: ``Replay`` (tests/torch_helpers.py) clones the trainer's
generator and makes the same sampling calls in the same order (uniforms ``u < p`` for the
hand-written Bernoulli kernel, ``torch.bernoulli`` / ``torch.randn`` for the model samplers behind
the autograd kernel), fed with the reference's own probabilities. All arithmetic of the update is
NumPy.

Tolerances (absolute; parameters are O(1)): float64 agrees to rounding (observed at most 7e-16
over all cases); we ask 1e-12. float32 kernels round each operation to 2^-24 relative; summed over
sums of 7 products of up to |v / sigma^2| ~ 12 and two updates, the observed error is at most
1.6e-6 and we ask 1e-4, well below the effect of the bugs these tests are for (a weight-decay sign
flip moves ``W`` by ``2 lr wd |W|`` ~ 1e-2, dropping momentum by ``0.6 |u|`` ~ 1e-2).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from freeenergy.learn import TrainingError, train_rbm
from freeenergy.learn import _kernels as K
from freeenergy.learn.loop import Diverged
from freeenergy.models import BernoulliRBM, GaussianBernoulliRBM
from references import (
    cd_update,
    central_differences,
    numpy_params,
    rbm_free_energy,
    rbm_hidden_probs,
    rbm_minus_free_energy_gradient,
)
from torch_helpers import Replay

N_VISIBLE, N_HIDDEN, N_CHAINS = 6, 4, 3
TOL = {torch.float64: 1e-12, torch.float32: 1e-4}
SIGMA = np.array([0.5, 0.7, 0.9, 1.0, 1.2, 1.5])  # unequal, so that sigma^2 placement matters


# ---------------------------------------------------------------------------- set-up and checks
def make_model(kind: str, dtype: torch.dtype, rng: np.random.Generator):
    """A 6 x 4 model with O(1) parameters (so every term of the update is visible)."""
    if kind == "gaussian":
        model = GaussianBernoulliRBM(N_VISIBLE, N_HIDDEN, sigma=SIGMA, learn_sigma=True, dtype=dtype)
    else:
        model = BernoulliRBM(N_VISIBLE, N_HIDDEN, dtype=dtype)
    with torch.no_grad():
        for name in ("weight", "visible_bias", "hidden_bias"):
            p = getattr(model, name)
            p.copy_(torch.from_numpy(rng.normal(0.0, 0.5, p.shape)))
    return model


def make_data(kind: str, n: int, dtype: torch.dtype, rng: np.random.Generator) -> np.ndarray:
    """Binary rows, or real rows spread over a few sigma; exactly representable in ``dtype``."""
    x = rng.normal(0.3, 1.5, (n, N_VISIBLE)) if kind == "gaussian" else rng.random((n, N_VISIBLE)) < 0.4
    return torch.from_numpy(x.astype(np.float64)).to(dtype).double().numpy()


def assert_parameters(model, expected: dict, tol: float, when: str) -> None:
    """Each parameter group separately, so that a failure names the group."""
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.detach().double().numpy(), expected[name], rtol=0, atol=tol,
                                   err_msg=f"{name} after {when}")


def reference_run(P: dict, data: np.ndarray, trained, replay, *, epochs: int, method: str, batch_size: int,
                  uniforms: bool, **hyper):
    """``epochs`` shuffled passes of :func:`cd_update` over ``data`` (the epoch loop of
    ``train_rbm``): PCD chains start at ``h ~ p(h | v)`` of ``batch_size`` random
    rows; each epoch draws a permutation and updates once per batch (the last one smaller).
    Returns the parameters, the chains and each epoch's reconstruction error per visible unit
    (the summed squared errors over ``n * n_visible``)."""
    u = {n: np.zeros_like(P[n]) for n in trained}
    chains, recon = None, []
    if method == "pcd":
        rows = replay.randint(len(data), batch_size)
        chains = replay.torch_bernoulli(rbm_hidden_probs(P, data[rows]))
    for _ in range(epochs):
        perm, total = replay.randperm(len(data)), 0.0
        for start in range(0, len(data), batch_size):
            P, u, chains, r = cd_update(P, u, data[perm[start:start + batch_size]], chains, replay,
                                        uniforms=uniforms, **hyper)
            total += r
        recon.append(total / data.size)
    return P, chains, recon


# ---------------------------------------------------------------------------- tests
def test_reference_gradient_matches_finite_differences():
    """The closed-form ``-dF/dtheta`` of the reference equals central differences of its ``F``
    (Gaussian-Bernoulli with unequal sigma, all four parameter groups; Bernoulli by sigma
    absent). Error O(eps^2) ~ 1e-10; tolerance 1e-7."""
    rng = np.random.default_rng(0)
    gaussian = {"weight": rng.normal(0, 0.5, (6, 4)), "visible_bias": rng.normal(0, 0.5, 6),
                "hidden_bias": rng.normal(0, 0.5, 4), "log_sigma": np.log(SIGMA)}
    bernoulli = {k: v for k, v in gaussian.items() if k != "log_sigma"}
    for p, v in ((gaussian, rng.normal(0.3, 1.5, (5, 6))), (bernoulli, (rng.random((5, 6)) < 0.4) * 1.0)):
        grads = rbm_minus_free_energy_gradient(p, v)
        fd = central_differences(lambda p=p, v=v: -rbm_free_energy(p, v).mean(), p, h=1e-5)
        for name in p:
            np.testing.assert_allclose(grads[name], fd[name], rtol=0, atol=1e-7, err_msg=name)


KERNELS = {  # model kind, kernel, does the kernel draw Bernoulli units as ``rand < p``
    "bernoulli-blas": ("bernoulli", K._bernoulli_kernel, True),
    "bernoulli-autograd": ("bernoulli", K._autograd_kernel, False),
    "gaussian-autograd": ("gaussian", K._autograd_kernel, False),
}


def test_kernel_dispatch():
    """The tests below reach the kernels that training uses."""
    assert K.kernel_for(BernoulliRBM(2, 2)) is K._bernoulli_kernel
    assert K.kernel_for(GaussianBernoulliRBM(2, 2)) is K._autograd_kernel


@pytest.mark.parametrize("kernel_id", list(KERNELS))
@pytest.mark.parametrize(("method", "k"), [("cd", 1), ("cd", 3), ("pcd", 1), ("pcd", 3)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("batch", [1, 7])
@pytest.mark.parametrize(("momentum", "weight_decay"), [(0.0, 0.0), (0.0, 0.1), (0.6, 0.1)],
                         ids=["sgd", "decay", "momentum-decay"])
def test_two_updates_match_the_reference(kernel_id, method, k, dtype, batch, momentum, weight_decay):
    """Two successive ``cd_step`` calls (fresh batches, shared velocity and chains) give the
    parameters, reconstruction error and PCD chains of the NumPy CD-k / PCD-k reference
    (Hinton 2002; Tieleman 2008; Cho et al. 2011) after each step. PCD uses 3 chains, fewer or
    more than the batch rows."""
    kind, kernel, uniforms = KERNELS[kernel_id]
    rng = np.random.default_rng(0)  # fixed seeds, not chosen to pass
    model = make_model(kind, dtype, rng)
    cfg = K.Config(method, k, batch, 0.1, momentum, weight_decay)
    chains = (rng.random((N_CHAINS, N_HIDDEN)) < 0.5) * 1.0 if method == "pcd" else None
    velocity = {n: torch.zeros_like(p.detach()) for n, p in model.named_parameters() if p.requires_grad}
    state = K.State(velocity, None if chains is None else torch.from_numpy(chains).to(dtype),
                    torch.Generator().manual_seed(0))
    replay = Replay(state.generator.get_state(), dtype)
    p, u = numpy_params(model), {n: np.zeros(t.shape) for n, t in velocity.items()}
    for step in (1, 2):
        v0 = make_data(kind, batch, dtype, rng)
        recon = K.cd_step(model, kernel, torch.from_numpy(v0).to(dtype), state, cfg)
        p, u, chains, expected_recon = cd_update(
            p, u, v0, chains, replay, k=k, lr=cfg.lr, momentum=momentum, weight_decay=weight_decay,
            uniforms=uniforms)
        assert_parameters(model, p, TOL[dtype], f"step {step}")
        assert float(recon) == pytest.approx(expected_recon, rel=TOL[dtype], abs=TOL[dtype])
        if method == "pcd":
            np.testing.assert_array_equal(state.chains.double().numpy(), chains, f"chains, step {step}")
        else:
            assert state.chains is None


@pytest.mark.parametrize("kind", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("method", ["cd", "pcd"])
def test_train_rbm_runs_the_reference_updates(kind, method, tmp_path):
    """Two epochs of ``train_rbm`` on 9 rows in batches of 4 (the last of 1 row) equal the
    reference run: shuffles, lr, momentum, weight decay and k reach the updates, the chains
    persist across batches and epochs (read back from the checkpoint). The Gaussian model keeps
    sigma fixed (the default)."""
    rng = np.random.default_rng(1)  # fixed seeds, not chosen to pass
    model = make_model(kind, torch.float64, rng)
    if kind == "gaussian":
        model.log_sigma.requires_grad_(False)
    data = make_data(kind, 9, torch.float64, rng)
    p = numpy_params(model)
    hyper = {"k": 2, "lr": 0.1, "momentum": 0.6, "weight_decay": 0.1}
    path = tmp_path / "run.ckpt"
    history = train_rbm(model, data, method=method, epochs=2, batch_size=4, seed=3, exact_every=0,
                        explosion=None, checkpoint=path, **hyper)
    trained = [n for n, t in model.named_parameters() if t.requires_grad]
    expected, chains, recon = reference_run(p, data, trained, Replay.seeded(3), epochs=2, method=method,
                                            batch_size=4, uniforms=kind == "bernoulli", **hyper)
    assert_parameters(model, expected, 1e-12, "two epochs")
    saved = torch.load(path, weights_only=True)["chains"]
    np.testing.assert_array_equal(None if saved is None else saved.numpy(), chains)
    np.testing.assert_allclose(history.reconstruction_error[1:], recon, rtol=1e-12, atol=0)


def overflowing_gaussian_rbm():
    """Finite parameters whose unit inputs overflow: with ``v = 0`` every hidden unit is on
    (``sigmoid(50) = 1`` in float64), the visible means ``a + W h`` are +inf and -inf, and the
    third hidden unit's input from such a ``v`` is inf - inf = NaN, which ``torch.bernoulli``
    refuses with a RuntimeError."""
    model = GaussianBernoulliRBM(2, 3, seed=0)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1e308, 1e308, 1.0], [-1e308, -1e308, 1.0]], dtype=torch.float64))
        model.hidden_bias.fill_(50.0)
        model.visible_bias.zero_()
    return model


@pytest.mark.parametrize(
    ("case", "batch_size", "batch", "quantity"),
    [
        ("decay overflow", 4, 1, "parameter 'weight'"),  # the next batch's reconstruction is NaN
        ("decay overflow", 9, 0, "parameter 'weight'"),  # one batch: the end-of-epoch scan
        ("unit inputs", 4, 0, "the reconstruction (unit inputs overflowed)"),  # parameters finite
    ],
)
def test_train_rbm_reports_where_it_diverged(case, batch_size, batch, quantity):
    """The error carries the 1-based batch where a NaN or inf was detected and what to blame: the
    first non-finite parameter, or the unit inputs when every parameter is finite. ``lr *
    weight_decay`` = 1e310 overflows, so the first update makes ``W`` infinite."""
    if case == "unit inputs":
        model, data = overflowing_gaussian_rbm(), np.zeros((9, 2))
        kwargs = {"k": 2, "lr": 0.1, "momentum": 0.0}
    else:
        rng = np.random.default_rng(0)
        model = make_model("bernoulli", torch.float64, rng)
        data = make_data("bernoulli", 9, torch.float64, rng)
        kwargs = {"k": 1, "lr": 1e10, "momentum": 0.5, "weight_decay": 1e300}
    with pytest.raises(TrainingError) as info:
        train_rbm(model, data, epochs=1, batch_size=batch_size, seed=0, exact_every=0, explosion=None,
                  **kwargs)
    assert info.value.quantity == quantity
    assert f"{quantity} became NaN or infinite (detected in batch {batch + 1})" in str(info.value)


def test_cd_step_turns_only_nan_failures_into_diverged():
    """``torch.bernoulli``'s RuntimeError on NaN probabilities (finite parameters whose inputs
    overflow), or any RuntimeError once a parameter is NaN, becomes ``Diverged`` (blaming the
    unit inputs, or the parameter) and nothing is updated; a RuntimeError of a kernel on a finite
    model is a real error and propagates."""
    model = overflowing_gaussian_rbm()
    cfg = K.Config("cd", 2, 2, 0.1, 0.5, 0.0)
    v0 = torch.zeros((2, 2), dtype=torch.float64)
    state = K.init_state(model, v0, cfg, torch.Generator().manual_seed(0))
    before = numpy_params(model)
    with pytest.raises(Diverged, match=r"^the reconstruction \(unit inputs overflowed\)$"):
        K.cd_step(model, K._autograd_kernel, v0, state, cfg)
    assert_parameters(model, before, 0.0, "a refused update")
    assert all((u == 0).all() for u in state.velocity.values())

    def broken(*args):
        raise RuntimeError("an unrelated failure")
    with pytest.raises(RuntimeError, match="an unrelated failure"):
        K.cd_step(model, broken, v0, state, cfg)
    with torch.no_grad():
        model.visible_bias[0] = torch.nan
    with pytest.raises(Diverged, match=r"^parameter 'visible_bias'$"):
        K.cd_step(model, broken, v0, state, cfg)


@pytest.mark.parametrize("k", [1, 2])  # k=1: an inf reconstruction; k=2: NaN hidden probabilities
def test_train_rbm_blames_the_unit_inputs_when_parameters_are_finite(k):
    """``train_rbm``'s error blames the overflowing unit inputs (not a parameter) when every
    parameter is finite, and names the epoch and batch."""
    with pytest.raises(TrainingError) as info:
        train_rbm(overflowing_gaussian_rbm(), np.zeros((4, 2)), k=k, epochs=1, batch_size=2, seed=0,
                  exact_every=0)
    quantity = "the reconstruction (unit inputs overflowed)"
    assert info.value.quantity == quantity
    assert f"epoch 1 of train_rbm: {quantity} became NaN or infinite (detected in batch 1)" in str(info.value)
