"""``freeenergy helmholtz train``, ``freeenergy vae train`` and ``freeenergy free-energy``.

Latent-variable models on the command line: train a Helmholtz machine (wake-sleep or
reweighted wake-sleep) or a VAE (ELBO or IWAE), and report the Helmholtz free energy ``F[q] =
<E>_q - H(q)`` of a saved model with its parts, in nats and bits per example. Registered on the
main parser by :func:`register`; errors are raised as
:class:`freeenergy.cli.CLIError` (one line, exit status 2).

Data (``--data``): ``digits``, ``mnist`` or a ``.npy`` file of rows in [0, 1]. Grey images are
binarised **stochastically** by default, as by every command: each pixel drawn once from
Bernoulli(grey), seeded by ``--seed``; ``--binarize threshold`` sets pixel > 0.5 to 1,
``--binarize dynamic`` (training only) draws every mini-batch afresh and the test rows once
(seeded), ``--binarize none`` keeps grey values (VAE only: a Helmholtz machine needs 0/1 data).
"""

from __future__ import annotations

import math
import sys

import numpy as np

from freeenergy.cli._common import (
    DATA_HELP,
    FORMATTER,
    CLIError,
    binarize_arg,
    binarize_args,
    command_group,
    load_images,
    print_table,
)

_LOG2 = math.log(2.0)
_BINARIZE_HELP = "how grey images become 0/1: one seeded Bernoulli draw per pixel, or pixel > 0.5"
_TRAIN_BINARIZE_HELP = _BINARIZE_HELP + (
    "; dynamic: a fresh draw for every training mini-batch, the test rows drawn once"
)
_DATA_NOTE = (
    "Grey images (digits, MNIST) are binarised stochastically by default (each pixel drawn once "
    "from Bernoulli(grey value), seeded); --binarize threshold sets pixel > 0.5 to 1, --binarize dynamic "
    "draws every training mini-batch afresh (the MNIST protocol of Burda et al. 2016)."
)


