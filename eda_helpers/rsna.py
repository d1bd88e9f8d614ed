"""The competition's layout and CSV files: find the data, read the tables, survey it.

The RSNA 2024 Lumbar Spine data lives in ``train_images/<study_id>/<series_id>/`` beside
``train_series_descriptions.csv``, ``train.csv`` and ``train_label_coordinates.csv``.

- :func:`find_dataset` looks for it where a user keeps it and, when there is none, writes
  the built-in sample dataset into a cache folder (never into the repository or into a
  data folder of the user's).
- :func:`read_descriptions`, :func:`read_labels` and :func:`read_coordinates` read the
  CSV files into pandas DataFrames with checked columns and dtypes.
- :func:`find_series` finds a study's series by description; :func:`label_points` turns
  a series' label coordinates into :class:`~eda_helpers.Point` objects for
  :func:`~eda_helpers.plot_grid` and :class:`~eda_helpers.SliceViewer`, and
  :func:`locate_labels` says which stack and slice of the series' Volume(s) each label
  is on.
- :func:`scan_dataset` reads the headers of every file (not the pixels), in parallel,
  and returns one row per series with its geometry and its quirks.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import multiprocessing.context
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import geometry
from .io import read_headers
from .sample import CONDITIONS, LEVELS, SEVERITIES, condition_name, level_name
from .volume import Point, Volume

__all__ = [
    "COORDINATE_COLUMNS",
    "DATA_ENV",
    "DESCRIPTION_COLUMNS",
    "KAGGLE_ROOT",
    "LABEL_COLUMNS",
    "SCAN_COLUMNS",
    "SEVERITY",
    "DatasetLocation",
    "condition_name",
    "default_workers",
    "find_dataset",
    "find_series",
    "label_points",
    "level_name",
    "locate_labels",
    "read_coordinates",
    "read_descriptions",
    "read_labels",
    "sample_cache_dir",
    "scan_dataset",
]

DATA_ENV = "EDA_HELPERS_DATA"
"""Environment variable naming the root of a dataset in the competition's layout."""

CACHE_ENV = "EDA_HELPERS_CACHE"
"""Environment variable naming the folder the sample dataset is cached in."""

KAGGLE_ROOT = Path("/kaggle/input/rsna-2024-lumbar-spine-degenerative-classification")
"""Where a Kaggle notebook finds the competition data when it is attached."""

REQUIRED = ("train_images", "train_series_descriptions.csv")


@dataclass(frozen=True)
class DatasetLocation:
    """A dataset root and how it was found.

    Attributes
    ----------
    root : Path
        The folder holding ``train_images/`` and the CSV files.
    source : {"argument", "environment", "kaggle", "sample"}
        Where it came from: the ``root`` argument, the ``EDA_HELPERS_DATA`` variable,
        Kaggle's input folder, or the built-in sample dataset.
    """

    root: Path
    source: Literal["argument", "environment", "kaggle", "sample"]

    def __fspath__(self) -> str:
        return str(self.root)

    @property
    def is_sample(self) -> bool:
        """True for the built-in synthetic sample dataset."""
        return self.source == "sample"


