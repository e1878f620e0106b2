"""Reference tests of the losses that wake-sleep (Hinton, Dayan, Frey & Neal, Science 1995) and
reweighted wake-sleep (Bornschein & Bengio, ICLR 2015) optimise, written in NumPy from the
sigmoid-belief-net formulas.

For a Bernoulli layer ``h ~ Bernoulli(sigmoid(a))`` with ``a = b + W u``, ``log p = sum_j [h_j
a_j - log(1 + e^{a_j})]`` and ``d log p / da = h - sigmoid(a)``, so ``d/db = h - sigmoid(a)`` and
``d/dW = (h - sigmoid(a)) u^T`` (Dayan, Hinton, Neal & Zemel, Neural Computation 1995; the
``sbn_*`` references of tests/references.py). The random draws (recognition samples, dreams,
the epoch's permutation) are replayed from a clone of the run's ``torch.Generator``
(tests/torch_helpers.Replay) with ``torch.bernoulli`` on probabilities computed in NumPy;
every gradient, weight and bound below is NumPy arithmetic.
"""

import math

import numpy as np
import pytest
import torch
from scipy.special import expit, log_softmax, logsumexp

from freeenergy.learn import train_helmholtz
from freeenergy.learn.latent import Monitors
from freeenergy.learn.wake_sleep import _HelmholtzTask
from freeenergy.models.helmholtz import HelmholtzMachine
from references import (
    configurations,
    numpy_params,
    sbn_depth,
    sbn_gen_logits,
    sbn_log_joint,
    sbn_log_recognition,
    sbn_rec_logits,
)
from torch_helpers import Replay, randomise

# (method, sleep) as passed to the trainer; k = 5 is passed to wake-sleep too, which must ignore it
CONFIGS = [("wake-sleep", False), ("reweighted-wake-sleep", False), ("reweighted-wake-sleep", True)]
K = 5


def _machine(sizes, seed):
    """A float64 Helmholtz machine with every parameter drawn from N(0, 1), so that q(z | x)
    is far from the posterior p(z | x) and the Bernoulli probabilities are far from 1/2."""
    return randomise(HelmholtzMachine(sizes, seed=0), scale=1.0, seed=seed)


# ---------------------------------------------------------------- replaying the draws
def _replay_recognition(P, x, k, replay):
    """``k`` bottom-up samples ``z ~ q(z | x)``, shape (k, b, n_latent)."""
    below, layers = np.broadcast_to(x, (k, *x.shape)), []
    for i in range(sbn_depth(P)):
        below = replay.torch_bernoulli(expit(sbn_rec_logits(P, i, below)))
        layers.append(below)
    return np.concatenate(layers, axis=-1)


def _replay_dream(P, n, replay):
    """``n`` ancestral samples ``(x, z) ~ p``, top layer first."""
    top = expit(P["prior_logits"])
    h = [replay.torch_bernoulli(np.broadcast_to(top, (n, top.size)))]
    for i in reversed(range(sbn_depth(P))):
        h.insert(0, replay.torch_bernoulli(expit(sbn_gen_logits(P, i, h[0]))))
    return h[0], np.concatenate(h[1:], axis=-1)


def _reference_step(P, x, replay, method, sleep):
    """The gradient of the loss one step minimises and the reported value, replaying the draws.

    Wake-sleep is the case ``k = 1`` (weight 1) without the q-wake term, with the sleep phase;
    reweighted wake-sleep weights ``k`` samples by ``w_i = p(x, z_i) / q(z_i | x)``
    normalised over ``i`` (Bornschein & Bengio 2015, sec. 3). The value is ``-L_k =
    -(log sum_i exp(log w_i) - log k)`` summed over the rows, which is ``log q - log p`` for
    ``k = 1``.
    """
    rws = method == "reweighted-wake-sleep"
    k, b = (K if rws else 1), len(x)
    z = _replay_recognition(P, x, k, replay)
    log_p, grad_p = sbn_log_joint(P, x, z, grad=True)
    log_q, grad_q = sbn_log_recognition(P, x, z, grad=True)
    log_w = log_p - log_q
    w = np.exp(log_softmax(log_w, axis=0))
    value = -(logsumexp(log_w, axis=0) - math.log(k)).sum()
    grads = {name: -np.einsum("kb,kb...->...", w, g) / b for name, g in grad_p.items()}
    for name, g in grad_q.items():
        grads[name] = -np.einsum("kb,kb...->...", w, g) / b if rws else np.zeros(g.shape[2:])
    if sleep or not rws:
        _, grad_sleep = sbn_log_recognition(P, *_replay_dream(P, b, replay), grad=True)
        for name, g in grad_sleep.items():
            grads[name] = grads[name] - g.mean(0)
    return grads, value


