"""Running the command line in a test (importable because pytest puts ``tests/`` on ``sys.path``)."""

from freeenergy.cli import build_parser, main


def run(argv, capsys):
    """``freeenergy ARGV`` through ``main``: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_raising(argv, capsys):
    """The command of ``ARGV`` without ``main``'s error handling, so that a test sees the exception
    itself (a ``CLIError``, say): (exit status, stdout, stderr)."""
    args = build_parser().parse_args([str(a) for a in argv])
    code = args.run(args)
    out, err = capsys.readouterr()
    return code, out, err
