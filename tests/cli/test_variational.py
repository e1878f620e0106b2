"""`freeenergy helmholtz train | vae train | free-energy` on tiny data."""

import json
import math

import numpy as np
import pytest

from cli_helpers import run_raising as run
from freeenergy.cli import build_parser as parser
from freeenergy.cli._common import CLIError
from freeenergy.estimate.variational import helmholtz_free_energy
from freeenergy.models import HelmholtzMachine, load_model


@pytest.fixture(scope="module")
def rows_file(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("variational")
    rng = np.random.default_rng(0)
    rows = (rng.random((120, 9)) < np.linspace(0.1, 0.9, 9)).astype(np.float64)
    np.save(tmp / "rows.npy", rows)
    return tmp, rows


@pytest.fixture(scope="module")
def hm_model(rows_file):
    tmp, _ = rows_file
    path = tmp / "hm.pt"
    args = parser().parse_args(
        [
            "helmholtz",
            "train",
            "--data",
            str(tmp / "rows.npy"),
            "--layers",
            "4",
            "--method",
            "reweighted-wake-sleep",
            "--k",
            "3",
            "--epochs",
            "2",
            "--batch-size",
            "20",
            "--lr",
            "0.02",
            "--out",
            str(path),
            "--no-progress",
        ]
    )
    assert args.run(args) == 0
    return path


@pytest.fixture(scope="module")
def vae_model(rows_file):
    tmp, _ = rows_file
    path = tmp / "vae.pt"
    args = parser().parse_args(
        [
            "vae",
            "train",
            "--data",
            str(tmp / "rows.npy"),
            "--latent",
            "2",
            "--hidden",
            "8",
            "--epochs",
            "2",
            "--batch-size",
            "20",
            "--out",
            str(path),
            "--no-progress",
        ]
    )
    assert args.run(args) == 0
    return path


def test_helmholtz_train_prints_the_history_table(rows_file, capsys):
    tmp, _ = rows_file
    code, out, err = run(
        [
            "helmholtz",
            "train",
            "--data",
            tmp / "rows.npy",
            "--layers",
            "3,2",
            "--epochs",
            "2",
            "--out",
            tmp / "hm2.pt",
            "--no-progress",
        ],
        capsys,
    )
    assert code == 0 and "model written" in err
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["epoch", "objective", "F_train"]
    assert "gap_test" in lines[0] and "nll_test" in lines[0]
    assert len(lines) == 1 + 3  # epochs 0, 1, 2
    assert load_model(tmp / "hm2.pt").layer_sizes == (9, 3, 2)


def test_train_json_parses(rows_file, capsys):
    tmp, _ = rows_file
    code, out, _ = run(
        [
            "vae",
            "train",
            "--data",
            tmp / "rows.npy",
            "--latent",
            "2",
            "--hidden",
            "4",
            "--epochs",
            "1",
            "--objective",
            "iwae",
            "--k",
            "3",
            "--out",
            tmp / "v2.pt",
            "--no-progress",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    history = json.loads(out)["history"]
    assert history["epoch"] == [0, 1] and len(history["test_free_energy"]) == 2
    assert history["arguments"]["objective"] == "iwae"


def test_free_energy_matches_the_library(rows_file, hm_model, capsys):
    tmp, rows = rows_file
    code, out, _ = run(["free-energy", hm_model, "--data", tmp / "rows.npy", "--exact", "--json"], capsys)
    assert code == 0
    got = json.loads(out)
    ref = helmholtz_free_energy(load_model(hm_model), rows, n_samples=100, seed=0)
    assert got["n"] == 120 and got["energy_method"] == "exact"
    assert got["nats"]["free_energy"] == pytest.approx(ref.mean_free_energy, abs=1e-12)
    assert got["nats"]["energy"] == pytest.approx(ref.mean_energy, abs=1e-12)
    assert got["nats"]["entropy"] == pytest.approx(ref.mean_entropy, abs=1e-12)
    assert got["nats"]["exact_neg_log_likelihood"] == pytest.approx(ref.mean_exact_free_energy, abs=1e-12)
    assert got["nats"]["gap"] == pytest.approx(ref.mean_gap, abs=1e-12)
    assert got["bits"]["free_energy"] == pytest.approx(ref.mean_free_energy / math.log(2), abs=1e-12)
    assert got["nats"]["gap"] >= -1e-9

    code, out, _ = run(["free-energy", hm_model, "--data", tmp / "rows.npy"], capsys)
    assert code == 0
    table = {line[:20].strip(): line[20:].split() for line in out.splitlines() if not line.startswith("#")}
    assert float(table["free energy F[q]"][0]) == pytest.approx(ref.mean_free_energy, rel=1e-7)
    assert float(table["free energy F[q]"][1]) == pytest.approx(ref.mean_free_energy / math.log(2), rel=1e-7)
    assert float(table["gap KL(q||p(z|x))"][0]) == pytest.approx(ref.mean_gap, rel=1e-6, abs=1e-7)
    assert "exact -log p(x)" in table and "energy <E>_q" in table and "entropy H(q)" in table


def test_free_energy_of_a_vae(rows_file, vae_model, capsys):
    tmp, rows = rows_file
    code, out, _ = run(
        [
            "free-energy",
            vae_model,
            "--data",
            tmp / "rows.npy",
            "--examples",
            "30",
            "--samples",
            "50",
            "--seed",
            "3",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    got = json.loads(out)
    ref = helmholtz_free_energy(load_model(vae_model), rows[:30], n_samples=50, seed=3)
    assert got["nats"]["free_energy"] == pytest.approx(ref.mean_free_energy, abs=1e-12)
    assert got["nats"]["gap"] is None and got["nats"]["exact_neg_log_likelihood"] is None
    code, out, _ = run(["free-energy", vae_model, "--data", tmp / "rows.npy"], capsys)
    assert code == 0 and "exact -log p(x)" not in out and "free energy F[q]" in out


def test_exact_on_a_vae_is_a_one_line_error(rows_file, vae_model):
    tmp, _ = rows_file
    args = parser().parse_args(["free-energy", str(vae_model), "--data", str(tmp / "rows.npy"), "--exact"])
    with pytest.raises(CLIError, match="--exact needs binary latents") as info:
        args.run(args)
    assert "\n" not in str(info.value)


def test_an_rbm_has_no_recognition_model(rows_file, tmp_path):
    from freeenergy.models import BernoulliRBM

    tmp, _ = rows_file
    BernoulliRBM(9, 2, seed=0).save(tmp_path / "rbm.pt")
    args = parser().parse_args(["free-energy", str(tmp_path / "rbm.pt"), "--data", str(tmp / "rows.npy")])
    with pytest.raises(CLIError, match="no recognition model"):
        args.run(args)


def test_too_many_latents_for_exact(rows_file, capsys):
    tmp, _ = rows_file
    path = tmp / "big.pt"
    HelmholtzMachine((9, 21), seed=0).save(path)
    args = parser().parse_args(["free-energy", str(path), "--data", str(tmp / "rows.npy"), "--exact"])
    with pytest.raises(CLIError, match="21 latents"):
        args.run(args)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["helmholtz", "train", "--layers", "4,x"], "comma-separated integers"),
        (["helmholtz", "train", "--layers", "4,0"], ">= 1"),
        (["helmholtz", "train", "--epochs", "0"], "--epochs must be >= 1"),
        (["helmholtz", "train", "--lr", "-1"], "--lr"),
        (["vae", "train", "--latent", "0"], "--latent must be >= 1"),
        (["helmholtz", "train", "--data", "nope.npy"], "expected digits, mnist or an existing .npy"),
        (["helmholtz", "train", "--method", "cd"], "invalid choice"),
    ],
)
def test_bad_training_input_is_one_line(argv, message, tmp_path):
    with pytest.raises(CLIError, match=message) as info:
        args = parser().parse_args([*argv, "--out", str(tmp_path / "m.pt")])
        args.run(args)
    assert "\n" not in str(info.value)


def test_bad_evaluation_input_is_one_line(rows_file, hm_model, tmp_path):
    tmp, _ = rows_file
    np.save(tmp_path / "grey.npy", np.full((5, 9), 0.5))
    np.save(tmp_path / "wide.npy", np.zeros((5, 10)))
    cases = [
        ([str(tmp_path / "missing.pt")], "no such model file"),
        ([str(hm_model), "--data", str(tmp_path / "grey.npy")], "needs 0/1 data"),
        ([str(hm_model), "--data", str(tmp_path / "wide.npy")], "10 values but the model has 9"),
        ([str(hm_model), "--data", str(tmp / "rows.npy"), "--examples", "0"], "--examples must be >= 1"),
        ([str(hm_model), "--data", str(tmp / "rows.npy"), "--samples", "0"], "--samples must be >= 1"),
    ]
    for argv, message in cases:
        args = parser().parse_args(["free-energy", *argv])
        with pytest.raises(CLIError, match=message) as info:
            args.run(args)
        assert "\n" not in str(info.value)


def test_helmholtz_needs_binary_training_data(tmp_path):
    np.save(tmp_path / "grey.npy", np.full((10, 4), 0.5))
    args = parser().parse_args(
        [
            "helmholtz",
            "train",
            "--data",
            str(tmp_path / "grey.npy"),
            "--layers",
            "2",
            "--out",
            str(tmp_path / "m.pt"),
            "--no-progress",
        ]
    )
    with pytest.raises(CLIError, match="needs 0/1 data"):
        args.run(args)


def test_dynamic_binarization_trains_on_grey_rows(tmp_path, capsys):
    np.save(tmp_path / "grey.npy", np.tile(np.linspace(0.1, 0.9, 6), (40, 1)))
    argv = ["--data", tmp_path / "grey.npy", "--binarize", "dynamic", "--epochs", "2", "--batch-size",
            "10", "--no-progress", "--json"]
    for command in (["helmholtz", "train", "--layers", "2"], ["vae", "train", "--latent", "2"]):
        code, out, _ = run([*command, *argv, "--out", tmp_path / "m.pt"], capsys)
        history = json.loads(out)["history"]
        assert code == 0 and history["arguments"]["dynamic_binarization"] is True
        assert len(history["epoch"]) == 3
        assert np.isfinite(history["test_free_energy"]).all()
