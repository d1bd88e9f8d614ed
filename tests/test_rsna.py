"""The competition's CSV files, labels on slices, and the dataset scan, on the sample data."""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from eda_helpers import SliceViewer, io, plot_grid, read_stacks, rsna
from eda_helpers.io import read_headers
from eda_helpers.sample import planted_label_errors, sample_landmarks

# The quirks make_sample_dataset(n_studies=3, seed=0) plants (see eda_helpers.sample).
AXIAL_STACKS = {760000400: 3, 2283109414: 3, 1451329625: 2}
FIRST_INSTANCE = {598367624: 11, 1451329625: 18, 460383166: 6}
SAGITTAL_AGAINST_NORMAL = {3974219954}


@pytest.fixture(scope="module")
def coords(sample_root: Path) -> pd.DataFrame:
    """The sample's label coordinates without the labels its planted errors touch."""
    table = rsna.read_coordinates(sample_root)
    planted = planted_label_errors(n_studies=3, seed=0)
    cells = set(zip(planted["study_id"], planted["condition"], planted["level"], strict=True))
    keep = [
        k not in cells
        for k in zip(table["study_id"], table["condition"], table["level"], strict=True)
    ]
    return table[keep].reset_index(drop=True)


@pytest.fixture(scope="module")
def series_stacks(sample_root: Path) -> dict[int, tuple[Path, list]]:
    """series_id -> (folder, read_stacks) for every series of the sample."""
    table = rsna.read_descriptions(sample_root)
    out = {}
    for study, series in zip(table["study_id"], table["series_id"], strict=True):
        folder = sample_root / "train_images" / str(study) / str(series)
        out[int(series)] = (folder, read_stacks(folder))
    return out


@pytest.fixture(scope="module")
def scan(sample_root: Path) -> pd.DataFrame:
    return rsna.scan_dataset(sample_root, max_workers=1, progress=False)


def _copy_root(sample_root: Path, tmp_path: Path, *names: str) -> Path:
    root = tmp_path / "data"
    (root / "train_images").mkdir(parents=True)
    for name in names:
        shutil.copy(sample_root / name, root / name)
    return root


# --------------------------------------------------------------------------- CSV files


def test_read_descriptions_types_and_rows(sample_root):
    table = rsna.read_descriptions(sample_root)
    assert table.columns.tolist() == list(rsna.DESCRIPTION_COLUMNS)
    assert table["study_id"].dtype == np.int64 and table["series_id"].dtype == np.int64
    assert len(table) == 9
    assert table["series_description"].value_counts().to_dict() == {
        "Sagittal T1": 3,
        "Sagittal T2/STIR": 3,
        "Axial T2": 3,
    }


def test_read_csv_accepts_a_dataset_location(sample_root):
    location = rsna.DatasetLocation(sample_root, "argument")
    assert rsna.read_descriptions(location).equals(rsna.read_descriptions(sample_root))


