"""The built-in sample dataset: layout, CSV files, DICOM files, labels, quirks, CLI.

The checks read the written files the way a user's code would (csv, pydicom, the
geometry tags) and do not rely on how the generator works inside. The one exception is
:func:`sample_landmarks`, the phantom's own ground truth, which the label coordinates
are compared with after being mapped back to 3-D through the tags.
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import MRImageStorage, RLELossless

from eda_helpers import make_sample_dataset
from eda_helpers.__main__ import main
from eda_helpers.sample import planted_label_errors, rle_encode_frame, sample_landmarks
from eda_helpers.vocabulary import CONDITIONS, LEVELS, SEVERITIES

DESCRIPTIONS = {"Sagittal T1", "Sagittal T2/STIR", "Axial T2"}
CSV_FILES = ("train_series_descriptions.csv", "train.csv", "train_label_coordinates.csv")
TITLE_CONDITIONS = {
    "Spinal Canal Stenosis": "Sagittal T2/STIR",
    "Left Neural Foraminal Narrowing": "Sagittal T1",
    "Right Neural Foraminal Narrowing": "Sagittal T1",
    "Left Subarticular Stenosis": "Axial T2",
    "Right Subarticular Stenosis": "Axial T2",
}
TITLE_LEVELS = ("L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1")


# ------------------------------------------------------------------ helpers


def planted_cells(n_studies: int = 3, seed: int = 0) -> set[tuple[str, str, str]]:
    """(study_id, condition, level) of every label the dataset's planted errors touch,
    spelled as in the CSV files: the tests of the clean labels leave them out."""
    planted = planted_label_errors(n_studies=n_studies, seed=seed)
    keys = zip(planted["study_id"], planted["condition"], planted["level"], strict=True)
    return {(str(st), c, lv) for st, c, lv in keys}


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def headers(root: Path) -> dict[tuple[int, int], list[pydicom.Dataset]]:
    """(study_id, series_id) -> the headers of its files (no pixels), by file name."""
    out: dict[tuple[int, int], list[pydicom.Dataset]] = {}
    for series_dir in sorted((root / "train_images").glob("*/*")):
        files = sorted(series_dir.glob("*.dcm"), key=lambda p: int(p.stem))
        key = (int(series_dir.parent.name), int(series_dir.name))
        out[key] = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    return out


def floats(value) -> np.ndarray:
    return np.array([float(v) for v in value])


def normal(ds: pydicom.Dataset) -> np.ndarray:
    iop = floats(ds.ImageOrientationPatient)
    n = np.cross(iop[:3], iop[3:])
    return n / np.linalg.norm(n)


def pixel_to_patient(ds: pydicom.Dataset, x: float, y: float) -> np.ndarray:
    """Column x, row y of the image -> patient mm, straight from the tags (PS3.3 C.7.6.2)."""
    ipp = floats(ds.ImagePositionPatient)
    iop = floats(ds.ImageOrientationPatient)
    dr, dc = floats(ds.PixelSpacing)
    return ipp + x * dc * iop[:3] + y * dr * iop[3:]


def orientation_groups(files: list[pydicom.Dataset]) -> dict[tuple, list[pydicom.Dataset]]:
    groups: dict[tuple, list[pydicom.Dataset]] = defaultdict(list)
    for ds in files:
        groups[tuple(np.round(floats(ds.ImageOrientationPatient), 3))].append(ds)
    return groups


def numbering_against_normal(files: list[pydicom.Dataset]) -> bool:
    """True when InstanceNumber order is the reverse of the order along the normal."""
    by_number = sorted(files, key=lambda ds: int(ds.InstanceNumber))
    n = normal(by_number[0])
    offsets = [float(floats(ds.ImagePositionPatient) @ n) for ds in by_number]
    return bool(np.all(np.diff(offsets) < 0))


def quirks(root: Path) -> dict[str, list[tuple[int, int]]]:
    """Which (study_id, series_id) show which quirk, found from the tags alone."""
    _, series = read_csv(root / "train_series_descriptions.csv")
    desc = {(int(r["study_id"]), int(r["series_id"])): r["series_description"] for r in series}
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for key, files in headers(root).items():
        if len(orientation_groups(files)) > 1:
            found["several orientations"].append(key)
        if min(int(ds.InstanceNumber) for ds in files) != 1:
            found["first instance not 1"].append(key)
        if desc[key].startswith("Sagittal"):
            kind = "against normal" if numbering_against_normal(files) else "along normal"
            found[f"sagittal numbered {kind}"].append(key)
    return found


@pytest.fixture(scope="module")
def sample_headers(sample_root) -> dict[tuple[int, int], list[pydicom.Dataset]]:
    return headers(sample_root)


@pytest.fixture(scope="module")
def one_study(tmp_path_factory) -> Path:
    """A 1-study dataset (seed 0), written once for this module."""
    return make_sample_dataset(tmp_path_factory.mktemp("one"), n_studies=1, seed=0)


# ------------------------------------------------------------------- layout


def test_layout_matches_the_competition(sample_root):
    names = {p.name for p in sample_root.iterdir()}
    assert names == {"train_images", *CSV_FILES}  # and no temporary folder left behind
    _, series = read_csv(sample_root / "train_series_descriptions.csv")
    on_disk = {
        (int(p.parent.name), int(p.name)) for p in (sample_root / "train_images").glob("*/*")
    }
    assert on_disk == {(int(r["study_id"]), int(r["series_id"])) for r in series}
    studies = {s for s, _ in on_disk}
    assert len(studies) == 3
    for study in studies:
        descs = [r["series_description"] for r in series if int(r["study_id"]) == study]
        assert sorted(descs) == sorted(DESCRIPTIONS)
    # Realistic ids: large integers, unique.
    assert all(s > 1_000_000 for s in studies)
    assert len({s for _, s in on_disk}) == 9
    for path in (sample_root / "train_images").glob("*/*/*"):
        assert path.suffix == ".dcm" and path.stem.isdigit()


def test_train_csv_columns_and_values(sample_root):
    columns, rows = read_csv(sample_root / "train.csv")
    expected = ["study_id"] + [f"{c}_{lv}" for c in CONDITIONS for lv in LEVELS]
    assert columns == expected
    assert expected[1:6] == [
        "spinal_canal_stenosis_l1_l2",
        "spinal_canal_stenosis_l2_l3",
        "spinal_canal_stenosis_l3_l4",
        "spinal_canal_stenosis_l4_l5",
        "spinal_canal_stenosis_l5_s1",
    ]
    assert expected[-1] == "right_subarticular_stenosis_l5_s1"
    assert len(rows) == 3
    assert [int(r["study_id"]) for r in rows] == sorted(int(r["study_id"]) for r in rows)
    planted = planted_cells()
    values = [
        r[f"{c}_{lv}"]
        for r in rows
        for c in CONDITIONS
        for lv in LEVELS
        if (r["study_id"], c.replace("_", " ").title(), lv.upper().replace("_", "/")) not in planted
    ]
    assert set(values) <= set(SEVERITIES) == {"Normal/Mild", "Moderate", "Severe"}
    # The one empty cell is the planted point without a grade.
    assert sum(r[c] == "" for r in rows for c in expected[1:]) == 1


def test_severities_are_skewed_like_the_real_data(tmp_path):
    # The label draw needs no files: one row of train.csv per study id.
    from eda_helpers.sample.phantom import _draw_severities

    counts = dict.fromkeys(SEVERITIES, 0)
    for study_id in range(1000, 1400):
        for value in _draw_severities(study_id)["spinal_canal_stenosis"]:
            counts[value] += 1
    total = sum(counts.values())
    assert 0.82 < counts["Normal/Mild"] / total < 0.95
    assert counts["Moderate"] > counts["Severe"] > 0


def test_series_descriptions_csv(sample_root):
    columns, rows = read_csv(sample_root / "train_series_descriptions.csv")
    assert columns == ["study_id", "series_id", "series_description"]
    assert {r["series_description"] for r in rows} == DESCRIPTIONS


def test_label_coordinates_csv(sample_root):
    columns, rows = read_csv(sample_root / "train_label_coordinates.csv")
    assert columns == ["study_id", "series_id", "instance_number", "condition", "level", "x", "y"]
    _, series = read_csv(sample_root / "train_series_descriptions.csv")
    desc = {r["series_id"]: r["series_description"] for r in series}
    assert len(rows) == 3 * 25  # one label planted twice, one left out
    planted = planted_cells()
    for row in rows:
        assert row["condition"] in TITLE_CONDITIONS
        if (row["study_id"], row["condition"], row["level"]) in planted:
            continue
        assert row["level"] in TITLE_LEVELS
        # The competition's rule: each condition is labelled on one kind of series.
        assert desc[row["series_id"]] == TITLE_CONDITIONS[row["condition"]]
        assert np.isfinite([float(row["x"]), float(row["y"])]).all()
    per_study = defaultdict(set)
    for row in rows:
        per_study[row["study_id"]].add((row["condition"], row["level"]))
    for study, cells in per_study.items():
        every = {(c, lv) for c in TITLE_CONDITIONS for lv in TITLE_LEVELS}
        assert every - cells == {(c, lv) for st, c, lv in planted if st == study} - cells


# -------------------------------------------------------------- DICOM files


def test_every_file_is_a_valid_rle_mr_image(sample_root, sample_headers):
    _, series = read_csv(sample_root / "train_series_descriptions.csv")
    desc = {(int(r["study_id"]), int(r["series_id"])): r["series_description"] for r in series}
    sop_uids, series_uids = set(), {}
    for (study, series_id), files in sample_headers.items():
        for ds in files:
            assert ds.file_meta.TransferSyntaxUID == RLELossless
            assert ds.file_meta.MediaStorageSOPClassUID == MRImageStorage == ds.SOPClassUID
            assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
            assert ds.Modality == "MR"
            assert ds.SamplesPerPixel == 1
            assert ds.PhotometricInterpretation == "MONOCHROME2"
            assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, 12, 11)
            assert ds.PixelRepresentation == 0
            assert float(ds.RescaleSlope) == 1 and float(ds.RescaleIntercept) == 0
            assert float(ds.WindowWidth) > 0 and 0 < float(ds.WindowCenter) < 4096
            assert ds.SeriesDescription == desc[(study, series_id)]
            assert ds.PatientID == str(study)
            assert "SliceLocation" in ds and "SeriesNumber" in ds
            assert float(ds.SliceThickness) > 0 and float(ds.SpacingBetweenSlices) > 0
            assert all(0.5 <= v <= 0.75 for v in floats(ds.PixelSpacing))
            assert Path(ds.filename).stem == str(ds.InstanceNumber)
            sop_uids.add(ds.SOPInstanceUID)
            series_uids.setdefault((study, series_id), set()).add(ds.SeriesInstanceUID)
        assert len({ds.StudyInstanceUID for ds in files}) == 1
        assert len({ds.FrameOfReferenceUID for ds in files}) == 1
    assert len(sop_uids) == sum(len(f) for f in sample_headers.values())
    assert all(len(v) == 1 for v in series_uids.values())  # one UID per series...
    assert len(set.union(*series_uids.values())) == len(series_uids)  # ...and unique


def test_pixels_decode_within_12_bits(sample_root):
    for path in sorted((sample_root / "train_images").glob("*/*/*.dcm")):
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array
        assert arr.shape == (ds.Rows, ds.Columns)
        assert arr.dtype == np.uint16
        assert 0 <= arr.min() and arr.max() <= 4095
        assert arr.std() > 50  # an image, not a blank


def test_matrix_and_slice_counts_are_realistic(sample_headers):
    for files in sample_headers.values():
        ds = files[0]
        assert 256 <= ds.Rows <= 384 and 256 <= ds.Columns <= 384
        if ds.SeriesDescription.startswith("Sagittal"):
            assert 15 <= len(files) <= 17
            assert 3.3 <= float(ds.SpacingBetweenSlices) <= 4.0


def test_rle_encoder_gives_the_bytes_of_pydicoms_encoder(sample_root, rng):
    frames = [
        rng.integers(0, 4096, (7, 300)).astype(np.uint16),
        np.zeros((3, 1), np.uint16),
        np.full((2, 300), 4095, np.uint16),
        np.array([[1, 2, 2, 3, 3, 3] + [5] * 129 + [6] + [7] * 257 + [8, 9]], np.uint16),
        np.repeat(rng.integers(0, 3, (5, 200)), rng.integers(1, 4, 200), axis=1).astype(np.uint16),
    ]
    path = next((sample_root / "train_images").glob("*/*/*.dcm"))
    real = pydicom.dcmread(path)
    frames.append(real.pixel_array)
    for arr in frames:
        ds = pydicom.Dataset()
        ds.Rows, ds.Columns = arr.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.compress(RLELossless, arr, encoding_plugin="pydicom", generate_instance_uid=False)
        assert encapsulate([rle_encode_frame(arr)]) == ds.PixelData
    assert real.PixelData == ds.PixelData  # the file holds exactly that encoding


def test_rle_encoder_refuses_other_arrays():
    with pytest.raises(ValueError, match=r"frame: expected a 2-D uint16 array, got 3-D"):
        rle_encode_frame(np.zeros((1, 2, 2), np.uint16))
    with pytest.raises(ValueError, match=r"got 2-D int32.*astype\(np.uint16\)"):
        rle_encode_frame(np.zeros((2, 2), np.int32))


def test_rle_encoder_takes_either_byte_order(rng):
    arr = rng.integers(0, 4096, (5, 40)).astype(np.uint16)
    assert rle_encode_frame(arr.astype(">u2")) == rle_encode_frame(arr)


# --------------------------------------------------------------- the labels


def label_rows(root: Path):
    """Each label row with the header of its slice, except the planted errors (of the
    3-study dataset of seed 0)."""
    _, rows = read_csv(root / "train_label_coordinates.csv")
    planted = planted_cells()
    rows = [r for r in rows if (r["study_id"], r["condition"], r["level"]) not in planted]
    by_key = {
        (s, se, int(ds.InstanceNumber)): ds
        for (s, se), files in headers(root).items()
        for ds in files
    }
    for row in rows:
        key = (int(row["study_id"]), int(row["series_id"]), int(row["instance_number"]))
        assert key in by_key, f"label points at a file that does not exist: {key}"
        yield row, by_key[key]


def test_labels_are_inside_their_image(sample_root):
    for row, ds in label_rows(sample_root):
        assert 0 <= float(row["x"]) <= ds.Columns - 1
        assert 0 <= float(row["y"]) <= ds.Rows - 1


def test_labels_map_back_onto_their_disc_in_3d(sample_root):
    """Through the tags alone, every label lands on its phantom point, in its disc's plane."""
    for row, ds in label_rows(sample_root):
        point = pixel_to_patient(ds, float(row["x"]), float(row["y"]))
        truth = sample_landmarks(int(row["study_id"]))
        level = truth.levels.index(row["level"])
        # The label slice is the one nearest to the point: at most half a step away.
        half_step = float(ds.SpacingBetweenSlices) / 2
        assert np.linalg.norm(point - truth.points[(row["condition"], row["level"])]) <= (
            half_step + 0.2
        )
        # At the height of its disc, and nearer to it than to any other disc.
        heights = np.einsum("ij,ij->i", point - truth.disc_centres, truth.disc_axes)
        assert abs(heights[level]) <= half_step + 0.5
        assert int(np.argmin(np.abs(heights))) == level
        # Within the disc's reach: the canal, the lateral recess or the foramen behind it.
        assert np.linalg.norm(point - truth.disc_centres[level]) < 40


