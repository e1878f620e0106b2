"""The quick tour, run once for tests/report and its chapters (tests/report/chapters)."""

import pytest

from freeenergy.report.tour import run_tour


@pytest.fixture(scope="package")
def quick_tour(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    return out, run_tour(out, quick=True, progress=False)
