"""Argument validation and warnings shared by every module (``freeenergy._params``)."""

import inspect
import warnings

import pytest

from freeenergy._params import warn_caller


def test_warn_caller_points_at_the_first_frame_outside_the_package():
    """Called from outside the package, the warning is attributed to the calling line itself."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        warn_caller("careful", UserWarning)
    assert len(rec) == 1 and rec[0].filename == __file__ and rec[0].lineno == line
    assert rec[0].category is UserWarning and str(rec[0].message) == "careful"


def test_warn_caller_accepts_a_warning_instance():
    with pytest.warns(RuntimeWarning, match="an instance") as rec:
        warn_caller(RuntimeWarning("an instance"))
    assert rec[0].filename == __file__
