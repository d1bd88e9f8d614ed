"""A study in world coordinates: its label points carried onto every series.

The three series of a competition study share one frame of reference: a label point
placed on one slice of the Sagittal T2/STIR is a point in the patient (mm, LPS), and so
has a nearest slice, a pixel and a distance in every other stack of the study, the
separately angled Axial T2 stacks included. :func:`project_labels` computes that table
from the headers alone (no pixel is decoded), with the geometry of
:mod:`eda_helpers.geometry` that :class:`~eda_helpers.Volume` uses.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .. import _checks, geometry, io
from ..volume import Volume
from .labels import _USED, _place_labels
from .tables import (
    DESCRIPTION_COLUMNS,
    Split,
    _cached,
    _column_at,
    _rows_of,
    _strings_at,
    read_coordinates,
    read_descriptions,
)

__all__ = ["PROJECTION_COLUMNS", "StudyPane", "StudyViewer", "project_labels", "show_study"]

PROJECTION_COLUMNS = (
    "study_id",
    "condition",
    "level",
    "series_id",
    "instance_number",
    "patient_x",
    "patient_y",
    "patient_z",
    "target_series_id",
    "target_description",
    "target_stack",
    "target_slice_index",
    "target_instance_number",
    "x",
    "y",
    "distance_mm",
    "inside",
)
"""Columns of :func:`project_labels`."""


@dataclass(frozen=True)
class _Stack:
    """One stack of a study, as a Volume that holds geometry only."""

    series_id: int
    description: str
    stack: int
    volume: Volume


# The pixels of a geometry-only Volume: one zero, seen through a zero-stride view of
# the stack's shape. The Volumes share it: they never leave this module, and nothing
# here writes to pixels.
_NO_PIXELS = torch.zeros((), dtype=torch.uint8)


def _geometry_volume(headers: list[Any]) -> Volume | str:
    """A Volume of the stack's geometry (its pixels a zero-stride view, never read), or
    why the stack has no usable geometry."""
    found = [h.position for h in headers]
    if None in found or None in [h.orientation for h in headers]:
        return "some slices lack ImagePositionPatient or ImageOrientationPatient"
    first = headers[0]
    if first.pixel_spacing is None:
        return "it has no PixelSpacing, so its pixels have no size in mm"
    positions = np.array(found, dtype=np.float64)
    instances = np.array([-1 if h.instance is None else h.instance for h in headers])
    # The order of read_stacks (duplicates kept): along the normal, ties by InstanceNumber.
    order = geometry.slice_order(geometry.slice_offsets(positions, first.orientation), instances)
    tagged = getattr(first, "spacing_between", None) or getattr(first, "thickness", None)
    try:
        return Volume.from_array(
            _NO_PIXELS.expand(len(headers), first.rows, first.cols),
            positions=positions[order],
            orientation=first.orientation,
            pixel_spacing=first.pixel_spacing,
            slice_spacing=abs(float(tagged)) if tagged else None,
            instance_numbers=instances[order].tolist(),
            files=[headers[i].path for i in order.tolist()],
            description=first.description,
            series_uid=first.series_uid,
            study_uid=first.study_uid,
        )
    except ValueError as exc:  # geometry the files contradict themselves on
        return f"its geometry is inconsistent ({exc})"


def _study_stacks(
    root: Path, study_id: int, split: Split, series_ids: list[Any], names: list[Any]
) -> tuple[list[_Stack], list[str]]:
    stacks: list[_Stack] = []
    problems: list[str] = []
    for series_id, description in zip(series_ids, names, strict=True):
        folder = root / f"{split}_images" / str(study_id) / str(series_id)
        try:
            listing = io._folder_listing(folder)
        except (FileNotFoundError, NotADirectoryError):
            problems.append(f"series {series_id} ({description}): no folder {folder}")
            continue
        # read_headers of the folder's files, opened by the names of the listing
        headers, unreadable = io._read_each(*listing)
        found = io._stacks_of(headers)
        if unreadable:
            path, reason = unreadable[0]
            problems.append(
                f"series {series_id}: {len(unreadable)} file(s) left out (e.g. {path.name}: "
                f"{reason})"
            )
        for k, headers in enumerate(found):
            volume = _geometry_volume(headers)
            if isinstance(volume, str):
                problems.append(f"series {series_id} stack {k} left out: {volume}")
            else:
                stacks.append(_Stack(int(series_id), str(description), k, volume))
    return stacks, problems


def project_labels(
    data: str | os.PathLike[str],
    study_id: int | str,
    *,
    split: Split = "train",
    coordinates: pd.DataFrame | None = None,
    descriptions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every label point of a study, projected onto every stack of every series.

    Each label point (a pixel of one slice) becomes a point in patient coordinates
    (:meth:`~eda_helpers.Volume.world`), and is projected onto each stack of the study
    (:meth:`~eda_helpers.Volume.project`): its nearest slice, its pixel there, its
    distance from that slice's plane and whether it falls inside the stack. Only the
    headers are read (:func:`eda_helpers.io.read_headers`); no pixel is decoded.

    Parameters
    ----------
    data : path-like
        The dataset root (a :class:`~eda_helpers.rsna.DatasetLocation` works).
    study_id : int or str
        The study.
    split : {"train", "test"}
        Which images and tables.
    coordinates, descriptions : pandas.DataFrame, optional
        The tables of :func:`read_coordinates` and :func:`read_descriptions`. By
        default they are read from ``data``, once per version of the files (a rewritten
        file is read again).

    Returns
    -------
    pandas.DataFrame
        One row per (label point, stack of the study), the columns of
        :data:`PROJECTION_COLUMNS`: ``study_id``, ``condition``, ``level``, the label's
        ``series_id`` and ``instance_number``, its point ``patient_x``, ``patient_y``,
        ``patient_z`` (mm, LPS); then the target stack: ``target_series_id``,
        ``target_description``, ``target_stack`` (the index in
        :func:`eda_helpers.read_stacks`), ``target_slice_index`` (the nearest slice, in
        the order of ``read_stacks(..., duplicates="keep")``, the order of
        ``read_series`` too when no position repeats), ``target_instance_number``, ``x``
        and ``y`` (column and row in that slice's pixels), ``distance_mm`` (signed, out
        of plane) and ``inside`` (on the image and within half the mean slice step of
        the slice). Rows come label by label, in the table's order, and for each label
        the stacks in the order of the descriptions table. On the label's own stack the
        row gives back its own slice and ``x``, ``y``.

    Raises
    ------
    ValueError
        If ``study_id`` is not an id, or not a study of the descriptions table; if
        ``coordinates`` or ``descriptions`` lacks one of the columns of its reader; if
        a label placed on a slice has an x or y that is NaN or infinite (a table
        passed in: the reader refuses those).
    TypeError
        If ``data`` is not a path, ``study_id`` not an int or string, or
        ``coordinates`` or ``descriptions`` not a DataFrame.

    Warns
    -----
    UserWarning
        When series folders, files or stacks are left out (no folder, unreadable files,
        no geometry) or label points name an instance that no slice of their series
        holds; those labels are left out.

    Examples
    --------
    >>> import tempfile
    >>> from eda_helpers import make_sample_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1, label_errors=False)
    ...     study = int(read_descriptions(root)["study_id"][0])
    ...     table = project_labels(root, study)
    >>> len(table), table["target_description"].value_counts().to_dict()
    (125, {'Axial T2': 75, 'Sagittal T1': 25, 'Sagittal T2/STIR': 25})
    >>> own = table[(table["target_series_id"] == table["series_id"])
    ...             & (table["target_instance_number"] == table["instance_number"])]
    >>> len(own), bool(own["inside"].all()), float(own["distance_mm"].abs().max()) < 1e-6
    (25, True, True)
    """
    root = _checks.path("data", data)
    sid = _checks.identifier("study_id", study_id)
    if descriptions is None:
        descriptions = _cached(read_descriptions, root, split, "series_descriptions")
    else:
        _checks.table(
            "descriptions", descriptions, DESCRIPTION_COLUMNS, made_by="read_descriptions"
        )
    # Plain arrays from here on: pandas' per-call cost of taking a study's or a series'
    # rows is more than the geometry of the whole study.
    here = _rows_of(descriptions, "study_id", sid)
    if not here.size:
        ids = list(dict.fromkeys(descriptions["study_id"]))
        raise ValueError(
            f"study_id: expected a study of the {split} series descriptions, got {sid}; it "
            f"lists {len(ids)} studies (e.g. {', '.join(map(str, ids[:3]))})"
        )
    if coordinates is None:
        coordinates = _cached(read_coordinates, root, split, "label_coordinates")
    else:
        _checks.table("coordinates", coordinates, ("study_id", *_USED), made_by="read_coordinates")
    stacks, problems = _study_stacks(
        root,
        sid,
        split,
        _column_at(descriptions, "series_id", here).tolist(),
        _column_at(descriptions, "series_description", here).tolist(),
    )

    # Each label on its own slice (the rule of locate_labels), then in mm.
    labelled = _rows_of(coordinates, "study_id", sid)
    series_of = _column_at(coordinates, "series_id", labelled)
    instance_of = _column_at(coordinates, "instance_number", labelled)
    # (row, column) of each label in its slice's pixels
    pixel_of = np.stack(
        [_column_at(coordinates, c, labelled, np.float64) for c in ("y", "x")], axis=1
    )
    taken: list[Any] = []  # positions in coordinates of the labels placed, series by series
    voxels: list[Any] = []  # and their (slice, row, column) there
    on: list[Any] = []  # in which stack (an index into stacks)
    for series_id in dict.fromkeys(series_of.tolist()):
        rows = np.flatnonzero(series_of == series_id)
        mine = [t for t, s in enumerate(stacks) if s.series_id == series_id]
        own = [stacks[t] for t in mine]
        if not own:
            problems.append(
                f"the {len(rows)} label(s) of series {series_id} are left out: the series "
                f"has no stack with geometry"
            )
            continue
        stack, index, lost, ambiguous = _place_labels(
            instance_of[rows].tolist(), [s.volume for s in own]
        )
        missing = sorted({*lost, *ambiguous})
        if missing:
            problems.append(
                f"{len(missing)} labelled instance number(s) of series {series_id} "
                f"({', '.join(map(str, missing[:10]))}) are on no single slice of the series, "
                f"so their labels are left out (rsna.check_labels reports a missing one as "
                f"missing_instance)"
            )
        found = [j for j, k in enumerate(stack) if k is not None]
        if not found:
            continue
        at = rows[found]
        voxel = np.empty((len(at), 3))
        voxel[:, 0] = [index[j] for j in found]
        voxel[:, 1:] = pixel_of[at]
        taken.append(labelled[at])
        voxels.append(voxel)
        on.append([mine[stack[j]] for j in found])  # type: ignore[index]
    if problems:  # one warning per call, the first few problems in it
        _checks.warn(
            f"study {sid} in {root}: {'; '.join(problems[:5])}"
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        )
    if not taken or not stacks:
        return _empty()
    at = np.concatenate(taken)
    voxel = np.concatenate(voxels)
    unplaced = ~np.isfinite(voxel).all(axis=1)
    if unplaced.any():  # of the labels placed on a slice; the others are left out above
        row = coordinates.index[at[np.argmax(unplaced)]]
        raise ValueError(
            f"coordinates: expected finite x and y (pixels), got NaN or inf in "
            f"{int(unplaced.sum())} row(s) of study {sid} (e.g. row {row!r}); fix or drop them"
        )
    # Volume.world and Volume.project of every stack in one pass (the same geometry)
    frames = geometry._stack_frames([(t.volume.affine, t.volume.positions) for t in stacks])
    points = geometry._world(frames, np.concatenate(on).astype(np.intp), voxel)
    index = coordinates.index
    # The table's order: that of its index labels (its positions, for a RangeIndex).
    by_table = np.argsort(
        at if isinstance(index, pd.RangeIndex) and index.step > 0 else index.to_numpy()[at],
        kind="stable",
    )
    at = at[by_table]
    xyz = points[by_table]
    n_labels = len(at)

    # Label-major rows: label l on target t is row l * len(stacks) + t.
    n_targets = len(stacks)
    projected = geometry._project(frames, xyz, [t.volume.shape[1:] for t in stacks])
    rows = np.repeat(at, n_targets)
    columns: dict[str, Any] = {
        c: _strings_at(coordinates, c, rows)
        if c in ("condition", "level")
        else _column_at(coordinates, c, rows)
        for c in PROJECTION_COLUMNS[:5]
    }
    for d, c in enumerate(PROJECTION_COLUMNS[5:8]):
        columns[c] = np.repeat(xyz[:, d], n_targets)

    def per_target(values: list[Any], dtype: Any) -> Any:
        return np.tile(np.array(values, dtype=dtype), n_labels)

    def per_row(values: Any, dtype: Any) -> Any:  # (target, label) -> label-major rows
        return np.ascontiguousarray(values.T, dtype=dtype).ravel()

    columns["target_series_id"] = per_target([t.series_id for t in stacks], np.int64)
    columns["target_description"] = per_target([t.description for t in stacks], object)
    columns["target_stack"] = per_target([t.stack for t in stacks], np.int64)
    nearest = projected.slice_index
    columns["target_slice_index"] = per_row(nearest, np.int64)
    instances = np.full(frames.positions.shape[:2], -1, dtype=np.int64)
    for t, s in enumerate(stacks):
        instances[t, : len(s.volume.instance_numbers)] = s.volume.instance_numbers
    columns["target_instance_number"] = per_row(
        np.take_along_axis(instances, nearest, axis=1), np.int64
    )
    for name in ("x", "y", "distance_mm"):
        columns[name] = per_row(getattr(projected, name), np.float64)
    columns["inside"] = per_row(projected.inside, bool)
    # Every column already has its dtype (see _DTYPES) and is a fresh array: no copy.
    return pd.DataFrame(columns, copy=False)