def _check_layout(root: Path, what: str) -> Path:
    missing = [name for name in REQUIRED if not (root / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"{what}: {root} is not a dataset in the competition's layout: it has no "
            f"{' and no '.join(missing)}. Point it at the folder that holds train_images/ "
            f"and train_series_descriptions.csv."
        )
    return root


def sample_cache_dir() -> Path:
    """The folder the built-in sample dataset is cached in.

    ``$EDA_HELPERS_CACHE`` if set, else ``$XDG_CACHE_HOME/eda_helpers``, else
    ``~/.cache/eda_helpers``.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "eda_helpers"


def find_dataset(
    root: str | os.PathLike[str] | None = None, *, n_studies: int = 3, seed: int = 0
) -> DatasetLocation:
    """Find the dataset to explore, falling back on the built-in sample dataset.

    In order: ``root`` if given; the folder named by ``$EDA_HELPERS_DATA``; Kaggle's
    competition folder when it is attached; else the sample dataset (``n_studies``
    studies from ``seed``), written once into :func:`sample_cache_dir` and reused.

    Parameters
    ----------
    root : path-like, optional
        A dataset root in the competition's layout.
    n_studies, seed : int
        The sample dataset to use when no real one is found.

    Returns
    -------
    DatasetLocation

    Raises
    ------
    FileNotFoundError
        If ``root`` or ``$EDA_HELPERS_DATA`` names a folder without the competition's
        layout (an explicit choice that is wrong is an error, not a silent fallback).
    """
    if root is not None:
        return DatasetLocation(_check_layout(Path(root).expanduser(), "root"), "argument")
    if os.environ.get(DATA_ENV):
        path = Path(os.environ[DATA_ENV]).expanduser()
        return DatasetLocation(_check_layout(path, f"${DATA_ENV}"), "environment")
    if all((KAGGLE_ROOT / name).exists() for name in REQUIRED):
        return DatasetLocation(KAGGLE_ROOT, "kaggle")
    return DatasetLocation(_cached_sample(n_studies, seed), "sample")


def _cached_sample(n_studies: int, seed: int) -> Path:
    from .sample import SAMPLE_FORMAT, make_sample_dataset

    cache = sample_cache_dir()
    final = cache / f"sample-v{SAMPLE_FORMAT}-{n_studies}studies-seed{seed}"
    if (final / "train_series_descriptions.csv").exists():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    # Written beside its final place and renamed: a run cut short leaves no dataset
    # that looks complete, and two notebooks starting at once do not mix their files.
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache))
    try:
        make_sample_dataset(tmp, n_studies=n_studies, seed=seed)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / "train_series_descriptions.csv").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


# --------------------------------------------------------------------------- CSV files

Split = Literal["train", "test"]
LabelForm = Literal["wide", "long"]

DESCRIPTION_COLUMNS = ("study_id", "series_id", "series_description")
"""Columns of ``<split>_series_descriptions.csv``."""

COORDINATE_COLUMNS = ("study_id", "series_id", "instance_number", "condition", "level", "x", "y")
"""Columns of ``<split>_label_coordinates.csv``."""

LABEL_COLUMNS = ("study_id", *(f"{c}_{lv}" for c in CONDITIONS for lv in LEVELS))
"""Columns of ``train.csv``: ``study_id`` and one ``<condition>_<level>`` per pair."""

SEVERITY = pd.CategoricalDtype(list(SEVERITIES), ordered=True)
"""The dtype of the severities: "Normal/Mild" < "Moderate" < "Severe"."""

_INTEGER_COLUMNS = ("study_id", "series_id", "instance_number")
_FLOAT_COLUMNS = ("x", "y")


def _path(root: str | os.PathLike[str]) -> Path:
    return Path(os.fspath(root)).expanduser()


def _csv_name(split: str, what: str) -> str:
    _check_split(split)
    if what == "labels":
        return f"{split}.csv"
    return f"{split}_{what}.csv"


def _check_split(split: str) -> None:
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")


def _bad_lines(path: Path, column: str, rule: str, bad: pd.Series) -> ValueError:
    shown = ", ".join("an empty cell" if pd.isna(v) else repr(v) for v in bad.iloc[:5])
    return ValueError(
        f"{path.name}: column {column} must hold {rule}, but line(s) "
        f"{', '.join(str(i + 2) for i in bad.index[:5])} hold {shown}; fix or drop those rows"
    )


def _whole_numbers(path: Path, column: str, text: pd.Series) -> pd.Series:
    """int64 from the file's text, exactly: ids are parsed as text, never as floats."""
    stripped = text.str.strip()
    # "123.0" is how a table that went through a float column writes its ids.
    digits = stripped.str.extract(r"^([+-]?\d+)(?:\.0*)?$", expand=False)
    values = [None if pd.isna(d) else int(d) for d in digits]
    bad = [v is None or not -(2**63) <= v < 2**63 for v in values]
    if any(bad):
        raise _bad_lines(path, column, "whole numbers (64-bit integers)", text[bad])
    return pd.Series(values, index=text.index, dtype=np.int64)


def _read_csv(path: Path, columns: Sequence[str], *, strings: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV file, check that it has ``columns`` and give them their dtypes."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such file; the dataset root should hold the competition's CSV "
            f"files beside train_images/ (see eda_helpers.rsna.find_dataset)"
        )
    as_text = [*strings, *_INTEGER_COLUMNS]
    try:
        table = pd.read_csv(path, dtype={c: str for c in as_text})
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path.name}: not a readable CSV file ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())}); expected the columns {', '.join(columns)}. "
            f"Copy it again from the competition's data."
        ) from exc
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"{path.name}: missing column(s) {', '.join(missing)}; expected the columns "
            f"{', '.join(columns)} but the file has {', '.join(map(str, table.columns))}. "
            f"Is it the competition's {path.name}? Copy it again from the competition's data."
        )
    for c in columns:
        if c in _INTEGER_COLUMNS:
            table[c] = _whole_numbers(path, c, table[c])
        elif c in _FLOAT_COLUMNS:
            values = pd.to_numeric(table[c], errors="coerce").astype(np.float64)
            if values.isna().any():
                raise _bad_lines(path, c, "numbers", table[c][values.isna()])
            table[c] = values
    return table


def read_descriptions(root: str | os.PathLike[str], *, split: Split = "train") -> pd.DataFrame:
    """Read ``<split>_series_descriptions.csv``: which series each study has.

    Parameters
    ----------
    root : path-like
        The dataset root (a :class:`DatasetLocation` works too).
    split : {"train", "test"}
        Which file: ``train_series_descriptions.csv`` or ``test_series_descriptions.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id`` and ``series_id`` (int64) and ``series_description`` (str),
        one row per series, in the file's order; other columns of the file are kept.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If a column is missing (the message lists what was expected and what was
        found), if an id is not a whole number, or if ``split`` is unknown.

    Examples
    --------
    >>> import tempfile
    >>> from eda_helpers import make_sample_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1)
    ...     read_descriptions(root)["series_description"].tolist()
    ['Sagittal T1', 'Sagittal T2/STIR', 'Axial T2']
    """
    path = _path(root) / _csv_name(split, "series_descriptions")
    return _read_csv(path, DESCRIPTION_COLUMNS, strings=("series_description",))