def test_labels_of_one_level_agree_across_the_three_series(sample_root):
    """Without the phantom: the sagittal labels of a level lie in the plane of the axial
    slice labelled at that level, and left is left in patient space (+x)."""
    points = defaultdict(dict)
    planes = {}
    for row, ds in label_rows(sample_root):
        key = (row["study_id"], row["level"])
        points[key][row["condition"]] = pixel_to_patient(ds, float(row["x"]), float(row["y"]))
        if row["condition"] == "Left Subarticular Stenosis":
            planes[key] = (floats(ds.ImagePositionPatient), normal(ds))
    assert len(points) == 5 * len(read_csv(sample_root / "train.csv")[1])
    planted = {(st, lv) for st, _, lv in planted_cells()}
    for key, by_condition in points.items():
        if key in planted:
            continue
        origin, n = planes[key]
        for condition, p in by_condition.items():
            assert abs((p - origin) @ n) < 5, (key, condition)
        for kind in ("Neural Foraminal Narrowing", "Subarticular Stenosis"):
            left, right = by_condition[f"Left {kind}"], by_condition[f"Right {kind}"]
            assert left[0] - right[0] > 10  # LPS: +x is the patient's left
            middle = (left + right) / 2
            assert abs(middle[0] - by_condition["Spinal Canal Stenosis"][0]) < 4
    # The levels go down the spine.
    for study in {k[0] for k in points}:
        z = [
            points[(study, lv)]["Spinal Canal Stenosis"][2]
            for lv in TITLE_LEVELS
            if "Spinal Canal Stenosis" in points[(study, lv)]
        ]
        assert np.all(np.diff(z) < -20)


