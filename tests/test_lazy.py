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


@pytest.mark.parametrize(("package", "name", "new"), [
    ("freeenergy.models", "IsingLattice", "freeenergy.systems"),
    ("freeenergy.models", "onsager_free_energy", "freeenergy.systems"),
    ("freeenergy.report", "write_report", "freeenergy.report.html"),
    ("freeenergy.cli", "parse_range", "freeenergy.cli._common"),
])
def test_an_attribute_at_its_old_place_still_resolves_with_a_warning(package, name, new):
    module = importlib.import_module(package)
    with pytest.warns(DeprecationWarning, match=f"^{package}.{name} moved to {new}.{name}"):
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_fe_variational_is_the_module():
    """fe.variational (a lazy name) is the variational module at its new place."""
    import freeenergy as fe
    from freeenergy.estimate import variational

    assert fe.variational is variational and fe.estimate.variational is variational


def test_a_submodule_of_a_moved_package_is_the_same_module():
    """freeenergy.chapters.base is freeenergy.report.chapters.base itself (one set of classes),
    and importing it by the old path leaves the module's own spec in place."""
    import freeenergy.report.chapters.base as base

    for name in ("freeenergy.chapters.base", "freeenergy.chapters"):
        sys.modules.pop(name, None)
    with pytest.warns(DeprecationWarning, match="^freeenergy.chapters moved to "):
        __import__("freeenergy.chapters")
    with pytest.warns(DeprecationWarning, match="^freeenergy.chapters.base moved to "
                                                "freeenergy.report.chapters.base"):
        __import__("freeenergy.chapters.base")
    assert sys.modules["freeenergy.chapters.base"] is base
    assert base.__spec__.name == "freeenergy.report.chapters.base"
