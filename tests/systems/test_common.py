"""Tests of freeenergy.systems._common: IsingBase methods shared by IsingChain and IsingLattice."""

import numpy as np
import pytest

import freeenergy as fe


@pytest.mark.parametrize("model", [fe.IsingChain(6, J=0.7, h=0.3), fe.IsingLattice(3, 3, J=1.0)])
def test_log_prob_is_normalised_over_all_states(model):
    """sum_s exp(log p(s)) = 1 over all 2^N states, and log p ranks states by energy."""
    n = model.n_sites
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    states = 1 - 2 * bits
    logp = model.log_prob(states, T=1.7)
    assert np.logaddexp.reduce(logp) == pytest.approx(0.0, abs=1e-12)
    assert np.argmax(logp) == np.argmin(model.energy(states))
    with pytest.raises(ValueError, match="log_prob"):
        model.log_prob(states, T=0.0)
    with pytest.raises(ValueError, match="log_prob"):
        model.log_prob(states, T=[1.0, 2.0])
