"""``freeenergy tour``: run every chapter on embedded data and write an HTML report."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path

from freeenergy import __version__
from freeenergy.report.chapters import CHAPTERS, Chapter, Section, TourContext
from freeenergy.report.html import write_report

__all__ = ["TourResult", "run_tour"]


@dataclass(frozen=True)
class TourResult:
    """Where the tour wrote its outputs, what each chapter found, and how long it took."""

    report: Path
    results: Path
    sections: list[Section]
    seconds: float


def run_tour(
    out: str | Path = "tour-report",
    *,
    quick: bool = False,
    progress: bool = True,
    chapters: list[Chapter] | None = None,
) -> TourResult:
    """Run the chapters in order and write ``out/report.html``, figures and ``results.json``.

    Parameters
    ----------
    out : path-like
        Output directory (created if needed; existing files of the same names are replaced
        atomically, others are left alone).
    quick : bool
        Smaller systems so the whole tour takes under a minute.
    progress : bool
        Progress bars on stderr.
    chapters : list, optional
        The chapters to run (default: all of :data:`freeenergy.report.chapters.CHAPTERS`).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = TourContext(out=out, quick=quick, progress=progress)
    start = time.perf_counter()
    sections = [chapter(ctx) for chapter in (CHAPTERS if chapters is None else chapters)]
    seconds = time.perf_counter() - start
    meta = {
        "version": __version__,
        "quick": quick,
        "seconds": round(seconds, 2),
        "python": platform.python_version(),
    }
    footer = (
        f"freeenergy {__version__}, {'quick' if quick else 'full'} tour, "
        f"{seconds:.1f} s on {platform.machine()} with Python {platform.python_version()}."
    )
    report, results = write_report(
        sections, out, title="freeenergy: a tour of free energies", footer=footer, meta=meta
    )
    return TourResult(report=report, results=results, sections=sections, seconds=seconds)
