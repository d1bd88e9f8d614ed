"""Label checks: the label coordinates against the DICOM geometry and against train.csv.

:func:`check_labels` maps every label point into patient space through the geometry tags
of its slice (headers only, read as :func:`eda_helpers.io.read_headers` reads them) and
reports, one row per finding, what does not fit: a left point on the patient's right,
both sides of a level on one sagittal slice, levels out of head-to-foot order or
implausibly far apart, an instance that is not a file, a point outside its image, a
condition labelled on a series that does not carry it, a label given twice, and grades
and points that train.csv and the coordinates disagree on. A finding is evidence, not a
verdict: the data is never changed.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import _checks, geometry
from ..io import _read_each
from ..vocabulary import CONDITIONS, LABELLED_ON, LEVELS, condition_name, level_name
from .scan import _hidden, _study_ids
from .tables import _cached, _path, read_coordinates, read_descriptions, read_labels

__all__ = [
    "CHECK_COLUMNS",
    "LABEL_RULES",
    "LEVEL_SPACING_MM",
    "SIDE_TOLERANCE_MM",
    "check_labels",
]

CHECK_COLUMNS = (
    "study_id",
    "series_id",
    "instance_number",
    "condition",
    "level",
    "rule",
    "detail",
)
"""The columns of :func:`check_labels`, in order."""

SIDE_TOLERANCE_MM = 2.0
"""How far (mm) a left or right point may lie across the midline before ``side`` reports
it: the canal point of a level is taken from another series than the side points, and a
patient may move a little between series."""

LEVEL_SPACING_MM = (20.0, 55.0)
"""The plausible distance (mm) between the label points of neighbouring levels. The
centres of neighbouring lumbar discs lie about 30 to 45 mm apart in adults (a vertebral
body of 25 to 30 mm and a disc of 8 to 12 mm); a gap outside these bounds is a point on
the wrong disc, a level left out or a wrong PixelSpacing. Levels with a level missing
between them are judged per level (their distance divided by the number of gaps)."""

LABEL_RULES = {
    "side": "a left or right point lies on the other side of the patient (patient x, LPS: "
    "+x is the patient's left), relative to the spinal canal point of its level, else "
    "of its study, else to the middle of its series",
    "same_slice": "the left and right points of one level are on the same sagittal slice",
    "level_order": "the points of one condition in one series do not run from head "
    "(L1/L2) to foot (L5/S1) along the patient's z axis",
    "level_spacing": "neighbouring levels of one condition in one series lie less than "
    f"{LEVEL_SPACING_MM[0]:g} or more than {LEVEL_SPACING_MM[1]:g} mm apart (per level)",
    "missing_instance": "the instance_number is not a readable file of its series",
    "outside_image": "x, y lie outside the image (beyond the outer pixels' edges)",
    "wrong_series": "a condition labelled on a series whose description does not carry it",
    "duplicate": "the same condition and level labelled more than once in one series",
    "grade_without_point": "train.csv grades a condition and level that has no point",
    "point_without_grade": "a point of a condition and level that train.csv does not grade",
}
"""The rules of :func:`check_labels`, in the order of its rows, each with what it reports."""

_RULE_ORDER = {rule: i for i, rule in enumerate(LABEL_RULES)}
_CANAL = condition_name("spinal_canal_stenosis")
_TITLE_CONDITIONS = {condition_name(c): c for c in CONDITIONS}
_TITLE_LEVELS = [level_name(lv) for lv in LEVELS]


@dataclass
class _Label:
    """One row of the coordinates with what its slice's header says about it."""

    index: int  # the row's position in the coordinates table
    study_id: int
    series_id: int
    instance: int
    condition: str
    level: str
    x: float
    y: float
    header: Any = None  # the header record of its slice, when it has one
    point: tuple[float, float, float] | None = None  # patient mm, when on its image
    side: str = ""  # "Left", "Right" or "" (the spinal canal): _side_of(condition)


def _side_of(condition: str) -> str:
    first = condition.split(" ", 1)[0]
    return first if first in ("Left", "Right") else ""


