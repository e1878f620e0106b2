"""NumPy references shared by the tests: each idea written once, from its textbook formula.

Every function reads a model only through its parameters (:func:`numpy_params`, a dict of float64
arrays keyed by ``named_parameters`` names) and computes with NumPy / SciPy, never with the
library, so a test that compares the library with a reference can fail. Importable because pytest
puts ``tests/`` on ``sys.path``.

Conventions (as in the package): log-probabilities and log-densities in nats; energies are what
is minimised, ``p ∝ exp(-E)``; free energies ``F = -log sum exp(-E)`` over the units summed out;
a leading ``configurations`` axis or batch axis broadcasts, the last axis holds the units.

Contents: generic densities (Bernoulli with logits, diagonal Gaussian), the VAE (Kingma & Welling
2014; Burda, Grosse & Salakhutdinov 2016), the sigmoid belief net of the Helmholtz machine (Dayan,
Hinton, Neal & Zemel 1995), and the Bernoulli / Gaussian-Bernoulli RBM with its CD-k / PCD-k
updates (Hinton 2002, 2010; Tieleman 2008; Cho, Ilin & Raiko 2011).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
from scipy.special import expit, logsumexp, xlogy

LOG_2PI = math.log(2 * math.pi)


# ---------------------------------------------------------------------------- generic


def numpy_params(model) -> dict[str, np.ndarray]:
    """The model's parameters as float64 NumPy copies.

    Parameters
    ----------
    model : torch.nn.Module
        Any model; read through ``named_parameters`` and ``.detach().cpu().numpy()``.

    Returns
    -------
    dict of str to ndarray
        ``{name: float64 array}``, copies (later training does not change them).
    """
    return {name: p.detach().cpu().numpy().astype(np.float64) for name, p in model.named_parameters()}


def configurations(n: int, lsb_first: bool = False) -> np.ndarray:
    """Every binary vector of length ``n``, shape ``(2^n, n)``, float64.

    Parameters
    ----------
    n : int
        Number of binary units.
    lsb_first : bool
        False: ``itertools.product`` order (column 0 is the most significant bit of the row index).
        True: column ``j`` is bit ``j`` of the row index, the order of the library's
        ``latent_configurations``.
    """
    bits = np.arange(n) if lsb_first else np.arange(n)[::-1]
    return ((np.arange(2**n)[:, None] >> bits) & 1).astype(np.float64)


def bernoulli_log_prob(values, logits) -> np.ndarray:
    """``sum_i log Bernoulli(values_i; sigmoid(logits_i))`` over the last axis.

    Written as ``sum_i [values_i logits_i - log(1 + exp(logits_i))]`` (``np.logaddexp``), finite for
    any logits; ``values`` and ``logits`` broadcast.
    """
    return (values * logits - np.logaddexp(0.0, logits)).sum(-1)


def bernoulli_entropy(logits) -> np.ndarray:
    """Entropy of a product of Bernoulli(sigmoid(logits_i)) in nats, summed over the last axis:
    ``H = -sum_i [p_i log p_i + (1 - p_i) log(1 - p_i)]`` with ``p = sigmoid(logits)``."""
    p = expit(logits)
    return -(xlogy(p, p) + xlogy(1 - p, 1 - p)).sum(-1)


def diag_normal_log_pdf(x, mean, log_var) -> np.ndarray:
    """``log N(x; mean, diag(exp(log_var)))`` summed over the last axis:
    ``-sum_i [(x_i - mean_i)^2 / var_i + log var_i + log 2 pi] / 2``; arguments broadcast."""
    return -0.5 * ((x - mean) ** 2 / np.exp(log_var) + log_var + LOG_2PI).sum(-1)


def diag_normal_entropy(log_var) -> np.ndarray:
    """Entropy of ``N(mean, diag(exp(log_var)))`` in nats: ``sum_i (1 + log 2 pi + log var_i) / 2``."""
    return 0.5 * (1 + LOG_2PI + log_var).sum(-1)


def central_differences(loss, arrays: dict, h: float = 1e-5) -> dict:
    """Central-difference gradient ``(loss(theta + h e_i) - loss(theta - h e_i)) / (2 h)`` of
    ``loss()`` with respect to every entry of ``arrays`` (a dict of float64 arrays that ``loss``
    reads, perturbed in place and restored); error O(h^2)."""
    grads = {}
    for name, a in arrays.items():
        g = np.empty_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + h
            up = loss()
            a[i] = old - h
            down = loss()
            a[i] = old
            g[i] = (up - down) / (2 * h)
        grads[name] = g
    return grads


# ---------------------------------------------------------------------------- VAE


def mlp(P: dict, net: str, inputs) -> np.ndarray:
    """The VAE's encoder or decoder: its affine layers ``h -> h W^T + b`` with tanh between them
    (none after the last), as in Burda et al. (2016).

    Parameters
    ----------
    P : dict
        Parameters from :func:`numpy_params`; layer ``i`` of ``net`` is ``P[f"{net}.{i}.weight"]``
        and ``P[f"{net}.{i}.bias"]``, applied in increasing ``i``.
    net : {"encoder", "decoder"}
    inputs : array_like, shape (..., n_in)
    """
    index = sorted(int(name.split(".")[1]) for name in P
                   if name.startswith(f"{net}.") and name.endswith(".weight"))
    out = np.asarray(inputs, dtype=np.float64)
    for n, i in enumerate(index):
        out = out @ P[f"{net}.{i}.weight"].T + P[f"{net}.{i}.bias"]
        out = np.tanh(out) if n < len(index) - 1 else out
    return out


def vae_encode(P: dict, x) -> tuple[np.ndarray, np.ndarray]:
    """Mean and log-variance of the diagonal-Gaussian ``q(z | x)``: the encoder's output split in
    halves (first half the mean)."""
    mean, log_var = np.split(mlp(P, "encoder", x), 2, axis=-1)
    return mean, log_var


def vae_log_joint(P: dict, x, z) -> np.ndarray:
    """``log p(x, z) = log N(z; 0, I) + log p(x | z)`` in nats (Kingma & Welling 2014); the energy
    is its negative.

    Bernoulli pixels with logits ``decoder(z)``, or, when ``P`` holds ``log_sigma``, Gaussian
    pixels ``N(x; decoder(z), diag(sigma^2))`` with ``sigma = exp(log_sigma)``. ``x`` (..., n_visible)
    and ``z`` (..., n_latent) broadcast over their leading axes.
    """
    out = mlp(P, "decoder", z)
    if "log_sigma" in P:
        log_lik = diag_normal_log_pdf(x, out, 2 * P["log_sigma"])
    else:
        log_lik = bernoulli_log_prob(x, out)
    return diag_normal_log_pdf(z, 0.0, 0.0) + log_lik


# ---------------------------------------------------------------------------- sigmoid belief net


def sbn_depth(P: dict) -> int:
    """The number ``L`` of latent layers of a Helmholtz machine's parameters."""
    return sum(name.startswith("gen_biases.") for name in P)


