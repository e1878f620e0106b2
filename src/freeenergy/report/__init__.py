"""The tour and its report: :mod:`~freeenergy.report.tour` runs the chapters
(:mod:`~freeenergy.report.chapters`), :mod:`~freeenergy.report.plots` draws the figures and
:mod:`~freeenergy.report.html` writes the self-contained HTML page.
"""

from freeenergy._lazy import moved_attributes

# freeenergy.report was the HTML writer until 0.2
__getattr__ = moved_attributes(__name__, dict.fromkeys(("render_html", "write_report"),
                                                       "freeenergy.report.html"))
