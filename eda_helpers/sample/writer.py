"""Plan, render and write the sample dataset's series and CSV files.

Each series is planned in patient space (sagittal stacks across the spine, axial stacks
angled along each disc), each slice is rendered from the phantom through its own geometry
tags, and the files are written RLE Lossless, as the competition's are.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, MRImageStorage, RLELossless, generate_uid

from .. import _checks
from ..geometry import patient_to_pixel, slice_normal
from ..vocabulary import (
    CONDITIONS,
    LABELLED_ON,
    LEVELS,
    SERIES_DESCRIPTIONS,
    condition_name,
    level_name,
)
from .phantom import (
    _ENTROPY,
    _FIRST_LABELLED_DISC,
    _draw_severities,
    _make_phantom,
    _Phantom,
    _rotation,
    _study_rng,
)
from .rle import rle_encode_frame

__all__ = ["PLANTED_COLUMNS", "SAMPLE_FORMAT", "make_sample_dataset", "planted_label_errors"]

SAMPLE_FORMAT = 2
"""Version of what :func:`make_sample_dataset` writes; raised whenever its output changes."""

_SIGNAL = {
    "T1": np.array([0, 1000, 330, 420, 720, 120, 260, 300, 280, 150, 360, 140, 560, 150.0]),
    "T2": np.array([0, 640, 230, 380, 420, 80, 320, 1050, 520, 1500, 420, 110, 340, 110.0]),
}
_NOISE_SD = 18.0


def _ds_str(value: float, decimals: int) -> str:
    """A DS value with at most ``decimals`` decimals, no trailing zeros, no "-0"."""
    text = f"{round(float(value), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class _Slice:
    position: list[str]  # ImagePositionPatient as written
    orientation: list[str]  # ImageOrientationPatient as written
    stack: int = 0
    instance_number: int = 0

    @property
    def ipp(self) -> NDArray[np.float64]:
        return np.array([float(v) for v in self.position])

    @property
    def iop(self) -> NDArray[np.float64]:
        return np.array([float(v) for v in self.orientation])


@dataclass
class _Series:
    description: str
    series_id: int
    series_number: int
    contrast: str  # "T1" or "T2"
    rows: int
    cols: int
    pixel_spacing: tuple[float, float]
    thickness: float
    step: float
    slices: list[_Slice]  # in geometric order within each stack
    first_instance: int = 1
    reversed_numbering: bool = False

    def number(self) -> None:
        """Assign InstanceNumbers from ``first_instance`` in acquisition order."""
        if self.description == "Axial T2":
            # Stacks from the head down, each stack from head to foot.
            order = sorted(
                range(len(self.slices)),
                key=lambda i: (self.slices[i].stack, -i),
            )
        else:
            order = list(range(len(self.slices)))
            if self.reversed_numbering:
                order.reverse()
        for n, i in enumerate(order):
            self.slices[i].instance_number = self.first_instance + n


def _plane(
    centre: NDArray, row: NDArray, col: NDArray, rows: int, cols: int, spacing: tuple
) -> tuple[list[str], list[str]]:
    """Tags of a slice whose image centre is at ``centre``."""
    dr, dc = spacing
    ipp = centre - (cols - 1) / 2 * dc * row - (rows - 1) / 2 * dr * col
    return [_ds_str(v, 4) for v in ipp], [_ds_str(v, 6) for v in np.r_[row, col]]


def _plan_sagittal(
    phantom: _Phantom, rng: np.random.Generator, description: str, series_id: int, number: int
) -> _Series:
    rows, cols, ps = [(384, 384, 0.6875), (320, 320, 0.75), (384, 320, 0.6875)][
        int(rng.integers(3))
    ]
    step = float(rng.choice([3.3, 3.6, 4.0]))
    thickness = round(step - float(rng.choice([0.0, 0.3])), 1)
    n = int(rng.integers(15, 18))
    tilt = _rotation(0.0, *np.deg2rad(rng.uniform(-3, 3, 2)))
    row = tilt @ np.array([0.0, 1.0, 0.0])  # anterior -> posterior
    col = tilt @ np.array([0.0, 0.0, -1.0])  # head -> foot
    normal = np.cross(row, col)  # about -x: towards the patient's right
    s_mid = (phantom.s_disc[2] + phantom.s_disc[-1]) / 2
    centre = phantom.to_patient(rng.uniform(-1.5, 1.5), 15 + rng.uniform(-5, 5), s_mid)
    centre = centre + rng.uniform(-5, 5) * col
    frac = rng.uniform(-0.3, 0.3)
    slices = []
    for k in range(n):
        c = centre + (k - (n - 1) / 2 + frac) * step * normal
        slices.append(_Slice(*_plane(c, row, col, rows, cols, (ps, ps))))
    contrast = "T1" if description == "Sagittal T1" else "T2"
    return _Series(description, series_id, number, contrast, rows, cols, (ps, ps),
                   thickness, step, slices)  # fmt: skip


def _plan_axial(
    phantom: _Phantom, rng: np.random.Generator, series_id: int, number: int
) -> _Series:
    rows, cols, ps = [(256, 256, 0.703125), (320, 320, 0.5625), (320, 320, 0.625)][
        int(rng.integers(3))
    ]
    step = 4.0
    thickness = float(rng.choice([3.5, 4.0]))
    # Consecutive discs grouped into 2 or 3 stacks, each angled to its discs.
    partitions = [(2, 3), (3, 2), (1, 2, 2), (2, 1, 2), (2, 2, 1), (1, 1, 3), (3, 1, 1)]
    sizes = partitions[int(rng.integers(len(partitions)))]
    slices: list[_Slice] = []
    first = 0
    for stack, size in enumerate(sizes):
        discs = range(_FIRST_LABELLED_DISC + first, _FIRST_LABELLED_DISC + first + size)
        first += size
        s_discs = [float(phantom.s_disc[d]) for d in discs]
        normal = np.mean([phantom.axis(s) for s in s_discs], axis=0)
        normal /= np.linalg.norm(normal)
        lateral = phantom.rotation[:, 0]
        row = lateral - (lateral @ normal) * normal
        row /= np.linalg.norm(row)
        col = np.cross(normal, row)  # anterior -> posterior
        centres = [phantom.to_patient(0.0, 0.0, s) for s in s_discs]
        offsets = [float(c @ normal) for c in centres]
        lo, hi = min(offsets) - 8, max(offsets) + 8
        n = round((hi - lo) / step) + 1
        mid = (lo + hi) / 2 + rng.uniform(-1, 1)
        s_mean = float(np.mean(s_discs))
        fov = phantom.to_patient(rng.uniform(-3, 3), 18 + rng.uniform(-4, 4), s_mean)
        for k in range(n):
            o = mid + (k - (n - 1) / 2) * step
            c = fov + (o - fov @ normal) * normal
            slices.append(_Slice(*_plane(c, row, col, rows, cols, (ps, ps)), stack=stack))
    return _Series("Axial T2", series_id, number, "T2", rows, cols, (ps, ps), thickness,
                   step, slices)  # fmt: skip


@dataclass
class _Study:
    study_id: int
    severities: dict[str, list[str]]
    phantom: _Phantom
    series: list[_Series]


def _plan_study(study_id: int, series_ids: Sequence[int]) -> _Study:
    severities = _draw_severities(study_id)
    phantom = _make_phantom(study_id, severities)
    rng = _study_rng(study_id, 3)
    numbers = sorted(int(v) for v in rng.choice(np.arange(1, 13), 3, replace=False))
    series = [
        _plan_sagittal(phantom, rng, "Sagittal T1", series_ids[0], numbers[0]),
        _plan_sagittal(phantom, rng, "Sagittal T2/STIR", series_ids[1], numbers[1]),
        _plan_axial(phantom, rng, series_ids[2], numbers[2]),
    ]
    for s in series:
        if rng.random() < 0.25:
            s.first_instance = int(rng.integers(2, 20))
        if s.description != "Axial T2":
            s.reversed_numbering = bool(rng.random() < 0.35)
    return _Study(study_id, severities, phantom, series)


def _has_severe_canal(study_id: int) -> bool:
    return "Severe" in _draw_severities(study_id)["spinal_canal_stenosis"]


def _plan_dataset(n_studies: int, seed: int) -> list[_Study]:
    rng = np.random.default_rng([seed, 20240508])
    ids = np.unique(rng.integers(4_000_000, 4_290_000_000, size=4 * n_studies))
    study_ids = [int(v) for v in rng.permutation(ids)[:n_studies]]
    # Every dataset shows a severe spinal canal stenosis (about 1 study in 5 has one): the
    # last study is swapped for the next id drawn that has one. A study's content depends
    # on its id alone, so this choice of ids leaves sample_landmarks() right.
    if not any(_has_severe_canal(v) for v in study_ids):
        while True:
            candidate = int(rng.integers(4_000_000, 4_290_000_000))
            if candidate not in study_ids and _has_severe_canal(candidate):
                study_ids[-1] = candidate
                break
    study_ids.sort()
    series_ids = rng.permutation(
        np.unique(rng.integers(1_000_000, 4_290_000_000, size=6 * n_studies))
    )[: 3 * n_studies]
    studies = [
        _plan_study(sid, [int(v) for v in series_ids[3 * i : 3 * i + 3]])
        for i, sid in enumerate(study_ids)
    ]
    # Every dataset shows every quirk at least once, whatever its size and seed.
    all_series = [s for st in studies for s in st.series]
    if all(s.first_instance == 1 for s in all_series):
        all_series[int(rng.integers(len(all_series)))].first_instance = int(rng.integers(2, 20))
    sagittal = [s for s in all_series if s.description != "Axial T2"]
    flags = [s.reversed_numbering for s in sagittal]
    if not any(flags) or all(flags):
        sagittal[int(rng.integers(len(sagittal)))].reversed_numbering = not flags[0]
        if all(s.reversed_numbering == flags[0] for s in sagittal):  # pragma: no cover
            sagittal[0].reversed_numbering = not flags[0]
    for s in all_series:
        s.number()
    return studies


# ---------------------------------------------------------------------- rendering


def _render(phantom: _Phantom, series: _Series, sl: _Slice, rng: np.random.Generator) -> NDArray:
    rows, cols = series.rows, series.cols
    dr, dc = series.pixel_spacing
    iop = sl.iop
    # The slice is a plane, so its local coordinates are sums of a row and a column term.
    origin = phantom.to_local(sl.ipp)[0]
    along_row = phantom.rotation.T @ iop[:3] * dc
    along_col = phantom.rotation.T @ iop[3:] * dr
    r = np.arange(rows, dtype=np.float32)[:, None]
    c = np.arange(cols, dtype=np.float32)[None, :]
    x, y, z = (
        (
            np.float32(origin[i]) + c * np.float32(along_row[i]) + r * np.float32(along_col[i])
        ).reshape(-1)
        for i in range(3)
    )
    tissue, t = phantom.tissue_local(x, y, z)
    img = _SIGNAL[series.contrast][tissue.reshape(rows, cols)].astype(np.float32)
    # A little partial volume: a [1, 2, 1] blur along rows and columns.
    p = np.pad(img, 1, mode="edge")
    img = (p[:-2, 1:-1] + 2 * p[1:-1, 1:-1] + p[2:, 1:-1]) / 4
    p = np.pad(img, 1, mode="edge")
    img = (p[1:-1, :-2] + 2 * p[1:-1, 1:-1] + p[1:-1, 2:]) / 4
    # The spine coil lies under the patient's back: posterior tissue is brighter.
    img = img * (0.85 + 0.3 / (1 + np.exp(-(t.reshape(rows, cols) - 20) / 40)))
    # Magnitude images: Rician noise.
    noise = rng.normal(0, _NOISE_SD, (2, rows, cols)).astype(np.float32)
    return np.clip(np.rint(np.hypot(img + noise[0], noise[1])), 0, 4095).astype(np.uint16)


# ------------------------------------------------------------------------ writing


def _uid(*parts: object) -> UID:
    return generate_uid(entropy_srcs=[_ENTROPY, *map(str, parts)])


def _dataset(study: _Study, series: _Series, sl: _Slice, window: tuple[int, int]) -> Dataset:
    sop_uid = _uid("sop", study.study_id, series.series_id, sl.instance_number)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = RLELossless
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ""
    ds.StudyTime = ""
    ds.AccessionNumber = ""
    ds.Modality = "MR"
    ds.Manufacturer = "eda_helpers synthetic phantom"
    ds.ReferringPhysicianName = ""
    ds.SeriesDescription = series.description
    ds.PatientName = ""
    ds.PatientID = str(study.study_id)
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.BodyPartExamined = "LSPINE"
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = "SK"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    ds.SliceThickness = _ds_str(series.thickness, 3)
    ds.RepetitionTime = "600" if series.contrast == "T1" else "3500"
    ds.EchoTime = "10" if series.contrast == "T1" else "100"
    ds.EchoTrainLength = 3 if series.contrast == "T1" else 17
    ds.MagneticFieldStrength = "1.5"
    ds.SpacingBetweenSlices = _ds_str(series.step, 3)
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = _uid("study", study.study_id)
    ds.SeriesInstanceUID = _uid("series", study.study_id, series.series_id)
    ds.StudyID = ""
    ds.SeriesNumber = series.series_number
    ds.InstanceNumber = sl.instance_number
    ds.ImagePositionPatient = sl.position
    ds.ImageOrientationPatient = sl.orientation
    ds.FrameOfReferenceUID = _uid("frame of reference", study.study_id)
    ds.PositionReferenceIndicator = ""
    centre = sl.ipp + (series.cols - 1) / 2 * series.pixel_spacing[1] * sl.iop[:3]
    centre = centre + (series.rows - 1) / 2 * series.pixel_spacing[0] * sl.iop[3:]
    ds.SliceLocation = _ds_str(float(centre @ slice_normal(sl.iop)), 4)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = series.rows
    ds.Columns = series.cols
    ds.PixelSpacing = [_ds_str(v, 6) for v in series.pixel_spacing]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = str(window[0])
    ds.WindowWidth = str(window[1])
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    return ds


def _write_series(study: _Study, series: _Series, folder: Path) -> None:
    rng = _study_rng(study.study_id, 10 + SERIES_DESCRIPTIONS.index(series.description))
    images = [_render(study.phantom, series, sl, rng) for sl in series.slices]
    mid = images[len(images) // 2]
    lo, hi = np.percentile(mid, [1, 99.5])
    window = (round((lo + hi) / 2), max(1, round(hi - lo)))
    folder.mkdir(parents=True)
    for sl, img in zip(series.slices, images, strict=True):
        ds = _dataset(study, series, sl, window)
        ds.PixelData = encapsulate([rle_encode_frame(img)])
        elem = ds["PixelData"]
        elem.VR = "OB"
        elem.is_undefined_length = True
        ds.save_as(folder / f"{sl.instance_number}.dcm", enforce_file_format=True)


def _nearest_slice(series: _Series, point: NDArray[np.float64]) -> tuple[int, float, float]:
    """The slice of ``series`` nearest to a patient point: its instance and the point's x, y."""
    best = (np.inf, 0, 0.0, 0.0)
    for sl in series.slices:
        x, y, dist = patient_to_pixel(point, sl.ipp, sl.iop, series.pixel_spacing)[0]
        if abs(dist) < best[0]:
            best = (abs(dist), sl.instance_number, float(x), float(y))
    return best[1], best[2], best[3]


