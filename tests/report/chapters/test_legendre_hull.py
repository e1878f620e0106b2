"""Tests of freeenergy.report.chapters.legendre_hull: its numbers in the quick tour's results.json."""

import json

import pytest


def test_legendre_chapter_finds_the_inequivalent_levels(quick_tour):
    out, _result = quick_tour
    numbers = json.loads((out / "results.json").read_text())["chapters"]["legendre_hull"]
    odd = list(range(3, 26, 2)) + list(range(999, 1022, 2))
    assert numbers["inequivalent_levels_beale_k"] == odd  # exact counts of the 32x32 torus
    assert numbers["empty_levels_beale_k"] == [1, 1023]
    # derived independently (NumPy over Beale's counts) in
    # tests/spectra/test_ensembles.py::test_ising32_saddle_gap_at_tc
    assert numbers["saddle_gap_log_z_per_site_at_Tc"] == pytest.approx(0.0040517, abs=5e-8)
    assert numbers["saddle_gap_per_site_at_Tc"] == pytest.approx(0.0091941, abs=5e-8)
    assert numbers["saddle_free_energy_per_site_at_Tc"] > numbers["exact_free_energy_per_site_at_Tc"]
    assert numbers["wang_landau_size"] == 8
    assert max(numbers["wang_landau_abs_free_energy_error_per_site"].values()) < 1e-2
    assert numbers["max_abs_biconjugate_vs_envelope"] < 1e-3