def read_labels(
    root: str | os.PathLike[str], *, split: Split = "train", form: LabelForm = "wide"
) -> pd.DataFrame:
    """Read ``train.csv``: the severity of each condition at each level, per study.

    Parameters
    ----------
    root : path-like
        The dataset root.
    split : {"train", "test"}
        The test split has no labels: with "test" the file (``test.csv``) is read if
        present, and an empty table with the same columns is returned if not.
    form : {"wide", "long"}
        "wide": the file's layout, ``study_id`` and 25 ``<condition>_<level>``
        columns. "long": one row per study, condition and level, with the columns
        ``study_id``, ``condition`` and ``level`` spelled as in the label coordinates
        ("Spinal Canal Stenosis", "L4/L5") and ``severity``.

    Returns
    -------
    pandas.DataFrame
        Severities are ordered categoricals (:data:`SEVERITY`); a missing label is NaN
        (kept as a row in the long form, so that missing labels can be counted).

    Raises
    ------
    FileNotFoundError
        If ``train.csv`` is missing (split "train").
    ValueError
        If a column is missing, ``study_id`` is not whole numbers, a severity is not
        one of "Normal/Mild", "Moderate", "Severe", or an option is unknown.

    Examples
    --------
    >>> import tempfile
    >>> from eda_helpers import make_sample_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1)
    ...     long = read_labels(root, form="long")
    >>> long.shape, long.columns.tolist()
    ((25, 4), ['study_id', 'condition', 'level', 'severity'])
    >>> long.loc[0, ["condition", "level"]].tolist()
    ['Spinal Canal Stenosis', 'L1/L2']
    """
    if form not in ("wide", "long"):
        raise ValueError(f"form: expected 'wide' or 'long', got {form!r}")
    path = _path(root) / _csv_name(split, "labels")
    if split == "test" and not path.exists():
        empty = {c: pd.Series(dtype=SEVERITY) for c in LABEL_COLUMNS[1:]}
        wide = pd.DataFrame({"study_id": pd.Series(dtype=np.int64), **empty})
    else:
        wide = _read_csv(path, LABEL_COLUMNS, strings=LABEL_COLUMNS[1:])
        for c in LABEL_COLUMNS[1:]:
            values = wide[c]
            unknown = sorted(set(values.dropna()) - set(SEVERITIES))
            if unknown:
                raise ValueError(
                    f"{path.name}: column {c} holds {', '.join(map(repr, unknown[:5]))}; "
                    f"expected one of {', '.join(SEVERITIES)} or an empty cell"
                )
            wide[c] = values.astype(SEVERITY)
    if form == "wide":
        return wide
    long = wide.melt(
        id_vars="study_id",
        value_vars=list(LABEL_COLUMNS[1:]),
        var_name="key",
        value_name="severity",
    )
    pairs = {f"{c}_{lv}": (c, lv) for c in CONDITIONS for lv in LEVELS}
    long["condition"] = [condition_name(pairs[k][0]) for k in long["key"]]
    long["level"] = [level_name(pairs[k][1]) for k in long["key"]]
    # Study by study, in the file's order of studies, conditions and levels.
    order = {sid: i for i, sid in enumerate(dict.fromkeys(wide["study_id"]))}
    long["_study"] = long["study_id"].map(order)
    long["_key"] = long["key"].map({k: i for i, k in enumerate(pairs)})
    long = long.sort_values(["_study", "_key"], kind="stable").reset_index(drop=True)
    long["severity"] = long["severity"].astype(SEVERITY)
    return long[["study_id", "condition", "level", "severity"]]


def read_coordinates(root: str | os.PathLike[str], *, split: Split = "train") -> pd.DataFrame:
    """Read ``train_label_coordinates.csv``: where each label point is.

    Parameters
    ----------
    root : path-like
        The dataset root.
    split : {"train", "test"}
        The test split has no labels: with "test" the file is read if present, and an
        empty table with the same columns is returned if not.

    Returns
    -------
    pandas.DataFrame
        ``study_id``, ``series_id``, ``instance_number`` (int64), ``condition``,
        ``level`` (str), ``x``, ``y`` (float64: column and row in the pixels of that
        instance), one row per label point, in the file's order.

    Raises
    ------
    FileNotFoundError
        If the file is missing (split "train").
    ValueError
        If a column is missing, a number is malformed, or ``split`` is unknown.

    Examples
    --------
    >>> import tempfile
    >>> from eda_helpers import make_sample_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1)
    ...     coords = read_coordinates(root)
    >>> len(coords), coords.dtypes["instance_number"]
    (25, dtype('int64'))
    """
    path = _path(root) / _csv_name(split, "label_coordinates")
    if split == "test" and not path.exists():
        dtypes = {c: np.int64 for c in _INTEGER_COLUMNS} | {c: np.float64 for c in _FLOAT_COLUMNS}
        return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, object)) for c in COORDINATE_COLUMNS})
    table = _read_csv(path, COORDINATE_COLUMNS, strings=("condition", "level"))
    for column, names in (("condition", CONDITIONS), ("level", LEVELS)):
        spell = condition_name if column == "condition" else level_name
        table[column] = _spelled(path, column, table[column], [spell(n) for n in names])
    return table


def _spelled(path: Path, column: str, values: pd.Series, names: Sequence[str]) -> pd.Series:
    """``values`` in the spelling of ``names``, whatever their case and separators.

    Public corrected versions of the coordinates write "l4_l5" or "L4-L5" for "L4/L5"
    and "spinal_canal_stenosis" for "Spinal Canal Stenosis": unless they are spelled
    alike, their rows would silently match no label of :func:`read_labels`.
    """
    canonical = {re.sub(r"[^a-z0-9]", "", n.lower()): n for n in names}
    keys = values.map(lambda v: re.sub(r"[^a-z0-9]", "", v.lower()) if isinstance(v, str) else "")
    out = keys.map(canonical)
    if out.isna().any():
        raise _bad_lines(path, column, f"one of {', '.join(names)}", values[out.isna()])
    return out.astype(values.dtype)


