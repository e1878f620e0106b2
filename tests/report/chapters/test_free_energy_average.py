"""Tests of freeenergy.report.chapters.free_energy_average: its numbers in the quick tour's results.json."""

import json

import pytest


def test_results_json_holds_the_chapter_numbers(quick_tour):
    out, _result = quick_tour
    data = json.loads((out / "results.json").read_text())
    numbers = data["chapters"]["free_energy_average"]
    assert numbers["ground_state_energy_per_site"] == -2.0
    # derived independently (Kaufman's Z in mpmath) in tests/systems/test_beale.py::test_heat_capacity_peak_32
    assert numbers["heat_capacity_peak_T"] == pytest.approx(2.2939297, abs=1e-6)
    assert numbers["heat_capacity_peak_value_per_site"] == pytest.approx(1.9045061, abs=1e-6)
    assert numbers["max_abs_dos_vs_kaufman_free_energy_per_site"] < 1e-12
    assert data["meta"]["quick"] is True
