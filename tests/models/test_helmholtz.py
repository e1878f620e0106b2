"""Tests of freeenergy.models.helmholtz: the sigmoid belief net, its recognition net, files.

References:
- Dayan, Hinton, Neal & Zemel, "The Helmholtz Machine", Neural Computation 7 (1995): top-down
  sigmoid belief net p(x, h) with a factorised bottom-up recognition model q(h | x).
- Ground truth is the NumPy sigmoid-belief-net reference of tests/references.py (Bernoulli
  log-probabilities layer by layer), summed by brute force over every (x, z) of a tiny model
  (3-2-2): p and q must normalise exactly. Sampling frequencies, the marginal p(x) and the
  entropy of q are checked against this reference (or a closed form), never against the model's
  own log_joint / recognition_log_prob.
"""

import json
import math

import numpy as np
import pytest
import torch

from freeenergy.estimate.variational import LatentVariableModel
from freeenergy.models import BernoulliRBM, load_model
from freeenergy.models.helmholtz import HelmholtzMachine
from freeenergy.models.rbm import FORMAT
from references import (
    bernoulli_entropy,
    numpy_params,
    sbn_enumerate,
    sbn_log_joint,
    sbn_log_recognition,
    sbn_rec_logits,
)
from torch_helpers import binary, randomise


@pytest.fixture
def hm():
    return randomise(HelmholtzMachine((3, 2, 2), seed=0), scale=1.5, seed=1)


# ---------------------------------------------------------------------------- construction


def test_construction_shapes_and_seeded_init():
    a = HelmholtzMachine((6, 4, 3), seed=5)
    b = HelmholtzMachine((6, 4, 3), seed=5)
    assert (a.n_visible, a.n_latent, a.layer_sizes) == (6, 7, (6, 4, 3))
    assert a.dtype == torch.float64 and a.device.type == "cpu"
    assert [tuple(w.shape) for w in a.gen_weights] == [(6, 4), (4, 3)]
    assert [tuple(w.shape) for w in a.rec_weights] == [(6, 4), (4, 3)]
    assert [tuple(v.shape) for v in a.gen_biases] == [(6,), (4,)]
    assert [tuple(v.shape) for v in a.rec_biases] == [(4,), (3,)]
    assert a.prior_logits.shape == (3,)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert 0.005 < a.gen_weights[0].std().item() < 0.02
    c = HelmholtzMachine((6, 4, 3), seed=6)
    assert not torch.equal(a.gen_weights[0], c.gen_weights[0])
    assert HelmholtzMachine((2, 2), dtype=torch.float32).dtype == torch.float32
    assert isinstance(a, LatentVariableModel)


def test_parameter_groups_partition_the_parameters():
    model = HelmholtzMachine((5, 3, 2), seed=0)
    gen, rec = model.generative_parameters(), model.recognition_parameters()
    ids = {id(p) for p in gen} | {id(p) for p in rec}
    assert len(gen) + len(rec) == len(ids) == len(list(model.parameters()))
    assert any(p is model.prior_logits for p in gen)


@pytest.mark.parametrize(
    ("sizes", "match"),
    [(5, "layer_sizes"), ((5,), "layer_sizes"), ((5, 0), ">= 1"), ((5, 2.5), "an int"), ((True, 2), "int")],
)
def test_bad_layer_sizes(sizes, match):
    with pytest.raises(ValueError, match=match):
        HelmholtzMachine(sizes)


def test_bad_dtype_device_seed():
    with pytest.raises(ValueError, match="'dtype' parameter of HelmholtzMachine"):
        HelmholtzMachine((3, 2), dtype=torch.int32)
    with pytest.raises(ValueError, match="'device' parameter"):
        HelmholtzMachine((3, 2), device="nowhere")
    with pytest.raises(ValueError, match="'seed' parameter"):
        HelmholtzMachine((3, 2), seed=-1)


# ---------------------------------------------------------------------------- probabilities


def test_log_joint_matches_reference_and_normalises(hm):
    xs, zs = binary(3), binary(4)
    got = hm.log_joint(xs, zs[:, None, :]).detach().numpy()  # (16, 8)
    ref = sbn_log_joint(numpy_params(hm), xs.numpy(), zs.numpy()[:, None, :])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    assert math.isclose(np.exp(got).sum(), 1.0, abs_tol=1e-12)


def test_recognition_log_prob_matches_reference_and_normalises(hm):
    xs, zs = binary(3), hm.latent_configurations()
    got = hm.recognition_log_prob(xs, zs[:, None, :]).detach().numpy()
    ref = sbn_log_recognition(numpy_params(hm), xs.numpy(), zs.numpy()[:, None, :])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.exp(got).sum(0), np.ones(8), atol=1e-12)