def _label_rows(study: _Study) -> list[list[object]]:
    """Label coordinates: each landmark projected into the slice nearest to it."""
    by_desc = {s.description: s for s in study.series}
    rows = []
    for condition in CONDITIONS:
        series = by_desc[LABELLED_ON[condition]]
        for i, level in enumerate(LEVELS):
            instance, x, y = _nearest_slice(series, study.phantom.landmark(condition, i))
            rows.append([
                study.study_id, series.series_id, instance,
                condition_name(condition), level_name(level),
                round(x, 6), round(y, 6),
            ])  # fmt: skip
    return rows


# ------------------------------------------------------------------ label errors

#: The rules of :func:`eda_helpers.rsna.check_labels`, in the order they are planted,
#: with the index of the study (modulo the number of studies) each one is planted in.
_PLANT_STUDY = {
    "side": 0,
    "level_order": 0,
    "missing_instance": 0,
    "same_slice": 1,
    "level_spacing": 1,
    "outside_image": 2,
    "wrong_series": 2,
    "duplicate": 2,
    "grade_without_point": 2,
    "point_without_grade": 2,
}

#: A planted neighbouring-level gap, in mm: well beyond the largest gap
#: ``check_labels`` accepts (55 mm).
_PLANTED_GAP_MM = 66.0