def _sizes(text: str, name: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise CLIError(f"--{name} {text!r}: expected comma-separated integers, e.g. 200,200") from None
    if not sizes or any(s < 1 for s in sizes):
        raise CLIError(f"--{name} {text!r}: every size must be >= 1")
    return sizes


def _check_training_args(args) -> None:
    for name in ("epochs", "batch_size", "k"):
        value = getattr(args, name)
        if value < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be >= 1; got {value}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise CLIError(f"--lr must be a finite number > 0; got {args.lr}")
    if args.iw_k < 0:
        raise CLIError(f"--iw-k must be >= 0; got {args.iw_k}")


def _binary(rows: np.ndarray, spec: str) -> None:
    if not np.all((rows == 0) | (rows == 1)):
        raise CLIError(
            f"--data {spec}: a Helmholtz machine needs 0/1 data; use --binarize threshold or "
            "stochastic (or dynamic, when training), or a binary .npy file"
        )


# Columns of the per-epoch table: (history attribute, heading)
_HISTORY_COLUMNS = (
    ("epoch", "epoch"),
    ("objective", "objective"),
    ("train_free_energy", "F_train"),
    ("test_free_energy", "F_test"),
    ("test_energy", "E_test"),
    ("test_entropy", "H_test"),
    ("test_neg_log_likelihood", "nll_test"),
    ("test_gap", "gap_test"),
    ("test_iw_bound", "iw_bound_test"),
)


def _report_history(history, args) -> None:
    from freeenergy._io import dumps

    if args.json:
        print(dumps({"data": args.data, "out": args.out, "history": history.as_dict()}))
        return
    columns = {}
    for attr, heading in _HISTORY_COLUMNS:
        values = np.asarray(getattr(history, attr), dtype=float)
        if attr == "epoch" or np.isfinite(values).any():
            columns[heading] = values
    print_table(columns)


def _training_images(args):
    """The images to train on; with ``--binarize dynamic`` grey training rows and test rows
    drawn once from Bernoulli(grey) with ``--seed``."""
    if args.binarize != "dynamic":
        return load_images(args.data, binarize_arg(args.binarize), args.seed)
    from freeenergy.data._dataset import binarized

    images = load_images(args.data, None, args.seed)
    images.test = binarized(images.test, "stochastic", 0.5, np.random.default_rng(args.seed))
    return images


def _train(args, model, train_fn, binary: bool, **method_args) -> int:
    images = args.images
    dynamic = args.binarize == "dynamic"
    if binary:
        if not dynamic:
            _binary(images.train, args.data)
        _binary(images.test, args.data)
    history = train_fn(
        model,
        images.train,
        test_data=images.test,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        iw_k=args.iw_k,
        checkpoint=args.checkpoint,
        resume=args.resume,
        progress=not args.no_progress,
        dynamic_binarization=dynamic,
        **method_args,
    )
    model.save(args.out)
    print(f"model written to {args.out}", file=sys.stderr)
    _report_history(history, args)
    return 0


def _cmd_helmholtz_train(args) -> int:
    from freeenergy.learn import train_helmholtz
    from freeenergy.models import HelmholtzMachine

    _check_training_args(args)
    layers = _sizes(args.layers, "layers")
    args.images = _training_images(args)
    model = HelmholtzMachine((args.images.train.shape[1], *layers), seed=args.seed)
    return _train(args, model, train_helmholtz, True, method=args.method, k=args.k)


def _cmd_vae_train(args) -> int:
    from freeenergy.learn import train_vae
    from freeenergy.models import VAE

    _check_training_args(args)
    if args.latent < 1:
        raise CLIError(f"--latent must be >= 1; got {args.latent}")
    hidden = () if args.hidden.strip() in ("", "none") else _sizes(args.hidden, "hidden")
    args.images = _training_images(args)
    model = VAE(args.images.train.shape[1], args.latent, hidden=hidden, seed=args.seed)
    return _train(args, model, train_vae, False, objective=args.objective, k=args.k)


def free_energy_rows(res) -> dict[str, tuple[float, float] | None]:
    """``{name: (nats, bits)}`` of the mean energy, entropy, free energy, exact free energy and
    gap of a :class:`~freeenergy.estimate.variational.HelmholtzFreeEnergy` (``None`` where unknown)."""
    means = {
        "energy": res.mean_energy,
        "entropy": res.mean_entropy,
        "free_energy": res.mean_free_energy,
        "exact_neg_log_likelihood": res.mean_exact_free_energy,
        "gap": res.mean_gap,
    }
    return {k: None if v is None else (v, v / _LOG2) for k, v in means.items()}


_LABELS = {
    "energy": "energy <E>_q",
    "entropy": "entropy H(q)",
    "free_energy": "free energy F[q]",
    "exact_neg_log_likelihood": "exact -log p(x)",
    "gap": "gap KL(q||p(z|x))",
}


def _cmd_free_energy(args) -> int:
    from freeenergy._io import dumps
    from freeenergy.estimate.variational import helmholtz_free_energy
    from freeenergy.models import load_model

    if args.samples < 1:
        raise CLIError(f"--samples must be >= 1; got {args.samples}")
    try:
        model = load_model(args.model)
    except FileNotFoundError:
        raise CLIError(f"{args.model}: no such model file") from None
    if not hasattr(model, "recognition_sample"):
        raise CLIError(
            f"{args.model}: a {type(model).__name__} has no recognition model q(z|x); "
            "free-energy needs a Helmholtz machine or a VAE"
        )
    enumerable = model.latent_configurations() is not None
    if args.exact and not enumerable:
        kind = "continuous latents" if type(model).__name__ == "VAE" else f"{model.n_latent} latents"
        raise CLIError(
            f"--exact needs binary latents that can be enumerated (at most 20); this "
            f"{type(model).__name__} has {kind}: drop --exact for Monte Carlo estimates"
        )
    images = load_images(args.data, binarize_arg(args.binarize), args.seed)
    rows = images.test if args.split == "test" else images.train
    if args.examples is not None:
        if args.examples < 1:
            raise CLIError(f"--examples must be >= 1; got {args.examples}")
        rows = rows[: args.examples]
    if rows.shape[1] != model.n_visible:
        raise CLIError(
            f"--data {args.data}: rows have {rows.shape[1]} values but the model has "
            f"{model.n_visible} visible units"
        )
    if type(model).__name__ == "HelmholtzMachine":
        _binary(rows, args.data)
    res = helmholtz_free_energy(
        model, rows, n_samples=args.samples, method="exact" if args.exact else "auto", seed=args.seed
    )
    table = free_energy_rows(res)
    meta = {
        "model": args.model,
        "class": type(model).__name__,
        "data": args.data,
        "split": args.split,
        "n": int(rows.shape[0]),
        "n_samples": res.n_samples,
        "seed": args.seed,
        "energy_method": res.energy_method,
        "entropy_method": res.entropy_method,
        "free_energy_stderr": res.mean_free_energy_stderr,
    }
    if args.json:
        print(
            dumps(
                {
                    **meta,
                    "nats": {k: None if v is None else v[0] for k, v in table.items()},
                    "bits": {k: None if v is None else v[1] for k, v in table.items()},
                }
            )
        )
        return 0
    print(
        f"# {meta['class']} on {meta['n']} {args.split} examples of {args.data}: <E> {res.energy_method}, "
        f"H {res.entropy_method}" + (f", {res.n_samples} samples per example" if res.n_samples else "")
    )
    print(f"{'quantity':<20}  {'nats/example':>14}  {'bits/example':>14}")
    for key, value in table.items():
        if value is not None:
            print(f"{_LABELS[key]:<20}  {value[0]:>14.8g}  {value[1]:>14.8g}")
    if not enumerable:
        print(
            "# exact -log p(x) and the gap need enumerable binary latents (at most 20); "
            "F[q] is an upper bound on -log p(x)",
            file=sys.stderr,
        )
    return 0


def _training_args(p, batch_size: int, lr: float) -> None:
    p.add_argument("--data", default="digits", help=DATA_HELP)
    binarize_args(p, ["stochastic", "threshold", "dynamic", "none"], _TRAIN_BINARIZE_HELP)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=batch_size, help=f"(default {batch_size})")
    p.add_argument("--lr", type=float, default=lr, help=f"Adam learning rate (default {lr:g})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--iw-k",
        type=int,
        default=0,
        metavar="K",
        help="also monitor the K-sample importance-weighted bound each epoch (default 0: off)",
    )
    p.add_argument("--checkpoint", metavar="FILE", help="write a resumable checkpoint every epoch")
    p.add_argument("--resume", metavar="FILE", help="continue the run saved in this checkpoint")
    p.add_argument("--out", required=True, metavar="MODEL.pt", help="where to save the trained model")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="print the history as JSON")


