"""One vocabulary for checking arguments and for pointing warnings at the user's line.

Every public function checks its arguments through these helpers, so that every message
has one form: ``"<parameter>: expected <rule>, got <what was received>; <what to do>"``.
A wrong *type* raises :class:`TypeError`, a wrong *value* of the right type raises
:class:`ValueError`.

:func:`warn` finds the first stack frame outside this package and attributes the warning
to it, whatever the call depth inside the package.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "axes",
    "boolean",
    "choice",
    "identifier",
    "integer",
    "path",
    "paths",
    "points",
    "real",
    "table",
    "warn",
]

_C = TypeVar("_C")

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_PATH = type(Path())  # PosixPath or WindowsPath: what Path(...) returns here


def _got(value: object) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(value).__name__} {text}"


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"between {minimum} and {maximum}"
    if minimum is not None:
        return f">= {minimum}"
    return f"<= {maximum}"


def integer(
    name: str,
    value: object,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """``value`` as a Python int, or an error naming ``name``.

    Examples
    --------
    >>> integer("bins", 10, minimum=1)
    10
    >>> integer("bins", 0, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: bins: expected an integer >= 1, got 0
    >>> integer("bins", 2.5)
    Traceback (most recent call last):
    ...
    TypeError: bins: expected an integer, got float 2.5; pass a whole number such as 2
    """
    if not _is_int(value):
        example = int(value) if isinstance(value, float) and math.isfinite(value) else 1
        raise TypeError(
            f"{name}: expected an integer, got {_got(value)}; pass a whole number such as {example}"
        )
    out = int(value)  # type: ignore[call-overload]
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        raise ValueError(f"{name}: expected an integer {_bounds(minimum, maximum)}, got {out}")
    return out


def real(
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    finite: bool = True,
) -> float:
    """``value`` as a Python float, or an error naming ``name``.

    Examples
    --------
    >>> real("size_mm", 40)
    40.0
    >>> real("size_mm", float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: size_mm: expected a finite number, got nan
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}: expected a number, got {_got(value)}")
    out = float(value)
    if finite and not math.isfinite(out):
        raise ValueError(f"{name}: expected a finite number, got {out}")
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        raise ValueError(f"{name}: expected a number {_bounds(minimum, maximum)}, got {out}")
    return out


def choice(name: str, value: _C, choices: Sequence[_C]) -> _C:
    """``value`` if it is one of ``choices``, else a ValueError listing them.

    Examples
    --------
    >>> choice("method", "minmax", ("percentile", "minmax"))
    'minmax'
    >>> choice("method", "max", ("percentile", "minmax"))
    Traceback (most recent call last):
    ...
    ValueError: method: expected one of 'percentile', 'minmax', got str 'max'
    """
    try:
        ok = value in choices
    except TypeError:  # unhashable or incomparable
        ok = False
    if not ok:
        raise ValueError(
            f"{name}: expected one of {', '.join(repr(c) for c in choices)}, got {_got(value)}"
        )
    return value


def identifier(name: str, value: object) -> int:
    """A study or series id given as an int, a digit string or a folder named by it.

    Examples
    --------
    >>> identifier("study_id", "4003253")
    4003253
    >>> identifier("study_id", 4003253)
    4003253
    >>> identifier("study_id", "abc")
    Traceback (most recent call last):
    ...
    ValueError: study_id: expected an id (an int or a string of digits), got str 'abc'
    """
    if _is_int(value):
        return int(value)  # type: ignore[call-overload]
    if isinstance(value, str | os.PathLike):
        text = Path(os.fspath(value)).name.strip()
        if text.isdigit():
            return int(text)
        raise ValueError(
            f"{name}: expected an id (an int or a string of digits), got {_got(value)}"
        )
    raise TypeError(f"{name}: expected an id (an int or a string of digits), got {_got(value)}")


def path(name: str, value: object) -> Path:
    """``value`` as a Path, or a TypeError naming ``name``."""
    if isinstance(value, str | os.PathLike):
        return Path(os.fspath(value))
    raise TypeError(f"{name}: expected a path (str or os.PathLike), got {_got(value)}")


def paths(name: str, value: object) -> list[Path]:
    """A sequence (not a single string) of str or path-like, as a list of Paths.

    Examples
    --------
    >>> paths("files", ["a.dcm", Path("b.dcm")])
    [PosixPath('a.dcm'), PosixPath('b.dcm')]
    >>> paths("files", "a.dcm")
    Traceback (most recent call last):
    ...
    TypeError: files: expected a list of paths, got str 'a.dcm'; wrap one in a list: files=['a.dcm']
    """
    if isinstance(value, str | bytes | os.PathLike) or not isinstance(value, Iterable):
        raise TypeError(
            f"{name}: expected a list of paths, got {_got(value)}; wrap one in a list: "
            f"{name}=[{value!r}]"
        )
    out = []
    for i, p in enumerate(value):
        if type(p) is _PATH:  # already one (Paths are immutable): Path(p) costs 3 us a file
            out.append(p)
        elif isinstance(p, str | os.PathLike):
            out.append(Path(os.fspath(p)))
        else:
            raise TypeError(f"{name}: expected paths (str or os.PathLike), item {i} is {_got(p)}")
    return out


def boolean(name: str, value: object, *, none: bool = False) -> bool | None:
    """``value`` if it is a bool (or None when ``none``), else a TypeError naming ``name``.

    Examples
    --------
    >>> boolean("recursive", "yes")
    Traceback (most recent call last):
    ...
    TypeError: recursive: expected True or False, got str 'yes'
    """
    if value is None and none:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    rule = "True, False or None" if none else "True or False"
    raise TypeError(f"{name}: expected {rule}, got {_got(value)}")


def points(name: str, value: object) -> list[Any]:
    """An iterable of :class:`~eda_helpers.volume.Point` with finite x, y, as a list.

    ``None`` gives an empty list.
    """
    from .volume import Point

    if value is None:
        return []
    if isinstance(value, Point) or not isinstance(value, Iterable) or isinstance(value, str):
        raise TypeError(
            f"{name}: expected an iterable of Point, got {type(value).__name__}; wrap a single "
            f"point in a list: {name}=[Point(...)]"
        )
    out = list(value)
    for i, p in enumerate(out):
        if not isinstance(p, Point):
            raise TypeError(
                f"{name}: expected Point objects, item {i} is {_got(p)}; build them with "
                f"eda_helpers.Point(instance_number, x, y, text)"
            )
        try:
            finite = math.isfinite(float(p.x)) and math.isfinite(float(p.y))
        except (TypeError, ValueError):
            finite = False
        if not finite:
            raise ValueError(
                f"{name}: expected finite pixel coordinates (column, row), item {i} has "
                f"x={p.x!r}, y={p.y!r}; leave out the points without a position"
            )
    return out


def axes(name: str, value: object) -> Any:
    """``value`` if it is a matplotlib Axes or None, else a TypeError naming ``name``."""
    if value is None:
        return None
    from matplotlib.axes import Axes

    if not isinstance(value, Axes):
        raise TypeError(
            f"{name}: expected a matplotlib Axes or None, got {_got(value)}; pass "
            f"{name}=plt.subplots()[1] or leave it out"
        )
    return value


def table(name: str, value: object, columns: Sequence[str], *, made_by: str) -> Any:
    """``value`` if it is a pandas DataFrame with ``columns``, else an error naming ``name``.

    ``made_by`` names the function whose table is expected, for the fix.

    Examples
    --------
    >>> import pandas as pd
    >>> table("points", pd.DataFrame({"x": [1.0]}), ["x", "y"], made_by="read_coordinates")
    Traceback (most recent call last):
    ...
    ValueError: points: expected a table with the columns x, y, got one without y; pass ...
    """
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise TypeError(
            f"{name}: expected a pandas DataFrame, got {_got(value)}; pass the table of {made_by}"
        )
    missing = [c for c in columns if c not in value.columns]
    if missing:
        raise ValueError(
            f"{name}: expected a table with the columns {', '.join(columns)}, got one "
            f"without {', '.join(missing)}; pass the table of {made_by}"
        )
    return value


def _user_stacklevel() -> int:
    """The stacklevel of the first frame outside this package, counted from the caller
    of :func:`warnings.warn` inside :func:`warn`."""
    frame = sys._getframe(1)  # the caller of warn()
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, attributing the warning to the user's line that called into the package."""
    warnings.warn(message, category, stacklevel=_user_stacklevel())
