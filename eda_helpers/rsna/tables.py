"""The competition's CSV files as checked DataFrames, and a study's series by description.

:func:`read_descriptions`, :func:`read_labels` and :func:`read_coordinates` read the CSV
files into pandas DataFrames with checked columns and dtypes; :func:`list_series` lists
every series with its folder, and :func:`find_series` finds a study's series folders by
description.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .. import _checks
from ..vocabulary import CONDITIONS, LEVELS, SEVERITIES, condition_name, level_name

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
    return _checks.path("root", root).expanduser()


def _csv_name(split: str, what: str) -> str:
    _check_split(split)
    if what == "labels":
        return f"{split}.csv"
    return f"{split}_{what}.csv"


def _check_split(split: str) -> None:
    _checks.choice("split", split, ("train", "test"))


def _bad_lines(path: Path, column: str, rule: str, bad: pd.Series) -> ValueError:
    shown = ", ".join("an empty cell" if pd.isna(v) else repr(v) for v in bad.iloc[:5])
    return ValueError(
        f"{path.name}: column {column} must hold {rule}, but line(s) "
        f"{', '.join(str(i + 2) for i in bad.index[:5])} hold {shown}; fix or drop those rows"
    )


def _whole_numbers(path: Path, column: str, text: pd.Series) -> pd.Series:
    """int64 from the file's text, exactly: ids are parsed as text, never as floats."""
    raw = text.to_numpy(dtype=object)
    # The common case, plain decimal digits (those the pattern below takes, Unicode
    # digits included), in one pass: the pattern costs ten times more.
    if all(type(v) is str and v.isdecimal() for v in raw):
        try:
            ints = np.fromiter(map(int, raw), dtype=np.int64, count=len(raw))
        except OverflowError:  # an id beyond 64 bits: the general path names its line
            pass
        else:
            return pd.Series(ints, index=text.index)
    stripped = text.str.strip()
    # "123.0" is how a table that went through a float column writes its ids.
    digits = stripped.str.extract(r"^([+-]?\d+)(?:\.0*)?$", expand=False)
    values = [None if pd.isna(d) else int(d) for d in digits]
    bad = [v is None or not -(2**63) <= v < 2**63 for v in values]
    if any(bad):
        raise _bad_lines(path, column, "whole numbers (64-bit integers)", text[bad])
    return pd.Series(values, index=text.index, dtype=np.int64)


# The CSV tables last read, by file, version and reader: a notebook that looks at study
# after study, or checks the labels again, reads them once (parsing and checking the
# coordinates costs more than reading one study's headers). Keyed by the file's device,
# inode, size and modification time (what one stat gives), so that a rewritten file is
# read again; callers only ever take rows of the cached frames, never modify them. The
# warnings of the read are kept with the frame and given again on every call, as a
# fresh read would give them.
_TABLES: dict[tuple[Any, ...], tuple[pd.DataFrame, list[warnings.WarningMessage]]] = {}
_TABLES_KEPT = 8
# What _rows_of and _column_at work out of a cached frame, kept beside it (by the id of
# the frame, which _TABLES keeps alive): a column's array, a column's rows by value.
# Taking a column of a frame costs pandas several microseconds, and a call takes a
# dozen; a frame passed in by the caller is worked on afresh every time.
_DERIVED: dict[int, dict[Any, Any]] = {}


def _cached(
    reader: Callable[..., pd.DataFrame], root: Path, split: Split, what: str, **options: Any
) -> pd.DataFrame:
    """``reader(root, split=split, **options)``, read once per version of its file."""
    path = root / _csv_name(split, what)
    try:
        stat = path.stat()
    except OSError:  # let the reader say what is missing (or give the empty test table)
        return reader(root, split=split, **options)
    key = (
        reader.__name__,
        split,
        tuple(sorted(options.items())),
        stat.st_dev,
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
    )
    if key not in _TABLES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = reader(root, split=split, **options)
        while len(_TABLES) >= _TABLES_KEPT:
            _DERIVED.pop(id(_TABLES.pop(next(iter(_TABLES)))[0]), None)
        _TABLES[key] = (table, caught)
        _DERIVED[id(table)] = {}
    table, caught = _TABLES[key]
    for w in caught:
        _checks.warn(str(w.message), w.category)
    return table


