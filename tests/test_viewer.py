"""SliceViewer and its pure render functions, without a browser.

Setting a widget's value outside a kernel still runs the Python observers (the comm
messages go nowhere), so everything the kernel does can be checked here; what the
browser does is checked in test_viewer_browser.py.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from IPython.core.formatters import DisplayFormatter
from PIL import Image

import eda_helpers as eh
from eda_helpers import Point, Volume
from eda_helpers.geometry import voxel_affine
from eda_helpers.labels import HALO_RGB, INK_RGB
from eda_helpers.viewer import SliceViewer, encode_png, render_slice

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def expected_grey(values, lo, hi) -> np.ndarray:
    """The documented mapping, worked out independently of the viewer's code paths."""
    v = np.asarray(values, dtype=np.float64)
    return np.nan_to_num(np.rint(np.clip((v - lo) / (hi - lo), 0, 1) * 255)).astype(np.uint8)


def decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG"
        return np.asarray(im)


def make_volume(
    pixels: torch.Tensor, *, dicom_window=None, description="Sagittal T2/STIR"
) -> Volume:
    n = pixels.shape[0]
    positions = np.column_stack([np.full(n, -12.5), np.full(n, 30.0), 4.0 * np.arange(n) - 8])
    return Volume(
        pixels=pixels,
        instance_numbers=tuple(range(11, 11 + n)),
        positions=positions,
        orientation=np.array([1.0, 0, 0, 0, 1, 0]),
        files=tuple(Path(f"/data/{i}.dcm") for i in range(n)),
        spacing=(4.0, 0.5, 0.5),
        affine=voxel_affine(positions[0], [1.0, 0, 0, 0, 1, 0], (0.5, 0.5), (0, 0, 4.0)),
        description=description,
        modality="MR",
        dicom_window=dicom_window,
    )


@pytest.fixture
def pixels(rng) -> torch.Tensor:
    """5 slices of 12-bit values, every slice different."""
    return torch.from_numpy(rng.integers(0, 4096, size=(5, 24, 32)).astype(np.int16))


@pytest.fixture
def viewer_factory():
    made = []

    def make(*args, **kwargs) -> SliceViewer:
        v = SliceViewer(*args, **kwargs)
        made.append(v)
        return v

    yield make
    for v in made:
        v.close()


# ------------------------------------------------------------------------- render_slice


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.int8, np.uint8, np.int32])
def test_render_slice_integer_dtypes_match_the_formula(rng, dtype):
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, size=(17, 19), endpoint=True).astype(dtype)
    lo, hi = float(info.min) / 3 + 1.5, float(info.max) / 2 + 0.25
    before = a.copy()
    out = render_slice(a, lo, hi)
    assert out.dtype == np.uint8 and out.shape == a.shape
    np.testing.assert_array_equal(out, expected_grey(a, lo, hi))
    np.testing.assert_array_equal(a, before)  # input untouched


def test_render_slice_float_and_tensor_inputs(rng):
    a = rng.normal(0, 1, size=(9, 11)).astype(np.float32)
    a[0, 0], a[0, 1], a[0, 2] = np.nan, np.inf, -np.inf
    out = render_slice(torch.from_numpy(a), -1.0, 2.0)
    np.testing.assert_array_equal(out, expected_grey(a, -1.0, 2.0))
    assert out[0, :3].tolist() == [0, 255, 0]
    half = torch.from_numpy(a[1:]).half()
    np.testing.assert_array_equal(render_slice(half, -1, 2), expected_grey(half.float(), -1, 2))


def test_render_slice_draws_points_near_them_only():
    grey = np.full((64, 64), 500, dtype=np.int16)
    out = render_slice(grey, 0, 1000, points=[Point(1, 20.0, 30.0)])
    assert out.shape == (64, 64, 3)
    changed = np.any(out != 128, axis=2)
    assert changed[27, 20] and changed[33, 20] and not changed[30, 20]  # a ring, centre free
    rows, cols = np.nonzero(changed)
    assert abs(rows - 30).max() <= 5 and abs(cols - 20).max() <= 5