_DTYPES = {
    "study_id": np.int64,
    "series_id": np.int64,
    "instance_number": np.int64,
    "target_series_id": np.int64,
    "target_stack": np.int64,
    "target_slice_index": np.int64,
    "target_instance_number": np.int64,
    "inside": bool,
}


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=_DTYPES.get(c, object)) for c in PROJECTION_COLUMNS}
    ).astype({c: np.float64 for c in (*PROJECTION_COLUMNS[5:8], "x", "y", "distance_mm")})


# --------------------------------------------------------------------------- linked viewer

_PANE_COLOURS = ("#29b6f6", "#ff7043", "#66bb6a", "#ab47bc", "#ec407a", "#26c6da", "#8d6e63")
_ABBREVIATIONS = {
    "Spinal Canal Stenosis": "SCS",
    "Left Neural Foraminal Narrowing": "LNFN",
    "Right Neural Foraminal Narrowing": "RNFN",
    "Left Subarticular Stenosis": "LSS",
    "Right Subarticular Stenosis": "RSS",
}
_STUDY_CSS = (
    "[data-eh-study]{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
    "[data-eh-study] .eh-viewer{margin:0}"
)


@dataclass(frozen=True)
class StudyPane:
    """What one pane of a :class:`StudyViewer` shows.

    Attributes
    ----------
    series_id : int
    description : str
        The series description of the table ("Sagittal T1", ...).
    stack : int
        The stack's index in :func:`eda_helpers.read_stacks` of its series.
    volume : Volume
        The stack, as read with ``read_stacks(folder, duplicates="keep")``.
    colour : str
        The CSS colour of the pane's lines on the other panes.
    """

    series_id: int
    description: str
    stack: int
    volume: Volume
    colour: str


