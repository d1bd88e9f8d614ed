"""rsna.check_labels: every rule on hand-built DICOM series, and the sample's planted errors.

The hand-built study has simple geometry worked out by hand (1 mm pixels, LPS patient
coordinates: +x the patient's left, +z the head): a Sagittal T2/STIR series with the
canal points on its middle slice (x = 0), a Sagittal T1 series with slices at x = -15,
-5, 5, 15 (the right foramina at -15, the left at +15) and an Axial T2 series with one
slice per level at z = 40, 5, -30, -65, -100 (35 mm apart), the subarticular points at
x = -8 (right) and +8 (left). The files are real DICOM files written with pydicom.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from eda_helpers import make_sample_dataset, rsna
from eda_helpers.sample import planted_label_errors
from eda_helpers.vocabulary import CONDITIONS, LEVELS

STUDY = 1001
T2, T1, AX = 11, 12, 13
LEVEL_Z = (40.0, 5.0, -30.0, -65.0, -100.0)
TITLE_LEVELS = ("L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1")
SAG_ROWS, SAG_COLS, SAG_TOP = 200, 64, 60.0  # rows run from z = 60 down, columns A -> P
AX_SIZE = 64  # axial images: x from -32 (patient's right) to +31, y from -32 to +31
SAGITTAL = [0, 1, 0, 0, 0, -1]  # rows run posterior, columns run to the feet
AXIAL = [1, 0, 0, 0, 1, 0]
KEYS = ["study_id", "series_id", "instance_number", "condition", "level", "rule"]


def write_file(path: Path, *, instance: int, position, orientation, rows: int, cols: int):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "MR"
    ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.1.{STUDY}"
    ds.SeriesInstanceUID = f"1.2.826.0.1.3680043.10.1.{STUDY}.{path.parent.name}"
    ds.SeriesDescription = "test"
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [f"{v:g}" for v in position]
    ds.ImageOrientationPatient = [f"{v:g}" for v in orientation]
    ds.PixelSpacing = ["1", "1"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = np.zeros((rows, cols), np.uint16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def numbering(n: int, order: str) -> list[int]:
    """Instance numbers of n slices in spatial order: "along", "against" or "shuffled"."""
    if order == "along":
        return list(range(1, n + 1))
    if order == "against":
        return list(range(n, 0, -1))
    return [3, 1, 4, 2, 5][:n] if n <= 5 else list(np.random.default_rng(5).permutation(n) + 1)


class Study:
    """A hand-built study: its files, its label rows and its grades, written on demand."""

    def __init__(self, root: Path, order: str = "along"):
        self.root = root
        images = root / "train_images" / str(STUDY)
        # Sagittal slices in order along x; the normal of SAGITTAL is -x (to the right),
        # so the series' geometric order runs from the patient's left to the right.
        self.t2_x = [8.0, 4.0, 0.0, -4.0, -8.0]
        self.t1_x = [15.0, 5.0, -5.0, -15.0]
        self.t2_n = numbering(5, order)
        self.t1_n = numbering(4, order)
        self.ax_n = numbering(5, order)
        for x, n in zip(self.t2_x, self.t2_n, strict=True):
            write_file(images / str(T2) / f"{n}.dcm", instance=n, position=(x, -32, SAG_TOP),
                       orientation=SAGITTAL, rows=SAG_ROWS, cols=SAG_COLS)  # fmt: skip
        for x, n in zip(self.t1_x, self.t1_n, strict=True):
            write_file(images / str(T1) / f"{n}.dcm", instance=n, position=(x, -32, SAG_TOP),
                       orientation=SAGITTAL, rows=SAG_ROWS, cols=SAG_COLS)  # fmt: skip
        for z, n in zip(LEVEL_Z, self.ax_n, strict=True):
            write_file(images / str(AX) / f"{n}.dcm", instance=n, position=(-32, -32, z),
                       orientation=AXIAL, rows=AX_SIZE, cols=AX_SIZE)  # fmt: skip
        self.descriptions = [
            [STUDY, T2, "Sagittal T2/STIR"],
            [STUDY, T1, "Sagittal T1"],
            [STUDY, AX, "Axial T2"],
        ]
        self.grades = {f"{c}_{lv}": "Normal/Mild" for c in CONDITIONS for lv in LEVELS}
        self.rows: list[list[object]] = []
        for i, level in enumerate(TITLE_LEVELS):
            y = SAG_TOP - LEVEL_Z[i]
            self.rows.append([STUDY, T2, self.t2(0.0), "Spinal Canal Stenosis", level, 32.0, y])
        for side, x in (("Left", 15.0), ("Right", -15.0)):
            for i, level in enumerate(TITLE_LEVELS):
                y = SAG_TOP - LEVEL_Z[i]
                self.rows.append(
                    [STUDY, T1, self.t1(x), f"{side} Neural Foraminal Narrowing", level, 40.0, y]
                )
        for side, x in (("Left", 8.0), ("Right", -8.0)):
            for i, level in enumerate(TITLE_LEVELS):
                self.rows.append(
                    [STUDY, AX, self.ax(i), f"{side} Subarticular Stenosis", level, x + 32, 30.0]
                )

    def t2(self, x: float) -> int:
        return self.t2_n[self.t2_x.index(x)]

    def t1(self, x: float) -> int:
        return self.t1_n[self.t1_x.index(x)]

    def ax(self, level_index: int) -> int:
        return self.ax_n[level_index]

    def row(self, condition: str, level: str) -> list[object]:
        return next(r for r in self.rows if r[3] == condition and r[4] == level)

    def write(self) -> Path:
        def put(name: str, header: list[str], rows: list[list[object]]) -> None:
            with open(self.root / name, "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header)
                w.writerows(rows)

        put("train_series_descriptions.csv", ["study_id", "series_id", "series_description"],
            self.descriptions)  # fmt: skip
        columns = [f"{c}_{lv}" for c in CONDITIONS for lv in LEVELS]
        put("train.csv", ["study_id", *columns], [[STUDY, *(self.grades[c] for c in columns)]])
        put("train_label_coordinates.csv",
            ["study_id", "series_id", "instance_number", "condition", "level", "x", "y"],
            self.rows)  # fmt: skip
        return self.root


def check(root: Path) -> pd.DataFrame:
    return rsna.check_labels(root, progress=False)


def same(a: list[tuple], b: list[tuple]) -> bool:
    """Whether two lists of keys hold the same rows, in any order."""
    return sorted(a, key=str) == sorted(b, key=str)


def keys(table: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if pd.isna(v) else v for v in r) for r in table[KEYS].itertuples(index=False)
    ]


ORDERS = ["along", "against", "shuffled"]


@pytest.fixture
def study(tmp_path) -> Study:
    return Study(tmp_path)


# ------------------------------------------------------------------ hand-built


@pytest.mark.parametrize("order", ORDERS)
def test_a_clean_study_has_no_finding(tmp_path, order):
    found = check(Study(tmp_path, order).write())
    assert found.empty
    assert found.columns.tolist() == list(rsna.CHECK_COLUMNS)


@pytest.mark.parametrize("order", ORDERS)
def test_side_is_judged_in_patient_space_whatever_the_numbering(tmp_path, order):
    st = Study(tmp_path, order)
    # The right foramen of L2/L3 clicked on the slice at x = +5: 5 mm to the patient's left.
    st.row("Right Neural Foraminal Narrowing", "L2/L3")[2] = st.t1(5.0)
    # The left subarticular zone of L4/L5 at x = -8 on the axial slice: to the right.
    st.row("Left Subarticular Stenosis", "L4/L5")[5] = 24.0
    found = check(st.write())
    assert keys(found) == [
        (STUDY, T1, st.t1(5.0), "Right Neural Foraminal Narrowing", "L2/L3", "side"),
        (STUDY, AX, st.ax(3), "Left Subarticular Stenosis", "L4/L5", "side"),
    ]
    assert found["detail"].tolist() == [
        "Right Neural Foraminal Narrowing at L2/L3 lies 5.0 mm to the patient's left of the "
        "spinal canal point of L2/L3 (patient x 5.0 mm against 0.0 mm; +x is the patient's "
        "left), on the other side from its name.",
        "Left Subarticular Stenosis at L4/L5 lies 8.0 mm to the patient's right of the spinal "
        "canal point of L4/L5 (patient x -8.0 mm against 0.0 mm; +x is the patient's left), "
        "on the other side from its name.",
    ]


def test_side_tolerates_a_point_near_the_midline(study):
    # The canal points on the slice at x = +4: the right foramen at x = -15 stays right,
    # and a left subarticular point at x = +2 is 2 mm off the midline, within tolerance.
    for level in TITLE_LEVELS:
        study.row("Spinal Canal Stenosis", level)[2] = study.t2(4.0)
    study.row("Left Subarticular Stenosis", "L1/L2")[5] = 32 + 2.0
    assert check(study.write()).empty
    study.row("Left Subarticular Stenosis", "L1/L2")[5] = 32 + 1.9  # 2.1 mm to the right
    assert keys(check(study.write()))[0][-1] == "side"


def test_side_falls_back_on_the_middle_of_the_series(study):
    # No canal point at all: the right subarticular point at x = +8 is judged against
    # the middle of the axial images (x = -0.5 for columns -32 .. 31).
    study.rows = [r for r in study.rows if r[3] != "Spinal Canal Stenosis"]
    for lv in LEVELS:
        study.grades[f"spinal_canal_stenosis_{lv}"] = ""
    study.row("Right Subarticular Stenosis", "L3/L4")[5] = 40.0
    found = check(study.write())
    assert keys(found) == [(STUDY, AX, study.ax(2), "Right Subarticular Stenosis", "L3/L4", "side")]
    assert "8.5 mm to the patient's left of the middle of the series" in found["detail"][0]


@pytest.mark.parametrize("order", ORDERS)
def test_same_slice_on_a_sagittal_series(tmp_path, order):
    st = Study(tmp_path, order)
    st.row("Right Neural Foraminal Narrowing", "L3/L4")[2] = st.t1(15.0)  # the left's slice
    found = check(st.write())
    assert keys(found) == [
        (STUDY, T1, st.t1(15.0), "Left Neural Foraminal Narrowing", "L3/L4", "same_slice"),
        (STUDY, T1, st.t1(15.0), "Right Neural Foraminal Narrowing", "L3/L4", "side"),
    ]
    assert found["detail"][0] == (
        f"Left and Right Neural Foraminal Narrowing at L3/L4 are both on instance "
        f"{st.t1(15.0)} of this sagittal series (x=40, y=90 and x=40, y=90); the two sides "
        f"of a level lie on slices on either side of the spinal canal."
    )


@pytest.mark.parametrize("order", ORDERS)
def test_level_order_along_the_patient_axis(tmp_path, order):
    st = Study(tmp_path, order)
    # L4/L5 and L5/S1 of the canal swapped: L5/S1 lies 35 mm above L4/L5.
    a, b = st.row("Spinal Canal Stenosis", "L4/L5"), st.row("Spinal Canal Stenosis", "L5/S1")
    a[6], b[6] = b[6], a[6]
    found = check(st.write())
    assert keys(found) == [(STUDY, T2, st.t2(0.0), "Spinal Canal Stenosis", "L5/S1", "level_order")]
    assert found["detail"][0] == (
        "L5/S1 lies 35.0 mm above L4/L5 (patient z -65.0 mm against -100.0 mm; +z is towards "
        "the head); the levels run from the head (L1/L2) to the foot (L5/S1)."
    )


def test_level_spacing_per_level(study):
    study.row("Spinal Canal Stenosis", "L5/S1")[6] = SAG_TOP + 130  # 65 mm below L4/L5
    study.rows.remove(study.row("Left Subarticular Stenosis", "L3/L4"))  # 70 mm, 2 levels
    study.grades["left_subarticular_stenosis_l3_l4"] = ""
    study.row("Left Neural Foraminal Narrowing", "L2/L3")[6] = SAG_TOP - 40 + 19  # 19 mm
    found = check(study.write())
    assert keys(found) == [
        (STUDY, T2, study.t2(0.0), "Spinal Canal Stenosis", "L5/S1", "level_spacing"),
        (STUDY, T1, study.t1(15.0), "Left Neural Foraminal Narrowing", "L2/L3", "level_spacing"),
    ]
    assert found["detail"].tolist() == [
        "L5/S1 lies 65.0 mm from L4/L5; neighbouring levels lie 20 to 55 mm apart.",
        "L2/L3 lies 19.0 mm from L1/L2; neighbouring levels lie 20 to 55 mm apart.",
    ]


def test_spacing_across_a_missing_level_is_per_level(study):
    study.rows.remove(study.row("Spinal Canal Stenosis", "L3/L4"))
    study.grades["spinal_canal_stenosis_l3_l4"] = ""
    assert check(study.write()).empty  # 70 mm over two levels: 35 mm per level
    study.row("Spinal Canal Stenosis", "L4/L5")[6] = SAG_TOP + 30  # on the L3/L4 disc
    found = check(study.write())
    assert keys(found) == [
        (STUDY, T2, study.t2(0.0), "Spinal Canal Stenosis", lv, "level_spacing")
        for lv in ("L4/L5", "L5/S1")
    ]
    assert found["detail"].tolist() == [
        "L4/L5 lies 35.0 mm from L2/L3 (17.5 mm per level, 2 levels apart); neighbouring "
        "levels lie 20 to 55 mm apart.",
        "L5/S1 lies 70.0 mm from L4/L5; neighbouring levels lie 20 to 55 mm apart.",
    ]


def test_missing_instance_and_outside_image(study):
    study.row("Right Subarticular Stenosis", "L2/L3")[2] = 99
    study.row("Left Subarticular Stenosis", "L5/S1")[5] = AX_SIZE - 0.4  # past the edge
    study.row("Left Subarticular Stenosis", "L4/L5")[6] = -0.5  # on the edge: inside
    found = check(study.write())
    assert keys(found) == [
        (STUDY, AX, study.ax(4), "Left Subarticular Stenosis", "L5/S1", "outside_image"),
        (STUDY, AX, 99, "Right Subarticular Stenosis", "L2/L3", "missing_instance"),
    ]
    assert found["detail"].tolist() == [
        "x=63.6, y=30 is outside the 64x64 (columns x rows) image of instance "
        f"{study.ax(4)}, whose pixels span x and y from -0.5 to 63.5 and 63.5.",
        f"Instance 99: no file of train_images/{STUDY}/{AX} has that InstanceNumber (it "
        "holds 1 to 5).",
    ]


def test_missing_instance_of_a_missing_series_and_an_unreadable_file(study):
    study.row("Spinal Canal Stenosis", "L1/L2")[1] = 77  # a series without a folder
    study.descriptions.append([STUDY, 77, "Sagittal T2/STIR"])
    n = study.t1(15.0)
    path = study.root / "train_images" / str(STUDY) / str(T1) / f"{n}.dcm"
    path.write_bytes(path.read_bytes()[:300])  # cut short
    found = check(study.write())
    detail = found.set_index(["series_id", "rule"])["detail"]
    assert f"there is no folder train_images/{STUDY}/77" in detail[77, "missing_instance"]
    unreadable = found[(found["series_id"] == T1) & (found["rule"] == "missing_instance")]
    assert len(unreadable) == 5  # the left foramen's five points are on that file
    assert unreadable["detail"].str.contains(rf"its file {n}\.dcm cannot be read").all()


def test_files_not_named_by_their_instance_number(study):
    # The file names say one number, the headers another: the headers decide.
    folder = study.root / "train_images" / str(STUDY) / str(AX)
    for p in sorted(folder.iterdir()):
        p.rename(folder / f"{int(p.stem) + 10}.dcm")
    assert check(study.write()).empty


def test_wrong_series_and_duplicate(study):
    study.rows.append([STUDY, T1, study.t1(-5.0), "Spinal Canal Stenosis", "L3/L4", 32.0, 90.0])
    study.rows.append([STUDY, 55, 1, "Spinal Canal Stenosis", "L3/L4", 32.0, 90.0])
    study.rows.append([*study.row("Left Subarticular Stenosis", "L1/L2")[:5], 41.0, 31.0])
    found = check(study.write())
    assert keys(found)[:2] == [
        (STUDY, T1, study.t1(-5.0), "Spinal Canal Stenosis", "L3/L4", "wrong_series"),
        (STUDY, AX, study.ax(0), "Left Subarticular Stenosis", "L1/L2", "duplicate"),
    ]
    assert keys(found)[2:] == [
        (STUDY, 55, 1, "Spinal Canal Stenosis", "L3/L4", "missing_instance"),
        (STUDY, 55, 1, "Spinal Canal Stenosis", "L3/L4", "wrong_series"),
    ]
    assert found["detail"][0] == (
        "Spinal Canal Stenosis is labelled on this Sagittal T1 series; the competition "
        "labels it on the Sagittal T2/STIR series."
    )
    assert found["detail"][1] == (
        "Left Subarticular Stenosis at L1/L2 is labelled 2 times in this series; this is "
        f"label 2 (instance {study.ax(0)}, x=41, y=31), the first is at instance "
        f"{study.ax(0)}, x=40, y=30."
    )
    assert "Series 55 is not listed for study 1001" in found["detail"][3]


def test_grades_and_points_disagree(study):
    study.rows.remove(study.row("Right Neural Foraminal Narrowing", "L4/L5"))
    study.grades["spinal_canal_stenosis_l2_l3"] = ""
    study.rows.append([2002, 21, 1, "Spinal Canal Stenosis", "L1/L2", 1.0, 1.0])
    study.descriptions.append([2002, 21, "Sagittal T2/STIR"])
    found = check(study.write())
    assert keys(found) == [
        (STUDY, T2, study.t2(0.0), "Spinal Canal Stenosis", "L2/L3", "point_without_grade"),
        (STUDY, None, None, "Right Neural Foraminal Narrowing", "L4/L5", "grade_without_point"),
        (2002, 21, 1, "Spinal Canal Stenosis", "L1/L2", "missing_instance"),
        (2002, 21, 1, "Spinal Canal Stenosis", "L1/L2", "point_without_grade"),
    ]
    assert found["detail"][0] == (
        f"Spinal Canal Stenosis at L2/L3 has a point (instance {study.t2(0.0)}) but no grade: "
        "its cell spinal_canal_stenosis_l2_l3 in train.csv is empty."
    )
    assert found["detail"][1] == (
        f"train.csv grades Right Neural Foraminal Narrowing at L4/L5 of study {STUDY}, and "
        "train_label_coordinates.csv has no point for it."
    )
    assert found["detail"][3].endswith("no grade: study 2002 is not in train.csv.")
    assert found["series_id"].dtype == "Int64" and found["study_id"].dtype == np.int64


def test_studies_limits_the_check(study):
    study.rows.append([2002, 21, 1, "Spinal Canal Stenosis", "L1/L2", 1.0, 1.0])
    root = study.write()
    rules = ["missing_instance", "wrong_series", "point_without_grade"]
    assert check(root)["rule"].tolist() == rules
    assert rsna.check_labels(root, studies=STUDY, progress=False).empty
    assert rsna.check_labels(root, studies=["2002"], progress=False)["rule"].tolist() == rules
    with pytest.warns(UserWarning, match=r"studies: 1 of the 2 study id\(s\) .*: 3003"):
        rsna.check_labels(root, studies=[STUDY, 3003], progress=False)


def test_the_csv_files_are_read_again_when_rewritten(study):
    root = study.write()
    assert check(root).empty
    study.grades["spinal_canal_stenosis_l2_l3"] = ""
    study.write()
    assert check(root)["rule"].tolist() == ["point_without_grade"]
    study.descriptions.append(study.descriptions[0])  # a repeated line warns on every call
    study.write()
    for _ in range(2):
        with pytest.warns(UserWarning, match=r"1 line\(s\) repeat a series") as caught:
            assert check(root)["rule"].tolist() == ["point_without_grade"]
        assert caught[0].filename == __file__


def test_the_data_is_never_changed(study):
    study.row("Right Neural Foraminal Narrowing", "L2/L3")[2] = study.t1(5.0)
    root = study.write()
    before = {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    assert len(check(root)) == 1
    assert {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()} == before


def test_bad_arguments(study):
    root = study.write()
    with pytest.raises(TypeError, match=r"data: expected a path \(str or os.PathLike\), got int 3"):
        rsna.check_labels(3)
    with pytest.raises(TypeError, match=r"progress: expected True or False, got str 'no'"):
        rsna.check_labels(root, progress="no")
    with pytest.raises(ValueError, match=r"studies: expected an id .* got str 'L4'"):
        rsna.check_labels(root, studies=["L4"], progress=False)


def test_a_malformed_coordinates_file_gets_the_errors_of_read_coordinates(study):
    root = study.write()
    text = (root / "train_label_coordinates.csv").read_text().splitlines()
    text[3] = text[3].rsplit(",", 1)[0] + ",abc"
    (root / "train_label_coordinates.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(
        ValueError, match=r"label_coordinates.csv: column y must hold numbers, but line\(s\) 4 hold"
    ):
        rsna.check_labels(root, progress=False)
    (root / "train_label_coordinates.csv").write_text("study_id,series_id\n1,2\n")
    with pytest.raises(ValueError, match=r"coordinates.csv: missing column\(s\) instance_number"):
        rsna.check_labels(root, progress=False)
    (root / "train_label_coordinates.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"train_label_coordinates.csv: no such file"):
        rsna.check_labels(root, progress=False)
    with pytest.raises(FileNotFoundError, match=r"data: .* has no train_images/ folder; pass"):
        rsna.check_labels(root / "train_images", progress=False)


def test_progress_bar(study, capsys):
    rsna.check_labels(study.write(), progress=True)
    assert "labels" in capsys.readouterr().err


# ------------------------------------------------------------------ the sample


def test_every_planted_error_is_found_and_nothing_else(sample_root):
    found = rsna.check_labels(sample_root, progress=False)
    planted = planted_label_errors(n_studies=3, seed=0)
    assert same(keys(found), keys(planted))
    assert set(planted["rule"]) == set(rsna.LABEL_RULES)  # every rule is planted


def test_every_planted_error_of_a_one_study_dataset_is_found(tmp_path):
    root = make_sample_dataset(tmp_path, n_studies=1, seed=3)
    found = rsna.check_labels(root, progress=False)
    planted = planted_label_errors(n_studies=1, seed=3)
    assert same(keys(found), keys(planted))
    assert len(rsna.read_coordinates(root)) == 25


def test_the_clean_sample_has_no_finding(sample_root, tmp_path):
    root = make_sample_dataset(tmp_path, n_studies=3, seed=0, label_errors=False)
    assert rsna.check_labels(root, progress=False).empty
    # The images are those of the default dataset: only the CSV files differ.
    for p in sorted((root / "train_images").rglob("*.dcm"))[::7]:
        assert p.read_bytes() == (sample_root / p.relative_to(root)).read_bytes()
    assert planted_label_errors(n_studies=3, seed=0)["rule"].tolist()[0] == "side"


def test_label_errors_must_be_a_bool(tmp_path):
    with pytest.raises(TypeError, match=r"label_errors: expected True or False, got str 'no'"):
        make_sample_dataset(tmp_path, label_errors="no")
    with pytest.raises(ValueError, match=r"n_studies: expected an integer >= 1, got 0"):
        planted_label_errors(n_studies=0)
    assert not any(tmp_path.iterdir())


def test_copy_of_the_sample_with_a_fixed_label_passes(sample_root, tmp_path):
    """Fixing one planted error in a copy removes exactly its finding."""
    root = tmp_path / "copy"
    shutil.copytree(sample_root, root)
    coords = pd.read_csv(root / "train_label_coordinates.csv")
    planted = planted_label_errors(n_studies=3, seed=0)
    bad = planted[planted["rule"] == "outside_image"].iloc[0]
    at = (
        (coords["study_id"] == bad["study_id"])
        & (coords["condition"] == bad["condition"])
        & (coords["level"] == bad["level"])
    )
    coords.loc[at, "x"] = 100.0
    coords.to_csv(root / "train_label_coordinates.csv", index=False)
    found = rsna.check_labels(root, progress=False)
    assert "outside_image" not in set(found["rule"]) and len(found) == len(planted) - 1


def test_conditions_limits_the_check_and_keeps_the_canal_as_midline(study):
    study.row("Right Neural Foraminal Narrowing", "L2/L3")[2] = study.t1(5.0)  # side
    study.row("Spinal Canal Stenosis", "L5/S1")[6] = SAG_TOP + 130  # level_spacing
    root = study.write()
    assert check(root)["rule"].tolist() == ["level_spacing", "side"]
    for conditions in ("right_neural_foraminal_narrowing", ["Right Neural Foraminal Narrowing"]):
        found = rsna.check_labels(root, conditions=conditions, progress=False)
        assert keys(found) == [
            (STUDY, T1, study.t1(5.0), "Right Neural Foraminal Narrowing", "L2/L3", "side")
        ]
    with pytest.raises(ValueError, match=r"conditions: expected one of 'Spinal Canal Stenosis'"):
        rsna.check_labels(root, conditions=["Stenosis"], progress=False)