def test_labels_sit_on_the_expected_tissue(sample_root):
    """CSF is the brightest tissue on T2, fat on T1: the canal and subarticular labels
    are in the CSF, the foraminal labels in the fat of the foramen."""
    for row, ds in label_rows(sample_root):
        arr = pydicom.dcmread(ds.filename).pixel_array.astype(float)
        r, c = round(float(row["y"])), round(float(row["x"]))
        value = np.median(arr[r - 1 : r + 2, c - 1 : c + 2])
        assert value > 0.8 * np.percentile(arr, 99), (row, value)


def canal_depth(ds: pydicom.Dataset, x: float, y: float) -> float:
    """Depth (mm) of the bright CSF along the image row through a sagittal T2 label."""
    arr = pydicom.dcmread(ds.filename).pixel_array.astype(float)
    r, c = round(y), round(x)
    bright = np.median(arr[r - 1 : r + 2], axis=0) > 0.5 * np.percentile(arr, 99)
    lo = hi = c
    while lo > 0 and bright[lo - 1]:
        lo -= 1
    while hi < bright.size - 1 and bright[hi + 1]:
        hi += 1
    return (hi - lo + 1) * float(ds.PixelSpacing[1])


def test_severe_canal_stenosis_is_a_narrow_canal(sample_root):
    """The images follow the labels: at a "Severe" level the CSF is much shallower."""
    _, grades = read_csv(sample_root / "train.csv")
    grade = {r["study_id"]: r for r in grades}
    depth = defaultdict(list)
    for row, ds in label_rows(sample_root):
        if row["condition"] == "Spinal Canal Stenosis":
            column = "spinal_canal_stenosis_" + row["level"].lower().replace("/", "_")
            severity = grade[row["study_id"]][column]
            depth[severity].append(canal_depth(ds, float(row["x"]), float(row["y"])))
    assert depth["Severe"], "every dataset has a severe spinal canal stenosis"
    assert max(depth["Severe"]) < 0.6 * min(depth["Normal/Mild"])
    assert min(depth["Normal/Mild"]) > 10


