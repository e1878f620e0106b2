"""What every ``freeenergy`` command shares: the error type and parser, range parsing, argument
groups, table and plot output, and loading the image data sets.

Command modules import only this module and the library, never each other.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

FORMATTER = argparse.RawDescriptionHelpFormatter


class CLIError(Exception):
    """A problem with the command line or its input; printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one :class:`CLIError` line instead of usage + message."""

    def error(self, message: str):
        raise CLIError(f"{message} (see '{self.prog} --help')")


def command_group(sub, name: str, **kwargs):
    """A command ``name`` with subcommands of its own (``freeenergy rbm train``): returns the
    subparsers to add them to; one of them is required."""
    group = sub.add_parser(name, formatter_class=FORMATTER, **kwargs)
    commands = group.add_subparsers(dest=f"{name.replace('-', '_')}_command", metavar="COMMAND",
                                    parser_class=Parser)
    commands.required = True
    return commands


def parse_range(text: str, name: str, *, nonnegative: bool = True) -> np.ndarray:
    """Parse ``a:b:n`` (n evenly spaced values from a to b), ``a,b,c`` or a single number."""
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
            if n < 1:
                raise ValueError
            values = np.linspace(lo, hi, n)
        else:
            values = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise CLIError(
            f"--{name} {text!r} is not a range: use START:STOP:COUNT (e.g. 0.1:10:50), "
            "a comma list (0.5,1,2) or one number"
        ) from None
    if not np.isfinite(values).all() and not nonnegative:
        raise CLIError(f"--{name} {text!r}: values must be finite")
    if np.isnan(values).any() or (nonnegative and (values < 0).any()):
        raise CLIError(f"--{name} {text!r}: values must be >= 0")
    return values


def temperature_args(parser: argparse.ArgumentParser, default: str | None) -> None:
    group = parser.add_mutually_exclusive_group(required=default is None)
    group.add_argument("--T", dest="T", metavar="RANGE", default=default,
                       help="temperatures: START:STOP:COUNT, a comma list or one number"
                       + (f" (default {default})" if default else ""))
    group.add_argument("--beta", metavar="RANGE", help="inverse temperatures instead of --T")


def output_args(parser: argparse.ArgumentParser, plot_help: str = "draw F, U, S, C against T") -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--plot", metavar="FILE.png", help=f"also {plot_help}")


def temperatures(args) -> dict[str, np.ndarray]:
    if args.beta is not None:
        return {"beta": parse_range(args.beta, "beta")}
    return {"T": parse_range(args.T, "T")}


def print_table(columns: dict) -> None:
    """Print ``columns`` (name -> equal-length numbers) as an aligned table on stdout."""
    columns = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    names = list(columns)
    print("  ".join(f"{n:>14}" for n in names))
    for row in zip(*columns.values(), strict=True):
        print("  ".join(f"{v:>14.8g}" for v in row))


def write_plot(draw, path: str) -> None:
    try:
        draw(path)
    except OSError as exc:
        raise CLIError(f"cannot write the plot {path!r}: {exc.strerror}") from None
    print(f"plot written to {path}", file=sys.stderr)


DATA_HELP = "digits (embedded 8x8), mnist (cached or downloaded once) or a .npy file of rows in [0, 1]"


BINARIZE_DEFAULT = "stochastic"


def binarize_args(parser: argparse.ArgumentParser, choices: list[str], help: str) -> None:
    """``--binarize``, with the one default of every command (stochastic: each pixel drawn once)."""
    parser.add_argument("--binarize", choices=choices, default=BINARIZE_DEFAULT,
                        help=f"{help} (default {BINARIZE_DEFAULT})")


class Images:
    """Training and test rows in [0, 1], with the picture shape when known."""

    def __init__(self, train: np.ndarray, test: np.ndarray, shape: tuple[int, int] | None, name: str):
        self.train, self.test, self.shape, self.name = train, test, shape, name


def load_images(spec: str, binarize: str | None, seed: int) -> Images:
    from freeenergy.data import load_digits, load_mnist

    if spec == "digits":
        data = load_digits(binarize=binarize, seed=seed)
    elif spec == "mnist":
        data = load_mnist(binarize=binarize, seed=seed)
    else:
        path = Path(spec)
        if path.suffix != ".npy" or not path.is_file():
            raise CLIError(f"--data {spec!r}: expected digits, mnist or an existing .npy file")
        try:
            rows = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise CLIError(f"{spec}: cannot read a NumPy array from it ({exc or 'empty file'})") from None
        if not isinstance(rows, np.ndarray):  # an .npz archive under a .npy name
            raise CLIError(f"{spec}: holds an archive of arrays (.npz), not one array")
        if rows.ndim != 2 or rows.shape[0] < 1 or not np.issubdtype(rows.dtype, np.number):
            raise CLIError(
                f"{spec}: expected a 2-D numeric array (one example per row); got shape {rows.shape}"
            )
        rows = rows.astype(np.float64)
        if not np.all((rows >= 0) & (rows <= 1)):
            raise CLIError(f"{spec}: values must lie in [0, 1] (binary or probabilities)")
        side = math.isqrt(rows.shape[1])
        return Images(rows, rows, (side, side) if side * side == rows.shape[1] else None, path.stem)
    return Images(data.train, data.test, data.shape, data.name)


def binarize_arg(value: str) -> str | None:
    return None if value == "none" else value


