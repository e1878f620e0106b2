"""`freeenergy rbm train | logz | sample | eval` against the library on tiny data."""

import json

import numpy as np
import pytest

from cli_helpers import run
from freeenergy.cli import main
from freeenergy.estimate.exact import exact_log_partition
from freeenergy.models import load_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rbm")
    rng = np.random.default_rng(0)
    rows = (rng.random((200, 9)) < np.linspace(0.1, 0.9, 9)).astype(np.float64)
    np.save(tmp / "rows.npy", rows)
    model = tmp / "model.pt"
    code = main(
        [
            "rbm",
            "train",
            "--data",
            str(tmp / "rows.npy"),
            "--hidden",
            "4",
            "--epochs",
            "3",
            "--batch-size",
            "20",
            "--out",
            str(model),
            "--no-progress",
            "--json",
        ]
    )
    assert code == 0
    return tmp, model


def test_train_saves_a_model_and_reports_exact_history(trained, capsys):
    tmp, _ = trained
    code, out, _ = run(
        [
            "rbm",
            "train",
            "--data",
            str(tmp / "rows.npy"),
            "--hidden",
            "4",
            "--epochs",
            "2",
            "--out",
            str(tmp / "again.pt"),
            "--no-progress",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    history = json.loads(out)["history"]
    assert history["epoch"] == [0, 1, 2]
    rbm = load_model(tmp / "again.pt")
    assert abs(history["log_z"][-1] - exact_log_partition(rbm).log_z) < 1e-9


def test_logz_exact_and_ais_agree(trained, capsys):
    _, model = trained
    code, out, _ = run(["rbm", "logz", str(model), "--method", "exact", "--json"], capsys)
    assert code == 0
    exact = json.loads(out)["log_z"]
    assert exact == pytest.approx(exact_log_partition(load_model(model)).log_z, rel=1e-14)
    code, out, _ = run(
        ["rbm", "logz", str(model), "--betas", "1000", "--chains", "200", "--no-progress", "--json"], capsys
    )
    est = json.loads(out)
    assert code == 0 and est["method"] == "ais"
    assert abs(est["log_z"] - exact) < 4 * est["stderr"] + 1e-3  # fixed seed 0


def test_sample_writes_npy_and_eval_brackets(trained, capsys):
    tmp, model = trained
    code, _, _ = run(
        [
            "rbm",
            "sample",
            str(model),
            "--n",
            "5",
            "--steps",
            "10",
            "--out",
            str(tmp / "s.npy"),
            "--plot",
            str(tmp / "grid.png"),
        ],
        capsys,
    )
    assert code == 0
    samples = np.load(tmp / "s.npy")
    assert samples.shape == (5, 9) and set(np.unique(samples)) <= {0.0, 1.0}
    assert (tmp / "grid.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = run(
        ["rbm", "eval", str(model), "--data", str(tmp / "rows.npy"), "--method", "exact", "--json"], capsys
    )
    exact = json.loads(out)
    code, out, _ = run(
        [
            "rbm",
            "eval",
            str(model),
            "--data",
            str(tmp / "rows.npy"),
            "--betas",
            "1000",
            "--no-progress",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    ais = json.loads(out)
    assert abs(ais["forward_ais"] - exact["log_likelihood"]) < 0.05
    assert abs(ais["raise"] - exact["log_likelihood"]) < 0.05


def test_rbm_errors_are_one_line(tmp_path, capsys):
    code, _, err = run(["rbm", "logz", str(tmp_path / "missing.pt")], capsys)
    assert code == 2 and "no such model file" in err
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((3, 4), 2.0))
    code, _, err = run(["rbm", "train", "--data", str(bad), "--out", str(tmp_path / "m.pt")], capsys)
    assert code == 2 and "[0, 1]" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "junk.pt").write_text("not a model")
    code, _, err = run(["rbm", "sample", str(tmp_path / "junk.pt")], capsys)
    assert code == 2 and "junk.pt" in err
