"""Summarise a `mutmut run` per module: killed, survived, no tests, listed as equivalent, score.

Reads the ``*.meta`` files that mutmut writes under ``mutants/`` and the mutant names listed in
``docs/mutation.md`` (each equivalent mutant with its reason). The score of a module is
``killed / (mutants - equivalent)``; a timeout counts as killed (the mutant made the tests hang),
a mutant no selected test reaches counts as not killed. Exit status 1 when the total score is
below the target (90%) or a survivor is neither killed nor listed, so that `make mutation` fails
until every surviving mutant is dealt with.

Usage: python tools/mutation_report.py [--target 0.9] [--survivors FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KILLED_CODES = {1, 3, 36, -24, 24, 152, 255}  # mutmut's "killed" and "timeout" exit codes
NAME = re.compile(r"^- `(freeenergy\.[\w.ǁ]+__mutmut_\d+)`", re.MULTILINE)  # one list item each


def configured_files() -> list[str]:
    """The files of ``[tool.mutmut] only_mutate`` in pyproject.toml."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return config["only_mutate"]


def listed_equivalent() -> set[str]:
    """Mutant names under the heading "Equivalent mutants" of docs/mutation.md."""
    doc = ROOT / "docs" / "mutation.md"
    if not doc.exists():
        return set()
    text = doc.read_text(encoding="utf-8")
    return set(NAME.findall(text.partition("\n## Equivalent mutants")[2]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--survivors", type=Path, default=ROOT / "mutants" / "survivors.txt",
                        help="where to write the names of the unlisted survivors")
    args = parser.parse_args()
    equivalent = listed_equivalent()
    totals, survivors, stale = Counter(), [], set(equivalent)
    print(f"{'module':44} {'mutants':>7} {'killed':>7} {'survived':>8} {'no tests':>8} "
          f"{'equiv.':>6} {'score':>7}")
    for pattern in configured_files():
        meta = ROOT / "mutants" / (pattern + ".meta")
        if not meta.exists():
            print(f"{pattern}: no results (run `make mutation` first)", file=sys.stderr)
            return 2
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        row = Counter()
        for name, code in codes.items():
            stale.discard(name)
            row["mutants"] += 1
            if code in KILLED_CODES:
                row["killed"] += 1
            elif name in equivalent:
                row["equivalent"] += 1
            else:
                row["no tests" if code in (5, 33) else "survived"] += 1
                survivors.append(name)
        totals.update(row)
        print(_line(pattern.removeprefix("src/freeenergy/"), row))
    print(_line("total", totals))
    args.survivors.parent.mkdir(parents=True, exist_ok=True)
    args.survivors.write_text("".join(f"{n}\n" for n in survivors), encoding="utf-8")
    if stale:
        print(f"{len(stale)} name(s) in docs/mutation.md match no mutant any more (renumbered after a "
              f"code change?): {sorted(stale)[:5]}")
    score = _score(totals)
    print(f"{len(survivors)} mutant(s) neither killed nor listed as equivalent: {args.survivors}"
          f" (`mutmut show NAME` prints the change)")
    return 0 if score >= args.target and not survivors else 1


def _score(row: Counter) -> float:
    return row["killed"] / max(row["mutants"] - row["equivalent"], 1)


def _line(label: str, row: Counter) -> str:
    return (f"{label:44} {row['mutants']:7d} {row['killed']:7d} {row['survived']:8d} "
            f"{row['no tests']:8d} {row['equivalent']:6d} {_score(row):7.1%}")


if __name__ == "__main__":
    sys.exit(main())