# --------------------------------------------------------------------------- series


def find_series(
    root: str | os.PathLike[str],
    study_id: int,
    description: str,
    *,
    split: Split = "train",
    descriptions: pd.DataFrame | None = None,
) -> list[Path]:
    """The folders of a study's series with a given description.

    Parameters
    ----------
    root : path-like
        The dataset root.
    study_id : int
        The study.
    description : str
        A series description of the table, such as "Sagittal T1", "Sagittal T2/STIR"
        or "Axial T2".
    split : {"train", "test"}
        Which images and descriptions file.
    descriptions : pandas.DataFrame, optional
        The table of :func:`read_descriptions`, when already read.

    Returns
    -------
    list of Path
        ``<root>/<split>_images/<study_id>/<series_id>``, one per matching series in
        the order of the table: usually one, sometimes two (some studies have two
        Axial T2 series), none when the study lacks that series. The folders are not
        checked for existence.

    Raises
    ------
    ValueError
        If ``study_id`` is not in the table or ``description`` is none of the table's
        descriptions.

    Examples
    --------
    >>> import tempfile
    >>> from eda_helpers import make_sample_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1)
    ...     study = int(read_descriptions(root)["study_id"][0])
    ...     [p.parent.name == str(study) for p in find_series(root, study, "Axial T2")]
    [True]
    """
    table = read_descriptions(root, split=split) if descriptions is None else descriptions
    known = list(dict.fromkeys(table["series_description"].dropna()))
    if description not in known:
        raise ValueError(
            f"description: {description!r} is not a series description of the dataset; "
            f"expected one of {', '.join(map(repr, known))}"
        )
    rows = table[table["study_id"] == study_id]
    if rows.empty:
        ids = list(dict.fromkeys(table["study_id"]))
        raise ValueError(
            f"study_id: {study_id!r} is not in {_csv_name(split, 'series_descriptions')}, "
            f"which lists {len(ids)} studies (e.g. {', '.join(map(str, ids[:3]))}); "
            f"pass one of them"
        )
    folder = _path(root) / f"{split}_images" / str(int(study_id))
    matching = rows.loc[rows["series_description"] == description, "series_id"]
    return [folder / str(int(s)) for s in matching]


def _series_id(series: int | str | os.PathLike[str], name: str = "series") -> int:
    if isinstance(series, int | np.integer) and not isinstance(series, bool):
        return int(series)
    if isinstance(series, str | os.PathLike):
        text = Path(os.fspath(series)).name
        if text.isdigit():
            return int(text)
    raise ValueError(
        f"{name}: expected a series_id (int) or a series folder named by its series_id, "
        f"got {series!r}"
    )


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
    ValueError
        If ``series`` is neither a series_id nor a folder named by one.

    Examples
    --------
    >>> import pandas as pd
    >>> coords = pd.DataFrame({"series_id": [7, 7], "instance_number": [3, 5],
    ...     "condition": ["Spinal Canal Stenosis", "Left Subarticular Stenosis"],
    ...     "level": ["L4/L5", "L5/S1"], "x": [10.0, 12.5], "y": [20.0, 21.0]})
    >>> [(p.instance_number, p.text) for p in label_points(coords, 7)]
    [(3, 'L4/L5'), (5, 'L L5/S1')]
    """
    sid = _series_id(series)
    rows = coordinates[coordinates["series_id"] == sid]
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


def locate_labels(
    coordinates: pd.DataFrame,
    volumes: Volume | Sequence[Volume],
    *,
    series_id: int | None = None,
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
    ...     n = len(numbers)
    ...     return Volume(torch.zeros(n, 4, 4), numbers, np.zeros((n, 3)),
    ...                   np.eye(2, 3).ravel(), ("7/a.dcm",) * n, (1.0, 1.0, 1.0), np.eye(4))
    >>> coords = pd.DataFrame({"study_id": [1], "series_id": [7], "instance_number": [6],
    ...     "condition": ["Right Subarticular Stenosis"], "level": ["L5/S1"],
    ...     "x": [1.0], "y": [2.0]})
    >>> located = locate_labels(coords, [stack((3, 2, 1)), stack((4, 5, 6))])
    >>> located[["instance_number", "stack", "slice_index", "text"]].values.tolist()
    [[6, 1, 2, 'R L5/S1']]
    """
    stacks = [volumes] if isinstance(volumes, Volume) else list(volumes)
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
    series_id = _series_id(series_id, "series_id")
    where: dict[int, list[tuple[int, int]]] = {}
    for k, v in enumerate(stacks):
        for i, n in enumerate(v.instance_numbers):
            where.setdefault(int(n), []).append((k, i))
    rows = coordinates[coordinates["series_id"] == series_id].copy()
    found: list[tuple[int, int] | None] = []
    ambiguous: set[int] = set()
    for n in map(int, rows["instance_number"]):
        places = where.get(n, [])
        if len(places) > 1:
            # Two slices carry that InstanceNumber (the stacks of a series may number
            # their slices alike): the competition's number is the file's name.
            places = [(k, i) for k, i in places if Path(stacks[k].files[i]).stem == str(n)]
            if len(places) != 1:
                ambiguous.add(n)
        found.append(places[0] if len(places) == 1 else None)
    rows["stack"] = pd.array([f[0] if f else pd.NA for f in found], dtype="Int64")
    rows["slice_index"] = pd.array([f[1] if f else pd.NA for f in found], dtype="Int64")
    rows["text"] = [
        _point_text(str(c), str(lv)) for c, lv in zip(rows["condition"], rows["level"], strict=True)
    ]
    lost = sorted({int(n) for n, f in zip(rows["instance_number"], found, strict=True) if not f})
    lost = [n for n in lost if n not in ambiguous]
    if lost:
        warnings.warn(
            f"coordinates: {len(lost)} labelled instance number(s) of series {series_id} "
            f"({', '.join(map(str, lost[:10]))}) are in none of the {len(stacks)} "
            f"Volume(s); their stack and slice_index are <NA>",
            UserWarning,
            stacklevel=2,
        )
    if ambiguous:
        shown = sorted(ambiguous)
        warnings.warn(
            f"coordinates: {len(shown)} labelled instance number(s) of series {series_id} "
            f"({', '.join(map(str, shown[:10]))}) are held by several slices of the "
            f"{len(stacks)} Volume(s), and no file name tells them apart; their stack and "
            f"slice_index are <NA>; pass only the Volume the labels belong to",
            UserWarning,
            stacklevel=2,
        )
    return rows


