"""What plot_grid and plot_histogram draw: panels, labels, scale, points, histogram options."""

from __future__ import annotations

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.image import AxesImage

from eda_helpers import Point, Volume, plot_grid, plot_histogram
from eda_helpers.intensity import grey_levels, resolve_window
from eda_helpers.labels import INK, marker_radius
from eda_helpers.plotting import grid_shape
from eda_helpers.viewer import SliceViewer

SIZE = 16  # slice side in the tests: gap = 1 pixel, panel pitch = 17


def make_volume(pixels: torch.Tensor, *, first_instance: int = 1, **kwargs) -> Volume:
    n = pixels.shape[0]
    return Volume.from_array(
        pixels,
        affine=np.diag([4.0, 1.0, 1.0, 1.0]),
        instance_numbers=tuple(range(first_instance, first_instance + n)),
        files=tuple(f"f{i}" for i in range(n)),
        **kwargs,
    )


def ramp_stack(n: int, size: int = SIZE) -> torch.Tensor:
    """Slice i holds values 0..size*size-1 plus 1000 * i: every slice tells itself apart."""
    base = torch.arange(size * size, dtype=torch.float32).reshape(size, size)
    return torch.stack([base + 1000 * i for i in range(n)])


def labels_of(fig) -> list[str]:
    (ax,) = fig.axes
    return [t.get_text() for t in ax.texts if t.get_gid() == "panel-label"]


def shown_slices(fig) -> list[int]:
    return [int(text.split(" ")[0]) for text in labels_of(fig)]


def the_image(fig) -> np.ndarray:
    (ax,) = fig.axes
    (image,) = ax.images
    assert isinstance(image, AxesImage)
    return np.asarray(image.get_array())


def panel(mosaic: np.ndarray, j: int, ncols: int, size: int = SIZE, gap: int = 1) -> np.ndarray:
    r, c = divmod(j, ncols)
    y, x = r * (size + gap), c * (size + gap)
    return mosaic[y : y + size, x : x + size]


# --------------------------------------------------------------------- grid_shape


@pytest.mark.parametrize(
    ("n", "aspect", "shape"),
    [(1, 1.0, (1, 1)), (2, 1.0, (1, 2)), (7, 1.0, (3, 3)), (25, 1.0, (5, 5)), (12, 1.0, (3, 4))],
)
def test_grid_shape_near_square(n, aspect, shape):
    assert grid_shape(n, aspect=aspect) == shape


def test_grid_shape_accounts_for_the_panel_aspect():
    # Wide panels stack in a column, tall ones in a row.
    assert grid_shape(4, aspect=0.25) == (4, 1)
    assert grid_shape(4, aspect=4.0) == (1, 4)


def test_grid_shape_errors():
    with pytest.raises(ValueError, match=r"n: expected an integer >= 1, got 0"):
        grid_shape(0)
    with pytest.raises(ValueError, match=r"aspect: expected a finite number > 0, got -1"):
        grid_shape(3, aspect=-1.0)


# ---------------------------------------------------------------------- plot_grid


@pytest.mark.parametrize(
    ("n", "grid", "shown"),
    [
        (1, (1, 1), [0]),
        (7, (3, 3), list(range(7))),
        (25, (5, 5), list(range(25))),
        (100, (5, 5), None),  # sampled, checked below
    ],
)
def test_plot_grid_panels_and_labels(n, grid, shown):
    fig = plot_grid(make_volume(ramp_stack(n)))
    (ax,) = fig.axes
    assert len(ax.images) == 1  # one montage image, not one Axes per slice
    rows, cols = grid
    mosaic = the_image(fig)
    assert mosaic.shape == (rows * SIZE + rows - 1, cols * SIZE + cols - 1, 4)
    indices = shown_slices(fig)
    assert len(indices) == min(n, 25)
    assert indices[0] == 0 and indices[-1] == n - 1
    if shown is not None:
        assert indices == shown
    else:
        steps = np.diff(indices)
        assert set(steps) <= {4, 5}  # evenly spread: 99 / 24 = 4.125
    # Each label names the slice index and its instance number (instances start at 1).
    assert all(text == f"{i} · #{i + 1}" for i, text in zip(indices, labels_of(fig), strict=True))
    assert not ax.axison