# ---------------------------------------------------------------- the trainer's side
def _task(model, method, sleep, k=K, seed=0):
    """The trainer's task with a run generator seeded ``seed``, and the replay of its draws."""
    trajectory = {"method": method, "k": k, "sleep": sleep, "batch_size": 1, "lr": 0.01}
    task = _HelmholtzTask(model, None, None, trajectory, 0.01, Monitors(n_samples=1, iw_k=0))
    gen = torch.Generator().manual_seed(seed)
    replay = Replay(gen.get_state())
    task.init(gen)
    return task, replay


def _gradients(model, loss):
    """``d loss / d theta`` for every parameter as NumPy arrays (zero where unused)."""
    names, params = zip(*model.named_parameters(), strict=True)
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return {n: np.zeros(tuple(p.shape)) if g is None else g.numpy()
            for n, p, g in zip(names, params, grads, strict=True)}


def _assert_same(actual, expected, atol):
    assert actual.keys() == expected.keys()
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], rtol=0, atol=atol, err_msg=name)


def _rows(n, d, seed):
    return (np.random.default_rng(seed).random((n, d)) < 0.5).astype(np.float64)


# ---------------------------------------------------------------- the tests
@pytest.mark.parametrize("sizes", [(6, 3), (6, 3, 2)])
@pytest.mark.parametrize(("method", "sleep"), CONFIGS)
def test_step_loss_gradient_and_value_match_numpy(sizes, method, sleep):
    """The summed phase losses have the NumPy gradient at the drawn samples: wake-sleep moves
    p by ``-mean grad log p(x, z)`` at ``z ~ q`` and q by ``-mean grad log q(z | x)`` at the
    dreams only; RWS moves p by ``-mean sum_i w_i grad log p(x, z_i)`` and q by ``-mean sum_i
    w_i grad log q(z_i | x)`` (plus the sleep term with ``sleep=True``). The reference has no
    cross terms, so this also proves that each phase moves only its own parameters. The value
    is ``log q - log p`` (one-sample F[q]) for wake-sleep and ``-L_k`` for RWS.
    Observed differences ~1e-16; tolerance 1e-12."""
    hm = _machine(sizes, seed=1)
    x = _rows(4, sizes[0], seed=2)
    task, replay = _task(hm, method, sleep, seed=3)
    surrogate, value = task.losses(torch.from_numpy(x))
    grads, expected_value = _reference_step(numpy_params(hm), x, replay, method, sleep)
    _assert_same(_gradients(hm, surrogate), grads, atol=1e-12)
    np.testing.assert_allclose(value.item(), expected_value, rtol=1e-13)


def test_sleep_loss_moves_only_recognition_parameters():
    """The sleep phase (Hinton et al. 1995) alone: zero gradient on p's parameters, and
    ``-mean grad log q(z | x)`` at the dreamed ``(x, z) ~ p`` on q's."""
    hm = _machine((6, 3, 2), seed=4)
    task, replay = _task(hm, "wake-sleep", False, seed=5)
    grads = _gradients(hm, task.sleep_loss(7))
    P = numpy_params(hm)
    _, grad_q = sbn_log_recognition(P, *_replay_dream(P, 7, replay), grad=True)
    expected = {name: np.zeros(p.shape) for name, p in P.items()}
    expected.update({name: -g.mean(0) for name, g in grad_q.items()})
    _assert_same(grads, expected, atol=1e-12)


