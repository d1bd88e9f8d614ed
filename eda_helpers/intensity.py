"""Pure intensity functions: value ranges, percentiles, normalisation, uint8, histograms.

Tensors (or arrays) in, tensors (or arrays) out; inputs are never modified and nothing
here knows about files or matplotlib. Every function takes a :class:`~eda_helpers.Volume`,
a :class:`torch.Tensor` (on any device) or a :class:`numpy.ndarray`.

Rules shared by the functions of this module:

- **Inputs.** Any real dtype and any strides or byte order; bool is read as 0/1, and
  uint16/uint32 (numpy or torch) as int32/int64, exactly. uint64 is refused. Tensors
  that require grad are read detached: no result is part of an autograd graph.
- **Non-finite values.** NaN and +/-inf are ignored when a range or a percentile is
  computed. :func:`normalize` keeps NaN as NaN in its output and clips +/-inf to 1/0;
  :func:`to_uint8` maps NaN to 0.
- **Exact percentiles.** :func:`percentiles` (and so ``method="percentile"``) returns the
  same numbers as ``numpy.nanpercentile`` (its default "linear" method), from the order
  statistics ``numpy.partition`` picks, on volumes of any size (``torch.quantile`` refuses
  inputs of more than 16 million elements). ``benchmarks/bench_percentiles.py`` chose it:
  on a 60x512x512 volume it is the quickest exact way (0.7-0.8x the time of
  ``np.percentile``; a hand-written radix selection with ``bincount`` took 2-6x, for a
  peak memory of one copy of the values instead of about half of that).
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any, Literal, TypeVar, cast, overload

import numpy as np
import torch
from numpy.typing import NDArray

from . import _checks
from .volume import Volume

__all__ = [
    "Method",
    "WindowSpec",
    "grey_levels",
    "histogram",
    "normalize",
    "percentiles",
    "resolve_window",
    "to_uint8",
    "value_range",
]

Method = Literal["percentile", "minmax", "window"]
_METHODS: tuple[str, ...] = ("percentile", "minmax", "window")

_T = TypeVar("_T", torch.Tensor, np.ndarray)

# Elements per step of a pass over the data: bounds each temporary to a few tens of MB
# whatever the size of the volume.
_CHUNK = 1 << 20

# numpy dtypes torch cannot compute with, and the exact type they are read as.
_NUMPY_WIDEN = {np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64}
# The same for torch's own wide unsigned types (torch >= 2.3), which have no min/max,
# sort or bincount on the CPU.
_TORCH_WIDEN = {
    getattr(torch, name): wide
    for name, wide in (("uint16", torch.int32), ("uint32", torch.int64))
    if hasattr(torch, name)
}
_TORCH_UINT64 = getattr(torch, "uint64", None)


# --------------------------------------------------------------------------- inputs


def _as_tensor(x: object, name: str = "x") -> tuple[torch.Tensor, bool]:
    """The pixels of ``x`` as a tensor (sharing memory where possible) and "was numpy"."""
    if isinstance(x, Volume | torch.Tensor):
        # Nothing here is differentiable: results are plain numbers and new tensors.
        t, is_numpy = (x.pixels if isinstance(x, Volume) else x).detach(), False
    elif isinstance(x, np.ndarray):
        a = x
        if a.dtype in _NUMPY_WIDEN:
            a = a.astype(_NUMPY_WIDEN[a.dtype])
        elif a.dtype.kind in "iufb" and (not a.dtype.isnative or any(s < 0 for s in a.strides)):
            a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))
        if a.dtype.kind not in "iufb" or a.dtype == np.uint64:
            raise TypeError(
                f"{name}: expected real numbers (int, uint or float), got a numpy array of "
                f"dtype {x.dtype}; convert it first, e.g. {name}.astype(np.float32)"
            )
        with warnings.catch_warnings():
            # Read-only arrays (np.broadcast_to, memory maps) are fine: nothing here writes.
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            t = torch.from_numpy(a)
        is_numpy = True
    else:
        raise TypeError(
            f"{name}: expected a Volume, a torch.Tensor or a numpy.ndarray, got "
            f"{type(x).__name__}; wrap lists with numpy.asarray({name})"
        )
    if t.dtype.is_complex:
        raise TypeError(f"{name}: expected real numbers, got complex dtype {t.dtype}")
    if t.dtype == _TORCH_UINT64:
        raise TypeError(
            f"{name}: expected real numbers torch can compute with, got a tensor of dtype "
            f"{t.dtype}; convert it first, e.g. {name}.to(torch.float64)"
        )
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    elif t.dtype in _TORCH_WIDEN:
        t = t.to(_TORCH_WIDEN[t.dtype])
    return t, is_numpy


def _checked_pixels(x: object, name: str = "x") -> tuple[torch.Tensor, bool]:
    """:func:`_as_tensor`, plus the rules for images: 2-D or 3-D and not empty."""
    t, is_numpy = _as_tensor(x, name)
    if t.ndim not in (2, 3):
        raise ValueError(
            f"{name}: expected a 2-D (rows, cols) slice or a 3-D (slices, rows, cols) "
            f"volume, got {t.ndim}-D with shape {tuple(t.shape)}; index or reshape it first"
        )
    if t.numel() == 0:
        raise ValueError(f"{name}: expected at least one pixel, got shape {tuple(t.shape)}")
    return t, is_numpy


def _finite_flat(t: torch.Tensor, name: str) -> tuple[torch.Tensor, float, float]:
    """Flattened finite values of ``t`` with their min and max.

    Copies only when ``t`` holds NaN or inf (the min/max pass tells, at little cost).
    """
    flat = t.reshape(-1)
    lo, hi = (float(v) for v in torch.aminmax(flat))
    if math.isfinite(lo) and math.isfinite(hi):
        return flat, lo, hi
    flat = flat[torch.isfinite(flat)]
    if flat.numel() == 0:
        raise ValueError(
            f"{name}: no finite values (all {t.numel()} are NaN or inf), so there is no "
            f"range to compute; pass method='window' with center= and width="
        )
    lo, hi = (float(v) for v in torch.aminmax(flat))
    return flat, lo, hi


def _is_real(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_percentile_pair(low: float, high: float) -> None:
    for arg, v in (("low", low), ("high", high)):
        if not (_is_real(v) and 0.0 <= v <= 100.0):
            raise ValueError(f"{arg}: expected a percentile in [0, 100], got {v!r}")
    if not low < high:
        raise ValueError(
            f"low, high: expected low < high, got low={low!r}, high={high!r}; "
            f"swap them or pick e.g. low=0.5, high=99.5"
        )


# ---------------------------------------------------------------------- percentiles


def _order_statistics(flat: torch.Tensor, ranks: Sequence[int]) -> dict[int, float]:
    """Exact values of the given 0-based ranks of the finite, 1-D ``flat``.

    One ``numpy.partition`` of a copy of the values (on the host for a tensor on
    another device), as ``numpy.percentile`` does inside.
    """
    t = flat.detach()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds each exactly
        t = t.to(torch.float32)
    values = t.cpu().numpy()
    part = np.partition(values, list(ranks))
    return {r: float(part[r]) for r in ranks}


def _lerp(a: float, b: float, t: float) -> float:
    # numpy's formulation, so that the results match numpy.percentile to the last bit.
    diff = b - a
    return b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


def _percentiles_of(flat: torch.Tensor, qs: Sequence[float], lo: float, hi: float) -> list[float]:
    """Percentiles ``qs`` of the finite, 1-D ``flat`` whose min and max are ``lo``, ``hi``."""
    if lo == hi:  # constant: nothing to select
        return [lo] * len(qs)
    n = flat.numel()
    positions = [(float(q) / 100.0) * (n - 1) for q in qs]
    ranks = sorted({r for p in positions for r in (math.floor(p), min(math.floor(p) + 1, n - 1))})
    values = _order_statistics(flat, ranks)
    out = []
    for p in positions:
        i = math.floor(p)
        out.append(_lerp(values[i], values[min(i + 1, n - 1)], p - i))
    return out


def percentiles(x: Volume | torch.Tensor | np.ndarray, q: Sequence[float]) -> tuple[float, ...]:
    """Exact percentiles of the finite values of ``x``.

    The numbers are those of ``numpy.nanpercentile(x, q)`` (the default "linear" method),
    computed from the order statistics of one ``numpy.partition`` (a copy of the finite
    values; a tensor on another device is copied to the host), on inputs of any size.

    Parameters
    ----------
    x : Volume, torch.Tensor or numpy.ndarray
        Values of any shape (at least one finite). NaN and +/-inf are ignored.
    q : sequence of float
        Percentiles, each in [0, 100].

    Returns
    -------
    tuple of float
        One value per entry of ``q``.

    Raises
    ------
    TypeError
        If ``x`` is not a Volume, tensor or array of real numbers, or a percentile is
        not a number.
    ValueError
        If ``x`` is empty or has no finite value, or a percentile is outside [0, 100].

    Examples
    --------
    >>> import torch
    >>> percentiles(torch.arange(11, dtype=torch.int16), [0, 25, 50, 95])
    (0.0, 2.5, 5.0, 9.5)
    """
    t, _ = _as_tensor(x)
    if t.numel() == 0:
        raise ValueError(f"x: expected at least one value, got shape {tuple(t.shape)}")
    items: list[object] = [q] if _is_real(q) else list(q)
    qs = [_checks.real("q", v, minimum=0.0, maximum=100.0) for v in items]
    flat, lo, hi = _finite_flat(t, "x")
    return tuple(_percentiles_of(flat, qs, lo, hi))


# ------------------------------------------------------------------ normalisation


def value_range(
    x: Volume | torch.Tensor | np.ndarray,
    *,
    method: Method = "percentile",
    low: float = 0.5,
    high: float = 99.5,
    center: float | None = None,
    width: float | None = None,
) -> tuple[float, float]:
    """The intensities ``(lo, hi)`` that :func:`normalize` maps to 0 and 1.

    Parameters
    ----------
    x : Volume, torch.Tensor or numpy.ndarray
        A 2-D slice or a 3-D (slices, rows, cols) volume, any real dtype, any device.
    method : {"percentile", "minmax", "window"}
        ``"percentile"``: the ``low`` and ``high`` percentiles of the finite values
        (exact, see :func:`percentiles`); the default ignores the 0.5 % brightest and
        darkest pixels, so that a few bright outliers do not squash the image.
        ``"minmax"``: the smallest and largest finite values.
        ``"window"``: ``center -/+ width / 2``; when ``center`` and ``width`` are not
        given and ``x`` is a Volume, its ``window`` (from the DICOM files) is used.
    low, high : float
        Percentiles for ``method="percentile"``, ``0 <= low < high <= 100``.
    center, width : float, optional
        The window for ``method="window"`` (both or neither), ``width > 0``.

    Returns
    -------
    tuple of float
        ``(lo, hi)`` with ``lo <= hi``; ``lo == hi`` when the values are all equal.

    Raises
    ------
    TypeError
        If ``x`` is not a Volume, tensor or array of real numbers; if ``center`` or
        ``width`` is not a number.
    ValueError
        If ``x`` is not 2-D or 3-D, is empty or has no finite value; if ``method`` is
        unknown; if ``low``/``high`` are out of order or out of [0, 100]; if ``width`` is
        not positive; if only one of ``center``/``width`` is given, or they are given with
        another method; if ``method="window"`` gets no window from anywhere.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0, 10], [20, 1000]], dtype=torch.int16)
    >>> value_range(x, method="minmax")
    (0.0, 1000.0)
    >>> value_range(x, method="percentile", low=0, high=50)
    (0.0, 15.0)
    >>> value_range(x, method="window", center=40, width=80)
    (0.0, 80.0)
    """
    lo, hi, _, _ = _range_and_pixels(x, method, low, high, center, width)
    return lo, hi


def _range_and_pixels(
    x: object,
    method: str,
    low: float,
    high: float,
    center: float | None,
    width: float | None,
) -> tuple[float, float, torch.Tensor, bool]:
    """:func:`value_range`, plus the pixels as :func:`_as_tensor` gives them (converted once)."""
    if method not in _METHODS:
        raise ValueError(
            f"method: expected one of {', '.join(map(repr, _METHODS))}, got {method!r}"
        )
    if (center is None) != (width is None):
        raise ValueError(
            f"center, width: give both or neither, got center={center!r}, width={width!r}"
        )
    if center is not None and method != "window":
        raise ValueError(
            f"center, width: only used with method='window', got method={method!r}; "
            f"pass method='window' to use them"
        )
    if method == "percentile":
        _check_percentile_pair(low, high)
    t, is_numpy = _checked_pixels(x)
    if method == "window":
        source = "center, width"
        if center is None or width is None:
            window = x.dicom_window if isinstance(x, Volume) else None
            if window is None:
                got = "a Volume without a window" if isinstance(x, Volume) else "no Volume"
                raise ValueError(
                    f"method='window': needs center= and width=, or a Volume whose files "
                    f"carry a window; got {got}; pass center= and width= (for example "
                    f"from value_range(x, method='percentile'))"
                )
            center, width = window
            source = "Volume.dicom_window"
        try:
            c, w = float(center), float(width)
        except (TypeError, ValueError):
            raise TypeError(
                f"{source}: expected two numbers, got center={center!r}, width={width!r}; "
                f"pass e.g. center=400, width=800"
            ) from None
        if not (math.isfinite(c) and math.isfinite(w) and w > 0):
            raise ValueError(
                f"{source}: expected a finite center and a width > 0, got center={c!r}, width={w!r}"
            )
        return c - w / 2.0, c + w / 2.0, t, is_numpy
    flat, lo, hi = _finite_flat(t, "x")
    if method == "percentile":
        lo, hi = _percentiles_of(flat, (low, high), lo, hi)
    return lo, hi, t, is_numpy


@overload
def normalize(
    x: Volume,
    *,
    method: Method = ...,
    low: float = ...,
    high: float = ...,
    center: float | None = ...,
    width: float | None = ...,
) -> torch.Tensor: ...
@overload
def normalize(
    x: _T,
    *,
    method: Method = ...,
    low: float = ...,
    high: float = ...,
    center: float | None = ...,
    width: float | None = ...,
) -> _T: ...
def normalize(
    x: Volume | torch.Tensor | np.ndarray,
    *,
    method: Method = "percentile",
    low: float = 0.5,
    high: float = 99.5,
    center: float | None = None,
    width: float | None = None,
) -> torch.Tensor | np.ndarray:
    """Map intensities to float32 in [0, 1], clipping outside the chosen range.

    ``(lo, hi) = value_range(x, ...)``; the output is ``clip((x - lo) / (hi - lo), 0, 1)``.

    Parameters
    ----------
    x : Volume, torch.Tensor or numpy.ndarray
        A 2-D slice or a 3-D (slices, rows, cols) volume, any real dtype, any device.
        Never modified.
    method : {"percentile", "minmax", "window"}
        How ``(lo, hi)`` is chosen, see :func:`value_range`. ``"minmax"`` and
        ``"percentile"`` use the whole input (all slices of a volume).
    low, high : float
        Percentiles for ``method="percentile"``, ``0 <= low < high <= 100``.
    center, width : float, optional
        The window for ``method="window"``; by default that of the Volume.

    Returns
    -------
    torch.Tensor or numpy.ndarray
        float32, same shape as ``x``; a numpy array for a numpy input, otherwise a
        tensor on the device of ``x`` (a Volume gives a tensor of its pixels).
        Values are in [0, 1] except NaN, which stays NaN (NaN and inf are ignored when the
        range is computed; +inf becomes 1 and -inf 0). When ``lo == hi`` the output is
        0 where ``x <= lo`` and 1 where ``x > lo``, with no warning: all zeros for a
        constant input, and a two-level image when both percentiles fall on one value
        (with the defaults, when about 99 % of the pixels share one value); pick other
        ``low``/``high`` or ``method="minmax"`` for such data.

    Raises
    ------
    TypeError, ValueError
        As :func:`value_range`.

    See Also
    --------
    value_range : the ``(lo, hi)`` used here.
    to_uint8 : quantise the result for display or saving.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0, 50], [100, 5000]], dtype=np.int16)  # one bright outlier
    >>> normalize(x, method="minmax")
    array([[0.  , 0.01],
           [0.02, 1.  ]], dtype=float32)
    >>> normalize(x, method="window", center=50, width=100)
    array([[0. , 0.5],
           [1. , 1. ]], dtype=float32)
    """
    lo, hi, t, is_numpy = _range_and_pixels(x, method, low, high, center, width)
    out = torch.empty(t.shape, dtype=torch.float32, device=t.device)
    if hi > lo:
        # One output buffer, updated in place: no other full-size temporary. (Converting
        # first and subtracting in place is also ~3x faster than a converting subtraction.)
        out.copy_(t)
        out.sub_(lo).div_(hi - lo).clamp_(0.0, 1.0)
    else:
        torch.gt(t, lo, out=out)
        if t.dtype.is_floating_point:
            out.masked_fill_(torch.isnan(t), math.nan)
    return out.numpy() if is_numpy else out


def to_uint8(x: _T) -> _T:
    """Quantise values in [0, 1] to uint8 0..255.

    ``round(x * 255)`` (to nearest, ties to even like :func:`numpy.rint`), clamped to
    0..255 so values outside [0, 1] saturate; NaN becomes 0. The product is taken in
    the dtype of ``x``, or in float32 for float16/bfloat16 (where it is then exact).

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray
        Floating values, typically the output of :func:`normalize`; any shape, any
        device. Never modified.

    Returns
    -------
    torch.Tensor or numpy.ndarray
        uint8, same shape and kind as ``x`` (and same device for a tensor).

    Raises
    ------
    TypeError
        If ``x`` is not a tensor or array, or does not hold floating values.

    Examples
    --------
    >>> import numpy as np
    >>> to_uint8(np.array([0.0, 0.5, 1.0, 1.7, -0.2, np.nan]))
    array([  0, 128, 255, 255,   0,   0], dtype=uint8)
    """
    if isinstance(x, Volume):
        raise TypeError(
            "x: to_uint8 quantises values in [0, 1], got a Volume of raw pixels; "
            "pass normalize(volume) instead"
        )
    t, is_numpy = _as_tensor(x)
    if not t.dtype.is_floating_point:
        raise TypeError(
            f"x: expected floating values in [0, 1], got dtype {t.dtype}; "
            f"scale them first, e.g. to_uint8(normalize(x))"
        )
    out = torch.empty(t.shape, dtype=torch.uint8, device=t.device)
    # float16/bfloat16 products would be rounded to 11/8 bits before round() sees them
    # (0.00588 * 255 = 1.49998 becomes 1.5, then 2); in float32 they are exact.
    wide = torch.float32 if t.element_size() < 4 else t.dtype
    # Chunk by chunk, so that the float temporary stays small whatever the input size.
    for src, dst in zip(t.reshape(-1).split(_CHUNK), out.view(-1).split(_CHUNK), strict=True):
        scaled = torch.mul(src.to(wide), 255.0)
        dst.copy_(scaled.round_().clamp_(0.0, 255.0).nan_to_num_(nan=0.0))
    return cast(_T, out.numpy() if is_numpy else out)


# -------------------------------------------------------------------- histograms


MAX_BINS = 1 << 16
"""The most bins :func:`histogram` draws: one per value of 16-bit data. More cannot be
seen, and ``bins=10**8`` would take minutes and gigabytes."""


def histogram(
    x: Volume | torch.Tensor | np.ndarray,
    *,
    bins: int = 256,
    limits: tuple[float, float] | None = None,
    exclude_background: bool = False,
    threshold: float | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Counts of the finite values of ``x`` in equal-width bins, like numpy.histogram.

    Parameters
    ----------
    x : Volume, torch.Tensor or numpy.ndarray
        Values of any shape, any real dtype, any device. NaN and +/-inf are not counted.
    bins : int
        Number of bins, 1 to :data:`MAX_BINS` (at most; see ``limits``).
    limits : (float, float), optional
        ``(lo, hi)`` of the first and last edges; values outside are not counted.
        By default, for floats, the min and max of the counted values
        (``(v - 0.5, v + 0.5)`` when they are all equal to ``v``, as numpy does); for
        integer data, edges half-way between integers with the same number of integer
        values in every bin (so no comb pattern), which can give fewer than ``bins``
        bins: 0..9 in ``bins=4`` gives 4 bins of 3 values, edges -0.5, 2.5, ..., 11.5.
    exclude_background : bool
        Leave out the background: values ``<= threshold``.
    threshold : float, optional
        Background level for ``exclude_background=True``; 0 by default, which leaves
        out the zeros (and anything below) that surround the anatomy in MR.

    Returns
    -------
    counts : ndarray of int64, shape (bins,)
    edges : ndarray of float64, shape (bins + 1,)
        Bin ``i`` holds ``edges[i] <= v < edges[i + 1]``; the last bin also holds
        ``v == edges[-1]``.

    Raises
    ------
    TypeError
        If ``x`` is not a Volume, tensor or array of real numbers.
    ValueError
        If ``x`` is empty; if ``bins`` is not between 1 and :data:`MAX_BINS`; if
        ``limits`` is not increasing and finite; if ``threshold`` is given without
        ``exclude_background=True``; if no value is left to count and ``limits`` is not
        given.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([0.0, 0.0, 1.0, 2.0, 3.0, 4.0])
    >>> counts, edges = histogram(x, bins=2)
    >>> counts.tolist(), edges.tolist()
    ([3, 3], [0.0, 2.0, 4.0])
    >>> histogram(x, bins=2, exclude_background=True)
    (array([2, 2]), array([1. , 2.5, 4. ]))
    >>> histogram(x.to(torch.int16), bins=3)  # integer data: integer-aligned bins
    (array([3, 2, 1]), array([-0.5,  1.5,  3.5,  5.5]))
    """
    bins = _checks.integer("bins", bins, minimum=1, maximum=MAX_BINS)
    if threshold is not None and not exclude_background:
        raise ValueError(
            f"threshold: only used with exclude_background=True, got threshold="
            f"{threshold!r} with exclude_background=False; pass exclude_background=True"
        )
    if limits is not None:
        a, b = (float(v) for v in limits)
        if not (math.isfinite(a) and math.isfinite(b) and a < b):
            raise ValueError(
                f"limits: expected finite (lo, hi) with lo < hi, got {tuple(limits)!r}"
            )
    t, _ = _as_tensor(x)
    if t.numel() == 0:
        raise ValueError(f"x: expected at least one value, got shape {tuple(t.shape)}")
    cut = (0.0 if threshold is None else float(threshold)) if exclude_background else None
    flat = t.reshape(-1)

    def kept(chunk: torch.Tensor) -> torch.Tensor:
        c = chunk.to(torch.float64)
        keep = torch.isfinite(c)
        if cut is not None:
            keep &= c > cut
        if limits is not None:
            keep &= (c >= a) & (c <= b)
        return c[keep]

    if limits is None:
        lo, hi = math.inf, -math.inf
        for chunk in flat.split(_CHUNK):
            c = kept(chunk)
            if c.numel():
                cmin, cmax = torch.aminmax(c)
                lo, hi = min(lo, float(cmin)), max(hi, float(cmax))
        if lo > hi:
            what = f"values > {cut}" if cut is not None else "finite values"
            raise ValueError(f"x: no {what} to count; lower threshold= or pass limits=(lo, hi)")
        if not t.dtype.is_floating_point:
            # Whole numbers of integer values per bin, edges half-way between integers:
            # otherwise some bins catch one value more than their neighbours (a comb).
            per_bin = math.ceil((hi - lo + 1) / bins)
            bins = math.ceil((hi - lo + 1) / per_bin)
            lo, hi = lo - 0.5, lo - 0.5 + bins * per_bin
        elif lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
    else:
        lo, hi = a, b
    counts = torch.zeros(int(bins), dtype=torch.int64, device=t.device)
    edges = np.linspace(lo, hi, int(bins) + 1)
    edges_t = torch.from_numpy(edges).to(t.device)
    # The scaled value can round across an edge (0.3 in 3 bins of [0, 0.9] gives
    # 0.9999...), so each index is settled against the returned edges, as numpy does;
    # not needed for integers between the default half-integer edges (never close).
    settle = limits is not None or t.dtype.is_floating_point
    scale = bins / (hi - lo)
    for chunk in flat.split(_CHUNK):
        c = kept(chunk)
        index = ((c - lo) * scale).floor_().clamp_(0, bins - 1).to(torch.int64)
        if settle:
            index -= (c < edges_t.index_select(0, index)).to(torch.int64)
            above = c >= edges_t.index_select(0, index + 1)
            index += (above & (index < bins - 1)).to(torch.int64)
        counts += torch.bincount(index, minlength=bins)
    return counts.cpu().numpy(), edges


