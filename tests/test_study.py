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

import eda_helpers as eh
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
    """The first sample study none of whose labels names a missing instance."""
    planted = eh.sample.planted_label_errors()
    missing = set(planted.loc[planted["rule"] == "missing_instance", "study_id"])
    studies = rsna.read_descriptions(sample_root)["study_id"]
    return int(next(s for s in dict.fromkeys(studies) if s not in missing))


def test_a_label_on_no_slice_is_left_out_with_one_warning(sample_root):
    planted = eh.sample.planted_label_errors()
    (row,) = planted[planted["rule"] == "missing_instance"].itertuples()
    with pytest.warns(UserWarning) as caught:
        table = rsna.project_labels(sample_root, row.study_id)
    (w,) = caught
    assert str(w.message).startswith(f"study {row.study_id} in ")
    assert f"instance number(s) of series {row.series_id} ({row.instance_number})" in str(w.message)
    assert w.filename == __file__  # points at the caller's line
    left = table[(table["series_id"] == row.series_id) & (table["level"] == row.level)]
    assert not (left["condition"] == row.condition).any()
    # Every other label of the study is there, on every stack.
    coords = rsna.read_coordinates(sample_root)
    n = len(coords[coords["study_id"] == row.study_id]) - 1
    targets = len(table[["target_series_id", "target_stack"]].drop_duplicates())
    assert len(table) == n * targets


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


def test_tables_given_must_be_those_of_the_readers(sample_root):
    study = _study(sample_root)
    coords = rsna.read_coordinates(sample_root)
    with pytest.raises(TypeError, match=r"descriptions: expected a pandas DataFrame, got dict"):
        rsna.project_labels(sample_root, study, descriptions={"study_id": [study]})
    with pytest.raises(
        ValueError, match=r"descriptions: expected a table .* without series_description; pass"
    ):
        rsna.project_labels(
            sample_root,
            study,
            descriptions=rsna.read_descriptions(sample_root).drop(columns="series_description"),
        )
    with pytest.raises(TypeError, match=r"coordinates: expected a pandas DataFrame, got list"):
        rsna.project_labels(sample_root, study, coordinates=[])
    with pytest.raises(
        ValueError,
        match=r"coordinates: expected a table with the columns study_id, series_id, .* "
        r"without x; pass the table of read_coordinates",
    ):
        rsna.project_labels(sample_root, study, coordinates=coords.drop(columns="x"))
    unplaced = coords.copy()
    rows = unplaced.index[unplaced["study_id"] == study]
    unplaced.loc[rows[2], "x"] = np.nan
    unplaced.loc[rows[3], "y"] = np.inf
    with pytest.raises(
        ValueError,
        match=rf"coordinates: expected finite x and y \(pixels\), got NaN or inf in 2 row\(s\) "
        rf"of study {study} \(e\.g\. row {rows[2]}\); fix or drop them",
    ):
        rsna.project_labels(sample_root, study, coordinates=unplaced)
    # A label left out (on no slice) is not placed, so its x and y are never used.
    left_out = coords.copy()
    left_out.loc[rows[2], ["x", "instance_number"]] = [np.nan, 99999]
    with pytest.warns(UserWarning, match=r"\(99999\) are on no single slice"):
        table = rsna.project_labels(sample_root, study, coordinates=left_out)
    assert len(table) and np.isfinite(table[["x", "y", "patient_x"]].to_numpy()).all()


@pytest.mark.parametrize("dtype", ["string", object])
def test_tables_with_other_string_dtypes_give_the_same_answer(sample_root, projected, dtype):
    coords = rsna.read_coordinates(sample_root)
    descriptions = rsna.read_descriptions(sample_root)
    coords = coords.astype({"condition": dtype, "level": dtype})
    descriptions = descriptions.astype({"series_description": dtype})
    table = rsna.project_labels(
        sample_root, _study(sample_root), coordinates=coords, descriptions=descriptions
    )
    pd.testing.assert_frame_equal(table, projected)


def test_a_filtered_table_gives_the_rows_of_its_labels(sample_root, projected):
    coords = rsna.read_coordinates(sample_root)
    canal = coords[coords["condition"] == "Spinal Canal Stenosis"]  # its index has gaps
    assert not canal.index.equals(pd.RangeIndex(len(canal)))
    table = rsna.project_labels(sample_root, _study(sample_root), coordinates=canal)
    expected = projected[projected["condition"] == "Spinal Canal Stenosis"]
    pd.testing.assert_frame_equal(table, expected.reset_index(drop=True))


