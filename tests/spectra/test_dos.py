"""DensityOfStates: construction, validation and agreement with freeenergy.spectra.thermo."""

import math

import numpy as np
import pytest

import freeenergy as fe


def test_from_counts_handles_huge_integers():
    counts = [2, 2**1000, 0, 7]
    dos = fe.DensityOfStates.from_counts([0.0, 1.0, 2.0, 3.0], counts)
    assert dos.log_g[1] == pytest.approx(1000 * math.log(2), rel=1e-15)
    assert dos.log_g[2] == -np.inf


def test_sorted_and_immutable():
    dos = fe.DensityOfStates([2.0, -1.0], [0.0, np.log(2)])
    np.testing.assert_array_equal(dos.energies, [-1.0, 2.0])
    assert dos.ground_state == -1.0
    with pytest.raises(ValueError):
        dos.energies[0] = 5.0


def test_ground_state_skips_empty_levels():
    dos = fe.DensityOfStates([-5.0, -1.0, 2.0], [-np.inf, 0.0, 0.0])
    assert dos.ground_state == -1.0
    assert dos.free_energy(T=0) == -1.0


def test_from_samples_matches_raw_levels():
    samples = [0.0, 1.0, 1.0, 3.0, 3.0, 3.0]
    dos = fe.DensityOfStates.from_samples(samples)
    T = [0.5, 2.0]
    np.testing.assert_allclose(dos.log_partition(T=T), fe.log_partition(samples, T=T), rtol=1e-14)
    assert dos.log_total == pytest.approx(np.log(6))


@pytest.mark.parametrize(
    ("energies", "log_g", "match"),
    [
        ([0.0, 0.0], [0.0, 0.0], "distinct"),
        ([0.0, 1.0], [0.0], "shape"),
        ([0.0, np.nan], [0.0, 0.0], "NaN"),
    ],
)
def test_bad_input(energies, log_g, match):
    with pytest.raises(ValueError, match=match):
        fe.DensityOfStates(energies, log_g)


def test_from_counts_rejects_negative():
    with pytest.raises(ValueError, match="counts"):
        fe.DensityOfStates.from_counts([0.0], [-1])
