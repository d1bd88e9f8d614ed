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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import torch

from . import _checks
from . import labels as _labels
from .intensity import (
    WindowSpec,
    _as_tensor,
    _checked_pixels,
    grey_levels,
    histogram,
    resolve_window,
)
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
    # The colormap's own 256 entries, rounded (bytes=True truncates: "gray" would show
    # grey level 122 as 121, and the grid would not match the viewer).
    colours = plt.get_cmap(cmap).resampled(256)(np.arange(256))
    lut = np.round(np.asarray(colours, dtype=np.float64) * 255.0).astype(np.uint8)
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

    Each slice becomes grey levels through :func:`~eda_helpers.intensity.grey_levels`
    with its ``(lo, hi)`` (the mapping of every picture of the package: without
    downsampling a panel holds exactly the viewer's grey levels), is reduced by
    ``layout.factor`` (blocks of ``f x f`` grey levels averaged, partial blocks at the
    edges over the pixels they hold: the antialiasing the screen needs) and coloured.
    """
    k = pixels.shape[0]
    if len(set(ranges)) == 1:
        grey = torch.from_numpy(grey_levels(pixels, *ranges[0]))
    else:
        grey = torch.from_numpy(np.stack([grey_levels(pixels[j], *ranges[j]) for j in range(k)]))
    if layout.factor > 1:
        pooled = torch.nn.functional.avg_pool2d(
            grey[:, None].float(), layout.factor, ceil_mode=True
        )[:, 0]
        index = pooled.round_().to(torch.int32)
    else:
        index = grey.to(torch.int32)

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
    window: WindowSpec = "percentile",
    low: float = 0.5,
    high: float = 99.5,
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
        ``"shared"``: one window for all panels, resolved over the whole volume (so the
        panels can be compared, a panel looks the same whichever slices are shown, and
        the same as in :class:`~eda_helpers.SliceViewer` with the same ``window=``).
        ``"per_slice"``: a named window resolved for each panel on its own.
    window : {"percentile", "minmax", "dicom"} or (low, high), default "percentile"
        The values shown black and white, resolved by
        :func:`eda_helpers.intensity.resolve_window` (as every picture of the package).
    low, high : float
        Percentiles for ``window="percentile"``.
    points : iterable of Point, optional
        Points to mark (needs a Volume, whose instance numbers place them): a thin ring
        on the panel of each point's slice, with its text beside it, in the style of
        :mod:`eda_helpers.labels`. Points of slices not drawn are left out.
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
        unknown; and as :func:`eda_helpers.intensity.resolve_window`.

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
    ax = _checks.axes("ax", ax)
    points = None if points is None else _checks.points("points", points)
    if points is not None and not is_volume:
        raise TypeError(
            f"points: placing points needs the instance numbers of a Volume, got a "
            f"{type(volume).__name__}; pass the Volume"
        )
    n, rows, cols = (int(s) for s in pixels.shape)
    picked = _pick_slices(n, slices, max_panels)
    if scale == "shared" or not isinstance(window, str) or window == "dicom":
        # Numbers and the DICOM window do not depend on the slice.
        ranges = [resolve_window(volume, window, low=low, high=high)] * len(picked)
    else:
        ranges = [resolve_window(pixels[i], window, low=low, high=high) for i in picked]

    vol = volume if isinstance(volume, Volume) else None
    aspect = 1.0
    if vol is not None:
        _, dy, dx = vol.spacing
        if dx > 0 and dy > 0:
            aspect = dy / dx
    n_rows, n_cols = grid_shape(len(picked), aspect=aspect * rows / cols)
    gap = max(1, round(0.02 * max(rows, cols)))
    full = _Layout(n_rows, n_cols, rows, cols, gap)
    if title is None and vol is not None:
        title = vol.description or None
    if ax is None:
        if figsize is None:
            h_px, w = full.size
            h = h_px * aspect
            side = min(_MAX_SIDE_IN, _PANEL_IN * max(n_rows, n_cols))
            figsize = (side, side * h / w) if w >= h else (side * w / h, side)
            figsize = (figsize[0], figsize[1] + (_TITLE_IN if title else 0.0))
        fig, ax = plt.subplots(figsize=figsize)
        top = 1.0 - (_TITLE_IN / figsize[1] if title else 0.0)
        fig.subplots_adjust(left=0.0, right=1.0, bottom=0.0, top=top)
    else:
        fig = cast("Figure", ax.figure)

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
            text = f"{i} · #{vol.instance_numbers[i]}" if vol is not None else f"{i}"
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

    if points is not None and vol is not None:
        _mark_points(ax, vol, picked, layout, points)
    return fig


def _text_height(ax: Axes, data_width: float, fontsize: float) -> float:
    """Height of one line of ``fontsize``-point text in data units along x."""
    per_unit = ax.bbox.width / data_width if data_width > 0 else 1.0
    return 1.25 * fontsize * ax.figure.dpi / 72.0 / per_unit


def _mark_points(
    ax: Axes, volume: Volume, picked: Sequence[int], layout: _Layout, points: Iterable[Point]
) -> None:
    by_slice = volume.points_by_slice(points)
    height = _text_height(ax, layout.cols * (layout.panel_cols + layout.gap), _LABEL_PT)
    placed: list[_labels.PlacedLabel] = []
    mine: list[tuple[float, float, str]] = []
    for j, i in enumerate(picked):
        x0, y0 = layout.origin(j)
        for p in by_slice.get(i, ()):
            inside = (
                -0.5 <= p.x <= layout.panel_cols - 0.5 and -0.5 <= p.y <= layout.panel_rows - 0.5
            )
            if not inside:
                _checks.warn(
                    f"points: {p} lies outside its slice ({layout.panel_rows} rows x "
                    f"{layout.panel_cols} cols) and is not drawn"
                )
                continue
            mine.append((float(p.x), float(p.y), p.text))
        for q in _labels.layout(mine, layout.panel_rows, layout.panel_cols, text_height=height):
            placed.append(
                q._replace(x=x0 + q.x, y=y0 + q.y, text_x=x0 + q.text_x, text_y=y0 + q.text_y)
            )
        mine.clear()
    _draw_marks(ax, placed, layout.panel_rows, layout.panel_cols)


_LABEL_PT = 8.0


def _draw_marks(ax: Axes, placed: Sequence[_labels.PlacedLabel], rows: int, cols: int) -> None:
    """Label points in the style of :mod:`eda_helpers.labels`, at the given places."""
    if not placed:
        return
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.5, foreground=_labels.HALO)]
    size = (2.0 * _labels.marker_radius(rows, cols)) ** 2 / 4
    ax.scatter(
        [p.x for p in placed],
        [p.y for p in placed],
        marker="o",
        s=max(30.0, size),
        facecolors="none",
        edgecolors=_labels.INK,
        linewidths=1.0,
        path_effects=halo,
        gid="points",
        zorder=3,
    )
    for p in placed:
        if p.text:
            ax.text(
                p.text_x,
                p.text_y,
                p.text,
                ha="right" if p.anchor == "end" else "left",
                va="center",
                color=_labels.INK,
                fontsize=_LABEL_PT,
                path_effects=halo,
                gid="point-label",
                zorder=4,
            )


def plot_histogram(
    volume: Volume | torch.Tensor | np.ndarray,
    *,
    bins: int = 256,
    exclude_background: bool = False,
    threshold: float | None = None,
    log: bool = False,
    window: WindowSpec | None = "percentile",
    low: float = 0.5,
    high: float = 99.5,
    percentiles: Sequence[float] = (),
    limits: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Histogram of the intensities, with markers where the display window cuts.

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
    window : {"percentile", "minmax", "dicom"} or (low, high) or None
        Mark the values shown black and white for this window, resolved as every picture
        of the package does (:func:`eda_helpers.intensity.resolve_window`, over all
        finite values, background included): the cuts of ``plot_grid`` and
        ``SliceViewer`` with the same ``window=``. None for no window markers.
    low, high : float
        Percentiles for ``window="percentile"``.
    percentiles : sequence of float
        More dashed vertical lines at these percentiles, labelled in the legend.
    limits : (float, float), optional
        Range of the bins; by default that of the counted values.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into: one ``StepPatch`` (the histogram), two ``Line2D`` for the
        window (``gid`` ``"window-low"``, ``"window-high"``), then one per percentile.

    Raises
    ------
    TypeError, ValueError
        As :func:`eda_helpers.intensity.histogram` (``bins``, ``threshold``, ``limits``)
        and :func:`eda_helpers.intensity.percentiles` (``percentiles``).

    Examples
    --------
    >>> import torch
    >>> ax = plot_histogram(torch.arange(100.0), bins=10, window=(10, 90), percentiles=(50,))
    >>> len(ax.patches), [line.get_xdata()[0] for line in ax.lines]
    (1, [10.0, 90.0, 49.5])
    >>> ax.get_legend_handles_labels()[1]
    ['black = 10', 'white = 90', 'p50 = 49.5']
    """
    ax = _checks.axes("ax", ax)
    qs = [_checks.real("percentiles", q, minimum=0.0, maximum=100.0) for q in percentiles]
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
    if window is not None:
        # Values of any shape: as one row, so that the window rules for images apply.
        flat = volume if isinstance(volume, Volume) else _as_tensor(volume, "volume")[0]
        if not isinstance(flat, Volume) and flat.ndim not in (2, 3):
            flat = flat.reshape(1, -1)
        lo, hi = resolve_window(flat, window, low=low, high=high)
        for v, name, colour in ((lo, "black", "C1"), (hi, "white", "C3")):
            ax.axvline(
                v, color=colour, linewidth=1.4, label=f"{name} = {v:.4g}", gid=f"window-{name}"
            )
    cuts = _percentiles(volume, qs) if qs else ()
    for k, (q, v) in enumerate(zip(qs, cuts, strict=True)):
        ax.axvline(v, color=f"C{k + 4}", linestyle="--", linewidth=1.2, label=f"p{q:g} = {v:.4g}")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("intensity")
    kept = " (background excluded)" if exclude_background else ""
    ax.set_ylabel(f"pixels{kept}")
    if isinstance(volume, Volume) and volume.description:
        ax.set_title(volume.description, fontsize="medium")
    if qs or window is not None:
        ax.legend(fontsize="small", frameon=False)
    return ax


def plot_cross_reference(
    volume: Volume,
    others: Volume | Sequence[Volume],
    *,
    index: int | None = None,
    points: Iterable[Point] | None = None,
    labels: bool = False,
    window: WindowSpec = "percentile",
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
    window : {"percentile", "minmax", "dicom"} or (low, high), default "percentile"
        The values shown black and white, resolved over the whole ``volume`` as in
        :func:`plot_grid` and :class:`~eda_helpers.SliceViewer`.
    low, high : float
        Percentiles for ``window="percentile"``.
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
    ax = _checks.axes("ax", ax)
    points = None if points is None else _checks.points("points", points)
    _, dr, dc = volume.spacing
    position, orientation, spacing = volume.positions[i], volume.orientation, (dr, dc)

    if ax is None:
        height = 6.0
        _, ax = plt.subplots(figsize=(height * cols * dc / (rows * dr) + 1.6, height))
    lo, hi = resolve_window(volume, window, low=low, high=high)
    ax.imshow(
        grey_levels(volume.pixels[i], lo, hi),
        cmap=cmap,
        vmin=0,
        vmax=255,
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
        _checks.warn(
            f"others: none of the {sum(len(v) for v in stacks)} slices cuts slice {i} of "
            f"the shown volume; are they of the same study and another orientation?"
        )
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_axis_off()
    if drawn and len(stacks) > 1:
        ax.legend(fontsize="small", loc="lower left", framealpha=0.6)

    if points is not None:
        mine = volume.points_by_slice(points).get(i, [])
        placed = _labels.layout(
            [(float(p.x), float(p.y), p.text) for p in mine],
            rows,
            cols,
            text_height=_text_height(ax, float(cols), _LABEL_PT),
        )
        _draw_marks(ax, placed, rows, cols)
    if title is None:
        desc = f"{volume.description} " if volume.description else ""
        title = f"{desc}slice {i} · #{volume.instance_numbers[i]}"
    if title:
        ax.set_title(title, fontsize="medium")
    return ax
