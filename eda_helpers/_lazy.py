"""Public names imported on first use, so that ``import eda_helpers`` stays quick.

A package lists where each of its public names lives; :func:`attach` returns the
module-level ``__getattr__`` and ``__dir__`` that import a name's module the first time
the name is read (PEP 562), as scikit-image's ``lazy_loader.attach`` does. ``__all__``
and ``dir()`` list every name from the start, and type checkers see the real imports
under ``if TYPE_CHECKING:`` in the package itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attach(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose public names live in modules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Each public name and the module (relative to ``package``, such as ``".io"``)
        that defines it; a module listed under its own name (``"rsna": ".rsna"``) is the
        module itself. Other submodules are imported when read as attributes, as they
        would be after an eager import, but are not listed.

    Returns
    -------
    (__getattr__, __dir__)
    """

    def __getattr__(name: str) -> Any:
        where = names.get(name)
        if where is None and name.startswith("_"):
            # Dunder probes (__wrapped__, IPython's canaries) and private modules: no search.
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if where is None:
            # A submodule not imported yet (``eh.geometry``) is found as before.
            try:
                module = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
            return module
        module = importlib.import_module(where, package)
        value = module if where.lstrip(".") == name else getattr(module, name)
        # Stored on the package, so that the next look-up does not come back here.
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__
