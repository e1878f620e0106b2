"""Chapter: an RBM's free energy (digits; CD-1 and PCD; exact log Z vs AIS vs reverse AIS)."""

from __future__ import annotations

import numpy as np
import torch

from freeenergy.data import load_digits
from freeenergy.estimate.ais import ais, base_rate_logits, default_betas, reverse_ais
from freeenergy.estimate.exact import exact_log_partition
from freeenergy.estimate.likelihood import log_likelihood, raise_log_likelihood
from freeenergy.learn import train_rbm
from freeenergy.models import BernoulliRBM
from freeenergy.report import plots
from freeenergy.report.chapters.base import Section, TourContext

_HIDDEN = 16
_SEED = 2026
# (label, method, learning rate, momentum): settings that learn digits in a few epochs
_RUNS = (("CD-1", "cd", 0.1, 0.9), ("PCD", "pcd", 0.05, 0.5))


def _ground_energy(model: BernoulliRBM) -> float:
    """min_{v,h} E(v, h), exactly: for each h the best v sets v_i = 1 iff a_i + (W h)_i > 0."""
    with torch.no_grad():
        n = model.n_hidden
        codes = torch.arange(2**n, dtype=torch.int64)
        h = ((codes[:, None] >> torch.arange(n)) & 1).to(model.dtype)
        drive = model.visible_bias + h @ model.weight.T
        energy = -(h @ model.hidden_bias) - torch.relu(drive).sum(1)
        return float(energy.min())


def _free_energy_curve(model: BernoulliRBM, temps: np.ndarray) -> np.ndarray:
    """F(T) = -T log Z(1/T) by exact enumeration of the model at each inverse temperature."""
    return np.array([-t * exact_log_partition(model.at_beta(1.0 / t)).log_z for t in temps])


