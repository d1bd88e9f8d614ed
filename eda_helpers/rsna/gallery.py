"""Pictures of the whole dataset: crops around one label in every study, and a contact sheet.

:func:`plot_label_crops` shows, for one condition and level, a crop of a fixed size in
millimetres around the label point of each study, resampled to one common mm per pixel
and grouped by grade, with the findings of :func:`~eda_helpers.rsna.check_labels`
marked. :func:`plot_contact_sheet` shows one thumbnail per series (its middle slice)
with its description and its flags, the odd series first. Both read only the slices
they show (one file per picture) and draw one montage image into one Axes.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from matplotlib import patheffects
from matplotlib.patches import Rectangle
from numpy.typing import NDArray
from tqdm.auto import tqdm

from .. import _checks, geometry
from ..intensity import normalize
from ..io import SeriesError, read_headers, read_series
from ..vocabulary import CONDITIONS, LEVELS, SEVERITIES, condition_name, level_name
from ..volume import Volume
from .checks import CHECK_COLUMNS, _label_file, _series_files, check_labels
from .scan import _study_ids, scan_dataset
from .tables import _path, read_coordinates, read_labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_contact_sheet", "plot_label_crops"]

_NO_GRADE = "no grade"
_GAP = 4  # pixels between tiles of a montage
_HEADER = 22  # pixels of a grade group's heading row
_TILE_IN = 1.3  # inches per tile of a default figure
_FINDING = (0.95, 0.25, 0.2)  # frame of a picture with findings
_ODD = (1.0, 0.65, 0.1)  # frame of a series with scan notes only
_HALO = [patheffects.withStroke(linewidth=2.5, foreground="black")]


def _text(ax: Axes, x: float, y: float, text: str, **kw: Any) -> None:
    """Light text with a dark halo, readable on any image."""
    style: dict[str, Any] = {
        "color": "white",
        "fontsize": 6,
        "path_effects": _HALO,
        "clip_on": True,
    }
    ax.text(x, y, text, **(style | kw))


def _spelled(name: str, value: object, spell: Any, keys: Sequence[str]) -> str:
    """A condition or level in the spelling of the coordinates, from either spelling."""
    names = [spell(k) for k in keys]
    if isinstance(value, str) and value in keys:
        return str(spell(value))
    return _checks.choice(name, value, names)


def _findings_table(findings: object) -> pd.DataFrame | None:
    if findings is None:
        return None
    if not isinstance(findings, pd.DataFrame):
        raise TypeError(
            f"findings: expected the DataFrame of check_labels or None, got "
            f"{type(findings).__name__}; pass findings=eh.rsna.check_labels(data)"
        )
    missing = [
        c for c in ("study_id", "series_id", "condition", "level", "rule") if c not in findings
    ]
    if missing:
        raise ValueError(
            f"findings: expected the columns of check_labels ({', '.join(CHECK_COLUMNS)}), "
            f"the table lacks {', '.join(missing)}; pass findings=eh.rsna.check_labels(data)"
        )
    return findings


def _resample(
    image: torch.Tensor, centre: tuple[float, float], spacing: tuple[float, float],
    size: int, mm_per_pixel: float,
) -> NDArray[np.float32]:  # fmt: skip
    """A ``size`` x ``size`` crop of ``image`` (rows, cols) centred on ``centre`` (x, y),
    sampled every ``mm_per_pixel`` mm (bilinear); NaN outside the image.

    The sampling grid is aligned with the image axes, so each output pixel mixes the
    four source pixels around it with weights that are products of a row and a column
    weight: a gather of the few source rows and columns the crop touches, not a
    resampling of the whole image (``torch.nn.functional.grid_sample`` on the whole
    slice measured about 10x slower per crop on a busy machine).
    """
    rows, cols = image.shape
    u = (np.arange(size) - (size - 1) / 2) * mm_per_pixel
    x = centre[0] + u / spacing[1]
    y = centre[1] + u / spacing[0]
    src = image.numpy() if image.dtype != torch.bfloat16 else image.float().numpy()

    def weights(t: NDArray[Any], n: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        inside = (t >= 0) & (t <= n - 1)
        t0 = np.clip(np.floor(t), 0, max(n - 2, 0)).astype(np.intp)
        frac = np.clip(t - t0, 0.0, 1.0) if n > 1 else np.zeros_like(t)
        return t0, np.minimum(t0 + 1, n - 1), frac, inside

    r0, r1, fr, rin = weights(y, rows)
    c0, c1, fc, cin = weights(x, cols)
    top = src[np.ix_(r0, c0)] * (1 - fc) + src[np.ix_(r0, c1)] * fc
    bottom = src[np.ix_(r1, c0)] * (1 - fc) + src[np.ix_(r1, c1)] * fc
    crop = (top * (1 - fr)[:, None] + bottom * fr[:, None]).astype(np.float32)
    crop[~(rin[:, None] & cin[None, :])] = np.nan
    return crop


def _grey(crop: NDArray[np.float32]) -> NDArray[np.uint8]:
    """A crop as grey levels, scaled by its own 0.5 and 99.5 percentiles; black outside."""
    if np.isnan(crop).all():
        return np.zeros(crop.shape, np.uint8)
    unit = np.nan_to_num(normalize(crop), nan=0.0)
    return np.rint(unit * 255).astype(np.uint8)


@dataclass
class _Tile:
    image: NDArray[np.uint8] | None  # square, tile x tile; None: nothing to show
    top: str
    bottom: list[str] = field(default_factory=list)
    frame: tuple[float, float, float] | None = None
    mark: bool = False  # a cross at the centre (the label point)


@dataclass
class _Group:
    heading: str
    tiles: list[_Tile]


def _montage(
    groups: Sequence[_Group], *, tile: int, columns: int, ax: Axes | None, title: str
) -> Figure:
    """Draw groups of tiles as one RGB image in one Axes, with their texts and frames."""
    import matplotlib.pyplot as plt

    step = tile + _GAP
    heights = [
        (_HEADER if g.heading else 0) + math.ceil(len(g.tiles) / columns) * step for g in groups
    ]
    height, width = max(sum(heights), 1), columns * step + _GAP
    canvas = np.full((height, width, 3), 24, np.uint8)
    placed: list[tuple[_Tile, int, int]] = []
    headings: list[tuple[str, int]] = []
    top = 0
    for g, h in zip(groups, heights, strict=True):
        if g.heading:
            headings.append((g.heading, top))
            top += _HEADER
        for k, t in enumerate(g.tiles):
            r0 = top + (k // columns) * step + _GAP // 2
            c0 = (k % columns) * step + _GAP
            if t.image is not None:
                canvas[r0 : r0 + tile, c0 : c0 + tile] = t.image[..., None]
            else:
                canvas[r0 : r0 + tile, c0 : c0 + tile] = 60
            placed.append((t, r0, c0))
        top += h - (_HEADER if g.heading else 0)
    if ax is None:
        n_rows = height / step
        fig = plt.figure(figsize=(columns * _TILE_IN, max(1.0, n_rows * _TILE_IN) + 0.4))
        ax = fig.add_axes((0, 0, 1, 1 - 0.4 / (max(1.0, n_rows * _TILE_IN) + 0.4)))
    else:
        ax = _checks.axes("ax", ax)
        fig = ax.figure  # type: ignore[assignment]
    # Nearest in RGBA: the canvas is already grey levels; measured 1.7x faster to draw
    # than nearest on the data stage.
    ax.imshow(
        canvas,
        interpolation="nearest",
        interpolation_stage="rgba",
        extent=(-0.5, width - 0.5, height - 0.5, -0.5),
    )
    ax.set_axis_off()
    ax.set_title(title, fontsize=9, loc="left")
    for text, y in headings:
        _text(ax, _GAP, y + _HEADER / 2, text, fontsize=9, va="center", weight="bold")
    for t, r0, c0 in placed:
        _text(ax, c0 + 2, r0 + 2, t.top, va="top", ha="left")
        if t.bottom:
            _text(
                ax, c0 + 2, r0 + tile - 2, "\n".join(t.bottom), va="bottom", ha="left", fontsize=6
            )
        if t.frame is not None:
            ax.add_patch(
                Rectangle((c0 - 1.5, r0 - 1.5), tile + 2, tile + 2, fill=False,
                          edgecolor=t.frame, linewidth=1.5, gid="finding")
            )  # fmt: skip
        if t.mark:
            ax.plot([c0 + tile / 2], [r0 + tile / 2], marker="+", color="red", markersize=6,
                    markeredgewidth=1, gid="label-point")  # fmt: skip
    return fig


# ------------------------------------------------------------------ label crops


def plot_label_crops(
    data: str | os.PathLike[str],
    *,
    condition: str,
    level: str,
    size_mm: float = 40.0,
    mm_per_pixel: float = 0.5,
    studies: int | Iterable[int] | None = None,
    per_grade: int | None = 24,
    findings: pd.DataFrame | None = None,
    columns: int = 8,
    progress: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """A gallery of crops around one label, one per study, grouped by grade.

    Each crop is ``size_mm`` x ``size_mm`` of the labelled slice, centred on the label
    point and resampled (bilinear) to ``mm_per_pixel``, so that crops of series with
    different pixel spacings show the anatomy at one scale; each is scaled to grey by
    its own 0.5 and 99.5 percentiles. The crops come in row groups by grade
    (Normal/Mild, Moderate, Severe, then the points without a grade), by study id within
    a group; each is titled with its study id and grade. A crop whose label has findings
    of :func:`check_labels` gets a red frame and the names of its rules. Only the
    labelled slice of each study is read (one file per crop), and the crops are drawn
    as one image.

    Parameters
    ----------
    data : path-like
        The dataset root (a :class:`DatasetLocation` works too).
    condition : str
        As in the coordinates ("Spinal Canal Stenosis") or in train.csv
        ("spinal_canal_stenosis").
    level : str
        "L4/L5" or "l4_l5".
    size_mm : float, default 40
        Side of each crop, in mm (> 0). Parts outside the image are black.
    mm_per_pixel : float, default 0.5
        The common sampling of the crops (> 0); the crop has
        ``round(size_mm / mm_per_pixel)`` pixels a side (2 to 512).
    studies : int or iterable of int, optional
        Only these studies.
    per_grade : int or None, default 24
        At most this many crops per grade (the lowest study ids); None shows all.
        A grade group's heading says how many it holds.
    findings : pandas.DataFrame, optional
        The table of :func:`check_labels`; by default it is computed for the studies
        shown.
    columns : int, default 8
        Crops per row (>= 1).
    progress : bool, default True
        Show a ``tqdm.auto`` progress bar over the crops read.
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new figure sized to the gallery.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into. One ``imshow`` of the whole gallery, a red ``+`` at each
        label point (gid "label-point") and a red frame (gid "finding") around each crop
        with findings.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``condition`` or ``level`` is not one of the competition's, a number is out
        of range, no study has a label of that condition and level, or a CSV file is
        malformed (the errors of :func:`read_coordinates`).
    FileNotFoundError
        If a CSV file is missing.

    Examples
    --------
    >>> import tempfile
    >>> from eda_helpers import make_sample_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1)
    ...     fig = plot_label_crops(root, condition="Spinal Canal Stenosis", level="L4/L5",
    ...                            progress=False)
    >>> [t.get_text().splitlines() for t in fig.axes[0].texts][:2]
    [['Severe (1)'], ['2755211075', 'Severe']]
    """
    root = _path(_checks.path("data", data))
    condition = _spelled("condition", condition, condition_name, CONDITIONS)
    level = _spelled("level", level, level_name, LEVELS)
    size_mm = _checks.real("size_mm", size_mm, minimum=0.0)
    mm_per_pixel = _checks.real("mm_per_pixel", mm_per_pixel, minimum=0.0)
    if size_mm == 0 or mm_per_pixel == 0:
        raise ValueError(
            f"{'size_mm' if size_mm == 0 else 'mm_per_pixel'}: expected a number > 0, got 0.0"
        )
    tile = round(size_mm / mm_per_pixel)
    if not 2 <= tile <= 512:
        raise ValueError(
            f"size_mm / mm_per_pixel: expected a crop of 2 to 512 pixels a side, got "
            f"{size_mm:g} / {mm_per_pixel:g} = {tile}; pass a larger or smaller mm_per_pixel"
        )
    per = None if per_grade is None else _checks.integer("per_grade", per_grade, minimum=1)
    columns = _checks.integer("columns", columns, minimum=1)
    table = _findings_table(findings)
    if not isinstance(progress, bool):
        raise TypeError(
            f"progress: expected True or False, got {type(progress).__name__} {progress!r}"
        )
    ax = _checks.axes("ax", ax)

    coords = read_coordinates(root)
    rows = coords[(coords["condition"] == condition) & (coords["level"] == level)]
    if studies is not None:
        rows = rows[rows["study_id"].isin(_study_ids(studies))]
    rows = rows.drop_duplicates("study_id")  # the first label, as check_labels judges it
    if rows.empty:
        raise ValueError(
            f"condition, level: no study{' of studies' if studies is not None else ''} has a "
            f"label of {condition} at {level} in train_label_coordinates.csv; pick another "
            f"condition or level"
        )
    grades = read_labels(root, form="long")
    grade = {
        int(st): str(sev)
        for st, sev in zip(
            grades.loc[(grades["condition"] == condition) & (grades["level"] == level), "study_id"],
            grades.loc[(grades["condition"] == condition) & (grades["level"] == level), "severity"],
            strict=True,
        )
        if not pd.isna(sev)
    }
    by_grade: dict[str, list[Any]] = {g: [] for g in (*SEVERITIES, _NO_GRADE)}
    for r in rows.sort_values("study_id").itertuples(index=False):
        by_grade[grade.get(int(r.study_id), _NO_GRADE)].append(r)
    shown = {g: v if per is None else v[:per] for g, v in by_grade.items()}
    if table is None:
        ids = sorted({int(r.study_id) for v in shown.values() for r in v})
        table = check_labels(root, studies=ids, conditions=[condition], progress=False)
    mine = table[(table["condition"] == condition) & (table["level"] == level)]
    rules: dict[int, list[str]] = {}
    for st, rule in zip(mine["study_id"], mine["rule"], strict=True):
        rules.setdefault(int(st), []).append(str(rule))

    total = sum(len(v) for v in shown.values())
    bar = tqdm(total=total, desc="crops", unit="crop") if progress else None
    groups = []
    try:
        for g, picked in shown.items():
            tiles = []
            for r in picked:
                tiles.append(
                    _crop_tile(
                        root, r, g, rules.get(int(r.study_id), []), tile, size_mm, mm_per_pixel
                    )
                )
                if bar is not None:
                    bar.update()
            if tiles:
                count = len(by_grade[g])
                more = f", {len(tiles)} shown" if len(tiles) < count else ""
                groups.append(_Group(f"{g} ({count}{more})", tiles))
    finally:
        if bar is not None:
            bar.close()
    n_find = sum(1 for g in groups for t in g.tiles if t.frame is not None)
    title = (
        f"{condition} {level}: {size_mm:g} mm crops at {mm_per_pixel:g} mm/pixel, "
        f"{total} studies" + (f", {n_find} with findings (red)" if n_find else "")
    )
    return _montage(groups, tile=tile, columns=columns, ax=ax, title=title)


def _read_slice(path: Path) -> Volume | None:
    """The one slice in a file, or None when it is missing or no readable image."""
    if not path.is_file():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the picture says what it can; check_labels says why
            return read_series([path], progress=False)
    except (SeriesError, OSError, ValueError):
        return None


def _crop_tile(
    root: Path, r: Any, grade: str, rules: list[str], tile: int, size_mm: float, mm_per_pixel: float
) -> _Tile:
    top = f"{int(r.study_id)}\n{grade}"
    bottom = list(dict.fromkeys(rules))
    frame = _FINDING if rules else None
    folder = root / "train_images" / str(int(r.study_id)) / str(int(r.series_id))
    instance = int(r.instance_number)
    # The file named by the instance number (the competition's convention) is read
    # straight away; the folder's headers are searched only when it is not that slice.
    volume = _read_slice(folder / f"{instance}.dcm")
    if volume is None or volume.instance_numbers[0] != instance:
        path = _label_file(folder, instance)
        volume = None if path is None else _read_slice(path)
    if volume is None:
        return _Tile(None, top, bottom or ["no such slice"], frame)
    crop = _resample(
        volume.pixels[0], (float(r.x), float(r.y)), (volume.spacing[1], volume.spacing[2]),
        tile, mm_per_pixel,
    )  # fmt: skip
    return _Tile(_grey(crop), top, bottom, frame, mark=True)


# ---------------------------------------------------------------- contact sheet


def _middle_slice(folder: Path) -> Path | None:
    """The file of the middle slice of a series' largest stack, in geometric order."""
    stacks, _ = read_headers(_series_files(folder))
    if not stacks:
        return None
    stack = max(stacks, key=len)  # the first of the largest
    positions = [h.position for h in stack if h.position is not None]
    orientation = stack[0].orientation
    if len(positions) < len(stack) or orientation is None or len(stack) == 1:
        ordered = sorted(stack, key=lambda h: (h.instance is None, h.instance or 0, str(h.path)))
    else:
        offsets = geometry.slice_offsets(positions, orientation)
        inst = [-1 if h.instance is None else h.instance for h in stack]
        ordered = [stack[i] for i in geometry.slice_order(offsets, inst)]
    return Path(ordered[len(ordered) // 2].path)


def _short(text: str, most: int = 22) -> str:
    """A flag cut to fit on a thumbnail (the scan table holds it whole)."""
    return text if len(text) <= most else text[: most - 1] + "…"


def _thumbnail(path: Path, size: int) -> NDArray[np.uint8] | None:
    """A slice fitted into ``size`` x ``size`` at its true aspect (mm), grey, black around."""
    volume = _read_slice(path)
    if volume is None:
        return None
    image = volume.pixels[0]
    rows, cols = image.shape
    dr, dc = volume.spacing[1], volume.spacing[2]
    extent = max(rows * dr, cols * dc)
    crop = _resample(image, ((cols - 1) / 2, (rows - 1) / 2), (dr, dc), size, extent / size)
    return _grey(crop)


def plot_contact_sheet(
    data: str | os.PathLike[str],
    scan: pd.DataFrame | None = None,
    *,
    findings: pd.DataFrame | None = None,
    studies: int | Iterable[int] | None = None,
    limit: int = 48,
    page: int = 0,
    columns: int = 8,
    thumb_px: int = 128,
    max_workers: int | None = None,
    progress: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """One thumbnail per series with its description and flags, the odd series first.

    Each thumbnail is the middle slice (in geometric order) of the series' largest
    stack, fitted into a square at its true aspect and scaled to grey by its own
    percentiles. On it: the series' description and ids (top) and its flags (bottom):
    the notes of :func:`scan_dataset` and the rules of :func:`check_labels` with their
    counts ("side x2"). Series with findings get a red frame, series with scan notes only
    an orange one. The series with the most flags come first, then by study and series.
    Only the shown page's series are read (their headers, and one file each).

    Parameters
    ----------
    data : path-like
        The dataset root (a :class:`DatasetLocation` works too).
    scan : pandas.DataFrame, optional
        The table of :func:`scan_dataset` (computed if not given; on the competition's
        data, save it once and pass it).
    findings : pandas.DataFrame, optional
        The table of :func:`check_labels` (computed if not given).
    studies : int or iterable of int, optional
        Only these studies.
    limit : int, default 48
        Thumbnails per page (1 to 1000).
    page : int, default 0
        Which page (0-based); the title says how many pages there are.
    columns : int, default 8
        Thumbnails per row (>= 1).
    thumb_px : int, default 128
        Side of a thumbnail in pixels (16 to 512).
    max_workers : int, optional
        Processes of the scan when ``scan`` is not given, as in :func:`scan_dataset`
        (1 scans in this process).
    progress : bool, default True
        Show ``tqdm.auto`` progress bars (the scan, the checks, the thumbnails).
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One ``imshow`` of the sheet; frames (gid "finding") around flagged series.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If a number is out of range (``page`` beyond the last page included), or
        ``scan`` lacks the columns of :func:`scan_dataset`.

    Examples
    --------
    >>> import tempfile
    >>> from eda_helpers import make_sample_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_dataset(tmp, n_studies=1)
    ...     fig = plot_contact_sheet(root, max_workers=1, progress=False)
    >>> fig.axes[0].get_title(loc="left")
    '3 series, 3 flagged; page 1 of 1 (series 1 to 3)'
    """
    root = _path(_checks.path("data", data))
    limit = _checks.integer("limit", limit, minimum=1, maximum=1000)
    columns = _checks.integer("columns", columns, minimum=1)
    thumb_px = _checks.integer("thumb_px", thumb_px, minimum=16, maximum=512)
    page = _checks.integer("page", page, minimum=0)
    table = _findings_table(findings)
    if not isinstance(progress, bool):
        raise TypeError(
            f"progress: expected True or False, got {type(progress).__name__} {progress!r}"
        )
    ax = _checks.axes("ax", ax)
    if scan is None:
        scan = scan_dataset(root, studies=studies, max_workers=max_workers, progress=progress)
    elif not isinstance(scan, pd.DataFrame):
        raise TypeError(
            f"scan: expected the DataFrame of scan_dataset or None, got {type(scan).__name__}"
        )
    missing = [c for c in ("study_id", "series_id", "description", "notes") if c not in scan]
    if missing:
        raise ValueError(
            f"scan: expected the columns of scan_dataset, the table lacks "
            f"{', '.join(missing)}; pass scan=eh.rsna.scan_dataset(data)"
        )
    if studies is not None:
        scan = scan[scan["study_id"].isin(_study_ids(studies))]
    if table is None:
        table = check_labels(root, studies=studies, progress=progress)
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for st, se, rule in zip(table["study_id"], table["series_id"], table["rule"], strict=True):
        if not pd.isna(se):
            rules = counts.setdefault((int(st), int(se)), {})
            rules[str(rule)] = rules.get(str(rule), 0) + 1

    entries = []
    for r in scan.itertuples(index=False):
        key = (int(r.study_id), int(r.series_id))
        notes = [n for n in str(r.notes).split("; ") if n and n != "nan"]
        found = [f"{rule} x{n}" if n > 1 else rule for rule, n in counts.get(key, {}).items()]
        entries.append((key, str(r.description), notes, found))
    entries.sort(key=lambda e: (-(len(e[2]) + len(e[3])), e[0]))
    n_pages = max(1, math.ceil(len(entries) / limit))
    if page >= n_pages:
        raise ValueError(
            f"page: expected an integer between 0 and {n_pages - 1} ({len(entries)} series, "
            f"{limit} per page), got {page}"
        )
    shown = entries[page * limit : (page + 1) * limit]
    bar = tqdm(total=len(shown), desc="thumbnails", unit="series") if progress else None
    tiles = []
    try:
        for (st, se), description, notes, found in shown:
            path = _middle_slice(root / "train_images" / str(st) / str(se))
            image = None if path is None else _thumbnail(path, thumb_px)
            frame = _FINDING if found else _ODD if notes else None
            tiles.append(_Tile(image, f"{description}\n{st}/{se}", [*found, *notes][:4], frame))
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    flagged = sum(1 for e in entries if e[2] or e[3])
    first = page * limit + 1
    title = (
        f"{len(entries)} series, {flagged} flagged; page {page + 1} of {n_pages} "
        f"(series {first} to {first + len(shown) - 1})"
    )
    return _montage([_Group("", tiles)], tile=thumb_px, columns=columns, ax=ax, title=title)
