"""SliceViewer and its pure render functions, without a browser.

Setting a widget's value outside a kernel still runs the Python observers (the comm
messages go nowhere), so everything the kernel does can be checked here; what the
browser does is checked in test_viewer_browser.py.
"""

from __future__ import annotations

import io
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from IPython.core.formatters import DisplayFormatter
from PIL import Image

from eda_helpers import Point, Volume
from eda_helpers.geometry import voxel_affine
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


def make_volume(pixels: torch.Tensor, *, window=None, description="Sagittal T2/STIR") -> Volume:
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
        window=window,
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
    assert changed[30, 20]
    rows, cols = np.nonzero(changed)
    assert abs(rows - 30).max() <= 5 and abs(cols - 20).max() <= 5


def test_render_slice_text_is_drawn_beside_the_marker():
    grey = np.zeros((64, 64), dtype=np.uint8)
    plain = render_slice(grey, 0, 255, points=[Point(1, 8.0, 32.0)])
    labelled = render_slice(grey, 0, 255, points=[Point(1, 8.0, 32.0, "L4/L5")])
    extra = np.any(plain != labelled, axis=2)
    assert extra[:, 14:].any() and not extra[:, :12].any()
    # Near the right edge the text goes to the left of the marker.
    right = render_slice(grey, 0, 255, points=[Point(1, 60.0, 32.0, "L4/L5")])
    assert np.any(right[:, :50] != 0)


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
    with pytest.raises(ValueError, match=r"points: item 1 has x=.*expected finite pixel"):
        render_slice(np.zeros((8, 8)), 0, 1, points=[Point(1, 1, 1), Point(1, x, y, "L4/L5")])


def test_render_slice_points_on_the_last_pixel_and_beyond_are_drawn_clipped():
    rgb = render_slice(np.zeros((16, 16)), 0, 1, points=[Point(1, 15, 15), Point(1, 17, 0)])
    assert rgb.shape == (16, 16, 3)
    assert (rgb[15, 12:16] == (255, 64, 64)).all(axis=-1).any()  # the cross at the corner
    assert (rgb[0, 14:16] == (255, 64, 64)).all(axis=-1).any()  # the circle of (17, 0)


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


def test_viewer_is_a_widget_made_of_the_expected_parts(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100, 3000))
    assert isinstance(v, widgets.VBox)
    assert isinstance(v.slider, widgets.IntSlider) and isinstance(v.image, widgets.Image)
    assert isinstance(v.play, widgets.Play) and isinstance(
        v.window_slider, widgets.FloatRangeSlider
    )
    assert (v.slider.min, v.slider.max, v.slider.value) == (0, 4, 2)
    assert (v.play.min, v.play.max) == (0, 4)
    assert v.image.format == "png"
    # Playing moves the slider in the browser; the kernel moves the Play along.
    assert v._link._model_name == "DirectionalLinkModel"
    assert v._link.source == (v.play, "value") and v._link.target == (v.slider, "value")
    v.slider.value = 3
    assert v.play.value == 3


def test_setting_the_slider_shows_that_slice(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100.0, 3000.0))
    for i in [0, 4, 1, 3, 2]:
        v.slider.value = i
        np.testing.assert_array_equal(decode(v.image.value), expected_grey(pixels[i], 100, 3000))
        np.testing.assert_array_equal(v.frame(), decode(v.image.value))
    v.index = 1
    assert v.slider.value == 1


def test_readout_follows_the_slider(pixels, viewer_factory):
    v = viewer_factory(make_volume(pixels), points=[Point(14, 3, 4, "L4/<L5>")])
    assert v.readout.value.startswith("slice <b>2</b> of 0–4 · instance 13")
    v.slider.value = 3
    text = v.readout.value
    assert "slice <b>3</b> of 0–4" in text and "instance 14" in text
    assert "4.00 mm along the normal" in text and "IPP (-12.5, 30.0, 4.0)" in text
    assert "labels: L4/&lt;L5&gt;" in text  # label text is escaped
    v.slider.value = 0
    assert "instance 11" in v.readout.value and "labels" not in v.readout.value


