"""Tests of freeenergy.systems.ising: IsingLattice against brute-force enumeration of all 2^N states
(field, energies, zero coupling) and its input checks.
"""

import math

import numpy as np
import pytest

import freeenergy as fe

from .test_chain import assert_thermo_close


def test_zero_coupling_is_free_spins():
    lat = fe.IsingLattice(3, 3, J=0.0)
    np.testing.assert_allclose(lat.log_partition(T=[0.0, 1.0, np.inf]), 9 * math.log(2))
    assert lat.exact_counts()[1] == [512]


# ---------------------------------------------------------------------------- field, energy


def test_lattice_in_field_by_enumeration():
    lat = fe.IsingLattice(3, 3, J=0.7, h=0.4)
    energies = lat.enumerate_energies()
    temps = np.array([0.0, 0.5, 2.0, np.inf])
    assert_thermo_close(lat.thermodynamics(T=temps), fe.thermodynamics(energies, T=temps))
    assert lat.ground_state_energy == pytest.approx(-2 * 9 * 0.7 - 9 * 0.4)
    with pytest.raises(ValueError, match="h != 0"):
        fe.IsingLattice(6, 6, h=0.1).log_partition(T=1.0)


def test_lattice_energy_batched_shapes():
    lat = fe.IsingLattice(2, 3, J=1.3, h=-0.2)
    codes = np.arange(2**6)
    states = 1 - 2 * ((codes[:, None] >> np.arange(6)) & 1)
    flat = lat.energy(states)
    np.testing.assert_allclose(flat, lat.enumerate_energies())
    np.testing.assert_allclose(lat.energy(states.reshape(8, 8, 2, 3)), flat.reshape(8, 8))
    assert lat.energy(np.ones((2, 3))) == pytest.approx(-2 * 6 * 1.3 + 0.2 * 6)


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: fe.IsingLattice(1, 4), "'rows'"),
        (lambda: fe.IsingLattice(4, 2.0), "'cols'"),
        (lambda: fe.IsingLattice(3, 3, J=float("nan")), "'J'"),
        (lambda: fe.IsingLattice(3, 3, h=np.inf), "'h'"),
        (lambda: fe.IsingChain(1), "'n'"),
        (lambda: fe.IsingChain(True), "'n'"),
        (lambda: fe.IsingChain(4, periodic="yes"), "'periodic'"),
        (lambda: fe.IsingChain(4).energy([1, -1, 1, 0]), "'states'"),
        (lambda: fe.IsingChain(4).energy(np.ones((2, 5))), "'states'"),
        (lambda: fe.IsingChain(4).energy(["a"] * 4), "'states'"),
        (lambda: fe.IsingLattice(2, 3).energy(np.ones((3, 2))), "'states'"),
        (lambda: fe.IsingLattice(2, 2).energy(np.full(4, 0.5)), "'states'"),
        (lambda: fe.IsingLattice(2, 2).log_partition(T=-1.0), "'T'"),
        (lambda: fe.IsingLattice(2, 2).log_partition(T=1.0, beta=1.0), "exactly one"),
        (lambda: fe.IsingChain(3).log_partition(beta=float("nan")), "'beta'"),
        (lambda: fe.IsingChain(30).enumerate_energies(), "'n'"),
        (lambda: fe.IsingLattice(6, 6).enumerate_energies(), "rows \\* cols <= 25"),
        (lambda: fe.IsingLattice(65, 65).exact_counts(), "rows \\* cols <= 4096"),
        (lambda: fe.IsingLattice(65, 65).thermodynamics(T=1.0), "rows \\* cols <= 4096"),
        (lambda: fe.IsingLattice(65, 65, J=-1.0).log_partition(T=1.0), "even sides"),
        (lambda: fe.onsager_free_energy(1.0, J=float("nan")), "'J'"),
        (lambda: fe.critical_temperature("1"), "'J'"),
    ],
)
def test_bad_input_names_the_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_error_message_format():
    with pytest.raises(ValueError) as err:
        fe.IsingLattice(0, 3)
    assert str(err.value) == ("The 'rows' parameter of IsingLattice must be an int >= 2. Got 0 instead.")
