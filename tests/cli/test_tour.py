"""Tests of freeenergy.cli.tour: `freeenergy tour --quick` prints a summary and the report's path."""

from freeenergy.cli import main


def test_cli_tour_prints_summary_and_report_path(tmp_path, capsys):
    assert main(["tour", "--quick", "--no-progress", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "report:" in out and str(tmp_path / "r" / "report.html") in out
