"""The tour and its report: :mod:`~freeenergy.report.tour` runs the chapters
(:mod:`~freeenergy.report.chapters`), :mod:`~freeenergy.report.plots` draws the figures and
:mod:`~freeenergy.report.html` writes the self-contained HTML page.
"""