def _rows_of(table: pd.DataFrame, column: str, value: object) -> NDArray[np.intp]:
    """The positions of the rows of ``table`` whose ``column`` equals ``value``.

    ``table[table[column] == value]`` costs a few hundred microseconds in pandas
    whatever the table's size; a study's or a series' rows are taken many times per
    call, so integer columns (the dtype of the tables read here) are compared in numpy,
    or, for a cached table, looked up in its rows grouped by value (made once).
    Other dtypes go through pandas' own comparison, missing values counting as unequal.
    """
    derived = _DERIVED.get(id(table))
    if derived is not None and isinstance(value, int | np.integer):
        groups = derived.get(("rows", column))
        if groups is None:
            groups = derived[("rows", column)] = _grouped(table[column])
        if groups:  # an integer column: a value is equal to the key it hashes to
            return groups.get(int(value), _NO_ROWS)
    values = table[column]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":  # not Int64
        return np.flatnonzero(values.to_numpy() == value)
    return np.flatnonzero((values == value).to_numpy(dtype=bool, na_value=False))


_NO_ROWS = np.zeros(0, dtype=np.intp)
_NO_ROWS.flags.writeable = False


def _grouped(values: pd.Series) -> dict[int, NDArray[np.intp]]:
    """The positions of each value of an integer column, ascending, read-only; empty for
    a column of another dtype (compared value by value instead)."""
    if not (isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu") or not len(values):
        return {}
    array = values.to_numpy()
    order = np.argsort(array, kind="stable")  # positions ascending within each value
    ordered = array[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    out = {}
    for value, rows in zip(ordered[starts].tolist(), np.split(order, starts[1:]), strict=True):
        rows.flags.writeable = False
        out[value] = rows
    return out


def _column_at(
    table: pd.DataFrame, column: str, rows: NDArray[np.intp], dtype: Any = None
) -> NDArray[Any]:
    """``table[column].to_numpy(dtype)[rows]``, converting only the rows taken: a column
    of strings held by pyarrow, say, would be converted whole on every call (a cached
    table's column is converted once)."""
    derived = _DERIVED.get(id(table))
    if derived is not None:
        array = derived.get(("column", column, dtype))
        if array is None:
            array = derived[("column", column, dtype)] = table[column].to_numpy(dtype=dtype)
        return array[rows]
    values = table[column]
    if isinstance(values.dtype, np.dtype):
        return values.to_numpy(dtype=dtype)[rows]
    return values.array.take(rows).to_numpy(dtype=dtype)


def _strings_at(table: pd.DataFrame, column: str, rows: NDArray[np.intp]) -> Any:
    """The strings of ``table[column]`` at ``rows``. For a cached table (whose reader made
    the column str), the string array pandas makes of a column of str, converted once:
    a frame built from it takes it as it is, rather than inferring the dtype of an
    object array anew. For a table passed in, its values as they are (``_column_at``),
    for the frame to infer their dtype."""
    derived = _DERIVED.get(id(table))
    if derived is None:
        return _column_at(table, column, rows)
    array = derived.get(("strings", column))
    if array is None:
        array = pd.array(table[column].to_numpy(dtype=object), dtype="str")
        derived[("strings", column)] = array
    return array.take(rows)


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
    >>> from eda_helpers.rsna import find_dataset
    >>> data = find_dataset()  # here the built-in sample, written once into a cache
    >>> read_descriptions(data)["series_description"].tolist()[:3]
    ['Sagittal T1', 'Sagittal T2/STIR', 'Axial T2']
    """
    path = _path(root) / _csv_name(split, "series_descriptions")
    table = _read_csv(path, DESCRIPTION_COLUMNS, strings=("series_description",))
    # A series listed twice: with two descriptions it is a contradiction (which one is
    # right cannot be told), with the same one a repeated line that is dropped, loudly.
    repeated = table.duplicated(["study_id", "series_id"], keep=False)
    if repeated.any():
        rows = table[repeated]
        differing = rows.groupby(["study_id", "series_id"])["series_description"].nunique() > 1
        if differing.any():
            study, series = differing[differing].index[0]
            bad = rows[(rows["study_id"] == study) & (rows["series_id"] == series)]
            raise _bad_lines(
                path,
                "series_description",
                f"one description per series (series {series} of study {study} has {len(bad)})",
                bad["series_description"],
            )
        extra = table.duplicated(["study_id", "series_id"], keep="first")
        _checks.warn(
            f"{path.name}: {int(extra.sum())} line(s) repeat a series already listed with "
            f"the same description (line(s) {', '.join(str(i + 2) for i in table.index[extra][:5])}"
            f"); each series is kept once"
        )
        table = table[~extra].reset_index(drop=True)
    return table


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
    >>> from eda_helpers.rsna import find_dataset
    >>> long = read_labels(find_dataset(), form="long")
    >>> long.shape, long.columns.tolist()  # 3 studies x 5 conditions x 5 levels
    ((75, 4), ['study_id', 'condition', 'level', 'severity'])
    >>> long.loc[0, ["condition", "level"]].tolist()
    ['Spinal Canal Stenosis', 'L1/L2']
    """
    _checks.choice("form", form, ("wide", "long"))
    path = _path(root) / _csv_name(split, "labels")
    if split == "test" and not path.exists():
        empty = {c: pd.Series(dtype=SEVERITY) for c in LABEL_COLUMNS[1:]}
        wide = pd.DataFrame({"study_id": pd.Series(dtype=np.int64), **empty})
        cells = np.empty((0, len(LABEL_COLUMNS) - 1), dtype=object)
    else:
        wide = _read_csv(path, LABEL_COLUMNS, strings=LABEL_COLUMNS[1:])
        cells = wide[list(LABEL_COLUMNS[1:])].to_numpy(dtype=object)
        if not set(v for v in pd.unique(cells.ravel()) if not pd.isna(v)) <= set(SEVERITIES):
            for c in LABEL_COLUMNS[1:]:  # the first column holding other values says so
                unknown = sorted(set(wide[c].dropna()) - set(SEVERITIES))
                if unknown:
                    raise ValueError(
                        f"{path.name}: column {c} holds {', '.join(map(repr, unknown[:5]))}; "
                        f"expected one of {', '.join(SEVERITIES)} or an empty cell"
                    )
        if form == "wide":
            for c in LABEL_COLUMNS[1:]:
                wide[c] = wide[c].astype(SEVERITY)
    if form == "wide":
        return wide
    # One row per study, condition and level: study by study, in the file's order of
    # studies (the rows of a study listed twice one after the other), conditions and
    # levels. Built from the cells in one go: melting and sorting the frame cost more
    # than reading the file.
    ids = wide["study_id"].to_numpy()
    first = {sid: i for i, sid in enumerate(dict.fromkeys(ids.tolist()))}
    study = np.array([first[sid] for sid in ids.tolist()], dtype=np.intp)
    n, n_keys = cells.shape
    key = np.repeat(np.arange(n_keys), n)  # the cells column by column, as melt gives them
    row = np.tile(np.arange(n), n_keys)
    order = np.lexsort((key, study[row]))  # stable: a study's rows stay in the file's order
    row, key = row[order], key[order]
    names = [(condition_name(c), level_name(lv)) for c in CONDITIONS for lv in LEVELS]
    return pd.DataFrame(
        {
            "study_id": ids[row],
            "condition": [names[k][0] for k in key.tolist()],
            "level": [names[k][1] for k in key.tolist()],
            "severity": pd.Categorical(cells[row, key], dtype=SEVERITY),
        }
    )


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
    >>> from eda_helpers.rsna import find_dataset
    >>> coords = read_coordinates(find_dataset())
    >>> len(coords), coords.dtypes["instance_number"]
    (75, dtype('int64'))
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
    # Each distinct value spelled once (a column holds a handful of them).
    spelled = {}
    for v in pd.unique(values.to_numpy(dtype=object)):
        key = re.sub(r"[^a-z0-9]", "", v.lower()) if isinstance(v, str) else ""
        if key in canonical:
            spelled[v] = canonical[key]
    out = values.map(spelled)
    if out.isna().any():
        raise _bad_lines(path, column, f"one of {', '.join(names)}", values[out.isna()])
    return out.astype(values.dtype)


# --------------------------------------------------------------------------- series


def list_series(root: str | os.PathLike[str], *, split: Split = "train") -> pd.DataFrame:
    """Every series of the dataset: its ids, description, folder and number of files.

    One call shows what there is to look at: the table of :func:`read_descriptions`
    with the folder of each series and how many files it holds.

    Parameters
    ----------
    root : path-like
        The dataset root (a :class:`DatasetLocation` works too).
    split : {"train", "test"}
        Which images and descriptions file.

    Returns
    -------
    pandas.DataFrame
        ``study_id``, ``series_id`` (int64), ``series_description`` (str), ``path``
        (the folder ``<root>/<split>_images/<study_id>/<series_id>``, a Path) and
        ``n_files`` (int64, the files in it, hidden ones aside; 0 for a series without
        a folder), one row per series in the order of the descriptions file.
        :func:`scan_dataset` also lists folders the file does not name.

    Raises
    ------
    FileNotFoundError
        If the descriptions file is missing.
    ValueError
        As :func:`read_descriptions`.

    Examples
    --------
    >>> from eda_helpers.rsna import find_dataset
    >>> series = list_series(find_dataset())
    >>> series.drop(columns="path").head(3)
         study_id   series_id series_description  n_files
    0  1521327889  3942273027        Sagittal T1       16
    1  1521327889   598367624   Sagittal T2/STIR       15
    2  1521327889   760000400           Axial T2       31
    >>> series["path"][0].relative_to(find_dataset().root).as_posix()
    'train_images/1521327889/3942273027'
    """
    base = _path(root)
    table = read_descriptions(base, split=split)
    images = base / f"{split}_images"
    paths = [
        images / str(st) / str(se)
        for st, se in zip(table["study_id"], table["series_id"], strict=True)
    ]
    counts = []
    for folder in paths:
        try:
            counts.append(sum(1 for p in os.scandir(folder) if not p.name.startswith(".")))
        except (FileNotFoundError, NotADirectoryError):
            counts.append(0)
    out = table[list(DESCRIPTION_COLUMNS)].copy()
    out["path"] = paths
    out["n_files"] = pd.Series(counts, index=out.index, dtype=np.int64)
    return out


def find_series(
    root: str | os.PathLike[str],
    study_id: int | str,
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
    study_id : int or str
        The study: an int, a string of digits or a study folder.
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
    TypeError
        If ``study_id`` is not an int or a string, or ``descriptions`` not a DataFrame.
    ValueError
        If ``study_id`` is not a whole number or not in the table, ``description`` is
        none of the table's descriptions, or ``descriptions`` lacks a column.

    Examples
    --------
    >>> from eda_helpers.rsna import find_dataset
    >>> data = find_dataset()
    >>> [p.name for p in find_series(data, "1521327889", "Axial T2")]  # int or str
    ['760000400']
    """
    study = _checks.identifier("study_id", study_id)
    if descriptions is None:
        table = read_descriptions(root, split=split)
    else:
        table = _checks.table(
            "descriptions", descriptions, DESCRIPTION_COLUMNS, made_by="read_descriptions"
        )
    known = list(dict.fromkeys(table["series_description"].dropna()))
    if description not in known:
        raise ValueError(
            f"description: {description!r} is not a series description of the dataset; "
            f"expected one of {', '.join(map(repr, known))}"
        )
    rows = table[table["study_id"] == study]
    if rows.empty:
        ids = list(dict.fromkeys(table["study_id"]))
        raise ValueError(
            f"study_id: {study} is not in {_csv_name(split, 'series_descriptions')}, "
            f"which lists {len(ids)} studies (e.g. {', '.join(map(str, ids[:3]))}); "
            f"pass one of them (rsna.list_series(root) lists them all)"
        )
    folder = _path(root) / f"{split}_images" / str(study)
    matching = rows.loc[rows["series_description"] == description, "series_id"]
    return [folder / str(int(s)) for s in matching]
