"""The SGD step of ``learn._kernels.apply_update``: its contract, stated in its docstring and in
``train_rbm``'s (``u <- momentum u + lr (g - weight_decay W)``, ``theta <- theta + u``; plain SGD
``theta <- theta + lr g`` when both momentum and the decay are 0; frozen parameters are skipped).

The full CD / PCD updates are checked against a NumPy reference in ``test_cd_reference.py``; these
tests pin the parts of the step that depend on the optimiser settings alone.
"""

from __future__ import annotations

import pytest
import torch

from freeenergy.learn import _kernels as K
from freeenergy.models import BernoulliRBM
from torch_helpers import randomise

LR = 0.1


def _step(momentum: float, weight_decay: float, frozen: str | None = None):
    """One CD-1 step on a fixed random RBM and batch; returns (model, state, parameters before)."""
    rbm = randomise(BernoulliRBM(5, 4, seed=0), scale=0.7, seed=1)
    if frozen:
        getattr(rbm, frozen).requires_grad_(False)
    v0 = (torch.rand(6, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64) < 0.5).double()
    cfg = K.Config("cd", 1, 6, LR, momentum, weight_decay)
    state = K.init_state(rbm, v0, cfg, torch.Generator().manual_seed(3))
    before = {n: p.detach().clone() for n, p in rbm.named_parameters()}
    K.cd_step(rbm, K.kernel_for(rbm), v0, state, cfg)
    return rbm, state, before


@pytest.mark.parametrize("momentum", [0.0, 0.5])
@pytest.mark.parametrize("weight_decay", [0.01, 1.0])
def test_decay_shrinks_the_weights_only_by_lr_decay_w(momentum, weight_decay):
    """Same draws with and without decay: the first step differs by exactly ``-lr decay W`` on
    the weights (the velocity starts at zero) and not at all on the biases."""
    with_decay, _, before = _step(momentum, weight_decay)
    without, _, _ = _step(momentum, 0.0)
    diff = with_decay.weight.detach() - without.weight.detach()
    torch.testing.assert_close(diff, -LR * weight_decay * before["weight"], rtol=1e-12, atol=1e-14)
    for name in ("visible_bias", "hidden_bias"):
        torch.testing.assert_close(getattr(with_decay, name), getattr(without, name), rtol=0, atol=1e-15)


def test_plain_sgd_leaves_the_velocity_unused():
    """With momentum 0 and no decay the step is plain SGD: no velocity is accumulated."""
    _, state, _ = _step(0.0, 0.0)
    for name, u in state.velocity.items():
        assert torch.count_nonzero(u) == 0, name


@pytest.mark.parametrize("momentum", [0.0, 0.5])
@pytest.mark.parametrize("frozen", ["weight", "visible_bias", "hidden_bias"])
def test_a_frozen_parameter_is_skipped_and_the_others_still_move(frozen, momentum):
    rbm, _, before = _step(momentum, 0.01, frozen=frozen)
    for name, p in rbm.named_parameters():
        moved = not torch.equal(p.detach(), before[name])
        assert moved == (name != frozen), name