def test_readout_of_an_array_has_no_positions(pixels, viewer_factory):
    v = viewer_factory(pixels.numpy(), window=(0, 1), points=[Point(1, 2, 2)])
    v.slider.value = 0
    assert v.readout.value == "slice <b>0</b> of 0–4 · instance 1 · 1 point(s)"


def test_window_changes_the_mapping_and_reset_restores_it(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100.0, 3000.0), index=1)
    home = v.image.value
    v.window_slider.value = (1000.0, 2000.0)
    assert v.window == (1000.0, 2000.0)
    np.testing.assert_array_equal(decode(v.image.value), expected_grey(pixels[1], 1000, 2000))
    v.slider.value = 2  # the new window applies to other slices too
    np.testing.assert_array_equal(decode(v.image.value), expected_grey(pixels[2], 1000, 2000))
    v.slider.value = 1
    v.reset_button.click()
    assert v.window == (100.0, 3000.0) and v.window_slider.value == (100.0, 3000.0)
    assert v.image.value == home


def test_window_setter_widens_the_slider(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100.0, 3000.0))
    v.window = (-5000.0, 9000.0)
    assert v.window_slider.min <= -5000 and v.window_slider.max >= 9000
    np.testing.assert_array_equal(decode(v.image.value), expected_grey(pixels[2], -5000, 9000))


def test_window_with_both_handles_together_does_not_fail(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100.0, 3000.0))
    v.window_slider.value = (1500.0, 1500.0)
    assert v.window == (1500.0, 1501.0)
    np.testing.assert_array_equal(decode(v.image.value), expected_grey(pixels[2], 1500, 1501))
    encodes = v.cache_info().encodes
    v.window_slider.value = (1500.0, 1501.0)  # the window already shown: nothing to do
    assert v.cache_info().encodes == encodes


def test_window_choices(pixels, viewer_factory):
    vol = make_volume(pixels.float() * 0.5, window=(1000.0, 400.0))
    assert viewer_factory(vol, window="dicom").window == (800.0, 1200.0)
    lo, hi = float(vol.pixels.min()), float(vol.pixels.max())
    assert viewer_factory(vol, window="minmax").window == pytest.approx((lo, hi))
    plo, phi = viewer_factory(vol, window="percentile").window
    assert lo <= plo < phi <= hi
    assert viewer_factory(vol, window=(1, 2)).window == (1.0, 2.0)


def test_constant_volume_gets_a_usable_window(viewer_factory):
    v = viewer_factory(torch.full((2, 4, 4), 7, dtype=torch.int16), window="minmax")
    assert v.window == (6.5, 7.5)
    assert (decode(v.image.value) == 128).all()


@pytest.mark.parametrize("dtype", ["<u2", ">u2", ">i2", "<u4"])
def test_numpy_volumes_of_other_integer_types(rng, dtype, viewer_factory):
    # uint16 is what pydicom's pixel_array gives for most MR; torch cannot take its min/max.
    a = rng.integers(0, 4096, size=(3, 6, 8)).astype(dtype)
    v = viewer_factory(a, window="minmax")
    lo, hi = float(a.min()), float(a.max())
    assert v.window == (lo, hi)
    assert (v.window_slider.min, v.window_slider.max) == (lo, hi)
    v.slider.value = 2
    np.testing.assert_array_equal(decode(v.image.value), expected_grey(a[2], lo, hi))


def test_a_volume_that_requires_grad(rng, viewer_factory):
    a = torch.from_numpy(rng.normal(size=(2, 4, 4)).astype(np.float32)).requires_grad_()
    v = viewer_factory(make_volume(a))  # no "requires_grad" warning
    lo, hi = v.window
    np.testing.assert_array_equal(v.frame(0), expected_grey(a[0].detach(), lo, hi))


def test_all_nan_volume_needs_a_window_given_as_numbers(viewer_factory):
    a = np.full((2, 3, 3), np.nan, dtype=np.float32)
    with pytest.raises(
        ValueError,
        match=r"window: 'percentile' needs finite pixel values, but "
        r"all 18 are NaN or inf; pass window=\(low, high\)",
    ):
        SliceViewer(a)
    v = viewer_factory(a, window=(0, 1))
    assert (v.window_slider.min, v.window_slider.max) == (0.0, 1.0)
    assert (v.frame(0) == 0).all()


