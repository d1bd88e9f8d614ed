"""Label coordinates on images: points for the pictures, slices of the Volumes.

:func:`label_points` turns a series' label coordinates into :class:`~eda_helpers.Point`
objects for :func:`~eda_helpers.plot_grid` and :class:`~eda_helpers.SliceViewer`, and
:func:`locate_labels` says which stack and slice of the series' Volume(s) each label is
on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .. import _checks
from ..volume import Point, Volume
from .tables import _rows_of


def _point_text(condition: str, level: str) -> str:
    side = condition.replace("_", " ").split(" ", 1)[0].lower()
    return f"{side[0].upper()} {level}" if side in ("left", "right") else level


def label_points(coordinates: pd.DataFrame, series: int | str | os.PathLike[str]) -> list[Point]:
    """The label points of one series, ready for ``plot_grid`` and ``SliceViewer``.

    Each :class:`~eda_helpers.Point` carries the instance number of its slice, so that
    a Volume places it on the right slice (and a stack of an axial series keeps only
    its own points).

    Parameters
    ----------
    coordinates : pandas.DataFrame
        The table of :func:`read_coordinates`.
    series : int or path-like
        The series_id, or the series folder (named by its series_id).

    Returns
    -------
    list of Point
        One per label of the series, in the table's order, with the level as text,
        prefixed by the side for left/right conditions: "L4/L5", "L L4/L5", "R L4/L5".
        Empty when the series has no labels.

    Raises
    ------
    TypeError
        If ``series`` is neither an int nor a string or path, or ``coordinates`` not a
        DataFrame.
    ValueError
        If ``series`` is neither a series_id nor a folder named by one, or
        ``coordinates`` lacks one of its columns.

    Examples
    --------
    >>> import pandas as pd
    >>> coords = pd.DataFrame({"series_id": [7, 7], "instance_number": [3, 5],
    ...     "condition": ["Spinal Canal Stenosis", "Left Subarticular Stenosis"],
    ...     "level": ["L4/L5", "L5/S1"], "x": [10.0, 12.5], "y": [20.0, 21.0]})
    >>> [(p.instance_number, p.text) for p in label_points(coords, 7)]
    [(3, 'L4/L5'), (5, 'L L5/S1')]
    """
    _coordinates(coordinates)
    sid = _checks.identifier("series", series)
    rows = coordinates.iloc[_rows_of(coordinates, "series_id", sid)]
    return [
        Point(int(n), float(x), float(y), _point_text(str(c), str(lv)))
        for n, x, y, c, lv in zip(
            rows["instance_number"],
            rows["x"],
            rows["y"],
            rows["condition"],
            rows["level"],
            strict=True,
        )
    ]


_USED = ("series_id", "instance_number", "condition", "level", "x", "y")


def _coordinates(coordinates: object) -> pd.DataFrame:
    return _checks.table("coordinates", coordinates, _USED, made_by="read_coordinates")


def _volumes(volumes: object) -> list[Volume]:
    items = list(volumes) if isinstance(volumes, Sequence | tuple) else None
    if items is None or not all(isinstance(v, Volume) for v in items):
        shown = volumes if items is None else next(v for v in items if not isinstance(v, Volume))
        raise TypeError(
            f"volumes: expected a Volume or a list of Volumes (read_series or read_stacks), "
            f"got {type(shown).__name__}"
        )
    return items


def locate_labels(
    coordinates: pd.DataFrame,
    volumes: Volume | Sequence[Volume],
    *,
    series_id: int | str | None = None,
) -> pd.DataFrame:
    """The label coordinates of a series, placed on the slices of its Volume(s).

    Parameters
    ----------
    coordinates : pandas.DataFrame
        The table of :func:`read_coordinates`.
    volumes : Volume or sequence of Volume
        The series as read by :func:`eda_helpers.read_series` (one Volume) or
        :func:`eda_helpers.read_stacks` (one Volume per stack).
    series_id : int, optional
        The series (a string of digits works too); by default the name of the folder
        of the Volumes' files (the competition's layout names it by its series_id).

    Returns
    -------
    pandas.DataFrame
        The coordinate rows of the series, in the table's order, with three more
        columns: ``stack`` (the index in ``volumes``), ``slice_index`` (the slice's
        index in that Volume, whose ``pixels[slice_index]`` is the labelled image),
        both nullable integers, <NA> for an instance in none of the Volumes, and
        ``text`` (as :func:`label_points`). When several slices carry the labelled
        InstanceNumber (stacks of a series numbered alike), the one whose file is named
        by that number (the competition's convention) is chosen; if that does not
        settle it, <NA>.

    Raises
    ------
    TypeError
        If ``volumes`` holds something other than Volumes, ``series_id`` is neither an
        int nor a string, or ``coordinates`` is not a DataFrame.
    ValueError
        If ``volumes`` is empty, or ``series_id`` is not given and the folder's name is
        not a number, or ``series_id`` is not a whole number.

    Warns
    -----
    UserWarning
        If some labels name an instance number that none of the Volumes holds, or that
        several slices hold.

    Examples
    --------
    >>> import numpy as np, pandas as pd, torch
    >>> from eda_helpers import Volume
    >>> def stack(numbers):
    ...     return Volume.from_array(torch.zeros(len(numbers), 4, 4), affine=np.eye(4),
    ...                              instance_numbers=numbers, files=("7/a.dcm",) * len(numbers))
    >>> coords = pd.DataFrame({"study_id": [1], "series_id": [7], "instance_number": [6],
    ...     "condition": ["Right Subarticular Stenosis"], "level": ["L5/S1"],
    ...     "x": [1.0], "y": [2.0]})
    >>> located = locate_labels(coords, [stack((3, 2, 1)), stack((4, 5, 6))])
    >>> located[["instance_number", "stack", "slice_index", "text"]].values.tolist()
    [[6, 1, 2, 'R L5/S1']]
    """
    _coordinates(coordinates)
    stacks = [volumes] if isinstance(volumes, Volume) else list(_volumes(volumes))
    if not stacks:
        raise ValueError("volumes: expected a Volume or a non-empty list of Volumes, got none")
    if series_id is None:
        folder = Path(stacks[0].files[0]).parent
        if not folder.name.isdigit():
            raise ValueError(
                f"series_id: the Volumes' folder {folder.name!r} is not named by a "
                f"series_id; pass series_id="
            )
        series_id = int(folder.name)
    series_id = _checks.identifier("series_id", series_id)
    rows = coordinates.iloc[_rows_of(coordinates, "series_id", series_id)].copy()
    stack, index, lost, ambiguous = _place_labels(rows["instance_number"].tolist(), stacks)
    rows["stack"] = pd.array(stack, dtype="Int64")
    rows["slice_index"] = pd.array(index, dtype="Int64")
    rows["text"] = [
        _point_text(str(c), str(lv)) for c, lv in zip(rows["condition"], rows["level"], strict=True)
    ]
    if lost:
        _checks.warn(
            f"coordinates: {len(lost)} labelled instance number(s) of series {series_id} "
            f"({', '.join(map(str, lost[:10]))}) are in none of the {len(stacks)} "
            f"Volume(s); their stack and slice_index are <NA>",
        )
    if ambiguous:
        _checks.warn(
            f"coordinates: {len(ambiguous)} labelled instance number(s) of series {series_id} "
            f"({', '.join(map(str, ambiguous[:10]))}) are held by several slices of the "
            f"{len(stacks)} Volume(s), and no file name tells them apart; their stack and "
            f"slice_index are <NA>; pass only the Volume the labels belong to",
        )
    return rows


def _place_labels(
    instances: Sequence[int], stacks: Sequence[Volume]
) -> tuple[list[int | None], list[int | None], list[int], list[int]]:
    """The rule of :func:`locate_labels`: the stack and slice of each labelled instance.

    Each instance number is looked up among the slices of ``stacks``; when several
    slices carry it (stacks of a series numbered alike), the one whose file is named by
    the number (the competition's convention) is taken, and if that does not settle
    it, none. Plain lists in and out, so that a caller placing the labels of many
    series (:func:`eda_helpers.rsna.project_labels`) pays nothing per DataFrame.

    Parameters
    ----------
    instances : sequence of int
        The labelled instance numbers, one per label.
    stacks : sequence of Volume
        The Volumes of the series.

    Returns
    -------
    stack, slice_index : list of int or None
        Per label, the index in ``stacks`` and the slice's index in that Volume; None
        where the instance is on no single slice.
    lost : list of int
        The instance numbers that no slice carries, sorted, each once.
    ambiguous : list of int
        The instance numbers that several slices carry and no file name tells apart,
        sorted, each once.
    """
    where: dict[int, list[tuple[int, int]]] = {}
    for k, v in enumerate(stacks):
        for i, n in enumerate(v.instance_numbers):
            where.setdefault(int(n), []).append((k, i))
    stack: list[int | None] = []
    index: list[int | None] = []
    lost: set[int] = set()
    ambiguous: set[int] = set()
    for n in map(int, instances):
        places = where.get(n, [])
        if len(places) > 1:
            # Two slices carry that InstanceNumber (the stacks of a series may number
            # their slices alike): the competition's number is the file's name.
            places = [(k, i) for k, i in places if Path(stacks[k].files[i]).stem == str(n)]
            if len(places) != 1:
                ambiguous.add(n)
        elif not places:
            lost.add(n)
        place = places[0] if len(places) == 1 else None
        stack.append(None if place is None else place[0])
        index.append(None if place is None else place[1])
    return stack, index, sorted(lost), sorted(ambiguous)