def sbn_gen_logits(P: dict, layer: int, above) -> np.ndarray:
    """Logits of ``p(h_layer | h_{layer+1})``: ``gen_biases[layer] + above @ gen_weights[layer]^T``
    (``h_0 = x``; Dayan et al. 1995)."""
    return P[f"gen_biases.{layer}"] + above @ P[f"gen_weights.{layer}"].T


def sbn_rec_logits(P: dict, layer: int, below) -> np.ndarray:
    """Logits of the factorised ``q(h_{layer+1} | h_layer)``: ``rec_biases[layer] + below @
    rec_weights[layer]``."""
    return P[f"rec_biases.{layer}"] + below @ P[f"rec_weights.{layer}"]


def _sbn_layers(P: dict, x, z) -> list[np.ndarray]:
    """``[x, h_1, ..., h_L]``, with ``x`` and ``z = (h_1, ..., h_L)`` broadcast over their leading axes."""
    x, z = np.asarray(x, dtype=np.float64), np.asarray(z, dtype=np.float64)
    lead = np.broadcast_shapes(x.shape[:-1], z.shape[:-1])
    sizes = [P[f"rec_biases.{i}"].size for i in range(sbn_depth(P))]
    z = np.broadcast_to(z, (*lead, z.shape[-1]))
    return [np.broadcast_to(x, (*lead, x.shape[-1])), *np.split(z, np.cumsum(sizes)[:-1], axis=-1)]


