"""Tests of freeenergy.data.tables: load_table and load_spectrum (as freeenergy.data re-exports them)."""

import pytest

from freeenergy.data import DataFileError, DownloadError, SpectrumFileError, load_spectrum, load_table


def test_table_loaders_still_importable(tmp_path):
    f = tmp_path / "e.txt"
    f.write_text("0\n1\n")
    assert load_table(f, (1,), "energy").shape == (2, 1)
    assert load_spectrum(f)[1] is None
    with pytest.raises(SpectrumFileError):
        load_spectrum(tmp_path / "missing.txt")
    assert issubclass(DataFileError, ValueError) and issubclass(DownloadError, RuntimeError)