def test_render_slice_text_is_drawn_beside_the_marker_on_the_outer_side():
    grey = np.zeros((64, 128), dtype=np.uint8)
    plain = render_slice(grey, 0, 255, points=[Point(1, 100.0, 32.0)])
    labelled = render_slice(grey, 0, 255, points=[Point(1, 100.0, 32.0, "L4/L5")])
    extra = np.any(plain != labelled, axis=2)
    assert extra[:, 104:].any() and not extra[:, :100].any()  # right half: text right
    left = render_slice(grey, 0, 255, points=[Point(1, 40.0, 32.0, "L4/L5")])
    ring = render_slice(grey, 0, 255, points=[Point(1, 40.0, 32.0)])
    extra = np.any(left != ring, axis=2)
    assert extra[:, :36].any() and not extra[:, 40:].any()  # left half: text left
    # Light text in a dark halo: both are there, whatever the tissue below.
    bright = render_slice(np.full((64, 128), 255, np.uint8), 0, 255, points=[Point(1, 40, 32, "L")])
    colours = {tuple(c) for c in bright.reshape(-1, 3)}
    assert INK_RGB in colours and HALO_RGB in colours


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (
            (np.zeros((2, 3, 4)), 0, 1),
            ValueError,
            r"pixels: expected one non-empty 2-D.*\(2, 3, 4\)",
        ),
        ((np.zeros((0, 4)), 0, 1), ValueError, r"pixels: expected one non-empty 2-D.*\(0, 4\)"),
        (
            ([[1, 2]], 0, 1),
            TypeError,
            r"pixels: expected a torch.Tensor or numpy.ndarray, got list",
        ),
        ((np.zeros((2, 2), complex), 0, 1), TypeError, r"pixels: expected real numbers.*complex"),
        (
            (np.zeros((2, 2)), 5, 5),
            ValueError,
            r"lo, hi: expected finite numbers with lo < hi.*5\.0",
        ),
        ((np.zeros((2, 2)), 0, np.nan), ValueError, r"lo, hi: expected finite.*nan"),
        ((np.zeros((2, 2)), "a", 1), TypeError, r"lo, hi: expected two numbers, got 'a'"),
    ],
)
def test_render_slice_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        render_slice(*args)


def test_render_slice_rejects_bad_points():
    with pytest.raises(TypeError, match=r"points: expected Point objects, item 1 is tuple"):
        render_slice(np.zeros((4, 4)), 0, 1, points=[Point(1, 1, 1), (1, 2, 3)])
    with pytest.raises(TypeError, match=r"points: expected an iterable of Point, got Point"):
        render_slice(np.zeros((4, 4)), 0, 1, points=Point(1, 1, 1))


@pytest.mark.parametrize(("x", "y"), [(float("nan"), 2.0), (1.0, float("inf")), ("a", 2.0)])
def test_render_slice_rejects_points_without_a_finite_position(x, y):
    # Pillow would fail deep inside with "cannot convert float NaN to integer".
    with pytest.raises(ValueError, match=r"points: expected finite pixel .* item 1 has x="):
        render_slice(np.zeros((8, 8)), 0, 1, points=[Point(1, 1, 1), Point(1, x, y, "L4/L5")])


def test_render_slice_points_on_the_last_pixel_and_beyond_are_drawn_clipped():
    rgb = render_slice(np.zeros((16, 16)), 0, 1, points=[Point(1, 15, 15), Point(1, 17, 0)])
    assert rgb.shape == (16, 16, 3)
    ink = np.all(rgb == INK_RGB, axis=-1)
    assert ink[12:16, 12:16].any()  # the ring of the corner point
    assert ink[0:3, 13:16].any()  # the ring of (17, 0), beyond the edge


