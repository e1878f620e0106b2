"""Tests of freeenergy.sampling._wl_kernels: NeighbourTable (its checks, its energy kernel against the
models' energies) and the energy grid it gives wang_landau.
"""

import math

import numpy as np
import pytest

import freeenergy as fe
from freeenergy.sampling._wl_kernels import NeighbourTable
from freeenergy.sampling.wang_landau import neighbour_table, wang_landau


@pytest.mark.parametrize(
    "model",
    [
        fe.IsingLattice(2, 3, J=-0.7, h=0.3),
        fe.IsingLattice(3, 4),
        fe.IsingChain(5, h=1.5),
        fe.IsingChain(2),
        fe.IsingChain(6, J=-1.0, periodic=False),
    ],
)
def test_neighbour_table_energy_matches_model(model):
    table = neighbour_table(model)
    states = 1 - 2 * np.random.default_rng(0).integers(0, 2, size=(20, model.n_sites))
    ours = [table.energy(s) for s in states]
    np.testing.assert_allclose(ours, model.energy(states), atol=1e-12)


def test_bad_model_and_tables():
    with pytest.raises(TypeError, match=r"'model' parameter of wang_landau.*Got str"):
        wang_landau("ising")
    with pytest.raises(ValueError, match="'neighbours' parameter of NeighbourTable"):
        NeighbourTable([[1], [2]], [[1.0], [1.0]], [0.0, 0.0])
    with pytest.raises(ValueError, match="'couplings' parameter of NeighbourTable"):
        NeighbourTable([[1], [0]], [[1.0]], [0.0, 0.0])
    with pytest.raises(ValueError, match="'field' parameter of NeighbourTable"):
        NeighbourTable([[1], [0]], [[1.0], [1.0]], [0.0, np.nan])
    incommensurate = NeighbourTable.from_bonds(4, [(0, 1), (2, 3)], [1.0, math.pi])
    with pytest.raises(ValueError, match="bin_width"):
        wang_landau(incommensurate)