def _finding(label: _Label, rule: str, detail: str) -> dict[str, Any]:
    return {
        "study_id": label.study_id,
        "series_id": label.series_id,
        "instance_number": label.instance,
        "condition": label.condition,
        "level": label.level,
        "rule": rule,
        "detail": detail,
    }


def _mm(value: float) -> str:
    return f"{value:.1f} mm"


def _series_names(folder: Path) -> list[str]:
    """The names of the files of a series folder, sorted (none when it is missing),
    hidden ones left out."""
    # scandir's entries know their type without a stat per file.
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.is_file())
        # _hidden judges a name by its leading dot: most folders hold no such name, and
        # one search of the joined names says so (a name holding "\n." only costs the
        # exact test).
        if names and ("\n" + "\n".join(names)).find("\n.") >= 0:
            names = [n for n in names if not _hidden(Path(n))]
        return names
    return []


def _series_files(folder: Path) -> list[Path]:
    """The files of a series folder (none when it is missing), hidden ones left out."""
    return [folder / n for n in _series_names(folder)]


def _stem(name: str) -> str:
    """``Path(name).stem``, without a Path for the usual names."""
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:  # a name with a proper suffix: every Python agrees
        return name[:dot]
    return Path(name).stem  # a leading or trailing dot: as this Python's pathlib says


def _instance_names(names: Iterable[str]) -> dict[int, str]:
    """The file names by the instance number they give (the competition's names)."""
    out: dict[int, str] = {}
    for n in names:
        stem = _stem(n)
        if stem.isdigit():
            out.setdefault(int(stem), n)
    return out


def _instance_files(files: Iterable[Path]) -> dict[int, Path]:
    """The files by the instance number their name gives (the competition's names)."""
    out: dict[int, Path] = {}
    for p in files:
        stem = _stem(p.name)
        if stem.isdigit():
            out.setdefault(int(stem), p)
    return out


def _headers_by_instance(files: Iterable[Path]) -> tuple[dict[int, list[Any]], dict[Path, str]]:
    # The records are looked up by instance: no stacks needed, so none are made.
    headers, bad = _read_each(list(files))
    found: dict[int, list[Any]] = defaultdict(list)
    for h in headers:
        if h.instance is not None:
            found[h.instance].append(h)
    return found, {p: reason for p, reason in bad}


def _series_midline(files: Iterable[Path]) -> float | None:
    """Patient x (mm) of the middle of a series: the mean of its image centres."""
    headers, _ = _read_each(list(files))
    centres = [
        geometry.pixel_to_patient(
            [(h.cols - 1) / 2, (h.rows - 1) / 2], h.position, h.orientation, h.pixel_spacing
        )[0, 0]
        for h in headers
        if h.position is not None and h.orientation is not None and h.pixel_spacing is not None
    ]
    return float(np.mean(centres)) if centres else None


def _locate(
    labels: list[_Label], folder: Path, where: str
) -> tuple[list[dict[str, Any]], list[tuple[_Label, Any]]]:
    """Attach to each label of one series the header of its slice; the findings of
    ``missing_instance`` and ``outside_image``, and the labels on their image with
    their header (for :func:`_place`)."""
    names = _series_names(folder)
    numbered = _instance_names(names)
    wanted = {lb.instance for lb in labels}
    # The competition names each file by its instance number: read only those files,
    # and every file only when the names do not lead to the instances.
    files = {n: folder / numbered[n] for n in wanted if n in numbered}
    found, bad = _headers_by_instance(files.values())
    # A header's path is the Path given (identity first: comparing Paths is slow).
    if any(
        not any(h.path is p or h.path == p for h in found.get(n, ())) for n, p in files.items()
    ) or (len(files) < len(wanted) and len(names) > len(files)):
        found, bad = _headers_by_instance([folder / n for n in names])
    findings: list[dict[str, Any]] = []
    placed: list[tuple[_Label, Any]] = []
    for lb in labels:
        headers = found.get(lb.instance, [])
        if len(headers) > 1:  # stacks numbered alike: the file named by the number
            named = [h for h in headers if h.path == files.get(lb.instance)]
            headers = named or headers[:1]
        if not headers:
            if not names:
                why = f"{where} has no files" if folder.is_dir() else f"there is no folder {where}"
            elif lb.instance in files and files[lb.instance] in bad:
                path = files[lb.instance]
                why = f"its file {path.name} cannot be read ({bad[path]})"
            else:
                numbers = sorted(n for n, hs in found.items() if hs)
                why = (
                    f"no file of {where} has that InstanceNumber (it holds "
                    f"{numbers[0]} to {numbers[-1]})"
                    if numbers
                    else f"no readable file in {where}"
                )
            findings.append(_finding(lb, "missing_instance", f"Instance {lb.instance}: {why}."))
            continue
        lb.header = h = headers[0]
        inside = -0.5 <= lb.x <= h.cols - 0.5 and -0.5 <= lb.y <= h.rows - 0.5
        if not inside:
            findings.append(
                _finding(
                    lb,
                    "outside_image",
                    f"x={lb.x:g}, y={lb.y:g} is outside the {h.cols}x{h.rows} (columns x "
                    f"rows) image of instance {lb.instance}, whose pixels span x and y from "
                    f"-0.5 to {h.cols - 0.5:g} and {h.rows - 0.5:g}.",
                )
            )
        elif h.position is not None and h.orientation is not None and h.pixel_spacing is not None:
            placed.append((lb, h))
    return findings, placed