def chapter(ctx: TourContext) -> Section:
    """Train 16-hidden RBMs on digits and check every log Z estimator against the exact one."""
    digits = load_digits(binarize="threshold")
    epochs = 8 if ctx.quick else 30
    n_betas = 2000 if ctx.quick else 14_500
    temps = np.geomspace(0.05, 5.0, 25 if ctx.quick else 60)
    models, histories, rows, table = {}, {}, {}, []

    with ctx.steps("RBM on digits", total=2 * len(_RUNS) + 1) as advance:
        for label, method, lr, momentum in _RUNS:
            advance(f"train {label}")
            model = BernoulliRBM(digits.train.shape[1], _HIDDEN, seed=_SEED)
            with torch.no_grad():
                model.visible_bias.copy_(base_rate_logits(digits.train, model))
            histories[label] = train_rbm(
                model,
                digits,
                method=method,
                k=1,
                epochs=epochs,
                batch_size=20,
                lr=lr,
                momentum=momentum,
                seed=_SEED,
            )
            models[label] = model
            advance(f"log Z of {label}")
            exact = exact_log_partition(model)
            forward = ais(model, n_chains=100, betas=default_betas(n_betas), data=digits.train, seed=_SEED)
            reverse = reverse_ais(model, digits.test, n_chains=100, betas=default_betas(n_betas), seed=_SEED)
            test = log_likelihood(model, digits.test, exact)
            forward_ll = log_likelihood(model, digits.test, forward)
            raise_ll = raise_log_likelihood(
                model, digits.test, betas=default_betas(n_betas), base_data=digits.train, seed=_SEED
            )
            rows[label] = {
                "exact_log_z": exact.log_z,
                "ais_log_z": forward.log_z,
                "ais_stderr": forward.stderr,
                "ais_z_score": (forward.log_z - exact.log_z) / forward.stderr,
                "reverse_ais_log_z": reverse.log_z,
                "reverse_ais_stderr": reverse.stderr,
                "test_log_likelihood": test.mean,
                "test_log_likelihood_stderr": test.stderr,
                "test_log_likelihood_forward_ais": forward_ll.mean,
                "test_log_likelihood_raise": raise_ll.mean,
                "train_log_likelihood": float(histories[label].train_log_likelihood[-1]),
                "beta_eff": float(histories[label].beta_eff[-1]),
                "ground_state_energy": _ground_energy(model),
            }
            table += [
                (
                    f"{label}: exact log Z | AIS | reverse AIS",
                    f"{exact.log_z:.4f} | {forward.log_z:.4f} ± {forward.stderr:.4f} | "
                    f"{reverse.log_z:.4f} ± {reverse.stderr:.4f}",
                ),
                (
                    f"{label}: test log-likelihood, exact | forward AIS | RAISE (nats per image)",
                    f"{test.mean:.3f} ± {test.stderr:.3f} | {forward_ll.mean:.3f} | {raise_ll.mean:.3f}",
                ),
            ]
        advance("free energy across temperatures, figures")
        cd = models[_RUNS[0][0]]
        f_curve = _free_energy_curve(cd, temps)
        e0 = rows[_RUNS[0][0]]["ground_state_energy"]
        samples = cd.sample(64, steps=1000, seed=_SEED).numpy()
        epochs_axis = histories[_RUNS[0][0]].epoch
        figures = [
            ctx.figure(
                "rbm_training.png",
                f"Exact train (solid) and test (dashed) log-likelihood per image of {_HIDDEN}-hidden RBMs "
                "on the 8x8 digits, epoch by epoch: with 16 hidden units log Z is a sum of 2^16 terms.",
                lambda p: plots.plot_curves(
                    epochs_axis,
                    {
                        **{f"{k} train": h.train_log_likelihood for k, h in histories.items()},
                        **{f"--{k} test": h.test_log_likelihood for k, h in histories.items()},
                    },
                    p,
                    xlabel="epoch",
                    ylabel="mean log p(v), nats",
                    title="exact log-likelihood while training",
                ),
            ),
            ctx.figure(
                "rbm_beta_eff.png",
                "The weights' spectral norm ||W||_2, an effective inverse temperature: at T = 1 the "
                "energy scale lives in W, so learning cools the model.",
                lambda p: plots.plot_curves(
                    epochs_axis,
                    {k: h.beta_eff for k, h in histories.items()},
                    p,
                    xlabel="epoch",
                    ylabel="||W||_2",
                    title="effective inverse temperature",
                ),
            ),
            ctx.figure(
                "rbm_free_energy_vs_T.png",
                "F(T) = -T log Z of the CD-1 model with its energies divided by T (exact at every T), "
                "and its ground-state energy E_0 = min E(v, h) (dashed): F -> E_0 as T -> 0.",
                lambda p: plots.plot_curves(
                    temps,
                    {"F(T), exact": f_curve, "--E_0": np.full_like(temps, e0)},
                    p,
                    xlabel="temperature T",
                    ylabel="free energy",
                    markers={"T = 1 (trained)": 1.0},
                    title="the trained RBM across temperatures",
                ),
            ),
            ctx.figure(
                "rbm_samples.png",
                "64 samples of the CD-1 model, each after 1000 block-Gibbs sweeps from noise.",
                lambda p: plots.plot_image_grid(samples, digits.shape, p, title="samples (CD-1)"),
            ),
        ]

    numbers = {
        "hidden": _HIDDEN,
        "epochs": epochs,
        "ais_betas": n_betas,
        "ais_chains": 100,
        "models": rows,
        "free_energy_at_T_min": float(f_curve[0]),
        "T_min": float(temps[0]),
    }
    paragraphs = [
        "A restricted Boltzmann machine has energy E(v, h) = -a.v - b.h - v.W.h; summing out the "
        "hidden units gives the free energy F(v) = -a.v - sum_j log(1 + exp(b_j + (v W)_j)) and "
        "p(v) = exp(-F(v)) / Z. Training by contrastive divergence (CD-1) or persistent CD lowers "
        "F on the data; the log-likelihood needs log Z too.",
        "With 16 hidden units log Z is an exact sum over 2^16 hidden states, so every estimator can "
        "be checked: annealed importance sampling (Salakhutdinov & Murray's schedule, base rates "
        "from the data) should land within a few standard errors, and reverse AIS started from "
        "test images (RAISE: one chain per image) gives the other side of the bracket, a lower bound "
        "for the annealing model that becomes one for the RBM once the chains mix.",
        "Seen as a physical system at temperature T, the trained model's free energy falls to its "
        "ground-state energy as T -> 0, like any spectrum's.",
    ]
    return Section(
        slug="rbm_free_energy",
        title="An RBM's free energy",
        paragraphs=paragraphs,
        figures=figures,
        table=table,
        numbers=numbers,
    )
