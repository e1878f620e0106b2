"""Tests of freeenergy.cli._common: parse_range and the clean error of an unwritable plot."""

import numpy as np

from cli_helpers import run
from freeenergy.cli._common import parse_range


def test_parse_range_forms():
    np.testing.assert_allclose(parse_range("1:2:3", "T"), [1.0, 1.5, 2.0])
    np.testing.assert_allclose(parse_range("0.5,1,2", "T"), [0.5, 1, 2])
    np.testing.assert_allclose(parse_range("3", "T"), [3.0])


def test_unwritable_plot_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "good.txt").write_text("0\n1\n")
    code, _, err = run(
        ["thermo", str(tmp_path / "good.txt"), "--T", "1", "--plot", str(tmp_path)], capsys
    )
    assert code == 2 and err.count("\n") == 1