# ---------------------------------------------------------- display window, grey levels
#
# Every picture of the package (plot_grid, plot_cross_reference, the histogram's window
# markers, the SliceViewer live and saved) turns its ``window=`` argument into the values
# shown black and white with resolve_window, and those values into grey levels with
# grey_levels: the same arguments give the same pixels everywhere.

WindowSpec = Literal["percentile", "minmax", "dicom"] | tuple[float, float]
_WINDOW_NAMES: tuple[str, ...] = ("percentile", "minmax", "dicom")


def resolve_window(
    x: Volume | torch.Tensor | np.ndarray,
    window: WindowSpec | Sequence[float] = "percentile",
    *,
    low: float = 0.5,
    high: float = 99.5,
) -> tuple[float, float]:
    """The values ``(lo, hi)`` a picture shows black and white, from a window spec.

    Parameters
    ----------
    x : Volume, torch.Tensor or numpy.ndarray
        The values the window is for (a 2-D slice or a 3-D volume); a named window is
        computed from all of them.
    window : {"percentile", "minmax", "dicom"} or (low, high), default "percentile"
        ``"percentile"``: the ``low`` and ``high`` percentiles of the finite values
        (see :func:`percentiles`). ``"minmax"``: the smallest and largest finite values.
        ``"dicom"``: ``center -/+ width / 2`` from the WindowCenter/WindowWidth of the
        files (``Volume.dicom_window``). Two numbers: the values shown black and white.
    low, high : float
        Percentiles for ``window="percentile"``, ``0 <= low < high <= 100``.

    Returns
    -------
    tuple of float
        ``(lo, hi)`` with ``lo < hi``. A named window of data that holds one value only
        (``lo == hi``) is widened to ``(v - 0.5, v + 0.5)``, so that the value is shown
        mid-grey rather than black.

    Raises
    ------
    TypeError
        If ``window`` is neither a name nor a pair, or a bound is not a number; as
        :func:`value_range` for ``x``.
    ValueError
        If the name is unknown; if the bounds are not finite with ``lo < hi``;
        if ``"dicom"`` is asked of data without a DICOM window; if a named window
        finds no finite value; as :func:`value_range` for ``low``/``high``.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0, 10], [20, 1000]], dtype=torch.int16)
    >>> resolve_window(x, "minmax"), resolve_window(x, (5, 50))
    ((0.0, 1000.0), (5.0, 50.0))
    >>> resolve_window(torch.full((2, 2), 7.0), "minmax")
    (6.5, 7.5)
    """
    if isinstance(window, str):
        if window not in _WINDOW_NAMES:
            raise ValueError(
                f"window: expected one of {', '.join(map(repr, _WINDOW_NAMES))} or "
                f"(low, high), got str {window!r}"
            )
        if window == "dicom":
            if not isinstance(x, Volume) or x.dicom_window is None:
                what = "a Volume without one" if isinstance(x, Volume) else type(x).__name__
                raise ValueError(
                    f"window: expected data with a DICOM WindowCenter/WindowWidth for "
                    f"'dicom', got {what}; pass window='percentile' or (low, high)"
                )
            lo, hi = value_range(x, method="window")
        else:
            try:
                lo, hi = value_range(x, method=window, low=low, high=high)
            except ValueError as e:
                if "no finite values" not in str(e):
                    raise
                raise ValueError(
                    f"window: expected finite values for {window!r}, got none (every "
                    f"value is NaN or inf); pass window=(low, high)"
                ) from None
        if not hi > lo:
            lo, hi = lo - 0.5, lo + 0.5
        return float(lo), float(hi)
    if not isinstance(window, Sequence) or len(window) != 2:
        raise TypeError(
            f"window: expected one of {', '.join(map(repr, _WINDOW_NAMES))} or a "
            f"(low, high) pair, got {type(window).__name__} {window!r}"
        )
    _checked_pixels(x, "x")  # the same rules for x whatever the window
    a, b = window[0], window[1]
    if not (_is_real(a) and _is_real(b)):
        raise TypeError(
            f"window: expected two numbers (low, high), got {a!r} and {b!r}; pass the "
            f"values shown black and white, e.g. (0.0, 1000.0)"
        )
    lo, hi = float(a), float(b)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(
            f"window: expected finite numbers with low < high, got ({lo!r}, {hi!r}); "
            f"pass the value shown black first and the value shown white second"
        )
    return lo, hi