def test_render_slice_big_endian_and_strided_input_match_the_formula(rng):
    a = rng.integers(-2000, 2000, size=(6, 8)).astype(">i2")
    want = expected_grey(a, -100, 900)
    np.testing.assert_array_equal(render_slice(a, -100, 900), want)
    np.testing.assert_array_equal(render_slice(a[::-1, ::2], -100, 900), want[::-1, ::2])
    t = torch.from_numpy(a.astype(np.int16)).t()
    np.testing.assert_array_equal(render_slice(t, -100, 900), want.T)


# ------------------------------------------------------------------------- encode_png


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (40, 33), (6, 9, 3)])
@pytest.mark.parametrize("level", [0, 1, 9])
def test_encode_png_round_trips(rng, shape, level):
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    before = image.copy()
    decoded = decode(encode_png(image, level=level))
    np.testing.assert_array_equal(decoded, image)
    np.testing.assert_array_equal(image, before)


def test_encode_png_handles_strided_views(rng):
    image = rng.integers(0, 256, size=(20, 30), dtype=np.uint8)
    np.testing.assert_array_equal(decode(encode_png(image[::2, ::3])), image[::2, ::3])
    np.testing.assert_array_equal(decode(encode_png(image.T)), image.T)


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "match"),
    [
        (np.zeros((4, 4)), {}, TypeError, r"image: expected a numpy array of uint8, got float64"),
        ([[0, 1]], {}, TypeError, r"image: expected a numpy array of uint8, got list"),
        (
            np.zeros((4, 4, 4), np.uint8),
            {},
            ValueError,
            r"image: expected a non-empty.*\(4, 4, 4\)",
        ),
        (np.zeros((0, 4), np.uint8), {}, ValueError, r"image: expected a non-empty.*\(0, 4\)"),
        (
            np.zeros((4, 4), np.uint8),
            {"level": 10},
            ValueError,
            r"level: expected an integer from 0 to 9, got 10",
        ),
    ],
)
def test_encode_png_rejects_bad_input(image, kwargs, error, match):
    with pytest.raises(error, match=match):
        encode_png(image, **kwargs)


# ------------------------------------------------------------------------- the viewer


def shown_png(v: SliceViewer, i: int | None = None) -> bytes:
    """The PNG the browser shows for slice ``i`` (the frames box's child; the link from
    the slider to the box runs in the browser, see test_viewer_browser.py)."""
    return v.frames.children[v.index if i is None else i].value


def test_viewer_is_a_widget_made_of_the_expected_parts(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100, 3000))
    assert isinstance(v, widgets.VBox)
    assert isinstance(v.slider, widgets.IntSlider) and isinstance(v.frames, widgets.Tab)
    assert isinstance(v.play, widgets.Play) and isinstance(
        v.window_slider, widgets.FloatRangeSlider
    )
    assert (v.slider.min, v.slider.max, v.slider.value) == (0, 4, 2)
    assert (v.play.min, v.play.max, v.play.value) == (0, 4, 2)
    assert len(v.frames.children) == len(v.readouts.children) == 5
    assert all(isinstance(c, widgets.Image) and c.format == "png" for c in v.frames.children)
    assert v.frames.selected_index == v.readouts.selected_index == 2
    assert "eh-frames" in v.frames._dom_classes
    # Everything that follows the slice is linked in the browser, never via the kernel.
    links = {(type(link).__name__, link.target[0].model_id, link.target[1]) for link in v._links}
    assert links == {
        ("Link", v.play.model_id, "value"),
        ("Link", v.number.model_id, "value"),
        ("DirectionalLink", v.frames.model_id, "selected_index"),
        ("DirectionalLink", v.readouts.model_id, "selected_index"),
    }
    assert all(link.source == (v.slider, "value") for link in v._links)
    # The kernel does not write the Play back (that moved a playing slider backwards).
    v.slider.value = 3
    assert v.play.value == 2