def sbn_log_joint(P: dict, x, z, grad: bool = False):
    """``log p(x, z)`` of the top-down sigmoid belief net, in nats (energy ``E = -log p``).

    ``p(h_L) = prod_j Bernoulli(sigmoid(prior_logits_j))`` and ``p(h_l | h_{l+1}) = prod_i
    Bernoulli(sigmoid(sbn_gen_logits(l, h_{l+1})_i))`` (Dayan, Hinton, Neal & Zemel, Neural
    Computation 1995), ``z`` the concatenation ``(h_1, ..., h_L)`` bottom to top.

    Parameters
    ----------
    P : dict
        Helmholtz-machine parameters from :func:`numpy_params`.
    x, z : array_like, shapes (..., n_visible) and (..., n_latent)
        Leading axes broadcast.
    grad : bool
        Also return the per-sample gradients of ``log p`` in every generative parameter: for a
        layer ``h ~ Bernoulli(sigmoid(a))`` with ``a = b + W u``, ``d log p / da = h - sigmoid(a)``,
        so ``d/db = h - sigmoid(a)`` and ``d/dW = (h - sigmoid(a)) u^T``.

    Returns
    -------
    log_p : ndarray, the broadcast leading shape
    grads : dict of ndarray, only with ``grad=True``; leading shape, then the parameter's shape.
    """
    h = _sbn_layers(P, x, z)
    log_p = bernoulli_log_prob(h[-1], P["prior_logits"])
    grads = {"prior_logits": h[-1] - expit(P["prior_logits"])} if grad else {}
    for i in range(sbn_depth(P)):
        a = sbn_gen_logits(P, i, h[i + 1])
        log_p = log_p + bernoulli_log_prob(h[i], a)
        if grad:
            d = h[i] - expit(a)
            grads[f"gen_biases.{i}"] = d
            grads[f"gen_weights.{i}"] = d[..., :, None] * h[i + 1][..., None, :]
    return (log_p, grads) if grad else log_p


def sbn_log_recognition(P: dict, x, z, grad: bool = False):
    """``log q(z | x) = sum_l log q(h_{l+1} | h_l)`` of the bottom-up factorised recognition net
    (``Bernoulli(sigmoid(sbn_rec_logits(l, h_l)))`` per layer), in nats.

    Same arguments and returns as :func:`sbn_log_joint`; with ``grad=True`` the gradients are in
    the recognition parameters, ``d/dc = h - sigmoid(a)`` and ``d/dR = u (h - sigmoid(a))^T``
    for ``a = c + u R``.
    """
    h = _sbn_layers(P, x, z)
    log_q, grads = 0.0, {}
    for i in range(sbn_depth(P)):
        a = sbn_rec_logits(P, i, h[i])
        log_q = log_q + bernoulli_log_prob(h[i + 1], a)
        if grad:
            d = h[i + 1] - expit(a)
            grads[f"rec_biases.{i}"] = d
            grads[f"rec_weights.{i}"] = h[i][..., :, None] * d[..., None, :]
    return (log_q, grads) if grad else log_q