# --------------------------------------------------------------------------- scan

SCAN_COLUMNS = (
    "study_id",
    "series_id",
    "description",
    "n_files",
    "n_stacks",
    "sizes",
    "pixel_spacing",
    "slice_step_min",
    "slice_step_max",
    "orientation",
    "transfer_syntax",
    "first_instance",
    "last_instance",
    "instance_gaps",
    "instance_order",
    "order_disagrees",
    "n_unreadable",
    "unreadable",
    "notes",
    "odd",
)
"""The columns of :func:`scan_dataset`, in order."""

_STEP_DECIMALS = 4


def _natural(path: Path) -> tuple[int, int, str]:
    stem = path.stem
    return (0, int(stem), path.name) if stem.isdigit() else (1, 0, path.name)


def _joined(values: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(v for v in values if v))


def _hidden(path: Path) -> bool:
    # .DS_Store, macOS's ._<name> copies, .ipynb_checkpoints: not part of the data.
    return path.name.startswith(".")


def _stack_facts(stack: Sequence[Any]) -> dict[str, Any]:
    """Orientation, steps and numbering of one stack of header records."""
    facts: dict[str, Any] = {"plane": "unknown", "steps": [], "order": "", "duplicates": 0}
    if any(h.position is None or h.orientation is None for h in stack):
        facts["missing"] = True
        return facts
    try:
        facts["plane"] = geometry.plane_name(stack[0].orientation)
    except ValueError:  # cosines that are parallel (or zero) define no plane
        facts["degenerate"] = True
        return facts
    if len(stack) < 2:
        return facts
    inst = np.array([-1 if h.instance is None else h.instance for h in stack])
    offsets = geometry.slice_offsets([h.position for h in stack], stack[0].orientation)
    order = geometry.slice_order(offsets, inst)
    off = offsets[order]
    steps = np.diff(off)
    facts["steps"] = [round(float(s), _STEP_DECIMALS) for s in steps]
    facts["duplicates"] = sum(len(r) - 1 for r in geometry.duplicate_runs(off))
    facts["irregular"] = bool(geometry.irregular_steps(off[np.r_[True, steps > 0.01]]).size)
    # The numbering is judged from one distinct position to the next, by the lowest
    # and the highest number at each: slices sharing a position (sorted by number)
    # and slices without InstanceNumber say nothing about its direction.
    known = inst[order] >= 0
    numbers = inst[order][known]
    position = np.cumsum(np.r_[True, steps > 0.01])[known]
    starts = np.flatnonzero(np.r_[True, np.diff(position) != 0])
    if starts.size < 2:
        return facts
    rising = np.diff(
        np.c_[np.minimum.reduceat(numbers, starts), np.maximum.reduceat(numbers, starts)], axis=0
    )
    if np.all(rising > 0):
        facts["order"] = "along normal"
    elif np.all(rising < 0):
        facts["order"] = "against normal"
    else:
        facts["order"] = "mixed"
    return facts


def _missing_numbers(distinct: Sequence[int], most: int) -> list[int]:
    """The first ``most`` numbers missing between the sorted ``distinct`` numbers."""
    # Walked gap by gap: one bad InstanceNumber (2**31 - 1) must not build a range of
    # two billion numbers.
    out: list[int] = []
    for a, b in itertools.pairwise(distinct):
        out.extend(range(a + 1, min(b, a + 1 + most - len(out))))
        if len(out) >= most:
            break
    return out