def test_frames_are_rendered_once_nearest_first(pixels, viewer_factory, monkeypatch):
    order = []
    original = SliceViewer._frame

    def spy(self, i):
        order.append(i)
        return original(self, i)

    monkeypatch.setattr(SliceViewer, "_frame", spy)
    v = viewer_factory(pixels, window=(100.0, 3000.0), index=1)
    assert order == [1, 0, 2, 3, 4]
    for i in range(5):
        v.index = i
        np.testing.assert_array_equal(decode(shown_png(v)), expected_grey(pixels[i], 100, 3000))
        np.testing.assert_array_equal(v.frame(), decode(shown_png(v)))
    assert order == [1, 0, 2, 3, 4]  # stepping renders nothing
    assert v.encodes == 5


def test_readout_lines_per_slice(pixels, viewer_factory):
    v = viewer_factory(make_volume(pixels), points=[Point(14, 3, 4, "L4/<L5>")])
    assert v.readout_text(2) == "slice 2 of 0–4 · #13 · 0.0 mm"
    assert v.readout_text(3) == "slice 3 of 0–4 · #14 · 4.0 mm · labels: L4/<L5>"
    v.index = 3
    assert v.readout is v.readouts.children[3]
    html_3 = v.readout.value
    assert "labels: L4/&lt;L5&gt;" in html_3 and "white-space:nowrap" in html_3
    assert "labels" not in v.readouts.children[0].value


def test_readout_of_an_array_has_no_positions(pixels, viewer_factory):
    v = viewer_factory(pixels.numpy(), window=(0, 1), points=[Point(1, 2, 2)])
    assert v.readout_text(0) == "slice 0 of 0–4 · #1 · 1 point(s)"


def test_window_changes_the_frames_and_reset_restores_them(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100.0, 3000.0), index=1)
    home = [c.value for c in v.frames.children]
    v.window_slider.value = (1000.0, 2000.0)
    assert v.window == (1000.0, 2000.0)
    assert v.window_readout.value.count("C 1500 W 1000 (1000–2000)") == 1
    for i in range(5):  # every frame, not only the shown one
        np.testing.assert_array_equal(decode(shown_png(v, i)), expected_grey(pixels[i], 1000, 2000))
    v.reset_button.click()
    assert v.window == (100.0, 3000.0) and v.window_slider.value == (100.0, 3000.0)
    assert [c.value for c in v.frames.children] == home


def test_window_steps_are_one_percent_of_the_range(pixels, viewer_factory):
    v = viewer_factory(pixels, window="minmax")
    lo, hi = float(pixels.min()), float(pixels.max())
    assert v.window_slider.step == round((hi - lo) / 100)
    f = viewer_factory(pixels.float() / 4095, window="minmax")
    assert f.window_slider.step == pytest.approx((f.window[1] - f.window[0]) / 100)


def test_window_setter_widens_the_slider_and_takes_a_spec(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100.0, 3000.0))
    v.window = (-5000.0, 9000.0)
    assert v.window_slider.min <= -5000 and v.window_slider.max >= 9000
    np.testing.assert_array_equal(decode(shown_png(v)), expected_grey(pixels[2], -5000, 9000))
    v.window = "minmax"
    assert v.window == (float(pixels.min()), float(pixels.max()))


def test_window_with_both_handles_together_does_not_fail(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100.0, 3000.0), interval=50)
    v.window_slider.value = (1500.0, 1500.0)
    assert v.window == (1500.0, 1500.0 + v.window_slider.step)
    encodes = v.encodes
    v.window_slider.value = v.window  # the window already shown: nothing to do
    assert v.encodes == encodes


