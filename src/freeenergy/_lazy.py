"""Import machinery of the package.

- Attributes imported on first use (PEP 562), so that ``import freeenergy`` does not pay for torch
  until a torch-based name is touched.
- The module paths of the 0.1 layout, kept importable for one release with a DeprecationWarning:
  ``import freeenergy.thermo`` (or ``from freeenergy.variational import ...``) still works and gives
  the module at its new place, :mod:`freeenergy.spectra.thermo`; the warning names the new path.
- Renamed attributes, likewise (:func:`renamed_attributes`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Callable


def lazy_attributes(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` resolving each of ``names`` (attribute -> module) on demand.

    A name that maps to a module of that name is the module itself (``fe.estimate``,
    ``fe.variational`` -> :mod:`freeenergy.estimate.variational`)."""

    def __getattr__(name: str) -> object:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(names[name])
        return module if names[name].rsplit(".", 1)[-1] == name else getattr(module, name)

    return __getattr__


def moved_attributes(package: str, moved: dict[str, str],
                     fallback: Callable[[str], object] | None = None) -> Callable[[str], object]:
    """A module ``__getattr__`` for names that moved to another module (name -> new module):
    each still resolves, with a DeprecationWarning naming the new place; other names go to
    ``fallback`` (another ``__getattr__``) or raise AttributeError."""

    def __getattr__(name: str) -> object:
        if name in moved:
            warnings.warn(f"{package}.{name} moved to {moved[name]}.{name} in freeenergy 0.2; import it "
                          f"from there (the old place goes in the next release).", DeprecationWarning,
                          stacklevel=2)
            return getattr(importlib.import_module(moved[name]), name)
        if fallback is not None:
            return fallback(name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


def renamed_attributes(module: str, renames: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that gives each old name of ``renames`` (old -> new) the object
    now called ``new``, with a DeprecationWarning naming both (old pickles still load)."""

    def __getattr__(name: str) -> object:
        if name not in renames:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warnings.warn(f"{module}.{name} is now {module}.{renames[name]} (renamed in freeenergy 0.2; "
                      f"the old name goes in the next release).", DeprecationWarning, stacklevel=2)
        return getattr(sys.modules[module], renames[name])

    return __getattr__


#: old module -> new module (``freeenergy.report``, once the HTML writer, is now the report
#: package; the writer is :mod:`freeenergy.report.html`)
MOVED = {
    "freeenergy.thermo": "freeenergy.spectra.thermo",
    "freeenergy.dos": "freeenergy.spectra.dos",
    "freeenergy.legendre": "freeenergy.spectra.legendre",
    "freeenergy.ensembles": "freeenergy.spectra.ensembles",
    "freeenergy.laplace": "freeenergy.spectra.laplace",
    "freeenergy.models.ising": "freeenergy.systems.ising",
    "freeenergy.models.chain": "freeenergy.systems.chain",
    "freeenergy.models.kaufman": "freeenergy.systems.kaufman",
    "freeenergy.models.beale": "freeenergy.systems.beale",
    "freeenergy.wang_landau": "freeenergy.sampling.wang_landau",
    "freeenergy.variational": "freeenergy.estimate.variational",
    "freeenergy.tour": "freeenergy.report.tour",
    "freeenergy.plots": "freeenergy.report.plots",
    "freeenergy.chapters": "freeenergy.report.chapters",
}


def _new_path(old: str) -> str | None:
    """The module an old path now names: a moved module, or a module inside a moved package."""
    if old in MOVED:
        return MOVED[old]
    for before, after in MOVED.items():
        if old.startswith(before + "."):
            return after + old[len(before):]
    return None


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path and loads it as the module at the new one (the same module object)."""

    def __init__(self):
        self._specs: dict[str, object] = {}

    def find_spec(self, fullname, path=None, target=None):
        new = _new_path(fullname)
        if new is None or importlib.util.find_spec(new) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = _new_path(spec.name)
        warnings.warn(f"{spec.name} moved to {new} in freeenergy 0.2; import it from there "
                      f"(the old path goes in the next release).", DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        self._specs[spec.name] = module.__spec__  # the import system overwrites it with ours
        return module

    def exec_module(self, module):
        """Nothing to run (the module at the new path is loaded); put its own spec back."""
        for old, original in list(self._specs.items()):
            if original.name == module.__name__:
                module.__spec__ = self._specs.pop(old)


def install_moved_modules() -> None:
    """Put the alias finder in front of the import system (once)."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Alias())
