"""Atomic writes: a failed write leaves the user's existing file untouched."""

import pytest

from freeenergy._io import atomic_write, atomic_write_text, dumps


def test_failed_write_keeps_old_file(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("precious")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_atomic_write_text_replaces(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"


def test_dumps_is_standard_json():
    assert dumps({"a": float("inf"), "b": [1.0, float("-inf")]}) == (
        '{\n  "a": "inf",\n  "b": [\n    1.0,\n    "-inf"\n  ]\n}'
    )