def sbn_enumerate(P: dict, x, T: float = 1.0) -> SimpleNamespace:
    """Exact variational quantities of a Helmholtz machine by summing over every latent vector.

    With ``E(x, z) = -log p(x, z)`` and ``q = q(z | x)`` (Neal & Hinton 1998; Gibbs variational
    principle at temperature ``T``): ``F_T[q] = <E>_q - T H(q) >= -T log sum_z exp(-E / T)``,
    with gap ``T KL(q || p_T(z | x))``, ``p_T ∝ exp(-E / T)``; at ``T = 1`` the bound is
    ``-log p(x)``.

    Parameters
    ----------
    P : dict
        Helmholtz-machine parameters from :func:`numpy_params`.
    x : array_like, shape (batch, n_visible)
    T : float

    Returns
    -------
    SimpleNamespace
        Tables ``log_p``, ``log_q``, ``q``, ``posterior`` (``p_T(z | x)``) of shape ``(2^n_latent,
        batch)``, rows in :func:`configurations` ``lsb_first`` order; per example ``energy`` (<E>_q),
        ``entropy`` (H(q)), ``free_energy`` (F_T[q]), ``exact`` (``-T log sum_z exp(-E / T)``) and
        ``gap`` (``T KL(q || p_T)``).
    """
    n_latent = sum(P[f"rec_biases.{i}"].size for i in range(sbn_depth(P)))
    z = configurations(n_latent, lsb_first=True)[:, None, :]
    log_p, log_q = sbn_log_joint(P, x, z), sbn_log_recognition(P, x, z)
    q, log_z = np.exp(log_q), logsumexp(log_p / T, axis=0)
    return SimpleNamespace(
        log_p=log_p,
        log_q=log_q,
        q=q,
        energy=-(q * log_p).sum(0),
        entropy=-(q * log_q).sum(0),
        free_energy=(q * (T * log_q - log_p)).sum(0),
        exact=-T * log_z,
        posterior=np.exp(log_p / T - log_z),
        gap=T * (q * (log_q - log_p / T + log_z)).sum(0),
    )


# ---------------------------------------------------------------------------- RBM


def _inverse_variance(P: dict):
    """``1 / sigma^2`` of Gaussian visibles (``P`` holds ``log_sigma``); 1 for Bernoulli visibles."""
    return np.exp(-2.0 * P["log_sigma"]) if "log_sigma" in P else 1.0


def _hidden_input(P: dict, v) -> np.ndarray:
    """``b_j + sum_i W_ij v_i / sigma_i^2``."""
    return P["hidden_bias"] + (np.asarray(v, dtype=np.float64) * _inverse_variance(P)) @ P["weight"]


def rbm_energy(P: dict, v, h) -> np.ndarray:
    """``E(v, h)`` of a Bernoulli or (``P`` holds ``log_sigma``) Gaussian-Bernoulli RBM.

    Bernoulli: ``-a.v - b.h - v.W.h`` (Hinton 2010, "A Practical Guide to Training RBMs").
    Gaussian-Bernoulli: ``sum_i (v_i - a_i)^2 / (2 sigma_i^2) - b.h - (v / sigma^2).W.h`` (Cho,
    Ilin & Raiko, ICANN 2011). ``W`` is ``P["weight"]`` (n_visible, n_hidden), ``a`` / ``b`` the
    visible / hidden biases; batch shapes of ``v`` and ``h`` broadcast.
    """
    v, h = np.asarray(v, dtype=np.float64), np.asarray(h, dtype=np.float64)
    iv = _inverse_variance(P)
    linear_in_h = h @ P["hidden_bias"] + (((v * iv) @ P["weight"]) * h).sum(-1)
    if "log_sigma" in P:
        return ((v - P["visible_bias"]) ** 2 * iv / 2).sum(-1) - linear_in_h
    return -(v @ P["visible_bias"]) - linear_in_h


def rbm_free_energy(P: dict, v) -> np.ndarray:
    """``F(v) = -log sum_h exp(-E(v, h))``, the hiddens summed in closed form:
    ``-a.v - sum_j softplus(b_j + (v W)_j)`` (Bernoulli) or ``sum_i (v_i - a_i)^2 / (2 sigma_i^2)
    - sum_j softplus(b_j + ((v / sigma^2) W)_j)`` (Gaussian-Bernoulli, Cho et al. 2011)."""
    v = np.asarray(v, dtype=np.float64)
    hidden = np.logaddexp(0.0, _hidden_input(P, v)).sum(-1)
    if "log_sigma" in P:
        return ((v - P["visible_bias"]) ** 2 * _inverse_variance(P) / 2).sum(-1) - hidden
    return -(v @ P["visible_bias"]) - hidden


