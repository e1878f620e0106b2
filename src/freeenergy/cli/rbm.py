"""``freeenergy rbm``: train, estimate log Z, sample and evaluate Bernoulli RBMs.

Registered on the main parser by :func:`register`; errors are raised as
:class:`freeenergy.cli.CLIError` (one line, exit status 2).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

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
    write_plot,
)


def _load_rbm(path: str):
    from freeenergy.models import load_model
    from freeenergy.models.rbm import RBM

    try:
        model = load_model(path)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such model file") from None
    if not isinstance(model, RBM):
        raise CLIError(f"{path}: holds a {type(model).__name__}, not an RBM")
    return model


def _log_z(model, args, data: np.ndarray | None):
    from freeenergy.estimate.ais import ais, default_betas
    from freeenergy.estimate.exact import exact_log_partition

    if args.method == "exact":
        return exact_log_partition(model, progress=not args.no_progress)
    betas = None if args.betas is None else default_betas(args.betas)
    base = "data" if data is not None else "uniform"
    return ais(
        model,
        n_chains=args.chains,
        betas=betas,
        base=base,
        data=data,
        seed=args.seed,
        progress=not args.no_progress,
    )


def _cmd_train(args) -> int:
    import torch

    from freeenergy._io import dumps
    from freeenergy.estimate import base_rate_logits
    from freeenergy.learn import train_rbm
    from freeenergy.models import BernoulliRBM

    if args.hidden < 1:
        raise CLIError(f"--hidden must be >= 1; got {args.hidden}")
    images = load_images(args.data, binarize_arg(args.binarize), args.seed)
    dtype = torch.float32 if args.float32 else torch.float64
    model = BernoulliRBM(images.train.shape[1], args.hidden, seed=args.seed, dtype=dtype)
    if args.resume is None:  # start from the independent model of the data (Hinton's practical guide)
        with torch.no_grad():
            model.visible_bias.copy_(base_rate_logits(images.train, model))
    history = train_rbm(
        model,
        images.train,
        method=args.method,
        k=args.k,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        seed=args.seed,
        test_data=images.test,
        checkpoint=args.checkpoint,
        resume=args.resume,
        progress=not args.no_progress,
    )
    model.save(args.out)
    print(f"model written to {args.out}", file=sys.stderr)
    if args.json:
        print(dumps({"data": args.data, "out": args.out, "history": history.as_dict()}))
        return 0
    columns = {
        "epoch": history.epoch,
        "F_train": history.train_free_energy,
        "F_test": history.test_free_energy,
        "recon_err": history.reconstruction_error,
        "beta_eff": history.beta_eff,
    }
    if np.isfinite(history.log_z).any():
        columns.update(
            log_Z=history.log_z, ll_train=history.train_log_likelihood, ll_test=history.test_log_likelihood
        )
    print_table(columns)
    return 0


def _cmd_logz(args) -> int:
    from freeenergy._io import dumps

    model = _load_rbm(args.model)
    data = (
        None if args.data is None else load_images(args.data, binarize_arg(args.binarize), args.seed).train
    )
    est = _log_z(model, args, data)
    if args.json:
        print(dumps({"model": args.model, **est.as_dict()}))
    else:
        print(est)
        print(f"interval [{est.lower:.6f}, {est.upper:.6f}]")
    return 0


def _cmd_sample(args) -> int:
    from freeenergy._io import atomic_write

    if args.n < 1 or args.steps < 1:
        raise CLIError("--n and --steps must be >= 1")
    model = _load_rbm(args.model)
    samples = model.sample(args.n, steps=args.steps, seed=args.seed).detach().cpu().numpy()
    if args.out:

        def write(tmp: Path) -> None:
            with tmp.open("wb") as f:  # a file object: np.save would add ".npy" to a path
                np.save(f, samples)

        atomic_write(args.out, write)
        print(f"{args.n} samples written to {args.out}", file=sys.stderr)
    if args.plot:
        from freeenergy.report import plots

        side = math.isqrt(model.n_visible)
        if side * side != model.n_visible:
            raise CLIError(f"--plot needs square images; the model has {model.n_visible} visible units")
        write_plot(
            lambda p: plots.plot_image_grid(
                samples, (side, side), p, title=f"{args.n} samples, {args.steps} Gibbs sweeps"
            ),
            args.plot,
        )
    if not args.out and not args.plot:
        print_table({f"v{i}": samples[:, i] for i in range(min(model.n_visible, 8))})
    return 0


def _cmd_eval(args) -> int:
    from freeenergy._io import dumps
    from freeenergy.estimate.ais import default_betas
    from freeenergy.estimate.likelihood import log_likelihood, raise_log_likelihood

    model = _load_rbm(args.model)
    images = load_images(args.data, binarize_arg(args.binarize), args.seed)
    rows = images.test if args.split == "test" else images.train
    if args.examples is not None:
        if args.examples < 1:
            raise CLIError(f"--examples must be >= 1; got {args.examples}")
        rows = rows[: args.examples]
    if args.method == "exact":
        ll = log_likelihood(model, rows, _log_z(model, args, images.train))
        result = {
            "log_likelihood": ll.mean,
            "stderr": ll.stderr,
            "lower": ll.lower,
            "upper": ll.upper,
            "log_z": ll.log_z.as_dict(),
        }
        text = [str(ll)]
    else:
        forward = _log_z(model, args, images.train)
        betas = None if args.betas is None else default_betas(args.betas)
        upper = log_likelihood(model, rows, forward)
        lower = raise_log_likelihood(
            model, rows, betas=betas, base_data=images.train, seed=args.seed, progress=not args.no_progress
        )
        gap = upper.mean - lower.mean
        result = {
            "raise": lower.mean,
            "forward_ais": upper.mean,
            "gap": gap,
            "stderr": upper.stderr,
            "forward_log_z": forward.as_dict(),
        }
        text = [
            f"RAISE (reverse annealing from each example): {lower}",
            f"forward AIS log Z (optimistic):              {upper}",
        ]
        if abs(gap) > 1.0:
            print(
                f"freeenergy: warning: the bracket is {gap:.3g} nats wide; the log-likelihood is only known "
                "to within that (anneal longer with --betas, or use more --chains)",
                file=sys.stderr,
            )
    meta = {"model": args.model, "data": args.data, "split": args.split, "n": int(rows.shape[0])}
    if args.json:
        print(dumps({**meta, **result}))
    else:
        print("\n".join(text))
    return 0


def _estimator_args(p, chains_help: str) -> None:
    p.add_argument("--method", choices=["exact", "ais"], default="ais", help="log Z estimator (default ais)")
    p.add_argument("--chains", type=int, default=100, help=chains_help)
    p.add_argument(
        "--betas",
        type=int,
        metavar="K",
        help="number of AIS temperatures (default: Salakhutdinov & Murray's 14,500)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    binarize_args(p, ["stochastic", "threshold", "none"], "how grey images become 0/1")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--json", action="store_true", help="print JSON")


def register(sub) -> None:
    """Add ``rbm train | logz | sample | eval`` to the main parser's subcommands."""
    cmds = command_group(
        sub,
        "rbm",
        help="train, estimate log Z of, sample and evaluate Bernoulli RBMs",
        description="Bernoulli RBMs: training by CD-k / PCD, exact or AIS log Z, "
        "samples, and test log-likelihoods bracketed by forward AIS and reverse annealing (RAISE).",
        epilog="examples:\n  freeenergy rbm train --data digits --hidden 16 --epochs 20 --out rbm.pt\n"
        "  freeenergy rbm logz rbm.pt --method exact\n"
        "  freeenergy rbm eval rbm.pt --data digits --chains 200 --betas 5000\n"
        "  freeenergy rbm sample rbm.pt --n 64 --plot grid.png",
    )

    p = cmds.add_parser(
        "train",
        help="train an RBM by CD-k or PCD",
        formatter_class=FORMATTER,
        description="Train a Bernoulli RBM on a data set and save it; prints per-epoch "
        "free energies, reconstruction error, the effective inverse temperature ||W||_2 and, "
        "for small models (<= 20 units in a layer), exact log Z and log-likelihoods.",
        epilog="example:\n  freeenergy rbm train --data mnist --hidden 25 --method cd --k 3 "
        "--epochs 10 --out cd3.pt",
    )
    p.add_argument("--data", default="digits", help=DATA_HELP)
    p.add_argument("--hidden", type=int, default=16, help="hidden units (default 16)")
    p.add_argument("--method", choices=["cd", "pcd"], default="cd")
    p.add_argument("--k", type=int, default=1, help="Gibbs steps per update (default 1)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    binarize_args(p, ["stochastic", "threshold", "none"], "how grey images become 0/1")
    p.add_argument("--float32", action="store_true", help="train in float32 (faster; log Z still float64)")
    p.add_argument("--checkpoint", metavar="FILE", help="write a resumable checkpoint every epoch")
    p.add_argument("--resume", metavar="FILE", help="continue the run saved in this checkpoint")
    p.add_argument("--out", required=True, metavar="MODEL.pt", help="where to save the trained model")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="print the history as JSON")
    p.set_defaults(run=_cmd_train)

    p = cmds.add_parser(
        "logz",
        help="log Z of a saved RBM: exact or AIS",
        formatter_class=FORMATTER,
        description="log Z (nats) of a saved RBM by exact enumeration of its smaller layer "
        "(up to 32 units) or annealed importance sampling (stderr = one standard deviation; "
        "the interval is +-3 stderr).",
        epilog="example:\n  freeenergy rbm logz rbm.pt --method ais --data digits --chains 500",
    )
    p.add_argument("model", help="a model saved by `freeenergy rbm train` or model.save()")
    p.add_argument(
        "--data", help="AIS base rates from this data set (" + DATA_HELP + "); default uniform base"
    )
    _estimator_args(p, "AIS chains (default 100)")
    p.set_defaults(run=_cmd_logz)

    p = cmds.add_parser(
        "sample",
        help="draw samples by block Gibbs sampling",
        formatter_class=FORMATTER,
        description="Samples from independent Gibbs chains, saved as .npy and/or drawn as a grid.",
        epilog="example:\n  freeenergy rbm sample rbm.pt --n 64 --steps 1000 --plot grid.png",
    )
    p.add_argument("model")
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--steps", type=int, default=1000, help="Gibbs sweeps per chain (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", metavar="FILE.npy", help="save the samples")
    p.add_argument("--plot", metavar="FILE.png", help="draw the samples as an image grid")
    p.set_defaults(run=_cmd_sample)

    p = cmds.add_parser(
        "eval",
        help="test log-likelihood with its uncertainty",
        formatter_class=FORMATTER,
        description="Mean log p(v) of a data split. --method exact uses exact log Z; --method "
        "ais gives two estimates: forward AIS (optimistic: AIS underestimates log Z) and RAISE, reverse "
        "annealing from each example (a lower bound for the annealing model, conservative once the "
        "chains mix), with a warning when they are over 1 nat apart.",
        epilog="example:\n  freeenergy rbm eval rbm.pt --data digits --split test",
    )
    p.add_argument("model")
    p.add_argument("--data", default="digits", help=DATA_HELP)
    p.add_argument("--split", choices=["test", "train"], default="test")
    p.add_argument(
        "--examples",
        type=int,
        metavar="N",
        help="evaluate the first N examples of the split (RAISE runs one chain per example)",
    )
    _estimator_args(p, "AIS chains, forward and reverse (default 100)")
    p.set_defaults(run=_cmd_eval)
