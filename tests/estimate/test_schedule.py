"""Tests of freeenergy.estimate.schedule: Salakhutdinov & Murray's (2008) annealing schedule,
default_betas (500 betas on [0, 0.5), 4000 on [0.5, 0.9), 10,000 on [0.9, 1])."""

import numpy as np
import pytest

from freeenergy.estimate.schedule import default_betas


def test_default_betas_is_salakhutdinov_murray_schedule():
    b = default_betas()
    assert b.shape == (14_500,) and b.dtype == np.float64
    assert b[0] == 0.0 and b[-1] == 1.0 and (np.diff(b) > 0).all()
    # 500 on [0, 0.5), 4000 on [0.5, 0.9), 10000 on [0.9, 1]
    assert b[500] == 0.5 and b[4500] == 0.9
    assert np.allclose(np.diff(b[:501]), 1e-3) and np.allclose(np.diff(b[500:4501]), 1e-4)
    assert np.allclose(np.diff(b[4500:]), 1e-5, rtol=1e-3)
    for n in (4, 5, 29, 1000, 2000):
        short = default_betas(n)
        assert short.size == n and short[0] == 0 and short[-1] == 1 and (np.diff(short) > 0).all()
    with pytest.raises(ValueError, match="'n_betas' parameter of default_betas must be an int >= 4"):
        default_betas(3)


SCHEDULES = [(4, (1, 1, 2)), (5, (1, 1, 3)), (29, (1, 8, 20)), (43, (1, 12, 30)), (58, (2, 16, 40)),
             (14_500, (500, 4000, 10_000))]


@pytest.mark.parametrize(("n", "counts"), SCHEDULES)
def test_default_betas_exact_values(n, counts):
    """``default_betas(n)``: ``n1`` points ``0.5 i / n1`` on [0, 0.5), ``n2`` points ``0.5 + 0.4 i / n2`` on
    [0.5, 0.9) and ``n3`` points ``0.9 + 0.1 i / (n3 - 1)`` on [0.9, 1], with ``n1 : n2 : n3`` rounded
    from 1 : 8 : 20 (S&M's 500 : 4000 : 10,000), at least 1, 1 and 2. The counts are written out."""
    n1, n2, n3 = counts
    expected = np.concatenate([0.5 * np.arange(n1) / n1, 0.5 + 0.4 * np.arange(n2) / n2,
                               0.9 + 0.1 * np.arange(n3) / (n3 - 1)])
    betas = default_betas(n)
    assert betas.shape == (n,) and betas[0] == 0.0 and betas[-1] == 1.0
    np.testing.assert_allclose(betas, expected, rtol=0, atol=1e-15)