def test_plot_grid_blank_cells_are_background():
    fig = plot_grid(ramp_stack(7), scale="per_slice")
    mosaic = the_image(fig)
    back = np.round(np.asarray(mcolors.to_rgba(fig.get_facecolor())) * 255)
    for j in (7, 8):  # the two cells after the last panel of a 3x3 grid
        assert (panel(mosaic, j, ncols=3) == back).all()
    assert (mosaic[SIZE, :] == back).all()  # the gap below the first row
    assert (panel(mosaic, 6, ncols=3) != back).any()


def test_plot_grid_tensor_and_array_labels_have_no_instance():
    fig = plot_grid(ramp_stack(3).numpy())
    assert labels_of(fig) == ["0", "1", "2"]
    assert fig.axes[0].get_title() == ""


def test_plot_grid_shared_scale_keeps_relative_intensity():
    x = torch.zeros(2, SIZE, SIZE)
    x[0, :, SIZE // 2 :] = 100.0
    x[1, :, SIZE // 2 :] = 50.0
    shared = the_image(plot_grid(x, window="minmax"))[..., 0].astype(int)
    assert panel(shared, 0, ncols=2).max() == 255
    assert panel(shared, 1, ncols=2).max() == 128  # 50 / 100 * 255 = 127.5 -> 128
    per_slice = the_image(plot_grid(x, window="minmax", scale="per_slice"))[..., 0]
    assert panel(per_slice, 0, ncols=2).max() == panel(per_slice, 1, ncols=2).max() == 255


def test_plot_grid_shared_range_comes_from_the_whole_volume():
    x = ramp_stack(10)
    fig = plot_grid(x, slices=[0], window="minmax")
    # Slice 0 is the darkest tenth of the volume's range: its panel stays dark.
    assert panel(the_image(fig), 0, ncols=1)[..., 0].max() < 30


def test_plot_grid_window_and_percentile_options():
    v = make_volume(ramp_stack(2), dicom_window=(127.5, 255.0))  # 0..255 -> 0..255
    windowed = the_image(plot_grid(v, window="dicom"))
    first = panel(windowed, 0, ncols=2)[..., 0]
    assert first[0, 0] == 0 and first[0, 1] == 1 and first[-1, -1] == 255
    assert (panel(windowed, 1, ncols=2)[..., 0] == 255).all()  # 1000.. is above the window
    custom = the_image(plot_grid(v, window=(995, 1005)))
    assert panel(custom, 0, ncols=2)[..., 0].max() == 0


def test_plot_grid_explicit_slices_in_order():
    fig = plot_grid(make_volume(ramp_stack(10)), slices=[7, 2, 9])
    assert shown_slices(fig) == [7, 2, 9]


def test_plot_grid_points_only_on_their_panels():
    v = make_volume(ramp_stack(30), first_instance=11)  # instances 11..40
    points = [
        Point(11, 3.0, 4.0, "L1/L2"),  # slice 0: shown, panel 0
        Point(40, 5.0, 6.0, "L5/S1"),  # slice 29: shown, last panel
        Point(12, 1.0, 1.0, "hidden"),  # slice 1: not among the 4 shown
        Point(99, 1.0, 1.0, "elsewhere"),  # not in this volume
        Point(40, 8.0, 2.0),  # no text: marker only
    ]
    fig = plot_grid(v, max_panels=4, points=points)
    (ax,) = fig.axes
    assert shown_slices(fig) == [0, 10, 19, 29]  # a 2x2 grid
    pitch = SIZE + 1
    (scatter,) = ax.collections
    np.testing.assert_allclose(
        scatter.get_offsets(), [[3.0, 4.0], [pitch + 5.0, pitch + 6.0], [pitch + 8.0, pitch + 2.0]]
    )
    notes = {t.get_text(): t.get_position() for t in ax.texts if t.get_gid() == "point-label"}
    assert sorted(notes) == ["L1/L2", "L5/S1"]
    gap = marker_radius(SIZE, SIZE) + 2
    # Beside its marker, on the outer side of the panel (both are in its left half).
    assert notes["L1/L2"] == pytest.approx((3.0 - gap, 4.0))
    assert notes["L5/S1"] == pytest.approx((pitch + 5.0 - gap, pitch + 6.0))


def test_plot_grid_point_texts_spread_away_from_the_panel_centre():
    # The left and right points of one disc sit close together on an axial slice: their
    # texts go outwards, so they do not overlap.
    v = make_volume(ramp_stack(2))
    centre = (SIZE - 1) / 2
    points = [Point(1, centre - 1, 4.0, "R L4/L5"), Point(1, centre + 1, 4.0, "L L4/L5")]
    fig = plot_grid(v, points=points)
    texts = {t.get_text(): t for t in fig.axes[0].texts if t.get_gid() == "point-label"}
    assert texts["R L4/L5"].get_ha() == "right"
    assert texts["L L4/L5"].get_ha() == "left"
    assert texts["R L4/L5"].get_position()[0] < centre - 1
    assert texts["L L4/L5"].get_position()[0] > centre + 1
    assert texts["R L4/L5"].get_color() == texts["L L4/L5"].get_color() == INK


def test_plot_grid_point_texts_on_one_side_are_kept_apart():
    v = make_volume(ramp_stack(2))
    points = [Point(1, 3.0, 8.0, "a"), Point(1, 4.0, 8.5, "b")]
    fig = plot_grid(v, points=points)
    ys = sorted(t.get_position()[1] for t in fig.axes[0].texts if t.get_gid() == "point-label")
    assert ys[1] - ys[0] > 1.0


def test_plot_grid_point_outside_its_slice_warns():
    v = make_volume(ramp_stack(2))
    with pytest.warns(UserWarning, match=r"points: Point\(.*\) lies outside its slice"):
        fig = plot_grid(v, points=[Point(1, SIZE + 3.0, 2.0)])
    assert not fig.axes[0].collections


def test_plot_grid_into_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    out = plot_grid(make_volume(ramp_stack(4), description="Sagittal T1"), ax=right)
    assert out is fig
    assert len(right.images) == 1 and not left.images
    assert right.get_title() == "Sagittal T1"


def test_plot_grid_title_and_figsize():
    fig = plot_grid(make_volume(ramp_stack(4), description="Axial T2"))
    assert fig.axes[0].get_title() == "Axial T2"
    w, h = fig.get_size_inches()
    assert 2 < w <= 10 and 2 < h <= 10.5
    assert plot_grid(ramp_stack(4), title="mine").axes[0].get_title() == "mine"
    assert tuple(plot_grid(ramp_stack(1), figsize=(3, 2)).get_size_inches()) == (3, 2)


def test_plot_grid_downsamples_large_slices_to_the_screen():
    x = torch.rand(25, 512, 512)
    fig = plot_grid(x, figsize=(5, 5))
    mosaic = the_image(fig)
    assert mosaic.shape[0] < 2612 // 2  # 5 panels of 512 + gaps, shown on 500 pixels
    left, right, bottom, top = fig.axes[0].images[0].get_extent()
    assert left == top == -0.5 and right == bottom  # montage coordinates kept
    assert right > 5 * 512
    full = the_image(plot_grid(x, figsize=(5, 5), downsample=False))
    assert full.shape == (5 * 512 + 4 * 10, 5 * 512 + 4 * 10, 4)


def test_plot_grid_nan_and_constant_slices():
    x = torch.zeros(2, SIZE, SIZE)
    x[1, 0, 0] = float("nan")
    mosaic = the_image(plot_grid(x))  # filterwarnings=error: no warning allowed
    # A constant volume is shown mid-grey (its window is widened around the value).
    assert (panel(mosaic, 0, ncols=2)[..., :3] == 128).all()
    assert panel(mosaic, 1, ncols=2)[0, 0, 0] == 0  # NaN is black


def test_plot_grid_input_unchanged():
    x = ramp_stack(3)
    before = x.clone()
    plot_grid(x, scale="per_slice")
    assert torch.equal(x, before)


def test_plot_grid_errors():
    v = make_volume(ramp_stack(5))
    with pytest.raises(ValueError, match=r"volume: expected a 3-D .* got shape \(16, 16\)"):
        plot_grid(torch.zeros(SIZE, SIZE))
    with pytest.raises(ValueError, match=r"volume: expected a 2-D .* got 4-D"):
        plot_grid(torch.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"volume: expected at least one pixel"):
        plot_grid(torch.zeros(0, 4, 4))
    with pytest.raises(ValueError, match=r"max_panels: expected an integer >= 1, got 0"):
        plot_grid(v, max_panels=0)
    with pytest.raises(TypeError, match=r"max_panels: expected an integer >= 1, got 2.5"):
        plot_grid(v, max_panels=2.5)
    with pytest.raises(ValueError, match=r"slices: index 5 is out of range .* use indices 0..4"):
        plot_grid(v, slices=[0, 5])
    with pytest.raises(ValueError, match=r"slices: index -1 is out of range"):
        plot_grid(v, slices=[-1])
    with pytest.raises(TypeError, match=r"slices: expected integer slice indices, got 1.0"):
        plot_grid(v, slices=[1.0])
    with pytest.raises(ValueError, match=r"slices: expected at least one slice index"):
        plot_grid(v, slices=[])
    with pytest.raises(ValueError, match=r"slices: 3 slices given but max_panels=2"):
        plot_grid(v, slices=[0, 1, 2], max_panels=2)
    with pytest.raises(ValueError, match=r"scale: expected 'shared' or 'per_slice', got 'own'"):
        plot_grid(v, scale="own")
    with pytest.raises(TypeError, match=r"points: placing points needs the instance numbers"):
        plot_grid(v.pixels, points=[Point(1, 0, 0)])
    with pytest.raises(ValueError, match=r"window: expected one of 'percentile', 'minmax'"):
        plot_grid(v, window="auto")
    with pytest.raises(TypeError, match=r"window: expected two numbers"):
        plot_grid(v, window=("a", 1))
    with pytest.raises(ValueError, match=r"window: expected data with a DICOM WindowCenter"):
        plot_grid(v, window="dicom")


# ----------------------------------------------------------------- plot_histogram


def test_plot_histogram_bins_and_stairs():
    x = torch.arange(100.0)
    ax = plot_histogram(x, bins=10, window=None)
    (stairs,) = ax.patches
    values, edges, _ = stairs.get_data()
    assert len(values) == 10 and values.tolist() == [10] * 10
    np.testing.assert_allclose(edges, np.linspace(0, 99, 11))
    assert not ax.lines and ax.get_legend() is None


def test_plot_histogram_background_exclusion_changes_counts():
    x = torch.zeros(4, 10, 10)
    x[:, :5] = torch.arange(1.0, 51.0).reshape(5, 10)
    total = plot_histogram(x, bins=5, percentiles=()).patches[0].get_data()[0].sum()
    kept = plot_histogram(x, bins=5, exclude_background=True, percentiles=())
    assert total == 400 and kept.patches[0].get_data()[0].sum() == 200
    assert "background excluded" in kept.get_ylabel()
    above = plot_histogram(x, bins=5, exclude_background=True, threshold=25, percentiles=())
    assert above.patches[0].get_data()[0].sum() == 100


def test_plot_histogram_log_scale():
    x = torch.arange(50.0)
    assert plot_histogram(x).get_yscale() == "linear"
    assert plot_histogram(x, log=True).get_yscale() == "log"


def test_plot_histogram_percentile_lines(rng):
    a = rng.normal(500, 100, 2000).astype(np.float32)
    a[:10] = 1e5  # bright outliers
    ax = plot_histogram(a, window=None, percentiles=(1, 50, 99))
    xs = [line.get_xdata()[0] for line in ax.lines]
    np.testing.assert_allclose(xs, np.percentile(a.astype(np.float64), [1, 50, 99]))
    labels = ax.get_legend_handles_labels()[1]
    assert [label.split(" = ")[0] for label in labels] == ["p1", "p50", "p99"]
    assert ax.get_legend() is not None


def test_plot_histogram_percentiles_include_background():
    # The lines show where normalize would clip: over all values, zeros included.
    x = torch.zeros(100)
    x[50:] = torch.arange(1.0, 51.0)
    ax = plot_histogram(x, exclude_background=True, window=None, percentiles=(25,))
    assert ax.lines[0].get_xdata()[0] == 0.0


def test_plot_histogram_into_axes_and_title():
    _, ax = plt.subplots()
    out = plot_histogram(make_volume(ramp_stack(2), description="Sagittal T2/STIR"), ax=ax)
    assert out is ax and ax.get_title() == "Sagittal T2/STIR"


def test_plot_histogram_errors():
    x = torch.arange(10.0)
    with pytest.raises(
        ValueError, match=r"percentiles: expected a number between 0.0 and 100.0, got 150.0"
    ):
        plot_histogram(x, percentiles=(50, 150))
    with pytest.raises(ValueError, match=r"threshold: only used with exclude_background=True"):
        plot_histogram(x, threshold=2)
    with pytest.raises(ValueError, match=r"bins: expected an integer between 1 and 65536, got -3"):
        plot_histogram(x, bins=-3)


# ------------------------------------------------- one display contract for every picture


@pytest.mark.parametrize(
    "window", ["percentile", "minmax", "dicom", (100.0, 2500.0)], ids=lambda w: str(w)
)
@pytest.mark.parametrize("dtype", [torch.int16, torch.float32])
def test_grid_and_viewer_show_identical_grey_levels(rng, window, dtype):
    pixels = torch.from_numpy(rng.normal(1200, 600, (5, SIZE, SIZE))).to(dtype)
    v = make_volume(pixels, dicom_window=(1000.0, 1600.0))
    grid = the_image(plot_grid(v, window=window, downsample=False, labels=False))
    viewer = SliceViewer(v, window=window, saved=None)
    try:
        assert viewer.window == resolve_window(v, window)
        for j in range(5):
            np.testing.assert_array_equal(panel(grid, j, ncols=3)[..., 0], viewer.frame(j))
            np.testing.assert_array_equal(viewer.frame(j), grey_levels(pixels[j], *viewer.window))
    finally:
        viewer.close()


def test_histogram_window_markers_are_the_cuts_of_the_grid(rng):
    v = make_volume(torch.from_numpy(rng.normal(500, 100, (3, SIZE, SIZE))).float())
    for window in ("percentile", "minmax", (400.0, 650.0)):
        ax = plot_histogram(v, window=window)
        lo, hi = resolve_window(v, window)
        assert [line.get_gid() for line in ax.lines] == ["window-black", "window-white"]
        assert [line.get_xdata()[0] for line in ax.lines] == [lo, hi]
    assert ax.get_legend_handles_labels()[1] == ["black = 400", "white = 650"]
    assert not plot_histogram(v, window=None).lines


def test_cross_reference_slice_uses_the_volume_window(rng):
    from eda_helpers import plot_cross_reference
    from eda_helpers.geometry import voxel_affine

    n = 3
    pos = np.array([[4.0 * k, -8.0, 8.0] for k in range(n)])
    iop = [0, 1, 0, 0, 0, -1]
    pixels = torch.from_numpy(rng.normal(500, 100, (n, SIZE, SIZE))).float()
    sag = Volume(
        pixels, (1, 2, 3), pos, np.array(iop, float), ("a",) * n, (4.0, 1.0, 1.0),
        voxel_affine(pos[0], iop, (1, 1), (4, 0, 0)),
    )  # fmt: skip
    ax_pos = np.array([[-8.0, -8.0, 4.0 * k - 4.0] for k in range(n)])
    axial = Volume(
        pixels, (1, 2, 3), ax_pos, np.array([1.0, 0, 0, 0, 1, 0]), ("b",) * n, (4.0, 1.0, 1.0),
        voxel_affine(ax_pos[0], [1, 0, 0, 0, 1, 0], (1, 1), (0, 0, 4)),
    )  # fmt: skip
    ax = plot_cross_reference(sag, axial, index=1, window="minmax")
    np.testing.assert_array_equal(
        ax.images[0].get_array(), grey_levels(pixels[1], *resolve_window(sag, "minmax"))
    )


def test_real_ct_series_looks_the_same_in_the_grid_and_the_viewer_with_its_dicom_window(
    dicomdir_tests,
):
    # Real files (pydicom's test data), their own WindowCenter/WindowWidth.
    from eda_helpers import read_series

    vol = read_series(dicomdir_tests / "98892001" / "CT5N")
    center, width = vol.dicom_window
    assert resolve_window(vol, "dicom") == (center - width / 2, center + width / 2)
    n, rows, cols = vol.shape
    grid = the_image(plot_grid(vol, window="dicom", downsample=False, labels=False))
    viewer = SliceViewer(vol, window="dicom", saved=None)
    try:
        ncols = grid_shape(n, aspect=vol.spacing[1] / vol.spacing[2] * rows / cols)[1]
        gap = max(1, round(0.02 * max(rows, cols)))
        for j in range(n):
            r, c = divmod(j, ncols)
            y, x = r * (rows + gap), c * (cols + gap)
            shown = grid[y : y + rows, x : x + cols, 0]
            np.testing.assert_array_equal(shown, viewer.frame(j))
        assert viewer.frame(n // 2).std() > 10  # an image, not a blank
    finally:
        viewer.close()


def test_plot_arguments_of_the_wrong_kind_are_named():
    v = make_volume(torch.zeros(2, 4, 4))
    with pytest.raises(TypeError, match=r"points: expected Point objects, item 0 is int 1"):
        plot_grid(v, points=[1, 2])
    with pytest.raises(TypeError, match=r"ax: expected a matplotlib Axes or None, got str 'x'"):
        plot_grid(v, ax="x")
    with pytest.raises(TypeError, match=r"ax: expected a matplotlib Axes or None, got str 'x'"):
        plot_histogram(v, ax="x")
    with pytest.raises(TypeError, match=r"percentiles: expected a number, got str 'p50'"):
        plot_histogram(v, percentiles=["p50"])
