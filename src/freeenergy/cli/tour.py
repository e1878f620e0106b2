"""``freeenergy tour``: the main job, every chapter on embedded data, with an HTML report."""

from __future__ import annotations

from freeenergy.cli._common import FORMATTER


def _cmd_tour(args) -> int:
    from freeenergy.report.tour import run_tour

    result = run_tour(args.out, quick=args.quick, progress=not args.no_progress)
    print(f"freeenergy tour ({'quick' if args.quick else 'full'}) finished in {result.seconds:.1f} s")
    for section in result.sections:
        print(f"\n== {section.title} ==")
        for label, value in section.table:
            print(f"  {label}: {value}")
    print(f"\nreport: {result.report.resolve()}")
    print(f"numbers: {result.results.resolve()}")
    return 0


def register(sub) -> None:
    """Add ``tour`` to the main parser's subcommands."""
    p = sub.add_parser(
        "tour",
        help="the main job: every chapter on embedded data, with an HTML report",
        description="Run every chapter of the tour and write DIR/report.html, its figures and "
        "DIR/results.json.",
        epilog="example:\n  freeenergy tour --out tour-report --quick",
        formatter_class=FORMATTER,
    )
    p.add_argument("--out", default="tour-report", metavar="DIR", help="output directory")
    p.add_argument("--quick", action="store_true", help="smaller systems; under a minute")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(run=_cmd_tour)
