"""A study in world coordinates: its label points carried onto every series.

The three series of a competition study share one frame of reference: a label point
placed on one slice of the Sagittal T2/STIR is a point in the patient (mm, LPS), and so
has a nearest slice, a pixel and a distance in every other stack of the study, the
separately angled Axial T2 stacks included. :func:`project_labels` computes that table
from the headers alone (no pixel is decoded), with the geometry of
:mod:`eda_helpers.geometry` that :class:`~eda_helpers.Volume` uses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .. import _checks, geometry, io
from ..volume import Volume
from .labels import locate_labels
from .tables import Split, read_coordinates, read_descriptions

__all__ = ["PROJECTION_COLUMNS", "project_labels"]

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


def _geometry_volume(headers: list[Any]) -> Volume | str:
    """A Volume of the stack's geometry (its pixels a zero-stride view, never read), or
    why the stack has no usable geometry."""
    if any(h.position is None or h.orientation is None for h in headers):
        return "some slices lack ImagePositionPatient or ImageOrientationPatient"
    first = headers[0]
    if first.pixel_spacing is None:
        return "it has no PixelSpacing, so its pixels have no size in mm"
    positions = np.array([h.position for h in headers], dtype=np.float64)
    instances = np.array([-1 if h.instance is None else h.instance for h in headers])
    # The order of read_stacks (duplicates kept): along the normal, ties by InstanceNumber.
    order = geometry.slice_order(geometry.slice_offsets(positions, first.orientation), instances)
    headers = [headers[i] for i in order]
    tagged = getattr(first, "spacing_between", None) or getattr(first, "thickness", None)
    try:
        return Volume.from_array(
            torch.zeros((), dtype=torch.uint8).expand(len(headers), first.rows, first.cols),
            positions=positions[order],
            orientation=first.orientation,
            pixel_spacing=first.pixel_spacing,
            slice_spacing=abs(float(tagged)) if tagged else None,
            instance_numbers=[int(n) for n in instances[order]],
            files=[h.path for h in headers],
            description=first.description,
            series_uid=first.series_uid,
            study_uid=first.study_uid,
        )
    except ValueError as exc:  # geometry the files contradict themselves on
        return f"its geometry is inconsistent ({exc})"


def _study_stacks(
    root: Path, study_id: int, split: Split, descriptions: pd.DataFrame
) -> tuple[list[_Stack], list[str]]:
    rows = descriptions[descriptions["study_id"] == study_id]
    stacks: list[_Stack] = []
    problems: list[str] = []
    for series_id, description in zip(rows["series_id"], rows["series_description"], strict=True):
        folder = root / f"{split}_images" / str(study_id) / str(series_id)
        if not folder.is_dir():
            problems.append(f"series {series_id} ({description}): no folder {folder}")
            continue
        files = sorted(p for p in folder.iterdir() if p.is_file())
        found, unreadable = io.read_headers(files)
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
        The tables of :func:`read_coordinates` and :func:`read_descriptions`, when
        already read (saves reading the CSV files per study).

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
        If ``study_id`` is not an id, or not a study of the descriptions table.
    TypeError
        If ``data`` is not a path or ``study_id`` not an int or string.

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
    ...     root = make_sample_dataset(tmp, n_studies=1)
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
        descriptions = read_descriptions(root, split=split)
    if not (descriptions["study_id"] == sid).any():
        ids = list(dict.fromkeys(descriptions["study_id"]))
        raise ValueError(
            f"study_id: expected a study of the {split} series descriptions, got {sid}; it "
            f"lists {len(ids)} studies (e.g. {', '.join(map(str, ids[:3]))})"
        )
    if coordinates is None:
        coordinates = read_coordinates(root, split=split)
    coords = coordinates[coordinates["study_id"] == sid]
    stacks, problems = _study_stacks(root, sid, split, descriptions)

    # Each label on its own slice (the same rule as locate_labels), then in mm.
    sources: list[pd.DataFrame] = []
    for series_id in dict.fromkeys(coords["series_id"]):
        own = [s for s in stacks if s.series_id == series_id]
        rows = coords[coords["series_id"] == series_id]
        if not own:
            problems.append(
                f"the {len(rows)} label(s) of series {series_id} are left out: the series "
                f"has no stack with geometry"
            )
            continue
        placed = locate_labels(rows, [s.volume for s in own], series_id=int(series_id))
        placed = placed.dropna(subset=["stack", "slice_index"])
        if placed.empty:
            continue
        mm = np.empty((len(placed), 3))
        for k, group in placed.groupby("stack"):
            at = np.flatnonzero((placed["stack"] == k).to_numpy())
            index = np.c_[group["slice_index"].astype(float), group["y"], group["x"]]
            mm[at] = own[int(k)].volume.world(index)
        placed = placed.assign(patient_x=mm[:, 0], patient_y=mm[:, 1], patient_z=mm[:, 2])
        sources.append(placed)
    if problems:  # one warning per call, the first few problems in it
        _checks.warn(
            f"study {sid} in {root}: {'; '.join(problems[:5])}"
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        )
    if not sources or not stacks:
        return _empty()
    labels = pd.concat(sources).sort_index(kind="stable")
    points = labels[["patient_x", "patient_y", "patient_z"]].to_numpy()

    parts: list[pd.DataFrame] = []
    for target in stacks:
        p = target.volume.project(points)
        numbers = np.asarray(target.volume.instance_numbers)
        parts.append(
            pd.DataFrame(
                {
                    "order": np.arange(len(labels)),
                    "target_series_id": target.series_id,
                    "target_description": target.description,
                    "target_stack": target.stack,
                    "target_slice_index": p.slice_index,
                    "target_instance_number": numbers[p.slice_index],
                    "x": p.x,
                    "y": p.y,
                    "distance_mm": p.distance_mm,
                    "inside": p.inside,
                }
            )
        )
    targets = pd.concat(parts, ignore_index=True)
    source = labels[list(PROJECTION_COLUMNS[:8])].reset_index(drop=True)
    out = source.iloc[targets["order"].to_numpy()].reset_index(drop=True)
    out = pd.concat([out, targets.drop(columns="order")], axis=1)
    order = np.lexsort((np.arange(len(out)), targets["order"].to_numpy()))
    out = out.iloc[order].reset_index(drop=True)
    return out.astype(_DTYPES)[list(PROJECTION_COLUMNS)]


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