PLANTED_COLUMNS = (
    "study_id",
    "series_id",
    "instance_number",
    "condition",
    "level",
    "rule",
    "planted",
)
"""The columns of :func:`planted_label_errors`."""


def _plant_label_errors(
    studies: Sequence[_Study], rows: dict[int, list[list[object]]]
) -> tuple[set[tuple[int, str, str]], list[list[object]]]:
    """Plant one error of each rule of ``check_labels``, in place in ``rows``.

    Returns the train.csv cells to leave empty, as (study_id, condition, level) in
    the spelling of ``CONDITIONS``/``LEVELS``, and the expected findings, one list per
    row of :data:`PLANTED_COLUMNS`. Each planted error touches cells that no other one
    touches, so that each is found alone, whatever the number of studies.
    """
    blank: set[tuple[int, str, str]] = set()
    expected: list[list[object]] = []

    def study_for(rule: str) -> _Study:
        return studies[_PLANT_STUDY[rule] % len(studies)]

    def cell(study: _Study, condition: str, level: str) -> list[object]:
        title = (condition_name(condition), level_name(level))
        return next(r for r in rows[study.study_id] if (r[3], r[4]) == title)

    def series_of(study: _Study, description: str) -> _Series:
        return next(s for s in study.series if s.description == description)

    def place(row: list[object], series: _Series, point: NDArray[np.float64]) -> None:
        instance, x, y = _nearest_slice(series, point)
        row[1:3] = [series.series_id, instance]
        row[5:7] = [round(x, 6), round(y, 6)]

    def expect(row: list[object], rule: str, what: str) -> None:
        expected.append([row[0], row[1], row[2], row[3], row[4], rule, what])

    # side: a right foraminal point halfway between the canal and the left foramen,
    # on a slice of its own (so not on the slice of the left point).
    st = study_for("side")
    canal = st.phantom.landmark("spinal_canal_stenosis", 0)
    left = st.phantom.landmark("left_neural_foraminal_narrowing", 0)
    row = cell(st, "right_neural_foraminal_narrowing", "l1_l2")
    place(row, series_of(st, "Sagittal T1"), canal + 0.5 * (left - canal))
    expect(row, "side", "the right foraminal point of L1/L2 moved to the patient's left")

    # level_order: the L5/S1 canal point put on the L3/L4 disc, above L4/L5.
    st = study_for("level_order")
    row = cell(st, "spinal_canal_stenosis", "l5_s1")
    place(row, series_of(st, "Sagittal T2/STIR"), st.phantom.landmark("spinal_canal_stenosis", 2))
    expect(row, "level_order", "the L5/S1 canal point put on the L3/L4 disc")

    # missing_instance: an instance number one past the last file of the series.
    st = study_for("missing_instance")
    row = cell(st, "left_subarticular_stenosis", "l2_l3")
    axial = series_of(st, "Axial T2")
    row[2] = max(sl.instance_number for sl in axial.slices) + 1
    expect(row, "missing_instance", "the instance number set one past the last file")

    # same_slice: the right foraminal point of L3/L4 on the slice of the left one.
    st = study_for("same_slice")
    row_l = cell(st, "left_neural_foraminal_narrowing", "l3_l4")
    row_r = cell(st, "right_neural_foraminal_narrowing", "l3_l4")
    row_r[2] = row_l[2]
    expect(row_l, "same_slice", "the right foraminal point of L3/L4 on the left one's slice")
    expect(row_r, "side", "the right foraminal point of L3/L4 on the left one's slice")

    # level_spacing: the L5/S1 left foraminal point moved down, _PLANTED_GAP_MM from L4/L5.
    st = study_for("level_spacing")
    above = st.phantom.landmark("left_neural_foraminal_narrowing", 3)
    true = st.phantom.landmark("left_neural_foraminal_narrowing", 4)
    down = (true - above) / np.linalg.norm(true - above)
    row = cell(st, "left_neural_foraminal_narrowing", "l5_s1")
    place(row, series_of(st, "Sagittal T1"), above + _PLANTED_GAP_MM * down)
    expect(row, "level_spacing", f"the L5/S1 left foraminal point {_PLANTED_GAP_MM:g} mm below")

    # outside_image: a column 25 pixels past the right edge of the image.
    st = study_for("outside_image")
    row = cell(st, "right_subarticular_stenosis", "l4_l5")
    row[5] = float(series_of(st, "Axial T2").cols - 1 + 25)
    expect(row, "outside_image", "x set 25 pixels past the image's last column")

    # wrong_series: the L3/L4 canal point labelled on the Sagittal T1 series.
    st = study_for("wrong_series")
    row = cell(st, "spinal_canal_stenosis", "l3_l4")
    place(row, series_of(st, "Sagittal T1"), st.phantom.landmark("spinal_canal_stenosis", 2))
    expect(row, "wrong_series", "the L3/L4 canal point labelled on the Sagittal T1 series")

    # point_without_grade: the grade of a labelled point left empty in train.csv.
    st = study_for("point_without_grade")
    row = cell(st, "right_subarticular_stenosis", "l1_l2")
    blank.add((st.study_id, "right_subarticular_stenosis", "l1_l2"))
    expect(row, "point_without_grade", "its grade left empty in train.csv")

    # duplicate: the L2/L3 left foraminal point clicked twice (a few pixels apart).
    st = study_for("duplicate")
    row = cell(st, "left_neural_foraminal_narrowing", "l2_l3")
    again = [*row[:5], round(float(row[5]) + 3, 6), round(float(row[6]) + 2, 6)]  # type: ignore[arg-type]
    table = rows[st.study_id]
    table.insert(table.index(row) + 1, again)
    expect(again, "duplicate", "the point labelled a second time, 3 and 2 pixels away")

    # grade_without_point: the L5/S1 right foraminal point left out of the coordinates.
    st = study_for("grade_without_point")
    row = cell(st, "right_neural_foraminal_narrowing", "l5_s1")
    rows[st.study_id].remove(row)
    expected.append(
        [row[0], None, None, row[3], row[4], "grade_without_point", "its point left out"]
    )
    return blank, expected


