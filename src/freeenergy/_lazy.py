"""Attributes of a package imported on first use (PEP 562), so that ``import freeenergy``
does not pay for torch until a torch-based name is touched."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_attributes(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` resolving each of ``names`` (attribute -> module) on demand.

    A name that maps to ``package.name`` is that submodule itself (``fe.estimate``)."""

    def __getattr__(name: str) -> object:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(names[name])
        return module if names[name] == f"{package}.{name}" else getattr(module, name)

    return __getattr__
