"""The tour's chapters, in order.

To add a chapter: write ``chapter(ctx: TourContext) -> Section`` in a module of its own in
this package (see ``free_energy_average.py``) and append it to ``CHAPTERS``. The tour runs
each in turn, writes its figures beside the report and its ``numbers`` into ``results.json``.
"""

from freeenergy.report.chapters import (
    free_energy_average,
    helmholtz_bits_back,
    legendre_hull,
    rbm_free_energy,
)
from freeenergy.report.chapters.base import Chapter, Figure, Section, TourContext

CHAPTERS: list[Chapter] = [
    free_energy_average.chapter,
    legendre_hull.chapter,
    rbm_free_energy.chapter,
    helmholtz_bits_back.chapter,
]

__all__ = ["CHAPTERS", "Chapter", "Figure", "Section", "TourContext"]
