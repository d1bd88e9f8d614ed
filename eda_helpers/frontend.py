"""The browser side of the viewers: self-contained HTML + plain JavaScript, and the
browser-side pieces of the live widget.

Saved render
------------
:func:`render_panes` turns a list of :class:`Pane` (the frames of one stack, already
encoded as images, with a readout line and label points per slice) into one HTML
fragment that needs no kernel, no network and no build step: the frames are embedded as
base64 data, the script (``frontend.js``) and the style (``frontend.css``) are inlined.
Wherever scripts run (nbconvert HTML, nbviewer, VS Code, a saved Kaggle version, a page
written by :func:`page`) each pane can be scrubbed: slider, arrow keys and mouse wheel on
the image, play, window centre/width, label points, readout. Where scripts are stripped
(GitHub) the same HTML shows a still image of the current slice with a caption.

Every pane is an element ``[data-eh-viewer]`` whose ``data-index`` attribute holds the
slice shown; :attr:`Pane.attrs` adds more ``data-*`` attributes (``data-series-id``,
``data-stack``...). One pane is the root element itself; several panes are wrapped in
one root element that carries ``root_attrs`` (``{"data-eh-study": ""}`` for a study)::

    from eda_helpers.frontend import Pane, encode_frames, render_panes
    panes = [
        Pane(frames=encode_frames(grey), readouts=texts, window=(lo, hi),
             data_range=(vmin, vmax), caption="...", still=png_bytes,
             shape=grey.shape[1:], index=i, points={slice_index: [(x, y, text)]},
             attrs={"data-series-id": "123", "data-stack": "0"}, geometry=geo)
        for grey, texts, ... in stacks  # grey: (slices, rows, cols) uint8 from grey_levels
    ]
    html = render_panes(panes, root_attrs={"data-eh-study": ""})

In the page, ``window.ehViewer.panes`` lists every booted pane with ``setIndex(i)``,
``onIndex(fn)``, ``onClick(fn)`` (image pixel coordinates of a click) and
``setLines(name, lines)`` (lines in image pixels over the image): enough for a study
view to draw each pane's current slice on the others and to move panes on a click,
using the per-slice geometry carried in :attr:`Pane.geometry`.

**Window/level in the saved render** works on the saved 8-bit frames: the centre and
width can narrow or shift the window *inside* the saved one (each of the 256 saved grey
levels is mapped again), which is exact at the saved window and shows steps (banding)
when narrowed a lot; values the saved window clipped to black or white cannot be brought
back. Choose the saved window with ``window=`` before saving.

Live widget pieces
------------------
:func:`frames_box` holds one ``ipywidgets.Image`` per slice in a ``Tab`` whose tab bar is
hidden (:func:`style_widget` carries the rule): every frame's view stays alive in the
browser, so switching takes a few milliseconds with no kernel round trip, where
``ipywidgets.Stack`` rebuilds the shown view on every step (30-50 ms measured here).
:func:`link_index` links a slider, a Play and any number of such boxes in the browser.
They are core ipywidgets only, as Kaggle cannot load custom front-end extensions.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import ipywidgets as widgets
import numpy as np
from numpy.typing import NDArray

from . import labels as _labels

__all__ = [
    "Pane",
    "encode_frames",
    "frames_box",
    "link_index",
    "page",
    "render_panes",
    "style_widget",
]

# The class of the frame boxes of the live widget, and the rule that hides their tab bar.
FRAMES_CLASS = "eh-frames"
PLAY_CLASS = "eh-play"
_LIVE_CSS = (
    f".{FRAMES_CLASS} > .lm-TabBar, .{FRAMES_CLASS} > .p-TabBar "
    "{display: none !important;}"
    f" .jupyter-widgets.{FRAMES_CLASS} > .widget-tab-contents "
    "{padding: 0 !important; border: 0 !important; overflow: hidden !important;"
    " background: transparent !important;}"
    f" .jupyter-widgets.{FRAMES_CLASS} {{margin: 0 !important;}}"
    # A Play's stop button sends it back to its first value; its play/pause button
    # alone keeps the current one when it stops.
    f" .{PLAY_CLASS} > button:nth-child(2) {{display: none !important;}}"
)


@cache
def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Pane:
    """One scrubbable stack of a saved render.

    Attributes
    ----------
    frames : sequence of bytes
        One encoded image per slice (all of one size and type), e.g. from
        :func:`encode_frames`.
    readouts : sequence of str
        One line of plain text per slice (index, instance, position, labels).
    window : (float, float)
        The values the frames show black and white (for the window control).
    data_range : (float, float)
        Smallest and largest value of the data (the window control's keyboard step is
        1 % of it).
    caption : str
        What the still image shows (series, slice, window), where scripts do not run.
    still : bytes
        A PNG of the current slice with its label points, shown where scripts do not run.
    index : int
        The slice shown first.
    mime : str
        MIME type of ``frames``.
    shape : (int, int)
        (rows, cols) of the frames in pixels.
    aspect : float
        Display height / width of one pixel (row spacing / column spacing).
    width : int
        Display width in CSS pixels (never wider than the output area).
    points : mapping of int to sequence of (x, y, text)
        Label points per slice index, in frame pixels.
    interval : int
        Milliseconds per frame when playing.
    note : str
        A line shown under the pane (for example that the frames were downsampled).
    attrs : mapping of str to str
        More attributes of the pane's element (``data-series-id``, ``data-stack``...).
    geometry : sequence of mapping, optional
        Per-slice geometry for linked views (``position``, ``orientation``,
        ``spacing`` in frame pixels), passed to the page as it is.
    """

    frames: Sequence[bytes]
    readouts: Sequence[str]
    window: tuple[float, float]
    data_range: tuple[float, float]
    caption: str
    still: bytes
    shape: tuple[int, int]
    index: int = 0
    mime: str = "image/jpeg"
    aspect: float = 1.0
    width: int = 512
    points: Mapping[int, Sequence[tuple[float, float, str]]] = field(default_factory=dict)
    interval: int = 100
    note: str = ""
    attrs: Mapping[str, str] = field(default_factory=dict)
    geometry: Sequence[Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        n = len(self.frames)
        if n == 0 or len(self.readouts) != n:
            raise ValueError(
                f"frames, readouts: expected one readout per frame and at least one frame, "
                f"got {n} frames and {len(self.readouts)} readouts"
            )
        if not 0 <= self.index < n:
            raise ValueError(f"index: expected a slice index in 0..{n - 1}, got {self.index}")


def encode_frames(grey: NDArray[np.uint8], *, quality: int = 90, fmt: str = "jpeg") -> list[bytes]:
    """Encode a (slices, rows, cols) uint8 stack as one image per slice.

    JPEG at quality 90 keeps the grey levels within a few steps of the originals and is
    the size choice of the saved render (about a tenth of PNG frames of MR data, see
    ``benchmarks/bench_viewer.py``); ``fmt="png"`` is lossless.

    Raises
    ------
    ValueError
        If ``grey`` is not a non-empty 3-D uint8 array or ``fmt`` is unknown.
    """
    from PIL import Image

    if not (isinstance(grey, np.ndarray) and grey.dtype == np.uint8 and grey.ndim == 3):
        raise ValueError(
            f"grey: expected a (slices, rows, cols) uint8 array, got "
            f"{getattr(grey, 'shape', type(grey).__name__)}; map values with "
            f"eda_helpers.intensity.grey_levels first"
        )
    if fmt not in ("jpeg", "png"):
        raise ValueError(f"fmt: expected one of 'jpeg', 'png', got str {fmt!r}")
    out = []
    for s in grey:
        buf = io.BytesIO()
        if fmt == "jpeg":
            Image.fromarray(s).save(buf, format="JPEG", quality=quality, subsampling=0)
        else:
            Image.fromarray(s).save(buf, format="PNG", compress_level=1)
        out.append(buf.getvalue())
    return out


def _attrs(attrs: Mapping[str, str]) -> str:
    return "".join(f' {html.escape(k)}="{html.escape(str(v))}"' for k, v in attrs.items())


def _json_for_script(data: Any) -> str:
    # "</" would end the <script> element early; "<\/" reads the same in JSON.
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


def _pane_html(pane: Pane) -> str:
    rows, cols = pane.shape
    # 13 CSS pixels of text at the display width, in frame pixels.
    text_height = 13.0 * cols / pane.width
    points: dict[str, list[list[Any]]] = {}
    for i, pts in pane.points.items():
        placed = _labels.layout(list(pts), rows, cols, text_height=text_height)
        points[str(int(i))] = [[p.x, p.y, p.text, p.text_x, p.text_y, p.anchor] for p in placed]
    spec = {
        "frames": [base64.b64encode(f).decode("ascii") for f in pane.frames],
        "mime": pane.mime,
        "rows": rows,
        "cols": cols,
        "aspect": pane.aspect,
        "width": pane.width,
        "index": pane.index,
        "readouts": list(pane.readouts),
        "points": points,
        "marker": _labels.marker_radius(rows, cols),
        "text_height": text_height,
        "window": list(pane.window),
        "range": list(pane.data_range),
        "interval": pane.interval,
        "note": pane.note,
        "geometry": pane.geometry,
    }
    still = base64.b64encode(pane.still).decode("ascii")
    attrs = {"class": "eh-viewer", "data-eh-viewer": "", "data-index": str(pane.index)}
    attrs.update(pane.attrs)
    height = round(pane.width * rows * pane.aspect / cols)
    return (
        f"<div{_attrs(attrs)}>"
        f'<figure class="eh-figure">'
        f'<img class="eh-still" src="data:image/png;base64,{still}" width="{pane.width}" '
        f'height="{height}" alt="{html.escape(pane.caption)}">'
        f'<figcaption class="eh-caption">{html.escape(pane.caption)}'
        + (f" · {html.escape(pane.note)}" if pane.note else "")
        + "</figcaption></figure>"
        f'<script type="application/json" class="eh-spec">{_json_for_script(spec)}</script>'
        f"</div>"
    )


def render_panes(panes: Sequence[Pane], *, root_attrs: Mapping[str, str] | None = None) -> str:
    """The HTML fragment of a saved render: the panes, their style and their script.

    Parameters
    ----------
    panes : sequence of Pane
        One pane is the root element itself; several are wrapped in one ``<div>``.
    root_attrs : mapping, optional
        Attributes of the wrapping element of several panes, e.g.
        ``{"data-eh-study": ""}``.

    Returns
    -------
    str
        HTML to put into a page or a notebook's ``text/html`` output.

    Raises
    ------
    ValueError
        If ``panes`` is empty.
    """
    panes = list(panes)
    if not panes:
        raise ValueError("panes: expected at least one Pane, got none")
    body = "".join(_pane_html(p) for p in panes)
    if len(panes) > 1 or root_attrs:
        body = f"<div{_attrs({'class': 'eh-panes', **(root_attrs or {})})}>{body}</div>"
    return f"<style>{_asset('frontend.css')}</style>{body}<script>{_asset('frontend.js')}</script>"


def page(fragment: str, *, title: str = "eda_helpers viewer") -> str:
    """A standalone HTML page around a fragment of :func:`render_panes`."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{margin:16px;background:#111;color:#ddd}</style></head>"
        f"<body>{fragment}</body></html>\n"
    )


