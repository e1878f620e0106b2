"""Reference tests of the loss that ``train_vae`` optimises, against a NumPy re-implementation.

The loss is recorded where the trainer reaches it (``_VAETask.losses``, wrapped during a real
``train_vae`` run of one epoch on one batch) and recomputed in NumPy from the model's weights
with the VAE references of tests/references.py: tanh MLPs, ``z = mu + sigma * eps`` with the same
``eps`` (replayed from a clone of the run's ``torch.Generator``), ``log N(z; 0, I)``, ``log q(z |
x)`` evaluated at ``z`` and the Bernoulli / Gaussian log-likelihoods written out.

References:
- Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, eq. (6): the generic SGVB
  estimator ``(1/k) sum_i [log p(x, z_i) - log q(z_i | x)]``. The model samples ``log q`` (it
  does not use the analytic KL of their eq. (7)), so that is the reference.
- Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016, eq. (8):
  ``L_k = log (1/k) sum_i w_i`` with ``w_i = p(x, z_i) / q(z_i | x)``; ``L_1`` is the ELBO and,
  on the same draws, ``L_k > ELBO_k`` for ``k > 1`` unless all weights are equal (Jensen).
- Kingma & Ba, "Adam", ICLR 2015, as ``torch.optim.Adam`` (the optimiser ``train_vae``
  documents), applied to a central-difference gradient of the NumPy loss.

Everything is float64 and deterministic: the seeds (model 0, weights 1, data 2, run 0) were
fixed before the tests were written, not chosen because they pass.
"""

import functools
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from freeenergy.learn import train_vae
from freeenergy.learn.elbo import _VAETask
from freeenergy.models import VAE
from references import (
    central_differences,
    diag_normal_entropy,
    diag_normal_log_pdf,
    numpy_params,
    vae_encode,
    vae_log_joint,
)
from torch_helpers import Replay, randomise

N_LATENT = 2
LR = 0.01
SEED = 0
DATA = {
    "bernoulli": np.array([[0, 1, 1, 0, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 0, 0, 1, 0]], float),
    "gaussian": np.random.default_rng(2).normal(size=(4, 5)),
}
CASES = [(lik, obj, k) for lik in DATA for obj in ("elbo", "iwae") for k in (1, 4)]


def _model(likelihood):
    """5 visible, 2 latent, one hidden layer of 4; all parameters (biases and the Gaussian
    ``log_sigma`` included) random so that no term of the loss vanishes."""
    return randomise(VAE(5, N_LATENT, hidden=(4,), likelihood=likelihood, seed=0), scale=0.5, seed=1)


# ---------------------------------------------------------------------------- NumPy reference


def _bound(p, x, eps, objective):
    """Per-example ELBO or L_k, shape (b,), from parameters ``p`` and noise ``eps`` (k, b, d):
    ``log w = log p(x, z) - log q(z | x)`` at ``z = mu + sigma * eps``."""
    mu, log_var = vae_encode(p, x)
    z = mu + np.exp(0.5 * log_var) * eps
    log_w = vae_log_joint(p, x, z) - diag_normal_log_pdf(z, mu, log_var)
    if objective == "elbo":
        return log_w.mean(0)
    return logsumexp(log_w, axis=0) - np.log(len(eps))


# ---------------------------------------------------------------------------- one recorded run


@dataclass(frozen=True)
class Run:
    before: dict  # NumPy parameters before the step
    x: np.ndarray  # the batch that losses() received
    state: torch.Tensor  # the generator state when losses() was called
    surrogate: float
    value: float
    grads: dict  # autograd gradient of the surrogate, by parameter name
    trajectory: dict
    monitors: object