def rbm_hidden_free_energy(P: dict, h, beta: float = 1.0) -> np.ndarray:
    """``-log sum_v exp(-beta E(v, h))`` (an integral over real ``v`` for Gaussian visibles); at
    ``beta = 1`` the hidden free energy ``F(h)``.

    Bernoulli: ``-beta b.h - sum_i softplus(beta (a + W h)_i)``. Gaussian-Bernoulli (Gaussian
    integral): ``-beta b.h - sum_i [beta ((a_i + (W h)_i)^2 - a_i^2) / (2 sigma_i^2) + log(2 pi
    sigma_i^2 / beta) / 2]``.
    """
    h = np.asarray(h, dtype=np.float64)
    a = P["visible_bias"]
    m = a + h @ P["weight"].T
    if "log_sigma" in P:
        s2 = np.exp(2 * P["log_sigma"])
        visible = beta * ((m**2 - a**2) / (2 * s2)).sum(-1) + 0.5 * np.log(2 * math.pi * s2 / beta).sum()
    else:
        visible = np.logaddexp(0.0, beta * m).sum(-1)
    return -beta * (h @ P["hidden_bias"]) - visible


def rbm_log_z(P: dict, beta: float = 1.0) -> np.float64:
    """``log Z(beta) = log sum_h exp(-rbm_hidden_free_energy(h, beta))`` over every hidden vector,
    the visibles summed (or integrated) in closed form."""
    h = configurations(P["hidden_bias"].size)
    return logsumexp(-rbm_hidden_free_energy(P, h, beta))


def rbm_brute_log_z(P: dict) -> np.float64:
    """``log Z = log sum_{v, h} exp(-E(v, h))`` of a Bernoulli RBM by brute force over both layers
    (nothing summed in closed form)."""
    v, h = configurations(P["visible_bias"].size), configurations(P["hidden_bias"].size)
    return logsumexp(-rbm_energy(P, v[:, None, :], h[None, :, :]))


def rbm_brute_log_p(P: dict, v) -> np.ndarray:
    """``log p(v) = log sum_h exp(-E(v, h)) - log Z`` of rows ``v``, both sums by enumeration."""
    h = configurations(P["hidden_bias"].size)
    neg_e = -rbm_energy(P, np.asarray(v, dtype=float)[:, None, :], h[None])
    return logsumexp(neg_e, axis=1) - rbm_brute_log_z(P)


def rbm_hidden_probs(P: dict, v) -> np.ndarray:
    """``p(h_j = 1 | v) = sigmoid(b_j + sum_i W_ij v_i / sigma_i^2)``."""
    return expit(_hidden_input(P, v))


def rbm_visible_mean(P: dict, h) -> np.ndarray:
    """``E[v | h]``: ``sigmoid(a + W h)`` (Bernoulli) or ``a + W h`` (Gaussian, ``p(v | h) = N(a +
    W h, sigma^2)``)."""
    x = P["visible_bias"] + np.asarray(h, dtype=np.float64) @ P["weight"].T
    return x if "log_sigma" in P else expit(x)


def rbm_minus_free_energy_gradient(P: dict, v) -> dict:
    """Mean over the rows of ``v`` of ``-dF(v)/dtheta`` (:func:`rbm_free_energy`), in closed form,
    for ``weight``, ``visible_bias``, ``hidden_bias`` and (Gaussian) ``log_sigma``."""
    iv, ph = _inverse_variance(P), rbm_hidden_probs(P, v)
    grads = {"weight": (v * iv).T @ ph / len(v), "hidden_bias": ph.mean(0)}
    if "log_sigma" not in P:
        grads["visible_bias"] = v.mean(0)
        return grads
    grads["visible_bias"] = ((v - P["visible_bias"]) * iv).mean(0)
    grads["log_sigma"] = ((v - P["visible_bias"]) ** 2 * iv - 2 * v * iv * (ph @ P["weight"].T)).mean(0)
    return grads