class StudyViewer:
    """The series of a study side by side, one pane per stack, linked in the browser.

    Built by :func:`show_study`; see there. Leave it as the last expression of a cell to
    show it; :func:`eda_helpers.save_html` writes it as a standalone page.

    Attributes
    ----------
    study_id : int
    panes : tuple of StudyPane
        The panes, in the order shown.
    labels : pandas.DataFrame
        The table of :func:`project_labels` the label points come from.
    """

    def __init__(
        self,
        study_id: int,
        panes: tuple[StudyPane, ...],
        labels: pd.DataFrame,
        html: str,
    ) -> None:
        self.study_id = study_id
        self.panes = panes
        self.labels = labels
        self._html = html

    @property
    def title(self) -> str:
        """The page title of the saved render."""
        return f"study {self.study_id}"

    def to_html(self) -> str:
        """The render: a self-contained HTML fragment (no kernel, no network).

        A root element ``[data-eh-study]`` holding one ``[data-eh-viewer]`` element per
        pane (``data-index``, ``data-series-id``, ``data-description`` and, for the
        Axial T2 stacks, ``data-stack``), the front-end of :mod:`eda_helpers.frontend`
        and the linking script.
        """
        return self._html

    def __repr__(self) -> str:
        kinds = ", ".join(
            f"{p.description}" + (f" stack {p.stack}" if p.description == "Axial T2" else "")
            for p in self.panes
        )
        return f"StudyViewer(study {self.study_id}: {kinds})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        # text/plain stays free of ids of the session so that nbval can compare it.
        return {"text/plain": repr(self), "text/html": self._html}


