"""Chapter: Helmholtz free energy and the bits-back argument (digits; wake-sleep, RWS, a VAE)."""

from __future__ import annotations

import math

import numpy as np

from freeenergy.data import load_digits
from freeenergy.estimate.variational import helmholtz_free_energy, importance_sampled_log_likelihood
from freeenergy.learn import train_helmholtz, train_vae
from freeenergy.models import VAE, HelmholtzMachine
from freeenergy.report import plots
from freeenergy.report.chapters.base import Section, TourContext

_SEED = 2026
_LAYERS = (64, 8)  # 2^8 latent configurations: every monitored term is an exact sum
_VAE_LATENT, _VAE_HIDDEN = 8, (64,)
_IW_K = 500
_LOG2 = math.log(2.0)
# (label, method, k)
_RUNS = (("wake-sleep", "wake-sleep", 1), ("reweighted wake-sleep (k=5)", "reweighted-wake-sleep", 5))


def _row(res) -> dict:
    """Means over the test images of <E>, H, F and, where known, exact -log p(x) and the gap."""
    nats = {
        "energy": res.mean_energy,
        "entropy": res.mean_entropy,
        "free_energy": res.mean_free_energy,
        "exact_neg_log_likelihood": res.mean_exact_free_energy,
        "gap": res.mean_gap,
    }
    return {
        "nats": nats,
        "bits": {k: None if v is None else v / _LOG2 for k, v in nats.items()},
        "energy_method": res.energy_method,
        "entropy_method": res.entropy_method,
        "min_gap": None if res.gap is None else float(res.gap.min()),
        "max_abs_F_minus_E_plus_H": float(np.max(np.abs(res.free_energy - (res.energy - res.entropy)))),
    }


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def chapter(ctx: TourContext) -> Section:
    """Train two Helmholtz machines and a VAE on digits; decompose and bound their free energies."""
    digits = load_digits(binarize="threshold")
    hm_epochs = 4 if ctx.quick else 20
    vae_epochs = 10 if ctx.quick else 40
    models, histories, rows = {}, {}, {}

    with ctx.steps("Helmholtz free energy", total=len(_RUNS) + 2) as advance:
        for label, method, k in _RUNS:
            advance(f"train {label}")
            hm = HelmholtzMachine(_LAYERS, seed=_SEED)
            histories[label] = train_helmholtz(
                hm, digits, method=method, k=k, epochs=hm_epochs, batch_size=20, lr=0.01, seed=_SEED, iw_k=0
            )
            models[label] = hm
            rows[label] = _row(helmholtz_free_energy(hm, digits.test))
        advance("train the VAE")
        vae = VAE(_LAYERS[0], _VAE_LATENT, hidden=_VAE_HIDDEN, seed=_SEED)
        vae_history = train_vae(vae, digits, epochs=vae_epochs, batch_size=20, lr=3e-3, seed=_SEED, iw_k=0)
        vae_res = helmholtz_free_energy(vae, digits.test, n_samples=100, seed=_SEED)
        vae_row = _row(vae_res)
        iw = importance_sampled_log_likelihood(vae, digits.test, k=_IW_K, seed=_SEED)
        vae_row["iwae_neg_log_likelihood"] = {
            "nats": -iw.mean,
            "bits": -iw.bits,
            "k": _IW_K,
            "stderr": iw.stderr,
        }
        vae_row["free_energy_stderr"] = vae_res.mean_free_energy_stderr
        vae_label = f"VAE ({_VAE_LATENT} Gaussian latents)"
        rows[vae_label] = vae_row

        advance("figures")
        figures = []
        epochs_axis = next(iter(histories.values())).epoch
        figures.append(
            ctx.figure(
                "helmholtz_gap.png",
                "The gap F[q] + log p(x) = KL(q || p(z|x)) on the test digits, epoch by epoch, of two "
                f"Helmholtz machines with {_LAYERS[1]} binary latents (exact sums over 2^{_LAYERS[1]} "
                "configurations). Wake-sleep's sleep phase minimises KL(p || q), not the gap.",
                lambda p: plots.plot_curves(
                    epochs_axis,
                    {k: h.test_gap for k, h in histories.items()},
                    p,
                    xlabel="epoch",
                    ylabel="KL(q || p(z|x)), nats per image",
                    title="the free-energy gap while training",
                ),
            )
        )
        figures.append(
            ctx.figure(
                "helmholtz_free_energy.png",
                "F[q] = <E>_q - H(q) (solid) above the exact -log p(x) (dashed) on the test digits, "
                "epoch by epoch, for both training methods; epoch 0 is the initial model.",
                lambda p: plots.plot_curves(
                    epochs_axis,
                    {
                        **{f"F[q], {k}": h.test_free_energy for k, h in histories.items()},
                        **{
                            f"--exact -log p(x), {k}": h.test_neg_log_likelihood for k, h in histories.items()
                        },
                    },
                    p,
                    xlabel="epoch",
                    ylabel="nats per image",
                    title="variational and exact free energy",
                ),
            )
        )

    table = []
    for label, row in rows.items():
        n, b = row["nats"], row["bits"]
        exact = (
            f"{_fmt(n['exact_neg_log_likelihood'])} | {_fmt(n['gap'])}"
            if n["gap"] is not None
            else f"IWAE k={_IW_K}: {row['iwae_neg_log_likelihood']['nats']:.3f} | "
            f"{n['free_energy'] - row['iwae_neg_log_likelihood']['nats']:.3f} (upper bound on the gap)"
        )
        table.append(
            (
                f"{label}: <E> | H | F[q] (nats per test image)",
                f"{n['energy']:.3f} | {n['entropy']:.3f} | {n['free_energy']:.3f}",
            )
        )
        table.append((f"{label}: -log p(x) | gap (nats)", exact))
        table.append(
            (
                f"{label}: F[q] in bits per image = bits-back code length",
                f"{b['free_energy']:.2f} bits (raw: {_LAYERS[0]} bits)",
            )
        )

    numbers = {
        "data": "digits, threshold-binarised, 360 test images",
        "helmholtz_layers": list(_LAYERS),
        "helmholtz_epochs": hm_epochs,
        "vae_latent": _VAE_LATENT,
        "vae_hidden": list(_VAE_HIDDEN),
        "vae_epochs": vae_epochs,
        "iwae_k": _IW_K,
        "models": rows,
        "histories": {
            label: {
                "epoch": h.epoch.tolist(),
                "test_free_energy": h.test_free_energy.tolist(),
                "test_neg_log_likelihood": h.test_neg_log_likelihood.tolist(),
                "test_gap": h.test_gap.tolist(),
            }
            for label, h in histories.items()
        },
        "vae_history_test_free_energy": vae_history.test_free_energy.tolist(),
    }
    rws = rows[_RUNS[1][0]]["bits"]["free_energy"]
    paragraphs = [
        "A latent-variable model p(x, z) assigns every explanation z of an image x an energy "
        "E(x, z) = -log p(x, z). For any recognition distribution q(z|x) the Helmholtz free energy "
        "F[q] = <E>_q - T H(q) (T = 1) is at least the true free energy F = -log sum_z exp(-E) = "
        "-log p(x), and F[q] - F = KL(q || p(z|x)) >= 0: the variational principle of statistical "
        "mechanics, and the negative ELBO of machine learning. Equality holds when q is the "
        "posterior, the Boltzmann distribution of the energies E(x, .).",
        f"A Helmholtz machine with {_LAYERS[1]} binary latents has 2^{_LAYERS[1]} explanations per "
        "image, so <E>_q, H(q), -log p(x) and the gap are exact sums. Wake-sleep fits the "
        "recognition net in its sleep phase by minimising KL(p || q) on dreams, the wrong direction "
        "for the free energy; reweighted wake-sleep importance-weights k = 5 samples of q and "
        "follows the gradient of log p(x) more closely. The VAE's latents are continuous, so its "
        f"exact -log p(x) is replaced by the k = {_IW_K} importance-weighted estimate (a lower "
        "bound on log p(x), so F[q] minus it bounds the gap from above).",
        "Bits-back coding (Hinton & van Camp 1993; Frey & Hinton 1997) reads F[q] as a code "
        "length. The sender picks z ~ q(z|x) using bits borrowed from the receiver's stream, sends z "
        "with -log2 p(z) bits and x given z with -log2 p(x|z) bits, for <E>_q / log 2 bits in all; "
        "the receiver decodes x, recomputes q(z|x) and recovers the H(q) / log 2 borrowed bits. The "
        f"net cost is F[q] / log 2 bits per image: {rws:.2f} bits for the reweighted-wake-sleep "
        f"machine against {_LAYERS[0]} bits raw, and the gap in bits is exactly what coding with q "
        "instead of the true posterior wastes. The next chapter builds such a coder.",
    ]
    return Section(
        slug="helmholtz_bits_back",
        title="Helmholtz free energy and the bits-back argument",
        paragraphs=paragraphs,
        figures=figures,
        table=table,
        numbers=numbers,
    )
