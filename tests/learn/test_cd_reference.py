"""CD-k and PCD updates against a NumPy implementation of the textbook rules.

Every trained parameter after one and after two updates (so that momentum matters) must equal the
reference, and for PCD so must the persistent chains. The reference is written here from the papers:

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

Torch is only the random-number source: :class:`Replay` clones the trainer's generator and makes
the same sampling calls in the same order (uniforms ``u < p`` for the hand-written Bernoulli
kernel, ``torch.bernoulli`` / ``torch.randn`` for the model samplers behind the autograd kernel),
fed with the reference's own probabilities. All arithmetic of the update is NumPy.

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

from freeenergy.learn import _kernels as K
from freeenergy.learn import train_rbm
from freeenergy.models import BernoulliRBM, GaussianBernoulliRBM

N_VISIBLE, N_HIDDEN, N_CHAINS = 6, 4, 3
TOL = {torch.float64: 1e-12, torch.float32: 1e-4}
SIGMA = np.array([0.5, 0.7, 0.9, 1.0, 1.2, 1.5])  # unequal, so that sigma^2 placement matters


# ---------------------------------------------------------------------------- the reference
class Replay:
    """The trainer's random numbers, replayed from a clone of its generator (state at creation)."""

    def __init__(self, generator: torch.Generator, dtype: torch.dtype):
        self.gen = torch.Generator()
        self.gen.set_state(generator.get_state())
        self.dtype = dtype

    def uniform_bernoulli(self, prob: np.ndarray) -> np.ndarray:
        """``u < p`` with ``u = torch.rand(shape, dtype)`` (the hand-written Bernoulli kernel)."""
        u = torch.rand(prob.shape, generator=self.gen, dtype=self.dtype).double().numpy()
        return (u < prob).astype(np.float64)

    def torch_bernoulli(self, prob: np.ndarray) -> np.ndarray:
        """``torch.bernoulli(p)`` (the models' samplers)."""
        p = torch.from_numpy(prob).to(self.dtype)
        return torch.bernoulli(p, generator=self.gen).double().numpy()

    def normal(self, shape) -> np.ndarray:
        return torch.randn(shape, generator=self.gen, dtype=self.dtype).double().numpy()

    def randint(self, n: int, size: int) -> np.ndarray:
        return torch.randint(n, (size,), generator=self.gen).numpy()

    def randperm(self, n: int) -> np.ndarray:
        return torch.randperm(n, generator=self.gen).numpy()


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def inverse_variance(p: dict) -> np.ndarray | float:
    """``1 / sigma^2`` of the Gaussian visibles; 1 for Bernoulli visibles (no ``log_sigma``)."""
    return np.exp(-2.0 * p["log_sigma"]) if "log_sigma" in p else 1.0


def hidden_probs(p: dict, v: np.ndarray) -> np.ndarray:
    """``p(h_j = 1 | v) = sigmoid(b_j + sum_i W_ij v_i / sigma_i^2)``."""
    return sigmoid(p["hidden_bias"] + (v * inverse_variance(p)) @ p["weight"])


def visible_mean(p: dict, h: np.ndarray) -> np.ndarray:
    """``E[v | h]``: ``sigmoid(a + W h)`` (Bernoulli) or ``a + W h`` (Gaussian)."""
    x = p["visible_bias"] + h @ p["weight"].T
    return x if "log_sigma" in p else sigmoid(x)


def free_energy(p: dict, v: np.ndarray) -> np.ndarray:
    """``F(v) = -log sum_h exp(-E(v, h))`` of either RBM (Cho et al. 2011 for the Gaussian)."""
    hidden = np.logaddexp(0.0, p["hidden_bias"] + (v * inverse_variance(p)) @ p["weight"]).sum(-1)
    if "log_sigma" in p:
        return ((v - p["visible_bias"]) ** 2 * inverse_variance(p) / 2).sum(-1) - hidden
    return -(v @ p["visible_bias"]) - hidden


def minus_free_energy_gradient(p: dict, v: np.ndarray) -> dict:
    """Mean over the rows of ``v`` of ``-dF(v)/dtheta``, in closed form."""
    iv, ph = inverse_variance(p), hidden_probs(p, v)
    grads = {"weight": (v * iv).T @ ph / len(v), "hidden_bias": ph.mean(0)}
    if "log_sigma" not in p:
        grads["visible_bias"] = v.mean(0)
        return grads
    grads["visible_bias"] = ((v - p["visible_bias"]) * iv).mean(0)
    grads["log_sigma"] = ((v - p["visible_bias"]) ** 2 * iv - 2 * v * iv * (ph @ p["weight"].T)).mean(0)
    return grads