def test_landmarks_refuse_bad_ids():
    assert sample_landmarks("4003253").study_id == sample_landmarks(4003253).study_id
    with pytest.raises(ValueError, match=r"study_id: expected an id .*, got str 'L4'"):
        sample_landmarks("L4")
    with pytest.raises(TypeError, match=r"study_id: expected an id .*, got float 1.5"):
        sample_landmarks(1.5)
    with pytest.raises(ValueError, match=r"study_id: expected a positive id, got 0"):
        sample_landmarks(0)


# ----------------------------------------------------------------- quirks


def test_axial_series_hold_several_angled_stacks(sample_root, sample_headers):
    _, series = read_csv(sample_root / "train_series_descriptions.csv")
    axial = [
        (int(r["study_id"]), int(r["series_id"]))
        for r in series
        if r["series_description"] == "Axial T2"
    ]
    for key in axial:
        files = sample_headers[key]
        groups = orientation_groups(files)
        assert 2 <= len(groups) <= 3
        assert len({ds.SeriesInstanceUID for ds in files}) == 1
        # Between stacks the position jumps by more than a slice step.
        by_number = sorted(files, key=lambda ds: int(ds.InstanceNumber))
        z = [float(ds.ImagePositionPatient[2]) for ds in by_number]
        assert np.max(np.abs(np.diff(z))) > 1.5 * float(files[0].SpacingBetweenSlices)