def _place(placed: list[tuple[_Label, Any]]) -> None:
    """Set the patient point (mm) of each label from its header, all in one call."""
    if placed:
        points = geometry.pixel_to_patient(
            [(lb.x, lb.y) for lb, _ in placed],
            [h.position for _, h in placed],
            [h.orientation for _, h in placed],
            [h.pixel_spacing for _, h in placed],
        )
        for (lb, _), point in zip(placed, points.tolist(), strict=True):
            lb.point = tuple(point)


def _same_slice(labels: list[_Label]) -> Iterator[dict[str, Any]]:
    pairs: dict[tuple[str, str], dict[str, list[_Label]]] = defaultdict(lambda: defaultdict(list))
    for lb in labels:
        if lb.side and lb.point is not None:
            kind = lb.condition.split(" ", 1)[1]
            pairs[kind, lb.level][lb.side].append(lb)
    planes: dict[tuple[float, ...], str] = {}
    for (kind, level), sides in pairs.items():
        for left in sides["Left"]:
            right = next((r for r in sides["Right"] if r.instance == left.instance), None)
            if right is None:
                continue
            orientation = tuple(left.header.orientation)
            if orientation not in planes:  # the slices of a stack share it: name it once
                try:
                    planes[orientation] = geometry.plane_name(orientation)
                except ValueError:
                    planes[orientation] = "none"
            if planes[orientation] == "sagittal":
                yield _finding(
                    left,
                    "same_slice",
                    f"Left and Right {kind} at {level} are both on instance {left.instance} "
                    f"of this sagittal series (x={left.x:g}, y={left.y:g} and x={right.x:g}, "
                    f"y={right.y:g}); the two sides of a level lie on slices on either side "
                    f"of the spinal canal.",
                )


def _side(
    labels: list[_Label], reference: dict[str, tuple[float, str]], midline: float | None
) -> Iterator[dict[str, Any]]:
    for lb in labels:
        if not lb.side or lb.point is None:
            continue
        ref = reference.get(lb.level) or reference.get("")
        if ref is None:
            if midline is None:
                continue
            ref = (midline, "the middle of the series")
        x0, what = ref
        offset = float(lb.point[0]) - x0  # LPS: +x is the patient's left
        wrong = -offset if lb.side == "Left" else offset
        if wrong > SIDE_TOLERANCE_MM:
            towards = "right" if lb.side == "Left" else "left"
            yield _finding(
                lb,
                "side",
                f"{lb.condition} at {lb.level} lies {_mm(wrong)} to the patient's {towards} "
                f"of {what} (patient x {lb.point[0]:.1f} mm against {x0:.1f} mm; +x is the "
                f"patient's left), on the other side from its name.",
            )