def _label_text(condition: str, level: str) -> str:
    return f"{_ABBREVIATIONS.get(condition, condition)} {level}"


def _pane_geometry(v: Volume) -> list[dict[str, Any]]:
    """What the linking script needs of each slice of a stack, with the inverse of the
    in-plane steps' Gram matrix worked out here (the script only takes dot products)."""
    steps = v.affine[:3, 1:3]  # row step, column step (mm per pixel)
    normal = geometry.slice_normal(v.orientation)
    inverse = np.linalg.inv(steps.T @ steps).tolist()
    positions = np.asarray(v.positions, dtype=np.float64)
    return [
        {
            "position": pos.tolist(),
            "row_step": steps[:, 0].tolist(),
            "col_step": steps[:, 1].tolist(),
            "inverse": inverse,
            "normal": normal.tolist(),
            "offset": float(pos @ normal),
        }
        for pos in positions
    ]


def _reference_lines(a: Volume, b: Volume) -> list[list[list[float] | None]] | None:
    """For each slice j of ``b``, the line of each slice i of ``a`` on it (pixels of
    ``b``, clipped to its image): ``out[j][i]`` is ``[x1, y1, x2, y2]`` or None. None
    when the stacks are parallel."""
    if geometry.same_orientation(a.orientation, b.orientation, atol=1e-3):
        return None
    _, adr, adc = a.spacing
    _, bdr, bdc = b.spacing
    corners = [
        geometry.image_corners(a.positions[i], a.orientation, (adr, adc), a.shape[1:])
        for i in range(len(a))
    ]
    out: list[list[list[float] | None]] = []
    for j in range(len(b)):
        row: list[list[float] | None] = []
        for c in corners:
            seg = geometry.reference_line(c, b.positions[j], b.orientation, (bdr, bdc))
            if seg is not None:
                seg = geometry.clip_to_image(seg, b.shape[1:])
            row.append(None if seg is None else np.round(seg.ravel(), 2).tolist())
        out.append(row)
    return out