def reference_step(p: dict, velocity: dict, v0: np.ndarray, chains, replay: Replay, *, k: int,
                   lr: float, momentum: float, weight_decay: float, uniforms: bool):
    """One CD-k (``chains`` None) or PCD-k (``chains``: persistent hidden states) update.

    Returns the new parameters, velocities, chains and the summed squared reconstruction error
    ``|v0 - E[v | h0]|^2`` with ``h0 ~ p(h | v0)``. ``velocity`` holds the trained parameters.
    """
    draw_h = replay.uniform_bernoulli if uniforms else replay.torch_bernoulli

    def draw_v(h):
        if "log_sigma" in p:
            mean = visible_mean(p, h)
            return mean + replay.normal(mean.shape) * np.exp(p["log_sigma"])
        return draw_h(visible_mean(p, h))

    h = draw_h(hidden_probs(p, v0))
    recon = ((v0 - visible_mean(p, h)) ** 2).sum()
    h = h if chains is None else chains
    for sweep in range(k):
        v = draw_v(h)
        if sweep < k - 1 or chains is not None:  # CD's last hidden layer is summed out, not drawn
            h = draw_h(hidden_probs(p, v))
    positive, negative = minus_free_energy_gradient(p, v0), minus_free_energy_gradient(p, v)
    new_p, new_u = dict(p), {}
    for name, u in velocity.items():
        decay = weight_decay if name == "weight" else 0.0
        new_u[name] = momentum * u + lr * (positive[name] - negative[name] - decay * p[name])
        new_p[name] = p[name] + new_u[name]
    return new_p, new_u, None if chains is None else h, recon


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


def numpy_parameters(model) -> dict:
    return {name: p.detach().double().numpy().copy() for name, p in model.named_parameters()}


def make_data(kind: str, n: int, dtype: torch.dtype, rng: np.random.Generator) -> np.ndarray:
    """Binary rows, or real rows spread over a few sigma; exactly representable in ``dtype``."""
    x = rng.normal(0.3, 1.5, (n, N_VISIBLE)) if kind == "gaussian" else rng.random((n, N_VISIBLE)) < 0.4
    return torch.from_numpy(x.astype(np.float64)).to(dtype).double().numpy()


def assert_parameters(model, expected: dict, tol: float, when: str) -> None:
    """Each parameter group separately, so that a failure names the group."""
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.detach().double().numpy(), expected[name], rtol=0, atol=tol,
                                   err_msg=f"{name} after {when}")


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
        grads, eps = minus_free_energy_gradient(p, v), 1e-5
        for name, value in p.items():
            fd = np.zeros_like(value)
            for i in np.ndindex(value.shape):
                up, down = {**p, name: value.copy()}, {**p, name: value.copy()}
                up[name][i] += eps
                down[name][i] -= eps
                fd[i] = -(free_energy(up, v).mean() - free_energy(down, v).mean()) / (2 * eps)
            np.testing.assert_allclose(grads[name], fd, rtol=0, atol=1e-7, err_msg=name)


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
    replay = Replay(state.generator, dtype)
    p, u = numpy_parameters(model), {n: np.zeros(t.shape) for n, t in velocity.items()}
    for step in (1, 2):
        v0 = make_data(kind, batch, dtype, rng)
        recon = K.cd_step(model, kernel, torch.from_numpy(v0).to(dtype), state, cfg)
        p, u, chains, expected_recon = reference_step(
            p, u, v0, chains, replay, k=k, lr=cfg.lr, momentum=momentum, weight_decay=weight_decay,
            uniforms=uniforms)
        assert_parameters(model, p, TOL[dtype], f"step {step}")
        assert float(recon) == pytest.approx(expected_recon, rel=TOL[dtype], abs=TOL[dtype])
        if method == "pcd":
            np.testing.assert_array_equal(state.chains.double().numpy(), chains, f"chains, step {step}")
        else:
            assert state.chains is None


def replay_train_rbm(p: dict, data: np.ndarray, trained, *, seed: int, epochs: int, method: str,
                     batch_size: int, uniforms: bool, chains=None, **hyper) -> tuple[dict, np.ndarray | None]:
    """The reference run of ``epochs`` shuffled passes: PCD chains start at ``h ~ p(h | v)`` of
    ``batch_size`` random rows (replaced by ``chains`` when given: a continued run); each epoch
    draws a permutation and updates once per batch."""
    replay = Replay(torch.Generator().manual_seed(seed), torch.float64)
    u = {n: np.zeros_like(p[n]) for n in trained}
    if method == "pcd":
        rows = replay.randint(len(data), batch_size)
        fresh = replay.torch_bernoulli(hidden_probs(p, data[rows]))
        chains = fresh if chains is None else chains
    for _ in range(epochs):
        perm = replay.randperm(len(data))
        for start in range(0, len(data), batch_size):
            p, u, chains, _ = reference_step(p, u, data[perm[start:start + batch_size]], chains, replay,
                                             uniforms=uniforms, **hyper)
    return p, chains


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
    p = numpy_parameters(model)
    hyper = {"k": 2, "lr": 0.1, "momentum": 0.6, "weight_decay": 0.1}
    path = tmp_path / "run.ckpt"
    train_rbm(model, data, method=method, epochs=2, batch_size=4, seed=3, exact_every=0,
              explosion=None, checkpoint=path, **hyper)
    trained = [n for n, t in model.named_parameters() if t.requires_grad]
    expected, chains = replay_train_rbm(p, data, trained, seed=3, epochs=2, method=method, batch_size=4,
                                   uniforms=kind == "bernoulli", **hyper)
    assert_parameters(model, expected, 1e-12, "two epochs")
    saved = torch.load(path, weights_only=True)["chains"]
    np.testing.assert_array_equal(None if saved is None else saved.numpy(), chains)