def test_float_volume(rng, viewer_factory):
    a = rng.normal(size=(3, 8, 8)).astype(np.float32)
    v = viewer_factory(torch.from_numpy(a), window=(-1.0, 1.0))
    v.slider.value = 0
    np.testing.assert_array_equal(decode(v.image.value), expected_grey(a[0], -1, 1))
    assert v.window_slider.readout_format == ".4g"


def test_points_appear_on_their_slices_only(pixels, viewer_factory):
    vol = make_volume(pixels)
    pts = [Point(13, 10.0, 12.0, "L3/L4"), Point(14, 20.0, 5.0), Point(99, 1.0, 1.0)]
    v = viewer_factory(vol, points=pts, window=(100.0, 3000.0))
    for i in range(5):
        v.slider.value = i
        frame = decode(v.image.value)
        grey = expected_grey(pixels[i], 100, 3000)
        if i not in (2, 3):
            np.testing.assert_array_equal(frame, grey)  # no marker, still greyscale
            continue
        assert frame.shape == (24, 32, 3)
        changed = np.any(frame != grey[..., None], axis=2)
        x, y = (10, 12) if i == 2 else (20, 5)
        assert changed[y, x]
        rows, _cols = np.nonzero(changed)
        assert abs(rows - y).max() <= 6  # the marker (radius 3) and its text, nothing else
        np.testing.assert_array_equal(frame[~changed][:, 0], grey[~changed])


def test_points_of_an_array_use_instance_numbers_1_to_n(pixels, viewer_factory):
    v = viewer_factory(pixels, points=[Point(1, 5.0, 5.0)], window=(0, 4095))
    v.slider.value = 0
    assert decode(v.image.value).ndim == 3
    v.slider.value = 1
    assert decode(v.image.value).ndim == 2


def test_points_of_another_series_warn(pixels, viewer_factory):
    with pytest.warns(UserWarning, match=r"points: none of the 2 points belongs.*11\.\.15"):
        viewer_factory(make_volume(pixels), points=[Point(1, 0, 0), Point(2, 0, 0)])


def test_display_data_has_the_fallback_png_and_a_stable_text(pixels, viewer_factory):
    v = viewer_factory(make_volume(pixels), window=(100.0, 3000.0))
    v.slider.value = 4
    bundle, metadata = v._repr_mimebundle_()
    assert metadata == {}
    assert set(bundle) == {"text/plain", "image/png", WIDGET_VIEW}
    assert bundle[WIDGET_VIEW]["model_id"] == v.model_id
    np.testing.assert_array_equal(decode(bundle["image/png"]), expected_grey(pixels[4], 100, 3000))
    assert bundle["text/plain"] == "SliceViewer('Sagittal T2/STIR', 5 slices 24x32, slice 4)"
    # What IPython's display machinery sends to the frontend.
    data, _metadata = DisplayFormatter().format(v)
    assert data["image/png"] == v.image.value
    assert data["text/plain"] == bundle["text/plain"] == repr(v)
    assert WIDGET_VIEW in data


def test_fallback_png_is_shown_at_the_display_width(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(0, 1), width=400)
    assert v.image.layout.width == "400px"
    _data, metadata = DisplayFormatter().format(v)
    assert metadata == {"image/png": {"width": 400}}


def test_text_repr_is_deterministic(pixels, viewer_factory):
    a, b = viewer_factory(pixels, window=(0, 1)), viewer_factory(pixels, window=(0, 1))
    assert repr(a) == repr(b) == "SliceViewer(5 slices 24x32, slice 2)"
    assert a.model_id not in repr(a) and "0x" not in repr(a)


def test_cache_is_used_and_invalidated_on_window_change(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(100.0, 3000.0), index=0)
    assert v.cache_info().encodes == 1
    v.slider.value = 1
    v.slider.value = 0
    v.slider.value = 1
    info = v.cache_info()
    assert (info.encodes, info.hits, info.frames) == (2, 2, 2)
    v.window_slider.value = (200.0, 3900.0)
    info = v.cache_info()
    assert (info.encodes, info.frames) == (3, 1)  # only the current slice, re-encoded
    v.slider.value = 0
    assert v.cache_info().encodes == 4  # the old frame of slice 0 was dropped
    np.testing.assert_array_equal(decode(v.image.value), expected_grey(pixels[0], 200, 3900))