def test_window_choices(pixels, viewer_factory):
    vol = make_volume(pixels.float() * 0.5, dicom_window=(1000.0, 400.0))
    assert viewer_factory(vol, window="dicom").window == (800.0, 1200.0)
    lo, hi = float(vol.pixels.min()), float(vol.pixels.max())
    assert viewer_factory(vol, window="minmax").window == pytest.approx((lo, hi))
    plo, phi = viewer_factory(vol, window="percentile").window
    assert lo <= plo < phi <= hi
    assert viewer_factory(vol, window=(1, 2)).window == (1.0, 2.0)


def test_constant_volume_gets_a_usable_window(viewer_factory):
    v = viewer_factory(torch.full((2, 4, 4), 7, dtype=torch.int16), window="minmax")
    assert v.window == (6.5, 7.5)
    assert (decode(shown_png(v)) == 128).all()


@pytest.mark.parametrize("dtype", ["<u2", ">u2", ">i2", "<u4"])
def test_numpy_volumes_of_other_integer_types(rng, dtype, viewer_factory):
    # uint16 is what pydicom's pixel_array gives for most MR; torch cannot take its min/max.
    a = rng.integers(0, 4096, size=(3, 6, 8)).astype(dtype)
    v = viewer_factory(a, window="minmax")
    lo, hi = float(a.min()), float(a.max())
    assert v.window == (lo, hi)
    assert (v.window_slider.min, v.window_slider.max) == (lo, hi)
    np.testing.assert_array_equal(decode(shown_png(v, 2)), expected_grey(a[2], lo, hi))


def test_a_volume_that_requires_grad(rng, viewer_factory):
    a = torch.from_numpy(rng.normal(size=(2, 4, 4)).astype(np.float32)).requires_grad_()
    v = viewer_factory(make_volume(a))  # no "requires_grad" warning
    lo, hi = v.window
    np.testing.assert_array_equal(v.frame(0), expected_grey(a[0].detach(), lo, hi))


def test_all_nan_volume_needs_a_window_given_as_numbers(viewer_factory):
    a = np.full((2, 3, 3), np.nan, dtype=np.float32)
    with pytest.raises(
        ValueError,
        match=r"window: expected finite values for 'percentile', got none .*"
        r"pass window=\(low, high\)",
    ):
        SliceViewer(a)
    v = viewer_factory(a, window=(0, 1))
    assert (v.window_slider.min, v.window_slider.max) == (0.0, 1.0)
    assert (v.frame(0) == 0).all()


def test_float_volume(rng, viewer_factory):
    a = rng.normal(size=(3, 8, 8)).astype(np.float32)
    v = viewer_factory(torch.from_numpy(a), window=(-1.0, 1.0))
    np.testing.assert_array_equal(decode(shown_png(v, 0)), expected_grey(a[0], -1, 1))


def test_points_appear_on_their_slices_only(pixels, viewer_factory):
    vol = make_volume(pixels)
    pts = [Point(13, 10.0, 12.0, "L3/L4"), Point(14, 20.0, 5.0), Point(99, 1.0, 1.0)]
    v = viewer_factory(vol, points=pts, window=(100.0, 3000.0))
    for i in range(5):
        frame = decode(shown_png(v, i))
        grey = expected_grey(pixels[i], 100, 3000)
        if i not in (2, 3):
            np.testing.assert_array_equal(frame, grey)  # no marker, still greyscale
            continue
        assert frame.shape == (24, 32, 3)
        changed = np.any(frame != grey[..., None], axis=2)
        x, y = (10, 12) if i == 2 else (20, 5)
        assert changed[y - 3, x] or changed[y + 3, x]  # the ring around the point
        rows, _cols = np.nonzero(changed)
        assert abs(rows - y).max() <= 8  # the marker and its text, nothing else
        np.testing.assert_array_equal(frame[~changed][:, 0], grey[~changed])


def test_points_of_an_array_use_instance_numbers_1_to_n(pixels, viewer_factory):
    v = viewer_factory(pixels, points=[Point(1, 5.0, 5.0)], window=(0, 4095))
    assert decode(shown_png(v, 0)).ndim == 3
    assert decode(shown_png(v, 1)).ndim == 2