def test_recognition_sample_frequencies_and_log_q(hm):
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    z, log_q = hm.recognition_sample(x, 20000, generator=torch.Generator().manual_seed(0))
    assert z.shape == (20000, 2, 4) and log_q.shape == (20000, 2)
    table = sbn_enumerate(numpy_params(hm), x.numpy()).log_q  # log q(z | x) by the code sum_j z_j 2^j
    codes = (z.numpy() @ 2 ** np.arange(4)).astype(int)
    np.testing.assert_allclose(log_q.detach().numpy(), table[codes, [0, 1]], rtol=0, atol=1e-12)
    q = np.exp(table)
    for col in range(2):
        freq = np.bincount(codes[:, col], minlength=16) / 20000
        sigma = np.sqrt(q[:, col] * (1 - q[:, col]) / 20000) + 1e-12
        assert np.max(np.abs(freq - q[:, col]) / sigma) < 5


def test_recognition_entropy_analytic_only_for_one_layer():
    """One layer: q(z | x) = prod_j Bernoulli(p_j), so H = -sum_j [p_j log p_j + (1 - p_j) log(1 - p_j)]."""
    one = randomise(HelmholtzMachine((4, 3), seed=0), seed=3)
    x = binary(4)
    closed = bernoulli_entropy(sbn_rec_logits(numpy_params(one), 0, x.numpy()))
    np.testing.assert_allclose(one.recognition_entropy(x).detach().numpy(), closed, rtol=0, atol=1e-12)
    assert HelmholtzMachine((4, 3, 2), seed=0).recognition_entropy(x) is None


def test_latent_configurations():
    configs = HelmholtzMachine((3, 2, 3), seed=0).latent_configurations()
    assert configs.shape == (32, 5) and configs.dtype == torch.float64
    assert len({tuple(r) for r in configs.tolist()}) == 32
    assert HelmholtzMachine((3, 20), seed=0).latent_configurations().shape == (1 << 20, 20)
    assert HelmholtzMachine((3, 15, 6), seed=0).latent_configurations() is None


def test_gradients_reach_the_right_parameters(hm):
    x = binary(3)
    z, _ = hm.recognition_sample(x, 3, generator=torch.Generator().manual_seed(0))
    hm.log_joint(x, z).sum().backward()
    assert all(p.grad is not None for p in hm.generative_parameters())
    assert all(p.grad is None for p in hm.recognition_parameters())
    hm.zero_grad(set_to_none=True)
    hm.recognition_log_prob(x, z).sum().backward()
    assert all(p.grad is not None for p in hm.recognition_parameters())


# ---------------------------------------------------------------------------- sampling


def test_ancestral_samples_follow_the_marginal(hm):
    n = 40000
    x = hm.sample(n, seed=0)
    assert x.shape == (n, 3) and set(x.unique().tolist()) <= {0.0, 1.0}
    # p(x) = sum_z p(x, z) by the NumPy reference; row r of binary(3) has code r below
    p_x = np.exp(-sbn_enumerate(numpy_params(hm), binary(3).numpy()).exact)
    codes = (x * torch.tensor([4.0, 2.0, 1.0], dtype=torch.float64)).sum(-1).long().numpy()
    freq = np.bincount(codes, minlength=8) / n
    sigma = np.sqrt(p_x * (1 - p_x) / n)
    assert np.max(np.abs(freq - p_x) / sigma) < 5
    assert torch.equal(hm.sample(10, seed=3), hm.sample(10, seed=3))
    xz = hm.sample(5, seed=3, return_latent=True)
    assert torch.equal(xz[0], hm.sample(5, seed=3)) and xz[1].shape == (5, 4)


def test_recognise_gives_every_layer(hm):
    x = binary(3)
    layers = hm.recognise(x, seed=1)
    assert [tuple(h.shape) for h in layers] == [(8, 2), (8, 2)]
    again = hm.recognise(x, seed=1)
    assert all(torch.equal(a, b) for a, b in zip(layers, again, strict=True))


# ---------------------------------------------------------------------------- validation


