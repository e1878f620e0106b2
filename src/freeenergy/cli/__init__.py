"""The ``freeenergy`` command line.

Every error caused by the user's input (a :class:`~freeenergy._params.InputError` from the library,
a :class:`CLIError` from the command line, a missing file) ends the program with one line on stderr
and exit status 2; a library failure with its own message (a ``RuntimeError`` of this package, such
as a diverged training run) with one line and status 1. Any other exception is a bug and keeps its
traceback. Results go to stdout as a table, or as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from freeenergy import __version__
from freeenergy._lazy import moved_attributes
from freeenergy._params import InputError
from freeenergy.cli import physics, rbm, tour, variational
from freeenergy.cli._common import FORMATTER, CLIError, Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="freeenergy",
        description="Compute, bound and learn with free energies (k_B = 1, nats).",
        epilog="examples:\n  freeenergy tour --quick\n  freeenergy ising --size 32 --T 1:4:100 --per-site",
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"freeenergy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    for module in (physics, rbm, variational, tour):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except (CLIError, InputError, FileNotFoundError) as exc:
        print(f"freeenergy: error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # a library failure with its own message (TrainingError, DownloadError)
        if type(exc).__module__.split(".")[0] != "freeenergy":
            raise
        print(f"freeenergy: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `freeenergy dos | head`: stop quietly, like other Unix tools
        sys.stdout = open(os.devnull, "w")  # the interpreter flushes stdout at exit
        return 0
    except KeyboardInterrupt:
        print("freeenergy: interrupted", file=sys.stderr)
        return 130


# parse_range lived here until 0.2
__getattr__ = moved_attributes(__name__, {"parse_range": "freeenergy.cli._common"})