def test_points_of_another_series_warn(pixels, viewer_factory):
    with pytest.warns(UserWarning, match=r"points: none of the 2 points belongs.*11\.\.15") as rec:
        viewer_factory(make_volume(pixels), points=[Point(1, 0, 0), Point(2, 0, 0)])
    assert rec[0].filename == __file__  # the user's line, not the package's


def test_display_data_has_the_saved_html_and_a_stable_text(pixels, viewer_factory):
    v = viewer_factory(make_volume(pixels), window=(100.0, 3000.0))
    v.index = 4
    bundle, metadata = v._repr_mimebundle_()
    assert metadata == {}
    assert set(bundle) == {"text/plain", "text/html", WIDGET_VIEW}
    assert bundle[WIDGET_VIEW]["model_id"] == v.model_id
    assert bundle["text/plain"] == "SliceViewer('Sagittal T2/STIR', 5 slices 24x32, slice 4)"
    assert 'data-eh-viewer="" data-index="4"' in bundle["text/html"]
    # What IPython's display machinery sends to the front-end.
    data, _metadata = DisplayFormatter().format(v)
    assert data["text/plain"] == bundle["text/plain"] == repr(v)
    assert data["text/html"] == bundle["text/html"]
    assert WIDGET_VIEW in data


def test_saved_png_and_nothing(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100.0, 3000.0), width=400, saved="png")
    data, metadata = DisplayFormatter().format(v)
    assert set(data) == {"text/plain", "image/png", WIDGET_VIEW}
    assert metadata == {"image/png": {"width": 400}}
    np.testing.assert_array_equal(decode(data["image/png"]), expected_grey(pixels[2], 100, 3000))
    bare = viewer_factory(pixels, window=(0, 1), saved=None)
    assert set(DisplayFormatter().format(bare)[0]) == {"text/plain", WIDGET_VIEW}


def test_text_repr_is_deterministic(pixels, viewer_factory):
    a, b = viewer_factory(pixels, window=(0, 1)), viewer_factory(pixels, window=(0, 1))
    assert repr(a) == repr(b) == "SliceViewer(5 slices 24x32, slice 2)"
    assert a.model_id not in repr(a) and "0x" not in repr(a)


def test_close_closes_the_parts(pixels):
    v = SliceViewer(pixels, window=(0, 1))
    parts = [v.slider, v.play, v.number, v.frames, v.readouts, v.window_slider, v.reset_button]
    parts += [*v.frames.children, *v.readouts.children, *v._links]
    v.close()
    assert all(w.comm is None for w in [v, *parts])