def test_input_validation(hm):
    with pytest.raises(ValueError, match=r"'x' parameter of HelmholtzMachine.log_joint must hold 0/1 "
                                         r"values .*0\.5"):
        hm.log_joint([[0.5, 0.0, 1.0]], torch.zeros(1, 4))
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3\)"):
        hm.log_joint(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        hm.log_joint(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="'z' parameter"):
        hm.log_joint(torch.zeros(2, 3), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="'z' parameter"):
        hm.recognition_log_prob(torch.zeros(2, 3), torch.full((2, 4), 2.0))
    with pytest.raises(ValueError, match="'n' parameter"):
        hm.recognition_sample(torch.zeros(2, 3), 0)
    with pytest.raises(TypeError, match="'generator' parameter"):
        hm.recognition_sample(torch.zeros(2, 3), 1, generator=0)
    with pytest.raises(ValueError, match="numeric"):
        hm.log_joint([["a", "b", "c"]], torch.zeros(1, 4))
    with pytest.raises(ValueError, match=r"'n' parameter of HelmholtzMachine\.sample"):
        hm.sample(0)


# ---------------------------------------------------------------------------- files


def test_save_load_round_trip(tmp_path, hm):
    path = hm.save(tmp_path / "sub" / "hm.pt")
    assert path.exists() and not list(path.parent.glob(".*tmp"))
    back = HelmholtzMachine.load(path)
    assert back.layer_sizes == hm.layer_sizes and back.dtype == torch.float64
    for (name, p), (_, q) in zip(hm.state_dict().items(), back.state_dict().items(), strict=True):
        assert torch.equal(p, q), name
    x, z = binary(3), hm.latent_configurations()[:, None, :]
    assert torch.equal(hm.log_joint(x, z), back.log_joint(x, z))
    small = HelmholtzMachine((4, 2), dtype=torch.float32, seed=1)
    assert HelmholtzMachine.load(small.save(tmp_path / "f32.pt")).dtype == torch.float32
    payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["metadata"])
    assert meta == {
        "format": FORMAT, "version": 1, "class": "HelmholtzMachine",
        "layer_sizes": [3, 2, 2], "dtype": "float64",
    }  # fmt: skip


def test_load_failures(tmp_path, hm):
    with pytest.raises(FileNotFoundError, match="No model file"):
        HelmholtzMachine.load(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="'path' parameter"):
        HelmholtzMachine.load(3)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file at all")
    with pytest.raises(ValueError, match="truncated, corrupt or not a torch archive"):
        HelmholtzMachine.load(garbage)
    good = hm.save(tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="truncated, corrupt"):
        HelmholtzMachine.load(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save(torch.zeros(3), foreign)
    with pytest.raises(ValueError, match="not a freeenergy model file"):
        HelmholtzMachine.load(foreign)
    rbm = BernoulliRBM(3, 2, seed=0).save(tmp_path / "rbm.pt")
    with pytest.raises(ValueError, match="holds a BernoulliRBM, not a HelmholtzMachine"):
        HelmholtzMachine.load(rbm)
    assert isinstance(load_model(good), HelmholtzMachine)  # the shared loader reads every model


def _rewrite(path, out, meta_change=None, state_change=None):
    payload = torch.load(path, weights_only=True)
    meta = json.loads(payload["metadata"])
    if meta_change:
        meta.update(meta_change)
    payload["metadata"] = json.dumps(meta)
    if state_change:
        state_change(payload["state_dict"])
    torch.save(payload, out)
    return out


def test_load_rejects_damaged_metadata_and_state(tmp_path, hm):
    good = hm.save(tmp_path / "good.pt")
    newer = _rewrite(good, tmp_path / "v2.pt", {"version": 2})
    with pytest.raises(ValueError, match="version 2"):
        HelmholtzMachine.load(newer)
    other = _rewrite(good, tmp_path / "fmt.pt", {"format": "something-else"})
    with pytest.raises(ValueError, match="not a freeenergy model file"):
        HelmholtzMachine.load(other)
    sizes = _rewrite(good, tmp_path / "sizes.pt", {"layer_sizes": [3, 5, 2]})
    with pytest.raises(ValueError, match="damaged"):
        HelmholtzMachine.load(sizes)
    missing = _rewrite(good, tmp_path / "missing.pt", state_change=lambda s: s.pop("gen_weights.1"))
    with pytest.raises(ValueError, match="damaged"):
        HelmholtzMachine.load(missing)
    nan = _rewrite(good, tmp_path / "nan.pt", state_change=lambda s: s["prior_logits"].fill_(math.nan))
    with pytest.raises(ValueError, match="non-finite"):
        HelmholtzMachine.load(nan)
    payload = torch.load(good, weights_only=True)
    payload["metadata"] = "{not json"
    torch.save(payload, tmp_path / "json.pt")
    with pytest.raises(ValueError, match="metadata is not JSON"):
        HelmholtzMachine.load(tmp_path / "json.pt")