# ------------------------------------------------------------------- live widget pieces


def style_widget() -> widgets.HTML:
    """An HTML widget holding the style rules of the live pieces (no script)."""
    return widgets.HTML(value=f"<style>{_LIVE_CSS}</style>", layout=widgets.Layout(height="0"))


def frames_box(children: Iterable[widgets.Widget], *, index: int = 0) -> widgets.Tab:
    """A box showing one of ``children`` at a time, every view kept alive in the browser.

    A ``Tab`` whose tab bar is hidden by :func:`style_widget`'s rule; switch it with
    :func:`link_index` (its ``selected_index``).
    """
    box = widgets.Tab(children=list(children), selected_index=index)
    box.add_class(FRAMES_CLASS)
    return box


def link_index(
    source: widgets.Widget, targets: Iterable[widgets.Widget]
) -> list[widgets.Link | widgets.DirectionalLink]:
    """Browser-side links from ``source.value`` to each target.

    A Play or a slider target gets a two-way link on ``value`` (so either moves the
    other in the browser); a frames box gets a one-way link to ``selected_index``.
    """
    out: list[widgets.Link | widgets.DirectionalLink] = []
    for t in targets:
        if isinstance(t, widgets.Tab | widgets.Stack):
            out.append(widgets.jsdlink((source, "value"), (t, "selected_index")))
        else:
            out.append(widgets.jslink((source, "value"), (t, "value")))
    return out