@pytest.mark.parametrize(
    ("volume", "kwargs", "error", "match"),
    [
        (
            [[[1]]],
            {},
            TypeError,
            r"volume: expected a Volume, torch.Tensor or numpy.ndarray, got list",
        ),
        (
            np.zeros((4, 4)),
            {},
            ValueError,
            r"volume: expected a 3-D .*got shape \(4, 4\); .*image\[None\]",
        ),
        (np.zeros((1, 2, 4, 4)), {}, ValueError, r"volume: expected a 3-D .*\(1, 2, 4, 4\)"),
        (np.zeros((0, 4, 4)), {}, ValueError, r"volume: expected at least one slice.*\(0, 4, 4\)"),
        (np.zeros((2, 0, 4)), {}, ValueError, r"volume: expected at least one slice.*\(2, 0, 4\)"),
        (np.zeros((2, 2, 2), complex), {}, TypeError, r"volume: expected real numbers.*complex128"),
        (
            np.zeros((2, 2, 2)),
            {"points": [(1, 1, 1)]},
            TypeError,
            r"points: expected Point objects, item 0 is tuple",
        ),
        (
            np.zeros((2, 2, 2)),
            {"points": 3},
            TypeError,
            r"points: expected an iterable of Point, got int",
        ),
        (
            np.zeros((2, 2, 2)),
            {"window": "auto"},
            ValueError,
            r"window: expected one of 'percentile', 'minmax', 'dicom' or \(low, high\), "
            r"got str 'auto'",
        ),
        (
            np.zeros((2, 2, 2)),
            {"window": (1, 2, 3)},
            TypeError,
            r"window: expected one of .*got tuple \(1, 2, 3\)",
        ),
        (
            np.zeros((2, 2, 2)),
            {"window": (2, 1)},
            ValueError,
            r"window: expected finite numbers with low < high, got \(2\.0, 1\.0\)",
        ),
        (
            np.zeros((2, 2, 2)),
            {"window": "dicom"},
            ValueError,
            r"window: expected data with a DICOM WindowCenter/WindowWidth for 'dicom', "
            r"got ndarray; pass window='percentile'",
        ),
        (
            np.zeros((2, 2, 2)),
            {"index": 2},
            ValueError,
            r"index: expected a slice index in 0\.\.1, got 2",
        ),
        (np.zeros((2, 2, 2)), {"index": 1.0}, TypeError, r"index: expected an integer, got float"),
        (
            np.zeros((2, 2, 2)),
            {"width": 0},
            ValueError,
            r"width: expected an integer >= 1, got 0",
        ),
        (
            np.zeros((2, 2, 2)),
            {"interval": 0},
            ValueError,
            r"interval: expected an integer >= 1, got 0",
        ),
        (
            np.zeros((2, 2, 2)),
            {"max_saved_bytes": 0},
            ValueError,
            r"max_saved_bytes: expected an integer >= 1, got 0",
        ),
        (
            np.zeros((2, 2, 2)),
            {"saved": "pdf"},
            ValueError,
            r"saved: expected one of 'html', 'png', None, got str 'pdf'",
        ),
    ],
)
def test_viewer_rejects_bad_input(volume, kwargs, error, match):
    with pytest.raises(error, match=match):
        SliceViewer(volume, **kwargs)


def test_dicom_window_of_a_volume_without_one(pixels):
    with pytest.raises(
        ValueError, match=r"window: expected data with a DICOM.*a Volume without one"
    ):
        SliceViewer(make_volume(pixels, dicom_window=None), window="dicom")


def test_bad_index_and_window_after_construction(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(0, 1))
    with pytest.raises(ValueError, match=r"index: expected a slice index in 0\.\.4, got 5"):
        v.index = 5
    with pytest.raises(
        TypeError, match=r"window: expected one of .* or a \(low, high\) pair, got int 3"
    ):
        v.window = 3
    with pytest.raises(ValueError, match=r"window: expected finite numbers with low < high"):
        v.window = (1, 1)


def test_frame_refuses_indices_outside_the_volume(pixels, viewer_factory):
    # A negative index would give the last slice without its label points.
    v = viewer_factory(make_volume(pixels), points=[Point(15, 5.0, 5.0, "L5/S1")], window=(0, 1))
    assert v.frame(4).ndim == 3
    for i in (-1, 5):
        with pytest.raises(ValueError, match=rf"i: expected a slice index in 0\.\.4, got {i!r}"):
            v.frame(i)
    for i in (1.0, True):
        with pytest.raises(TypeError, match=r"i: expected an integer, got"):
            v.frame(i)


def test_volume_of_complex_pixels_is_rejected(pixels):
    with pytest.raises(TypeError, match=r"volume.pixels: expected real numbers.*complex64"):
        SliceViewer(make_volume(pixels.to(torch.complex64)))


def test_non_finite_values_and_a_degenerate_orientation(viewer_factory):
    a = torch.linspace(-1, 1, 2 * 4 * 4).reshape(2, 4, 4)
    a[0, 0, 1], a[1, 1, 1] = float("nan"), float("inf")
    unknown = np.full((4, 4), np.nan)  # a degenerate orientation gives no geometry
    vol = Volume(a, (1, 2), np.zeros((2, 3)), np.zeros(6), ("a", "b"), (1, 1, 1), unknown)
    v = viewer_factory(vol, window="minmax")
    assert (v.window_slider.min, v.window_slider.max) == (-1.0, 1.0)
    assert v.readout_text(0) == "slice 0 of 0–1 · #1"


