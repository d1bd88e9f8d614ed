"""rsna.plot_label_crops and rsna.plot_contact_sheet: what is on the pictures.

The pictures are checked from their pixels (the montage image) and their artists, on
hand-built DICOM files with a bright square as a marker, and on the sample dataset.
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from eda_helpers import rsna
from eda_helpers.sample import planted_label_errors
from eda_helpers.vocabulary import CONDITIONS, LEVELS

SAGITTAL = [0, 1, 0, 0, 0, -1]


def write_file(path: Path, pixels: np.ndarray, *, instance: int, position, spacing: float):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "MR"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.10.2." + path.parent.parent.name
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.2.1." + path.parent.name
    ds.SeriesDescription = "Sagittal T2/STIR"
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [f"{v:g}" for v in position]
    ds.ImageOrientationPatient = [f"{v:g}" for v in SAGITTAL]
    ds.PixelSpacing = [f"{spacing:g}"] * 2
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def write_tables(root: Path, series: list[tuple[int, int]], labels: list[list[object]]):
    def put(name: str, header: list[str], rows: list[list[object]]) -> None:
        with open(root / name, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)

    put("train_series_descriptions.csv", ["study_id", "series_id", "series_description"],
        [[st, se, "Sagittal T2/STIR"] for st, se in series])  # fmt: skip
    columns = [f"{c}_{lv}" for c in CONDITIONS for lv in LEVELS]
    graded = {r[0] for r in labels}
    put("train.csv", ["study_id", *columns],
        [[st, *("Moderate" if (c == columns[0] and st in graded) else "" for c in columns)]
         for st in dict.fromkeys(st for st, _ in series)])  # fmt: skip
    put("train_label_coordinates.csv",
        ["study_id", "series_id", "instance_number", "condition", "level", "x", "y"],
        labels)  # fmt: skip


@pytest.fixture
def two_spacings(tmp_path) -> Path:
    """Two studies whose images differ in pixel spacing (0.5 and 1 mm), each with a bright
    10 mm square centred on its L1/L2 canal label."""
    a = np.zeros((100, 100))
    a[40:60, 40:60] = 1000  # 20 pixels of 0.5 mm, centred at 49.5
    b = np.zeros((60, 60))
    b[25:35, 25:35] = 1000  # 10 pixels of 1 mm, centred at 29.5
    write_file(tmp_path / "train_images/1/11/1.dcm", a, instance=1, position=(0, 0, 0), spacing=0.5)
    write_file(tmp_path / "train_images/2/21/1.dcm", b, instance=1, position=(0, 0, 0), spacing=1)
    write_tables(
        tmp_path,
        [(1, 11), (2, 21)],
        [
            [1, 11, 1, "Spinal Canal Stenosis", "L1/L2", 49.5, 49.5],
            [2, 21, 1, "Spinal Canal Stenosis", "L1/L2", 29.5, 29.5],
        ],
    )
    return tmp_path


def canvas(fig: Figure) -> np.ndarray:
    (image,) = fig.axes[0].images  # one image for the whole picture
    return np.asarray(image.get_array())


def marks(fig: Figure, gid: str) -> list:
    return [a for a in fig.axes[0].get_children() if getattr(a, "get_gid", lambda: None)() == gid]


# ------------------------------------------------------------------ crops


def test_crops_share_one_scale_in_mm(two_spacings):
    fig = rsna.plot_label_crops(
        two_spacings, condition="spinal_canal_stenosis", level="l1_l2", size_mm=20,
        mm_per_pixel=0.5, columns=2, progress=False,
    )  # fmt: skip
    rgb = canvas(fig)
    bright = rgb[..., 0] > 128
    middle = rgb.shape[1] // 2
    # The 10 mm square is 20 crop pixels a side in both crops, whatever the spacing.
    assert bright[:, :middle].sum() == 400
    assert bright[:, middle:].sum() == 400
    rows = np.flatnonzero(bright[:, :middle].any(axis=1))
    assert rows.size == 20 and np.all(np.diff(rows) == 1)
    assert len(marks(fig, "label-point")) == 2
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["Moderate (2)", "1\nModerate", "2\nModerate"]
    assert not marks(fig, "finding")


def test_crops_are_grouped_by_grade_and_findings_framed(sample_root):
    planted = planted_label_errors(n_studies=3, seed=0)
    side = planted[planted["rule"] == "side"].iloc[0]
    fig = rsna.plot_label_crops(
        sample_root, condition=side["condition"], level=side["level"], progress=False
    )
    texts = [t.get_text() for t in fig.axes[0].texts]
    headings = [t for t in texts if "(" in t]
    grades = [h.split(" (")[0] for h in headings]
    assert grades == sorted(grades, key=["Normal/Mild", "Moderate", "Severe"].index)
    assert sum(int(h.split("(")[1].split(")")[0].split(",")[0]) for h in headings) == 3
    # The study with the planted side error is framed and named with its rule.
    assert len(marks(fig, "finding")) == 1
    assert "side" in texts
    titles = [t for t in texts if t.startswith(str(side["study_id"]))]
    assert len(titles) == 1
    assert "1 with findings (red)" in fig.axes[0].get_title(loc="left")


def test_crops_limit_per_grade_and_draw_into_an_axes(sample_root):
    fig, ax = plt.subplots()
    empty = pd.DataFrame(columns=list(rsna.CHECK_COLUMNS))
    out = rsna.plot_label_crops(
        sample_root, condition="Spinal Canal Stenosis", level="L1/L2", per_grade=1,
        findings=empty, ax=ax, progress=False,
    )  # fmt: skip
    assert out is fig and len(ax.images) == 1
    headings = [t.get_text() for t in ax.texts if "(" in t.get_text()]
    assert any(", 1 shown)" in h for h in headings)  # a grade with more studies than shown
    assert len(marks(fig, "label-point")) == len(headings)


def test_a_crop_of_a_missing_slice_says_so(two_spacings):
    coords = two_spacings / "train_label_coordinates.csv"
    coords.write_text(coords.read_text().replace("2,21,1,", "2,21,7,"))
    fig = rsna.plot_label_crops(
        two_spacings, condition="Spinal Canal Stenosis", level="L1/L2", progress=False
    )
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "missing_instance" in texts and len(marks(fig, "label-point")) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"condition": "Stenosis"}, ValueError, r"condition: expected one of 'Spinal Canal"),
        ({"level": "L6/L7"}, ValueError, r"level: expected one of 'L1/L2', .*, got str 'L6/L7'"),
        ({"size_mm": 0}, ValueError, r"size_mm: expected a number > 0, got 0.0"),
        ({"mm_per_pixel": 0}, ValueError, r"mm_per_pixel: expected a number > 0, got 0.0"),
        ({"size_mm": "40"}, TypeError, r"size_mm: expected a number, got str '40'"),
        ({"mm_per_pixel": 0.01}, ValueError, r"a crop of 2 to 512 pixels a side, got 40 / 0.01"),
        ({"columns": 0}, ValueError, r"columns: expected an integer >= 1, got 0"),
        ({"per_grade": 0}, ValueError, r"per_grade: expected an integer >= 1, got 0"),
        ({"findings": [1]}, TypeError, r"findings: expected the DataFrame of check_labels"),
        ({"findings": pd.DataFrame({"rule": []})}, ValueError, r"findings: .* lacks study_id"),
        ({"progress": 1}, TypeError, r"progress: expected True or False, got int 1"),
        ({"ax": "left"}, TypeError, r"ax: expected a matplotlib Axes or None, got str 'left'"),
        ({"studies": [42]}, ValueError, r"condition, level: no study of studies has a label"),
    ],
)
def test_crop_arguments_are_checked(two_spacings, kwargs, error, match):
    args = {"condition": "Spinal Canal Stenosis", "level": "L1/L2", "progress": False}
    with pytest.raises(error, match=match):
        rsna.plot_label_crops(two_spacings, **(args | kwargs))


# ------------------------------------------------------------------ contact sheet


def test_the_thumbnail_is_the_geometric_middle_slice(tmp_path):
    """Five sagittal slices numbered out of spatial order; only the middle one along the
    normal carries the marker (the middle file name and instance number do not)."""
    numbers = [3, 1, 4, 2, 5]  # instance of the slices in spatial order
    for k, n in enumerate(numbers):
        image = np.full((40, 40), 100)
        if k == 2:
            image[10:30, 10:30] = 2000
        # The normal of SAGITTAL is -x: spatial order runs from +x to -x.
        write_file(tmp_path / f"train_images/5/51/{n}.dcm", image, instance=n,
                   position=(8 - 4 * k, 0, 0), spacing=1)  # fmt: skip
    write_tables(tmp_path, [(5, 51)], [])
    fig = rsna.plot_contact_sheet(tmp_path, max_workers=1, progress=False, thumb_px=40)
    rgb = canvas(fig)
    assert (rgb[..., 0] > 200).sum() == 400  # the marker, 20 x 20 pixels
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[0] == "Sagittal T2/STIR\n5/51"
    assert "instance order is not monotonic along the normal" in texts[1]


def test_the_sheet_puts_odd_series_first_and_pages(sample_root):
    scan = rsna.scan_dataset(sample_root, max_workers=1, progress=False)
    found = rsna.check_labels(sample_root, progress=False)
    fig = rsna.plot_contact_sheet(sample_root, scan, findings=found, limit=4, progress=False)
    assert fig.axes[0].get_title(loc="left") == "9 series, 8 flagged; page 1 of 3 (series 1 to 4)"
    titles = [t.get_text() for t in fig.axes[0].texts if "/" in t.get_text().split("\n")[-1]]
    assert len(titles) == 4
    assert len(marks(fig, "finding")) == 4  # every series of page 1 has a flag
    last = rsna.plot_contact_sheet(
        sample_root, scan, findings=found, limit=4, page=2, progress=False
    )
    assert last.axes[0].get_title(loc="left").endswith("page 3 of 3 (series 9 to 9)")
    assert len(marks(last, "finding")) == 0  # the one series without any flag comes last


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"page": 1}, ValueError, r"page: expected an integer between 0 and 0 \(9 series, 48 per"),
        ({"limit": 0}, ValueError, r"limit: expected an integer between 1 and 1000, got 0"),
        ({"thumb_px": 8}, ValueError, r"thumb_px: expected an integer between 16 and 512, got 8"),
        ({"scan": [1]}, TypeError, r"scan: expected the DataFrame of scan_dataset or None"),
        ({"scan": pd.DataFrame({"a": [1]})}, ValueError, r"scan: expected the columns of scan_"),
        ({"findings": "x"}, TypeError, r"findings: expected the DataFrame of check_labels"),
        ({"ax": 3}, TypeError, r"ax: expected a matplotlib Axes or None, got int 3"),
        ({"progress": "yes"}, TypeError, r"progress: expected True or False, got str 'yes'"),
        ({"columns": 0}, ValueError, r"columns: expected an integer >= 1, got 0"),
    ],
)
def test_sheet_arguments_are_checked(sample_root, kwargs, error, match):
    scan = kwargs.pop("scan", rsna.scan_dataset(sample_root, max_workers=1, progress=False))
    with pytest.raises(error, match=match):
        rsna.plot_contact_sheet(sample_root, scan, **({"progress": False} | kwargs))