@pytest.mark.parametrize("sizes", [(6, 3), (6, 2, 1)])
def test_rws_gradients_converge_to_exact_gradients(sizes):
    """Consistency of RWS (Bornschein & Bengio 2015, sec. 3): with k = 20000 samples of one row,
    ``sum_i w_i grad log p(x, z_i)`` tends to ``grad log p(x) = E_{p(z|x)}[grad log p(x, z)]``
    and ``sum_i w_i grad log q(z_i | x)`` to ``-grad KL(p(z|x) || q) = E_{p(z|x)}[grad log q]``,
    both computed exactly by enumerating the 8 latent configurations.

    The self-normalised estimate is asymptotically normal with standard error ``sqrt(sum_i
    w_i^2 (g_i - g_hat)^2)`` (delta method; its O(1/k) bias is ~1/sqrt(ESS) <= 0.04 of that error);
    |z| < 5 on each of the ~50 components fails by chance with probability < 50 * 6e-7 = 3e-5
    for any seed (the seed was not chosen). The check has power: with uniform weights (plain
    ``E_q``) the error exceeds 20 standard errors (observed: 160; the largest |z| observed is 2.6).
    """
    k = 20000
    hm = _machine(sizes, seed=6)
    x = _rows(1, sizes[0], seed=7)
    task, replay = _task(hm, "reweighted-wake-sleep", False, k=k, seed=8)
    surrogate, _ = task.losses(torch.from_numpy(x))
    estimate = {name: -g for name, g in _gradients(hm, surrogate).items()}

    P = numpy_params(hm)
    z = _replay_recognition(P, x, k, replay)[:, 0]  # (k, n_latent)
    configs = configurations(3)
    log_p_all, grad_p_all = sbn_log_joint(P, x[0], configs, grad=True)
    log_q_all, grad_q_all = sbn_log_recognition(P, x[0], configs, grad=True)
    posterior, q_all = np.exp(log_softmax(log_p_all)), np.exp(log_q_all)
    np.testing.assert_allclose(q_all.sum(), 1.0, rtol=1e-12)
    log_p, grad_p = sbn_log_joint(P, x[0], z, grad=True)
    log_q, grad_q = sbn_log_recognition(P, x[0], z, grad=True)
    w = np.exp(log_softmax(log_p - log_q))
    errors, errors_uniform, ses = [], [], []
    for name, g in {**grad_p, **grad_q}.items():
        g_all = {**grad_p_all, **grad_q_all}[name]
        exact = np.einsum("c,c...->...", posterior, g_all)
        g_hat = np.einsum("k,k...->...", w, g)
        ses.append(np.sqrt(np.einsum("k,k...->...", w**2, (g - g_hat) ** 2)).ravel())
        errors.append((estimate[name] - exact).ravel())
        errors_uniform.append((np.einsum("c,c...->...", q_all, g_all) - exact).ravel())
    errors, errors_uniform, se = map(np.concatenate, (errors, errors_uniform, ses))
    # the weights' gradients on inputs that are 0 vanish exactly (se = 0)
    assert (np.abs(errors) <= 5 * se + 1e-12).all()
    assert (np.abs(errors_uniform) > 20 * se).any()


@pytest.mark.parametrize(("method", "sleep"), CONFIGS)
def test_train_helmholtz_takes_adam_steps_on_the_reference_gradient(method, sleep):
    """End to end through ``train_helmholtz``: one epoch of 8 rows in batches of 4 is the
    shuffle then two Adam steps (Kingma & Ba 2015, Algorithm 1, default betas and eps) on the
    NumPy reference gradient; the epoch's objective is the mean reported value. Two steps make
    the result depend on the gradients' magnitudes, not only on their signs.
    Observed differences ~2e-16; tolerance 1e-12."""
    sizes, seed, lr, b1, b2, eps = (6, 3, 2), 11, 0.05, 0.9, 0.999, 1e-8
    hm = _machine(sizes, seed=9)
    data = _rows(8, sizes[0], seed=10)
    P = numpy_params(hm)
    m = {name: np.zeros_like(p) for name, p in P.items()}
    v = {name: np.zeros_like(p) for name, p in P.items()}
    replay = Replay.seeded(seed)
    perm = replay.randperm(len(data))
    total = 0.0
    for t, start in enumerate((0, 4), start=1):
        grads, value = _reference_step(P, data[perm[start:start + 4]], replay, method, sleep)
        total += value
        for name, g in grads.items():
            m[name] = b1 * m[name] + (1 - b1) * g
            v[name] = b2 * v[name] + (1 - b2) * g**2
            m_hat, v_hat = m[name] / (1 - b1**t), v[name] / (1 - b2**t)
            P[name] = P[name] - lr * m_hat / (np.sqrt(v_hat) + eps)

    h = train_helmholtz(hm, data, method=method, k=K, sleep=sleep, epochs=1, batch_size=4, lr=lr,
                        seed=seed, iw_k=0)
    _assert_same(numpy_params(hm), P, atol=1e-12)
    np.testing.assert_allclose(h.objective[1], total / len(data), rtol=1e-12)