def test_every_quirk_is_in_the_default_dataset(sample_root):
    found = quirks(sample_root)
    assert len(found["several orientations"]) == 3  # every axial series
    assert found["first instance not 1"]
    assert found["sagittal numbered against normal"]
    assert found["sagittal numbered along normal"]


def test_every_quirk_is_in_a_one_study_dataset(one_study):
    _, rows = read_csv(one_study / "train.csv")
    assert "Severe" in [v for k, v in rows[0].items() if k.startswith("spinal")]
    found = quirks(one_study)
    assert len(found["several orientations"]) == 1
    assert found["first instance not 1"]
    assert found["sagittal numbered against normal"]
    assert found["sagittal numbered along normal"]


# ------------------------------------------------------------ determinism


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes(one_study, tmp_path):
    (tmp_path / "train_images").mkdir()  # an empty train_images folder is no obstacle
    again = make_sample_dataset(tmp_path, n_studies=1, seed=0, progress=True)
    assert snapshot(again) == snapshot(one_study)


# sha256 of the CSV files of make_sample_dataset(n_studies=3, seed=0). They hold only
# what numpy's Generator methods (integers, permutation, choice) drew, so they change
# only if those streams do, which numpy allows between versions.
CSV_SHA256 = {
    "train.csv": "a3fdc5b6c28bc780b8d23ac0dd47484da35b2c149119b77aeda4d2b8c7aa270d",
    "train_series_descriptions.csv": (
        "9ff9ce0460fcbd63217ecf8c0eb50c5cf499a659c07c42d57813351b19cacdb7"
    ),
}


