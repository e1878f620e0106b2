"""Tests of freeenergy.cli (main, build_parser): --help, exit statuses, one-line errors with status 2."""

import os
import subprocess
import sys

import pytest

from cli_helpers import run
from freeenergy.cli import main


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["thermo", "missing-file.txt", "--T", "1"], "no such file"),
        (["thermo", "{bad}", "--T", "1"], "cannot read"),
        (["thermo", "{three}", "--T", "1"], "2 columns"),
        (["thermo", "{good}", "--T", "1:2"], "not a range"),
        (["thermo", "{good}", "--T", "a:b:c"], "not a range"),
        (["thermo", "{good}", "--T", "-1"], ">= 0"),
        (["thermo", "{good}"], "required"),
        (["ising", "--size", "-3"], "--size"),
        (["ising", "--size", "x"], "invalid int"),
        (["nonsense"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_is_one_line_with_status_2(tmp_path, capsys, argv, needle):
    (tmp_path / "bad.txt").write_text("0 1\nabc\n")
    (tmp_path / "three.txt").write_text("0 1 2\n")
    (tmp_path / "good.txt").write_text("0\n1\n")
    argv = [a.format(bad=tmp_path / "bad.txt", three=tmp_path / "three.txt",
                     good=tmp_path / "good.txt") for a in argv]
    code, _out, err = run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert needle in err


def _console_script():
    return os.path.join(os.path.dirname(sys.executable), "freeenergy")


def test_python_m_and_console_script_agree():
    via_module = subprocess.run(
        [sys.executable, "-m", "freeenergy", "--help"], capture_output=True, text=True, check=True
    )
    via_script = subprocess.run(
        [_console_script(), "--help"], capture_output=True, text=True, check=True
    )
    assert via_module.stdout == via_script.stdout
    for command in ("thermo", "ising", "tour"):
        assert command in via_module.stdout


@pytest.mark.parametrize("command", ["thermo", "ising", "tour"])
def test_each_subcommand_help_has_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "example" in capsys.readouterr().out