def _levels(labels: list[_Label]) -> Iterator[dict[str, Any]]:
    groups: dict[str, dict[str, _Label]] = defaultdict(dict)
    for lb in labels:
        if lb.point is not None:
            groups[lb.condition].setdefault(lb.level, lb)  # the first of duplicates
    lo, hi = LEVEL_SPACING_MM
    for by_level in groups.values():
        present = [(i, by_level[lv]) for i, lv in enumerate(_TITLE_LEVELS) if lv in by_level]
        disordered = False
        for (_, a), (_, b) in itertools.pairwise(present):
            assert a.point is not None and b.point is not None
            if b.point[2] >= a.point[2]:  # LPS: +z is towards the head
                disordered = True
                yield _finding(
                    b,
                    "level_order",
                    f"{b.level} lies {_mm(b.point[2] - a.point[2])} above {a.level} (patient z "
                    f"{b.point[2]:.1f} mm against {a.point[2]:.1f} mm; +z is towards the "
                    f"head); the levels run from the head (L1/L2) to the foot (L5/S1).",
                )
        if disordered:  # the gaps of levels out of order say nothing more
            continue
        for (i, a), (j, b) in itertools.pairwise(present):
            assert a.point is not None and b.point is not None
            apart = math.dist(b.point, a.point)
            gap = apart / (j - i)
            if not lo <= gap <= hi:
                per = "" if j - i == 1 else f" ({_mm(gap)} per level, {j - i} levels apart)"
                yield _finding(
                    b,
                    "level_spacing",
                    f"{b.level} lies {_mm(apart)} from {a.level}{per}; neighbouring levels "
                    f"lie {lo:g} to {hi:g} mm apart.",
                )


def _canal_reference(
    labels: list[_Label], descriptions: dict[tuple[int, int], str]
) -> dict[str, tuple[float, str]]:
    """Patient x of the canal point of each level of a study, and of the study ("")."""
    proper = LABELLED_ON["spinal_canal_stenosis"]
    canal = sorted(
        (lb for lb in labels if lb.condition == _CANAL and lb.point is not None),
        key=lambda lb: descriptions.get((lb.study_id, lb.series_id)) != proper,
    )
    out: dict[str, tuple[float, str]] = {}
    for lb in canal:
        assert lb.point is not None
        out.setdefault(lb.level, (float(lb.point[0]), f"the spinal canal point of {lb.level}"))
    if canal:
        mean = float(np.mean([lb.point[0] for lb in canal if lb.point is not None]))
        out[""] = (mean, "the mean of the study's spinal canal points")
    return out