def planted_label_errors(*, n_studies: int = 3, seed: int = 0) -> pd.DataFrame:
    """Where :func:`make_sample_dataset` plants its label errors, and what it planted.

    The rows are what :func:`eda_helpers.rsna.check_labels` reports on the dataset
    ``make_sample_dataset(root, n_studies=n_studies, seed=seed)`` (with the default
    ``label_errors=True``), without its ``detail``; the ``planted`` column says what
    was done. Nothing is written: the places are computed from the plan of the dataset.

    Parameters
    ----------
    n_studies, seed : int
        As in :func:`make_sample_dataset`.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`PLANTED_COLUMNS`: ``study_id`` (int64), ``series_id`` and
        ``instance_number`` (nullable Int64, <NA> for a grade without a point),
        ``condition``, ``level`` (spelled as in the coordinates), ``rule`` and
        ``planted`` (str), in the order the errors are planted.

    Raises
    ------
    TypeError, ValueError
        If ``n_studies`` or ``seed`` is not an integer >= 1 (>= 0 for ``seed``).

    Examples
    --------
    >>> planted = planted_label_errors(n_studies=3, seed=0)
    >>> planted["rule"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['side', 'level_order', 'missing_instance', 'same_slice', 'side', 'level_spacing',
     'outside_image', 'wrong_series', 'point_without_grade', 'duplicate',
     'grade_without_point']
    """
    n_studies = _checks.integer("n_studies", n_studies, minimum=1)
    seed = _checks.integer("seed", seed, minimum=0)
    studies = _plan_dataset(n_studies, seed)
    rows = {st.study_id: _label_rows(st) for st in studies}
    _, expected = _plant_label_errors(studies, rows)
    table = pd.DataFrame(expected, columns=list(PLANTED_COLUMNS))
    return table.astype({"study_id": np.int64, "series_id": "Int64", "instance_number": "Int64"})


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