def test_the_default_dataset_is_the_one_the_notebooks_were_run_on(sample_root):
    got = {
        name: hashlib.sha256((sample_root / name).read_bytes()).hexdigest() for name in CSV_SHA256
    }
    assert got == CSV_SHA256, (
        f"numpy {np.__version__} draws another sample dataset for seed 0: raise "
        f"SAMPLE_FORMAT, update CSV_SHA256 and execute the notebooks again"
    )


def test_other_seed_gives_other_data(one_study, tmp_path):
    other = make_sample_dataset(tmp_path, n_studies=1, seed=1)
    assert (other / "train.csv").read_bytes() != (one_study / "train.csv").read_bytes()
    assert {p.name for p in (other / "train_images").iterdir()}.isdisjoint(
        p.name for p in (one_study / "train_images").iterdir()
    )


# ------------------------------------------------------ arguments and safety


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_studies": 0}, ValueError, r"n_studies: expected an integer >= 1, got 0"),
        (
            {"n_studies": 2.5},
            TypeError,
            r"n_studies: expected an integer, got float 2.5; pass a whole number such as 2",
        ),
        ({"n_studies": True}, TypeError, r"n_studies: expected an integer, got bool"),
        ({"seed": -1}, ValueError, r"seed: expected an integer >= 0, got -1"),
        ({"seed": "0"}, TypeError, r"seed: expected an integer, got str"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        make_sample_dataset(tmp_path / "new", **kwargs)
    assert not (tmp_path / "new").exists()  # refused before anything is written


def test_refuses_to_write_over_a_dataset(sample_root):
    before = snapshot(sample_root)
    with pytest.raises(FileExistsError, match=r"already holds train_images.*overwrite=True"):
        make_sample_dataset(sample_root, n_studies=1)
    assert snapshot(sample_root) == before


def test_refuses_a_non_empty_train_images_folder(tmp_path):
    (tmp_path / "train_images" / "123").mkdir(parents=True)
    with pytest.raises(FileExistsError, match=r"holds train_images; refusing.*overwrite=True"):
        make_sample_dataset(tmp_path, n_studies=1)


def test_refuses_a_file_as_root(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(FileExistsError, match=r"root: .*f is a file, not a folder"):
        make_sample_dataset(tmp_path / "f")


def test_overwrite_replaces_the_old_dataset(tmp_path):
    stray = tmp_path / "train_images" / "1" / "2" / "1.dcm"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"old")
    (tmp_path / "train.csv").write_text("old")
    (tmp_path / "notes.txt").write_text("mine")
    make_sample_dataset(tmp_path, n_studies=1, seed=2, overwrite=True)
    assert not stray.exists()
    assert (tmp_path / "train.csv").read_text().startswith("study_id,")
    assert (tmp_path / "notes.txt").read_text() == "mine"  # other files are left alone
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["notes.txt", "train_images", *CSV_FILES]
    )