def _scan_series(folder: Path) -> dict[str, Any]:
    """One row of the scan (without ids and description) from the headers of a folder."""
    # A broken symbolic link is kept, to be reported as unreadable.
    files = sorted(
        (p for p in folder.iterdir() if not _hidden(p) and (p.is_file() or not p.exists())),
        key=_natural,
    )
    stacks, bad = read_headers(files)
    headers = [h for s in stacks for h in s]
    facts = [_stack_facts(s) for s in stacks]
    notes: list[str] = []

    inst = sorted(h.instance for h in headers if h.instance is not None)
    first = inst[0] if inst else None
    last = inst[-1] if inst else None
    distinct = sorted(set(inst))
    gaps = (last - first + 1 - len(distinct)) if inst else 0
    if not files:
        notes.append("empty folder")
    elif not headers:
        notes.append("no readable image")
    if len(stacks) > 1:
        notes.append(f"{len(stacks)} stacks")
    uids = {h.series_uid for h in headers}
    if len(uids) > 1:
        notes.append(f"{len(uids)} SeriesInstanceUIDs")
    if first is not None and first != 1:
        notes.append(f"instances start at {first}")
    if gaps:
        missing = _missing_numbers(distinct, 5)
        shown = ", ".join(map(str, missing)) + (", ..." if gaps > 5 else "")
        notes.append(f"{gaps} instance number(s) missing ({shown})")
    if len(inst) != len(distinct):
        notes.append(f"{len(inst) - len(distinct)} duplicate instance number(s)")
    if len(inst) != len(headers):
        notes.append(f"{len(headers) - len(inst)} file(s) without InstanceNumber")
    orders = [f["order"] for f in facts]
    if "against normal" in orders:
        notes.append("numbered against the slice normal")
    if "mixed" in orders:
        notes.append("instance order is not monotonic along the normal")
    if any(f.get("missing") for f in facts):
        notes.append("position or orientation tags missing")
    if any(f.get("degenerate") for f in facts):
        notes.append("ImageOrientationPatient defines no plane")
    duplicates = sum(f["duplicates"] for f in facts)
    if duplicates:
        notes.append(f"{duplicates} duplicate slice position(s)")
    if any(f.get("irregular") for f in facts):
        notes.append("irregular slice steps")
    sizes = sorted({(h.rows, h.cols) for h in headers})
    if len(sizes) > 1:
        notes.append("several slice sizes")
    spacings = sorted(
        {tuple(round(v, 4) for v in h.pixel_spacing) for h in headers if h.pixel_spacing}
    )
    if len(spacings) > 1:
        notes.append("several pixel spacings")
    if any(h.pixel_spacing is None for h in headers):
        notes.append("PixelSpacing missing")
    if bad:
        notes.append(f"{len(bad)} unreadable file(s): {bad[0][1]}")

    steps = [abs(s) for f in facts for s in f["steps"]]
    return {
        "n_files": len(files),
        "n_stacks": len(stacks),
        "sizes": ", ".join(f"{r}x{c}" for r, c in sizes),
        "pixel_spacing": ", ".join(f"{r:g}x{c:g}" for r, c in spacings),
        "slice_step_min": min(steps) if steps else float("nan"),
        "slice_step_max": max(steps) if steps else float("nan"),
        "orientation": _joined(f["plane"] for f in facts),
        "transfer_syntax": _joined(h.transfer_syntax.name for h in headers),
        "first_instance": first,
        "last_instance": last,
        "instance_gaps": gaps,
        "instance_order": _joined(orders),
        "order_disagrees": any(o in ("against normal", "mixed") for o in orders),
        "n_unreadable": len(bad),
        "unreadable": ", ".join(p.name for p, _ in bad),
        "notes": notes,
        "header_description": headers[0].description if headers else "",
    }


def _scan_chunk(folders: Sequence[str]) -> list[dict[str, Any]]:
    """The work unit of :func:`scan_dataset`: a few series folders, scanned in turn."""
    rows = []
    for f in folders:
        try:
            rows.append(_scan_series(Path(f)))
        except Exception as exc:  # one series that cannot be scanned is a row, not a crash
            rows.append(_failed_row(f"scan failed ({type(exc).__name__}: {exc})"))
    return rows


def _failed_row(note: str) -> dict[str, Any]:
    """The row of a series that has no scan: a missing folder, or one that failed."""
    return {
        "n_files": 0, "n_stacks": 0, "sizes": "", "pixel_spacing": "",
        "slice_step_min": float("nan"), "slice_step_max": float("nan"),
        "orientation": "", "transfer_syntax": "", "first_instance": None,
        "last_instance": None, "instance_gaps": 0, "instance_order": "",
        "order_disagrees": False, "n_unreadable": 0, "unreadable": "",
        "notes": [" ".join(note.split())], "header_description": "",
    }  # fmt: skip


def _mp_context() -> multiprocessing.context.BaseContext:
    """How the default pool starts its workers: from a forkserver, or spawn.

    fork is never used: forking a process whose other threads hold locks can leave the
    child stuck, and a Jupyter kernel runs Python threads while numpy's BLAS and
    torch's OpenMP pools add threads of their own (Python 3.12 and later warn about
    it). The forkserver forks the workers from a clean process that imported this
    module once per session. Where there is no forkserver (Windows): spawn.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["__main__", __name__])
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def default_workers() -> int:
    """The number of worker processes :func:`scan_dataset` starts by default.

    The CPUs this process may run on (at most 32).

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        n = os.cpu_count() or 1
    return max(1, min(32, n))