def _study_script() -> str:
    from importlib import resources

    return resources.files("eda_helpers").joinpath("study.js").read_text(encoding="utf-8")


def show_study(
    data: str | os.PathLike[str],
    study_id: int | str,
    *,
    split: Split = "train",
    window: Any = "percentile",
    width: int = 320,
    coordinates: pd.DataFrame | None = None,
    descriptions: pd.DataFrame | None = None,
) -> StudyViewer:
    """Every series of a study side by side, linked through patient coordinates.

    One pane per stack (each Axial T2 stack a pane of its own), each scrubbable like the
    saved :class:`~eda_helpers.SliceViewer` (slider, arrow keys and mouse wheel on the
    image, play, window). Linked in the browser, with no kernel: the current slice of
    each pane is drawn as a line, in that pane's colour, on every pane whose current
    slice it cuts (the cross-reference lines of :func:`eda_helpers.plot_cross_reference`,
    from the same geometry code, worked out for every pair of slices); a click on a pane
    moves every other pane to its slice nearest the clicked 3-D point and marks the
    point there with a cross; the label points of all conditions
    (:func:`project_labels`) are drawn on every slice they fall inside (within half a
    slice step), the others are hidden. Labels are abbreviated: SCS (spinal canal
    stenosis), LNFN/RNFN (left/right neural foraminal narrowing), LSS/RSS (left/right
    subarticular stenosis).

    It is one HTML fragment with plain JavaScript (:mod:`eda_helpers.frontend`): it works
    the same live in JupyterLab and Jupyter Notebook, and in a saved notebook (nbconvert
    HTML, nbviewer, a saved Kaggle version); where scripts are stripped each pane shows
    a still of its middle slice.

    Parameters
    ----------
    data : path-like
        The dataset root (a :class:`~eda_helpers.rsna.DatasetLocation` works).
    study_id : int or str
        The study.
    split : {"train", "test"}
        Which images and tables.
    window : {"percentile", "minmax", "dicom"} or (low, high)
        The values shown black and white, per stack
        (:func:`eda_helpers.intensity.resolve_window`).
    width : int, default 320
        Display width of each pane in CSS pixels.
    coordinates, descriptions : pandas.DataFrame, optional
        As in :func:`project_labels`.

    Returns
    -------
    StudyViewer

    Raises
    ------
    ValueError, TypeError
        As :func:`project_labels`; if ``width`` is not an integer >= 64; or if no
        series of the study can be read (a series that cannot be read is left out with
        a warning).

    Warns
    -----
    UserWarning
        As :func:`project_labels` and :func:`eda_helpers.read_stacks`.
    """
    from .. import frontend
    from ..intensity import grey_levels, resolve_window
    from ..io import SeriesError, read_stacks
    from ..viewer import encode_png

    root = _checks.path("data", data)
    sid = _checks.identifier("study_id", study_id)
    width = _checks.integer("width", width, minimum=64)
    if descriptions is None:
        descriptions = _cached(read_descriptions, root, split, "series_descriptions")
    labels = project_labels(
        root, sid, split=split, coordinates=coordinates, descriptions=descriptions
    )
    rows = descriptions[descriptions["study_id"] == sid]
    panes: list[StudyPane] = []
    skipped: list[str] = []
    for series_id, description in zip(rows["series_id"], rows["series_description"], strict=True):
        folder = root / f"{split}_images" / str(sid) / str(series_id)
        if not folder.is_dir():
            continue  # project_labels has said so
        try:
            volumes = read_stacks(folder, duplicates="keep", progress=False)
        except SeriesError as exc:  # one unreadable series does not hide the others
            skipped.append(f"series {series_id}: {exc}")
            continue
        for k, v in enumerate(volumes):
            if not v.has_geometry:
                continue
            colour = _PANE_COLOURS[len(panes) % len(_PANE_COLOURS)]
            panes.append(StudyPane(int(series_id), str(description), k, v, colour))
    if not panes:
        raise ValueError(
            f"study_id: no series of study {sid} under {root / f'{split}_images' / str(sid)} "
            f"could be read with its geometry" + (f" ({'; '.join(skipped[:3])})" if skipped else "")
        )
    if skipped:
        _checks.warn(f"study {sid}: left out of the viewer: {'; '.join(skipped[:5])}")

    built: list[frontend.Pane] = []
    for p in panes:
        v = p.volume
        n, n_rows, n_cols = v.shape
        lo, hi = resolve_window(v, window)
        vmin, vmax = resolve_window(v, "minmax")
        grey = grey_levels(v.pixels, lo, hi)
        here = labels[
            (labels["target_series_id"] == p.series_id)
            & (labels["target_stack"] == p.stack)
            & labels["inside"]
        ]
        points: dict[int, list[tuple[float, float, str]]] = {}
        for r in here.itertuples():
            text = _label_text(str(r.condition), str(r.level))
            points.setdefault(int(r.target_slice_index), []).append((r.x, r.y, text))
        stack = f" stack {p.stack}" if p.description == "Axial T2" else ""
        readouts = [
            f"{p.description}{stack} · slice {i} of 0–{n - 1} · #{v.instance_numbers[i]}"
            + (" · " + ", ".join(t for *_, t in points[i]) if i in points else "")
            for i in range(n)
        ]
        index = n // 2
        attrs = {"data-series-id": str(p.series_id), "data-description": p.description}
        if p.description == "Axial T2":
            attrs["data-stack"] = str(p.stack)
        attrs["data-colour"] = p.colour
        built.append(
            frontend.Pane(
                frames=frontend.encode_frames(grey),
                readouts=readouts,
                window=(lo, hi),
                data_range=(min(lo, vmin), max(hi, vmax)),
                caption=f"{readouts[index]} (study {sid})",
                still=encode_png(grey[index]),
                shape=(n_rows, n_cols),
                index=index,
                aspect=float(v.spacing[1] / v.spacing[2]),
                width=width,
                points=points,
                attrs=attrs,
                geometry=_pane_geometry(v),
            )
        )
    links = {
        "colours": [p.colour for p in panes],
        # lines[b][a][j][i]: slice i of pane a on slice j of pane b, in b's pixels.
        "lines": [
            [None if a is b else _reference_lines(a.volume, b.volume) for a in panes] for b in panes
        ],
    }
    fragment = frontend.render_panes(built, root_attrs={"data-eh-study": str(sid)})
    data_json = json.dumps(links, separators=(",", ":")).replace("</", "<\\/")
    html = (
        f'<div class="eh-study-view"><style>{_STUDY_CSS}</style>{fragment}'
        f'<script type="application/json" class="eh-study-links">{data_json}</script>'
        f"<script>{_study_script()}</script></div>"
    )
    return StudyViewer(sid, tuple(panes), labels, html)
