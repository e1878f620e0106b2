"""The tour chapter "Helmholtz free energy and the bits-back argument" (quick mode)."""

import json
import math

import pytest

from freeenergy._io import dumps
from freeenergy.report.chapters.helmholtz_bits_back import chapter
from freeenergy.report.tour import run_tour


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    result = run_tour(out, quick=True, progress=False, chapters=[chapter])  # report + results.json too
    return out, result.sections[0]


def test_writes_its_figures(section):
    out, sec = section
    assert sec.slug == "helmholtz_bits_back"
    assert len(sec.figures) == 2
    for fig in sec.figures:
        path = out / fig.file
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((out / "results.json").read_text())
    assert "helmholtz_bits_back" in json.dumps(results)
    assert "bits-back" in (out / "report.html").read_text()


def test_numbers_obey_the_variational_inequalities(section):
    _, sec = section
    numbers = json.loads(dumps(sec.numbers))  # machine-readable
    models = numbers["models"]
    assert len(models) == 3
    for row in models.values():
        n, b = row["nats"], row["bits"]
        assert abs(n["free_energy"] - (n["energy"] - n["entropy"])) < 1e-9
        assert row["max_abs_F_minus_E_plus_H"] < 1e-9
        for key, value in n.items():
            if value is not None:
                assert b[key] == pytest.approx(value / math.log(2), rel=1e-12)
        if n["gap"] is not None:
            assert n["free_energy"] >= n["exact_neg_log_likelihood"] - 1e-9
            assert n["gap"] >= -1e-9 and row["min_gap"] >= -1e-9
            assert n["gap"] == pytest.approx(n["free_energy"] - n["exact_neg_log_likelihood"], abs=1e-9)
    hm_rows = [r for r in models.values() if r["nats"]["gap"] is not None]
    assert len(hm_rows) == 2
    vae = next(r for r in models.values() if r["nats"]["gap"] is None)
    assert vae["iwae_neg_log_likelihood"]["k"] == 500
    assert (
        vae["nats"]["free_energy"] >= vae["iwae_neg_log_likelihood"]["nats"] - 3 * vae["free_energy_stderr"]
    )


def test_reweighted_wake_sleep_is_reasonable(section):
    _, sec = section
    rws = sec.numbers["models"]["reweighted wake-sleep (k=5)"]["nats"]
    # 64 binary pixels cost 64 log 2 = 44.4 nats raw; a trained model does far better
    assert 10 < rws["exact_neg_log_likelihood"] < 30
    assert 0 <= rws["gap"] < 2
    for h in sec.numbers["histories"].values():
        assert h["test_neg_log_likelihood"][-1] < h["test_neg_log_likelihood"][0]
        assert min(h["test_gap"]) >= -1e-9
        assert all(
            f >= e - 1e-9 for f, e in zip(h["test_free_energy"], h["test_neg_log_likelihood"], strict=True)
        )
    assert any("bits" in label for label, _ in sec.table)
    assert any("bits-back" in p.lower() for p in sec.paragraphs)