@functools.cache
def _run(likelihood, objective, k):
    """One epoch of ``train_vae`` on one batch, recording the call of ``_VAETask.losses``."""
    model = _model(likelihood)
    before = numpy_params(model)
    calls = []
    losses = _VAETask.losses

    def recording(task, x):
        state = task.gen.get_state()
        surrogate, value = losses(task, x)
        names, params = zip(*task.model.named_parameters(), strict=True)
        grads = torch.autograd.grad(surrogate, params, retain_graph=True)
        calls.append(Run(before, x.numpy().copy(), state, float(surrogate.detach()), float(value),
                         {n: g.numpy() for n, g in zip(names, grads, strict=True)},
                         dict(task.trajectory), task.monitors))
        return surrogate, value

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_VAETask, "losses", recording)
        data = DATA[likelihood]
        train_vae(model, data, objective=objective, k=k, epochs=1, batch_size=len(data), lr=LR,
                  seed=SEED, n_samples=1, iw_k=0)
    (call,) = calls
    return call


@pytest.mark.parametrize(("likelihood", "objective", "k"), CASES)
def test_optimised_loss_is_the_negative_mean_bound(likelihood, objective, k):
    """The surrogate that is differentiated is ``-mean_b bound`` (train_vae documents the mean)
    and the reported value is ``-sum_b bound``, with the bound of Kingma & Welling (2014) eq. (6)
    or Burda et al. (2016) eq. (8) on the same eps. Observed relative error <= 3e-16; tolerance
    1e-12."""
    run = _run(likelihood, objective, k)
    eps = Replay(run.state).normal((k, len(run.x), N_LATENT))
    bound = _bound(run.before, run.x, eps, objective)
    np.testing.assert_allclose(run.surrogate, -bound.mean(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(run.value, -bound.sum(), rtol=1e-12, atol=0)


@pytest.mark.parametrize(("likelihood", "objective", "k"), CASES)
def test_gradient_matches_finite_differences(likelihood, objective, k):
    """The autograd gradient of the optimised loss equals central differences of that same loss
    (a fresh task, the generator re-seeded to the recorded state for every evaluation, so eps
    is fixed), for every parameter tensor. Observed relative error <= 6e-10; tolerance 1e-7."""
    run = _run(likelihood, objective, k)
    model = _model(likelihood)
    task = _VAETask(model, None, None, run.trajectory, LR, run.monitors)
    x = torch.from_numpy(run.x)

    def loss():
        gen = torch.Generator()
        gen.set_state(run.state)
        task.init(gen)
        with torch.no_grad():
            return float(task.losses(x)[0])

    fd = central_differences(loss, {n: p.data.numpy() for n, p in model.named_parameters()})
    assert fd.keys() == run.grads.keys()
    for name, g in fd.items():
        err = np.linalg.norm(run.grads[name] - g) / np.linalg.norm(g)
        assert err < 1e-7, (name, err)


@pytest.mark.parametrize("likelihood", list(DATA))
@pytest.mark.parametrize("k", [1, 4])
def test_iwae_differs_from_elbo_unless_one_sample(likelihood, k):
    """Same seed, same data, so the same eps: with k = 1, L_1 is the ELBO (Burda et al. 2016)
    in value and gradient (observed difference 0; tolerance 1e-12); with k = 4 the IWAE loss is
    strictly below the negative ELBO (Jensen) and its gradient differs. Observed margins: value
    >= 0.6 nats, relative gradient difference >= 0.11 in every tensor; required 1e-3."""
    elbo, iwae = _run(likelihood, "elbo", k), _run(likelihood, "iwae", k)
    assert elbo.state.equal(iwae.state) and np.array_equal(elbo.x, iwae.x)
    for name, g in elbo.grads.items():
        diff = np.linalg.norm(iwae.grads[name] - g) / np.linalg.norm(g)
        assert (diff < 1e-12) if k == 1 else (diff > 1e-3), (name, diff)
    if k == 1:
        np.testing.assert_allclose(iwae.surrogate, elbo.surrogate, rtol=1e-12, atol=0)
    else:
        assert iwae.surrogate < elbo.surrogate - 1e-3


# ---------------------------------------------------------------------------- end to end


def _reference_step(likelihood, objective, k, x, eps):
    """Parameters after one torch.optim.Adam step on the central-difference gradient of the NumPy
    loss, and that loss."""
    before = numpy_params(_model(likelihood))
    grad = central_differences(lambda: -_bound(before, x, eps, objective).mean(), before)
    params = {n: torch.tensor(a, requires_grad=True) for n, a in before.items()}
    adam = torch.optim.Adam(params.values(), lr=LR)
    for n, p in params.items():
        p.grad = torch.from_numpy(grad[n])
    adam.step()
    loss = -_bound(before, x, eps, objective).mean()
    return {n: p.detach().numpy() for n, p in params.items()}, loss


@pytest.mark.parametrize("likelihood", list(DATA))
@pytest.mark.parametrize("objective", ["elbo", "iwae"])
def test_first_adam_step_of_train_vae(likelihood, objective):
    """Public ``train_vae``, one epoch of one batch, seed 0: the loop draws the permutation and
    then eps from the run's generator (freeenergy.learn.loop), so both are replayed here. The
    trained parameters equal Adam on the NumPy gradient of the requested objective (observed
    error <= 2e-14, from the finite differences; tolerance 1e-12), not of the other objective
    (whose step differs by 2 lr = 0.02 where a gradient sign flips), and the reported epoch
    objective is the NumPy loss (observed exact; rtol 1e-12)."""
    k, data = 4, DATA[likelihood]
    model = _model(likelihood)
    history = train_vae(model, data, objective=objective, k=k, epochs=1, batch_size=len(data), lr=LR,
                        seed=SEED, n_samples=1, iw_k=0)
    replay = Replay.seeded(SEED)
    x = data[replay.randperm(len(data))]
    eps = replay.normal((k, len(data), N_LATENT))
    other = "elbo" if objective == "iwae" else "iwae"
    want, loss = _reference_step(likelihood, objective, k, x, eps)
    wrong, _ = _reference_step(likelihood, other, k, x, eps)
    trained = numpy_params(model)
    assert trained.keys() == want.keys()
    for name, p in trained.items():
        np.testing.assert_allclose(p, want[name], rtol=0, atol=1e-12, err_msg=name)
    assert max(np.abs(trained[n] - wrong[n]).max() for n in trained) > 1e-3
    np.testing.assert_allclose(history.objective[1], loss, rtol=1e-12, atol=0)


# ---------------------------------------------------------------------------- monitoring


@pytest.mark.parametrize("likelihood", list(DATA))
def test_monitored_terms_use_n_samples_draws_seeded_by_the_epoch(likelihood):
    """Each history row e of ``train_vae`` estimates ``<E>_q = -E_q[log p(x, z)]`` from
    ``n_samples`` reparameterised draws ``z = mu + sigma * eps`` of a generator seeded with ``e``
    (the same draws for the training and the test rows), with the analytic Gaussian ``H(q)``
    (Kingma & Welling 2014, appendix B) and ``F[q] = <E>_q - H(q)``; recomputed in NumPy from the
    weights before (row 0) and after (row 1) the epoch. Observed relative error <= 1e-15;
    tolerance 1e-12."""
    n_samples, data = 3, DATA[likelihood]
    model = _model(likelihood)
    params = [numpy_params(model)]
    history = train_vae(model, data[:3], test_data=data[3:], epochs=1, batch_size=3, lr=LR, seed=SEED,
                        n_samples=n_samples, iw_k=0)
    params.append(numpy_params(model))
    for epoch, p in enumerate(params):
        for part, x in (("train", data[:3]), ("test", data[3:])):
            eps = Replay.seeded(epoch).normal((n_samples, len(x), N_LATENT))
            mu, log_var = vae_encode(p, x)
            energy = -vae_log_joint(p, x, mu + np.exp(0.5 * log_var) * eps).mean()
            entropy = diag_normal_entropy(log_var).mean()
            for name, want in (("energy", energy), ("entropy", entropy), ("free_energy", energy - entropy)):
                np.testing.assert_allclose(getattr(history, f"{part}_{name}")[epoch], want, rtol=1e-12,
                                           err_msg=f"{part}_{name}[{epoch}]")