@functools.lru_cache(maxsize=8)
def _grey_table(dtype: str, lo: float, hi: float) -> NDArray[np.uint8] | None:
    """Grey levels indexed by the raw bytes of an 8/16-bit integer dtype, or None."""
    dt = np.dtype(dtype)
    if dt.kind not in "iu" or dt.itemsize > 2:
        return None
    n = 1 << (8 * dt.itemsize)
    values = np.arange(n, dtype=np.uint32).astype(f"u{dt.itemsize}").view(dt)
    return _grey_formula(values, lo, hi)


def _grey_formula(values: NDArray[Any], lo: float, hi: float) -> NDArray[np.uint8]:
    out = np.subtract(values, lo, dtype=np.float64)
    out /= hi - lo
    np.clip(out, 0.0, 1.0, out=out)
    out *= 255.0
    np.rint(out, out=out)
    np.nan_to_num(out, copy=False, nan=0.0)
    return out.astype(np.uint8)


def grey_levels(
    values: Volume | torch.Tensor | np.ndarray, lo: float, hi: float
) -> NDArray[np.uint8]:
    """Display grey levels 0..255 of ``values`` for the window ``(lo, hi)``.

    ``v`` becomes ``rint(255 * clip((v - lo) / (hi - lo), 0, 1))``, computed in float64;
    NaN becomes 0, +inf 255 and -inf 0. 8- and 16-bit integer data (12-bit MR is int16)
    go through a lookup table of every possible value, which gives the same numbers
    several times faster.

    Parameters
    ----------
    values : Volume, torch.Tensor or numpy.ndarray
        Any shape and real dtype. Never modified.
    lo, hi : float
        The values shown black and white, finite, ``lo < hi`` (from
        :func:`resolve_window`).

    Returns
    -------
    ndarray of uint8
        Same shape as ``values`` (a numpy array whatever the input).

    Raises
    ------
    TypeError
        If ``values`` is not real numbers, or ``lo``/``hi`` are not numbers.
    ValueError
        If ``lo``/``hi`` are not finite with ``lo < hi``.

    Examples
    --------
    >>> grey_levels(np.array([[0, 50], [100, 200]], dtype=np.int16), 0, 100)
    array([[  0, 128],
           [255, 255]], dtype=uint8)
    """
    if not (_is_real(lo) and _is_real(hi)):
        raise TypeError(
            f"lo, hi: expected two numbers, got {lo!r} and {hi!r}; pass the values shown "
            f"black and white, e.g. from resolve_window(x, 'percentile')"
        )
    lo_f, hi_f = float(lo), float(hi)
    if not (math.isfinite(lo_f) and math.isfinite(hi_f) and lo_f < hi_f):
        raise ValueError(
            f"lo, hi: expected finite numbers with lo < hi, got ({lo_f!r}, {hi_f!r}); "
            f"pass the value shown black first, e.g. from resolve_window(x, 'percentile')"
        )
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu" and values.itemsize <= 2:
        a = values if values.dtype.isnative else values.astype(values.dtype.newbyteorder("="))
    else:
        t, _ = _as_tensor(values, "values")
        t = t.cpu()
        a = (t.float() if t.dtype in (torch.float16, torch.bfloat16) else t).numpy()
    table = _grey_table(a.dtype.str, lo_f, hi_f)
    if table is not None:
        return np.take(table, a.view(f"u{a.dtype.itemsize}"))
    return _grey_formula(a, lo_f, hi_f)