def test_cache_memory_is_bounded(pixels, viewer_factory):
    one = len(encode_png(render_slice(pixels[0], 0, 4095)))
    v = viewer_factory(pixels, window=(0, 4095), index=0, cache_bytes=int(2.5 * one))
    for i in [1, 2, 3, 4, 0]:
        v.slider.value = i
        assert v.cache_info().nbytes <= 2.5 * one
    assert v.cache_info().frames == 2
    off = viewer_factory(pixels, window=(0, 4095), index=0, cache_bytes=0)
    off.slider.value = 1
    off.slider.value = 0
    assert off.cache_info() == (0, 3, 0, 0, 0)


def test_close_closes_the_parts(pixels):
    v = SliceViewer(pixels, window=(0, 1))
    parts = [v.slider, v.play, v.image, v.readout, v.window_slider, v.reset_button]
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
            r"window: expected one of 'percentile', 'minmax', 'dicom' or \(low, high\), got 'auto'",
        ),
        (
            np.zeros((2, 2, 2)),
            {"window": (1, 2, 3)},
            ValueError,
            r"window: expected one of .*got \(1, 2, 3\)",
        ),
        (
            np.zeros((2, 2, 2)),
            {"window": (2, 1)},
            ValueError,
            r"window: expected finite numbers with lo < hi, got \(2\.0, 1\.0\)",
        ),
        (
            np.zeros((2, 2, 2)),
            {"window": "dicom"},
            ValueError,
            r"window: 'dicom' needs .* given an array; pass window='percentile'",
        ),
        (
            np.zeros((2, 2, 2)),
            {"index": 2},
            ValueError,
            r"index: expected a slice index in 0\.\.1, got 2",
        ),
        (np.zeros((2, 2, 2)), {"index": 1.0}, TypeError, r"index: expected an int, got float"),
        (
            np.zeros((2, 2, 2)),
            {"width": 0},
            ValueError,
            r"width: expected a positive number of pixels, got 0",
        ),
        (
            np.zeros((2, 2, 2)),
            {"interval": 0},
            ValueError,
            r"interval: expected milliseconds >= 1, got 0",
        ),
        (
            np.zeros((2, 2, 2)),
            {"cache_bytes": -1},
            ValueError,
            r"cache_bytes: expected a number of bytes >= 0, got -1",
        ),
    ],
)
def test_viewer_rejects_bad_input(volume, kwargs, error, match):
    with pytest.raises(error, match=match):
        SliceViewer(volume, **kwargs)


def test_dicom_window_of_a_volume_without_one(pixels):
    with pytest.raises(ValueError, match=r"window: 'dicom' needs .*a Volume without one"):
        SliceViewer(make_volume(pixels, window=None), window="dicom")


def test_bad_index_and_window_after_construction(pixels, viewer_factory):
    v = viewer_factory(pixels, window=(0, 1))
    with pytest.raises(ValueError, match=r"index: expected a slice index in 0\.\.4, got 5"):
        v.index = 5
    with pytest.raises(ValueError, match=r"window: expected a \(low, high\) pair, got 3"):
        v.window = 3
    with pytest.raises(ValueError, match=r"window: expected finite numbers with lo < hi"):
        v.window = (1, 1)


def test_frame_refuses_indices_outside_the_volume(pixels, viewer_factory):
    # A negative index would give the last slice without its label points.
    v = viewer_factory(make_volume(pixels), points=[Point(15, 5.0, 5.0, "L5/S1")], window=(0, 1))
    assert v.frame(4).ndim == 3
    for i in (-1, 5, 1.0, True):
        with pytest.raises(ValueError, match=rf"i: expected a slice index in 0\.\.4, got {i!r}"):
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
    assert "along the normal" not in v.readout.value and "IPP (0.0, 0.0, 0.0)" in v.readout.value