def _run_chunks(
    chunks: list[list[str]],
    *,
    executor: Executor | None,
    max_workers: int | None,
    progress: bool,
    total: int,
) -> list[list[dict[str, Any]]]:
    results: list[list[dict[str, Any]] | None] = [None] * len(chunks)
    # No tqdm object at all without a bar: even a disabled one starts tqdm's monitor thread.
    bar_context = (
        tqdm(total=total, desc="scan", unit="series") if progress else contextlib.nullcontext()
    )
    with bar_context as bar:
        workers = default_workers() if max_workers is None else max_workers
        if executor is None and (workers == 1 or len(chunks) <= 1):
            for k, chunk in enumerate(chunks):
                results[k] = _scan_chunk(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            return results  # type: ignore[return-value]
        pool = executor
        if pool is None:
            pool = ProcessPoolExecutor(
                max_workers=min(workers, len(chunks)), mp_context=_mp_context()
            )
        futures: dict[Future[list[dict[str, Any]]], int] = {}
        try:
            for k, chunk in enumerate(chunks):
                futures[pool.submit(_scan_chunk, chunk)] = k
            for fut in as_completed(futures):
                k = futures[fut]
                try:
                    results[k] = fut.result()
                except Exception as exc:
                    # _scan_chunk turns the failure of a series into a row, so this is
                    # the executor failing: a worker killed, or one that lacks the package.
                    raise RuntimeError(
                        f"executor: the task scanning {len(chunks[k])} series from "
                        f"{chunks[k][0]} failed in {type(pool).__name__} "
                        f"({type(exc).__name__}: {' '.join(str(exc).split())}); its workers "
                        f"must be able to import eda_helpers (install it where they run) and "
                        f"have memory to spare. Pass max_workers=1 to scan in this process."
                    ) from exc
                if bar is not None:
                    bar.update(len(chunks[k]))
        finally:
            for fut in futures:
                fut.cancel()
            if executor is None:
                pool.shutdown(wait=True, cancel_futures=True)
    return results  # type: ignore[return-value]


def _study_ids(studies: int | Iterable[int]) -> set[int]:
    items = [studies] if isinstance(studies, int | np.integer | str) else list(studies)
    ids = set()
    for s in items:
        if isinstance(s, int | np.integer) and not isinstance(s, bool):
            ids.add(int(s))
        elif isinstance(s, str) and s.strip().isdigit():
            ids.add(int(s))
        else:
            raise ValueError(
                f"studies: expected study ids (whole numbers such as 4003253), got {s!r}; "
                f"pass one id or a list of them"
            )
    return ids


def scan_dataset(
    root: str | os.PathLike[str],
    *,
    split: Split = "train",
    studies: int | Iterable[int] | None = None,
    executor: Executor | None = None,
    max_workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Survey every series of the dataset from the file headers: one row per series.

    Only the headers are read (no pixel data is decoded), by the reader of
    :func:`eda_helpers.read_stacks`, and the files are grouped into stacks as it
    groups them. No file stops the scan: unreadable files (truncated, damaged, not
    DICOM) are counted and named in their series' row.

    Parameters
    ----------
    root : path-like
        The dataset root (a :class:`DatasetLocation` works too).
    split : {"train", "test"}
        Scan ``train_images/`` (descriptions from ``train_series_descriptions.csv``) or
        ``test_images/``.
    studies : int or iterable of int, optional
        Scan only this study id, or these.
    executor : concurrent.futures.Executor, optional
        Where the work runs, one task per chunk of series. By default a
        ``ProcessPoolExecutor`` of ``max_workers`` processes, created and shut down by
        this call, which starts its workers from a forkserver (spawn on Windows); the
        forkserver imports this module once per Python session. Any other executor
        is used as
        given and left running, such as a Dask cluster's ``client.get_executor()``.
        The table does not depend on the executor.
    max_workers : int, optional
        Processes of the default executor; by default :func:`default_workers`. 1 scans
        in this process, without a pool.
    progress : bool, default True
        Show a ``tqdm.auto`` progress bar over the series.

    Returns
    -------
    pandas.DataFrame
        One row per series folder (and per series of the descriptions file that has no
        folder), sorted by ``study_id`` then ``series_id``, with the columns of
        :data:`SCAN_COLUMNS`:

        - ``study_id``, ``series_id`` (int64), ``description`` (from the descriptions
          file, else the files' SeriesDescription);
        - ``n_files`` (files in the folder), ``n_stacks`` (as :func:`read_stacks`
          would return);
        - ``sizes`` ("rows x cols" of the slices, every size found), ``pixel_spacing``
          (every PixelSpacing, "row x col" mm);
        - ``slice_step_min``, ``slice_step_max`` (float, mm): the smallest and largest
          step between neighbouring slices along the normal within a stack (NaN when no
          stack has two slices); 0 means duplicate positions;
        - ``orientation``: "sagittal", "coronal", "axial", "oblique" or "unknown" per
          stack (:func:`eda_helpers.geometry.plane_name`), the distinct ones joined;
        - ``transfer_syntax``: the transfer syntax names found;
        - ``first_instance``, ``last_instance`` (nullable int), ``instance_gaps``
          (numbers missing between them);
        - ``instance_order``: per stack, whether InstanceNumber grows "along normal"
          (the geometric order of :func:`read_stacks`), "against normal", or is
          "mixed"; ``order_disagrees`` (bool): some stack is not "along normal";
        - ``n_unreadable``, ``unreadable``: how many files could not be read as DICOM
          images and their names;
        - ``notes``: the quirks of the series in words ("3 stacks; instances start at
          11; numbered against the slice normal"), and ``odd`` (bool): it has notes.

    Raises
    ------
    FileNotFoundError
        If ``root`` has no ``<split>_images`` folder.
    ValueError
        If ``split`` is unknown, ``max_workers < 1``, a study id is not a whole number,
        or the descriptions file has a missing column.
    TypeError
        If ``executor`` is not a ``concurrent.futures.Executor``.
    RuntimeError
        If the executor fails to run a task (a worker killed, or workers that cannot
        import eda_helpers). A series that cannot be scanned does not raise: its row
        says "scan failed (...)" in ``notes``.

    Warns
    -----
    UserWarning
        If folders under ``<split>_images`` are not named by numbers, or files lie
        directly in a study folder (both are skipped), or some of ``studies`` are
        nowhere. Hidden files and folders (".DS_Store", "._1.dcm") are skipped silently.

    Notes
    -----
    The workers of the default executor are started by a forkserver, which, like
    spawn, imports the main module again: in a
    script, call ``scan_dataset`` under ``if __name__ == "__main__":``. A notebook
    needs nothing of the kind.

    Examples
    --------
    >>> import tempfile
    >>> from eda_helpers import make_sample_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1)
    ...     scan = scan_dataset(root, max_workers=1, progress=False)
    >>> for row in scan.itertuples():
    ...     print(f"{row.description:17} {row.n_stacks} {row.orientation:9} {row.notes}".strip())
    Sagittal T2/STIR  1 sagittal  instances start at 12; numbered against the slice normal
    Sagittal T1       1 sagittal
    Axial T2          3 axial     3 stacks; numbered against the slice normal
    """
    _check_split(split)
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(
            f"executor: expected a concurrent.futures.Executor (such as a "
            f"ProcessPoolExecutor or a Dask client.get_executor()), got "
            f"{type(executor).__name__}; pass None for the default process pool"
        )
    if max_workers is not None and (
        isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1
    ):
        raise ValueError(f"max_workers: expected an integer >= 1 or None, got {max_workers!r}")
    base = _path(root)
    images = base / f"{split}_images"
    if not images.is_dir():
        raise FileNotFoundError(
            f"root: {base} has no {split}_images/ folder; pass the dataset root (the folder "
            f"that holds {split}_images/ and the CSV files)"
        )
    wanted = None if studies is None else _study_ids(studies)

    found: dict[tuple[int, int], Path] = {}
    skipped: list[str] = []
    stray: list[str] = []
    for study in images.iterdir():
        if _hidden(study) or not study.is_dir():
            continue
        if not study.name.isdigit():
            skipped.append(study.name)
            continue
        if wanted is not None and int(study.name) not in wanted:
            continue
        for series in study.iterdir():
            if _hidden(series):
                continue
            if not series.is_dir():
                stray.append(f"{study.name}/{series.name}")
            elif series.name.isdigit():
                found[int(study.name), int(series.name)] = series
            else:
                skipped.append(f"{study.name}/{series.name}")
    if skipped:
        warnings.warn(
            f"{images}: skipped {len(skipped)} folder(s) not named by a study or series id: "
            f"{', '.join(sorted(skipped)[:10])}",
            UserWarning,
            stacklevel=2,
        )
    if stray:
        warnings.warn(
            f"{images}: skipped {len(stray)} file(s) lying directly in a study folder, "
            f"where only series folders belong: {', '.join(sorted(stray)[:10])}; move them "
            f"into <study_id>/<series_id>/ to scan them",
            UserWarning,
            stacklevel=2,
        )

    csv_name = _csv_name(split, "series_descriptions")
    listed: dict[tuple[int, int], str] = {}
    if (base / csv_name).exists():
        table = read_descriptions(base, split=split)
        for st, se, d in zip(
            table["study_id"], table["series_id"], table["series_description"], strict=True
        ):
            if wanted is None or int(st) in wanted:
                listed[int(st), int(se)] = "" if pd.isna(d) else str(d)

    if wanted is not None:
        absent = sorted(wanted - {k[0] for k in found} - {k[0] for k in listed})
        if absent:
            warnings.warn(
                f"studies: {len(absent)} of the {len(wanted)} study id(s) asked for are "
                f"neither in {split}_images/ nor in {csv_name}: "
                f"{', '.join(map(str, absent[:10]))}; they have no rows",
                UserWarning,
                stacklevel=2,
            )

    keys = sorted(found)
    size = max(1, -(-len(keys) // 64))
    chunks = [[str(found[k]) for k in keys[i : i + size]] for i in range(0, len(keys), size)]
    results = _run_chunks(
        chunks, executor=executor, max_workers=max_workers, progress=progress, total=len(keys)
    )
    scanned = dict(zip(keys, (row for chunk in results for row in chunk), strict=True))

    rows = []
    for key in sorted(set(found) | set(listed)):
        row = scanned.get(key) or _failed_row("folder missing")
        notes = list(row["notes"])
        if key in listed:
            description = listed[key]
        else:
            description = row["header_description"]
            if listed or (base / csv_name).exists():
                notes.append(f"not in {csv_name}")
        rows.append(
            {
                "study_id": key[0],
                "series_id": key[1],
                "description": description,
                **{k: v for k, v in row.items() if k not in ("notes", "header_description")},
                "notes": "; ".join(notes),
                "odd": bool(notes),
            }
        )
    out = pd.DataFrame(rows, columns=list(SCAN_COLUMNS))
    return out.astype(
        {
            "study_id": np.int64,
            "series_id": np.int64,
            "n_files": np.int64,
            "n_stacks": np.int64,
            "slice_step_min": np.float64,
            "slice_step_max": np.float64,
            "first_instance": "Int64",
            "last_instance": "Int64",
            "instance_gaps": np.int64,
            "order_disagrees": bool,
            "n_unreadable": np.int64,
            "odd": bool,
        }
    )
