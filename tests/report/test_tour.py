"""Tests of freeenergy.report.tour: `run_tour` writes a report, figures and results.json."""

import json
import re

from freeenergy.report.chapters import Section
from freeenergy.report.tour import run_tour


def test_report_references_existing_figures(quick_tour):
    out, result = quick_tour
    html = result.report.read_text()
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) >= 3
    for name in images:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chapter_hook_accepts_new_chapters(tmp_path):
    def extra(ctx):
        return Section(slug="extra", title="An extra chapter", numbers={"x": 1.0})

    result = run_tour(tmp_path, quick=True, progress=False, chapters=[extra])
    assert "An extra chapter" in result.report.read_text()
    assert json.loads(result.results.read_text())["chapters"] == {"extra": {"x": 1.0}}
