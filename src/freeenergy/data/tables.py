"""Reading user data files.

``load_spectrum`` reads energy levels, optionally with a degeneracy column, from ``.npy``,
``.txt`` or ``.csv`` files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from freeenergy._params import InputError

__all__ = ["SpectrumFileError", "load_spectrum", "load_table"]


class SpectrumFileError(InputError):
    """A spectrum file is missing, unreadable or malformed; the message says which and why."""


def _read_array(path: Path) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        table = np.load(path, allow_pickle=False)
        if not isinstance(table, np.ndarray):  # an .npz archive under a .npy name
            raise SpectrumFileError(f"{path}: holds an archive of arrays (.npz), not one array")
        return table
    if suffix in (".txt", ".csv", ".dat"):
        text = path.read_text(encoding="utf-8")
        delimiter = "," if suffix == ".csv" or "," in text else None
        rows = [
            line.split("#", 1)[0].strip()
            for line in text.splitlines()
        ]
        rows = [r for r in rows if r]
        table = [[float(v) for v in r.split(delimiter)] for r in rows]
        widths = {len(r) for r in table}
        if len(widths) > 1:
            raise SpectrumFileError(f"{path}: rows have different numbers of columns {sorted(widths)}")
        return np.asarray(table, dtype=np.float64)
    raise SpectrumFileError(f"{path}: unknown file type {suffix!r}; use .npy, .txt or .csv")


def load_table(path: str | os.PathLike, columns: tuple[int, ...], names: str) -> np.ndarray:
    """Read a numeric table with one of the allowed column counts.

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` array or a ``.txt`` / ``.csv`` table (whitespace or comma separated,
        ``#`` starts a comment). A 1-D array is one column.
    columns : tuple of int
        Allowed numbers of columns.
    names : str
        What the columns hold, for the error message (e.g. "energy, degeneracy").

    Returns
    -------
    ndarray, shape (rows, k)

    Raises
    ------
    SpectrumFileError
        If the file is missing or unreadable, holds non-numbers or has another column count.
    """
    path = Path(path)
    if not path.is_file():
        raise SpectrumFileError(f"{path}: no such file")
    try:
        table = _read_array(path)
    except SpectrumFileError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
        raise SpectrumFileError(f"{path}: cannot read numbers from it ({exc or 'empty file'})") from None
    if table.ndim == 1:
        table = table[:, None]
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] not in columns:
        allowed = " or ".join(str(c) for c in columns)
        raise SpectrumFileError(
            f"{path}: expected {allowed} columns ({names}); got an array of shape {table.shape}"
        )
    return table


def load_spectrum(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """Read energies and optional log-degeneracies from a file.

    Parameters
    ----------
    path : str or path-like
        See :func:`load_table`. One column: one energy per line. Two columns: energy and
        degeneracy ``g >= 0`` (a count, not its log).

    Returns
    -------
    energies : ndarray, shape (n,)
    log_degeneracy : ndarray, shape (n,) or None
        ``log g`` when a second column is present.

    Raises
    ------
    SpectrumFileError
        As :func:`load_table`, and for a negative degeneracy.
    """
    table = load_table(path, (1, 2), "energy, and optionally degeneracy")
    energies = table[:, 0]
    if table.shape[1] == 1:
        return energies, None
    g = table[:, 1]
    if np.isnan(g).any() or (g < 0).any():
        raise SpectrumFileError(f"{path}: the degeneracy column must hold counts >= 0")
    with np.errstate(divide="ignore"):
        return energies, np.log(g)
