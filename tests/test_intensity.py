"""Numbers worked out by hand for value_range, normalize, to_uint8, percentiles, histogram."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from eda_helpers import Volume, intensity, normalize, to_uint8, value_range
from eda_helpers.intensity import histogram, percentiles

NAN = math.nan


def make_volume(pixels: torch.Tensor, **kwargs) -> Volume:
    n = pixels.shape[0]
    return Volume.from_array(
        pixels, affine=np.eye(4), files=tuple(f"f{i}" for i in range(n)), **kwargs
    )


# ------------------------------------------------------------------- value_range


def test_value_range_each_method_exact():
    x = torch.tensor([[0, 10], [20, 1000]], dtype=torch.int16)
    assert value_range(x, method="minmax") == (0.0, 1000.0)
    # 4 values, linear interpolation: position q/100 * 3.
    assert value_range(x, method="percentile", low=0, high=50) == (0.0, 15.0)
    assert value_range(x, method="percentile", low=25, high=100) == (7.5, 1000.0)
    assert value_range(x, method="window", center=40, width=80) == (0.0, 80.0)


def test_value_range_default_percentiles_ignore_a_few_bright_pixels():
    x = torch.full((10, 20, 20), 100.0)
    x[:, :10] = 0.0
    x[0, 0, 0] = 1e6  # one outlier in 4000 pixels
    lo, hi = value_range(x)
    assert (lo, hi) == (0.0, 100.0)
    assert value_range(x, method="minmax") == (0.0, 1e6)


@pytest.mark.parametrize(
    "dtype", [np.float32, np.float64, np.float16, np.int16, np.uint8, np.int8, np.int32, np.int64]
)
def test_percentiles_match_numpy_exactly(dtype, rng):
    qs = [0, 0.5, 1, 13.7, 50, 99.5, 100]
    for _ in range(4):
        n = int(rng.choice([1, 2, 3, 7, 4999, 200_000]))
        if np.dtype(dtype).kind == "f":
            a = (rng.standard_normal(n) * rng.choice([1e-3, 1.0, 300.0, 1e4])).astype(dtype)
        else:
            info = np.iinfo(dtype)
            a = rng.integers(max(info.min, -(2**40)), min(info.max, 2**40), n, endpoint=True)
            a = a.astype(dtype)
        got = percentiles(a, qs)
        expected = np.percentile(a.astype(np.float64), qs)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_percentiles_with_signed_zeros_and_ties():
    a = np.array([-0.0, 0.0, -0.0, 0.0, 1.0, 1.0, -2.0], dtype=np.float32)
    assert percentiles(a, [0, 50, 100]) == (-2.0, 0.0, 1.0)
    assert percentiles(np.array([-0.0, 0.0, 5.0], np.float32), [25, 75]) == (0.0, 2.5)


def test_percentiles_of_bfloat16_and_of_a_constant():
    x = torch.tensor([1.5, -3.0, 2.0, 1e30, 7.0], dtype=torch.bfloat16)
    expected = np.percentile(x.float().numpy().astype(np.float64), [10, 50, 90])
    assert percentiles(x, [10, 50, 90]) == tuple(expected)
    assert percentiles(torch.full((3, 4), 7, dtype=torch.int16), [0, 50, 100]) == (7.0,) * 3


def test_percentiles_leave_the_input_alone(rng):
    a = rng.standard_normal(100_000).astype(np.float32)
    before = a.copy()
    percentiles(a, [1, 99])
    percentiles(torch.from_numpy(a), [1, 99])
    np.testing.assert_array_equal(a, before)  # partitioned a copy, not the input


def test_percentiles_beyond_torch_quantile_limit():
    # torch.quantile refuses more than 16M elements; 17M int16 and float32 work, exactly.
    x = torch.arange(17_000_000, dtype=torch.int32) % 4096
    x = x.to(torch.int16)
    assert percentiles(x, [0.5, 99.5]) == pytest.approx([20.0, 4075.0], abs=1e-9)
    y = x.to(torch.float32) + 0.25
    assert percentiles(y, [0.5, 50, 99.5]) == pytest.approx([20.25, 2047.25, 4075.25], abs=1e-9)


def test_value_range_reads_the_volume_window():
    v = make_volume(torch.zeros(2, 3, 3), dicom_window=(50.0, 40.0))
    assert value_range(v, method="window") == (30.0, 70.0)
    # Explicit numbers win over the Volume's window.
    assert value_range(v, method="window", center=0, width=2) == (-1.0, 1.0)


def test_value_range_ignores_nan_and_inf():
    x = np.array([[NAN, 1.0], [np.inf, 3.0], [-np.inf, 2.0]])
    assert value_range(x, method="minmax") == (1.0, 3.0)
    assert value_range(x, method="percentile", low=0, high=50) == (1.0, 2.0)


# --------------------------------------------------------------------- normalize


def test_normalize_minmax_exact():
    x = np.array([[0, 50], [100, 5000]], dtype=np.int16)
    out = normalize(x, method="minmax")
    np.testing.assert_array_equal(out, np.array([[0, 0.01], [0.02, 1]], dtype=np.float32))


def test_normalize_percentile_clips_outside():
    x = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1000.0]])
    # 10 values: the 10th and 90th percentiles sit at positions 0.9 and 8.1.
    lo, hi = value_range(x, low=10, high=90)
    assert (lo, hi) == pytest.approx((0.9, 107.2))
    out = normalize(x, low=10, high=90)
    expected = ((x - lo) / (hi - lo)).clamp(0, 1)
    torch.testing.assert_close(out, expected)
    assert out[0, 0] == 0.0 and out[0, -1] == 1.0


def test_normalize_window_exact_and_clipped():
    x = torch.tensor([[-100.0, 0.0], [25.0, 500.0]])
    out = normalize(x, method="window", center=25, width=50)
    torch.testing.assert_close(out, torch.tensor([[0.0, 0.0], [0.5, 1.0]]))


def test_normalize_window_from_volume():
    v = make_volume(
        torch.tensor([[[0, 50], [100, 150]]], dtype=torch.int16), dicom_window=(100, 100)
    )
    out = normalize(v, method="window")
    assert isinstance(out, torch.Tensor)
    torch.testing.assert_close(out, torch.tensor([[[0.0, 0.0], [0.5, 1.0]]]))


@pytest.mark.parametrize("method", ["minmax", "percentile"])
@pytest.mark.parametrize("value", [0.0, 7.0, -3.5])
def test_normalize_constant_input_gives_zeros(method, value):
    x = torch.full((3, 4, 4), value)
    out = normalize(x, method=method)  # filterwarnings=error: no warning allowed
    assert torch.equal(out, torch.zeros_like(out))


def test_normalize_degenerate_range_is_a_step():
    # 99 zeros and a single one: the 0th and 50th percentiles are both 0.
    x = np.zeros(100, dtype=np.float32).reshape(10, 10)
    x[0, 0] = 1.0
    assert value_range(x, low=0, high=50) == (0.0, 0.0)
    out = normalize(x, low=0, high=50)
    assert out[0, 0] == 1.0 and out.sum() == 1.0


def test_normalize_nan_stays_nan_and_is_ignored_for_the_range():
    x = np.array([[NAN, 0.0], [5.0, 10.0]], dtype=np.float32)
    out = normalize(x, method="minmax")
    assert np.isnan(out[0, 0])
    np.testing.assert_array_equal(out[~np.isnan(out)], [0.0, 0.5, 1.0])
    const = np.array([[NAN, 2.0], [2.0, 2.0]])
    out = normalize(const, method="minmax")
    assert np.isnan(out[0, 0]) and np.array_equal(out.ravel()[1:], [0.0, 0.0, 0.0])


def test_normalize_inf_clips():
    x = torch.tensor([[-math.inf, 0.0], [1.0, math.inf]])
    torch.testing.assert_close(
        normalize(x, method="minmax"), torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    )


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.float32, np.float64])
def test_normalize_numpy_in_numpy_out(dtype):
    x = np.arange(12, dtype=dtype).reshape(3, 4)
    before = x.copy()
    out = normalize(x, method="minmax")
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.arange(12).reshape(3, 4) / 11, rtol=1e-6)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("dtype", [torch.int16, torch.uint8, torch.float32, torch.float64])
@pytest.mark.parametrize("method", ["minmax", "percentile"])
def test_normalize_tensor_in_tensor_out_same_device(dtype, method):
    x = torch.arange(24, dtype=dtype).reshape(2, 3, 4)
    before = x.clone()
    out = normalize(x, method=method)
    assert isinstance(out, torch.Tensor)
    assert out.dtype == torch.float32 and out.device == x.device and out.shape == x.shape
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert torch.equal(x, before)


def test_normalize_volume_gives_tensor_and_leaves_pixels():
    pixels = torch.arange(18, dtype=torch.int16).reshape(2, 3, 3)
    v = make_volume(pixels.clone())
    out = normalize(v, method="minmax")
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    torch.testing.assert_close(out, pixels.float() / 17)
    assert torch.equal(v.pixels, pixels)


def test_normalize_read_only_and_big_endian_arrays():
    x = np.broadcast_to(np.arange(4.0), (3, 4))  # read-only view: no warning allowed
    np.testing.assert_allclose(normalize(x, method="minmax")[0], [0, 1 / 3, 2 / 3, 1])
    be = np.arange(6, dtype=">i2").reshape(2, 3)
    np.testing.assert_allclose(normalize(be, method="minmax").ravel(), np.arange(6) / 5)
    flipped = np.arange(6.0).reshape(2, 3)[:, ::-1]
    np.testing.assert_allclose(normalize(flipped, method="minmax")[0], [0.4, 0.2, 0.0])


def test_tensors_that_require_grad_are_read_without_warning_or_graph():
    x = torch.arange(12.0).reshape(3, 4).requires_grad_()
    assert value_range(x, method="minmax") == (0.0, 11.0)  # no "requires_grad" UserWarning
    out = normalize(x, method="minmax")
    assert not out.requires_grad and out.grad_fn is None
    assert percentiles(x, [50]) == (5.5,)
    assert histogram(x, bins=2)[0].tolist() == [6, 6]


@pytest.mark.skipif(not hasattr(torch, "uint32"), reason="torch < 2.3 has no uint16/uint32")
@pytest.mark.parametrize("dtype", ["uint16", "uint32"])
def test_wide_unsigned_tensors_are_read_exactly(dtype):
    # torch has no min/max, sort or bincount for these on the CPU.
    values = np.array([[0, 40000], [65535, 7]])
    x = torch.from_numpy(values.astype(dtype))
    assert x.dtype == getattr(torch, dtype)
    assert value_range(x, method="minmax") == (0.0, 65535.0)
    assert percentiles(x, [50]) == (20003.5,)
    np.testing.assert_allclose(normalize(x, method="minmax").numpy(), values / 65535)
    assert histogram(x, bins=1)[0].tolist() == [4]


@pytest.mark.skipif(not hasattr(torch, "uint64"), reason="torch < 2.3 has no uint64")
def test_uint64_tensors_are_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"x: .*dtype torch.uint64; .*x.to\(torch.float64\)"):
        value_range(torch.zeros((2, 2), dtype=torch.uint64))


def test_normalize_converts_its_input_once(monkeypatch):
    calls = []
    original = intensity._as_tensor

    def spy(x, name="x"):
        calls.append(name)
        return original(x, name)

    monkeypatch.setattr(intensity, "_as_tensor", spy)
    x = np.arange(6, dtype=np.uint16).reshape(2, 3)  # widened to int32: a full copy
    np.testing.assert_allclose(normalize(x, method="minmax").ravel(), np.arange(6) / 5)
    assert len(calls) == 1


# ---------------------------------------------------------------------- to_uint8


def test_to_uint8_rounds_clamps_and_zeroes_nan():
    x = np.array([0.0, 1 / 255, 0.5, 0.2, 1.0, 1.7, -0.2, NAN, np.inf, -np.inf])
    before = x.copy()
    out = to_uint8(x)
    assert out.dtype == np.uint8
    # 0.5 * 255 = 127.5 rounds to even (128); 0.2 * 255 = 51.
    np.testing.assert_array_equal(out, [0, 1, 128, 51, 255, 255, 0, 0, 255, 0])
    np.testing.assert_array_equal(x, before)


def test_to_uint8_round_to_nearest():
    x = torch.tensor([0.4 / 255, 0.6 / 255, 254.4 / 255, 254.6 / 255])
    assert to_uint8(x).tolist() == [0, 1, 254, 255]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_to_uint8_half_precision_rounds_the_exact_product(dtype):
    # Every value of the dtype in [0, 1]; its product with 255 rounded in half precision
    # first would be off by one for dozens of them (0.00588 * 255 = 1.49998 -> 1.5 -> 2).
    x = torch.arange(2**16, dtype=torch.int32).to(torch.int16).view(dtype)
    x = x[(x >= 0) & (x <= 1)]
    want = np.rint(x.double().numpy() * 255).astype(np.uint8)
    np.testing.assert_array_equal(to_uint8(x).numpy(), want)


def test_to_uint8_tensor_kind_device_shape():
    x = torch.rand(2, 3, 4, dtype=torch.float64)
    out = to_uint8(x)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.uint8
    assert out.shape == x.shape and out.device == x.device


def test_to_uint8_after_normalize():
    x = torch.tensor([[0, 1], [2, 3]], dtype=torch.int16)
    assert to_uint8(normalize(x, method="minmax")).tolist() == [[0, 85], [170, 255]]


# --------------------------------------------------------------------- histogram


def test_histogram_float_matches_numpy(rng):
    a = rng.normal(100, 20, 5000).astype(np.float32)
    counts, edges = histogram(a, bins=17)
    np_counts, np_edges = np.histogram(a.astype(np.float64), bins=17)
    np.testing.assert_array_equal(counts, np_counts)
    np.testing.assert_allclose(edges, np_edges)


def test_histogram_values_on_an_edge_go_to_the_bin_above_it():
    # 0.3 * (3 / 0.9) is 0.9999999999999999 in floating point, yet 0.3 is edges[1].
    counts, edges = histogram(np.array([0.0, 0.3, 0.6, 0.9]), bins=3)
    assert edges.tolist() == [0.0, 0.3, 0.6, 0.9]
    assert counts.tolist() == [1, 1, 2]


def test_histogram_matches_numpy_on_values_at_and_beside_the_edges(rng):
    for _ in range(200):
        bins = int(rng.integers(1, 40))
        lo = float(rng.uniform(-10, 10))
        hi = lo + float(rng.uniform(0.01, 20))
        e = np.linspace(lo, hi, bins + 1)
        x = np.concatenate([e, np.nextafter(e, -np.inf), np.nextafter(e, np.inf)])
        want, _ = np.histogram(x, bins=bins, range=(lo, hi))
        np.testing.assert_array_equal(histogram(x, bins=bins, limits=(lo, hi))[0], want)


def test_histogram_exclude_background_and_threshold():
    x = torch.tensor([0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0])
    counts, edges = histogram(x, bins=2, limits=(0, 4))
    assert counts.tolist() == [4, 3] and edges.tolist() == [0.0, 2.0, 4.0]
    counts, _ = histogram(x, bins=2, limits=(0, 4), exclude_background=True)
    assert counts.tolist() == [1, 3]
    counts, _ = histogram(x, bins=2, limits=(0, 4), exclude_background=True, threshold=2)
    assert counts.tolist() == [0, 2]


def test_histogram_integer_bins_are_aligned():
    x = np.arange(10, dtype=np.int16)
    counts, edges = histogram(x, bins=4)
    assert counts.tolist() == [3, 3, 3, 1]
    assert edges.tolist() == [-0.5, 2.5, 5.5, 8.5, 11.5]


def test_histogram_skips_nan_and_handles_constant():
    counts, edges = histogram(np.array([NAN, 3.0, 3.0]), bins=1)
    assert counts.tolist() == [2] and edges.tolist() == [2.5, 3.5]


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((5,), r"x: expected a 2-D .* got 1-D"),
        ((1, 2, 3, 4), r"got 4-D"),
        ((0, 4), r"x: .*at least one pixel"),
    ],
)
def test_value_range_rejects_bad_shapes(shape, match):
    with pytest.raises(ValueError, match=match):
        value_range(torch.zeros(shape))
    with pytest.raises(ValueError, match=match):
        normalize(np.zeros(shape))


def test_bad_kinds():
    with pytest.raises(TypeError, match=r"x: expected a Volume, a torch.Tensor or a numpy"):
        normalize([[1, 2], [3, 4]])
    with pytest.raises(TypeError, match=r"x: expected real numbers"):
        normalize(np.zeros((2, 2), dtype=np.complex64))
    with pytest.raises(TypeError, match=r"x: expected real numbers"):
        normalize(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match=r"x: expected real numbers, got complex"):
        value_range(torch.zeros((2, 2), dtype=torch.complex64))


def test_bad_method_and_percentiles():
    x = torch.zeros(2, 2)
    with pytest.raises(ValueError, match=r"method: expected one of .* got 'mean'"):
        normalize(x, method="mean")
    with pytest.raises(ValueError, match=r"low, high: expected low < high, got low=99, high=1"):
        normalize(x, low=99, high=1)
    with pytest.raises(ValueError, match=r"low, high: expected low < high"):
        value_range(x, low=5, high=5)
    with pytest.raises(ValueError, match=r"high: expected a percentile in \[0, 100\], got 101"):
        value_range(x, low=1, high=101)
    with pytest.raises(ValueError, match=r"low: expected a percentile in \[0, 100\], got -1"):
        value_range(x, low=-1)
    with pytest.raises(ValueError, match=r"q: expected a number between 0\.0 and 100\.0, got 120"):
        percentiles(x, [50, 120])
    with pytest.raises(TypeError, match=r"q: expected a number, got str '50'"):
        percentiles(x, ["50"])
    with pytest.raises(ValueError, match=r"x: expected at least one value"):
        percentiles(torch.zeros(0), [50])


def test_bad_window():
    x = torch.zeros(2, 2)
    with pytest.raises(
        ValueError, match=r"center, width: expected a finite center and a width > 0"
    ):
        normalize(x, method="window", center=10, width=0)
    with pytest.raises(ValueError, match=r"width > 0, got center=10.0, width=-5.0"):
        value_range(x, method="window", center=10, width=-5)
    with pytest.raises(TypeError, match=r"center, width: expected two numbers, got center='a'"):
        value_range(x, method="window", center="a", width=10)
    with pytest.raises(TypeError, match=r"Volume.dicom_window: expected two numbers"):
        value_range(make_volume(torch.zeros(1, 2, 2), dicom_window=(None, 1.0)), method="window")
    with pytest.raises(ValueError, match=r"center, width: give both or neither"):
        value_range(x, method="window", center=10)
    with pytest.raises(ValueError, match=r"center, width: only used with method='window'"):
        value_range(x, center=10, width=5)
    with pytest.raises(ValueError, match=r"method='window': needs center= and width=.*no Volume"):
        normalize(x, method="window")
    with pytest.raises(ValueError, match=r"a Volume without a window"):
        normalize(make_volume(torch.zeros(1, 2, 2)), method="window")
    with pytest.raises(ValueError, match=r"Volume.dicom_window: expected .* width > 0"):
        normalize(make_volume(torch.zeros(1, 2, 2), dicom_window=(10.0, 0.0)), method="window")


def test_all_nan_has_no_range():
    with pytest.raises(ValueError, match=r"x: no finite values \(all 4 are NaN or inf\)"):
        normalize(np.full((2, 2), NAN))
    # A window needs no data range.
    out = normalize(np.full((2, 2), NAN), method="window", center=0, width=1)
    assert np.isnan(out).all()


def test_to_uint8_errors():
    with pytest.raises(TypeError, match=r"x: expected floating values in \[0, 1\], got dtype"):
        to_uint8(torch.zeros(2, dtype=torch.int16))
    with pytest.raises(TypeError, match=r"x: to_uint8 quantises values in \[0, 1\], got a Volume"):
        to_uint8(make_volume(torch.zeros(1, 2, 2)))
    with pytest.raises(TypeError, match=r"x: expected a Volume, a torch.Tensor or a numpy"):
        to_uint8([0.5])


def test_histogram_errors():
    x = torch.arange(5.0)
    with pytest.raises(ValueError, match=r"bins: expected an integer between 1 and 65536, got 0"):
        histogram(x, bins=0)
    with pytest.raises(
        ValueError, match=r"bins: expected an integer between 1 and 65536, got 100000000"
    ):
        histogram(x, bins=10**8)
    with pytest.raises(TypeError, match=r"bins: expected an integer, got float 2.5"):
        histogram(x, bins=2.5)
    with pytest.raises(ValueError, match=r"threshold: only used with exclude_background=True"):
        histogram(x, threshold=3)
    with pytest.raises(ValueError, match=r"limits: expected finite \(lo, hi\) with lo < hi"):
        histogram(x, limits=(3, 3))
    with pytest.raises(ValueError, match=r"x: no values > 10.0 to count"):
        histogram(x, exclude_background=True, threshold=10)
    with pytest.raises(ValueError, match=r"x: expected at least one value"):
        histogram(torch.zeros(0))


def test_value_range_returns_python_floats_for_numpy_scalars():
    lo, hi = value_range(np.arange(10.0)[None], low=np.float32(10), high=np.int64(90))
    assert type(lo) is float and type(hi) is float
    assert (lo, hi) == pytest.approx((0.9, 8.1))