# ------------------------------------------------------------------------- saved render


def spec_of(html_text: str) -> dict:
    start = html_text.index('<script type="application/json" class="eh-spec">')
    start = html_text.index(">", start) + 1
    return json.loads(html_text[start : html_text.index("</script>", start)])


def still_of(html_text: str) -> np.ndarray:
    start = html_text.index('src="data:image/png;base64,') + len('src="data:image/png;base64,')
    return decode(base64.b64decode(html_text[start : html_text.index('"', start)]))


def test_to_html_carries_every_frame_readout_and_a_still(pixels, viewer_factory):
    pts = [Point(13, 10.0, 12.0, "</script><b>L3/L4")]
    v = viewer_factory(make_volume(pixels), points=pts, window=(100.0, 3000.0))
    v.index = 2
    out = v.to_html()
    assert 'data-eh-viewer="" data-index="2"' in out
    assert out.count("<script>") == 1 and "</script><b>" not in out  # label text escaped
    spec = spec_of(out)
    assert len(spec["frames"]) == 5 and spec["mime"] == "image/jpeg"
    assert spec["readouts"] == [v.readout_text(i) for i in range(5)]
    assert spec["window"] == [100.0, 3000.0] and spec["index"] == 2
    assert [p[2] for p in spec["points"]["2"]] == ["</script><b>L3/L4"]
    # JPEG frames stay within a few grey levels of the viewer's; the still is exact.
    with Image.open(io.BytesIO(base64.b64decode(spec["frames"][4]))) as im:
        jpeg = np.asarray(im.convert("L"), dtype=int)
    assert np.abs(jpeg - v.frame(4).astype(int)).mean() < 3
    np.testing.assert_array_equal(still_of(out), v.frame(2))
    caption = "Sagittal T2/STIR · slice 2 of 0–4 · #13 · 0.0 mm · labels: &lt;/script&gt;"
    assert caption in out and "window C 1550 W 2900 (100–3000)" in out


def test_to_html_downsamples_above_the_size_cap_and_says_so(rng, viewer_factory):
    a = torch.from_numpy(rng.integers(0, 4096, size=(4, 64, 96)).astype(np.int16))
    full = viewer_factory(a, window=(0, 4095))
    size = sum(len(f) for f in spec_of(full.to_html())["frames"]) * 3 // 4
    capped = viewer_factory(a, window=(0, 4095), max_saved_bytes=size // 3)
    spec = spec_of(capped.to_html())
    assert (spec["rows"], spec["cols"]) == (32, 48)
    assert (
        spec["note"]
        == f"frames saved at 48x32 of 96x64 pixels to stay under {size // 3 / 1024:.3g} kB"
    )
    # Visible without scripts too.
    assert spec["note"] in capped.to_html().split('class="eh-caption">')[1].split("</")[0]
    assert spec_of(full.to_html())["note"] == ""


def test_save_html_writes_a_standalone_page(pixels, viewer_factory, tmp_path):
    v = viewer_factory(make_volume(pixels), window=(100.0, 3000.0))
    out = eh.save_html(v, tmp_path / "viewer.html")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and v.to_html() in text
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # no network
    with pytest.raises(TypeError, match=r"viewer: expected a SliceViewer, got ndarray"):
        eh.save_html(pixels.numpy(), tmp_path / "x.html")
    with pytest.raises(TypeError, match=r"path: expected a path \(str or os.PathLike\), got int"):
        eh.save_html(v, 3)
    with pytest.raises(FileNotFoundError, match=r"path: expected a file in an existing folder"):
        eh.save_html(v, tmp_path / "missing" / "x.html")
