"""The 0.1 module paths still import, with a DeprecationWarning that names the new path."""

import importlib
import sys

import pytest

from freeenergy._lazy import MOVED


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_path_gives_the_module_at_its_new_place(old, new):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"^{old} moved to {new} in freeenergy 0.2") as rec:
        __import__(old)  # what the statement `import freeenergy.thermo` runs
    assert sys.modules[old] is importlib.import_module(new)
    assert rec[0].filename == __file__  # the warning points at the import, not at importlib


def test_from_import_of_an_old_module_path():
    sys.modules.pop("freeenergy.variational", None)
    with pytest.warns(DeprecationWarning, match="freeenergy.estimate.variational"):
        from freeenergy.variational import helmholtz_free_energy
    from freeenergy.estimate.variational import helmholtz_free_energy as new
    assert helmholtz_free_energy is new


def test_unknown_submodules_still_fail():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("freeenergy.no_such_module")
