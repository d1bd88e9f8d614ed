"""Matplotlib figures of a Volume: a montage of its slices and its intensity histogram.

The functions take ``ax=`` to draw into an existing Axes, return what they drew, and never
call ``plt.show()``: the notebook decides when to show. The numbers come from
:mod:`eda_helpers.intensity`; only the drawing happens here.

In a notebook, ``plot_grid(v)`` as the last line of a cell shows the figure twice (once
by the inline backend, once as the cell's value): write ``fig = plot_grid(v)`` or end the
line with ``;``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import torch

from .intensity import Method, _checked_pixels, histogram, value_range
from .intensity import percentiles as _percentiles
from .volume import Point, Volume

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["grid_shape", "plot_cross_reference", "plot_grid", "plot_histogram"]

Scale = Literal["shared", "per_slice"]

# Longest side of a default montage figure, in inches.
_MAX_SIDE_IN = 10.0
_PANEL_IN = 2.2
_TITLE_IN = 0.35


def grid_shape(n: int, *, aspect: float = 1.0) -> tuple[int, int]:
    """(rows, cols) of a near-square montage of ``n`` panels.

    The panels are ``aspect`` times as tall as they are wide (on screen). The shape that
    gives the panels the most room in a square is chosen; ties go to the fewer blank
    cells, then to the wider grid.

    Parameters
    ----------
    n : int
        Number of panels, >= 1.
    aspect : float
        Height / width of one panel as drawn, > 0.

    Returns
    -------
    tuple of int
        ``(rows, cols)`` with ``rows * cols >= n`` and no empty last row.

    Raises
    ------
    ValueError
        If ``n < 1`` or ``aspect <= 0``.

    Examples
    --------
    >>> grid_shape(25), grid_shape(7), grid_shape(2), grid_shape(4, aspect=0.25)
    ((5, 5), (3, 3), (1, 2), (4, 1))
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n: expected an integer >= 1, got {n!r}")
    if not (math.isfinite(aspect) and aspect > 0):
        raise ValueError(f"aspect: expected a finite number > 0, got {aspect!r}")
    best: tuple[float, int, int] | None = None
    shape = (1, 1)
    for cols in range(1, int(n) + 1):
        rows = math.ceil(n / cols)
        if (rows - 1) * cols >= n:
            continue  # an entirely empty last row
        side = max(cols, rows * aspect)
        score = (round(side, 9), rows * cols - n, -cols)
        if best is None or score < best:
            best, shape = score, (rows, cols)
    return shape


def _pick_slices(n: int, slices: Iterable[int] | None, max_panels: int) -> list[int]:
    if isinstance(max_panels, bool) or not isinstance(max_panels, int | np.integer):
        raise TypeError(f"max_panels: expected an integer >= 1, got {max_panels!r}")
    if max_panels < 1:
        raise ValueError(f"max_panels: expected an integer >= 1, got {max_panels}")
    if slices is None:
        if n <= max_panels:
            return list(range(n))
        # Evenly spaced, first and last included; distinct because the step exceeds 1.
        return [int(i) for i in np.linspace(0, n - 1, int(max_panels)).round()]
    picked = []
    for i in slices:
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise TypeError(f"slices: expected integer slice indices, got {i!r}")
        if not 0 <= i < n:
            raise ValueError(
                f"slices: index {int(i)} is out of range for a volume of {n} slices; "
                f"use indices 0..{n - 1}"
            )
        picked.append(int(i))
    if not picked:
        raise ValueError("slices: expected at least one slice index, got none")
    if len(picked) > max_panels:
        raise ValueError(
            f"slices: {len(picked)} slices given but max_panels={max_panels}; "
            f"pass fewer slices or raise max_panels"
        )
    return picked