def check_labels(
    data: str | os.PathLike[str],
    *,
    studies: int | Iterable[int] | None = None,
    conditions: str | Iterable[str] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Check the label coordinates against the DICOM geometry and train.csv.

    Each label point is mapped into patient space (LPS mm) through the geometry tags of
    its slice; only the headers of the labelled files are read (as
    :func:`eda_helpers.io.read_headers` reads them, without grouping them into stacks;
    every file of a series only when its file names do not lead to its instance
    numbers). The rules (:data:`LABEL_RULES`):

    - ``side``: a left or right point lies on the patient's other side: its patient x
      (+x is the patient's left) is more than :data:`SIDE_TOLERANCE_MM` across the
      spinal canal point of its level (else the mean of the study's canal points, else
      the middle of its series). The patient's axes decide, never image left/right or
      the direction in which a sagittal series is numbered.
    - ``same_slice``: the left and right points of one level (foraminal or subarticular)
      on the same slice of a sagittal series.
    - ``level_order``: in one series, the points of one condition do not descend from
      L1/L2 to L5/S1 along the patient's z axis (+z is the head); reported on the lower
      level of each pair out of order.
    - ``level_spacing``: in one series whose levels are in order, neighbouring levels
      of one condition lie outside :data:`LEVEL_SPACING_MM` (per level when a level
      between them is missing); reported on the lower level of the pair.
    - ``missing_instance``: no readable file of the series has the instance number.
    - ``outside_image``: x, y outside the image, beyond the outer edges of its
      pixels (x < -0.5 or x > columns - 0.5, likewise y).
    - ``wrong_series``: the condition is labelled on a series whose description is not
      the one that carries it (:data:`~eda_helpers.vocabulary.LABELLED_ON`), or on a
      series missing from the descriptions file.
    - ``duplicate``: the same condition and level labelled more than once in one series
      (reported on each label after the first).
    - ``grade_without_point``: train.csv grades a study's condition and level, and the
      coordinates have no point for it (``series_id`` and ``instance_number`` <NA>).
    - ``point_without_grade``: a point whose study, condition and level train.csv does
      not grade (an empty cell, or a study missing from train.csv).

    A point with no slice, outside its image or on a slice without
    ImagePositionPatient, ImageOrientationPatient or PixelSpacing is left out of the
    geometric rules (``side``, ``same_slice``, ``level_order``, ``level_spacing``); of a
    level labelled twice in one series, the first point is the one they judge. A finding
    is evidence, not a verdict: nothing is changed and nothing is written. The three
    CSV files are read once per version (a rewritten file is read again), as by
    :func:`~eda_helpers.rsna.project_labels`.

    Parameters
    ----------
    data : path-like
        The dataset root (a :class:`DatasetLocation` works too), with ``train.csv``,
        ``train_label_coordinates.csv``, ``train_series_descriptions.csv`` and
        ``train_images/``.
    studies : int or iterable of int, optional
        Check only this study id, or these.
    conditions : str or iterable of str, optional
        Check only the labels of these conditions (spelled as in the coordinates or as
        in train.csv). The spinal canal points are still read, as the midline that
        ``side`` judges the other points against.
    progress : bool, default True
        Show a ``tqdm.auto`` progress bar over the labelled series.

    Returns
    -------
    pandas.DataFrame
        One row per finding, with the columns of :data:`CHECK_COLUMNS`: ``study_id``
        (int64), ``series_id`` and ``instance_number`` (nullable Int64), ``condition``
        and ``level`` (as in the coordinates), ``rule`` (a key of :data:`LABEL_RULES`)
        and ``detail`` (a sentence with the numbers). Sorted by study, series, condition,
        level and rule; empty when every label passes.

    Raises
    ------
    FileNotFoundError
        If ``data`` has no ``train_images/`` folder or one of the three CSV files is
        missing.
    ValueError
        If a CSV file is malformed (the errors of :func:`read_coordinates`,
        :func:`read_labels` and :func:`read_descriptions`), or a study id is not a
        whole number.
    TypeError
        If ``data`` is not a path or ``progress`` not a bool.

    Warns
    -----
    UserWarning
        If some of ``studies`` are neither in the coordinates nor in train.csv.

    Examples
    --------
    >>> import tempfile
    >>> from eda_helpers import make_sample_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1, label_errors=False)
    ...     len(check_labels(root, progress=False))
    0
    """
    root = _path(_checks.path("data", data))
    if not isinstance(progress, bool):
        raise TypeError(
            f"progress: expected True or False, got {type(progress).__name__} {progress!r}"
        )
    if not (root / "train_images").is_dir():
        raise FileNotFoundError(
            f"data: {root} has no train_images/ folder; pass the dataset root (the folder "
            f"that holds train_images/ and the CSV files)"
        )
    coordinates = _cached(read_coordinates, root, "train", "label_coordinates")
    grades = _cached(read_labels, root, "train", "labels", form="long")
    table = _cached(read_descriptions, root, "train", "series_descriptions")
    wanted = None if studies is None else _study_ids(studies)
    if wanted is not None:
        absent = sorted(wanted - set(coordinates["study_id"]) - set(grades["study_id"]))
        if absent:
            _checks.warn(
                f"studies: {len(absent)} of the {len(wanted)} study id(s) asked for are in "
                f"neither train_label_coordinates.csv nor train.csv: "
                f"{', '.join(map(str, absent[:10]))}; they have no findings"
            )
        coordinates = coordinates[coordinates["study_id"].isin(wanted)]
        grades = grades[grades["study_id"].isin(wanted)]
    if conditions is not None:
        chosen = _chosen_conditions(conditions)
        keep = coordinates["condition"].isin(chosen | {_CANAL})
        coordinates = coordinates[keep]
        grades = grades[grades["condition"].isin(chosen)]
    descriptions = {
        (int(st), int(se)): str(d)
        for st, se, d in zip(
            table["study_id"].tolist(),
            table["series_id"].tolist(),
            table["series_description"].tolist(),
            strict=True,
        )
        if not pd.isna(d)
    }
    sides = {c: _side_of(c) for c in set(coordinates["condition"].tolist())}
    labels = [
        _Label(k, int(st), int(se), int(n), str(c), str(lv), float(x), float(y), side=sides[c])
        for k, (st, se, n, c, lv, x, y) in enumerate(
            zip(
                coordinates["study_id"].tolist(),
                coordinates["series_id"].tolist(),
                coordinates["instance_number"].tolist(),
                coordinates["condition"].tolist(),
                coordinates["level"].tolist(),
                coordinates["x"].tolist(),
                coordinates["y"].tolist(),
                strict=True,
            )
        )
    ]
    by_series: dict[tuple[int, int], list[_Label]] = defaultdict(list)
    for lb in labels:
        by_series[lb.study_id, lb.series_id].append(lb)

    findings: list[dict[str, Any]] = []
    # Canal points first: they are the midline that the side points of other series
    # are judged against. Two passes over the series, the headers read once.
    order = sorted(by_series, key=lambda k: (k[0], k[1]))
    bar = tqdm(total=len(order), desc="labels", unit="series") if progress else None
    try:
        located: dict[tuple[int, int], list[dict[str, Any]]] = {}
        placed: list[tuple[_Label, Any]] = []
        for key in order:
            series = by_series[key]
            where = f"train_images/{key[0]}/{key[1]}"
            located[key], on_image = _locate(series, root / where, where)
            placed.extend(on_image)
            if bar is not None:
                bar.update()
        _place(placed)
        by_study: dict[int, list[_Label]] = defaultdict(list)
        for lb in labels:
            by_study[lb.study_id].append(lb)
        canal = {st: _canal_reference(lbs, descriptions) for st, lbs in by_study.items()}
        for key in order:
            findings.extend(
                _series_findings(root, by_series[key], descriptions.get(key), canal, located[key])
            )
    finally:
        if bar is not None:
            bar.close()
    findings.extend(_grade_findings(coordinates, grades))
    table = _as_table(findings)
    if conditions is not None:
        table = table[table["condition"].isin(chosen)].reset_index(drop=True)
    return table


def _chosen_conditions(conditions: str | Iterable[str]) -> set[str]:
    """The conditions asked for, in the spelling of the coordinates."""
    items = [conditions] if isinstance(conditions, str) else list(conditions)
    names = [condition_name(c) for c in CONDITIONS]
    return {
        condition_name(c) if c in CONDITIONS else _checks.choice("conditions", c, names)
        for c in items
    }


def _series_findings(
    root: Path,
    labels: list[_Label],
    description: str | None,
    canal: dict[int, dict[str, tuple[float, str]]],
    located: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The findings of one series whose labels :func:`_locate` has placed."""
    first = labels[0]
    findings = list(located)
    for lb in labels:
        expected = LABELLED_ON[_TITLE_CONDITIONS[lb.condition]]
        if description is None:
            findings.append(
                _finding(
                    lb,
                    "wrong_series",
                    f"Series {lb.series_id} is not listed for study {lb.study_id} in "
                    f"train_series_descriptions.csv, so it is not known to be the "
                    f"{expected} series that carries {lb.condition}.",
                )
            )
        elif description != expected:
            findings.append(
                _finding(
                    lb,
                    "wrong_series",
                    f"{lb.condition} is labelled on this {description} series; the "
                    f"competition labels it on the {expected} series.",
                )
            )
    seen: dict[tuple[str, str], list[_Label]] = defaultdict(list)
    for lb in labels:
        seen[lb.condition, lb.level].append(lb)
    for (condition, level), rows in seen.items():
        for k, lb in enumerate(rows[1:], start=2):
            findings.append(
                _finding(
                    lb,
                    "duplicate",
                    f"{condition} at {level} is labelled {len(rows)} times in this series; "
                    f"this is label {k} (instance {lb.instance}, x={lb.x:g}, y={lb.y:g}), the "
                    f"first is at instance {rows[0].instance}, x={rows[0].x:g}, "
                    f"y={rows[0].y:g}.",
                )
            )
    findings.extend(_same_slice(labels))
    reference = canal.get(first.study_id, {})
    midline = None
    if not reference and any(lb.side and lb.point is not None for lb in labels):
        folder = root / "train_images" / str(first.study_id) / str(first.series_id)
        midline = _series_midline(_series_files(folder))
    findings.extend(_side(labels, reference, midline))
    findings.extend(_levels(labels))
    return findings


def _grade_findings(coordinates: pd.DataFrame, grades: pd.DataFrame) -> list[dict[str, Any]]:
    graded = {
        (int(st), str(c), str(lv))
        for st, c, lv, missing in zip(
            grades["study_id"].tolist(),
            grades["condition"].tolist(),
            grades["level"].tolist(),
            grades["severity"].isna().tolist(),
            strict=True,
        )
        if not missing
    }
    studies_graded = set(grades["study_id"])
    pointed: dict[tuple[int, str, str], list[tuple[int, int]]] = defaultdict(list)
    for st, se, n, c, lv in zip(
        coordinates["study_id"].tolist(),
        coordinates["series_id"].tolist(),
        coordinates["instance_number"].tolist(),
        coordinates["condition"].tolist(),
        coordinates["level"].tolist(),
        strict=True,
    ):
        pointed[int(st), str(c), str(lv)].append((int(se), int(n)))
    out: list[dict[str, Any]] = []
    for st, c, lv in sorted(graded - set(pointed)):
        out.append(
            {
                "study_id": st, "series_id": None, "instance_number": None,
                "condition": c, "level": lv, "rule": "grade_without_point",
                "detail": f"train.csv grades {c} at {lv} of study {st}, and "
                f"train_label_coordinates.csv has no point for it.",
            }
        )  # fmt: skip
    for (st, c, lv), places in pointed.items():
        if (st, c, lv) in graded:
            continue
        why = (
            f"its cell {_TITLE_CONDITIONS[c]}_{lv.lower().replace('/', '_')} in train.csv is empty"
            if st in studies_graded
            else f"study {st} is not in train.csv"
        )
        for se, n in places:
            out.append(
                {
                    "study_id": st, "series_id": se, "instance_number": n,
                    "condition": c, "level": lv, "rule": "point_without_grade",
                    "detail": f"{c} at {lv} has a point (instance {n}) but no grade: {why}.",
                }
            )  # fmt: skip
    return out


def _as_table(findings: list[dict[str, Any]]) -> pd.DataFrame:
    # Sorted as plain tuples, then one frame built with its dtypes: a frame of keys and
    # its sort cost more than the findings themselves.
    conditions = {condition_name(c): i for i, c in enumerate(CONDITIONS)}
    levels = {lv: i for i, lv in enumerate(_TITLE_LEVELS)}
    last = len(LABEL_RULES) + len(CONDITIONS) + len(LEVELS)  # an unknown name sorts last

    def key(f: dict[str, Any]) -> tuple[Any, ...]:
        return (
            f["study_id"],
            2**62 if f["series_id"] is None else f["series_id"],
            conditions.get(f["condition"], last),
            levels.get(f["level"], last),
            _RULE_ORDER.get(f["rule"], last),
            -1 if f["instance_number"] is None else f["instance_number"],
        )

    rows = sorted(findings, key=key)
    return pd.DataFrame(
        {
            "study_id": np.array([f["study_id"] for f in rows], dtype=np.int64),
            "series_id": pd.array([f["series_id"] for f in rows], dtype="Int64"),
            "instance_number": pd.array([f["instance_number"] for f in rows], dtype="Int64"),
            **{
                c: pd.Series([f[c] for f in rows], dtype=object)
                for c in ("condition", "level", "rule", "detail")
            },
        }
    )


def _label_file(folder: Path, instance: int) -> Path | None:
    """The file of a series folder whose InstanceNumber is ``instance``, else None.

    The file named by the number (the competition's convention) when its header agrees,
    else the first file of the folder whose header holds that number.
    """
    every = _series_files(folder)
    named = _instance_files(every).get(instance)
    if named is not None:
        found, _ = _headers_by_instance([named])
        if instance in found:
            return named
    found, _ = _headers_by_instance(every)
    headers = found.get(instance, [])
    return Path(headers[0].path) if headers else None