def cd_update(P: dict, velocity: dict, v0: np.ndarray, chains, replay, *, k: int, lr: float,
              momentum: float, weight_decay: float, uniforms: bool):
    """One CD-k (``chains`` None) or PCD-k (``chains``: persistent hidden states) update.

    Hinton (2002): ascend ``<-dF/dtheta>_{v0} - <-dF/dtheta>_{vk}`` with ``vk`` after k block-Gibbs
    sweeps from the data and the last hidden layer summed out; Tieleman (2008): PCD continues
    the chains from their previous hidden states; Hinton (2010, secs. 9-10): ``u <- momentum u +
    lr (g - weight_decay W)``, ``theta <- theta + u``, the decay on ``W`` only.

    Parameters
    ----------
    P, velocity : dict
        Parameters and velocities; ``velocity`` holds the trained parameters.
    v0 : ndarray, the batch.
    chains : ndarray or None
    replay : tests/torch_helpers.Replay
        The trainer's random draws, fed with this reference's probabilities.
    uniforms : bool
        Bernoulli units drawn as ``u < p`` (the hand-written kernel), else ``torch.bernoulli``.

    Returns
    -------
    new_p, new_velocity : dict
    chains : ndarray or None
        The persistent hidden states after the update (PCD), else None.
    recon : float
        The summed squared reconstruction error ``|v0 - E[v | h0]|^2`` with ``h0 ~ p(h | v0)``.
    """
    draw_h = replay.uniform_bernoulli if uniforms else replay.torch_bernoulli

    def draw_v(h):
        if "log_sigma" in P:
            mean = rbm_visible_mean(P, h)
            return mean + replay.normal(mean.shape) * np.exp(P["log_sigma"])
        return draw_h(rbm_visible_mean(P, h))

    h = draw_h(rbm_hidden_probs(P, v0))
    recon = ((v0 - rbm_visible_mean(P, h)) ** 2).sum()
    h = h if chains is None else chains
    for sweep in range(k):
        v = draw_v(h)
        if sweep < k - 1 or chains is not None:  # CD's last hidden layer is summed out, not drawn
            h = draw_h(rbm_hidden_probs(P, v))
    positive, negative = rbm_minus_free_energy_gradient(P, v0), rbm_minus_free_energy_gradient(P, v)
    new_p, new_u = dict(P), {}
    for name, u in velocity.items():
        decay = weight_decay if name == "weight" else 0.0
        new_u[name] = momentum * u + lr * (positive[name] - negative[name] - decay * P[name])
        new_p[name] = P[name] + new_u[name]
    return new_p, new_u, None if chains is None else h, recon


def cd_train(P: dict, data: np.ndarray, trained, replay, *, epochs: int, method: str, batch_size: int,
             uniforms: bool, chains=None, **hyper) -> tuple[dict, np.ndarray | None]:
    """``epochs`` shuffled passes of :func:`cd_update` over ``data`` (``train_rbm``'s loop).

    PCD chains start at ``h ~ p(h | v)`` of ``batch_size`` random rows (replaced by ``chains`` when
    given: a continued run); each epoch draws a permutation and updates once per batch. ``trained``
    names the parameters that move; ``hyper`` holds ``k``, ``lr``, ``momentum``, ``weight_decay``.
    Returns the parameters and the chains.
    """
    u = {n: np.zeros_like(P[n]) for n in trained}
    if method == "pcd":
        rows = replay.randint(len(data), batch_size)
        fresh = replay.torch_bernoulli(rbm_hidden_probs(P, data[rows]))
        chains = fresh if chains is None else chains
    for _ in range(epochs):
        perm = replay.randperm(len(data))
        for start in range(0, len(data), batch_size):
            P, u, chains, _ = cd_update(P, u, data[perm[start:start + batch_size]], chains, replay,
                                        uniforms=uniforms, **hyper)
    return P, chains
