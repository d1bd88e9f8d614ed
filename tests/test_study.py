"""A study in world coordinates: label points projected onto every stack of the study.

The expected values are computed here from the files' own tags with pydicom, slice by
slice, independently of the package's geometry code.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from eda_helpers import read_stacks, rsna


def _tags(path: Path) -> dict[str, np.ndarray]:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    iop = np.array(ds.ImageOrientationPatient, dtype=float)
    return {
        "ipp": np.array(ds.ImagePositionPatient, dtype=float),
        "row": iop[:3],  # direction of increasing column index
        "col": iop[3:],  # direction of increasing row index
        "spacing": np.array(ds.PixelSpacing, dtype=float),  # (row spacing, column spacing)
        "shape": np.array([ds.Rows, ds.Columns]),
        "instance": int(ds.InstanceNumber),
    }


def _study(sample_root: Path) -> int:
    return int(rsna.read_descriptions(sample_root)["study_id"].iloc[0])


@pytest.fixture(scope="module")
def projected(sample_root) -> pd.DataFrame:
    return rsna.project_labels(sample_root, _study(sample_root))


def test_columns_and_one_row_per_label_and_stack(sample_root, projected):
    study = _study(sample_root)
    assert tuple(projected.columns) == rsna.PROJECTION_COLUMNS
    coords = rsna.read_coordinates(sample_root)
    n_labels = int((coords["study_id"] == study).sum())
    folders = sorted((sample_root / "train_images" / str(study)).iterdir())
    n_stacks = 0
    for f in folders:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n_stacks += len(read_stacks(f, duplicates="keep"))
    assert n_stacks >= 4  # two sagittal series and a multi-stack axial one
    assert len(projected) == n_labels * n_stacks
    assert (projected["study_id"] == study).all()


def test_against_the_tags(sample_root, projected):
    study = _study(sample_root)
    images = sample_root / "train_images" / str(study)
    members: dict[tuple[int, int], list[Path]] = {}
    for folder in images.iterdir():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k, v in enumerate(read_stacks(folder, duplicates="keep")):
                members[(int(folder.name), k)] = [Path(f) for f in v.files]
    tags = {f: _tags(f) for files in members.values() for f in files}
    labels = rsna.read_coordinates(sample_root).set_index(
        ["series_id", "instance_number", "condition", "level"]
    )
    for row in projected.itertuples():
        src = tags[images / str(row.series_id) / f"{row.instance_number}.dcm"]
        # The label's point from its own slice's tags: x steps along the row cosine by
        # the column spacing, y along the column cosine by the row spacing.
        label = labels.loc[(row.series_id, row.instance_number, row.condition, row.level)]
        point = (
            src["ipp"]
            + label["x"] * src["spacing"][1] * src["row"]
            + label["y"] * src["spacing"][0] * src["col"]
        )
        np.testing.assert_allclose([row.patient_x, row.patient_y, row.patient_z], point, atol=1e-6)
        files = members[(row.target_series_id, row.target_stack)]
        normal = np.cross(tags[files[0]]["row"], tags[files[0]]["col"])
        normal /= np.linalg.norm(normal)
        dist = np.array([(point - tags[f]["ipp"]) @ normal for f in files])
        nearest = files[int(np.argmin(np.abs(dist)))]
        t = tags[nearest]
        assert row.target_instance_number == t["instance"]
        rel = point - t["ipp"]
        # Projected on the rounded cosines of the file here, solved against the stack's
        # in-plane steps there: they agree to the rounding of the cosines (1e-6).
        assert row.x == pytest.approx(rel @ t["row"] / t["spacing"][1], abs=1e-3)
        assert row.y == pytest.approx(rel @ t["col"] / t["spacing"][0], abs=1e-3)
        assert row.distance_mm == pytest.approx(rel @ normal, abs=1e-6)
        offsets = np.unique(np.round([tags[f]["ipp"] @ normal for f in files], 3))
        step = (offsets[-1] - offsets[0]) / (len(offsets) - 1)
        rows, cols = t["shape"]
        inside = (
            abs(row.distance_mm) <= step / 2
            and -0.5 <= row.x <= cols - 0.5
            and -0.5 <= row.y <= rows - 0.5
        )
        assert row.inside == inside


def test_the_labels_own_slice_comes_back(sample_root, projected):
    coords = rsna.read_coordinates(sample_root)
    coords = coords[coords["study_id"] == _study(sample_root)]
    own = projected[
        (projected["target_series_id"] == projected["series_id"])
        & (projected["target_instance_number"] == projected["instance_number"])
    ]
    assert len(own) == len(coords)
    merged = own.merge(coords, on=["series_id", "instance_number", "condition", "level"])
    np.testing.assert_allclose(merged["x_x"], merged["x_y"], atol=1e-6)
    np.testing.assert_allclose(merged["y_x"], merged["y_y"], atol=1e-6)
    np.testing.assert_allclose(merged["distance_mm"], 0.0, atol=1e-6)
    assert merged["inside"].all()


def test_each_subarticular_label_falls_in_one_axial_stack_and_on_the_sagittals(projected):
    sub = projected[projected["condition"].str.contains("Subarticular")]
    axial = sub[sub["target_description"] == "Axial T2"]
    per_label = axial.groupby(["condition", "level"])["inside"].sum()
    assert (per_label == 1).all()  # the stacks are angled along separate discs
    sagittal = sub[sub["target_description"].str.startswith("Sagittal")]
    assert sagittal["inside"].all()  # the sagittal stacks span the canal and the facets


def test_slice_index_is_that_of_read_stacks(sample_root, projected):
    study = _study(sample_root)
    images = sample_root / "train_images" / str(study)
    for (series_id, k), rows in projected.groupby(["target_series_id", "target_stack"]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vol = read_stacks(images / str(series_id), duplicates="keep")[k]
        numbers = np.asarray(vol.instance_numbers)[rows["target_slice_index"].to_numpy()]
        np.testing.assert_array_equal(numbers, rows["target_instance_number"])


def test_tables_given_give_the_same_answer(sample_root, projected):
    again = rsna.project_labels(
        sample_root,
        str(_study(sample_root)),
        coordinates=rsna.read_coordinates(sample_root),
        descriptions=rsna.read_descriptions(sample_root),
    )
    pd.testing.assert_frame_equal(again, projected)


def test_bad_arguments(sample_root):
    with pytest.raises(
        ValueError, match=r"study_id: expected a study of the train series .*got 1;"
    ):
        rsna.project_labels(sample_root, 1)
    with pytest.raises(ValueError, match=r"study_id: expected an id"):
        rsna.project_labels(sample_root, "abc")
    with pytest.raises(TypeError, match=r"study_id: expected an id"):
        rsna.project_labels(sample_root, 1.5)
    with pytest.raises(TypeError, match=r"data: expected a path"):
        rsna.project_labels(42, _study(sample_root))


def test_a_missing_series_folder_warns_and_leaves_its_labels_out(sample_root, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(sample_root, root)
    study = _study(root)
    descriptions = rsna.read_descriptions(root)
    axial = descriptions.query("study_id == @study and series_description == 'Axial T2'")
    series_id = int(axial["series_id"].iloc[0])
    shutil.rmtree(root / "train_images" / str(study) / str(series_id))
    with pytest.warns(
        UserWarning,
        match=rf"series {series_id} \(Axial T2\): no folder .*; the 10 label\(s\) of series "
        rf"{series_id} are left out",
    ) as rec:
        table = rsna.project_labels(root, study)
    assert len(rec) == 1 and rec[0].filename == __file__
    assert series_id not in set(table["series_id"]) | set(table["target_series_id"])
    assert not table.empty