def test_missing_column_is_a_clear_error(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    table = pd.read_csv(sample_root / "train_series_descriptions.csv")
    table.rename(columns={"series_description": "description"}).to_csv(
        root / "train_series_descriptions.csv", index=False
    )
    with pytest.raises(
        ValueError,
        match=r"train_series_descriptions\.csv: missing column\(s\) series_description; "
        r"expected the columns study_id, series_id, series_description but the file has "
        r"study_id, series_id, description",
    ):
        rsna.read_descriptions(root)


def test_missing_label_and_coordinate_columns(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    labels = pd.read_csv(sample_root / "train.csv")
    labels.drop(columns=["spinal_canal_stenosis_l4_l5"]).to_csv(root / "train.csv", index=False)
    with pytest.raises(
        ValueError, match=r"train\.csv: missing column\(s\) spinal_canal_stenosis_l4_l5"
    ):
        rsna.read_labels(root)
    coords = pd.read_csv(sample_root / "train_label_coordinates.csv")
    coords.drop(columns=["x", "level"]).to_csv(root / "train_label_coordinates.csv", index=False)
    with pytest.raises(
        ValueError, match=r"train_label_coordinates\.csv: missing column\(s\) level, x; expected"
    ):
        rsna.read_coordinates(root)


def test_malformed_numbers_name_the_line(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    coords = pd.read_csv(sample_root / "train_label_coordinates.csv")
    coords["instance_number"] = coords["instance_number"].astype(object)
    coords.loc[2, "instance_number"] = "7.5"
    coords.to_csv(root / "train_label_coordinates.csv", index=False)
    with pytest.raises(
        ValueError,
        match=r"column instance_number must hold whole numbers \(64-bit integers\), but "
        r"line\(s\) 4 hold '7\.5'; fix or drop those rows",
    ):
        rsna.read_coordinates(root)
    coords = pd.read_csv(sample_root / "train_label_coordinates.csv")
    coords["y"] = coords["y"].astype(object)
    coords.loc[0, "y"] = "n/a"
    coords.to_csv(root / "train_label_coordinates.csv", index=False)
    with pytest.raises(
        ValueError, match=r"column y must hold numbers, but line\(s\) 2 hold an empty cell"
    ):
        rsna.read_coordinates(root)


def test_empty_csv_is_a_clear_error(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    (root / "train_series_descriptions.csv").write_text("")
    with pytest.raises(
        ValueError,
        match=r"train_series_descriptions\.csv: not a readable CSV file \(EmptyDataError: .*"
        r"expected the columns study_id, series_id, series_description",
    ):
        rsna.read_descriptions(root)


def test_missing_file_and_bad_options(sample_root, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train\.csv: no such file"):
        rsna.read_labels(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"train_label_coordinates\.csv: no such file"):
        rsna.read_coordinates(tmp_path)
    with pytest.raises(
        ValueError, match=r"split: expected one of 'train', 'test', got str 'valid'"
    ):
        rsna.read_descriptions(sample_root, split="valid")
    with pytest.raises(ValueError, match=r"form: expected one of 'wide', 'long', got str 'tall'"):
        rsna.read_labels(sample_root, form="tall")


def test_unknown_severity_is_an_error(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    labels = pd.read_csv(sample_root / "train.csv")
    labels.loc[1, "left_subarticular_stenosis_l1_l2"] = "Mild"
    labels.to_csv(root / "train.csv", index=False)
    with pytest.raises(
        ValueError,
        match=r"train\.csv: column left_subarticular_stenosis_l1_l2 holds 'Mild'; expected one "
        r"of Normal/Mild, Moderate, Severe or an empty cell",
    ):
        rsna.read_labels(root)


def test_labels_wide_and_long_agree(sample_root):
    wide = rsna.read_labels(sample_root)
    assert wide.columns.tolist() == list(rsna.LABEL_COLUMNS)
    assert wide["spinal_canal_stenosis_l1_l2"].dtype == rsna.SEVERITY
    long = rsna.read_labels(sample_root, form="long")
    assert long.columns.tolist() == ["study_id", "condition", "level", "severity"]
    assert len(long) == 3 * 25
    row = long[
        (long["study_id"] == wide["study_id"][1])
        & (long["condition"] == "Right Neural Foraminal Narrowing")
        & (long["level"] == "L3/L4")
    ]
    assert row["severity"].item() == wide["right_neural_foraminal_narrowing_l3_l4"][1]
    assert long["severity"].cat.categories.tolist() == ["Normal/Mild", "Moderate", "Severe"]
    # Every (condition, level) of the labels has its label point in the coordinates.
    coords = rsna.read_coordinates(sample_root)
    assert set(zip(long["condition"], long["level"], strict=True)) == set(
        zip(coords["condition"], coords["level"], strict=True)
    )


def test_long_form_of_a_study_listed_twice(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    wide = pd.read_csv(sample_root / "train.csv", dtype=str)
    again = wide.iloc[[0]].copy()
    again.iloc[0, 1:] = "Severe"
    pd.concat([wide.iloc[[0]], wide.iloc[[1]], again], ignore_index=True).to_csv(
        root / "train.csv", index=False
    )
    long = rsna.read_labels(root, form="long")
    first, second = (int(v) for v in wide["study_id"][:2])
    assert long["study_id"].tolist() == [first] * 50 + [second] * 25
    # Condition by condition and level by level, the rows of the study in the file's order.
    twice = long[long["study_id"] == first]
    assert twice["severity"].tolist()[1::2] == ["Severe"] * 25
    assert twice["severity"].tolist()[0::2] == wide.iloc[0, 1:].tolist()
    assert twice["condition"].tolist()[:2] == ["Spinal Canal Stenosis"] * 2
    assert twice["level"].tolist()[:4] == ["L1/L2", "L1/L2", "L2/L3", "L2/L3"]


def test_ids_are_read_exactly_whatever_their_spelling(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    coords = pd.read_csv(sample_root / "train_label_coordinates.csv", dtype=str)
    coords.loc[:3, "instance_number"] = ["0012", " 7", "+8", "9.0"]
    coords.loc[0, "series_id"] = "\u0661\u0662"  # Arabic-Indic digits: 12, as int() reads them
    coords.to_csv(root / "train_label_coordinates.csv", index=False)
    table = rsna.read_coordinates(root)
    assert table["instance_number"].tolist()[:4] == [12, 7, 8, 9]
    assert table["series_id"][0] == 12 and table["series_id"].dtype == np.int64
    coords.loc[1, "series_id"] = "12_000"  # int() would take it; an id is digits only
    coords.to_csv(root / "train_label_coordinates.csv", index=False)
    with pytest.raises(ValueError, match=r"series_id must hold whole numbers .* line\(s\) 3"):
        rsna.read_coordinates(root)


def test_missing_label_is_nan_and_kept_in_long_form(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    labels = pd.read_csv(sample_root / "train.csv")
    labels.loc[0, "spinal_canal_stenosis_l5_s1"] = None
    labels.to_csv(root / "train.csv", index=False)
    long = rsna.read_labels(root, form="long")
    assert len(long) == 75
    before = rsna.read_labels(sample_root, form="long")["severity"].isna().sum()
    assert long["severity"].isna().sum() == before + 1


def test_test_split_without_labels(sample_root, tmp_path):
    root = tmp_path / "data"
    (root / "test_images").mkdir(parents=True)
    shutil.copy(
        sample_root / "train_series_descriptions.csv", root / "test_series_descriptions.csv"
    )
    assert len(rsna.read_descriptions(root, split="test")) == 9
    for form in ("wide", "long"):
        empty = rsna.read_labels(root, split="test", form=form)
        assert empty.empty
    assert rsna.read_labels(root, split="test").columns.tolist() == list(rsna.LABEL_COLUMNS)
    coords = rsna.read_coordinates(root, split="test")
    assert coords.empty and coords.columns.tolist() == list(rsna.COORDINATE_COLUMNS)
    assert coords["instance_number"].dtype == np.int64
    assert rsna.label_points(coords, 123) == []


# --------------------------------------------------------------------------- series


def test_find_series_by_description(sample_root):
    table = rsna.read_descriptions(sample_root)
    for study, series, description in table.itertuples(index=False):
        found = rsna.find_series(sample_root, study, description)
        assert found == [sample_root / "train_images" / str(study) / str(series)]
        assert found[0].is_dir()


def test_find_series_returns_every_series_of_a_description(sample_root):
    table = rsna.read_descriptions(sample_root)
    study = int(table["study_id"][0])
    axial = table[(table["study_id"] == study) & (table["series_description"] == "Axial T2")]
    second = axial.assign(series_id=axial["series_id"] + 1)
    two = pd.concat([table, second], ignore_index=True)
    found = rsna.find_series(sample_root, study, "Axial T2", descriptions=two)
    assert [int(p.name) for p in found] == [*axial["series_id"], *second["series_id"]]
    lacking = table[
        ~((table["study_id"] == study) & (table["series_description"] == "Sagittal T1"))
    ]
    assert rsna.find_series(sample_root, study, "Sagittal T1", descriptions=lacking) == []


def test_find_series_errors(sample_root):
    with pytest.raises(ValueError, match=r"study_id: 42 is not in train_series_descriptions\.csv"):
        rsna.find_series(sample_root, 42, "Axial T2")
    with pytest.raises(
        ValueError, match=r"description: 'Axial T1' is not a series description .*'Axial T2'"
    ):
        rsna.find_series(sample_root, 1521327889, "Axial T1")


def test_label_points_text_and_instances(sample_root):
    coords = rsna.read_coordinates(sample_root)  # with the planted errors: all rows count
    sagittal_t1 = 3942273027
    points = rsna.label_points(coords, sagittal_t1)
    rows = coords[coords["series_id"] == sagittal_t1]
    assert [p.instance_number for p in points] == rows["instance_number"].tolist()
    assert {p.text[:2] for p in points} == {"L ", "R "}
    assert points[0].text == "L L1/L2" and points[5].text == "R L1/L2"
    canal = rsna.label_points(coords, "some/where/598367624")
    assert [p.text for p in canal] == ["L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
    with pytest.raises(ValueError, match=r"series: expected an id .* got str 'T2'"):
        rsna.label_points(coords, "T2")


@pytest.mark.parametrize(
    ("series_id", "n_stacks"),
    [(598367624, 1), (3942273027, 1), (3974219954, 1), (760000400, 3), (1451329625, 2)],
)
def test_labels_located_on_the_slice_of_their_instance(
    coords, series_stacks, series_id, n_stacks, sample_root
):
    folder, stacks = series_stacks[series_id]
    assert len(stacks) == n_stacks
    located = rsna.locate_labels(coords, stacks)
    labelled = 5 if series_id in (598367624, 3974219954) else 10  # T2: the canal only
    assert len(located) == (coords["series_id"] == series_id).sum() >= labelled - 3
    assert located["stack"].notna().all() and located["slice_index"].notna().all()
    for row in located.itertuples():
        volume = stacks[row.stack]
        assert volume.instance_numbers[row.slice_index] == row.instance_number
        assert volume.files[row.slice_index].name == f"{row.instance_number}.dcm"
    if n_stacks > 1:
        assert located["stack"].nunique() > 1, "the labels of an axial series span stacks"
    # The located pixel is where the phantom's labelled point is (within a slice step).
    marks = sample_landmarks(int(folder.parent.name))
    for row in located.itertuples():
        volume = stacks[row.stack]
        patient = (volume.affine @ [row.slice_index, row.y, row.x, 1])[:3]
        truth = marks.points[row.condition, row.level]
        assert np.linalg.norm(patient - truth) < volume.spacing[0]


def test_locate_labels_warns_about_instances_in_no_volume(coords, series_stacks):
    _, stacks = series_stacks[760000400]
    with pytest.warns(UserWarning, match=r"labelled instance number\(s\) of series 760000400"):
        located = rsna.locate_labels(coords, stacks[:1])
    assert located["stack"].isna().any() and (located["stack"].dropna() == 0).all()


def test_locate_labels_errors(sample_root, series_stacks):
    coords = rsna.read_coordinates(sample_root)  # with the planted errors: all rows count
    with pytest.raises(ValueError, match=r"volumes: expected a Volume or a non-empty list"):
        rsna.locate_labels(coords, [])
    with pytest.raises(TypeError, match=r"volumes: expected a Volume or a list of Volumes .*str"):
        rsna.locate_labels(coords, ["598367624"])
    with pytest.raises(TypeError, match=r"volumes: expected a Volume .* got int"):
        rsna.locate_labels(coords, 598367624)
    _, stacks = series_stacks[598367624]
    located = rsna.locate_labels(coords, stacks[0], series_id=598367624)
    assert len(located) == 5
    renamed = stacks[0].__class__(
        **{**stacks[0].__dict__, "files": tuple(Path("T2") / f.name for f in stacks[0].files)}
    )
    with pytest.raises(ValueError, match=r"series_id: the Volumes' folder 'T2' is not named"):
        rsna.locate_labels(coords, renamed)


# --------------------------------------------------------------------------- labels on images


def _marked(fig) -> list[tuple[float, float]]:
    ax = fig.axes[0]
    marks = [c for c in ax.collections if c.get_gid() == "points"]
    return [tuple(xy) for m in marks for xy in m.get_offsets().tolist()]


@pytest.mark.parametrize("series_id", [598367624, 3942273027, 760000400, 1451329625])
def test_plot_grid_marks_labels_on_their_slice(coords, series_stacks, series_id):
    """End to end: CSV -> Points -> the panel of the slice with that instance number."""
    folder, stacks = series_stacks[series_id]
    points = rsna.label_points(coords, folder)
    located = rsna.locate_labels(coords, stacks)
    for k, volume in enumerate(stacks):
        mine = located[located["stack"] == k]
        # Each labelled slice, and the first and last slices (which hold no label here).
        for i in sorted({*mine["slice_index"], 0, len(volume) - 1}):
            fig = plot_grid(volume, slices=[i], points=points, downsample=False)
            expected = mine[mine["slice_index"] == i]
            assert sorted(_marked(fig)) == sorted(zip(expected["x"], expected["y"], strict=True))
            texts = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "point-label"]
            assert sorted(texts) == sorted(expected["text"])
            plt.close(fig)


@pytest.mark.parametrize("series_id", [3974219954, 2283109414])
def test_slice_viewer_draws_labels_on_their_slice(coords, series_stacks, series_id):
    folder, stacks = series_stacks[series_id]
    points = rsna.label_points(coords, folder)
    located = rsna.locate_labels(coords, stacks)
    for k, volume in enumerate(stacks):
        labelled = set(located.loc[located["stack"] == k, "slice_index"])
        assert labelled, "every sample stack holds labels"
        viewer = SliceViewer(volume, points=points)
        try:
            for i in range(len(volume)):
                frame = viewer.frame(i)
                assert (frame.ndim == 3) == (i in labelled), (k, i)
            i = min(labelled)
            viewer.index = i
            texts = located.loc[(located["stack"] == k) & (located["slice_index"] == i), "text"]
            assert all(t in viewer.readout.value for t in texts)
        finally:
            viewer.close()


# --------------------------------------------------------------------------- read_headers


def test_read_headers_groups_as_read_stacks(series_stacks):
    folder, stacks = series_stacks[760000400]
    headers, unreadable = read_headers(sorted(folder.iterdir()))
    assert unreadable == []
    assert [sorted(h.path for h in s) for s in headers] == [sorted(v.files) for v in stacks]


def test_read_headers_reports_bad_files_without_raising(series_stacks, tmp_path):
    folder, _ = series_stacks[598367624]
    copy = tmp_path / "series"
    shutil.copytree(folder, copy)
    files = sorted(copy.iterdir())
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) - 500])  # cut inside the pixel data
    files[1].write_bytes(data[:300])  # cut inside the header
    (copy / "junk.dcm").write_bytes(b"\x00garbage" * 100)
    stacks, unreadable = read_headers(sorted(copy.iterdir()))
    reasons = {p.name: r for p, r in unreadable}
    assert set(reasons) == {files[0].name, files[1].name, "junk.dcm"}
    assert reasons[files[0].name].startswith("truncated pixel data")
    assert reasons["junk.dcm"] == "not DICOM"
    assert sum(len(s) for s in stacks) == len(files) - 2


def test_a_folder_listing_reads_as_read_headers(series_stacks, tmp_path):
    folder, _ = series_stacks[760000400]
    copy = tmp_path / "series"
    shutil.copytree(folder, copy)
    (copy / "sub").mkdir()  # not a file: not listed
    (copy / "junk.dcm").write_bytes(b"\x00garbage" * 100)
    paths, names = io._folder_listing(copy)
    assert paths == sorted(p for p in copy.iterdir() if p.is_file())
    assert names == [str(p) for p in paths]
    headers, unreadable = io._read_each(paths, names)
    stacks, expected = read_headers(paths)
    assert unreadable == expected
    fields = [[vars(h) for h in s] for s in stacks]  # SliceHeader compares by identity
    assert [[vars(h) for h in s] for s in io._stacks_of(headers)] == fields
    assert [p.name for p, _ in unreadable] == ["junk.dcm"]
    with pytest.raises(ValueError, match=r"names: expected one per file \(\d+\), got 1"):
        io._read_each(paths, names[:1])


# --------------------------------------------------------------------------- scan


def test_scan_rows_and_columns(scan, sample_root):
    assert scan.columns.tolist() == list(rsna.SCAN_COLUMNS)
    table = rsna.read_descriptions(sample_root)
    assert list(zip(scan["study_id"], scan["series_id"], strict=True)) == sorted(
        zip(table["study_id"], table["series_id"], strict=True)
    )
    assert (scan["transfer_syntax"] == "RLE Lossless").all()
    assert (scan["n_unreadable"] == 0).all() and (scan["unreadable"] == "").all()
    assert (scan["instance_gaps"] == 0).all()
    by_id = scan.set_index("series_id")
    for series_id, row in by_id.iterrows():
        files = sorted(
            (sample_root / "train_images" / str(row.study_id) / str(series_id)).iterdir()
        )
        assert row.n_files == len(files)
        assert row.last_instance - row.first_instance + 1 == len(files)
    sagittal = scan[scan["description"] != "Axial T2"]
    assert (sagittal["orientation"] == "sagittal").all() and (sagittal["n_stacks"] == 1).all()
    axial = scan[scan["description"] == "Axial T2"]
    assert (axial["orientation"] == "axial").all()
    assert ((scan["slice_step_min"] > 3.2) & (scan["slice_step_max"] < 4.1)).all()
    assert set(scan["sizes"]) <= {"384x384", "320x320", "384x320", "256x256"}
    assert by_id.loc[760000400, "pixel_spacing"] == "0.7031x0.7031"


def test_scan_flags_the_planted_quirks(scan):
    by_id = scan.set_index("series_id")
    for series_id, n in AXIAL_STACKS.items():
        assert by_id.loc[series_id, "n_stacks"] == n
        assert f"{n} stacks" in by_id.loc[series_id, "notes"]
    for series_id, first in FIRST_INSTANCE.items():
        assert by_id.loc[series_id, "first_instance"] == first
        assert f"instances start at {first}" in by_id.loc[series_id, "notes"]
    against = set(scan.loc[scan["order_disagrees"], "series_id"])
    assert against == SAGITTAL_AGAINST_NORMAL | set(AXIAL_STACKS)
    assert set(scan.loc[scan["instance_order"] == "against normal", "series_id"]) == against
    assert (scan.loc[~scan["order_disagrees"], "instance_order"] == "along normal").all()
    odd = set(AXIAL_STACKS) | set(FIRST_INSTANCE) | SAGITTAL_AGAINST_NORMAL
    assert set(scan.loc[scan["odd"], "series_id"]) == odd
    assert (scan.loc[~scan["odd"], "notes"] == "").all()
    assert by_id.loc[1451329625, "notes"] == (
        "2 stacks; instances start at 18; numbered against the slice normal"
    )


def test_scan_is_the_same_whatever_the_executor(sample_root, scan):
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = rsna.scan_dataset(sample_root, executor=pool, progress=False)
    default = rsna.scan_dataset(sample_root, progress=False)
    with ThreadPoolExecutor(max_workers=3) as threads:
        threaded = rsna.scan_dataset(sample_root, executor=threads, progress=False)
    for other in (pooled, default, threaded):
        pd.testing.assert_frame_equal(other, scan)


@pytest.mark.slow
def test_scan_on_a_dask_cluster_matches(sample_root, scan):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            # One worker process is a real remote executor; a second would only add
            # the start of one more interpreter. No fixed port: no dashboard.
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = rsna.scan_dataset(sample_root, executor=client.get_executor(), progress=False)
    pd.testing.assert_frame_equal(on_dask, scan)


def test_scan_reports_unreadable_files(sample_root, tmp_path):
    """A truncated file and a garbage file are rows of the table, not a crash."""
    study, series = 1521327889, 598367624
    root = tmp_path / "data"
    folder = root / "train_images" / str(study) / str(series)
    shutil.copytree(sample_root / "train_images" / str(study) / str(series), folder)
    victim = folder / "13.dcm"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    (folder / "notes.txt").write_text("not an image\n")
    scan = rsna.scan_dataset(root, max_workers=1, progress=False)
    row = scan.iloc[0]
    assert (row.study_id, row.series_id, row.description) == (study, series, "Sagittal T2/STIR")
    assert row.n_files == 16 and row.n_unreadable == 2
    assert row.unreadable == "13.dcm, notes.txt"
    assert "2 unreadable file(s): truncated pixel data" in row.notes
    assert row.first_instance == 11 and row.last_instance == 25
    assert row.instance_gaps == 1 and "1 instance number(s) missing (13)" in row.notes
    assert row.odd
    with ProcessPoolExecutor(max_workers=2) as pool:
        pd.testing.assert_frame_equal(rsna.scan_dataset(root, executor=pool, progress=False), scan)


def test_scan_lists_series_without_folder_and_folders_without_row(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path, "train_series_descriptions.csv")
    table = rsna.read_descriptions(sample_root)
    study = int(table["study_id"][0])
    kept = [int(s) for s in table.loc[table["study_id"] == study, "series_id"]]
    shutil.copytree(
        sample_root / "train_images" / str(study) / str(kept[0]),
        root / "train_images" / str(study) / str(kept[0]),
    )
    shutil.copytree(
        sample_root / "train_images" / str(study) / str(kept[1]),
        root / "train_images" / str(study) / "777",
    )
    scan = rsna.scan_dataset(root, studies=[study], max_workers=1, progress=False)
    by_id = scan.set_index("series_id")
    assert sorted(by_id.index) == sorted([*kept, 777])
    assert by_id.loc[kept[1], "notes"] == "folder missing"
    assert by_id.loc[kept[1], "n_files"] == 0 and pd.isna(by_id.loc[kept[1], "first_instance"])
    assert "not in train_series_descriptions.csv" in by_id.loc[777, "notes"]
    assert by_id.loc[777, "description"] == table.loc[1, "series_description"]


def test_scan_errors_and_warnings(sample_root, tmp_path):
    with pytest.raises(TypeError, match=r"executor: expected a concurrent\.futures\.Executor"):
        rsna.scan_dataset(sample_root, executor="dask", progress=False)
    with pytest.raises(ValueError, match=r"max_workers: expected an integer >= 1, got 0"):
        rsna.scan_dataset(sample_root, max_workers=0, progress=False)
    with pytest.raises(FileNotFoundError, match=r"root: .* has no train_images/ folder"):
        rsna.scan_dataset(tmp_path, progress=False)
    with pytest.raises(TypeError, match=r"max_workers: expected an integer, got str '2'"):
        rsna.scan_dataset(sample_root, max_workers="2", progress=False)
    with pytest.raises(ValueError, match=r"split: expected one of 'train', 'test'"):
        rsna.scan_dataset(sample_root, split="val", progress=False)
    (tmp_path / "train_images" / "scratch").mkdir(parents=True)
    with pytest.warns(UserWarning, match=r"skipped 1 folder\(s\) not named by a study or series"):
        empty = rsna.scan_dataset(tmp_path, progress=False)
    assert empty.empty and empty.columns.tolist() == list(rsna.SCAN_COLUMNS)


def test_scan_progress_bar_goes_to_stderr(sample_root, capsys):
    scan = rsna.scan_dataset(sample_root, studies=[1521327889], max_workers=1, progress=True)
    assert len(scan) == 3
    out = capsys.readouterr()
    assert out.out == "" and "scan" in out.err


# --------------------------------------------------------------------------- review fixes


def _one_series(sample_root: Path, tmp_path: Path, study=1521327889, series=598367624) -> Path:
    """A dataset root holding one series of the sample (the T2 of instances 11..25)."""
    root = tmp_path / "data"
    shutil.copytree(
        sample_root / "train_images" / str(study) / str(series),
        root / "train_images" / str(study) / str(series),
    )
    return root


def _series_folder(root: Path) -> Path:
    (folder,) = (root / "train_images").glob("*/*")
    return folder


def test_ids_are_read_exactly_never_through_floats(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    csv = root / "train_series_descriptions.csv"
    # 2**53 + 1 written as a float column writes it: a float64 would make it 2**53.
    csv.write_text("study_id,series_id,series_description\n1,9007199254740993.0,Axial T2\n")
    assert rsna.read_descriptions(root)["series_id"].tolist() == [2**53 + 1]
    csv.write_text("study_id,series_id,series_description\n1,18446744073709551615,Axial T2\n")
    with pytest.raises(
        ValueError,
        match=r"column series_id must hold whole numbers \(64-bit integers\), but line\(s\) 2 "
        r"hold '18446744073709551615'",
    ):
        rsna.read_descriptions(root)
    csv.write_text("study_id,series_id,series_description\n1,,Axial T2\n")
    with pytest.raises(ValueError, match=r"column series_id .* line\(s\) 2 hold an empty cell"):
        rsna.read_descriptions(root)


def test_coordinate_spellings_are_made_those_of_the_labels(sample_root, tmp_path):
    root = _copy_root(sample_root, tmp_path)
    coords = pd.read_csv(sample_root / "train_label_coordinates.csv")
    variant = coords.copy()
    variant["condition"] = variant["condition"].str.lower().str.replace(" ", "_")
    variant["level"] = variant["level"].str.lower().str.replace("/", "-")
    variant.to_csv(root / "train_label_coordinates.csv", index=False)
    read = rsna.read_coordinates(root)
    assert read["condition"].tolist() == coords["condition"].tolist()
    assert read["level"].tolist() == coords["level"].tolist()
    assert read.dtypes.equals(rsna.read_coordinates(sample_root).dtypes)
    # Tables not read by read_coordinates: the side is still found in the condition.
    assert rsna.label_points(variant, 3942273027)[0].text == "L l1-l2"
    variant.loc[3, "level"] = "L6/S1"
    variant.to_csv(root / "train_label_coordinates.csv", index=False)
    with pytest.raises(
        ValueError,
        match=r"column level must hold one of L1/L2, L2/L3, L3/L4, L4/L5, L5/S1, but line\(s\) "
        r"5 hold 'L6/S1'",
    ):
        rsna.read_coordinates(root)


def test_locate_labels_takes_the_series_id_as_text(sample_root, series_stacks):
    coords = rsna.read_coordinates(sample_root)  # with the planted errors: all rows count
    _, stacks = series_stacks[598367624]
    assert len(rsna.locate_labels(coords, stacks, series_id="598367624")) == 5
    with pytest.raises(
        ValueError,
        match=r"series_id: expected an id \(an int or a string of digits\), got str 'T2'",
    ):
        rsna.locate_labels(coords, stacks, series_id="T2")
    with pytest.raises(TypeError, match=r"series_id: expected an id .* got float 5\.5"):
        rsna.locate_labels(coords, stacks, series_id=5.5)
    assert rsna.label_points(coords, "598367624") == rsna.label_points(coords, 598367624)
    with pytest.raises(ValueError, match=r"series: expected an id .* got str 'T2'"):
        rsna.label_points(coords, "T2")


def _volume(numbers, names):
    import torch

    from eda_helpers import Volume

    n = len(numbers)
    return Volume.from_array(
        torch.zeros(n, 4, 4),
        affine=np.eye(4),
        instance_numbers=numbers,
        files=[Path("7") / name for name in names],
    )


def test_locate_labels_when_stacks_number_their_slices_alike():
    coords = pd.DataFrame(
        {"study_id": [1], "series_id": [7], "instance_number": [3],
         "condition": ["Spinal Canal Stenosis"], "level": ["L4/L5"], "x": [1.0], "y": [2.0]}
    )  # fmt: skip
    # Both stacks carry an InstanceNumber 3; the file named 3.dcm is in the second one.
    first = _volume([1, 2, 3], ["1.dcm", "2.dcm", "13.dcm"])
    second = _volume([3, 4], ["3.dcm", "4.dcm"])
    located = rsna.locate_labels(coords, [first, second])
    assert located[["stack", "slice_index"]].values.tolist() == [[1, 0]]
    # Nothing tells them apart: no answer rather than the wrong stack.
    second = _volume([3, 4], ["a.dcm", "b.dcm"])
    with pytest.warns(
        UserWarning,
        match=r"1 labelled instance number\(s\) of series 7 \(3\) are held by several slices "
        r"of the 2 Volume\(s\), and no file name tells them apart; .* pass only the Volume",
    ):
        located = rsna.locate_labels(coords, [first, second])
    assert located["stack"].isna().all() and located["slice_index"].isna().all()


def _rewrite(path: Path, **tags) -> None:
    import pydicom

    ds = pydicom.dcmread(path)
    for k, v in tags.items():
        setattr(ds, k, v)
    ds.save_as(path)


def test_scan_reports_a_series_it_cannot_scan_and_goes_on(sample_root, tmp_path, monkeypatch):
    root = _one_series(sample_root, tmp_path)
    shutil.copytree(
        sample_root / "train_images" / "1521327889" / "3942273027",
        root / "train_images" / "1521327889" / "3942273027",
    )
    # Cosines that define no plane used to stop the whole scan with a ValueError.
    _rewrite(root / "train_images/1521327889/598367624/11.dcm", ImageOrientationPatient=[0] * 6)
    scan = rsna.scan_dataset(root, max_workers=1, progress=False).set_index("series_id")
    assert "ImageOrientationPatient defines no plane" in scan.loc[598367624, "notes"]
    assert "unknown" in scan.loc[598367624, "orientation"]
    assert scan.loc[3942273027, "notes"] == ""
    # Any other failure of one series is its row's note.
    scan_series = rsna.scan._scan_series

    def failing(folder):
        if folder.name == "598367624":
            raise PermissionError(f"[Errno 13] Permission denied: '{folder}'")
        return scan_series(folder)

    monkeypatch.setattr(rsna.scan, "_scan_series", failing)
    scan = rsna.scan_dataset(root, max_workers=1, progress=False).set_index("series_id")
    assert scan.loc[598367624, "notes"].startswith(
        "scan failed (PermissionError: [Errno 13] Permission denied:"
    )
    assert scan.loc[598367624, "odd"] and scan.loc[3942273027, "notes"] == ""
    # A folder whose scan failed never claims to hold no file.
    n_files = len([p for p in (root / "train_images").glob("*/598367624/*") if p.is_file()])
    assert n_files > 0 and scan.loc[598367624, "n_files"] == n_files


def test_scan_survives_an_absurd_instance_number(sample_root, tmp_path):
    """One InstanceNumber of 2**31 - 1 used to build a set of two billion numbers."""
    root = _one_series(sample_root, tmp_path)
    _rewrite(_series_folder(root) / "11.dcm", InstanceNumber=2**31 - 1)
    (row,) = rsna.scan_dataset(root, max_workers=1, progress=False).itertuples()
    assert row.last_instance == 2**31 - 1 and row.instance_gaps == 2**31 - 1 - 12 + 1 - 15
    assert "2147483621 instance number(s) missing (26, 27, 28, 29, 30, ...)" in row.notes


def test_scan_order_ignores_slices_that_share_a_position(sample_root, tmp_path):
    """A second pass over the same positions (numbered 111..125) is not "mixed"."""
    root = _one_series(sample_root, tmp_path)
    folder = _series_folder(root)
    for f in sorted(folder.iterdir()):
        again = folder / f"{int(f.stem) + 100}.dcm"
        shutil.copy(f, again)
        _rewrite(again, InstanceNumber=int(f.stem) + 100)
    (row,) = rsna.scan_dataset(root, max_workers=1, progress=False).itertuples()
    assert row.n_stacks == 1 and row.instance_order == "along normal"
    assert not row.order_disagrees
    assert "15 duplicate slice position(s)" in row.notes and "monotonic" not in row.notes


def test_scan_skips_hidden_files_and_warns_about_stray_ones(sample_root, tmp_path):
    root = _one_series(sample_root, tmp_path)
    folder = _series_folder(root)
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (folder / "._12.dcm").write_bytes(b"\0\5\26\7")  # macOS's copy of a file's attributes
    (root / "train_images" / ".DS_Store").write_bytes(b"x")
    (root / "train_images" / ".ipynb_checkpoints").mkdir()
    (folder.parent / ".ipynb_checkpoints").mkdir()
    (row,) = rsna.scan_dataset(root, max_workers=1, progress=False).itertuples()
    assert row.n_files == 15 and row.n_unreadable == 0
    other = root / "train_images" / "2460829649"
    other.mkdir()
    shutil.copy(folder / "12.dcm", other / "1.dcm")
    with pytest.warns(
        UserWarning,
        match=r"skipped 1 file\(s\) lying directly in a study folder, where only series "
        r"folders belong: 2460829649/1\.dcm; move them into <study_id>/<series_id>/",
    ):
        rsna.scan_dataset(root, max_workers=1, progress=False)


def test_scan_counts_a_broken_link_as_unreadable(sample_root, tmp_path):
    root = _one_series(sample_root, tmp_path)
    folder = _series_folder(root)
    (folder / "26.dcm").symlink_to(tmp_path / "nowhere.dcm")
    (row,) = rsna.scan_dataset(root, max_workers=1, progress=False).itertuples()
    assert row.n_files == 16 and row.n_unreadable == 1 and row.unreadable == "26.dcm"


class _BrokenExecutor(ThreadPoolExecutor):
    """An executor whose workers cannot import the package (as on a bare Dask cluster)."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        future.set_exception(ModuleNotFoundError("No module named 'eda_helpers'"))
        return future


def test_scan_names_an_executor_that_fails(sample_root):
    with (
        _BrokenExecutor() as broken,
        pytest.raises(
            RuntimeError,
            match=r"executor: the task scanning 1 series from .*1521327889/\d+ failed in "
            r"_BrokenExecutor \(ModuleNotFoundError: No module named 'eda_helpers'\); its "
            r"workers must be able to import eda_helpers .* Pass max_workers=1",
        ),
    ):
        rsna.scan_dataset(sample_root, studies=[1521327889], executor=broken, progress=False)


def test_scan_studies_option(sample_root):
    one = rsna.scan_dataset(sample_root, studies=1521327889, max_workers=1, progress=False)
    assert set(one["study_id"]) == {1521327889} and len(one) == 3
    with pytest.raises(
        TypeError,
        match=r"studies: expected an id \(an int or a string of digits\), got float "
        r"1521327889\.5; pass one study id or a list of them",
    ):
        rsna.scan_dataset(sample_root, studies=[1521327889.5], progress=False)
    with pytest.raises(ValueError, match=r"studies: expected an id .* got str 'L4'"):
        rsna.scan_dataset(sample_root, studies="L4", progress=False)
    with pytest.warns(
        UserWarning,
        match=r"studies: 1 of the 2 study id\(s\) asked for are neither in train_images/ nor "
        r"in train_series_descriptions\.csv: 42; they have no rows",
    ):
        two = rsna.scan_dataset(
            sample_root, studies=["1521327889", 42], max_workers=1, progress=False
        )
    assert two.equals(one)


def test_default_pool_never_forks():
    """Forking a process with BLAS/OpenMP or kernel threads can leave a child stuck."""
    assert rsna.scan._mp_context().get_start_method() == "forkserver"


# --------------------------------------------------------------------------- scan defaults


class _NoPool:
    """Stands for ProcessPoolExecutor where a test must see that none is started."""

    def __init__(self, *args, **kwargs):
        raise OSError("no process may be started here")


def test_default_scan_of_a_small_dataset_runs_in_process(sample_root, scan, monkeypatch):
    monkeypatch.setattr(rsna.scan, "ProcessPoolExecutor", _NoPool)
    assert len(scan) < rsna.scan.POOL_MIN_SERIES
    pd.testing.assert_frame_equal(rsna.scan_dataset(sample_root, progress=False), scan)
    # Above the threshold the default is a pool, and a pool that cannot start is an
    # error naming the executor, not a bare OSError.
    monkeypatch.setattr(rsna.scan, "POOL_MIN_SERIES", 2)
    monkeypatch.setattr(rsna.scan, "default_workers", lambda: 2)
    with pytest.raises(
        RuntimeError,
        match=r"executor: the task scanning 1 series from .* failed in _NoPool "
        r"\(OSError: no process may be started here\)",
    ):
        rsna.scan_dataset(sample_root, progress=False)


class _RefusingExecutor(ThreadPoolExecutor):
    """An executor whose submit itself fails (as a shut-down pool's does)."""

    def submit(self, fn, /, *args, **kwargs):
        raise RuntimeError("cannot schedule new futures after shutdown")


def test_a_failing_submit_is_wrapped(sample_root):
    with (
        _RefusingExecutor() as refusing,
        pytest.raises(
            RuntimeError,
            match=r"executor: the task scanning 1 series from .*1521327889/\d+ failed in "
            r"_RefusingExecutor \(RuntimeError: cannot schedule new futures after shutdown\)"
            r"; its workers must be able to import eda_helpers",
        ),
    ):
        rsna.scan_dataset(sample_root, studies=1521327889, executor=refusing, progress=False)


def test_a_script_without_main_guard_is_told_to_add_one(sample_root, tmp_path):
    import subprocess
    import sys

    script = tmp_path / "survey.py"
    script.write_text(
        "import sys\n"
        "from eda_helpers import rsna\n"
        "rsna.scan_dataset(sys.argv[1], max_workers=2, progress=False)\n"
    )
    out = subprocess.run(
        [sys.executable, str(script), str(sample_root)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last == rsna.scan._MAIN_GUARD, out.stderr[-2000:]
    assert "BrokenProcessPool" in out.stderr


def test_scan_workers_start_without_torch_or_pandas():
    probe = "sorted({m.split('.')[0] for m in __import__('sys').modules} & %r)"
    heavy = {"torch", "pandas", "matplotlib", "ipywidgets", "tqdm"}
    with ProcessPoolExecutor(max_workers=1, mp_context=rsna.scan._mp_context()) as pool:
        assert pool.submit(eval, probe % (heavy,)).result(timeout=120) == []
        # The module the tasks run in is there, preloaded by the forkserver.
        assert pool.submit(eval, "'eda_helpers.rsna.scan' in __import__('sys').modules").result()


def test_tables_passed_in_are_checked(coords, series_stacks):
    with pytest.raises(TypeError, match=r"coordinates: expected a pandas DataFrame, got dict"):
        rsna.label_points({"series_id": [1]}, 1)
    with pytest.raises(
        ValueError,
        match=r"coordinates: expected a table with the columns series_id, instance_number, "
        r"condition, level, x, y, got one without x, y; pass the table of read_coordinates",
    ):
        rsna.locate_labels(coords.drop(columns=["x", "y"]), series_stacks[598367624][1])
    with pytest.raises(ValueError, match=r"descriptions: expected a table .* without series_id"):
        rsna.find_series("data", 1, "Axial T2", descriptions=pd.DataFrame({"study_id": [1]}))


def test_find_series_takes_the_study_id_as_text(sample_root):
    as_int = rsna.find_series(sample_root, 1521327889, "Axial T2")
    assert rsna.find_series(sample_root, "1521327889", "Axial T2") == as_int
    assert rsna.find_series(sample_root, np.int64(1521327889), "Axial T2") == as_int
    with pytest.raises(ValueError, match=r"study_id: 42 is not in .* \(e\.g\. 1521327889, "):
        rsna.find_series(sample_root, "42", "Axial T2")
    with pytest.raises(TypeError, match=r"study_id: expected an id .* got float 1\.5"):
        rsna.find_series(sample_root, 1.5, "Axial T2")


def test_list_series_lists_every_series_with_its_folder(sample_root, tmp_path):
    series = rsna.list_series(sample_root)
    table = rsna.read_descriptions(sample_root)
    assert series.columns.tolist() == [*rsna.DESCRIPTION_COLUMNS, "path", "n_files"]
    pd.testing.assert_frame_equal(series[list(rsna.DESCRIPTION_COLUMNS)], table)
    for row in series.itertuples():
        assert row.path == sample_root / "train_images" / str(row.study_id) / str(row.series_id)
        assert row.n_files == len(list(row.path.iterdir()))
    assert series["n_files"].dtype == np.int64
    # A series of the file without a folder has no files; hidden files are not counted.
    root = _copy_root(sample_root, tmp_path, "train_series_descriptions.csv")
    first = root / "train_images" / str(table["study_id"][0]) / str(table["series_id"][0])
    first.mkdir(parents=True)
    (first / ".DS_Store").write_text("")
    (first / "1.dcm").write_bytes(b"")
    counts = rsna.list_series(root)["n_files"].tolist()
    assert counts == [1] + [0] * (len(table) - 1)


def test_a_series_listed_twice_is_refused_or_kept_once(tmp_path):
    (tmp_path / "train_images").mkdir()
    csv = tmp_path / "train_series_descriptions.csv"
    csv.write_text(
        "study_id,series_id,series_description\n1,7,Axial T2\n1,8,Sagittal T1\n1,7,Sagittal T1\n"
    )
    with pytest.raises(
        ValueError,
        match=r"train_series_descriptions.csv: column series_description must hold one "
        r"description per series \(series 7 of study 1 has 2\), but line\(s\) 2, 4 hold "
        r"'Axial T2', 'Sagittal T1'",
    ):
        rsna.read_descriptions(tmp_path)
    csv.write_text(
        "study_id,series_id,series_description\n1,7,Axial T2\n1,8,Sagittal T1\n1,7,Axial T2\n"
    )
    with pytest.warns(UserWarning, match=r"1 line\(s\) repeat a series .* \(line\(s\) 4\)"):
        table = rsna.read_descriptions(tmp_path)
    assert table["series_id"].tolist() == [7, 8]