def register(sub) -> None:
    """Add ``helmholtz train``, ``vae train`` and ``free-energy`` to the main parser's subcommands."""
    cmds = command_group(
        sub,
        "helmholtz",
        help="train Helmholtz machines by wake-sleep or reweighted wake-sleep",
        description="Helmholtz machines: sigmoid belief nets with a bottom-up recognition net.",
        epilog="example:\n  freeenergy helmholtz train --data digits --layers 10 --method "
        "reweighted-wake-sleep --epochs 20 --out hm.pt",
    )
    p = cmds.add_parser(
        "train",
        help="train a Helmholtz machine and save it",
        formatter_class=FORMATTER,
        description="Train a Helmholtz machine on binary data (Adam) and save it; prints per-epoch "
        "F[q] = <E>_q - H(q) on the training and test data, its parts and, when the latents can be "
        "enumerated (at most 20 in all), the exact -log p(x) and the gap KL(q || p(z|x)), in nats "
        "per example. " + _DATA_NOTE,
        epilog="example:\n  freeenergy helmholtz train --data digits --layers 10 --epochs 20 --out hm.pt",
    )
    p.add_argument(
        "--layers",
        default="10",
        metavar="N1,N2,...",
        help="latent layer sizes above the visible layer, bottom to top (default 10: 2^10 latent "
        "states, so exact -log p(x) and the gap are reported; at most 20 latents in all for that)",
    )
    p.add_argument("--method", choices=["wake-sleep", "reweighted-wake-sleep"], default="wake-sleep")
    p.add_argument(
        "--k", type=int, default=5, help="samples per example for reweighted wake-sleep (default 5)"
    )
    _training_args(p, batch_size=20, lr=0.01)
    p.set_defaults(run=_cmd_helmholtz_train)

    cmds = command_group(
        sub,
        "vae",
        help="train variational autoencoders on the ELBO or the IWAE bound",
        description="Variational autoencoders with Gaussian latents and Bernoulli pixels.",
        epilog="example:\n  freeenergy vae train --data digits --latent 8 --hidden 64 --epochs 30 "
        "--out vae.pt",
    )
    p = cmds.add_parser(
        "train",
        help="train a VAE and save it",
        formatter_class=FORMATTER,
        description="Train a VAE (Adam, reparameterised gradients) and save it; prints per-epoch "
        "F[q] (the negative ELBO, Monte Carlo energy, analytic entropy) on the training and test "
        "data, in nats per example. " + _DATA_NOTE,
        epilog="example:\n  freeenergy vae train --data mnist --latent 50 --objective iwae --k 5 "
        "--out iwae.pt",
    )
    p.add_argument("--latent", type=int, default=50, help="latent dimensions (default 50)")
    p.add_argument(
        "--hidden",
        default="200,200",
        metavar="H1,H2,...",
        help="encoder hidden widths; the decoder mirrors them (default 200,200; 'none': linear)",
    )
    p.add_argument("--objective", choices=["elbo", "iwae"], default="elbo")
    p.add_argument("--k", type=int, default=1, help="samples per example in the objective (default 1)")
    _training_args(p, batch_size=100, lr=1e-3)
    p.set_defaults(run=_cmd_vae_train)

    p = sub.add_parser(
        "free-energy",
        help="Helmholtz free energy F[q] = <E>_q - H(q) of a saved latent-variable model",
        formatter_class=FORMATTER,
        description="The variational free energy F[q] = <E>_q - H(q) >= -log p(x) of a saved "
        "Helmholtz machine or VAE on a data split, with E = -log p(x, z): the energy <E>_q, the "
        "entropy H(q) and F[q] (the negative ELBO), and, when the binary latents can be enumerated "
        "(at most 20), the exact -log p(x) and the gap F[q] + log p(x) = KL(q || p(z|x)); means per "
        "example in nats and in bits (F[q] in bits is the code length of bits-back coding). "
        "Enumerable models are summed exactly; otherwise <E>_q is a Monte Carlo mean over --samples "
        "draws from q (the entropy analytic where q is factorised). Data are binarised stochastically "
        "by default (seeded by --seed).",
        epilog="examples:\n  freeenergy free-energy hm.pt --data digits --exact\n"
        "  freeenergy free-energy vae.pt --data digits --samples 1000 --json",
    )
    p.add_argument("model", help="a model saved by `freeenergy helmholtz train`, `vae train` or model.save()")
    p.add_argument("--data", default="digits", help=DATA_HELP)
    binarize_args(p, ["stochastic", "threshold", "none"], _BINARIZE_HELP)
    p.add_argument("--split", choices=["test", "train"], default="test")
    p.add_argument("--examples", type=int, metavar="N", help="use the first N examples of the split")
    p.add_argument(
        "--samples", type=int, default=100, help="Monte Carlo draws from q per example (default 100)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (and of stochastic binarisation)")
    p.add_argument(
        "--exact",
        action="store_true",
        help="insist on exact sums over the latents (an error for a VAE or too many latents)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_cmd_free_energy)