@dataclass(frozen=True)
class _Layout:
    """Where the panels go, in montage coordinates: pixels of the full-size slices.

    The mosaic image itself may be ``factor`` times smaller on each side (blocks of
    ``factor x factor`` pixels averaged); it then spans the same montage coordinates.
    """

    rows: int
    cols: int
    panel_rows: int
    panel_cols: int
    gap: int
    factor: int = 1

    @property
    def _cells(self) -> tuple[int, int]:
        """(height, width) of one panel in mosaic pixels."""
        return -(-self.panel_rows // self.factor), -(-self.panel_cols // self.factor)

    def origin(self, j: int, *, mosaic: bool = False) -> tuple[int, int]:
        """(x, y) of the top-left pixel of panel ``j`` (in mosaic pixels if ``mosaic``)."""
        r, c = divmod(j, self.cols)
        ch, cw = self._cells
        x, y = c * (cw + self.gap), r * (ch + self.gap)
        return (x, y) if mosaic else (x * self.factor, y * self.factor)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the mosaic image in pixels."""
        ch, cw = self._cells
        return (
            self.rows * ch + (self.rows - 1) * self.gap,
            self.cols * cw + (self.cols - 1) * self.gap,
        )

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """imshow extent that puts the mosaic in montage coordinates."""
        h, w = self.size
        f = self.factor
        return (-0.5, w * f - 0.5, h * f - 0.5, -0.5)


def _colormap_lut(cmap: str, background: tuple[float, float, float, float]) -> torch.Tensor:
    """(257, 4) uint8 RGBA: the colormap's 256 colours, then the background colour."""
    lut = plt.get_cmap(cmap)(np.linspace(0.0, 1.0, 256), bytes=True)
    back = np.round(np.asarray(background, dtype=np.float64) * 255).astype(np.uint8)
    lut = np.concatenate([lut, back[None]])
    return torch.from_numpy(np.ascontiguousarray(lut, dtype=np.uint8))


_BACKGROUND = 256  # index of the background colour in the colormap table


def _mosaic(
    pixels: torch.Tensor,
    ranges: Sequence[tuple[float, float]],
    layout: _Layout,
    lut: torch.Tensor,
) -> torch.Tensor:
    """The (height, width, 4) uint8 RGBA montage of ``pixels`` (one slice per panel).

    Each slice is scaled by its ``(lo, hi)`` to 0..255 as normalize does, reduced by
    ``layout.factor`` (blocks of ``f x f`` pixels averaged, partial blocks at the edges
    over the pixels they hold: the antialiasing the screen needs) and coloured. Whole-
    stack operations only, no per-panel loop.
    """
    k = pixels.shape[0]
    lo = torch.tensor([r[0] for r in ranges], dtype=torch.float32, device=pixels.device)
    hi = torch.tensor([r[1] for r in ranges], dtype=torch.float32, device=pixels.device)
    flat = hi <= lo  # constant panels: 0 at or below lo, 255 above (as normalize)
    gain = torch.where(flat, torch.full_like(lo, 1e30), 255.0 / torch.where(flat, 1.0, hi - lo))
    out = torch.empty(pixels.shape, dtype=torch.float32, device=pixels.device)
    out.copy_(pixels)
    out.sub_(lo[:, None, None]).mul_(gain[:, None, None]).clamp_(0.0, 255.0)
    if layout.factor > 1:
        out = torch.nn.functional.avg_pool2d(out[:, None], layout.factor, ceil_mode=True)[:, 0]
    index = out.round_().nan_to_num_(nan=0.0).to(torch.int32).cpu()

    # Tile: pad every panel with the gap (background) to its cell, then lay the cells
    # out row by row and cut the gap after the last row and column.
    ch, cw = index.shape[1:]
    g = layout.gap
    cells = torch.full((layout.rows * layout.cols, ch + g, cw + g), _BACKGROUND, dtype=torch.int32)
    cells[:k, :ch, :cw] = index
    grid = cells.view(layout.rows, layout.cols, ch + g, cw + g).permute(0, 2, 1, 3)
    grid = grid.reshape(layout.rows * (ch + g), layout.cols * (cw + g))[:-g, :-g]
    return lut[grid]


def plot_grid(
    volume: Volume | torch.Tensor | np.ndarray,
    *,
    max_panels: int = 25,
    slices: Iterable[int] | None = None,
    scale: Scale = "shared",
    method: Method = "percentile",
    low: float = 0.5,
    high: float = 99.5,
    center: float | None = None,
    width: float | None = None,
    points: Iterable[Point] | None = None,
    cmap: str = "gray",
    labels: bool = True,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    downsample: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Show the slices of a volume side by side, as one montage image.

    The chosen slices are scaled to 0..255, tiled into one RGBA mosaic (blank cells and
    the gaps between panels in the figure's background colour) and drawn with a single
    ``imshow``; each panel gets a text label. One image renders much
    faster than one subplot per slice.

    Parameters
    ----------
    volume : Volume, torch.Tensor or numpy.ndarray
        A Volume or a 3-D (slices, rows, cols) tensor/array. Never modified.
    max_panels : int
        Most panels to draw, >= 1. A longer stack is sampled evenly, first and last
        slices included.
    slices : iterable of int, optional
        Slice indices (0-based, in slice order) to draw instead, in the order given.
    scale : {"shared", "per_slice"}
        ``"shared"``: one ``(lo, hi)`` for all panels, from :func:`value_range` over the
        whole volume (so the panels can be compared, and a panel looks the same
        whichever slices are shown). ``"per_slice"``: each panel scaled by its own range.
    method, low, high, center, width
        How ``(lo, hi)`` is chosen, as in :func:`eda_helpers.normalize` (default: the 0.5
        and 99.5 percentiles; ``method="window"`` uses the Volume's window by default).
    points : iterable of Point, optional
        Points to mark (needs a Volume, whose instance numbers place them): a cross on the
        panel of each point's slice, with its text beside it. Points of slices not drawn
        are left out.
    cmap : str
        Matplotlib colormap name.
    labels : bool
        Label each panel with its slice index and, for a Volume, ``#`` and its
        InstanceNumber (``"12 · #13"``).
    title : str, optional
        Axes title; by default the Volume's description, if any.
    figsize : (float, float), optional
        Size of a new figure in inches; by default from the grid shape (at most 10 in).
    downsample : bool
        Average blocks of ``f x f`` pixels (``f`` a whole number) so that the mosaic is
        not much larger than the Axes at the figure's dpi: the same picture on screen,
        rendered several times faster. Pass False to keep every pixel, for zooming in or
        saving at a higher dpi than the figure's.
    ax : matplotlib Axes, optional
        Draw into this Axes (its frame and ticks are turned off) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (that of ``ax`` when given). Its one Axes holds one
        AxesImage (the mosaic, RGBA uint8), the labels as text artists and the points as
        a scatter plus annotations. Data coordinates are the slices' pixels, offset per
        panel: pixel ``(x, y)`` of the slice in panel ``j`` is at ``(x0 + x, y0 + y)``,
        ``(x0, y0)`` being the panel's top-left corner, where its label sits. Panel ``j``
        is in grid row ``j // ncols``, column ``j % ncols``, filled row by row.

    Raises
    ------
    TypeError
        If ``volume`` is not a Volume, tensor or array; if ``points`` are given without
        a Volume; if ``max_panels`` or a slice index is not an integer.
    ValueError
        If ``volume`` is not 3-D or is empty; if ``max_panels < 1``; if a slice index is
        out of range or more slices than ``max_panels`` are given; if ``scale`` is
        unknown; and as :func:`eda_helpers.value_range`.

    Warns
    -----
    UserWarning
        If a point lies outside its slice (it is not drawn).

    Examples
    --------
    >>> import torch
    >>> fig = plot_grid(torch.rand(40, 32, 32), max_panels=9)
    >>> [t.get_text() for t in fig.axes[0].texts][:3], fig.axes[0].images[0].get_array().shape
    (['0', '5', '10'], (98, 98, 4))
    """
    pixels, _ = _checked_pixels(volume, "volume")
    if pixels.ndim != 3:
        raise ValueError(
            f"volume: expected a 3-D (slices, rows, cols) stack, got shape "
            f"{tuple(pixels.shape)}; add a slice axis with x[None] to show one slice"
        )
    if scale not in ("shared", "per_slice"):
        raise ValueError(f"scale: expected 'shared' or 'per_slice', got {scale!r}")
    is_volume = isinstance(volume, Volume)
    if points is not None and not is_volume:
        raise TypeError(
            f"points: placing points needs the instance numbers of a Volume, got a "
            f"{type(volume).__name__}; pass the Volume"
        )
    n, rows, cols = (int(s) for s in pixels.shape)
    picked = _pick_slices(n, slices, max_panels)
    options = {"method": method, "low": low, "high": high, "center": center, "width": width}
    if scale == "shared":
        ranges = [value_range(volume, **options)] * len(picked)
    elif method == "window":
        window = value_range(volume, **options)  # a window does not depend on the slice
        ranges = [window] * len(picked)
    else:
        ranges = [value_range(pixels[i], **options) for i in picked]

    aspect = 1.0
    if is_volume:
        _, dy, dx = volume.spacing
        if dx > 0 and dy > 0:
            aspect = dy / dx
    n_rows, n_cols = grid_shape(len(picked), aspect=aspect * rows / cols)
    gap = max(1, round(0.02 * max(rows, cols)))
    full = _Layout(n_rows, n_cols, rows, cols, gap)
    if title is None and is_volume:
        title = volume.description or None
    if ax is None:
        if figsize is None:
            h, w = full.size
            h *= aspect
            side = min(_MAX_SIDE_IN, _PANEL_IN * max(n_rows, n_cols))
            figsize = (side, side * h / w) if w >= h else (side * w / h, side)
            figsize = (figsize[0], figsize[1] + (_TITLE_IN if title else 0.0))
        fig, ax = plt.subplots(figsize=figsize)
        top = 1.0 - (_TITLE_IN / figsize[1] if title else 0.0)
        fig.subplots_adjust(left=0.0, right=1.0, bottom=0.0, top=top)
    else:
        fig = ax.figure

    factor = 1
    if downsample:
        # Screen pixels per slice pixel, from the Axes' size at the figure's dpi.
        h, w = full.size
        shown = min(ax.bbox.width / w, ax.bbox.height / (h * aspect))
        factor = max(1, math.floor(1.0 / shown)) if shown > 0 else 1
    layout = _Layout(n_rows, n_cols, rows, cols, max(1, round(gap / factor)), factor)

    index = torch.tensor(picked, device=pixels.device)
    # The background is opaque (the figure's colour, not transparency): matplotlib then
    # skips the premultiplied-alpha passes over the whole image when it draws.
    lut = _colormap_lut(cmap, mcolors.to_rgba(fig.get_facecolor()))
    mosaic = _mosaic(pixels.index_select(0, index), ranges, layout, lut)
    ax.imshow(mosaic.numpy(), aspect=aspect, extent=layout.extent, interpolation="auto")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize="medium")

    if labels:
        panel_pt = 72.0 * ax.bbox.width / fig.dpi / n_cols
        fontsize = min(10.0, max(6.0, panel_pt / 9.0))
        pad = 0.03 * cols
        for j, i in enumerate(picked):
            x0, y0 = layout.origin(j)
            text = f"{i} · #{volume.instance_numbers[i]}" if is_volume else f"{i}"
            ax.text(
                x0 + pad,
                y0 + pad / aspect,
                text,
                color="white",
                fontsize=fontsize,
                ha="left",
                va="top",
                bbox={"facecolor": "black", "alpha": 0.5, "edgecolor": "none", "pad": 1.0},
                gid="panel-label",
            )

    if points is not None:
        _mark_points(ax, volume, picked, layout, points)
    return fig


def _mark_points(
    ax: Axes, volume: Volume, picked: Sequence[int], layout: _Layout, points: Iterable[Point]
) -> None:
    by_slice = volume.points_by_slice(points)
    xs, ys, notes, left = [], [], [], []
    for j, i in enumerate(picked):
        x0, y0 = layout.origin(j)
        for p in by_slice.get(i, ()):
            inside = (
                -0.5 <= p.x <= layout.panel_cols - 0.5 and -0.5 <= p.y <= layout.panel_rows - 0.5
            )
            if not inside:
                warnings.warn(
                    f"points: {p} lies outside its slice ({layout.panel_rows} rows x "
                    f"{layout.panel_cols} cols) and is not drawn",
                    UserWarning,
                    stacklevel=3,
                )
                continue
            xs.append(x0 + p.x)
            ys.append(y0 + p.y)
            notes.append(p.text)
            left.append(p.x < (layout.panel_cols - 1) / 2)
    _draw_marks(ax, xs, ys, notes, left)


def _draw_marks(
    ax: Axes, xs: Sequence[float], ys: Sequence[float], notes: Sequence[str], left: Sequence[bool]
) -> None:
    """Red crosses with their texts, each text on the outer side of its cross.

    Texts go left of points in the left half of their image and right of the others, so
    that the labels of a left/right pair (such as the two subarticular zones of one disc
    on an axial slice) spread apart instead of overlapping.
    """
    if not xs:
        return
    ax.scatter(xs, ys, marker="+", s=60, c="red", linewidths=1.5, gid="points", zorder=3)
    for x, y, note, on_left in zip(xs, ys, notes, left, strict=True):
        if note:
            ax.annotate(
                note,
                (x, y),
                xytext=(-5 if on_left else 5, 5),
                textcoords="offset points",
                ha="right" if on_left else "left",
                color="yellow",
                fontsize=8,
                gid="point-label",
            )


def plot_histogram(
    volume: Volume | torch.Tensor | np.ndarray,
    *,
    bins: int = 256,
    exclude_background: bool = False,
    threshold: float | None = None,
    log: bool = False,
    percentiles: Sequence[float] = (0.5, 99.5),
    limits: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Histogram of the intensities, with markers where a percentile clip would cut.

    Parameters
    ----------
    volume : Volume, torch.Tensor or numpy.ndarray
        Values of any shape. NaN and inf are not counted.
    bins : int
        Number of equal-width bins, >= 1 (at most, for integer data, whose bins are
        aligned on whole values: see :func:`eda_helpers.intensity.histogram`).
    exclude_background : bool
        Leave out values ``<= threshold`` (the background), which otherwise dwarf the
        tissue peaks.
    threshold : float, optional
        Background level for ``exclude_background=True``; 0 by default.
    log : bool
        Logarithmic count axis.
    percentiles : sequence of float
        Draw a dashed vertical line at each of these percentiles, labelled in the legend.
        They are computed over all finite values, background included, so they are the
        cuts of ``normalize(volume, method="percentile", low=..., high=...)``. Pass
        ``()`` for none.
    limits : (float, float), optional
        Range of the bins; by default that of the counted values.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into: one ``StepPatch`` (the histogram) and one ``Line2D`` per
        percentile.

    Raises
    ------
    TypeError, ValueError
        As :func:`eda_helpers.intensity.histogram` (``bins``, ``threshold``, ``limits``)
        and :func:`eda_helpers.intensity.percentiles` (``percentiles``).

    Examples
    --------
    >>> import torch
    >>> ax = plot_histogram(torch.arange(100.0), bins=10, percentiles=(50,))
    >>> len(ax.patches), ax.lines[0].get_xdata()[0], ax.get_legend_handles_labels()[1]
    (1, 49.5, ['p50 = 49.5'])
    """
    qs = [float(q) for q in percentiles]
    for q in qs:
        if not 0.0 <= q <= 100.0:
            raise ValueError(f"percentiles: expected values in [0, 100], got {q!r}")
    counts, edges = histogram(
        volume,
        bins=bins,
        limits=limits,
        exclude_background=exclude_background,
        threshold=threshold,
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    ax.stairs(counts, edges, fill=True, alpha=0.7, color="C0", label="_nolegend_")
    cuts = _percentiles(volume, qs) if qs else ()
    for k, (q, v) in enumerate(zip(qs, cuts, strict=True)):
        ax.axvline(v, color=f"C{k + 1}", linestyle="--", linewidth=1.2, label=f"p{q:g} = {v:.4g}")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("intensity")
    kept = " (background excluded)" if exclude_background else ""
    ax.set_ylabel(f"pixels{kept}")
    if isinstance(volume, Volume) and volume.description:
        ax.set_title(volume.description, fontsize="medium")
    if qs:
        ax.legend(fontsize="small", frameon=False)
    return ax


def plot_cross_reference(
    volume: Volume,
    others: Volume | Sequence[Volume],
    *,
    index: int | None = None,
    points: Iterable[Point] | None = None,
    labels: bool = False,
    method: Method = "percentile",
    low: float = 0.5,
    high: float = 99.5,
    cmap: str = "gray",
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One slice with the lines where the slices of other stacks cut it.

    The cross-reference lines of radiology viewers, typically the axial slices drawn on
    a sagittal one: each line is the segment of the shown slice's plane that one slice
    of ``others`` covers (:func:`eda_helpers.geometry.reference_line`), coloured by
    stack. Slices parallel to the shown one, or that do not reach its plane, draw no
    line. The Volumes must share a frame of reference (come from one study).

    Parameters
    ----------
    volume : Volume
        The stack whose slice is shown, typically a sagittal series.
    others : Volume or sequence of Volume
        The stacks whose slices are drawn as lines, typically the stacks of an axial
        series (:func:`eda_helpers.read_stacks`).
    index : int, optional
        The slice of ``volume`` to show; by default the middle one.
    points : iterable of Point, optional
        Points to mark on the shown slice (those of other slices are left out).
    labels : bool
        Write each line's InstanceNumber (``#12``) at its right-hand end.
    method, low, high
        How the displayed range is chosen, as in :func:`eda_helpers.normalize`, from
        the shown slice.
    cmap : str
        Matplotlib colormap of the image.
    title : str, optional
        Axes title; by default the description, slice index and InstanceNumber.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into: one AxesImage (the slice, in its pixel coordinates), one
        ``Line2D`` per cutting slice (``gid`` ``"reference-line"``, its data the two
        ends ``(x, y)`` in pixels, stack ``k`` in colour ``"C{k}"`` and named in the
        legend), the points as a scatter plus annotations, and the labels as texts.

    Raises
    ------
    TypeError
        If ``volume`` or one of ``others`` is not a Volume.
    ValueError
        If ``others`` is empty, one of them is of another study (StudyInstanceUID), or
        ``index`` is out of range.

    Warns
    -----
    UserWarning
        If no slice of ``others`` cuts the shown slice (different planes of one
        orientation, or different studies).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from eda_helpers.geometry import voxel_affine
    >>> def stack(first, iop, step, n):
    ...     pos = np.array([np.add(first, np.multiply(step, k)) for k in range(n)])
    ...     return Volume(torch.zeros(n, 40, 40), tuple(range(1, n + 1)), pos,
    ...                   np.array(iop, float), ("a",) * n, (4.0, 1.0, 1.0),
    ...                   voxel_affine(first, iop, (1, 1), step))
    >>> sagittal = stack([0, -20, 20], [0, 1, 0, 0, 0, -1], [4, 0, 0], 3)
    >>> axial = stack([-20, -20, -8], [1, 0, 0, 0, 1, 0], [0, 0, 4], 5)
    >>> ax = plot_cross_reference(sagittal, axial, index=0)
    >>> [line.get_ydata().tolist() for line in ax.lines][:2]  # rows where z = -8, -4
    [[28.0, 28.0], [24.0, 24.0]]
    """
    from .geometry import image_corners, reference_line

    if not isinstance(volume, Volume):
        raise TypeError(f"volume: expected a Volume, got {type(volume).__name__}")
    stacks = [others] if isinstance(others, Volume) else list(others)
    if not stacks:
        raise ValueError("others: expected a Volume or a non-empty list of Volumes, got none")
    for k, v in enumerate(stacks):
        if not isinstance(v, Volume):
            raise TypeError(f"others: item {k} is a {type(v).__name__}, expected a Volume")
        if v.study_uid and volume.study_uid and v.study_uid != volume.study_uid:
            # Another study's patient coordinates: its lines would look right and mean nothing.
            raise ValueError(
                f"others: item {k} is of study {v.study_uid}, the shown volume of study "
                f"{volume.study_uid}; cross-reference lines need series of one study"
            )
    n, rows, cols = volume.shape
    i = n // 2 if index is None else index
    if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < n:
        raise ValueError(
            f"index: expected a slice index in 0..{n - 1} of the shown volume, got {index!r}"
        )
    i = int(i)
    _, dr, dc = volume.spacing
    position, orientation, spacing = volume.positions[i], volume.orientation, (dr, dc)

    if ax is None:
        height = 6.0
        _, ax = plt.subplots(figsize=(height * cols * dc / (rows * dr) + 1.6, height))
    if method == "window":  # the window belongs to the Volume, not to a slice
        lo, hi = value_range(volume, method="window")
    else:
        lo, hi = value_range(volume.pixels[i], method=method, low=low, high=high)
    ax.imshow(
        volume.pixels[i].numpy(),
        cmap=cmap,
        vmin=lo,
        vmax=hi,
        aspect=dr / dc,
        interpolation="antialiased",
    )

    drawn = 0
    for k, other in enumerate(stacks):
        _, odr, odc = other.spacing
        first = True
        for j in range(len(other)):
            corners = image_corners(
                other.positions[j], other.orientation, (odr, odc), other.shape[1:]
            )
            seg = reference_line(corners, position, orientation, spacing)
            if seg is None or not np.isfinite(seg).all():
                continue
            inst = other.instance_numbers
            name = f"stack {k}: #{min(inst)}–{max(inst)}"
            ax.plot(
                seg[:, 0],
                seg[:, 1],
                color=f"C{k}",
                linewidth=1.0,
                alpha=0.9,
                label=name if first else "_nolegend_",
                gid="reference-line",
            )
            first = False
            drawn += 1
            if labels:
                end = seg[int(np.argmax(seg[:, 0]))]
                ax.text(
                    end[0] + 2,
                    end[1],
                    f"#{other.instance_numbers[j]}",
                    color=f"C{k}",
                    fontsize=7,
                    va="center",
                    ha="left",
                    clip_on=True,
                    gid="line-label",
                )
    if drawn == 0:
        warnings.warn(
            f"others: none of the {sum(len(v) for v in stacks)} slices cuts slice {i} of "
            f"the shown volume; are they of the same study and another orientation?",
            UserWarning,
            stacklevel=2,
        )
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_axis_off()
    if drawn and len(stacks) > 1:
        ax.legend(fontsize="small", loc="lower left", framealpha=0.6)

    if points is not None:
        mine = volume.points_by_slice(points).get(i, [])
        _draw_marks(
            ax,
            [p.x for p in mine],
            [p.y for p in mine],
            [p.text for p in mine],
            [p.x < (cols - 1) / 2 for p in mine],
        )
    if title is None:
        desc = f"{volume.description} " if volume.description else ""
        title = f"{desc}slice {i} · #{volume.instance_numbers[i]}"
    if title:
        ax.set_title(title, fontsize="medium")
    return ax