_OUTPUTS = (
    "train_images",
    "train_series_descriptions.csv",
    "train.csv",
    "train_label_coordinates.csv",
)


def _not_writable(root: Path, exc: OSError) -> OSError:
    """The error for a folder the sample cannot be written into, naming only ``root``."""
    # The OS error names the hidden work folder, which is no concern of the user's.
    reason = exc.strerror or type(exc).__name__
    return type(exc)(
        exc.errno,
        f"root: cannot write the sample dataset into {root} ({reason}); it needs a folder "
        f"this user can create and write to: pass another folder",
    )


def make_sample_dataset(
    root: str | os.PathLike[str],
    *,
    n_studies: int = 3,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = False,
    label_errors: bool = True,
) -> Path:
    """Write a small synthetic dataset in the layout of the competition.

    Writes into ``root``::

        train_images/<study_id>/<series_id>/<instance_number>.dcm
        train_series_descriptions.csv   study_id, series_id, series_description
        train.csv                       study_id + 25 <condition>_<level> columns
        train_label_coordinates.csv     study_id, series_id, instance_number,
                                        condition, level, x, y

    Each study has a "Sagittal T1" (foraminal labels), a "Sagittal T2/STIR" (spinal
    canal labels) and an "Axial T2" series (subarticular labels) of a synthetic lumbar
    spine; the files are 12-bit MONOCHROME2 MR images stored as RLE Lossless. The
    quirks of the real data are there on purpose; see the module's docstring. The
    output depends only on ``n_studies`` and ``seed``: two runs give identical bytes
    with the same numpy and pydicom. (numpy keeps the streams of ``Generator`` methods fixed only
    within one version; the tests pin the digests of the CSV files of ``seed=0``, so
    that a numpy whose streams differ is noticed and :data:`SAMPLE_FORMAT` raised.)

    The files are written into a hidden temporary folder inside ``root`` and moved
    into place at the end, the CSV files last, so a run cut short leaves no dataset that
    looks complete (at worst a hidden ``.sample-*`` folder to delete).

    Parameters
    ----------
    root : path-like
        Folder to write into; created if missing.
    n_studies : int, default 3
        Number of studies (at least 1). Three take a few seconds.
    seed : int, default 0
        Seed (at least 0) of the study and series ids, the anatomy, the labels and the
        noise.
    overwrite : bool, default False
        Replace an existing ``train_images/`` and CSV files in ``root``. Without it,
        finding any of them is an error.
    progress : bool, default False
        Show a progress bar (``tqdm.auto``) over the studies.
    label_errors : bool, default True
        Plant label errors in the CSV files, one or more of each rule of
        :func:`eda_helpers.rsna.check_labels`, as the competition's labels have them
        (a right point on the patient's left, both sides on one slice, a level on the
        wrong disc, a grade without its point, ...); :func:`planted_label_errors` says
        where. On by default, so that code run on the sample meets the noise of the
        real labels (and :func:`eda_helpers.rsna.find_dataset`'s sample has them to
        find). False writes labels that are exactly the phantom's points.

    Returns
    -------
    Path
        ``root``.

    Raises
    ------
    TypeError
        If ``n_studies`` or ``seed`` is not an integer.
    ValueError
        If ``n_studies < 1`` or ``seed < 0``.
    FileExistsError
        If ``root`` holds a non-empty ``train_images/`` or one of the CSV files and
        ``overwrite`` is False, or if ``root`` is a file.
    OSError
        If ``root`` cannot be created or written to (read-only, or under a file); the
        message names ``root``.

    See Also
    --------
    sample_landmarks : the true 3-D positions of the discs and labelled points.
    planted_label_errors : where the label errors are planted.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1, seed=0)
    ...     sorted(p.name for p in root.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['train.csv', 'train_images', 'train_label_coordinates.csv',
     'train_series_descriptions.csv']
    """
    n_studies = _checks.integer("n_studies", n_studies, minimum=1)
    seed = _checks.integer("seed", seed, minimum=0)
    root = _checks.path("root", root).expanduser()
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"root: {root} is a file, not a folder; pass a folder path")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _not_writable(root, exc) from None
    images = root / "train_images"
    found = [
        name
        for name in _OUTPUTS
        if (root / name).exists()
        and not (name == "train_images" and images.is_dir() and not any(images.iterdir()))
    ]
    if found and not overwrite:
        raise FileExistsError(
            f"root: {root} already holds {', '.join(found)}; refusing to write the sample "
            f"dataset over it. Pass overwrite=True (--overwrite on the command line) to "
            f"replace them, or choose an empty folder."
        )

    _checks.boolean("label_errors", label_errors)
    studies = _plan_dataset(n_studies, seed)
    label_rows = {st.study_id: _label_rows(st) for st in studies}
    blank: set[tuple[int, str, str]] = set()
    if label_errors:
        blank, _ = _plant_label_errors(studies, label_rows)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=root))
    except OSError as exc:
        raise _not_writable(root, exc) from None
    try:
        iterator = studies
        if progress:
            from tqdm.auto import tqdm

            iterator = tqdm(studies, desc="sample studies", unit="study")
        for study in iterator:
            for series in study.series:
                folder = tmp / "train_images" / str(study.study_id) / str(series.series_id)
                _write_series(study, series, folder)
        _write_csv(
            tmp / "train_series_descriptions.csv",
            ["study_id", "series_id", "series_description"],
            [[st.study_id, s.series_id, s.description] for st in studies for s in st.series],
        )
        _write_csv(
            tmp / "train.csv",
            ["study_id"] + [f"{c}_{lv}" for c in CONDITIONS for lv in LEVELS],
            [
                [st.study_id]
                + [
                    "" if (st.study_id, c, lv) in blank else v
                    for c in CONDITIONS
                    for lv, v in zip(LEVELS, st.severities[c], strict=True)
                ]
                for st in studies
            ],
        )
        _write_csv(
            tmp / "train_label_coordinates.csv",
            ["study_id", "series_id", "instance_number", "condition", "level", "x", "y"],
            [row for st in studies for row in label_rows[st.study_id]],
        )
        # Swap in: the old images aside, the new ones in place, the CSV files last.
        if images.exists() or images.is_symlink():
            os.replace(images, tmp / "old_train_images")
        os.replace(tmp / "train_images", images)
        for name in _OUTPUTS[1:]:
            os.replace(tmp / name, root / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