def test_a_rewritten_csv_file_is_read_again(sample_root, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(sample_root, root)
    study = _study(root)
    before = rsna.project_labels(root, study)
    coords = rsna.read_coordinates(root)
    first = coords.index[coords["study_id"] == study][0]
    coords.drop(index=first).to_csv(root / "train_label_coordinates.csv", index=False)
    after = rsna.project_labels(root, study)
    targets = len(before[["target_series_id", "target_stack"]].drop_duplicates())
    assert len(after) == len(before) - targets


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


# --------------------------------------------------------------------------- linked viewer

# Debian's chromium and its flags: those of the viewer's browser tests.
from test_viewer_browser import CHROMIUM, CHROMIUM_ARGS, _fail_or_skip  # noqa: E402


@pytest.fixture(scope="module")
def viewer(sample_root):
    return rsna.show_study(sample_root, _study(sample_root))


def test_show_study_has_one_pane_per_stack(sample_root, viewer):
    html = viewer.to_html()
    study = _study(sample_root)
    assert [(p.description, p.stack) for p in viewer.panes][:2] == [
        ("Sagittal T1", 0),
        ("Sagittal T2/STIR", 0),
    ]
    axial = [p for p in viewer.panes if p.description == "Axial T2"]
    assert len(axial) >= 2
    assert html.count('data-eh-viewer=""') == len(viewer.panes)
    assert f'data-eh-study="{study}"' in html
    for p in axial:
        assert (
            f'data-series-id="{p.series_id}" data-description="Axial T2" data-stack="{p.stack}"'
            in html
        )
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # no network
    assert "https://" not in html
    assert len(html) <= 6 * 2**20
    assert repr(viewer).startswith(f"StudyViewer(study {study}: Sagittal T1, Sagittal T2/STIR")


def test_show_study_checks_its_arguments(sample_root):
    with pytest.raises(ValueError, match=r"width: expected an integer >= 64, got 10"):
        rsna.show_study(sample_root, _study(sample_root), width=10)
    with pytest.raises(ValueError, match=r"study_id: expected a study of the train series"):
        rsna.show_study(sample_root, 1)


def test_save_html_writes_the_study_page(viewer, tmp_path):
    from eda_helpers import save_html

    out = save_html(viewer, tmp_path / "study.html")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and f"<title>study {viewer.study_id}</title>" in text
    assert viewer.to_html() in text


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _fail_or_skip(f"{CHROMIUM} not found: apt-get install chromium")
    try:
        from playwright import sync_api
    except ImportError:
        _fail_or_skip("the playwright Python package is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def study_page(browser, viewer, tmp_path):
    from eda_helpers import save_html

    out = save_html(viewer, tmp_path / "study.html")
    page = browser.new_page(viewport={"width": 1800, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    page.locator(".eh-study-view[data-eh-linked]").wait_for(timeout=10_000)
    yield page
    page.screenshot(path=str(tmp_path / "end.png"))
    page.close()
    assert not errors


def _pane(page, viewer, description, stack=0):
    k = next(
        i for i, p in enumerate(viewer.panes) if p.description == description and p.stack == stack
    )
    return k, page.locator("[data-eh-viewer]").nth(k)


def _screenshot(locator) -> np.ndarray:
    from PIL import Image

    with Image.open(__import__("io").BytesIO(locator.screenshot())) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int32)


def _line_row(shot: np.ndarray, colour: str, x_css: float) -> float:
    """Mean row (CSS pixels) of the pixels of ``colour`` near column ``x_css``.

    A pixel is of the colour when its departure from grey points the colour's way and
    is mostly of it (the grey image and the yellow labels are not)."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    tint = rgb - rgb.mean()
    band = shot[:, max(0, int(x_css) - 2) : int(x_css) + 3].astype(float)
    dev = band - band.mean(axis=2, keepdims=True)
    share = dev @ tint / (tint @ tint)
    rest = np.linalg.norm(dev - share[..., None] * tint, axis=2)
    near = (share > 0.4) & (rest < 0.35 * np.linalg.norm(tint) + 8)
    rows = np.nonzero(near.any(axis=1))[0]
    assert rows.size, f"no pixel of {colour} near column {x_css:.0f}"
    return float(np.median(rows))


def _plane_row(sagittal: dict, axial: dict, x: float) -> float:
    """Row of column ``x`` of a sagittal slice where the axial slice's plane cuts it,
    from the two files' tags."""
    n = np.cross(axial["row"], axial["col"])
    base = sagittal["ipp"] + x * sagittal["spacing"][1] * sagittal["row"] - axial["ipp"]
    along = sagittal["spacing"][0] * sagittal["col"]
    return float(-(base @ n) / (along @ n))


@pytest.mark.browser
def test_a_key_on_an_axial_pane_moves_its_line_on_the_sagittal_panes(study_page, viewer):
    page = study_page
    ka, axial = _pane(page, viewer, "Axial T2", 0)
    ks, sagittal = _pane(page, viewer, "Sagittal T2/STIR")
    a_vol, s_vol = viewer.panes[ka].volume, viewer.panes[ks].volume
    colour = viewer.panes[ka].colour
    stage = sagittal.locator(".eh-stage")
    box = stage.bounding_box()
    rows, cols = s_vol.shape[1:]
    s_tags = _tags(Path(s_vol.files[int(sagittal.get_attribute("data-index"))]))
    x = cols * 0.45  # a column the axial slices cross (they span the spine)

    rows_seen = []
    axial.locator(".eh-stage").focus()
    for _ in range(3):
        i = int(axial.get_attribute("data-index"))
        expected = _plane_row(s_tags, _tags(Path(a_vol.files[i])), x)
        shot = _screenshot(stage)
        seen = _line_row(shot, colour, (x + 0.5) / cols * box["width"])
        assert seen == pytest.approx((expected + 0.5) / rows * box["height"], abs=2.5)
        rows_seen.append(seen)
        page.keyboard.press("ArrowDown")
        page.wait_for_function(
            f"() => document.querySelectorAll('[data-eh-viewer]')[{ka}]"
            f".getAttribute('data-index') === '{i + 1}'"
        )
    assert len(set(np.round(rows_seen))) == 3  # the line moved with every key

    # All panes follow within one frame: the work of a key, measured in the page.
    ms = page.evaluate(
        f"""() => {{
        const stage = document.querySelectorAll('[data-eh-viewer]')[{ka}]
            .querySelector('.eh-stage');
        const out = [];
        for (const key of ['ArrowDown', 'ArrowUp', 'ArrowDown', 'ArrowUp', 'ArrowDown']) {{
            const t0 = performance.now();
            stage.dispatchEvent(new KeyboardEvent('keydown', {{key, bubbles: true}}));
            out.push(performance.now() - t0);
        }}
        return out;
    }}"""
    )
    print(f"\nkey -> every pane redrawn: {[round(m, 2) for m in ms]} ms")
    assert np.median(ms) <= 16


def _frame_index(shot: np.ndarray, volume, window) -> int:
    """Which slice of ``volume`` a screenshot of its pane shows, from the pixels."""
    from PIL import Image

    from eda_helpers.intensity import grey_levels

    h, w = shot.shape[:2]
    grey = shot.mean(axis=2)
    scores = []
    for k in range(len(volume)):
        frame = grey_levels(volume.pixels[k], *window)
        small = np.asarray(Image.fromarray(frame).resize((w, h), Image.BILINEAR), dtype=float)
        scores.append(np.median(np.abs(small - grey)))
    return int(np.argmin(scores))


@pytest.mark.browser
def test_a_click_on_a_sagittal_label_moves_the_axial_pane_of_that_level(
    study_page, viewer, sample_root
):
    page = study_page
    ks, sagittal = _pane(page, viewer, "Sagittal T2/STIR")
    s_vol = viewer.panes[ks].volume
    label = viewer.labels.query(
        "condition == 'Spinal Canal Stenosis' and level == 'L4/L5' "
        "and target_series_id == series_id"
    ).iloc[0]
    index = s_vol.instance_numbers.index(int(label["instance_number"]))
    stage = sagittal.locator(".eh-stage")
    stage.focus()
    page.keyboard.press("Home")
    for _ in range(index):
        page.keyboard.press("ArrowRight")
    assert sagittal.get_attribute("data-index") == str(index)

    rows, cols = s_vol.shape[1:]
    box = stage.bounding_box()
    cx = round(box["x"] + (label["x"] + 0.5) / cols * box["width"])
    cy = round(box["y"] + (label["y"] + 0.5) / rows * box["height"])
    t0 = page.evaluate("performance.now()")
    page.mouse.click(cx, cy)
    # What the page received: the clicked pixel (the front-end's own mapping).
    x = (cx - box["x"]) / box["width"] * cols - 0.5
    y = (cy - box["y"]) / box["height"] * rows - 0.5
    src = _tags(Path(s_vol.files[index]))
    point = src["ipp"] + x * src["spacing"][1] * src["row"] + y * src["spacing"][0] * src["col"]

    covering = []
    for k, p in enumerate(viewer.panes):
        if p.description != "Axial T2":
            continue
        tags = [_tags(Path(f)) for f in p.volume.files]
        normal = np.cross(tags[0]["row"], tags[0]["col"])
        dist = np.array([(point - t["ipp"]) @ normal for t in tags])
        nearest = int(np.argmin(np.abs(dist)))
        offsets = np.array([t["ipp"] @ normal for t in tags])
        half = abs(offsets[-1] - offsets[0]) / (len(tags) - 1) / 2
        pane = page.locator("[data-eh-viewer]").nth(k)
        pane_index = pane.get_attribute("data-index")
        assert pane_index == str(nearest), f"axial stack {p.stack}"
        if abs(dist[nearest]) <= half:
            covering.append((k, nearest))
    assert len(covering) == 1  # one axial stack covers the L4/L5 disc
    k, nearest = covering[0]
    pane = page.locator("[data-eh-viewer]").nth(k)
    from eda_helpers.intensity import resolve_window

    vol = viewer.panes[k].volume
    shot = _screenshot(pane.locator("canvas"))
    assert _frame_index(shot, vol, resolve_window(vol, "percentile")) == nearest
    assert page.evaluate(f"performance.now() - {t0}") < 10_000

    # Every pane follows a click within one frame: the work of a click, in the page.
    ms = page.evaluate(
        f"""() => {{
        const stage = document.querySelectorAll('[data-eh-viewer]')[{ks}]
            .querySelector('.eh-stage');
        const out = [];
        for (let r = 0; r < 5; r++) {{
            const t0 = performance.now();
            stage.dispatchEvent(new MouseEvent('click',
                {{clientX: {cx} + (r % 2) * 20, clientY: {cy}, bubbles: true}}));
            out.push(performance.now() - t0);
        }}
        return out;
    }}"""
    )
    print(f"\nclick -> axial stack {viewer.panes[k].stack} at slice {nearest}; every pane "
          f"redrawn in {[round(m, 2) for m in ms]} ms")  # fmt: skip
    assert np.median(ms) <= 16


@pytest.mark.browser
def test_the_notebooks_saved_html_links_from_file(browser, tmp_path):
    """nbconvert's HTML of the executed notebook 03, opened from file:// (no kernel)."""
    import subprocess
    import sys

    notebook = Path(__file__).parents[1] / "notebooks" / "03_study.ipynb"
    cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir",
           str(tmp_path), str(notebook)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        # The template's CDN scripts cannot load here; the study view needs none of them.
        page.goto((tmp_path / "03_study.html").as_uri(), wait_until="domcontentloaded")
        view = page.locator(".eh-study-view[data-eh-linked]")
        view.wait_for(timeout=10_000)
        panes = view.locator("[data-eh-viewer]")
        kinds = [panes.nth(i).get_attribute("data-description") for i in range(panes.count())]
        ka = kinds.index("Axial T2")
        ks = kinds.index("Sagittal T2/STIR")
        colour = panes.nth(ka).get_attribute("data-colour")
        stage = panes.nth(ks).locator(".eh-stage")
        stage.scroll_into_view_if_needed()
        box = stage.bounding_box()
        x_css = box["width"] * 0.45

        seen = []
        panes.nth(ka).locator(".eh-stage").focus()
        for _ in range(2):
            seen.append(_line_row(_screenshot(stage), colour, x_css))
            before = panes.nth(ka).get_attribute("data-index")
            page.keyboard.press("ArrowDown")
            page.wait_for_function(
                f"() => document.querySelectorAll('.eh-study-view [data-eh-viewer]')[{ka}]"
                f".getAttribute('data-index') !== '{before}'"
            )
        assert seen[0] != pytest.approx(seen[1], abs=1.0)  # the line moved on the sagittal
    finally:
        page.close()


# --------------------------------------------------------------------------- live, in Jupyter


def _jupyter(app: str, tmp: Path, cells: list[str]):
    """A JupyterLab or Notebook 7 server (the helpers of test_viewer_browser); yields the
    URL of a notebook holding ``cells``."""
    import os
    import secrets
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from test_viewer_browser import _free_port, _isolated_env, _write_notebook

    root = tmp / "root"
    root.mkdir()
    _write_notebook(root / "study.ipynb", cells)
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", {"lab": "jupyterlab", "notebook": "notebook"}[app],
           "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}"]  # fmt: skip
    if app == "lab":
        cmd += ["--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                f"--LabApp.user_settings_dir={tmp / 'settings'}",
                f"--LabApp.workspaces_dir={tmp / 'workspaces'}"]  # fmt: skip
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(tmp / "server.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=_isolated_env(tmp), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "server.log").read_text()
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2
                ):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the Jupyter server did not start"
                time.sleep(0.25)
        path = "lab/tree" if app == "lab" else "notebooks"
        yield f"http://127.0.0.1:{port}/{path}/study.ipynb?token={token}"
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=10)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue


@pytest.mark.browser
@pytest.mark.parametrize("app", ["lab", "notebook"], ids=["jupyterlab4", "notebook7"])
def test_live_in_jupyter_a_key_moves_the_line(browser, sample_root, tmp_path, app):
    cells = [
        "from eda_helpers import rsna\n"
        f"root = {str(sample_root)!r}\n"
        "study = int(rsna.read_descriptions(root)['study_id'].iloc[0])",
        "rsna.show_study(root, study)",
    ]
    for url in _jupyter(app, tmp_path, cells):
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        try:
            page.goto(url, timeout=60_000)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
            page.wait_for_function(
                """() => {
                    const k = document.querySelector('.jp-Toolbar-kernelName, .jp-KernelName');
                    return k && k.innerText.trim() && !k.innerText.includes('No Kernel');
                }""",
                timeout=60_000,
            )
            page.wait_for_timeout(500)
            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
            view = page.locator(".eh-study-view[data-eh-linked]")
            view.wait_for(timeout=120_000)
            panes = view.locator("[data-eh-viewer]")
            kinds = [panes.nth(i).get_attribute("data-description") for i in range(panes.count())]
            ka, ks = kinds.index("Axial T2"), kinds.index("Sagittal T2/STIR")
            colour = panes.nth(ka).get_attribute("data-colour")
            stage = panes.nth(ks).locator(".eh-stage")
            stage.scroll_into_view_if_needed()
            x_css = stage.bounding_box()["width"] * 0.45
            # A click focuses the pane (as a user would before using the keys); it also
            # moves the other panes to the clicked point, before the first measure.
            panes.nth(ka).locator(".eh-stage").click()
            page.wait_for_timeout(200)
            slider = panes.nth(ka).locator(".eh-slider")
            seen = []
            for step in range(2):
                seen.append(_line_row(_screenshot(stage), colour, x_css))
                before = panes.nth(ka).get_attribute("data-index")
                if app == "lab":
                    page.keyboard.press("ArrowDown")
                else:
                    # Notebook 7's command mode takes the arrow keys from the image (as
                    # from the SliceViewer's image): move the pane's slider with the mouse.
                    track = slider.bounding_box()
                    page.mouse.click(
                        track["x"] + track["width"] * (0.1 + 0.8 * step),
                        track["y"] + track["height"] / 2,
                    )
                page.wait_for_function(
                    f"() => document.querySelectorAll('.eh-study-view [data-eh-viewer]')[{ka}]"
                    f".getAttribute('data-index') !== '{before}'"
                )
            assert seen[0] != pytest.approx(seen[1], abs=1.0)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(f"\nscreenshot at failure: {tmp_path / 'failure.png'}")
            raise
        finally:
            page.close()


def test_show_study_without_readable_series_says_so(sample_root, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(sample_root, root, ignore=shutil.ignore_patterns("*.dcm"))
    with pytest.warns(UserWarning) as record:
        with pytest.raises(
            ValueError, match=r"study_id: no series of study \d+ under .* could .*holds no files"
        ):
            rsna.show_study(root, _study(root))
    assert "has no stack with geometry" in str(record[0].message)
