"""Validation of public arguments, shared by every module.

Errors follow one format: "The 'NAME' parameter of OWNER must be WHAT. Got VALUE instead."
so a caller always learns which argument was wrong, what came and what is allowed.
"""

from __future__ import annotations

import inspect
import numbers
import os
import warnings
from pathlib import Path

import numpy as np

#: Frames from files under these paths count as the library's own in :func:`warn_caller`. A
#: harness that wraps the library's functions (mutmut's trampolines) may append its own path.
internal_paths = [os.path.join(Path(__file__).resolve().parent, "")]  # with a trailing separator


class InputError(ValueError):
    """Bad input to the library: an argument, a data file or a model file. The message says which
    and what is allowed. The command line turns these (with its own errors and missing files) into
    one line and exit status 2; any other exception is a bug and keeps its traceback."""


class InputTypeError(InputError, TypeError):
    """An argument of the wrong type (also a :class:`TypeError`)."""


class Description(str):
    """A value already put in words ("a tensor with a negative entry"): :func:`fail` shows it as is."""


def _describe(value: object) -> str:
    if isinstance(value, Description):
        return str(value)
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return repr(value)


def fail(name: str, owner: str, expected: str, value: object) -> InputError:
    """Build the house-style :class:`InputError` for argument ``name`` of ``owner``."""
    return InputError(
        f"The {name!r} parameter of {owner} must be {expected}. Got {_describe(value)} instead."
    )


def warn_caller(warning: Warning | str, category: type[Warning] | None = None) -> None:
    """Issue ``warning`` attributed to the first stack frame outside this package.

    A fixed ``stacklevel`` breaks whenever the chain of internal calls between a public function
    and the ``warn`` changes; walking the stack points the warning at the user's line however
    deep inside the package it was raised.
    """
    level, frame = 1, inspect.currentframe()
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
            tuple(internal_paths)):
        frame, level = frame.f_back, level + 1
    warnings.warn(warning, category, stacklevel=level)


def check_int(name: str, value: object, owner: str, minimum: int | None = None) -> int:
    """Return ``value`` as an int, raising if it is not an integer >= ``minimum``."""
    bound = "" if minimum is None else f" >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise fail(name, owner, f"an int{bound}", value)
    if minimum is not None and value < minimum:
        raise fail(name, owner, f"an int{bound}", value)
    return int(value)


def check_real(name: str, value: object, owner: str) -> float:
    """Return ``value`` as a finite float, raising otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise fail(name, owner, "a finite real number", value)
    return float(value)


def temperatures(
    T: object, beta: object, owner: str = "this function"
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate a temperature argument given as exactly one of ``T`` or ``beta``.

    Parameters
    ----------
    T, beta : float or 1-D array_like or None
        Temperature (k_B = 1, energy units) or inverse temperature. Exactly one is given.
        ``T = 0`` is ``beta = inf`` and ``T = inf`` is ``beta = 0``; both are allowed.
    owner : str
        Name of the public function, used in error messages.

    Returns
    -------
    T, beta : ndarray of float64, shape (m,)
        Both forms, consistent with each other.
    is_scalar : bool
        Whether the caller passed a scalar (results should then be scalars too).
    """
    if (T is None) == (beta is None):
        given = "both" if T is not None else "neither"
        raise InputError(
            f"{owner} needs exactly one of 'T' (temperature) or 'beta' (inverse temperature); "
            f"got {given}."
        )
    name, value = ("T", T) if T is not None else ("beta", beta)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail(name, owner, "a real number or a 1-D array of them", value) from None
    if arr.ndim > 1:
        raise fail(name, owner, "a scalar or a 1-D array", arr)
    if arr.size == 0:
        raise fail(name, owner, "non-empty", arr)
    bad = np.isnan(arr) | (arr < 0)
    if bad.any():
        raise fail(name, owner, "a number >= 0 (no NaN)", arr.ravel()[bad.ravel()][0].item())
    is_scalar = arr.ndim == 0
    arr = np.atleast_1d(arr).copy()
    with np.errstate(divide="ignore"):
        other = 1.0 / arr
    return (arr, other, is_scalar) if name == "T" else (other, arr, is_scalar)


def check_bool(name: str, value: object, owner: str) -> bool:
    """Return ``value`` if it is a bool (not merely truthy), else raise."""
    if not isinstance(value, bool):
        raise fail(name, owner, "a bool", value)
    return value