def test_a_failed_run_leaves_no_dataset_behind(tmp_path, monkeypatch):
    def fail(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr("eda_helpers.sample.writer._write_series", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        make_sample_dataset(tmp_path, n_studies=1)
    assert list(tmp_path.iterdir()) == []


def test_a_root_that_cannot_be_made_is_named(tmp_path):
    (tmp_path / "a_file").write_text("")
    target = tmp_path / "a_file" / "data"
    with pytest.raises(
        NotADirectoryError,
        match=r"root: cannot write the sample dataset into .*a_file/data \(Not a directory\); "
        r"it needs a folder this user can create and write to: pass another folder",
    ):
        make_sample_dataset(target, n_studies=1)


def test_a_read_only_root_is_named_not_the_work_folder(tmp_path, monkeypatch):
    """As root, chmod does not stop writes: the refusal the OS gives a read-only folder
    is played by mkdtemp, so this proves the message, not the permission check."""

    def refuse(prefix="", dir=None):
        raise PermissionError(13, "Permission denied", f"{dir}/{prefix}k3x9q1")

    monkeypatch.setattr("eda_helpers.sample.writer.tempfile.mkdtemp", refuse)
    with pytest.raises(PermissionError) as info:
        make_sample_dataset(tmp_path, n_studies=1)
    assert str(info.value) == (
        f"[Errno 13] root: cannot write the sample dataset into {tmp_path} (Permission "
        f"denied); it needs a folder this user can create and write to: pass another folder"
    )
    assert ".sample-" not in str(info.value) and info.value.__suppress_context__


# ------------------------------------------------------------ command line


def test_cli_writes_a_dataset(tmp_path, capsys):
    root = tmp_path / "missing" / "data"  # created with its parents
    assert main(["sample", str(root), "--studies", "1", "--seed", "3"]) == 0
    assert "wrote 1 sample studies (seed 3, with the planted" in capsys.readouterr().out
    _, rows = read_csv(root / "train.csv")
    assert len(rows) == 1
    # Written again over it: refused with the fix in the message, unless --overwrite.
    assert main(["sample", str(root), "--studies", "1"]) == 1
    assert "--overwrite on the command line" in capsys.readouterr().err


def test_cli_clean_labels_writes_the_dataset_without_planted_errors(tmp_path, capsys):
    from eda_helpers import rsna

    planted, clean = tmp_path / "planted", tmp_path / "clean"
    assert main(["sample", str(planted), "--studies", "1"]) == 0
    assert "with the planted label errors" in capsys.readouterr().out
    assert main(["sample", str(clean), "--studies", "1", "--clean-labels"]) == 0
    assert "without the planted label errors" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the planted errors warn as they are found
        assert len(rsna.check_labels(planted, progress=False)) > 0
    assert rsna.check_labels(clean, progress=False).empty


def test_cli_reports_a_folder_it_cannot_make(tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    target = tmp_path / "a_file" / "data"  # its parent is a file: NotADirectoryError
    assert main(["sample", str(target), "--studies", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("eda_helpers sample: error: ") and "Not a directory" in err
    assert "pass another folder" in err and str(target) in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "DIR", "--studies", "0"], "argument --studies: must be >= 1, got 0"),
        (["sample", "DIR", "--studies", "two"], "argument --studies: expected an integer"),
        (["sample", "DIR", "--seed", "-3"], "argument --seed: must be >= 0, got -3"),
        (["sample"], "the following arguments are required: DIR"),
        ([], "the following arguments are required: COMMAND"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
)
def test_cli_bad_arguments(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not Path("DIR").exists()


def test_cli_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "eda_helpers", "sample", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "--studies N" in result.stdout
