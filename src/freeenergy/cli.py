"""The ``freeenergy`` command line.

Every error caused by the user's input ends the program with one line on stderr and exit
status 2; results go to stdout as a table, or as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from freeenergy import __version__

_FORMATTER = argparse.RawDescriptionHelpFormatter


class CLIError(Exception):
    """A problem with the command line or its input; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        raise CLIError(f"{message} (see '{self.prog} --help')")


def parse_range(text: str, name: str) -> np.ndarray:
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
    if np.isnan(values).any() or (values < 0).any():
        raise CLIError(f"--{name} {text!r}: values must be >= 0")
    return values


def _temperature_args(parser: argparse.ArgumentParser, default: str | None) -> None:
    group = parser.add_mutually_exclusive_group(required=default is None)
    group.add_argument("--T", dest="T", metavar="RANGE", default=default,
                       help="temperatures: START:STOP:COUNT, a comma list or one number"
                       + (f" (default {default})" if default else ""))
    group.add_argument("--beta", metavar="RANGE", help="inverse temperatures instead of --T")


def _output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--plot", metavar="FILE.png", help="also draw F, U, S, C against T")


def _temperatures(args) -> dict[str, np.ndarray]:
    if args.beta is not None:
        return {"beta": parse_range(args.beta, "beta")}
    return {"T": parse_range(args.T, "T")}


def _print_table(columns: dict[str, np.ndarray]) -> None:
    names = list(columns)
    print("  ".join(f"{n:>14}" for n in names))
    for row in zip(*columns.values(), strict=True):
        print("  ".join(f"{v:>14.8g}" for v in row))


def _emit(th, args, extra: dict[str, np.ndarray] | None = None, meta: dict | None = None) -> None:
    from freeenergy._io import dumps

    columns = {
        "T": th.T,
        "log_Z": th.log_z,
        "F": th.free_energy,
        "U": th.energy,
        "S": th.entropy,
        "C": th.heat_capacity,
        **(extra or {}),
    }
    if args.json:
        print(dumps({**(meta or {}), **th.as_dict(), **(extra or {})}))
    else:
        _print_table(columns)
    if args.plot:
        from freeenergy import plots

        refs = {k: (th.T, v) for k, v in (extra or {}).items()}
        try:
            plots.plot_thermodynamics(th, args.plot, references=refs)
        except OSError as exc:
            raise CLIError(f"cannot write the plot {args.plot!r}: {exc.strerror}") from None
        print(f"plot written to {args.plot}", file=sys.stderr)


def _cmd_thermo(args) -> int:
    from freeenergy.data import load_spectrum
    from freeenergy.thermo import thermodynamics

    energies, log_g = load_spectrum(args.file)
    th = thermodynamics(energies, log_degeneracy=log_g, **_temperatures(args))
    _emit(th, args, meta={"file": args.file, "levels": len(energies)})
    return 0


def _cmd_ising(args) -> int:
    from freeenergy.models import IsingLattice, onsager_free_energy

    if args.size < 2:
        raise CLIError(f"--size must be an integer >= 2; got {args.size}")
    lattice = IsingLattice(args.size, args.size, J=args.J)
    th = lattice.thermodynamics(**_temperatures(args), per_site=args.per_site)
    f_inf = onsager_free_energy(th.T, J=args.J)
    label = "F_Onsager" if args.per_site else "N*F_Onsager"
    extra = {label: f_inf if args.per_site else f_inf * lattice.n_sites}
    meta = {"size": args.size, "J": args.J, "per_site": args.per_site}
    _emit(th, args, extra=extra, meta=meta)
    return 0


def _cmd_tour(args) -> int:
    from freeenergy.tour import run_tour

    result = run_tour(args.out, quick=args.quick, progress=not args.no_progress)
    print(f"freeenergy tour ({'quick' if args.quick else 'full'}) finished in {result.seconds:.1f} s")
    for section in result.sections:
        print(f"\n== {section.title} ==")
        for label, value in section.table:
            print(f"  {label}: {value}")
    print(f"\nreport: {result.report.resolve()}")
    print(f"numbers: {result.results.resolve()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="freeenergy",
        description="Compute, bound and learn with free energies (k_B = 1, nats).",
        epilog="examples:\n  freeenergy tour --quick\n  freeenergy ising --size 32 --T 1:4:100 --per-site",
        formatter_class=_FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"freeenergy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser(
        "thermo",
        help="log Z, F, U, S, C of a spectrum read from a file",
        description="Thermodynamics of the energy levels in a file (.npy, .txt, .csv): one "
        "column of energies, or two columns (energy, degeneracy).",
        epilog="example:\n  freeenergy thermo levels.txt --T 0.1:10:50 --plot thermo.png",
        formatter_class=_FORMATTER,
    )
    p.add_argument("file", help="energies file")
    _temperature_args(p, default=None)
    _output_args(p)
    p.set_defaults(run=_cmd_thermo)

    p = sub.add_parser(
        "ising",
        help="exact thermodynamics of the periodic L x L Ising lattice",
        description="Exact F, U, S, C of the L x L periodic Ising lattice at h = 0, from its "
        "exact density of states, beside Onsager's infinite-lattice free energy.",
        epilog="example:\n  freeenergy ising --size 32 --T 1:4:100 --per-site --plot ising.png",
        formatter_class=_FORMATTER,
    )
    p.add_argument("--size", type=int, default=32, help="linear size L (default 32)")
    p.add_argument("--J", type=float, default=1.0, help="coupling J > 0 (default 1)")
    p.add_argument("--per-site", action="store_true", help="divide extensive quantities by L^2")
    _temperature_args(p, default="1:4:100")
    _output_args(p)
    p.set_defaults(run=_cmd_ising)

    p = sub.add_parser(
        "tour",
        help="the main job: every chapter on embedded data, with an HTML report",
        description="Run every chapter of the tour and write DIR/report.html, its figures and "
        "DIR/results.json.",
        epilog="example:\n  freeenergy tour --out tour-report --quick",
        formatter_class=_FORMATTER,
    )
    p.add_argument("--out", default="tour-report", metavar="DIR", help="output directory")
    p.add_argument("--quick", action="store_true", help="smaller systems; under a minute")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(run=_cmd_tour)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except (CLIError, ValueError) as exc:
        print(f"freeenergy: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("freeenergy: interrupted", file=sys.stderr)
        return 130
